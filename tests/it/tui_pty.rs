//! The explorer end to end: the real `dsx` binary in a pseudo-terminal,
//! read back through a `vt100` screen, against the embedded dev server
//! (in this process) or `dsx demo` (in the PTY).
//!
//! The tests run one at a time (`SERIAL`): the machine has two cores and
//! live readers are timing-sensitive. Every wait is bounded.

use crate::support;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use dsx::client::{Client, DurableStream};
use support::pty::{Key, Pty};
use support::{Kind, TestServer, append, create_at};
use tempfile::TempDir;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A dev server on its own runtime (the PTY waits block this thread), a
/// client for it and the explorer's data directory.
struct Fixture {
    rt: tokio::runtime::Runtime,
    server: TestServer,
    client: Client,
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(TestServer::start(Kind::Embedded));
        Fixture {
            rt,
            server,
            client: support::client(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Creates a fresh stream of `content_type`; returns it and its URL.
    fn create(
        &self,
        prefix: &str,
        content_type: &str,
    ) -> (DurableStream, String) {
        let url = self.server.fresh_url(prefix);
        let stream =
            self.rt
                .block_on(create_at(&self.client, &url, content_type));
        (stream, url)
    }

    fn append(&self, stream: &DurableStream, data: impl Into<bytes::Bytes>) {
        self.rt.block_on(append(stream, data));
    }

    /// The explorer on `url` in a `cols` x `rows` terminal.
    fn explore(&self, url: &str, cols: u16, rows: u16) -> Pty {
        Pty::spawn(&[url], cols, rows, self.dir.path())
    }
}

/// The state row of the status bar (second row from the bottom).
fn status_row(pty: &Pty) -> String {
    let rows = pty.with_screen(|s| s.size().0);
    pty.row(rows - 2)
}

/// The message count the status bar shows (`1,234 msgs`, `1 msg`, or
/// `12 lines` for a text stream).
fn msgs_in(status: &str) -> Option<u64> {
    let end = [" msgs ", " msg ", " lines ", " line "]
        .iter()
        .find_map(|unit| status.find(unit))?;
    let digits: String = status[..end]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

/// Waits until the status bar shows exactly `n` messages.
fn expect_msgs(pty: &Pty, n: u64, what: &str) {
    let rows = pty.with_screen(|s| s.size().0);
    let res = pty.wait_for(|screen| {
        let status = screen.lines().nth(usize::from(rows) - 2).unwrap_or("");
        msgs_in(status) == Some(n)
    });
    if let Err(last) = res {
        panic!("{what}: status never showed {n} msgs; last screen:\n{last}");
    }
}

/// Whether all four pane titles and both status rows are on screen.
fn panes_intact(pty: &Pty) -> Result<(), String> {
    let screen = pty.screen_text();
    for title in ["Streams", "Tail", "Metadata", "Append"] {
        if !screen.contains(&format!(" {title}")) {
            return Err(format!("pane title {title:?} missing"));
        }
    }
    let rows = pty.with_screen(|s| s.size().0);
    let status = pty.row(rows - 2);
    if !status.starts_with(" ● ") || msgs_in(&status).is_none() {
        return Err(format!("status row broken: {status:?}"));
    }
    // Key hints, or a notice in their place.
    let hints = pty.row(rows - 1);
    if !hints.starts_with(' ') || hints.trim().is_empty() {
        return Err(format!("hint row broken: {hints:?}"));
    }
    if !pty.row(0).starts_with('┌') {
        return Err(format!("top border moved: {:?}", pty.row(0)));
    }
    Ok(())
}

#[test]
fn demo_shows_live_orders_and_quits_cleanly() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo", "--port", "0"], 120, 40, dir.path());
    pty.expect("demo/orders", "stream list");
    pty.wait_for(|s| s.contains(" ● live ") && s.contains("Tail demo/orders"))
        .unwrap_or_else(|last| panic!("demo never went live:\n{last}"));
    let before = msgs_in(&status_row(&pty)).expect("a message count");
    // Compact: one row per event, each starting with its type and id
    // (pretty, the rows in view may all be one order's line items).
    pty.key(Key::Char('p'));
    pty.expect("{\"type\":\"order.", "orders in the tail");
    // The demo writes orders continuously: the count grows while we watch.
    let grown = pty.wait_for_within(Duration::from_secs(5), |_| {
        msgs_in(&status_row(&pty)).is_some_and(|n| n > before)
    });
    assert!(grown.is_ok(), "no new order within 5 s (had {before})");
    panes_intact(&pty).unwrap();
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("demo, q");
}

#[test]
fn small_terminal_shows_every_pane() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&["demo", "--port", "0"], 80, 24, dir.path());
    pty.expect(" ● live ", "demo at 80x24");
    pty.wait_for(|_| panes_intact(&pty).is_ok())
        .unwrap_or_else(|last| {
            panic!("{:?} at 80x24:\n{last}", panes_intact(&pty))
        });
    // The stream list still names the open stream.
    pty.expect("demo/orders", "stream list at 80x24");
    // A notice is readable at this width next to a full-length offset,
    // and with no display the copy goes out as OSC 52.
    pty.key(Key::Char('U'));
    pty.expect("via the terminal (OSC 52)", "copy notice at 80x24");
    let copied = osc52_payload(&pty.raw()).expect("an OSC 52 sequence");
    assert!(copied.ends_with("/v1/stream/demo/orders"), "{copied:?}");
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("demo at 80x24");
}

