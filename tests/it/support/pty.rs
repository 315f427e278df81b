//! The real `dsx` binary in a pseudo-terminal, for the end-to-end explorer
//! tests: a reader thread feeds everything it prints into a `vt100` screen
//! (and keeps the raw bytes), keys are written to the PTY as a terminal
//! would send them, and waits poll the screen with a bound.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{
    Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system,
};

/// How long a wait for the screen lasts unless a test says otherwise.
pub const SCREEN_WAIT: Duration = Duration::from_secs(10);
/// How often a wait looks at the screen again.
const POLL: Duration = Duration::from_millis(50);
/// crossterm reads an Esc followed quickly by another byte as Alt+byte;
/// after a lone Esc the next key waits this long.
const ESC_GAP: Duration = Duration::from_millis(120);

/// Device status report "where is the cursor", which the program expects
/// the terminal to answer.
const CURSOR_QUERY: &[u8] = b"\x1b[6n";

type Shared<T> = Arc<Mutex<T>>;

/// The escape sequence that leaves the alternate screen.
pub const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
/// The escape sequence that shows the cursor.
pub const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// Window title and icon name changes the program asked for, which a
/// `vt100` screen does not keep by itself.
#[derive(Default)]
pub struct Titles {
    pub titles: Vec<Vec<u8>>,
}

impl vt100::Callbacks for Titles {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles.push(title.to_vec());
    }

    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.titles.push(name.to_vec());
    }
}

/// A key as a terminal in normal (not application) cursor mode sends it.
#[derive(Clone, Copy, Debug)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Tab,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
    /// Ctrl plus a letter, e.g. `Ctrl('s')` = 0x13.
    Ctrl(char),
}

impl Key {
    fn bytes(self) -> Vec<u8> {
        match self {
            Key::Char(c) => c.to_string().into_bytes(),
            Key::Enter => b"\r".to_vec(),
            Key::Esc => b"\x1b".to_vec(),
            Key::Tab => b"\t".to_vec(),
            Key::Up => b"\x1b[A".to_vec(),
            Key::Down => b"\x1b[B".to_vec(),
            Key::PageUp => b"\x1b[5~".to_vec(),
            Key::PageDown => b"\x1b[6~".to_vec(),
            Key::Home => b"\x1b[H".to_vec(),
            Key::End => b"\x1b[F".to_vec(),
            Key::Backspace => b"\x7f".to_vec(),
            Key::Ctrl(c) => vec![(c.to_ascii_lowercase() as u8) & 0x1f],
        }
    }
}

/// A `dsx` in a PTY; killed and reaped on drop.
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    writer: Shared<Box<dyn Write + Send>>,
    parser: Arc<Mutex<vt100::Parser<Titles>>>,
    /// Every byte the program printed.
    raw: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    // Kept so the PTY stays open while the child runs.
    _master: Box<dyn MasterPty + Send>,
    status: Option<ExitStatus>,
}

impl Pty {
    /// Starts `dsx args...` on a `cols` x `rows` terminal with the explorer's
    /// data in `data_dir`, defaults for the config and no X display (so a
    /// copy goes out as OSC 52 instead of to a real clipboard).
    pub fn spawn(args: &[&str], cols: u16, rows: u16, data_dir: &Path) -> Pty {
        Pty::spawn_env(args, cols, rows, data_dir, &[])
    }

