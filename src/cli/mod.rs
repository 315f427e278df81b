//! Headless commands: argument types and their entry points.

pub mod append;
pub mod close;
pub mod completions;
pub mod config;
pub mod create;
pub mod delete;
pub mod demo;
pub mod doctor;
pub mod exit;
pub mod export;
pub mod fork;
pub mod head;
mod output;
mod print;
mod progress;
pub mod read;
pub mod serve;
pub mod sub;

use std::path::PathBuf;

use crate::client::{Client, DurableStream};
use exit::usage;

/// The base URL when neither an argument nor `STREAM_URL` names one.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:4437/v1/stream";

pub use crate::connect::GlobalArgs;

/// What every stream command needs: where relative stream paths resolve
/// and the headers to send.
#[derive(Clone, Debug)]
pub struct Context {
    /// `STREAM_URL` / the top-level URL argument, else [`DEFAULT_BASE_URL`].
    pub base_url: String,
    pub global: GlobalArgs,
}

impl Context {
    /// A client for this base URL and these headers; a bad header or URL is
    /// a usage error.
    pub fn client(&self) -> anyhow::Result<Client> {
        let builder = self
            .global
            .client_builder(&self.base_url)
            .map_err(|e| usage(format!("{e:#}")))?;
        builder.build().map_err(|e| usage(format!("{e}")))
    }

    /// The handle of `stream`: a full `http(s)` URL, or a path relative to
    /// the base URL.
    pub fn stream(&self, stream: &str) -> anyhow::Result<DurableStream> {
        self.client()?
            .stream(stream)
            .map_err(|e| usage(format!("{e}")))
    }
}

pub(crate) use crate::client::content_type::is_json;

/// `dsx serve`: run the embedded dev server until Ctrl-C.
#[derive(Clone, Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools, reason = "independent CLI flags")]
pub struct ServeArgs {
    /// Address to bind (loopback unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to bind; 0 picks a free one.
    #[arg(long, default_value_t = 4437)]
    pub port: u16,
    /// Keep streams on disk in DIR (memory only by default).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// How long a long-poll read waits for data, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub long_poll_timeout_ms: u64,
    /// Seed and keep live the demo streams.
    #[arg(long)]
    pub demo: bool,
    /// Enable the `/_test/inject-error` fault-injection endpoint.
    #[arg(long)]
    pub test_hooks: bool,
    /// Allow binding a non-loopback address (there is no authentication).
    #[arg(long)]
    pub allow_remote: bool,
    /// Largest accepted request body in MiB (larger appends get 413).
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_body_mb: u64,
    /// Largest catch-up response in KiB; longer reads are split into chunks.
    #[arg(long, value_name = "KIB", default_value_t = 4096)]
    pub max_chunk_kb: u64,
    /// Total stream data held in memory, in MiB (writes beyond get 507).
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_memory_mb: u64,
    /// Do not keep the `__registry__` stream of creates and deletes.
    #[arg(long)]
    pub no_registry: bool,
    /// Test aid, off by default: refuse (401) every request that does not
    /// carry `Authorization: Bearer TOKEN` (or exactly `TOKEN`). Not a
    /// security feature: the token is on the command line.
    #[arg(long, value_name = "TOKEN")]
    pub require_auth: Option<String>,
}

/// The port `dsx demo` serves on unless told otherwise: fixed, so that
/// the demo's stream URLs, and the bookmarks and resume positions keyed by
/// them, are the same after a restart. One above `dsx serve`'s 4437, so
/// both can run side by side.
pub const DEMO_PORT: u16 = 4438;

/// `dsx demo`: the embedded server with live demo streams.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Port for the in-process server (default 4438; when that one is
    /// taken a free one is used, and said so); 0 picks a free one.
    #[arg(long)]
    pub port: Option<u16>,
    /// Do not open the explorer: print the streams and serve until Ctrl-C
    /// (also what happens when stdout is not a terminal).
    #[arg(long)]
    pub no_ui: bool,
}

/// Waits for Ctrl-C (or SIGTERM on Unix); names the one that came.
pub(crate) async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "terminated",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "interrupted"
}
