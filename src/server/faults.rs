//! Fault injection for tests: the `/_test/inject-error` endpoint.
//!
//! Only mounted when the server runs with `--test-hooks`. The endpoint and
//! its JSON body are those of the official Node reference server, so the
//! conformance runners can drive either server:
//!
//! * `POST /_test/inject-error` with `{path, status?, count?, retryAfter?,
//!   delayMs?, jitterMs?, dropConnection?, truncateBodyBytes?, corruptBody?,
//!   probability?, method?, injectSseEvent?: {eventType, data}}` sets the
//!   fault for `path` (one per path; a new one replaces the old);
//! * `DELETE /_test/inject-error` clears every fault.
//!
//! A fault is keyed by the exact request path (the query is ignored) and is
//! used up by `count` matching requests (default 1). Any method matches
//! unless `method` is set; a request skipped by `probability` does not use
//! it up; `OPTIONS` never does. A used fault applies, in this order: the
//! delay (`delayMs` plus up to `jitterMs`), then `dropConnection` (the
//! connection closes with no response), then `status` (a `text/plain` body
//! `Injected error for testing`, with `Retry-After` when `retryAfter` is
//! set). Otherwise the request reaches the server and its response is
//! modified:
//!
//! * `truncateBodyBytes` / `corruptBody` apply to a `200` answer to a `GET`
//!   that carries data (not to `offset=now` catch-up, `204`, `304` or
//!   errors), to the bytes as sent (after any compression), like the
//!   Node server. Unlike the Node
//!   server, truncation also cuts an SSE body after that many bytes and
//!   then ends it, to simulate a stream that stops mid-event; corruption
//!   leaves SSE alone.
//! * `injectSseEvent` writes `event: <type>` / `data: <data>` before the
//!   normal output of an SSE response; other responses are unaffected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures::{StreamExt, stream};
use http::{HeaderValue, Method, StatusCode, header};
use rand::Rng;
use serde::Deserialize;

/// The control endpoint's path.
pub const INJECT_PATH: &str = "/_test/inject-error";

/// Body of an injected status response.
pub const INJECTED_BODY: &str = "Injected error for testing";

/// One fault as sent to [`INJECT_PATH`] (field names in camelCase).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSpec {
    /// Request path the fault applies to, e.g. `/v1/stream/orders`.
    #[serde(default)]
    pub path: String,
    /// Answer with this status instead of reaching the server.
    pub status: Option<u16>,
    /// How many matching requests use the fault up (default 1).
    pub count: Option<f64>,
    /// `Retry-After` value (seconds) sent with `status`.
    pub retry_after: Option<serde_json::Value>,
    /// Wait this long before anything else.
    pub delay_ms: Option<f64>,
    /// Add a random extra delay up to this many milliseconds.
    pub jitter_ms: Option<f64>,
    /// Close the connection without any response.
    pub drop_connection: Option<bool>,
    /// Cut the response body after this many bytes.
    pub truncate_body_bytes: Option<u64>,
    /// Mangle the response body so that it no longer parses.
    pub corrupt_body: Option<bool>,
    /// Chance (0 to 1) that a matching request triggers the fault.
    pub probability: Option<f64>,
    /// Only requests with this method (case-insensitive) match.
    pub method: Option<String>,
    /// An extra event written before the normal SSE output.
    pub inject_sse_event: Option<SseEventSpec>,
}

/// The `injectSseEvent` part of a [`FaultSpec`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SseEventSpec {
    /// The `event:` field, e.g. `control` or `unknown`.
    pub event_type: String,
    /// The `data:` field, written as is.
    pub data: String,
}

impl FaultSpec {
    fn has_fault_type(&self) -> bool {
        self.status.is_some()
            || self.delay_ms.is_some()
            || self.drop_connection == Some(true)
            || self.truncate_body_bytes.is_some()
            || self.corrupt_body == Some(true)
            || self.inject_sse_event.is_some()
    }
}

/// A stored fault and how many uses it has left.
#[derive(Debug)]
struct Armed {
    spec: Arc<FaultSpec>,
    remaining: f64,
}

/// The faults currently set, shared by the endpoint and the layer.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    armed: Arc<Mutex<HashMap<String, Armed>>>,
}

