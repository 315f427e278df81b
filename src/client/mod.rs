//! The async Durable Streams client: `Client` and its builder.
//!
//! Imports nothing from the TUI, the server or the CLI.
//!
//! ```no_run
//! # async fn demo() -> dsx::client::Result<()> {
//! use dsx::client::{
//!     AppendOptions, Client, CreateOptions, LiveMode, ReadOptions,
//! };
//! use futures::StreamExt;
//!
//! let client = Client::builder()
//!     .base_url("http://127.0.0.1:4437/v1/stream")
//!     .build()?;
//! let orders = client
//!     .create(
//!         "orders",
//!         CreateOptions {
//!             content_type: Some("application/json".into()),
//!             ..Default::default()
//!         },
//!     )
//!     .await?;
//! orders.append(r#"{"id":1}"#, AppendOptions::default()).await?;
//! let mut read = orders.read_json::<serde_json::Value>(ReadOptions {
//!     live: LiveMode::Off,
//!     ..Default::default()
//! });
//! while let Some(batch) = read.next().await {
//!     let batch = batch?;
//!     println!("{:?} -> resume at {}", batch.items, batch.meta.offset);
//! }
//! # Ok(())
//! # }
//! ```

/// Entry points for the criterion benches in `benches/`; not client API.
#[doc(hidden)]
pub mod bench_api;
pub mod content_type;
mod credential;
mod decode;
mod error;
/// Entry points for the `cargo fuzz` targets in `fuzz/`; not client API.
#[doc(hidden)]
pub mod fuzz_api;
mod http;
mod json_scan;
mod observe;
mod offset;
mod options;
mod producer;
mod read;
mod redact;
mod redirect;
mod retry;
mod session;
mod sse;
mod stream;
mod subscription;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use error::{Error, describe_json_error};
pub use observe::{EventKind, RequestEvent, RequestObserver};
pub use offset::{LiveMode, Offset};
pub use options::{
    AppendOptions, CloseOptions, CreateOptions, Headers, ProducerStamp,
    ReadOptions, RetryPolicy,
};
pub use producer::{Delivery, IdempotentProducer, ProducerOptions};
pub use read::{
    ByteChunk, ByteStream, JsonBatch, JsonStream, RawJsonBatch, RawJsonStream,
    ReadMeta, TextChunk, TextStream,
};
pub use redact::{is_secret_header, redact_header, redact_url};
pub use redirect::{MAX_REDIRECTS, RedirectRefusal};
pub use stream::{
    AppendResult, CloseResult, CreateResult, DurableStream, StreamMetadata,
};
pub use subscription::{
    AckOutcome, Claim, Jwk, Jwks, REPLAY_WINDOW, SignatureError, Signing,
    StreamAck, StreamLink, Subscription, SubscriptionError, SubscriptionKind,
    SubscriptionSpec, Subscriptions, Verified, Webhook, WebhookWake,
    verify_webhook,
};

/// Convenience alias for client results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An async function computing a header (or query parameter) value, evaluated
/// once per operation.
pub type DynamicValue = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<String>> + Send>>
        + Send
        + Sync,
>;

/// The client: cheap to clone, one per program.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field(
                "base_url",
                &self.inner.base_url.as_ref().map(url::Url::as_str),
            )
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Option<url::Url>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) default_headers: Headers,
    pub(crate) dynamic_headers: Vec<(String, DynamicValue)>,
    pub(crate) dynamic_params: Vec<(String, DynamicValue)>,
    pub(crate) credential: Option<Arc<credential::Credential>>,
    pub(crate) retry: RetryPolicy,
    pub(crate) observer: Option<RequestObserver>,
    pub(crate) long_poll_allowance: Duration,
    pub(crate) retry_appends_after_drop: bool,
    pub(crate) follow_cross_origin_redirects: bool,
}

