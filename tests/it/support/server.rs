//! `TestServer`: the embedded dev server in-process, or an official server
//! (an already running one named by `DS_RUST_URL` / `DS_NODE_URL`, or a child
//! process started from the reference install and killed on drop).

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dsx::client::Client;
use dsx::server::{ServerConfig, ServerHandle};
use tempfile::TempDir;

use super::{Fault, LONG_POLL, unique_name};

/// Which server a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `dsx::server::start` in the test's own runtime, test hooks on.
    Embedded,
    /// crates.io `durable-streams` (`durable-streams-server`).
    OfficialRust,
    /// npm `@durable-streams/server` through `launch.mjs`.
    OfficialNode,
}

/// A server for one test. Child processes are killed when it is dropped.
pub struct TestServer {
    kind: Kind,
    url: String,
    embedded: Option<ServerHandle>,
    child: Option<ChildGuard>,
}

/// How long a started server process may take to answer.
const STARTUP: Duration = Duration::from_secs(30);

impl TestServer {
    /// Starts (or, for official kinds with their `DS_*_URL` set, attaches to)
    /// a server of `kind`.
    pub async fn start(kind: Kind) -> TestServer {
        match kind {
            Kind::Embedded => {
                Self::start_embedded(ServerConfig {
                    long_poll_timeout: LONG_POLL,
                    test_hooks: true,
                    ..ServerConfig::default()
                })
                .await
            }
            Kind::OfficialRust | Kind::OfficialNode => {
                Self::start_process(kind).await
            }
        }
    }

    /// The embedded server with a caller's configuration (its address is
    /// replaced by `127.0.0.1:0`), for settings only it can change.
    pub async fn start_embedded(config: ServerConfig) -> TestServer {
        let handle = dsx::server::start(ServerConfig {
            addr: ([127, 0, 0, 1], 0).into(),
            ..config
        })
        .await
        .expect("embedded server starts on 127.0.0.1:0");
        TestServer {
            kind: Kind::Embedded,
            url: handle.url.trim_end_matches('/').to_owned(),
            embedded: Some(handle),
            child: None,
        }
    }

