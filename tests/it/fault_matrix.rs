//! The fault matrix: every fault the servers can inject (500, 503 and 429
//! with Retry-After, dropped connections, truncated and corrupt bodies, stray
//! SSE events, delays) and a `kill -9` of a `--data-dir` server followed by
//! a restart, in each read mode (SSE, long-poll, catch-up), for the two
//! readers a user has: the explorer's tail (its real loop on a
//! `TestBackend`) and `dsx read` (the binary). Every cell appends numbered
//! JSON messages `{"n":1}`, `{"n":2}`, ... and checks that the reader shows
//! each one exactly once, in order: no loss, no duplicate.
//!
//! The faults come from the embedded server's `/_test/inject-error` (armed
//! for `GET` on the stream's path, so HEAD and appends are untouched); the
//! restart cells run the real `dsx serve --data-dir` as a child process
//! (and, `#[ignore]`d, the official Rust server's binary from
//! `$DS_REF_HOME`). Each fault is armed twice: once into a fresh reader of
//! the mode (a mode key in the explorer, the start of `dsx read`), once
//! into a reader that has been running (the next long-poll, the next SSE
//! reconnect after the server's short SSE limit, the next catch-up chunk).
//!
//! Cells that fail only because a fix is pending elsewhere are
//! `#[ignore = "pending: ..."]`; TESTING.md lists them.

use crate::support;
use crate::support::screen::Shared;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use dsx::client::{
    AppendOptions, Client, CloseOptions, CreateOptions, DurableStream,
};
use dsx::server::{Limits as ServerLimits, ServerConfig};
use dsx::tui::clipboard::MemoryClipboard;
use dsx::tui::state::State;
use dsx::tui::{Setup, run_explorer};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::{Fault, Running, TestServer, unique_name, within};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

/// Longest wait for anything to show up (a message, a line, a restart).
const WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(20);
/// Longest a whole cell may take.
const CELL: Duration = Duration::from_secs(90);
/// Messages appended before the reader starts, then per round.
const BACKLOG: u32 = 10;
const ROUND: u32 = 15;

// ---------------------------------------------------------------------
// The matrix's axes.

/// A read mode, and the explorer key that switches to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Sse,
    LongPoll,
    CatchUp,
}

impl Mode {
    fn key(self) -> char {
        match self {
            Mode::Sse => '1',
            Mode::LongPoll => '2',
            Mode::CatchUp => '3',
        }
    }

    /// `dsx read`'s arguments for the mode (catch-up: none, it is the
    /// default; live reads run until the stream is closed).
    fn cli_args(self) -> &'static [&'static str] {
        match self {
            Mode::Sse => &["--live", "sse"],
            Mode::LongPoll => &["--live", "long-poll"],
            Mode::CatchUp => &[],
        }
    }

    fn is_live(self) -> bool {
        self != Mode::CatchUp
    }
}

/// The embedded server for the injected-fault cells: test hooks on, a
/// short long-poll hold, SSE responses ended after 1 s (so a running SSE
/// reader reconnects, and meets the fault, within the cell) and catch-up
/// split into small chunks (so a catch-up is several requests).
async fn fault_server() -> TestServer {
    TestServer::start_embedded(ServerConfig {
        long_poll_timeout: Duration::from_millis(500),
        test_hooks: true,
        sse_max_duration: Duration::from_secs(1),
        limits: ServerLimits {
            max_chunk_bytes: 64,
            ..ServerLimits::default()
        },
        ..ServerConfig::default()
    })
    .await
}

/// `{"n":n}` for each `n` in `range`, as separate appends.
async fn append_range(
    stream: &DurableStream,
    range: std::ops::RangeInclusive<u32>,
) {
    for n in range {
        within(
            WAIT,
            "append",
            stream.append(format!("{{\"n\":{n}}}"), AppendOptions::default()),
        )
        .await
        .unwrap_or_else(|e| panic!("append {n}: {e}"));
    }
}

async fn create_json(base: &str, name: &str) -> DurableStream {
    let client = Client::builder().base_url(base).build().unwrap();
    let options = CreateOptions {
        content_type: Some("application/json".into()),
        ..CreateOptions::default()
    };
    within(WAIT, "create", client.create(name, options))
        .await
        .expect("create")
}

