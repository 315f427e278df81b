//! The real `dsx` binary as a child process, for the process-level tests.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `dsx`; killed (SIGKILL) and reaped on drop.
pub struct Dsx {
    child: Child,
    lines: Receiver<String>,
    /// Everything printed so far, stdout and stderr interleaved by line.
    transcript: Arc<Mutex<String>>,
}

impl Dsx {
    /// Starts `dsx args...` with stdout and stderr captured.
    pub fn spawn(args: &[&str]) -> Dsx {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dsx"))
            .args(args)
            .env_remove("STREAM_URL")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the dsx binary");
        let (tx, lines) = channel();
        let transcript = Arc::new(Mutex::new(String::new()));
        pump(child.stdout.take().unwrap(), tx.clone(), &transcript);
        pump(child.stderr.take().unwrap(), tx, &transcript);
        Dsx {
            child,
            lines,
            transcript,
        }
    }

    /// Waits up to `timeout` for a printed line matching `want`.
    pub fn wait_line(
        &self,
        timeout: Duration,
        want: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if want(&line) => return Some(line),
                Ok(_) => {}
                Err(
                    RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected,
                ) => {
                    return None;
                }
            }
        }
    }

    /// The `http://127.0.0.1:PORT` URL the process prints (up to 20 s).
    pub fn loopback_url(&self) -> String {
        let line = self
            .wait_line(Duration::from_secs(20), |l| {
                find_url(l, "http://127.0.0.1:").is_some()
            })
            .unwrap_or_else(|| {
                panic!("no URL printed; output:\n{}", self.transcript())
            });
        find_url(&line, "http://127.0.0.1:").unwrap()
    }

    pub fn transcript(&self) -> String {
        self.transcript.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM (through `kill(1)`; no libc binding here).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill(1)");
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader threads drain what is left.
                std::thread::sleep(Duration::from_millis(100));
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Dsx {
    fn drop(&mut self) {
        self.kill();
    }
}

fn pump(
    from: impl Read + Send + 'static,
    to: Sender<String>,
    transcript: &Arc<Mutex<String>>,
) {
    let transcript = Arc::clone(transcript);
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            {
                let mut all = transcript.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
            let _ = to.send(line);
        }
    });
}

/// The URL starting with `prefix` in `line`, up to the port's last digit.
pub fn find_url(line: &str, prefix: &str) -> Option<String> {
    let start = line.find(prefix)?;
    let rest = &line[start + prefix.len()..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    (digits > 0).then(|| line[start..start + prefix.len() + digits].to_owned())
}

/// `dsx args...` run to completion (bounded): its status and output.
pub fn run_to_end(args: &[&str], timeout: Duration) -> (ExitStatus, String) {
    let mut dsx = Dsx::spawn(args);
    let Some(status) = dsx.wait_exit(timeout) else {
        panic!("dsx {args:?} did not exit; output:\n{}", dsx.transcript());
    };
    (status, dsx.transcript())
}

/// An HTTP client for loopback only: no proxy, bounded time.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub fn data_dir_arg(dir: &Path) -> String {
    dir.to_str().expect("temp dir path is UTF-8").to_owned()
}