impl Faults {
    /// No faults set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `spec` for `spec.path`, replacing any fault already there.
    pub fn inject(&self, spec: FaultSpec) {
        let remaining = spec.count.unwrap_or(1.0);
        let path = spec.path.clone();
        let armed = Armed {
            spec: Arc::new(spec),
            remaining,
        };
        self.lock().insert(path, armed);
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many paths have a fault set.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no fault is set.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Uses up one count of the fault for `path` if `method` matches.
    fn take(&self, path: &str, method: &Method) -> Option<Arc<FaultSpec>> {
        let mut armed = self.lock();
        let fault = armed.get_mut(path)?;
        if let Some(only) = &fault.spec.method
            && !only.eq_ignore_ascii_case(method.as_str())
        {
            return None;
        }
        if let Some(p) = fault.spec.probability
            && rand::rng().random::<f64>() > p
        {
            return None;
        }
        fault.remaining -= 1.0;
        let spec = Arc::clone(&fault.spec);
        if fault.remaining <= 0.0 {
            armed.remove(path);
        }
        Some(spec)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Armed>> {
        // A panic while holding the lock cannot leave the map half-updated.
        self.armed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Wraps `router` with the fault layer and the control endpoint.
pub fn apply(router: Router) -> Router {
    apply_with(router, Faults::new())
}

/// Like [`apply`], with a handle the caller keeps to set faults directly.
pub fn apply_with(router: Router, faults: Faults) -> Router {
    // Nesting the router as the fallback of an empty one makes the layer see
    // every request, including paths the inner router has no route for.
    Router::new()
        .fallback_service(router)
        .layer(axum::middleware::from_fn_with_state(faults, intercept))
}

async fn intercept(
    State(faults): State<Faults>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    // CORS preflights never use up a fault, as on the Node server.
    if method == Method::OPTIONS {
        return next.run(req).await;
    }
    if req.uri().path() == INJECT_PATH {
        return control(&faults, req).await;
    }
    let Some(fault) = faults.take(req.uri().path(), &method) else {
        return next.run(req).await;
    };
    if let Some(delay) = delay_of(&fault) {
        tokio::time::sleep(delay).await;
    }
    if fault.drop_connection == Some(true) {
        return dropped(&method);
    }
    if let Some(status) = fault.status {
        return injected_status(status, fault.retry_after.as_ref());
    }
    let catch_up_now = is_catch_up_now(req.uri().query());
    let response = next.run(req).await;
    modify(response, &fault, &method, catch_up_now)
}

/// Handles POST (set) and DELETE (clear) on [`INJECT_PATH`].
async fn control(faults: &Faults, req: Request) -> Response {
    match *req.method() {
        Method::POST => {
            let limit = 1 << 20;
            let Ok(body) = axum::body::to_bytes(req.into_body(), limit).await
            else {
                return text(400, "Invalid JSON body");
            };
            let Ok(spec) = serde_json::from_slice::<FaultSpec>(&body) else {
                return text(400, "Invalid JSON body");
            };
            if spec.path.is_empty() {
                return text(400, "Missing required field: path");
            }
            if !spec.has_fault_type() {
                return text(
                    400,
                    "Must specify at least one fault type: status, delayMs, \
                     dropConnection, truncateBodyBytes, corruptBody, or \
                     injectSseEvent",
                );
            }
            if let Some(status) = spec.status
                && StatusCode::from_u16(status).is_err()
            {
                return text(400, "Invalid status");
            }
            faults.inject(spec);
            ok_json()
        }
        Method::DELETE => {
            faults.clear();
            ok_json()
        }
        _ => text(405, "Method not allowed"),
    }
}

fn delay_of(fault: &FaultSpec) -> Option<Duration> {
    let base = fault.delay_ms.filter(|ms| *ms > 0.0)?;
    let jitter = fault
        .jitter_ms
        .filter(|ms| *ms > 0.0)
        .map_or(0.0, |ms| rand::rng().random::<f64>() * ms);
    Duration::try_from_secs_f64((base + jitter) / 1000.0).ok()
}

/// Whether the query asks for `offset=now` outside long-poll: the Node
/// server answers that before its body modifications, so they skip it.
fn is_catch_up_now(query: Option<&str>) -> bool {
    let Some(query) = query else { return false };
    let mut now = false;
    let mut long_poll = false;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match (&*key, &*value) {
            ("offset", "now") => now = true,
            ("live", "long-poll") => long_poll = true,
            _ => {}
        }
    }
    now && !long_poll
}

/// A response that makes hyper close the connection before writing a byte.
fn dropped(method: &Method) -> Response {
    // hyper buffers the head and polls the body before flushing, so a body
    // that fails on its first poll closes the connection with nothing sent.
    // A HEAD response has no body to poll, so there the only way to close
    // without an answer is to unwind the connection task; resume_unwind
    // skips the panic hook, so nothing is printed.
    if *method == Method::HEAD && cfg!(panic = "unwind") {
        std::panic::resume_unwind(Box::new("injected dropped connection"));
    }
    let failing = stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected dropped connection",
        ))
    });
    Response::new(Body::from_stream(failing))
}

fn injected_status(
    status: u16,
    retry_after: Option<&serde_json::Value>,
) -> Response {
    let mut response = text(status, INJECTED_BODY);
    if let Some(value) = retry_after.and_then(retry_after_value) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Formats `retryAfter` as the Node server does (`String(value)`).
fn retry_after_value(value: &serde_json::Value) -> Option<HeaderValue> {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "integral and within i64 range, checked first"
            )]
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                (f as i64).to_string()
            }
            _ => n.to_string(),
        },
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    HeaderValue::from_str(&text).ok()
}