async fn close(stream: &DurableStream) {
    within(WAIT, "close", stream.close(CloseOptions::default()))
        .await
        .expect("close");
}

/// Panics unless `got` is exactly `1..=last`, naming what went wrong.
#[track_caller]
fn assert_exactly_once(got: &[u32], last: u32, context: &str) {
    let want: Vec<u32> = (1..=last).collect();
    if got == want {
        return;
    }
    let mut seen = std::collections::BTreeMap::<u32, u32>::new();
    for n in got {
        *seen.entry(*n).or_default() += 1;
    }
    let missing: Vec<u32> = want
        .iter()
        .copied()
        .filter(|n| !seen.contains_key(n))
        .collect();
    let twice: Vec<u32> = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(n, _)| *n)
        .collect();
    panic!(
        "{context}: not every message exactly once in order; lost {missing:?}, \
         repeated {twice:?}, got {got:?}"
    );
}

/// The `n` of an ndjson line `{"n":N}`.
fn number_of(line: &str) -> u32 {
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("not a JSON message: {line:?}: {e}"));
    v["n"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"))
}

// ---------------------------------------------------------------------
// The explorer's tail, through its real loop on a TestBackend.

/// The explorer as a test drives it: its screen and its keyboard.
struct Explorer {
    screen: Shared,
    keys: mpsc::UnboundedSender<io::Result<Event>>,
}

impl Explorer {
    fn press(&self, c: char) {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        self.keys
            .send(Ok(Event::Key(key)))
            .expect("the explorer reads keys");
    }