/// Builds a [`Client`].
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    timeout: Option<Duration>,
    default_headers: Headers,
    dynamic_headers: Vec<(String, DynamicValue)>,
    dynamic_params: Vec<(String, DynamicValue)>,
    credential: Option<(String, DynamicValue)>,
    retry: Option<RetryPolicy>,
    http: Option<reqwest::Client>,
    observer: Option<RequestObserver>,
    long_poll_allowance: Option<Duration>,
    retry_appends_after_drop: bool,
    follow_cross_origin_redirects: bool,
}

/// Request timeout used when the builder sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How much longer than the request timeout a long-poll request may wait for
/// its response by default (the official servers hold for up to 30 s).
pub const DEFAULT_LONG_POLL_ALLOWANCE: Duration = Duration::from_secs(35);

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client with default options and no base URL.
    pub fn new() -> Self {
        ClientBuilder::default()
            .build()
            .expect("default client builds")
    }

    /// A handle for a stream URL (absolute, or relative to the base URL). No
    /// I/O happens here.
    pub fn stream(&self, url_or_path: &str) -> Result<DurableStream> {
        let url = self.resolve(url_or_path)?;
        Ok(DurableStream::new(self.clone(), url))
    }

    /// Resolves a stream path or URL: absolute `http(s)` URLs are taken as
    /// they are; anything else is appended to the base URL's path
    /// (`http://h/v1/stream` + `orders` or `/orders` gives
    /// `http://h/v1/stream/orders`).
    pub fn resolve(&self, url_or_path: &str) -> Result<url::Url> {
        resolve(self.inner.base_url.as_ref(), url_or_path)
    }

    /// The base URL relative stream paths resolve against.
    pub fn base_url(&self) -> Option<&url::Url> {
        self.inner.base_url.as_ref()
    }

    /// The request timeout.
    pub fn timeout(&self) -> Option<Duration> {
        self.inner.timeout
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The same client (connections, headers, credential shared) with
    /// `observer` told of every request too, after any observer it had.
    #[must_use]
    pub fn with_observer(self, observer: RequestObserver) -> Client {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.observer = Some(match inner.observer.take() {
            None => observer,
            Some(first) => Arc::new(move |e: &RequestEvent| {
                first(e);
                observer(e);
            }),
        });
        Client {
            inner: Arc::new(inner),
        }
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

    /// Timeout for each request (default 30 s): the whole exchange for
    /// create, append, close, delete and head; for reads the wait for the
    /// response headers and then for each body chunk. A long-poll request
    /// may wait the timeout plus the long-poll allowance; an SSE response
    /// has no total timeout. A catch-up or long-poll body must also deliver
    /// at least 1 KiB in every timeout-long window, so that one trickling a
    /// byte at a time fails with [`Error::Timeout`] instead of hanging.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A header sent on every request (a per-operation header of the same
    /// name wins).
    pub fn header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }

    /// A header computed by `f` once per operation: one create, append,
    /// close, delete or head, or one whole read session, whose requests
    /// (retries and reconnects included) all carry the same value.
    pub fn dynamic_header<F, Fut>(
        mut self,
        name: impl Into<String>,
        f: F,
    ) -> Self
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

    /// A query parameter computed by `f` once per operation (as for
    /// [`dynamic_header`](Self::dynamic_header)).
    pub fn dynamic_param<F, Fut>(
        mut self,
        name: impl Into<String>,
        f: F,
    ) -> Self
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

    /// A header (one per client; a second call replaces the first) whose
    /// value `f` fetches before the first request and that is then kept for
    /// every request. When the server answers 401, `f` runs again once and
    /// the request is sent again with the new value; every later request,
    /// the reconnects of a live read included, carries the new value. For
    /// a token that expires, such as one printed by a password manager.
    /// It wins over default and dynamic headers of the same name; a
    /// per-call header of that name wins over it.
    pub fn refreshing_header<F, Fut>(
        mut self,
        name: impl Into<String>,
        f: F,
    ) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.credential = Some((
            name.into(),
            Arc::new(move || {
                let f = Arc::clone(&f);
                Box::pin(async move { f().await })
            }),
        ));
        self
    }

    /// Retries for 429, 5xx and dropped connections (see
    /// [`RetryPolicy`]); checked by [`build`](Self::build).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Use a caller-configured `reqwest::Client` (connection pools, proxies).
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: one
    /// that follows redirects itself bypasses the client's redirect rules
    /// (see [`follow_cross_origin_redirects`](Self::follow_cross_origin_redirects)).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Called after every request attempt and every SSE control event.
    pub fn observer(mut self, observer: RequestObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Extra time a long-poll request may wait for its response beyond the
    /// request timeout (default 35 s).
    pub fn long_poll_allowance(mut self, allowance: Duration) -> Self {
        self.long_poll_allowance = Some(allowance);
        self
    }

    /// Also retry a plain append (a POST with no `Producer-*` or
    /// `Stream-Seq` header, or an append-and-close) when the connection
    /// dropped after the request was sent. Off by default: the server may
    /// have stored the data already, so a retry can duplicate it.
    pub fn retry_appends_after_drop(mut self, enabled: bool) -> Self {
        self.retry_appends_after_drop = enabled;
        self
    }

    /// Let reads (GET, HEAD) follow a redirect to another origin (scheme,
    /// host or port). Off by default. Such a hop, and every hop after it,
    /// carries only the protocol's headers: no default, dynamic or
    /// per-call header and no `Authorization`. Writes never follow a
    /// redirect, and same-origin reads always do (at most
    /// [`MAX_REDIRECTS`] hops, loops refused): see [`Error::Redirect`].
    pub fn follow_cross_origin_redirects(mut self, enabled: bool) -> Self {
        self.follow_cross_origin_redirects = enabled;
        self
    }

    /// Validates the base URL and retry policy and builds the client.
    pub fn build(self) -> Result<Client> {
        let base_url = match self.base_url {
            None => None,
            Some(base) => Some(parse_http_url(&base).map_err(|why| {
                Error::InvalidArgument(format!(
                    "invalid base URL {base:?}: {why}"
                ))
            })?),
        };
        let retry = self.retry.unwrap_or_default();
        retry.validate()?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let http = if let Some(http) = self.http {
            http
        } else {
            // Redirects are followed by `http::send`, per `redirect.rs`.
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .tcp_nodelay(true)
                .connect_timeout(timeout)
                .build()
                .map_err(|e| {
                    Error::InvalidArgument(format!(
                        "cannot build HTTP client: {e}"
                    ))
                })?
        };
        let credential = match self.credential {
            Some((name, fetch)) => {
                Some(Arc::new(credential::Credential::new(&name, fetch)?))
            }
            None => None,
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                credential,
                http,
                base_url,
                timeout: Some(timeout),
                default_headers: self.default_headers,
                dynamic_headers: self.dynamic_headers,
                dynamic_params: self.dynamic_params,
                retry,
                observer: self.observer,
                long_poll_allowance: self
                    .long_poll_allowance
                    .unwrap_or(DEFAULT_LONG_POLL_ALLOWANCE),
                retry_appends_after_drop: self.retry_appends_after_drop,
                follow_cross_origin_redirects: self
                    .follow_cross_origin_redirects,
            }),
        })
    }
}

