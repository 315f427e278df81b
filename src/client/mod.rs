//! The async Durable Streams client: `Client` and its builder.
//!
//! Imports nothing from the TUI, the server or the CLI.

mod error;
mod offset;
mod options;
mod producer;
mod read;
mod retry;
mod sse;
mod stream;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use error::Error;
pub use offset::{LiveMode, Offset};
pub use options::{
    AppendOptions, CloseOptions, CreateOptions, Headers, ReadOptions,
    RetryPolicy,
};
pub use producer::{IdempotentProducer, ProducerOptions};
pub use read::{ByteChunk, ByteStream, JsonBatch, JsonStream, TextChunk, TextStream};
pub use stream::{AppendResult, CloseResult, DurableStream, StreamMetadata};

/// Convenience alias for client results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An async function computing a header (or query parameter) value, evaluated
/// once per operation.
pub type DynamicValue = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<String>> + Send>>
        + Send
        + Sync,
>;

/// What a request observer is told after each HTTP exchange (a hook for the
/// future protocol inspector). Secrets are the observer's to redact.
#[derive(Clone, Debug)]
pub struct RequestEvent {
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub latency: Duration,
    /// Protocol headers of the response (`Stream-*`, `Producer-*`, ...).
    pub response_headers: Headers,
    /// For SSE: one event per `control` event, with `method` "SSE".
    pub error: Option<String>,
}

/// A hook called after every request the client makes.
pub type RequestObserver = Arc<dyn Fn(&RequestEvent) + Send + Sync>;

/// The client: cheap to clone, one per program.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Option<url::Url>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) default_headers: Headers,
    pub(crate) dynamic_headers: Vec<(String, DynamicValue)>,
    pub(crate) dynamic_params: Vec<(String, DynamicValue)>,
    pub(crate) retry: RetryPolicy,
    pub(crate) observer: Option<RequestObserver>,
}

/// Builds a [`Client`].
#[derive(Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    timeout: Option<Duration>,
    default_headers: Headers,
    dynamic_headers: Vec<(String, DynamicValue)>,
    dynamic_params: Vec<(String, DynamicValue)>,
    retry: Option<RetryPolicy>,
    http: Option<reqwest::Client>,
    observer: Option<RequestObserver>,
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client with default options and no base URL.
    pub fn new() -> Self {
        ClientBuilder::default().build().expect("default client builds")
    }

    /// A handle for a stream URL (absolute, or relative to the base URL). No
    /// I/O happens here.
    pub fn stream(&self, url_or_path: &str) -> Result<DurableStream> {
        todo!("resolve {url_or_path} against the base URL")
    }

    /// Creates the stream and returns its handle.
    pub async fn create(
        &self,
        url_or_path: &str,
        options: CreateOptions,
    ) -> Result<DurableStream> {
        let stream = self.stream(url_or_path)?;
        stream.create(options).await?;
        Ok(stream)
    }

    /// Validates that the stream exists (HEAD) and returns its handle.
    pub async fn connect(&self, url_or_path: &str) -> Result<DurableStream> {
        let stream = self.stream(url_or_path)?;
        stream.head().await?;
        Ok(stream)
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl ClientBuilder {
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Timeout for each request (not for the life of a live read).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }

    /// A header computed by `f` once per operation.
    pub fn dynamic_header<F, Fut>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.dynamic_headers.push((
            name.into(),
            Arc::new(move || {
                let f = Arc::clone(&f);
                Box::pin(async move { f().await })
            }),
        ));
        self
    }

    /// A query parameter computed by `f` once per operation.
    pub fn dynamic_param<F, Fut>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.dynamic_params.push((
            name.into(),
            Arc::new(move || {
                let f = Arc::clone(&f);
                Box::pin(async move { f().await })
            }),
        ));
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Use a caller-configured `reqwest::Client` (connection pools, proxies).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    pub fn observer(mut self, observer: RequestObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn build(self) -> Result<Client> {
        todo!("validate the base URL and build the client")
    }
}
