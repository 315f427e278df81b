//! Headless commands: argument types and their entry points.

pub mod demo;
pub mod serve;

use std::path::PathBuf;

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
}

/// `dsx demo`: the embedded server with live demo streams.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Port for the in-process server; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
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
