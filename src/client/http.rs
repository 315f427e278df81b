//! One HTTP exchange with retries: headers, query, timeouts, observer.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::{ErrorContext, from_response};
use super::observe::{self, EventKind, Pending};
use super::redirect::{Chain, Hop, is_redirect};
use super::{Client, Error, Headers, LiveMode, RequestEvent, Result};

/// Protocol header names (lower case, as `http` stores them).
pub(crate) mod names {
    pub const CONTENT_TYPE: &str = "content-type";
    pub const STREAM_NEXT_OFFSET: &str = "stream-next-offset";
    pub const STREAM_CURSOR: &str = "stream-cursor";
    pub const STREAM_UP_TO_DATE: &str = "stream-up-to-date";
    pub const STREAM_CLOSED: &str = "stream-closed";
    pub const STREAM_SEQ: &str = "stream-seq";
    pub const STREAM_TTL: &str = "stream-ttl";
    pub const STREAM_EXPIRES_AT: &str = "stream-expires-at";
    pub const STREAM_FORKED_FROM: &str = "stream-forked-from";
    pub const STREAM_FORK_OFFSET: &str = "stream-fork-offset";
    pub const SSE_DATA_ENCODING: &str = "stream-sse-data-encoding";
    pub const PRODUCER_ID: &str = "producer-id";
    pub const PRODUCER_EPOCH: &str = "producer-epoch";
    pub const PRODUCER_SEQ: &str = "producer-seq";
    pub const ETAG: &str = "etag";
    pub const CACHE_CONTROL: &str = "cache-control";
}

/// Query values: everything but RFC 3986 unreserved characters is encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Largest error body read for the error message.
const MAX_ERROR_BODY: usize = 4096;

/// What a request is for, which decides its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Create, append, close, delete, head: the timeout covers the whole
    /// exchange, body included.
    Ordinary,
    /// A catch-up read: the timeout covers the wait for headers, and then
    /// each wait for the next body chunk.
    CatchUp,
    /// A long-poll read: the server may hold it, so the wait for headers is
    /// allowed the timeout plus the client's long-poll allowance.
    LongPoll,
    /// SSE: the timeout covers the wait for headers only.
    Sse,
}

/// Header values and query parameters computed once for one operation
/// (a whole read session is one operation).
#[derive(Clone)]
pub(crate) struct Op {
    pub client: Client,
    headers: HeaderMap,
    params: Vec<(String, String)>,
}

impl Op {
    /// Evaluates the client's default and dynamic headers and dynamic query
    /// parameters.
    pub async fn begin(client: &Client) -> Result<Op> {
        let inner = &client.inner;
        let mut headers = HeaderMap::new();
        for (name, value) in &inner.default_headers {
            insert_header(&mut headers, name, value)?;
        }
        for (name, value) in &inner.dynamic_headers {
            let value = value().await?;
            insert_header(&mut headers, name, &value)?;
        }
        let mut params = Vec::with_capacity(inner.dynamic_params.len());
        for (name, value) in &inner.dynamic_params {
            params.push((name.clone(), value().await?));
        }
        Ok(Op {
            client: client.clone(),
            headers,
            params,
        })
    }
}

/// One request to send (and maybe resend).
pub(crate) struct Request {
    pub method: Method,
    pub url: url::Url,
    /// Protocol query parameters (`offset`, `live`, `cursor`).
    pub query: Vec<(&'static str, String)>,
    /// Protocol headers.
    pub headers: HeaderMap,
    /// The caller's headers for this operation (they win over the rest).
    pub extra: HeaderMap,
    pub body: Option<Bytes>,
    pub phase: Phase,
    /// The request may be sent again after the connection dropped with the
    /// request already sent (see `retry.rs`).
    pub replay_safe: bool,
    /// A read session reopening a connection that ended or broke (told
    /// to the observer).
    pub reconnect: bool,
    pub ctx: ErrorContext,
}

impl Request {
    pub fn new(method: Method, url: &url::Url, phase: Phase) -> Self {
        let replay_safe = method != Method::POST;
        Request {
            method,
            url: url.clone(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            extra: HeaderMap::new(),
            body: None,
            phase,
            replay_safe,
            reconnect: false,
            ctx: ErrorContext::default(),
        }
    }

    pub fn header(&mut self, name: &'static str, value: &str) -> Result<()> {
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::InvalidArgument(format!("invalid value for header {name}"))
        })?;
        self.headers.insert(HeaderName::from_static(name), value);
        Ok(())
    }

