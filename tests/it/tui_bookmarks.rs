//! Bookmarks bring back the exact message (issue 10): a stream of 60,000
//! small numbered JSON messages, message 56,395 bookmarked in the explorer
//! (its real loop read the stream from the server), then `dsx read
//! --from-bookmark`, the explorer's resume and its jump to the bookmark
//! must each start at that message. Against the dev server with a small
//! chunk size (many responses, the message inside one) and, `#[ignore]`d,
//! the official Rust server (`DS_RUST_URL`: one response for everything).

use crate::support;
use crate::support::screen::Shared;

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use dsx::client::{AppendOptions, DurableStream};
use dsx::server::{Limits, ServerConfig};
use dsx::tui::clipboard::MemoryClipboard;
use dsx::tui::message::Message;
use dsx::tui::state::State;
use dsx::tui::update::update;
use dsx::tui::{Setup, run_explorer};
use ratatui::Terminal;
use support::cli::{command, run};
use support::{Kind, TestServer, create_at};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

const TOTAL: u32 = 60_000;
const MARKED: u32 = 56_395;
/// Longest wait for anything to show up.
const WAIT: Duration = Duration::from_mins(1);
const POLL: Duration = Duration::from_millis(25);

type Keys = mpsc::UnboundedSender<io::Result<Event>>;

fn send(keys: &Keys, code: KeyCode) {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    keys.send(Ok(Event::Key(key)))
        .expect("the explorer reads keys");
}

