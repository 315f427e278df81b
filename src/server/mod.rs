//! The embedded dev server (axum): `dsx serve`, `dsx demo` and the tests.

pub mod demo;
pub mod faults;

use std::path::PathBuf;
use std::time::Duration;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to bind; `127.0.0.1:0` picks a free port.
    pub addr: std::net::SocketAddr,
    /// Keep streams on disk here; memory only when `None`.
    pub data_dir: Option<PathBuf>,
    pub long_poll_timeout: Duration,
    /// Enable `/_test/inject-error`.
    pub test_hooks: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 4437)),
            data_dir: None,
            long_poll_timeout: Duration::from_secs(30),
            test_hooks: false,
        }
    }
}

/// A running server. Dropping it does not stop it; call `shutdown`.
pub struct ServerHandle {
    /// e.g. `http://127.0.0.1:4437`
    pub url: String,
}

impl ServerHandle {
    /// Base URL for streams: `{url}/v1/stream`.
    pub fn stream_base(&self) -> String {
        format!("{}/v1/stream", self.url)
    }
}

impl ServerHandle {
    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(self) {
        todo!()
    }
}

/// Binds `config.addr` and serves in a background task.
pub async fn start(config: ServerConfig) -> std::io::Result<ServerHandle> {
    todo!("{config:?}")
}