    pub fn extra_headers(
        &mut self,
        headers: &[(String, String)],
    ) -> Result<()> {
        for (name, value) in headers {
            insert_header(&mut self.extra, name, value)?;
        }
        Ok(())
    }

    /// Whether the final header set carries `name`.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.contains_key(name) || self.extra.contains_key(name)
    }
}

fn insert_header(map: &mut HeaderMap, name: &str, value: &str) -> Result<()> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::InvalidArgument(format!("invalid header name {name:?}"))
    })?;
    let value = HeaderValue::from_str(value).map_err(|_| {
        Error::InvalidArgument(format!("invalid value for header {name}"))
    })?;
    map.insert(name, value);
    Ok(())
}

/// `url` with its own query, `protocol` and `dynamic` parameters, sorted by
/// key (stable, for cache keys) and percent-encoded.
pub(crate) fn build_url(
    url: &url::Url,
    protocol: &[(&'static str, String)],
    dynamic: &[(String, String)],
) -> url::Url {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.extend(protocol.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    pairs.extend(dynamic.iter().cloned());
    let mut out = url.clone();
    if pairs.is_empty() {
        out.set_query(None);
        return out;
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut query = String::new();
    for (k, v) in &pairs {
        if !query.is_empty() {
            query.push('&');
        }
        query.extend(utf8_percent_encode(k, QUERY_VALUE));
        query.push('=');
        query.extend(utf8_percent_encode(v, QUERY_VALUE));
    }
    out.set_query(Some(&query));
    out
}

/// A successful exchange.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body, still unread, for streaming phases; `None` for ordinary
    /// requests (drained within the timeout).
    pub response: Option<reqwest::Response>,
    /// The exact URL that was requested.
    pub url: url::Url,
    /// Body bytes drained (ordinary requests).
    pub drained: u64,
    /// The exchange's number for the observer (0 without one).
    pub id: u64,
    /// The observer's event for a catch-up or long-poll read, told when
    /// its body ends (the session hands it the length).
    pub observed: Option<Pending>,
}

enum Attempt {
    Done(Box<Reply>),
    Status(reqwest::Response),
    Failed(reqwest::Error),
    TimedOut,
}

/// Sends `req`, retrying per the client's policy and following redirects
/// per `redirect.rs`; returns a 2xx reply or the typed error.
pub(crate) async fn send(op: &Op, req: &Request) -> Result<Reply> {
    let inner = &op.client.inner;
    let mut url = build_url(&req.url, &req.query, &op.params);
    let mut headers = op.headers.clone();
    // The credential is read at each send, not once per operation, so that
    // a read session's later requests carry a value renewed after a 401.
    let mut credential = match &inner.credential {
        Some(c) => {
            let (generation, value) = c.current().await?;
            headers.insert(c.name.clone(), value);
            Some(generation)
        }
        None => None,
    };
    let mut renewed = false;
    for (name, value) in &req.headers {
        headers.insert(name.clone(), value.clone());
    }
    for (name, value) in &req.extra {
        headers.insert(name.clone(), value.clone());
    }
    let replay_safe = req.replay_safe
        || (req.method == Method::POST && inner.retry_appends_after_drop);
    let limit = match (req.phase, inner.timeout) {
        (_, None) => None,
        (Phase::LongPoll, Some(t)) => Some(t + inner.long_poll_allowance),
        (_, Some(t)) => Some(t),
    };
    let policy = &inner.retry;
    let mut redirects = Chain::new(&url);
    let mut attempt = 1u32;
    loop {
        let started = Instant::now();
        let sent_at = SystemTime::now();
        let mut builder = inner
            .http
            .request(req.method.clone(), url.clone())
            .headers(headers.clone());
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let exchange = exchange(builder, req.phase, url.clone());
        let outcome = match limit {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .unwrap_or(Attempt::TimedOut),
            None => exchange.await,
        };
        let latency = started.elapsed();
        let retries_left = attempt < policy.max_attempts;
        match outcome {
            Attempt::Done(mut reply) => {
                let seen = Seen {
                    op,
                    req,
                    url: &url,
                    headers: &headers,
                    at: sent_at,
                    latency,
                    attempt,
                };
                if let Some(pending) =
                    seen.event(Some(reply.status), &reply.headers, None)
                {
                    reply.id = pending.id();
                    match req.phase {
                        Phase::Ordinary => pending.ended(reply.drained),
                        Phase::Sse => drop(pending),
                        Phase::CatchUp | Phase::LongPoll => {
                            reply.observed = Some(pending);
                        }
                    }
                }
                return Ok(*reply);
            }
            Attempt::Status(response) => {
                let status = response.status().as_u16();
                let resp_headers = response.headers().clone();
                Seen {
                    op,
                    req,
                    url: &url,
                    headers: &headers,
                    at: sent_at,
                    latency,
                    attempt,
                }
                .event(
                    Some(response.status()),
                    &resp_headers,
                    None,
                );
                if is_redirect(response.status()) {
                    drop(response);
                    match redirects.next(
                        &req.method,
                        &url,
                        &resp_headers,
                        inner.follow_cross_origin_redirects,
                    ) {
                        Hop::Follow { url: next, strip } => {
                            if strip {
                                headers = protocol_only(&req.headers);
                                // Never sent to another origin, nor renewed
                                // for one.
                                credential = None;
                            }
                            url = next;
                            continue;
                        }
                        Hop::Refuse(reason, location) => {
                            return Err(Error::Redirect {
                                url: url.to_string(),
                                status,
                                location,
                                reason,
                            });
                        }
                    }
                }
                if status == 401
                    && !renewed
                    && let (Some(seen), Some(c)) =
                        (credential, &inner.credential)
                {
                    // Once per send: a token that is refused again is
                    // reported, not fetched in a loop.
                    drop(response);
                    renewed = true;
                    let (generation, value) = c.renew(seen).await?;
                    credential = Some(generation);
                    if !req.extra.contains_key(&c.name) {
                        headers.insert(c.name.clone(), value);
                    }
                    continue;
                }
                if retries_left && super::retry::is_retryable_status(status) {
                    drop(response);
                    let wait = policy.delay(
                        attempt,
                        super::retry::parse_retry_after(&resp_headers),
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                let body = read_error_body(response, limit).await;
                return Err(from_response(
                    url.as_str(),
                    status,
                    &resp_headers,
                    &body,
                    req.ctx,
                ));
            }
            Attempt::Failed(err) => {
                Seen {
                    op,
                    req,
                    url: &url,
                    headers: &headers,
                    at: sent_at,
                    latency,
                    attempt,
                }
                .event(
                    None,
                    &HeaderMap::new(),
                    // The cause only: reqwest's own text repeats the URL,
                    // secrets included.
                    Some(super::error::root_cause(&err)),
                );
                if err.is_timeout() {
                    return Err(Error::Timeout {
                        url: url.to_string(),
                    });
                }
                // A connect error means nothing was sent; otherwise the
                // request may have reached the server. A response the HTTP
                // parser refused (a head too large, not HTTP at all) would
                // be refused again: not retried.
                let safe = err.is_connect() || replay_safe;
                if retries_left && safe && !is_malformed_response(&err) {
                    tokio::time::sleep(policy.delay(attempt, None)).await;
                    attempt += 1;
                    continue;
                }
                return Err(Error::network(url.as_str(), err));
            }
            Attempt::TimedOut => {
                Seen {
                    op,
                    req,
                    url: &url,
                    headers: &headers,
                    at: sent_at,
                    latency,
                    attempt,
                }
                .event(
                    None,
                    &HeaderMap::new(),
                    Some("timed out".into()),
                );
                return Err(Error::Timeout {
                    url: url.to_string(),
                });
            }
        }
    }
}

/// The headers a request keeps after a redirect to another origin: the
/// protocol's own, never the user's (default, dynamic or per-call) and
/// never `Authorization`.
fn protocol_only(protocol: &HeaderMap) -> HeaderMap {
    let mut headers = protocol.clone();
    headers.remove(http::header::AUTHORIZATION);
    headers.remove(http::header::COOKIE);
    headers.remove(http::header::PROXY_AUTHORIZATION);
    headers
}

/// Whether the HTTP parser refused the response itself: hyper's parse
/// errors ("message head is too large", "invalid HTTP ... parsed"). The
/// error kinds are not public, so their text is what is there to go by.
fn is_malformed_response(err: &reqwest::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if text.contains("message head is too large")
            || text.starts_with("invalid HTTP")
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// One attempt: send, and for ordinary requests drain the body too.
async fn exchange(
    builder: reqwest::RequestBuilder,
    phase: Phase,
    url: url::Url,
) -> Attempt {
    let response = match builder.send().await {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(e),
    };
    if !response.status().is_success() {
        return Attempt::Status(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    if phase == Phase::Ordinary {
        let mut body = response.bytes_stream();
        let mut drained = 0;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => drained += chunk.len() as u64,
                Err(e) => return Attempt::Failed(e),
            }
        }
        return Attempt::Done(Box::new(Reply {
            status,
            headers,
            response: None,
            url,
            drained,
            id: 0,
            observed: None,
        }));
    }
    Attempt::Done(Box::new(Reply {
        status,
        headers,
        response: Some(response),
        url,
        drained: 0,
        id: 0,
        observed: None,
    }))
}

/// Reads at most `MAX_ERROR_BODY` bytes of an error response as text.
async fn read_error_body(
    response: reqwest::Response,
    limit: Option<Duration>,
) -> String {
    let read = async {
        let mut body = response.bytes_stream();
        let mut text = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            let room = MAX_ERROR_BODY - text.len();
            text.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if text.len() >= MAX_ERROR_BODY {
                break;
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    };
    match limit {
        Some(limit) => {
            tokio::time::timeout(limit, read).await.unwrap_or_default()
        }
        None => read.await,
    }
}

/// One attempt of a request, as the observer is told of it.
struct Seen<'a> {
    op: &'a Op,
    req: &'a Request,
    url: &'a url::Url,
    headers: &'a HeaderMap,
    at: SystemTime,
    latency: Duration,
    attempt: u32,
}

impl Seen<'_> {
    /// The attempt's event for the client's observer (`None` without
    /// one): told when the returned value is dropped or ended.
    fn event(
        &self,
        status: Option<StatusCode>,
        response: &HeaderMap,
        error: Option<String>,
    ) -> Option<Pending> {
        let observer = self.op_observer()?;
        let mode = match self.req.phase {
            Phase::LongPoll => LiveMode::LongPoll,
            Phase::Sse => LiveMode::Sse,
            Phase::Ordinary | Phase::CatchUp => LiveMode::Off,
        };
        let read = self.req.query.iter().any(|(k, _)| *k == "offset");
        let live = read.then_some(mode);
        Some(Pending::new(
            observer,
            RequestEvent {
                id: observe::next_id(),
                kind: EventKind::Exchange,
                method: self.req.method.as_str().to_owned(),
                url: self.url.to_string(),
                at: self.at,
                status: status.map(|s| s.as_u16()),
                latency: self.latency,
                request_headers: observe::pairs(self.headers),
                response_headers: observe::pairs(response),
                request_bytes: self
                    .req
                    .body
                    .as_ref()
                    .map_or(0, |b| b.len() as u64),
                body_bytes: None,
                live,
                attempt: self.attempt,
                reconnect: self.req.reconnect,
                error,
            },
        ))
    }

    fn op_observer(&self) -> Option<super::RequestObserver> {
        self.op.client.inner.observer.clone()
    }
}

/// Reports one SSE control event to the observer: `exchange` is the SSE
/// response's number, `data` the bytes of the data events it positions.
pub(crate) fn observe_control(
    op: &Op,
    url: &url::Url,
    exchange: u64,
    since_connect: Duration,
    data: u64,
    fields: Headers,
) {
    if let Some(observer) = &op.client.inner.observer {
        observer(&RequestEvent {
            id: exchange,
            kind: EventKind::Control,
            method: "SSE".to_owned(),
            url: url.to_string(),
            at: SystemTime::now(),
            status: Some(200),
            latency: since_connect,
            request_headers: Vec::new(),
            response_headers: fields,
            request_bytes: 0,
            body_bytes: Some(data),
            live: Some(LiveMode::Sse),
            attempt: 1,
            reconnect: false,
            error: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn query_is_sorted_and_encoded() {
        let built = build_url(
            &url("http://h/v1/stream/s"),
            &[
                ("offset", "0000_0001".into()),
                ("live", "long-poll".into()),
                ("cursor", "a b&c=d/é".into()),
            ],
            &[("auth".into(), "t+k".into())],
        );
        assert_eq!(
            built.as_str(),
            "http://h/v1/stream/s?auth=t%2Bk&cursor=a%20b%26c%3Dd%2F%C3%A9\
             &live=long-poll&offset=0000_0001"
        );
    }

    #[test]
    fn sentinels_pass_through() {
        let built = build_url(
            &url("http://h/s"),
            &[("offset", "-1".into()), ("live", "sse".into())],
            &[],
        );
        assert_eq!(built.as_str(), "http://h/s?live=sse&offset=-1");
        let now =
            build_url(&url("http://h/s"), &[("offset", "now".into())], &[]);
        assert_eq!(now.as_str(), "http://h/s?offset=now");
    }

    #[test]
    fn existing_query_is_merged() {
        let built = build_url(
            &url("http://h/s?token=x&b=1"),
            &[("offset", "5".into())],
            &[],
        );
        assert_eq!(built.as_str(), "http://h/s?b=1&offset=5&token=x");
        let none = build_url(&url("http://h/s"), &[], &[]);
        assert_eq!(none.as_str(), "http://h/s");
    }
}