    /// Waits until the screen shows message `n` (pretty JSON).
    async fn wait_for(&self, n: u32, context: &str) {
        let needle = format!("\"n\": {n}\n");
        let needle_end = format!("\"n\": {n} ");
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen.screen();
            // A message line ends at the pane's edge or in padding.
            if screen.contains(&needle) || screen.contains(&needle_end) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{context}: message {n} never showed; screen:\n{screen}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Runs the explorer on `base` with `name` open while `script` drives it
/// (the script must end with `q`); returns the final state.
async fn with_explorer<F, Fut>(base: &str, name: &str, script: F) -> State
where
    F: FnOnce(Explorer) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::plain(
        base,
        Some(name),
        Box::new(MemoryClipboard {
            copied: Arc::new(Mutex::new(Vec::new())),
        }),
        Some(dir.path().join("bookmarks.json")),
    )
    .unwrap();
    let screen = Shared(Arc::new(Mutex::new(TestBackend::new(160, 48))));
    let mut terminal = Terminal::new(screen.clone()).unwrap();
    let (keys, input) = mpsc::unbounded_channel();
    let input = UnboundedReceiverStream::new(input);
    let explorer = Explorer { screen, keys };
    // Boxed: the explorer's future is large.
    let run = Box::pin(run_explorer(
        &mut terminal,
        input,
        setup,
        std::future::pending(),
    ));
    let (state, ()) = within(CELL, "the explorer cell", async {
        tokio::join!(run, script(explorer))
    })
    .await;
    let state = state.expect("the explorer ran");
    assert!(state.quit, "the script quit the explorer");
    state
}

/// The numbers of every message in the explorer's tail, in order.
fn shown(state: &State) -> Vec<u32> {
    assert_eq!(state.tail.evicted_messages, 0, "nothing was evicted");
    state
        .tail
        .batches
        .iter()
        .flat_map(|b| (0..b.len()).map(move |i| b.message(i)))
        .map(|m| number_of(std::str::from_utf8(m).expect("UTF-8 message")))
        .collect()
}

/// One explorer cell: `fault` (armed for GET, `count` times) meets a
/// fresh reader of `mode`, then a running one.
async fn explorer_cell(mode: Mode, fault: fn() -> Fault) {
    let server = fault_server().await;
    let base = server.stream_base();
    let name = unique_name("fm-tui");
    let stream = create_json(&base, &name).await;
    let url = stream.url().to_string();
    append_range(&stream, 1..=BACKLOG).await;
    let context = format!("explorer {mode:?}");
    let round2 = BACKLOG + ROUND;
    let last = BACKLOG + 2 * ROUND;
    let (server_ref, stream_ref, url_ref) = (&server, &stream, &url);
    let cx = context.as_str();
    // Boxed: the script and the explorer's future are large.
    let state = Box::pin(with_explorer(&base, &name, |ui| async move {
        let (server, stream, url, context) =
            (server_ref, stream_ref, url_ref, cx);
        ui.wait_for(BACKLOG, context).await;
        if !mode.is_live() {
            // Out of the opening SSE reader, so that what is appended
            // next waits for the catch-up below.
            ui.press(mode.key());
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        // Into a fresh reader of the mode: switch (a catch-up reads what
        // was appended meanwhile; a live reader gets it live).
        server.inject(url, fault().method("GET")).await;
        if mode.is_live() {
            ui.press(mode.key());
            append_range(stream, BACKLOG + 1..=round2).await;
        } else {
            append_range(stream, BACKLOG + 1..=round2).await;
            ui.press(mode.key());
        }
        ui.wait_for(round2, context).await;
        // Into the running reader: the next long-poll or SSE reconnect
        // (the server ends SSE responses after 1 s); a catch-up is
        // started again by its key.
        server.inject(url, fault().method("GET")).await;
        append_range(stream, round2 + 1..=last).await;
        if !mode.is_live() {
            ui.press(mode.key());
        }
        ui.wait_for(last, context).await;
        ui.press('q');
    }))
    .await;
    assert_exactly_once(&shown(&state), last, &context);
    assert_eq!(state.tail.total_messages, u64::from(last), "{context}");
    server.shutdown().await;
}

// ---------------------------------------------------------------------
// `dsx read`, the binary.

/// Reads ndjson lines from `reader` until message `n` (bounded); if the
/// output ends first, panics with dsx's exit code and stderr.
async fn read_until(
    mut reader: Running,
    n: u32,
    got: &mut Vec<u32>,
    context: &str,
) -> Running {
    while got.last() != Some(&n) {
        // `line` panics if no line comes within WAIT.
        let Some(line) = reader.line(WAIT).await else {
            let (code, stderr) = reader.finish(WAIT).await;
            panic!(
                "{context}: output ended before {n}; got {got:?}; exit \
                 {code}; stderr:\n{stderr}"
            );
        };
        got.push(number_of(&line));
        assert!(got.len() <= n as usize, "{context}: too many: {got:?}");
    }
    reader
}

/// One `dsx read` cell: `fault` (armed for GET) meets the start of the
/// read, then (live) a running one; the stream is closed at the end and
/// the read must exit 0 having printed every message once.
async fn cli_cell(mode: Mode, fault: fn() -> Fault) {
    let server = fault_server().await;
    let base = server.stream_base();
    let stream = create_json(&base, &unique_name("fm-cli")).await;
    let url = stream.url().to_string();
    let context = format!("dsx read {mode:?}");
    append_range(&stream, 1..=BACKLOG + ROUND).await;
    server.inject(&url, fault().method("GET")).await;
    let mut args = vec!["read", url.as_str()];
    args.extend_from_slice(mode.cli_args());
    if !mode.is_live() {
        // A catch-up: the fault lands on the first of several chunks.
        let out = support::dsx(&args).await;
        assert_eq!(out.code, 0, "{context}: {out:#?}");
        let got: Vec<u32> = out.lines().into_iter().map(number_of).collect();
        assert_exactly_once(&got, BACKLOG + ROUND, &context);
        server.shutdown().await;
        return;
    }
    let reader = Running::spawn(&args);
    let mut got = Vec::new();
    let reader = read_until(reader, BACKLOG + ROUND, &mut got, &context).await;
    server.inject(&url, fault().method("GET")).await;
    let last = BACKLOG + 2 * ROUND;
    append_range(&stream, BACKLOG + ROUND + 1..=last).await;
    let mut reader = read_until(reader, last, &mut got, &context).await;
    close(&stream).await;
    if let Some(line) = reader.line(WAIT).await {
        got.push(number_of(&line));
    }
    let (code, stderr) = reader.finish(WAIT).await;
    assert_exactly_once(&got, last, &context);
    assert_eq!(code, 0, "{context}: exit code; stderr:\n{stderr}");
    server.shutdown().await;
}

// ---------------------------------------------------------------------
// The faults.

fn status_500() -> Fault {
    Fault::status(500).count(2)
}
fn status_503_retry_after() -> Fault {
    Fault::status(503).retry_after(1)
}
fn status_429_retry_after() -> Fault {
    Fault::status(429).retry_after(1)
}
fn dropped() -> Fault {
    Fault::drop_connection().count(2)
}
/// Cut after 20 bytes: mid-message for JSON and SSE alike.
fn truncated() -> Fault {
    Fault::truncate_body_bytes(20)
}
fn corrupt() -> Fault {
    Fault::corrupt_body()
}
/// An event type the protocol does not define, before the real output.
fn stray_sse_event() -> Fault {
    Fault::sse_event("surprise", "{\"n\":999}")
}
/// A control event that carries no offset, before the real output.
fn stray_sse_control() -> Fault {
    Fault::sse_event("control", "{}")
}
/// Longer than the long-poll hold.
fn delayed() -> Fault {
    Fault::delay_ms(1_200)
}

/// `cells! { group { name: mode, fault; ... } }` makes one test per line,
/// `group::name`, each optionally with attributes (`#[ignore = "..."]`).
macro_rules! cells {
    ($cell:ident, $group:ident { $($(#[$attr:meta])* $name:ident: $mode:ident, $fault:ident;)* }) => {
        mod $group {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[$attr])*
                async fn $name() {
                    super::$cell(super::Mode::$mode, super::$fault).await;
                }
            )*
        }
    };
}

cells!(explorer_cell, explorer {
    status_500_sse: Sse, status_500;
    status_500_long_poll: LongPoll, status_500;
    status_500_catch_up: CatchUp, status_500;
    status_503_sse: Sse, status_503_retry_after;
    status_503_long_poll: LongPoll, status_503_retry_after;
    status_503_catch_up: CatchUp, status_503_retry_after;
    status_429_sse: Sse, status_429_retry_after;
    status_429_long_poll: LongPoll, status_429_retry_after;
    status_429_catch_up: CatchUp, status_429_retry_after;
    dropped_sse: Sse, dropped;
    dropped_long_poll: LongPoll, dropped;
    dropped_catch_up: CatchUp, dropped;
    truncated_sse: Sse, truncated;
    truncated_long_poll: LongPoll, truncated;
    truncated_catch_up: CatchUp, truncated;
    corrupt_long_poll: LongPoll, corrupt;
    corrupt_catch_up: CatchUp, corrupt;
    stray_event_sse: Sse, stray_sse_event;
    stray_control_sse: Sse, stray_sse_control;
    delayed_sse: Sse, delayed;
    delayed_long_poll: LongPoll, delayed;
    delayed_catch_up: CatchUp, delayed;
});

cells!(cli_cell, cli {
    status_500_sse: Sse, status_500;
    status_500_long_poll: LongPoll, status_500;
    status_500_catch_up: CatchUp, status_500;
    status_503_sse: Sse, status_503_retry_after;
    status_503_long_poll: LongPoll, status_503_retry_after;
    status_503_catch_up: CatchUp, status_503_retry_after;
    status_429_sse: Sse, status_429_retry_after;
    status_429_long_poll: LongPoll, status_429_retry_after;
    status_429_catch_up: CatchUp, status_429_retry_after;
    dropped_sse: Sse, dropped;
    dropped_long_poll: LongPoll, dropped;
    dropped_catch_up: CatchUp, dropped;
    truncated_sse: Sse, truncated;
    truncated_long_poll: LongPoll, truncated;
    truncated_catch_up: CatchUp, truncated;
    corrupt_long_poll: LongPoll, corrupt;
    corrupt_catch_up: CatchUp, corrupt;
    stray_event_sse: Sse, stray_sse_event;
    stray_control_sse: Sse, stray_sse_control;
    delayed_sse: Sse, delayed;
    delayed_long_poll: LongPoll, delayed;
    delayed_catch_up: CatchUp, delayed;
});

// ---------------------------------------------------------------------
// kill -9 and restart with --data-dir.

/// How long a killed server stays down: longer than the 1.5 s that
/// `dsx read -f` used to ride out, shorter than the explorer's backoff
/// grows in that time.
const OUTAGE: Duration = Duration::from_secs(3);

/// Which server binary a restart cell runs.
#[derive(Clone, Copy, Debug)]
enum Binary {
    /// `dsx serve --data-dir`.
    Dsx,
    /// The official Rust server from `$DS_REF_HOME` (`.ci/run` installs
    /// it; the cells are `#[ignore]`d).
    OfficialRust,
}

/// A server process on a fixed port with its data on disk, which a test
/// can kill (SIGKILL) and start again on the same port and directory.
struct Restartable {
    binary: Binary,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
    starts: u32,
}

impl Restartable {
    async fn start(binary: Binary) -> Restartable {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind 127.0.0.1:0")
            .port();
        let mut server = Restartable {
            binary,
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
            starts: 0,
        };
        server.restart().await;
        server
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/v1/stream", self.port)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join(format!("server-{}.log", self.starts))
    }

    fn command(&self) -> std::process::Command {
        let port = self.port.to_string();
        let mut command = match self.binary {
            Binary::Dsx => {
                let mut c =
                    std::process::Command::new(env!("CARGO_BIN_EXE_dsx"));
                c.args(["serve", "--host", "127.0.0.1", "--port", &port]);
                c.args(["--long-poll-timeout-ms", "500"]);
                c
            }
            Binary::OfficialRust => {
                let home = std::env::var_os("DS_REF_HOME").map_or_else(
                    || {
                        let home = std::env::var_os("HOME").expect("HOME");
                        Path::new(&home).join(".cache/durable-streams-ref")
                    },
                    PathBuf::from,
                );
                let bin = home.join("cargo/bin/durable-streams-server");
                assert!(
                    bin.is_file(),
                    "{} is missing: run .ci/run or \
                     ../shared/tools/start-ref-servers.sh once",
                    bin.display()
                );
                let mut c = std::process::Command::new(bin);
                c.args(["--host", "127.0.0.1", "--port", &port]);
                c.args(["--long-poll-timeout-ms", "500"]);
                c
            }
        };
        command.arg("--data-dir").arg(self.data_dir());
        command
    }

    /// Starts the process (again) and waits until it answers HTTP.
    async fn restart(&mut self) {
        assert!(self.child.is_none(), "kill it first");
        self.starts += 1;
        let log = std::fs::File::create(self.log()).unwrap();
        let child = self
            .command()
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn the server");
        self.child = Some(child);
        let http = support::http();
        let probe = format!("{}/__probe", self.base());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) =
                self.child.as_mut().unwrap().try_wait().unwrap()
            {
                let log = std::fs::read_to_string(self.log()).unwrap();
                panic!("{:?} exited ({status}); log:\n{log}", self.binary);
            }
            // Any HTTP answer (404 included) means it is up.
            if http.head(&probe).send().await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{:?} did not answer on port {}",
                self.binary,
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL and reap: no chance to flush anything.
    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Restartable {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The explorer in `mode` rides out a kill -9 and restart: every message
/// acknowledged before the kill and every one appended after it shows
/// exactly once.
async fn explorer_restart_cell(binary: Binary, mode: Mode) {
    let mut server = Restartable::start(binary).await;
    let base = server.base();
    let name = unique_name("fm-tui-restart");
    let stream = create_json(&base, &name).await;
    append_range(&stream, 1..=BACKLOG).await;
    let last = BACKLOG + ROUND;
    let context = format!("explorer {mode:?} across a restart of {binary:?}");
    let server = &mut server;
    // Boxed: the script holds appends and the explorer's future.
    let state = Box::pin(with_explorer(&base, &name, |ui| async move {
        ui.wait_for(BACKLOG, &context).await;
        if mode.is_live() {
            ui.press(mode.key());
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        server.kill9();
        if !mode.is_live() {
            // A catch-up started while the server is down.
            ui.press(mode.key());
        }
        tokio::time::sleep(OUTAGE).await;
        server.restart().await;
        append_range(&stream, BACKLOG + 1..=last).await;
        if !mode.is_live() {
            // Its retry may have caught up before the appends: again.
            ui.wait_for(BACKLOG, &context).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            ui.press(mode.key());
        }
        ui.wait_for(last, &context).await;
        ui.press('q');
    }))
    .await;
    let context = format!("explorer {mode:?} across a restart of {binary:?}");
    assert_exactly_once(&shown(&state), last, &context);
}

/// `dsx read` across a kill -9 and restart: a live read keeps going and
/// prints every message once; a catch-up started while the server is down
/// fails fast with exit 4, and one after the restart prints everything
/// that was acknowledged before the kill.
async fn cli_restart_cell(binary: Binary, mode: Mode) {
    let mut server = Restartable::start(binary).await;
    let stream =
        create_json(&server.base(), &unique_name("fm-cli-restart")).await;
    let url = stream.url().to_string();
    append_range(&stream, 1..=BACKLOG).await;
    let context = format!("dsx read {mode:?} across a restart of {binary:?}");
    let mut args = vec!["read", url.as_str()];
    args.extend_from_slice(mode.cli_args());
    if !mode.is_live() {
        server.kill9();
        let out = support::dsx(&args).await;
        assert_eq!(out.code, 4, "{context}, server down: {out:#?}");
        assert!(out.stdout.is_empty(), "{context}: {out:#?}");
        server.restart().await;
        let out = support::dsx(&args).await;
        assert_eq!(out.code, 0, "{context}: {out:#?}");
        let got: Vec<u32> = out.lines().into_iter().map(number_of).collect();
        assert_exactly_once(&got, BACKLOG, &context);
        return;
    }
    let reader = Running::spawn(&args);
    let mut got = Vec::new();
    let reader = read_until(reader, BACKLOG, &mut got, &context).await;
    server.kill9();
    tokio::time::sleep(OUTAGE).await;
    server.restart().await;
    let last = BACKLOG + ROUND;
    append_range(&stream, BACKLOG + 1..=last).await;
    let mut reader = read_until(reader, last, &mut got, &context).await;
    close(&stream).await;
    if let Some(line) = reader.line(WAIT).await {
        got.push(number_of(&line));
    }
    let (code, stderr) = reader.finish(WAIT).await;
    assert_exactly_once(&got, last, &context);
    assert_eq!(code, 0, "{context}: exit code; stderr:\n{stderr}");
}

/// `restart_cells! { cell, group { name: Binary, Mode; ... } }`.
macro_rules! restart_cells {
    ($cell:ident, $group:ident { $($(#[$attr:meta])* $name:ident: $binary:ident, $mode:ident;)* }) => {
        mod $group {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[$attr])*
                async fn $name() {
                    super::$cell(super::Binary::$binary, super::Mode::$mode)
                        .await;
                }
            )*
        }
    };
}

restart_cells!(explorer_restart_cell, explorer_restart {
    dsx_sse: Dsx, Sse;
    dsx_long_poll: Dsx, LongPoll;
    dsx_catch_up: Dsx, CatchUp;
    #[ignore = "needs the official servers; see README"]
    rust_sse: OfficialRust, Sse;
    #[ignore = "needs the official servers; see README"]
    rust_long_poll: OfficialRust, LongPoll;
    #[ignore = "needs the official servers; see README"]
    rust_catch_up: OfficialRust, CatchUp;
});

restart_cells!(cli_restart_cell, cli_restart {
    dsx_sse: Dsx, Sse;
    dsx_long_poll: Dsx, LongPoll;
    dsx_catch_up: Dsx, CatchUp;
    #[ignore = "needs the official servers; see README"]
    rust_sse: OfficialRust, Sse;
    #[ignore = "needs the official servers; see README"]
    rust_long_poll: OfficialRust, LongPoll;
    #[ignore = "needs the official servers; see README"]
    rust_catch_up: OfficialRust, CatchUp;
});