fn modify(
    response: Response,
    fault: &FaultSpec,
    method: &Method,
    catch_up_now: bool,
) -> Response {
    let is_sse = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });
    let carries_data = *method == Method::GET
        && response.status() == StatusCode::OK
        && !catch_up_now;
    let sse_prefix = fault
        .inject_sse_event
        .as_ref()
        .filter(|_| is_sse)
        .map(|e| format!("event: {}\ndata: {}\n\n", e.event_type, e.data));
    let truncate = fault.truncate_body_bytes.filter(|_| carries_data);
    let corrupt = fault.corrupt_body == Some(true) && carries_data && !is_sse;
    if sse_prefix.is_none() && truncate.is_none() && !corrupt {
        return response;
    }

    let (mut parts, body) = response.into_parts();
    // The body's length changes, so let hyper frame it (chunked).
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut data = body.into_data_stream().boxed();
    if let Some(prefix) = sse_prefix {
        let first = stream::once(async move { Ok(Bytes::from(prefix)) });
        data = first.chain(data).boxed();
    }
    if let Some(limit) = truncate {
        data = truncated(data, limit).boxed();
    }
    if corrupt {
        data = corrupted(data).boxed();
    }
    Response::from_parts(parts, Body::from_stream(data))
}

type DataResult = Result<Bytes, axum::Error>;

/// Passes through the first `limit` bytes, then ends the body without
/// waiting for more from `inner`.
fn truncated(
    inner: impl futures::Stream<Item = DataResult> + Send + 'static,
    limit: u64,
) -> impl futures::Stream<Item = DataResult> + Send + 'static {
    async_stream::stream! {
        let mut inner = std::pin::pin!(inner);
        let mut left = limit;
        while left > 0 {
            match inner.next().await {
                Some(Ok(mut chunk)) => {
                    let keep = usize::try_from(left).unwrap_or(usize::MAX);
                    chunk.truncate(keep);
                    left -= chunk.len() as u64;
                    yield Ok(chunk);
                }
                Some(Err(e)) => {
                    yield Err(e);
                    break;
                }
                None => break,
            }
        }
    }
}

/// Breaks the body as the Node server does: `X`, `Y` for the first two
/// bytes, then `Z` at about one position in ten.
fn corrupted(
    inner: impl futures::Stream<Item = DataResult> + Send + 'static,
) -> impl futures::Stream<Item = DataResult> + Send + 'static {
    let mut position: u64 = 0;
    inner.map(move |item| {
        let chunk = item?;
        let mut bytes = chunk.to_vec();
        let mut rng = rand::rng();
        for byte in &mut bytes {
            *byte = match position {
                0 => b'X',
                1 => b'Y',
                _ if rng.random_bool(0.1) => b'Z',
                _ => *byte,
            };
            position += 1;
        }
        Ok(Bytes::from(bytes))
    })
}

fn text(status: u16, body: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    add_cors(&mut response);
    response
}

fn ok_json() -> Response {
    let mut response = Response::new(Body::from(r#"{"ok":true}"#));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_cors(&mut response);
    response
}

/// The responses made here never reach the inner router's CORS handling.
fn add_cors(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after, content-type"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_formatted_like_javascript() {
        let value = |v: serde_json::Value| retry_after_value(&v).unwrap();
        assert_eq!(value(json_num(2.0)), "2");
        assert_eq!(value(json_num(1.5)), "1.5");
        assert_eq!(value(serde_json::json!("7")), "7");
        assert!(retry_after_value(&serde_json::Value::Null).is_none());
    }

    fn json_num(f: f64) -> serde_json::Value {
        serde_json::Value::from(f)
    }

    #[test]
    fn only_plain_offset_now_reads_skip_body_faults() {
        assert!(is_catch_up_now(Some("offset=now")));
        assert!(!is_catch_up_now(Some("offset=now&live=long-poll")));
        assert!(!is_catch_up_now(Some("offset=-1")));
        assert!(!is_catch_up_now(None));
    }

    #[test]
    fn counts_and_method_filters() {
        let faults = Faults::new();
        faults.inject(FaultSpec {
            path: "/s".into(),
            status: Some(500),
            count: Some(2.0),
            method: Some("get".into()),
            ..FaultSpec::default()
        });
        assert!(faults.take("/s", &Method::POST).is_none());
        assert!(faults.take("/other", &Method::GET).is_none());
        assert!(faults.take("/s", &Method::GET).is_some());
        assert!(faults.take("/s", &Method::GET).is_some());
        assert!(faults.take("/s", &Method::GET).is_none());
        assert!(faults.is_empty());
    }
}
