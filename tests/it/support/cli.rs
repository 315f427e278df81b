//! The `dsx` headless commands as child processes, for the `cli_*` tests:
//! a bounded run to completion with separate stdout and stderr, and a
//! running command whose stdout is read line by line.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use super::within;

/// The longest a headless command may take in a test.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// What a finished command left behind.
#[derive(Debug)]
pub struct Output {
    /// Exit code (`-1` if killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// `stdout`'s lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Panics unless the command exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code; {self:#?}");
        self
    }

    /// Panics unless the command succeeded.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }
}

/// `dsx` with `args`, `STREAM_URL`/`STREAM_AUTH`/`STREAM_PROFILE`
/// cleared, no config file
/// (the user's own never reaches a test), stdin empty.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dsx"));
    command
        .args(args)
        .env_remove("STREAM_URL")
        .env_remove("STREAM_AUTH")
        .env_remove("STREAM_PROFILE")
        .env("DSX_CONFIG", "/nonexistent/dsx-test/config.toml")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs `dsx args...` to completion (bounded by [`RUN_LIMIT`]).
pub async fn dsx(args: &[&str]) -> Output {
    run(command(args), None).await
}

/// Runs `dsx args...` with `input` on stdin.
pub async fn dsx_stdin(args: &[&str], input: &[u8]) -> Output {
    run(command(args), Some(input)).await
}

/// Runs a prepared command to completion, feeding `input` to stdin.
pub async fn run(mut command: Command, input: Option<&[u8]>) -> Output {
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("spawn dsx");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.to_vec();
        // A separate task, so that a command that stops reading early
        // cannot block the test on a full pipe.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
    }
    let output = within(RUN_LIMIT, "dsx to finish", child.wait_with_output())
        .await
        .expect("wait for dsx");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A running command whose stdout the test reads as it comes.
pub struct Running {
    child: Child,
    stdout: Option<BufReader<ChildStdout>>,
}

impl Running {
    /// Starts `dsx args...`.
    pub fn spawn(args: &[&str]) -> Running {
        let mut child = command(args).spawn().expect("spawn dsx");
        let stdout = child.stdout.take().map(BufReader::new);
        Running { child, stdout }
    }

    /// The next stdout line (without its newline), waiting at most
    /// `limit`; `None` at end of output.
    pub async fn line(&mut self, limit: Duration) -> Option<String> {
        let stdout = self.stdout.as_mut().expect("stdout still open");
        let mut line = String::new();
        let read =
            within(limit, "a line from dsx", stdout.read_line(&mut line))
                .await
                .expect("read dsx stdout");
        (read > 0).then(|| line.trim_end_matches('\n').to_owned())
    }

    /// Reads exactly `n` bytes of stdout.
    pub async fn bytes(&mut self, n: usize, limit: Duration) -> Vec<u8> {
        let stdout = self.stdout.as_mut().expect("stdout still open");
        let mut buf = vec![0; n];
        within(limit, "bytes from dsx", stdout.read_exact(&mut buf))
            .await
            .expect("read dsx stdout");
        buf
    }

    /// Closes our end of the stdout pipe (like `head` exiting).
    pub fn close_stdout(&mut self) {
        self.stdout = None;
    }

    /// Sends SIGINT (through `kill(1)`), as Ctrl-C would.
    pub fn interrupt(&self) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill(1)");
        assert!(status.success());
    }

    /// Waits (bounded) for the exit; returns the code and all of stderr.
    pub async fn finish(mut self, limit: Duration) -> (i32, String) {
        let status = within(limit, "dsx to exit", self.child.wait())
            .await
            .expect("wait for dsx");
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ =
                within(limit, "dsx stderr", err.read_to_string(&mut stderr))
                    .await;
        }
        (status.code().unwrap_or(-1), stderr)
    }
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}
