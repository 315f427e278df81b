//! The explorer's real loop against the embedded dev server on
//! `127.0.0.1:0`, driven by a scripted input stream on ratatui's
//! `TestBackend`: live-mode switches while messages are appended must show
//! every message exactly once, in order, and `y` must reach the clipboard.

use crate::support::screen::Shared;
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use dsx::client::{AppendOptions, Client, CreateOptions, DurableStream};
use dsx::config::TailStart;
use dsx::server::{ServerConfig, start};
use dsx::tui::clipboard::MemoryClipboard;
use dsx::tui::state::State;
use dsx::tui::{Setup, Start, StartAt, run_explorer};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

/// Longest wait for anything to show up.
const WAIT: Duration = Duration::from_secs(15);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(20);

fn press(keys: &mpsc::UnboundedSender<io::Result<Event>>, c: char) {
    let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    keys.send(Ok(Event::Key(key)))
        .expect("the explorer reads keys");
}

/// Waits, bounded, until `done` holds; panics with `what` and the screen.
async fn wait_until(screen: &Shared, what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; screen:\n{}",
            screen.screen()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the screen shows message `n` (pretty JSON).
async fn wait_for_message(screen: &Shared, n: u32) {
    let needle = format!("\"n\": {n}");
    wait_until(screen, &needle, || screen.screen().contains(&needle)).await;
}

async fn append_range(
    stream: &DurableStream,
    range: std::ops::RangeInclusive<u32>,
) {
    for n in range {
        let body = format!("{{\"n\":{n}}}");
        tokio::time::timeout(
            WAIT,
            stream.append(body, AppendOptions::default()),
        )
        .await
        .expect("append in time")
        .expect("append");
        // Spread over several reads, so switches land mid-stream.
        if n % 3 == 0 {
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }
}

async fn dev_server() -> dsx::server::ServerHandle {
    start(ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    })
    .await
    .expect("dev server")
}

async fn create(
    client: &Client,
    path: &str,
    content_type: &str,
) -> DurableStream {
    let options = CreateOptions {
        content_type: Some(content_type.into()),
        ..CreateOptions::default()
    };
    tokio::time::timeout(WAIT, client.create(path, options))
        .await
        .expect("create in time")
        .expect("create")
}

/// The explorer's setup for `base`, opening `open`, as `explore` builds it.
fn setup(
    base: &str,
    open: &str,
    copied: &Arc<Mutex<Vec<String>>>,
    dir: &tempfile::TempDir,
) -> Setup {
    Setup::plain(
        base,
        Some(open),
        Box::new(MemoryClipboard {
            copied: copied.clone(),
        }),
        Some(dir.path().join("bookmarks.json")),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_switches_show_every_message_once_and_y_copies() {
    let server = dev_server().await;
    let base = server.stream_base();
    let client = Client::builder().base_url(&base).build().unwrap();
    let stream = create(&client, "flow/orders", "application/json").await;
    append_range(&stream, 1..=20).await;

    let dir = tempfile::tempdir().unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    let setup = setup(&base, "flow/orders", &copied, &dir);
    let screen = Shared(Arc::new(Mutex::new(TestBackend::new(160, 48))));
    let mut terminal = Terminal::new(screen.clone()).unwrap();
    let (keys, input) = mpsc::unbounded_channel();
    let input = UnboundedReceiverStream::new(input);

    let script = async {
        wait_for_message(&screen, 20).await;
        // Long-poll while more arrive.
        press(&keys, '2');
        append_range(&stream, 21..=40).await;
        wait_for_message(&screen, 40).await;
        // Back to SSE mid-stream.
        let writer = append_range(&stream, 41..=60);
        let switch = async {
            tokio::time::sleep(Duration::from_millis(40)).await;
            press(&keys, '1');
        };
        tokio::join!(writer, switch);
        wait_for_message(&screen, 60).await;
        // The status bar's offset is the server's tail, exactly (it was
        // the PTY test's check; the loop and the screen are the same).
        let tail = stream.head().await.expect("HEAD").next_offset;
        let at_tail = format!("offset {}", tail.as_str());
        wait_until(&screen, "the status bar at the server's tail", || {
            screen.screen().contains(&at_tail)
        })
        .await;
        // Following, the current message is the newest.
        press(&keys, 'y');
        wait_until(&screen, "the copy", || {
            copied.lock().unwrap().iter().any(|c| c == "{\"n\":60}")
        })
        .await;
        press(&keys, 'q');
    };
    // Boxed: the explorer's future is large.
    let run = Box::pin(run_explorer(
        &mut terminal,
        input,
        setup,
        std::future::pending(),
    ));
    let (state, ()) = tokio::time::timeout(Duration::from_mins(1), async {
        tokio::join!(run, script)
    })
    .await
    .expect("the flow ends in time");
    let state = state.expect("the explorer ran");

    assert!(state.quit);
    let shown: Vec<u32> = state
        .tail
        .batches
        .iter()
        .flat_map(|b| (0..b.len()).map(move |i| b.message(i)))
        .map(|m| {
            let v: serde_json::Value = serde_json::from_slice(m).unwrap();
            u32::try_from(v["n"].as_u64().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(shown, (1..=60).collect::<Vec<_>>());
    assert_eq!(state.tail.total_messages, 60);
    assert_eq!(state.tail.evicted_messages, 0);
    assert_eq!(state.reader().mode, dsx::client::LiveMode::Sse);
    // The first reader and one per switch (more only after a reconnect).
    assert!(state.readers.next_id >= 4, "{}", state.readers.next_id);
    // Quitting kept where the tail was.
    let url = format!("{base}/flow/orders");
    assert!(state.bookmarks.last_position(&url).is_some());
    server.shutdown().await;
}

/// Every byte of a text stream exactly once, in order, across live-mode
/// switches made while a large backlog is still being read (the reader
/// restarts in the middle of partial data and must skip what was shown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switches_during_catch_up_of_a_text_backlog() {
    let server = dev_server().await;
    let base = server.stream_base();
    let client = Client::builder().base_url(&base).build().unwrap();
    let stream = create(&client, "flow/log", "text/plain").await;
    let mut expected = Vec::new();
    // About 3 MB: enough that reading it takes a while.
    for chunk in 0..50 {
        let mut body = String::new();
        for line in 0..5000 {
            writeln!(body, "line {:06}", chunk * 5000 + line).unwrap();
        }
        expected.extend_from_slice(body.as_bytes());
        tokio::time::timeout(
            WAIT,
            stream.append(body, AppendOptions::default()),
        )
        .await
        .expect("append in time")
        .expect("append");
    }
    let dir = tempfile::tempdir().unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    let setup = setup(&base, "flow/log", &copied, &dir);
    let screen = Shared(Arc::new(Mutex::new(TestBackend::new(80, 24))));
    let mut terminal = Terminal::new(screen.clone()).unwrap();
    let (keys, input) = mpsc::unbounded_channel();
    let input = UnboundedReceiverStream::new(input);
    let script = async {
        // Switch as soon as anything shows, and again right after.
        wait_until(&screen, "the first lines", || {
            screen.screen().contains("line ")
        })
        .await;
        for key in ['2', '1', '4', '1'] {
            press(&keys, key);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        wait_until(&screen, "the last line", || {
            screen.screen().contains("line 249999")
        })
        .await;
        press(&keys, 'q');
    };
    let run = Box::pin(run_explorer(
        &mut terminal,
        input,
        setup,
        std::future::pending(),
    ));
    let (state, ()) = tokio::time::timeout(Duration::from_mins(1), async {
        tokio::join!(run, script)
    })
    .await
    .expect("the flow ends in time");
    let state = state.expect("the explorer ran");
    let shown: Vec<u8> = state
        .tail
        .batches
        .iter()
        .flat_map(|b| b.data.iter().copied())
        .collect();
    assert_eq!(state.tail.evicted_bytes, 0);
    assert_eq!(shown.len(), expected.len());
    assert!(shown == expected, "the bytes differ from what was appended");
    assert!(state.readers.next_id >= 6, "{}", state.readers.next_id);
    server.shutdown().await;
}

/// Issue 9: a `__registry__` entry named like a URL on another port made
/// the explorer send its headers there. A second listener on loopback
/// stands for that port and must see no connection while the planted row
/// is listed, asked for with HEAD and opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_registry_name_sends_nothing_to_another_port() {
    let server = dev_server().await;
    let base = server.stream_base();
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_port = other.local_addr().unwrap().port();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    let watcher = tokio::spawn(async move {
        while let Ok((socket, _)) = other.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    let client = Client::builder().base_url(&base).build().unwrap();
    // Make sure the registry exists, then plant the name in it.
    create(&client, "flow/real", "application/json").await;
    let planted = format!("http://127.0.0.1:{other_port}/v1/stream/target");
    let event = serde_json::json!({
        "type": "stream",
        "key": planted,
        "value": {"contentType": "application/json"},
        "headers": {"operation": "insert"},
    });
    let registry = client.stream("__registry__").unwrap();
    tokio::time::timeout(
        WAIT,
        registry.append(event.to_string(), AppendOptions::default()),
    )
    .await
    .expect("append in time")
    .expect("the registry takes the planted event");

    let dir = tempfile::tempdir().unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    let mut setup = setup(&base, "flow/real", &copied, &dir);
    setup.open = None;
    let secret = "Bearer planted-test-secret";
    setup.client = Client::builder()
        .base_url(&base)
        .header("Authorization", secret)
        .build()
        .unwrap();
    let screen = Shared(Arc::new(Mutex::new(TestBackend::new(160, 48))));
    let mut terminal = Terminal::new(screen.clone()).unwrap();
    let (keys, input) = mpsc::unbounded_channel();
    let input = UnboundedReceiverStream::new(input);
    let script = async {
        wait_until(&screen, "the planted row", || {
            screen.screen().contains("stream/target  json gone")
        })
        .await;
        // Highlight the planted row (sorted first: `flow/…` < `http…`
        // puts it second) and open it.
        let down = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);
        keys.send(Ok(Event::Key(down))).unwrap();
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        keys.send(Ok(Event::Key(enter))).unwrap();
        // The stream does not exist under this server: its HEAD and read
        // answer 404 from the dev server, not from the other port.
        wait_until(&screen, "the 404 of the planted path", || {
            screen.screen().contains("404")
        })
        .await;
        press(&keys, 'q');
    };
    let run = Box::pin(run_explorer(
        &mut terminal,
        input,
        setup,
        std::future::pending(),
    ));
    let (state, ()) = tokio::time::timeout(Duration::from_mins(1), async {
        tokio::join!(run, script)
    })
    .await
    .expect("the flow ends in time");
    let state = state.expect("the explorer ran");
    let open = state.open.expect("the planted row was opened");
    assert_eq!(open.path, planted);
    assert!(open.url.starts_with(&format!("{base}/")), "{}", open.url);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the explorer connected to the planted port"
    );
    watcher.abort();
    server.shutdown().await;
}

/// Runs the explorer with `setup` while `script` types into it; returns
/// its result.
async fn run_flow<F, Fut>(setup: Setup, script: F) -> anyhow::Result<State>
where
    F: FnOnce(Shared, mpsc::UnboundedSender<io::Result<Event>>) -> Fut,
    Fut: Future<Output = ()>,
{
    let screen = Shared(Arc::new(Mutex::new(TestBackend::new(160, 48))));
    let mut terminal = Terminal::new(screen.clone()).unwrap();
    let (keys, input) = mpsc::unbounded_channel();
    let input = UnboundedReceiverStream::new(input);
    let script = script(screen, keys);
    let run = Box::pin(run_explorer(
        &mut terminal,
        input,
        setup,
        std::future::pending(),
    ));
    let (state, ()) = tokio::time::timeout(Duration::from_mins(1), async {
        tokio::join!(run, script)
    })
    .await
    .expect("the flow ends in time");
    state
}

/// The `n` of every buffered message, in order.
fn shown_numbers(state: &State) -> Vec<u32> {
    state
        .tail
        .batches
        .iter()
        .flat_map(|b| (0..b.len()).map(move |i| b.message(i)))
        .map(|m| {
            let v: serde_json::Value = serde_json::from_slice(m).unwrap();
            u32::try_from(v["n"].as_u64().unwrap()).unwrap()
        })
        .collect()
}

/// Appends 31, 32, ... until one shows (a read from `now` may start after
/// the first few), bounded by [`WAIT`].
async fn append_until_shown(stream: &DurableStream, screen: &Shared) {
    let deadline = tokio::time::Instant::now() + WAIT;
    for n in 31.. {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing new showed; screen:\n{}",
            screen.screen()
        );
        append_range(stream, n..=n).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if screen.screen().contains("\"n\": 3") {
            return;
        }
    }
}

/// Opening a large stream during an incident must not load it all: with
/// `--from now` (and with the config's `tail.start = "now"`) none of the
/// 30 old messages is read, and what arrives shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_now_loads_nothing_old() {
    let server = dev_server().await;
    let base = server.stream_base();
    let client = Client::builder().base_url(&base).build().unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    for (i, start) in [
        Start {
            first: Some(StartAt::Now),
            default: TailStart::Resume,
        },
        Start {
            first: None,
            default: TailStart::Now,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let path = format!("flow/now-{i}");
        let stream = create(&client, &path, "application/json").await;
        append_range(&stream, 1..=30).await;
        let dir = tempfile::tempdir().unwrap();
        // A saved position would offer to resume: `now` does not ask.
        let url = format!("{base}/{path}");
        let mut marks = dsx::bookmarks::Bookmarks::default();
        marks.set_last_position(&url, "-1", 0, "2026-01-01T00:00:00Z");
        marks.save(&dir.path().join("bookmarks.json")).unwrap();
        let mut setup = setup(&base, &path, &copied, &dir);
        setup.start = start;
        let state = run_flow(setup, |screen, keys| async move {
            append_until_shown(&stream, &screen).await;
            press(&keys, 'q');
        })
        .await
        .expect("the explorer ran");
        let shown = shown_numbers(&state);
        assert!(!shown.is_empty());
        assert!(shown.iter().all(|&n| n > 30), "{i}: {shown:?}");
        assert_eq!(state.tail.total_messages, shown.len() as u64);
        assert!(state.overlay.is_none(), "{i}: a dialog is open");
    }
    server.shutdown().await;
}

/// `--from OFFSET` starts after the message that offset follows;
/// `--from @NAME` at the bookmarked message; an unknown name is an error
/// that names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_an_offset_or_a_bookmark() {
    let server = dev_server().await;
    let base = server.stream_base();
    let client = Client::builder().base_url(&base).build().unwrap();
    let stream = create(&client, "flow/from", "application/json").await;
    append_range(&stream, 1..=9).await;
    let after_ten = tokio::time::timeout(
        WAIT,
        stream.append(r#"{"n":10}"#, AppendOptions::default()),
    )
    .await
    .expect("append in time")
    .expect("append")
    .next_offset;
    append_range(&stream, 11..=30).await;
    let url = format!("{base}/flow/from");
    let dir = tempfile::tempdir().unwrap();
    let mut marks = dsx::bookmarks::Bookmarks::default();
    marks
        .add(
            &url,
            dsx::bookmarks::Bookmark {
                name: "sixteen".into(),
                offset: after_ten.as_str().to_owned(),
                position: 5,
                created_at: "2026-01-01T00:00:00Z".into(),
            },
        )
        .unwrap();
    marks.save(&dir.path().join("bookmarks.json")).unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    for (from, first) in [
        (StartAt::Offset(after_ten.as_str().to_owned()), 11),
        (StartAt::Bookmark("sixteen".into()), 16),
        (StartAt::Beginning, 1),
    ] {
        let mut setup = setup(&base, "flow/from", &copied, &dir);
        setup.start.first = Some(from.clone());
        let state = run_flow(setup, |screen, keys| async move {
            wait_for_message(&screen, 30).await;
            press(&keys, 'q');
        })
        .await
        .expect("the explorer ran");
        let expected: Vec<u32> = (first..=30).collect();
        assert_eq!(shown_numbers(&state), expected, "{from:?}");
    }
    let mut setup = setup(&base, "flow/from", &copied, &dir);
    setup.start.first = Some(StartAt::Bookmark("nope".into()));
    let err = run_flow(setup, |_, _| async {}).await.unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("@nope") && text.contains("sixteen"), "{text}");
    server.shutdown().await;
}

fn key(
    keys: &mpsc::UnboundedSender<io::Result<Event>>,
    code: KeyCode,
    mods: KeyModifiers,
) {
    keys.send(Ok(Event::Key(KeyEvent::new(code, mods))))
        .expect("the explorer reads keys");
}

fn type_text(keys: &mpsc::UnboundedSender<io::Result<Event>>, text: &str) {
    for c in text.chars() {
        press(keys, c);
    }
}

/// The composer appends valid JSON and refuses invalid JSON before sending
/// anything, keeping the text (moved here from the PTY tests: the loop and
/// the screen are the same on a `TestBackend`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composer_appends_json_and_refuses_invalid_json() {
    let server = dev_server().await;
    let base = server.stream_base();
    let client = Client::builder().base_url(&base).build().unwrap();
    let stream = create(&client, "flow/composer", "application/json").await;
    let dir = tempfile::tempdir().unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    let setup = setup(&base, "flow/composer", &copied, &dir);
    let messages = async || {
        let mut read =
            stream.read_json::<serde_json::Value>(
                dsx::client::ReadOptions::default(),
            );
        let mut out = Vec::new();
        while let Some(Ok(chunk)) = futures::StreamExt::next(&mut read).await {
            out.extend(chunk.items);
            if chunk.meta.up_to_date {
                break;
            }
        }
        out
    };
    let state = run_flow(setup, |screen, keys| async move {
        wait_until(&screen, "the stream open", || {
            screen.screen().contains(" ● live ")
        })
        .await;
        press(&keys, 'a');
        type_text(&keys, r#"{"hello":"flow"}"#);
        key(&keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
        wait_until(&screen, "the append's outcome", || {
            screen.screen().contains("appended")
        })
        .await;
        wait_until(&screen, "the message in the tail", || {
            screen.screen().contains("\"flow\"")
        })
        .await;
        assert_eq!(messages().await, [serde_json::json!({"hello":"flow"})]);
        type_text(&keys, r#"{"a":"#);
        key(&keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
        wait_until(&screen, "the JSON error", || {
            screen.screen().contains("invalid JSON: ")
        })
        .await;
        let text = screen.screen();
        assert!(text.contains("at line 1, column"), "{text}");
        assert!(text.contains("nothing was sent"), "{text}");
        // Give a wrongly sent append time to land before checking it did not.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(messages().await.len(), 1, "the invalid text was sent");
        assert!(
            screen.screen().contains(r#"{"a":"#),
            "the text left the composer"
        );
        key(&keys, KeyCode::Char('c'), KeyModifiers::CONTROL);
    })
    .await
    .expect("the explorer ran");
    assert!(state.quit);
    assert_eq!(state.tail.total_messages, 1);
    server.shutdown().await;
}

/// Closing from the composer asks, then shows the end of the stream; the
/// server has it closed (moved here from the PTY tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_shows_the_end_of_stream() {
    let server = dev_server().await;
    let base = server.stream_base();
    let client = Client::builder().base_url(&base).build().unwrap();
    let stream = create(&client, "flow/closing", "application/json").await;
    append_range(&stream, 1..=1).await;
    let dir = tempfile::tempdir().unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    let setup = setup(&base, "flow/closing", &copied, &dir);
    let state = run_flow(setup, |screen, keys| async move {
        wait_for_message(&screen, 1).await;
        press(&keys, 'a');
        key(&keys, KeyCode::Char('d'), KeyModifiers::CONTROL);
        wait_until(&screen, "the confirmation", || {
            screen.screen().contains("Close the stream")
        })
        .await;
        press(&keys, 'y');
        wait_until(&screen, "the end-of-stream line", || {
            screen.screen().contains("END OF STREAM")
        })
        .await;
        key(&keys, KeyCode::Char('c'), KeyModifiers::CONTROL);
    })
    .await
    .expect("the explorer ran");
    assert!(state.quit);
    let head = stream.head().await.expect("HEAD");
    assert!(head.closed, "the server does not have it closed");
    server.shutdown().await;
}

/// A problem found at start (a bad config file, unreadable bookmarks) is
/// still on screen once the stream given has opened: opening clears what
/// the status bar said before, so start-up problems are shown after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_up_problem_stays_on_screen_after_the_stream_opens() {
    let server = dev_server().await;
    let base = server.stream_base();
    let client = Client::builder().base_url(&base).build().unwrap();
    let stream = create(&client, "flow/notice", "application/json").await;
    append_range(&stream, 1..=1).await;
    let dir = tempfile::tempdir().unwrap();
    let copied = Arc::new(Mutex::new(Vec::new()));
    let mut setup = setup(&base, "flow/notice", &copied, &dir);
    setup.notices =
        vec!["config /x/config.toml:3:1: bogus: unknown key".into()];
    let state = run_flow(setup, |screen, keys| async move {
        wait_for_message(&screen, 1).await;
        wait_until(&screen, "the start-up problem", || {
            screen.screen().contains("bogus: unknown key")
        })
        .await;
        press(&keys, 'q');
    })
    .await
    .expect("the explorer ran");
    assert!(state.quit);
    server.shutdown().await;
}