    /// A server in a separate process, so that its memory is not the test
    /// process's: the `dsx serve` binary for `Embedded`, the official
    /// processes (or their `DS_*_URL`) otherwise.
    pub async fn start_process(kind: Kind) -> TestServer {
        let env_var = match kind {
            Kind::Embedded => None,
            Kind::OfficialRust => Some("DS_RUST_URL"),
            Kind::OfficialNode => Some("DS_NODE_URL"),
        };
        if let Some(url) = env_var.and_then(|v| std::env::var(v).ok())
            && !url.trim().is_empty()
        {
            return TestServer {
                kind,
                url: url.trim().trim_end_matches('/').to_owned(),
                embedded: None,
                child: None,
            };
        }
        let mut last_error = String::new();
        // A free port found by binding :0 can be taken by someone else before
        // the child binds it; a few fresh attempts cover that race.
        for _ in 0..3 {
            let port = free_port();
            match spawn(kind, port).await {
                Ok(child) => {
                    return TestServer {
                        kind,
                        url: format!("http://127.0.0.1:{port}"),
                        embedded: None,
                        child: Some(child),
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!("could not start the {kind:?} server: {last_error}");
    }

    /// The server's base URL, e.g. `http://127.0.0.1:4437`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which server this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// `{url}/v1/stream`.
    pub fn stream_base(&self) -> String {
        match &self.embedded {
            Some(handle) => handle.stream_base(),
            None => format!("{}/v1/stream", self.url),
        }
    }

    /// The absolute URL of the stream `name`.
    pub fn stream_url(&self, name: &str) -> String {
        format!("{}/{name}", self.stream_base())
    }

    /// The absolute URL of a fresh, unused stream name.
    pub fn fresh_url(&self, prefix: &str) -> String {
        self.stream_url(&unique_name(prefix))
    }

    /// A client with default options.
    #[allow(
        clippy::unused_self,
        reason = "a method so that tests read `server.client()`"
    )]
    pub fn client(&self) -> Client {
        super::client()
    }

    /// Whether `/_test/inject-error` exists: the embedded server (started
    /// with test hooks) and the Node reference server have it; the official
    /// Rust server has no fault injection at all.
    pub fn supports_faults(&self) -> bool {
        matches!(self.kind, Kind::Embedded | Kind::OfficialNode)
    }

    /// Arms `fault` for requests to the path of `stream_url`.
    pub async fn inject(&self, stream_url: &str, fault: Fault) {
        assert!(self.supports_faults(), "{:?} has no fault hook", self.kind);
        let path = url::Url::parse(stream_url)
            .expect("stream URL parses")
            .path()
            .to_owned();
        let body = fault.into_json(&path);
        let endpoint = format!("{}/_test/inject-error", self.url);
        let response = super::within(
            super::WAIT,
            "fault injection request",
            reqwest::Client::new()
                .post(&endpoint)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send(),
        )
        .await
        .unwrap_or_else(|e| panic!("POST {endpoint}: {e}"));
        let status = response.status();
        assert!(
            status.is_success(),
            "POST {endpoint} {body} answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Stops the server: the embedded one gracefully, a child by kill.
    pub async fn shutdown(mut self) {
        if let Some(handle) = self.embedded.take() {
            super::within(super::WAIT, "embedded shutdown", handle.shutdown())
                .await;
        }
        drop(self.child.take());
    }
}

/// A child process that is killed and reaped on drop.
struct ChildGuard {
    child: Child,
    _data_dir: TempDir,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ref_home() -> PathBuf {
    if let Ok(home) = std::env::var("DS_REF_HOME")
        && !home.is_empty()
    {
        return PathBuf::from(home);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".to_owned());
    Path::new(&home).join(".cache/durable-streams-ref")
}

fn missing_install(what: &Path) -> ! {
    panic!(
        "the official server install is missing ({} not found); run .ci/run \
         or ../shared/tools/start-ref-servers.sh, or set DS_RUST_URL / \
         DS_NODE_URL to running servers",
        what.display()
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Spawns the server process for `kind` on `port` and waits until it
/// answers HTTP.
async fn spawn(kind: Kind, port: u16) -> Result<ChildGuard, String> {
    let data_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port_arg = port.to_string();
    let lp_arg = LONG_POLL.as_millis().to_string();
    let mut command = match kind {
        Kind::Embedded => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_dsx"));
            c.args(["serve", "--host", "127.0.0.1", "--port", &port_arg]);
            c.args(["--long-poll-timeout-ms", &lp_arg]);
            c
        }
        Kind::OfficialRust => {
            let bin = ref_home().join("cargo/bin/durable-streams-server");
            if !bin.is_file() {
                missing_install(&bin);
            }
            let mut c = Command::new(bin);
            c.args(["--host", "127.0.0.1", "--port", &port_arg]);
            c.arg("--data-dir").arg(data_dir.path().join("data"));
            c.args(["--long-poll-timeout-ms", &lp_arg]);
            c
        }
        Kind::OfficialNode => {
            let dir = ref_home().join("node");
            let package = dir.join("node_modules/@durable-streams/server");
            if !dir.join("launch.mjs").is_file() || !package.is_dir() {
                missing_install(&dir.join("launch.mjs"));
            }
            let mut c = Command::new("node");
            c.current_dir(&dir);
            c.args(["launch.mjs", "--host", "127.0.0.1", "--port", &port_arg]);
            c.args(["--long-poll-timeout-ms", &lp_arg]);
            c
        }
    };
    let log_path = data_dir.path().join("server.log");
    let log = File::create(&log_path).map_err(|e| e.to_string())?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    command.stdin(Stdio::null()).stdout(log).stderr(log_err);
    let child = command
        .spawn()
        .map_err(|e| format!("spawning {command:?}: {e}"))?;
    let mut guard = ChildGuard {
        child,
        _data_dir: data_dir,
    };
    let url = format!("http://127.0.0.1:{port}/v1/stream/__ready_probe");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    while started.elapsed() < STARTUP {
        if let Ok(Some(status)) = guard.child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "{kind:?} server exited ({status}); log:\n{log}"
            ));
        }
        // Any HTTP answer (404 included) means the server is up.
        if http.get(&url).send().await.is_ok() {
            return Ok(guard);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    Err(format!(
        "{kind:?} server did not answer on port {port} within {STARTUP:?}; \
         log:\n{log}"
    ))
}