/// The text of the last OSC 52 clipboard sequence in `raw`.
fn osc52_payload(raw: &[u8]) -> Option<String> {
    use base64::Engine as _;
    const START: &[u8] = b"\x1b]52;c;";
    let at = raw.windows(START.len()).rposition(|w| w == START)?;
    let rest = &raw[at + START.len()..];
    let end = rest.iter().position(|&b| b == 0x07 || b == 0x1b)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&rest[..end])
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[test]
fn bookmark_survives_a_restart_and_jumps() {
    let _serial = serial();
    let fx = Fixture::new();
    let (stream, url) = fx.create("marks", "application/json");
    fx.append(&stream, r#"{"m":"first"}"#);
    // Wide enough for a batch header's two full offsets.
    let mut pty = fx.explore(&url, 200, 40);
    expect_msgs(&pty, 1, "stream open");
    // Later messages arrive live, each in a batch of its own.
    fx.append(&stream, r#"{"m":"second"}"#);
    expect_msgs(&pty, 2, "second message");
    fx.append(&stream, r#"{"m":"third"}"#);
    expect_msgs(&pty, 3, "third message");
    // Space pauses on the newest message (Up from follow would select
    // the one before it: issue 10 made k land on a message).
    pty.key(Key::Char(' '));
    pty.key(Key::Char('m'));
    pty.expect("Bookmark", "bookmark dialog");
    // Replace the default name (the time) with ours.
    for _ in 0..40 {
        pty.key(Key::Backspace);
    }
    pty.type_text("pty-mark");
    pty.key(Key::Enter);
    let screen = pty.expect("as \"pty-mark\"", "bookmark notice");
    let offset = screen
        .lines()
        .find_map(|l| {
            let i = l.find("bookmarked the message at ")?;
            l[i + "bookmarked the message at ".len()..]
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .expect("the notice names the offset");
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("first run");

    let mut pty = fx.explore(&url, 200, 40);
    pty.expect("You left this stream at", "resume dialog");
    // Answer as a person would, after the HEAD has answered (the metadata
    // shows the type): the tail must still read the stream as JSON.
    pty.expect("application/json", "HEAD answered behind the dialog");
    pty.key(Key::Char('t'));
    pty.wait_for(|s| !s.contains("You left this stream at"))
        .unwrap_or_else(|l| panic!("resume dialog stayed:\n{l}"));
    pty.key(Key::Char('\''));
    let list = pty.expect("pty-mark", "bookmarks list");
    assert!(list.contains(&offset), "list lacks {offset}:\n{list}");
    pty.key(Key::Enter);
    pty.expect("jumped to bookmark", "jump notice");
    // The tail restarts there: its first batch begins at the bookmark.
    let screen = pty
        .wait_for(|s| s.contains(&format!("{offset} →")))
        .unwrap_or_else(|l| panic!("no batch from {offset}:\n{l}"));
    assert!(screen.contains("\"third\""), "{screen}");
    assert!(screen.contains("Append JSON"), "{screen}");
    assert!(!screen.contains("\"first\""), "{screen}");
    assert_eq!(msgs_in(&status_row(&pty)), Some(1), "{screen}");
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("second run");
}

#[test]
fn hostile_content_leaves_the_screen_intact() {
    let _serial = serial();
    let fx = Fixture::new();
    let (json, json_url) = fx.create("hostile-json", "application/json");
    fx.append(
        &json,
        r#"{"evil":"\u001b[2J\u001b[H\u001b]0;pwned\u0007\u009b31m\rX\u202eRTL"}"#,
    );
    let (text, text_url) = fx.create("hostile-text", "text/plain");
    fx.append(
        &text,
        &b"plain \x1b[2J\x1b[H\x1b]0;pwned\x07 \xc2\x9b31m \xff\xfe bad\r\n"[..],
    );
    // What each stream's content must show, spelled out, once zoomed.
    let cases = [
        (&json_url, "JSON", "\\u{202e}RTL"),
        (&text_url, "text", "\\xff\\xfe bad"),
    ];
    for (url, what, spelled) in cases {
        let mut pty = fx.explore(url, 120, 40);
        pty.expect(" ● live ", what);
        let screen = pty.expect("\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07", what);
        assert!(screen.contains("\\u{9b}31m"), "{what}: C1 CSI:\n{screen}");
        // Let any damage show before judging the screen.
        std::thread::sleep(Duration::from_millis(300));
        panes_intact(&pty)
            .unwrap_or_else(|e| panic!("{what}: {e}:\n{}", pty.screen_text()));
        // The composer's top border is still on its row (40 rows: two
        // status rows, then the unfocused composer's three rows).
        let composer = pty.row(35);
        assert!(composer.starts_with("┌ Append"), "{what}: {composer:?}");
        assert!(
            pty.titles().iter().all(|t| !t.contains("pwned")),
            "{what}: window title changed: {:?}",
            pty.titles()
        );
        // Zoomed, the whole line fits: the rest is spelled out too.
        pty.key(Key::Char('z'));
        pty.expect(spelled, what);
        pty.key(Key::Char('q'));
        pty.expect_clean_exit(what);
    }
}

#[test]
fn quit_keys_and_signals_restore_the_terminal() {
    let _serial = serial();
    let fx = Fixture::new();
    let (stream, url) = fx.create("quitting", "application/json");
    fx.append(&stream, r#"{"q":1}"#);

    // `q` in the tail quits in most tests above; here: in the composer
    // `q` is text and Ctrl-C quits.
    let mut pty = fx.explore(&url, 120, 40);
    expect_msgs(&pty, 1, "open");
    pty.key(Key::Char('a'));
    pty.key(Key::Char('q'));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        pty.wait_exit(Duration::ZERO).is_none(),
        "q in the composer quit"
    );
    pty.expect("┃q ", "q typed into the composer");
    pty.key(Key::Ctrl('c'));
    pty.expect_clean_exit("Ctrl-C in the composer");

    // Ctrl-C in a dialog: reopening the stream offers to resume.
    let mut pty = fx.explore(&url, 120, 40);
    pty.expect("You left this stream at", "resume dialog");
    pty.key(Key::Ctrl('c'));
    pty.expect_clean_exit("Ctrl-C in the Resume dialog");

    // SIGTERM and SIGHUP while live (fresh streams: no Resume dialog).
    for signal in ["TERM", "HUP"] {
        let (stream, url) = fx.create("signalled", "application/json");
        fx.append(&stream, r#"{"q":2}"#);
        let mut pty = fx.explore(&url, 120, 40);
        expect_msgs(&pty, 1, signal);
        let started = Instant::now();
        pty.signal(signal);
        let status = pty
            .wait_exit(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("SIG{signal} did not end the explorer"));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(status.success(), "SIG{signal} exit: {status}");
        pty.assert_restored(&format!("SIG{signal}"));
    }
}

/// The title check above is not vacuous: the harness's screen does see a
/// title set by OSC 0, and the raw ESC bytes move the cursor.
#[test]
fn harness_sees_what_hostile_bytes_would_do() {
    let mut parser = vt100::Parser::new_with_callbacks(
        5,
        20,
        0,
        support::pty::Titles::default(),
    );
    parser.process(b"abc\x1b[2J\x1b[H\x1b]0;pwned\x07");
    assert_eq!(parser.callbacks().titles, vec![b"pwned".to_vec(); 2]);
    assert_eq!(parser.screen().cursor_position(), (0, 0));
    assert!(!parser.screen().contents().contains("abc"));
}

/// The explorer logs to `dsx.log` in its data directory (issue 11): a
/// failed open is there, with the URL's credentials redacted.
#[test]
fn the_explorer_logs_to_its_data_dir_without_secrets() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "http://logger:hunter2pw@127.0.0.1:{}/v1/stream/gone",
        support::dead_port()
    );
    let mut pty = Pty::spawn(&[url.as_str()], 100, 30, dir.path());
    pty.expect("gone", "the stream's row");
    let log = dir.path().join("dsx.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("HEAD") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("after q");
    assert!(text.contains("HEAD http://***:***@127.0.0.1"), "{text}");
    assert!(
        !text.contains("hunter2pw") && !text.contains("logger"),
        "{text}"
    );
}

#[test]
fn search_on_a_live_stream_then_n_moves_to_the_next_match() {
    let _serial = serial();
    let fx = Fixture::new();
    let (stream, url) = fx.create("search", "application/json");
    fx.append(
        &stream,
        r#"[{"n":1,"level":"info"},{"n":2,"level":"error","msg":"disk full A"},{"n":3,"level":"info"}]"#,
    );
    let mut pty = fx.explore(&url, 120, 40);
    pty.expect(" ● live ", "start");
    expect_msgs(&pty, 3, "start");
    pty.key(Key::Char('/'));
    pty.type_text("error");
    pty.key(Key::Enter);
    pty.expect("/error/ 1 match", "search kept");
    // Live arrivals are searched as they come.
    fx.append(
        &stream,
        r#"[{"n":4,"level":"info"},{"n":5,"level":"error","msg":"disk full B"}]"#,
    );
    expect_msgs(&pty, 5, "live");
    pty.expect("/error/ 2 matches", "a live match counted");
    // n from the live end: the oldest match, then the next.
    pty.key(Key::Char('n'));
    pty.expect("/error/ match 1/2", "first n");
    pty.key(Key::Char('n'));
    pty.expect("/error/ match 2/2", "second n");
    // The selection is on that match: its detail view is message 5's.
    pty.key(Key::Enter);
    pty.expect("disk full B", "detail of the selected match");
    pty.key(Key::Esc);
    pty.key(Key::Char('N'));
    pty.expect("/error/ match 1/2", "N");
    pty.key(Key::Enter);
    pty.expect("disk full A", "detail after N");
    pty.key(Key::Esc);
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("search");
}

/// Issue 12 (protocol inspector): against a server that demands a token,
/// the explorer given `--auth` shows the tail's GETs in the inspector
/// (`i`) and, in one request's headers, the `Authorization` header as its
/// type and length only: the token's text never reaches the terminal.
#[test]
fn the_inspector_shows_the_tails_requests_with_authorization_redacted() {
    let _serial = serial();
    let token = format!("inspect0r-{:016x}", rand::random::<u64>());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server =
        rt.block_on(TestServer::start_embedded(dsx::server::ServerConfig {
            long_poll_timeout: support::LONG_POLL,
            require_auth: Some(token.clone()),
            ..dsx::server::ServerConfig::default()
        }));
    let client = Client::builder()
        .header("Authorization", format!("Bearer {token}"))
        .build()
        .expect("client");
    let url = server.fresh_url("inspected");
    let stream = rt.block_on(create_at(&client, &url, "application/json"));
    rt.block_on(append(&stream, r#"{"n":1}"#));
    let dir = tempfile::tempdir().expect("temp dir");
    let auth = format!("Bearer {token}");
    let mut pty = Pty::spawn(
        &["--auth", auth.as_str(), url.as_str()],
        160,
        48,
        dir.path(),
    );
    expect_msgs(&pty, 1, "the tail read the stream with the token");
    pty.expect(" ● live ", "live");
    pty.key(Key::Char('i'));
    // The tail's catch-up GET and its SSE GET, each a row, with status.
    let screen = pty
        .wait_for(|s| {
            s.contains(" Inspector ")
                && s.lines()
                    .any(|l| l.contains("GET    200") && l.contains("catch-up"))
                && s.lines()
                    .any(|l| l.contains("GET    200") && l.contains(" sse "))
        })
        .unwrap_or_else(|l| panic!("no tail GETs in the inspector:\n{l}"));
    assert!(screen.contains("no errors"), "{screen}");
    // A new message while the inspector is open shows as an SSE control.
    rt.block_on(append(&stream, r#"{"n":2}"#));
    pty.wait_for(|s| {
        s.lines()
            .any(|l| l.contains("SSE    200") && l.contains("control"))
    })
    .unwrap_or_else(|l| panic!("no control row:\n{l}"));
    // The oldest request (before any control row) carries Authorization.
    pty.key(Key::Char('g'));
    pty.key(Key::Enter);
    let chars = token.chars().count();
    let shown = format!("authorization: Bearer *** ({chars} chars)");
    let screen = pty.expect(&shown, "the redacted Authorization header");
    assert!(screen.contains("Request headers"), "{screen}");
    assert!(screen.contains("Response headers"), "{screen}");
    pty.key(Key::Esc);
    pty.key(Key::Esc);
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("after the inspector");
    let raw = String::from_utf8_lossy(&pty.raw()).into_owned();
    assert!(!raw.contains(&token), "the token reached the terminal");
    rt.block_on(server.shutdown());
}