    /// [`Pty::spawn`] with extra environment variables (set last).
    pub fn spawn_env(
        args: &[&str],
        cols: u16,
        rows: u16,
        data_dir: &Path,
        env: &[(&str, &Path)],
    ) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a PTY");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_dsx"));
        cmd.args(args);
        cmd.cwd(data_dir);
        cmd.env("DSX_DATA_DIR", data_dir);
        cmd.env("DSX_CONFIG", data_dir.join("no-such-config.toml"));
        cmd.env("TERM", "xterm-256color");
        for name in [
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "STREAM_URL",
            "STREAM_AUTH",
            "STREAM_PROFILE",
            "NO_COLOR",
        ] {
            cmd.env_remove(name);
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn dsx");
        // The child has its own copy; ours must go or the reader never
        // sees the end of output.
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("PTY reader");
        let writer: Shared<Box<dyn Write + Send>> = Arc::new(Mutex::new(
            pair.master.take_writer().expect("PTY writer"),
        ));
        let parser = Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(
            rows,
            cols,
            0,
            Titles::default(),
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let parser = Arc::clone(&parser);
            let raw = Arc::clone(&raw);
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                // Ends at EOF or EIO, once the child has closed the PTY.
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let answers = {
                        let mut all = raw.lock().unwrap();
                        let before = all.len();
                        all.extend_from_slice(&buf[..n]);
                        // A query may straddle two reads: look again at
                        // the few bytes before this read.
                        let from = before.saturating_sub(CURSOR_QUERY.len());
                        count(&all[from..], CURSOR_QUERY)
                    };
                    let mut parser = parser.lock().unwrap();
                    parser.process(&buf[..n]);
                    // Answer like a real terminal would: ratatui asks
                    // where the cursor is when it starts.
                    for _ in 0..answers {
                        let (row, col) = parser.screen().cursor_position();
                        let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                        let mut w = writer.lock().unwrap();
                        let _ = w.write_all(reply.as_bytes());
                        let _ = w.flush();
                    }
                }
            })
        };
        Pty {
            child,
            writer,
            parser,
            raw,
            reader: Some(reader),
            _master: pair.master,
            status: None,
        }
    }

    /// The screen as text, one line per row.
    pub fn screen_text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Row `row` of the screen (trailing blanks trimmed).
    pub fn row(&self, row: u16) -> String {
        let parser = self.parser.lock().unwrap();
        let (_, cols) = parser.screen().size();
        parser.screen().contents_between(row, 0, row, cols)
    }

    /// Runs `f` on the current `vt100` screen.
    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(self.parser.lock().unwrap().screen())
    }

    /// Window titles and icon names set so far.
    pub fn titles(&self) -> Vec<String> {
        let parser = self.parser.lock().unwrap();
        parser
            .callbacks()
            .titles
            .iter()
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .collect()
    }

    /// Everything printed so far.
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for a screen for which `want` holds; returns
    /// that screen's text, or the last screen seen.
    pub fn wait_for_within(
        &self,
        timeout: Duration,
        want: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.screen_text();
            if want(&text) {
                return Ok(text);
            }
            if Instant::now() >= deadline {
                return Err(text);
            }
            std::thread::sleep(POLL);
        }
    }

    /// [`Pty::wait_for_within`] with [`SCREEN_WAIT`].
    pub fn wait_for(
        &self,
        want: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        self.wait_for_within(SCREEN_WAIT, want)
    }

    /// Waits for `needle` on screen; panics with `what` and the last
    /// screen if it does not appear within [`SCREEN_WAIT`].
    pub fn expect(&self, needle: &str, what: &str) -> String {
        self.wait_for(|s| s.contains(needle))
            .unwrap_or_else(|last| {
                panic!("{what}: {needle:?} not on screen; last screen:\n{last}")
            })
    }

    /// Writes raw bytes to the terminal.
    pub fn send(&mut self, bytes: &[u8]) {
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(bytes).expect("write to the PTY");
        writer.flush().expect("flush the PTY");
    }

    /// Sends one key; a lone Esc is followed by a pause so that it is not
    /// read as an Alt prefix of what comes next.
    pub fn key(&mut self, key: Key) {
        self.send(&key.bytes());
        if matches!(key, Key::Esc) {
            std::thread::sleep(ESC_GAP);
        }
    }

    /// Sends several keys.
    pub fn keys(&mut self, keys: &[Key]) {
        for &k in keys {
            self.key(k);
        }
    }

    /// Types `text` as one write, like a fast typist (no bracketed paste).
    pub fn type_text(&mut self, text: &str) {
        self.send(text.as_bytes());
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("the child has a pid")
    }

    /// Sends the signal named `name` (`TERM`, `HUP`) through `kill(1)`
    /// (no libc binding in the tests).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits up to `timeout` for the child to exit, then (up to 5 s) for
    /// the reader to take what it printed last; `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        };
        let drained = Instant::now() + Duration::from_secs(5);
        while self.reader.as_ref().is_some_and(|r| !r.is_finished())
            && Instant::now() < drained
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.status = Some(status.clone());
        Some(status)
    }

    /// Waits (up to 10 s) for the child to exit; asserts it succeeded and
    /// that it left the terminal as it found it: the alternate screen left
    /// and the cursor shown, both in the bytes and on the `vt100` screen.
    pub fn expect_clean_exit(&mut self, what: &str) {
        let Some(status) = self.wait_exit(Duration::from_secs(10)) else {
            panic!("{what}: dsx did not exit; screen:\n{}", self.screen_text());
        };
        assert!(
            status.success(),
            "{what}: dsx exited with {status}; output tail:\n{}",
            self.output_tail()
        );
        self.assert_restored(what);
    }

    /// Asserts the terminal was restored after the explorer ran.
    pub fn assert_restored(&self, what: &str) {
        let raw = self.raw();
        let leave = find(&raw, LEAVE_ALT_SCREEN);
        let show = rfind(&raw, SHOW_CURSOR);
        let drained = self.reader.as_ref().is_none_or(JoinHandle::is_finished);
        assert!(
            leave.is_some(),
            "{what}: alternate screen never left (output drained: \
             {drained}); output tail:\n{}",
            self.output_tail()
        );
        assert!(
            show.is_some_and(|s| s > leave.unwrap_or(0)),
            "{what}: cursor not shown after leaving the alternate screen; \
             output tail:\n{}",
            self.output_tail()
        );
        let (alternate, hidden) =
            self.with_screen(|s| (s.alternate_screen(), s.hide_cursor()));
        assert!(!alternate, "{what}: still on the alternate screen");
        assert!(!hidden, "{what}: cursor still hidden");
    }

    /// The last ~2000 bytes printed, escaped, for failure messages.
    pub fn output_tail(&self) -> String {
        let raw = self.raw();
        let from = raw.len().saturating_sub(2000);
        String::from_utf8_lossy(&raw[from..])
            .escape_debug()
            .to_string()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}