fn parse_http_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("unsupported scheme {:?}", url.scheme()));
    }
    if url.host().is_none() {
        return Err("no host".into());
    }
    Ok(url)
}

fn has_scheme(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// See [`Client::resolve`].
fn resolve(base: Option<&url::Url>, url_or_path: &str) -> Result<url::Url> {
    let input = url_or_path.trim();
    if has_scheme(input) {
        return parse_http_url(input).map_err(|why| {
            Error::InvalidArgument(format!(
                "invalid stream URL {input:?}: {why}"
            ))
        });
    }
    let Some(base) = base else {
        return Err(Error::InvalidArgument(format!(
            "{input:?} is not an absolute URL and the client has no base URL"
        )));
    };
    let (path, query) = match input.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (input, None),
    };
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "empty stream path {url_or_path:?}"
        )));
    }
    refuse_dot_segments(path)?;
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_fragment(None);
    if let Some(q) = query {
        url.set_query(Some(q));
    }
    Ok(url)
}

/// Refuses a stream path with a `.` or `..` segment, spelled plainly or
/// percent-encoded (`%2e%2e`), with `/` or `\` (which URL parsing treats
/// alike for http), so that no path can climb out of the base URL. A
/// server's stream names go through here too, so a planted name cannot
/// reach another path either.
fn refuse_dot_segments(path: &str) -> Result<()> {
    let decoded =
        percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let dotted = path
        .split(['/', '\\'])
        .chain(decoded.split(['/', '\\']))
        .any(|segment| segment == "." || segment == "..");
    if dotted {
        return Err(Error::InvalidArgument(format!(
            "stream path {path:?} has a '.' or '..' segment; stream paths \
             cannot leave the base URL"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_refused() {
        let b = base("http://h/v1/stream");
        for bad in [
            "../escape",
            "a/../../x",
            "./s",
            "s/.",
            "%2e%2e/up",
            "%2E%2e/up",
            "a/%2e/b",
            "..\\x",
            "a%2f..%2fb",
            ".%2e/x?offset=1",
        ] {
            let err = resolve(Some(&b), bad).expect_err(bad);
            assert!(err.is_invalid_argument(), "{bad}: {err}");
            assert!(err.to_string().contains("'..'"), "{err}");
        }
        for good in ["a..b", "...", "v1.2/s", ".hidden", "a/b..", "%2e%2ex"] {
            let url = resolve(Some(&b), good).expect(good);
            assert!(url.path().starts_with("/v1/stream/"), "{good}: {url}");
        }
    }

    fn base(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn resolves_relative_paths_by_appending() {
        for b in ["http://h/v1/stream", "http://h/v1/stream/"] {
            for p in ["orders", "/orders", "  /orders "] {
                assert_eq!(
                    resolve(Some(&base(b)), p).unwrap().as_str(),
                    "http://h/v1/stream/orders",
                    "{b} + {p}"
                );
            }
        }
        assert_eq!(
            resolve(Some(&base("http://h:8080")), "a/b")
                .unwrap()
                .as_str(),
            "http://h:8080/a/b"
        );
        assert_eq!(
            resolve(Some(&base("http://h/x")), "s?token=1")
                .unwrap()
                .as_str(),
            "http://h/x/s?token=1"
        );
    }

    #[test]
    fn absolute_urls_are_kept() {
        let got =
            resolve(Some(&base("http://h/v1")), "https://other:9/s/t").unwrap();
        assert_eq!(got.as_str(), "https://other:9/s/t");
        let got = resolve(None, "HTTP://h/s").unwrap();
        assert_eq!(got.as_str(), "http://h/s");
    }

    #[test]
    fn resolve_errors() {
        assert!(resolve(None, "orders").unwrap_err().is_invalid_argument());
        assert!(resolve(Some(&base("http://h/")), "/").is_err());
        assert!(resolve(None, "http://").is_err());
    }

    #[test]
    fn handles_are_shareable() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        fn sendable<T: Send + 'static>() {}
        shareable::<Client>();
        shareable::<DurableStream>();
        sendable::<ByteStream>();
        sendable::<TextStream>();
        sendable::<JsonStream<serde_json::Value>>();
        sendable::<Error>();
    }

    #[test]
    fn builder_validates() {
        assert!(Client::builder().base_url("not a url").build().is_err());
        assert!(Client::builder().base_url("ftp://h/x").build().is_err());
        let bad_retry = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert!(Client::builder().retry(bad_retry).build().is_err());
        let client = Client::builder()
            .base_url("http://h/v1/stream")
            .build()
            .unwrap();
        assert_eq!(client.timeout(), Some(DEFAULT_TIMEOUT));
        assert_eq!(
            client.stream("x").unwrap().url().as_str(),
            "http://h/v1/stream/x"
        );
    }
}
