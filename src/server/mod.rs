//! The embedded dev server (axum): `dsx serve`, `dsx demo` and the tests.
//!
//! Streams live under `/v1/stream/<name>` (names may contain `/`); the JSON
//! stream `__registry__` records every create and delete. Storage is in
//! memory, and with a data directory also on disk (see `persist.rs`).
//!
//! In-process use (the demo, tests): [`ServerHandle::store`] gives the
//! [`Store`], whose `create`, `append_to` and `delete` run the same code as
//! the HTTP handlers; most callers simply use HTTP against
//! [`ServerHandle::url`]. [`router`] builds the axum app for embedding.

mod auth;
pub mod demo;
pub mod faults;
mod http;
mod json;
pub mod offset;
mod persist;
mod read;
mod registry;
mod store;
mod stream;
mod subs;
mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use http::{AppState, router};
pub use store::{CreateRequest, Error, Limits, Lookup, REGISTRY, Store};
pub use stream::{Kind, Stream};
pub use write::{AppendOutcome, AppendRequest};

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
    /// Body, chunk and memory limits.
    pub limits: Limits,
    /// SSE connections are closed after this long (clients reconnect).
    pub sse_max_duration: Duration,
    /// Keep the `__registry__` stream of creates and deletes.
    pub registry: bool,
    /// A connection that has not sent a whole request head this long after
    /// it opened (or after its previous response) is closed, so that
    /// half-sent headers cannot pile up (slowloris).
    pub header_read_timeout: Duration,
    /// A test aid, off by default: when set, every request must carry
    /// `Authorization: Bearer TOKEN` (or exactly `TOKEN`), else 401.
    pub require_auth: Option<String>,
}

/// Default of [`ServerConfig::header_read_timeout`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 4437)),
            data_dir: None,
            long_poll_timeout: Duration::from_secs(30),
            test_hooks: false,
            limits: Limits::default(),
            sse_max_duration: Duration::from_mins(1),
            registry: true,
            header_read_timeout: HEADER_READ_TIMEOUT,
            require_auth: None,
        }
    }
}

/// A running server. Dropping it does not stop it; call `shutdown`.
pub struct ServerHandle {
    /// e.g. `http://127.0.0.1:4437`
    pub url: String,
    store: Arc<Store>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// Base URL for streams: `{url}/v1/stream`.
    pub fn stream_base(&self) -> String {
        format!("{}/v1/stream", self.url)
    }

    /// The streams, for in-process use.
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }
}

impl ServerHandle {
    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

/// Binds `config.addr` and serves in a background task.
pub async fn start(config: ServerConfig) -> std::io::Result<ServerHandle> {
    let store =
        Store::open(config.limits, config.data_dir.as_deref(), config.registry)
            .await?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let local = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let state = AppState {
        store: store.clone(),
        long_poll_timeout: config.long_poll_timeout,
        sse_max_duration: config.sse_max_duration,
        shutdown: cancel.clone(),
        subs: subs::Subs::new(store.clone(), cancel.clone()),
    };
    let subs = state.subs.clone();
    let mut app = router(state);
    if config.test_hooks {
        app = faults::apply(app);
    }
    if let Some(token) = &config.require_auth {
        app = auth::require(app, token);
    }
    let sweeper = {
        let store = store.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        store.sweep().await;
                        subs.sweep().await;
                    }
                    () = cancel.cancelled() => break,
                }
            }
        })
    };
    let stop = cancel.clone();
    let header_timeout = config.header_read_timeout;
    let task = tokio::spawn(async move {
        serve(listener, app, header_timeout, stop).await;
        sweeper.abort();
    });
    let host = match local.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    Ok(ServerHandle {
        url: format!("http://{host}:{}", local.port()),
        store,
        cancel,
        task,
    })
}

/// Accepts connections until `stop`, then lets each finish what it is
/// answering (idle ones close at once) and waits for them. Like
/// `axum::serve`, plus the header-read timeout, which needs hyper's timer
/// and so a connection builder of our own.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    header_timeout: Duration,
    stop: CancellationToken,
) {
    let connections = TaskTracker::new();
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of descriptors and the like: wait, don't spin.
                    tracing::debug!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        // Small writes (appends, SSE events) must not wait for Nagle.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
        let service = TowerToHyperService::new(app.clone());
        let stop = stop.clone();
        connections.spawn(async move {
            // hyper's header timer starts only once the protocol is known,
            // after the first bytes: a connection that sends nothing at all
            // is dropped here.
            let mut byte = [0u8; 1];
            let first = tokio::select! {
                first = tokio::time::timeout(
                    header_timeout,
                    tcp.peek(&mut byte),
                ) => first,
                () = stop.cancelled() => return,
            };
            if !matches!(first, Ok(Ok(n)) if n > 0) {
                return;
            }
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(tcp), service);
            tokio::pin!(conn);
            let served = tokio::select! {
                served = conn.as_mut() => served,
                () = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = served {
                tracing::trace!("connection: {e}");
            }
        });
    }
    connections.close();
    connections.wait().await;
}