/// Waits, bounded, until the screen shows `needle`.
async fn wait_for(screen: &Shared, needle: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !screen.screen().contains(needle) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {needle}; screen:\n{}",
            screen.screen()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// `TOTAL` messages `{"n":1}`…, appended as JSON arrays of uneven size so
/// that appends, responses and the marked message do not line up.
async fn numbered(stream: &DurableStream) {
    let mut n = 1;
    while n <= TOTAL {
        let end = (n + 996).min(TOTAL);
        let body: Vec<String> =
            (n..=end).map(|i| format!("{{\"n\":{i}}}")).collect();
        let body = format!("[{}]", body.join(","));
        tokio::time::timeout(
            WAIT,
            stream.append(body, AppendOptions::default()),
        )
        .await
        .expect("append in time")
        .expect("append");
        n = end + 1;
    }
}

fn setup(base: &str, open: &str, marks: &Path) -> Setup {
    Setup::plain(
        base,
        Some(open),
        Box::new(MemoryClipboard {
            copied: Arc::new(Mutex::new(Vec::new())),
        }),
        Some(marks.to_owned()),
    )
    .unwrap()
}

/// Runs the explorer on `path` with `script` typing into it; returns the
/// final state.
async fn explorer<F, Fut>(
    base: &str,
    path: &str,
    marks: &Path,
    script: F,
) -> State
where
    F: FnOnce(Shared, Keys) -> Fut,
    Fut: Future<Output = ()>,
{
    let screen = Shared::new(120, 40);
    let mut terminal = Terminal::new(screen.clone()).unwrap();
    let (keys, input) = mpsc::unbounded_channel();
    let input = UnboundedReceiverStream::new(input);
    let run = Box::pin(run_explorer(
        &mut terminal,
        input,
        setup(base, path, marks),
        std::future::pending(),
    ));
    let script = script(screen.clone(), keys);
    let (state, ()) = tokio::time::timeout(Duration::from_mins(3), async {
        tokio::join!(run, script)
    })
    .await
    .expect("the explorer ends in time");
    state.expect("the explorer ran")
}

fn number(message: &[u8]) -> u32 {
    let v: serde_json::Value = serde_json::from_slice(message).unwrap();
    u32::try_from(v["n"].as_u64().unwrap()).unwrap()
}

/// The numbers the tail holds, in order.
fn shown(state: &State) -> Vec<u32> {
    state
        .tail
        .batches
        .iter()
        .flat_map(|b| (0..b.len()).map(move |i| number(b.message(i))))
        .collect()
}

fn key(state: &mut State, code: KeyCode) {
    let event = Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    update(state, Message::Input(event));
}

async fn bookmark_the_56395th(server: TestServer) {
    let base = server.stream_base();
    let path = support::unique_name("marks");
    let url = format!("{base}/{path}");
    let stream = create_at(&server.client(), &url, "application/json").await;
    numbered(&stream).await;
    let dir = tempfile::tempdir().unwrap();
    let marks = dir.path().join("bookmarks.json");
    let last: &'static str = Box::leak(format!("\"n\": {TOTAL}").into());

    // Read it all in the explorer, quit, and bookmark message 56,395 in
    // the state its real loop left (the batches as the server sent them).
    let mut state = explorer(&base, &path, &marks, |screen, keys| async move {
        wait_for(&screen, last).await;
        send(&keys, KeyCode::Char('q'));
    })
    .await;
    assert_eq!(shown(&state), (1..=TOTAL).collect::<Vec<_>>());
    let item = state
        .tail
        .batches
        .iter()
        .find_map(|b| {
            (0..b.len())
                .find(|&i| number(b.message(i)) == MARKED)
                .map(|i| b.first_item + 1 + i as u64)
        })
        .expect("message 56,395 is in the tail");
    state.quit = false;
    state.focus = dsx::tui::state::Pane::Tail;
    state.tail.pause(state.tail.anchor);
    state.tail.selected = Some(item);
    assert_eq!(number(state.tail.current_message().unwrap()), MARKED);
    key(&mut state, KeyCode::Char('m'));
    for c in " mark".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    key(&mut state, KeyCode::Enter);
    // Quitting paused on it keeps it as the resume point too.
    key(&mut state, KeyCode::Char('q'));
    let name = state.bookmarks.list(&url)[0].name.clone();
    let mark = state.bookmarks.find(&url, &name).unwrap().clone();
    assert!(name.ends_with(" mark"), "{name}");
    let resume = state.bookmarks.last_position(&url).unwrap().clone();
    assert_eq!(
        (resume.offset.as_str(), resume.position),
        (mark.offset.as_str(), mark.position)
    );
    state.bookmarks.save(&marks).unwrap();

    // dsx read --from-bookmark prints from that message on.
    let mut read = command(&["read", &url, "--from-bookmark", &name]);
    read.env("DSX_DATA_DIR", dir.path());
    let out = run(read, None).await;
    let lines = out.ok().lines();
    let numbers: Vec<u32> =
        lines.iter().map(|l| number(l.as_bytes())).collect();
    assert_eq!(numbers, (MARKED..=TOTAL).collect::<Vec<_>>());
    // As raw bytes that cannot start inside a batch: refused, saying so.
    if mark.position > 0 {
        let mut raw = command(&[
            "read",
            &url,
            "--from-bookmark",
            &name,
            "--format",
            "raw",
        ]);
        raw.env("DSX_DATA_DIR", dir.path());
        let out = run(raw, None).await;
        out.expect_code(1);
        assert!(out.stderr.contains("ndjson"), "{out:#?}");
    }

    // Resume: reopening offers the saved point; y starts at the message.
    let state = explorer(&base, &path, &marks, |screen, keys| async move {
        wait_for(&screen, "You left this stream at").await;
        send(&keys, KeyCode::Char('y'));
        wait_for(&screen, last).await;
        send(&keys, KeyCode::Char('q'));
    })
    .await;
    assert_eq!(shown(&state), (MARKED..=TOTAL).collect::<Vec<_>>());

    // Jump: from an empty tail (t: only new messages), ' and Enter.
    let state = explorer(&base, &path, &marks, |screen, keys| async move {
        wait_for(&screen, "You left this stream at").await;
        send(&keys, KeyCode::Char('t'));
        wait_for(&screen, "caught up").await;
        send(&keys, KeyCode::Char('\''));
        wait_for(&screen, "Bookmarks of").await;
        send(&keys, KeyCode::Enter);
        wait_for(&screen, last).await;
        send(&keys, KeyCode::Char('q'));
    })
    .await;
    assert_eq!(shown(&state), (MARKED..=TOTAL).collect::<Vec<_>>());
}

/// The dev server with 4 KiB chunks: the catch-up is hundreds of
/// responses and the marked message sits inside one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmark_the_56395th_message_dev_server_small_chunks() {
    let server = TestServer::start_embedded(ServerConfig {
        limits: Limits {
            max_chunk_bytes: 4096,
            ..Limits::default()
        },
        ..ServerConfig::default()
    })
    .await;
    bookmark_the_56395th(server).await;
}

/// The official Rust server answers the whole catch-up in one response:
/// every bookmark used to be `-1` there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the official servers; see README"]
async fn bookmark_the_56395th_message_official_rust() {
    let server = TestServer::start(Kind::OfficialRust).await;
    bookmark_the_56395th(server).await;
}
