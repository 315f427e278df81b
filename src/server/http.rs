//! HTTP surface: routing, header parsing and validation, responses, CORS
//! and the browser security headers (PROTOCOL.md section 12.7).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{
    HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header,
};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use bytes::Bytes;
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::offset::{self, Requested};
use super::read;
use super::store::{CreateRequest, Error, Lookup, Store};
use super::write::AppendRequest;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub long_poll_timeout: Duration,
    /// How long an SSE connection lives before the server closes it.
    pub sse_max_duration: Duration,
    /// Cancelled on shutdown so live reads end promptly.
    pub shutdown: CancellationToken,
    /// The reserved `__ds` subscription API.
    pub subs: Arc<super::subs::Subs>,
}

pub const NEXT_OFFSET: &str = "stream-next-offset";
pub const UP_TO_DATE: &str = "stream-up-to-date";
pub const CLOSED: &str = "stream-closed";
pub const CURSOR: &str = "stream-cursor";

const ALLOW_HEADERS: &str = "content-type, authorization, if-none-match, \
    stream-seq, stream-ttl, stream-expires-at, stream-closed, producer-id, \
    producer-epoch, producer-seq, stream-forked-from, stream-fork-offset, \
    stream-fork-sub-offset, cache-control, last-event-id";
const EXPOSE_HEADERS: &str = "stream-next-offset, stream-cursor, \
    stream-up-to-date, stream-closed, stream-ttl, stream-expires-at, \
    stream-sse-data-encoding, producer-epoch, producer-seq, \
    producer-expected-seq, producer-received-seq, etag, location, \
    content-type";

/// The router for `state`. Callers may wrap it (fault injection).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/stream/{*path}", any(stream))
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(common_headers))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Response {
    let body = format!(
        "{{\"status\":\"ok\",\"streams\":{},\"memoryBytes\":{}}}",
        state.store.names().len(),
        state.store.memory_used()
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn not_found() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "Not found; streams live under /v1/stream/<name>\n",
    )
}

/// Answers CORS preflights and adds security and CORS headers everywhere.
async fn common_headers(req: Request, next: Next) -> Response {
    let mut res = if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("GET, POST, PUT, DELETE, HEAD, OPTIONS"),
        );
        h.insert(
            "access-control-allow-headers",
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert("access-control-max-age", HeaderValue::from_static("86400"));
        r
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    res
}

pub fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// Sets a header, skipping values that are not valid header text.
pub(super) fn set(
    h: &mut HeaderMap,
    name: &'static str,
    value: impl AsRef<str>,
) {
    if let Ok(v) = HeaderValue::from_str(value.as_ref()) {
        h.insert(HeaderName::from_static(name), v);
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::NotFound(msg) => text(StatusCode::NOT_FOUND, msg),
            Error::Gone => text(
                StatusCode::GONE,
                "Stream is gone (deleted; forks still use its data)\n",
            ),
            Error::BadRequest(msg) => text(StatusCode::BAD_REQUEST, msg),
            Error::Conflict(msg) => text(StatusCode::CONFLICT, msg),
            Error::Closed { tail } => {
                let mut r = text(StatusCode::CONFLICT, "Stream is closed\n");
                set(r.headers_mut(), CLOSED, "true");
                set(r.headers_mut(), NEXT_OFFSET, offset::format(tail));
                r
            }
            Error::StaleEpoch { epoch } => {
                let mut r =
                    text(StatusCode::FORBIDDEN, "Stale producer epoch\n");
                set(r.headers_mut(), "producer-epoch", epoch.to_string());
                r
            }
            Error::SeqGap { expected, received } => {
                let mut r =
                    text(StatusCode::CONFLICT, "Producer sequence gap\n");
                set(
                    r.headers_mut(),
                    "producer-expected-seq",
                    expected.to_string(),
                );
                set(
                    r.headers_mut(),
                    "producer-received-seq",
                    received.to_string(),
                );
                r
            }
            Error::TooLarge(msg) => text(StatusCode::PAYLOAD_TOO_LARGE, msg),
            Error::Storage(msg) => text(StatusCode::INSUFFICIENT_STORAGE, msg),
            Error::Io(msg) => text(StatusCode::INTERNAL_SERVER_ERROR, msg),
        }
    }
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn is_true(h: &HeaderMap, name: &str) -> bool {
    header_str(h, name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `0` or a decimal without leading zeros or signs.
fn strict_uint(text: &str) -> Option<u64> {
    let ok = text == "0"
        || (!text.is_empty()
            && !text.starts_with('0')
            && text.bytes().all(|b| b.is_ascii_digit()));
    if ok { text.parse().ok() } else { None }
}

/// A usable `Content-Type` (`type/subtype...`), if one was sent.
fn valid_content_type(h: &HeaderMap) -> Option<String> {
    let ct = header_str(h, "content-type")?.trim();
    super::stream::is_valid_type(ct).then(|| ct.to_owned())
}

/// Longest time spent reading and discarding the body of a request that
/// was refused before its body was read.
const DISCARD_TIME: Duration = Duration::from_secs(30);

/// Reads the request body, or refuses it (413 past `--max-body-mb`, 507
/// past the memory budget). A refused body is read and thrown away before
/// the answer goes out (up to the body limit and [`DISCARD_TIME`]): hyper
/// closes a connection whose request body was left unread, and a client
/// still sending it would then see a reset or `Broken pipe` instead of the
/// status.
async fn read_body(
    state: &AppState,
    h: &HeaderMap,
    body: Body,
) -> Result<Bytes, Error> {
    let max = state.store.limits.max_body_bytes;
    let too_large = || {
        Error::TooLarge(format!(
            "Request body exceeds the dsx dev server limit of {max} bytes; \
             split the write into smaller appends or restart `dsx serve` \
             with a larger --max-body-mb.\n"
        ))
    };
    let declared =
        header_str(h, "content-length").and_then(|v| v.parse::<u64>().ok());
    let mut data = body.into_data_stream();
    let refused = match declared {
        Some(n) if n > max => Some(too_large()),
        // Refuse early rather than buffer a body that cannot be stored.
        Some(n) => state.store.check_room(n).err(),
        None => None,
    };
    if let Some(refused) = refused {
        discard(&mut data, max).await;
        return Err(refused);
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = data.next().await {
        let chunk = chunk.map_err(|e| {
            Error::BadRequest(format!("Could not read the request body: {e}\n"))
        })?;
        if buf.len().saturating_add(chunk.len()) > limit {
            discard(&mut data, max).await;
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Reads and drops the rest of a body: until its end, `cap` bytes, a read
/// error or [`DISCARD_TIME`], whichever comes first.
async fn discard(data: &mut axum::body::BodyDataStream, cap: u64) {
    let mut left = cap;
    let _ = tokio::time::timeout(DISCARD_TIME, async {
        while let Some(Ok(chunk)) = data.next().await {
            left = left.saturating_sub(chunk.len() as u64);
            if left == 0 {
                break;
            }
        }
    })
    .await;
}

async fn stream(
    State(state): State<AppState>,
    method: Method,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(rest) = name
        .strip_prefix("__ds/")
        .or((name == "__ds").then_some(""))
    {
        let bytes = match read_body(&state, &headers, body).await {
            Ok(b) => b,
            Err(e) => return e.into_response(),
        };
        return state.subs.handle(&method, rest, &headers, &bytes).await;
    }
    let write = matches!(method, Method::PUT | Method::POST);
    let result = match method {
        Method::PUT => create(&state, &name, &headers, body).await,
        Method::POST => append(&state, &name, &headers, body).await,
        Method::GET => {
            read::get(&state, &name, query.as_deref(), &headers).await
        }
        Method::HEAD => head(&state, &name),
        Method::DELETE => state
            .store
            .delete(&name)
            .await
            .map(|()| StatusCode::NO_CONTENT.into_response()),
        _ => Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed\n")),
    };
    let res = result.unwrap_or_else(IntoResponse::into_response);
    if write && res.status().is_success() {
        state.subs.on_write(&name).await;
    }
    res
}

pub fn live(
    state: &AppState,
    name: &str,
) -> Result<Arc<super::stream::Stream>, Error> {
    match state.store.lookup(name) {
        Lookup::Live(s) => Ok(s),
        Lookup::Gone => Err(Error::Gone),
        Lookup::Missing => Err(Error::NotFound("Stream not found\n")),
    }
}

async fn create(
    state: &AppState,
    name: &str,
    h: &HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let bad = |m: &str| Error::BadRequest(format!("{m}\n"));
    let ttl_raw = header_str(h, "stream-ttl");
    let expires_raw = header_str(h, "stream-expires-at");
    if ttl_raw.is_some() && expires_raw.is_some() {
        return Err(bad(
            "Cannot specify both Stream-TTL and Stream-Expires-At",
        ));
    }
    let ttl = match ttl_raw {
        Some(v) => Some(
            strict_uint(v.trim())
                .ok_or_else(|| bad("Invalid Stream-TTL value"))?,
        ),
        None => None,
    };
    if let Some(v) = expires_raw
        && super::stream::parse_rfc3339_ms(v).is_none()
    {
        return Err(bad(
            "Invalid Stream-Expires-At timestamp (RFC 3339 expected)",
        ));
    }
    let forked_from = header_str(h, "stream-forked-from").map(str::to_owned);
    let fork_offset = header_str(h, "stream-fork-offset").map(str::to_owned);
    if let Some(o) = &fork_offset
        && offset::parse_position(o).is_none()
    {
        return Err(bad("Invalid Stream-Fork-Offset format"));
    }
    let fork_sub_offset =
        match h.get("stream-fork-sub-offset") {
            None => None,
            Some(v) => {
                if forked_from.is_none() {
                    return Err(bad(
                        "Stream-Fork-Sub-Offset requires Stream-Forked-From",
                    ));
                }
                let sub = v.to_str().ok().and_then(strict_uint);
                Some(sub.ok_or_else(|| {
                    bad("Invalid Stream-Fork-Sub-Offset format")
                })?)
            }
        };
    if fork_sub_offset.unwrap_or(0) > 0 && fork_offset.is_none() {
        return Err(bad("Stream-Fork-Sub-Offset requires Stream-Fork-Offset"));
    }
    let body = read_body(state, h, body).await?;
    let req = CreateRequest {
        content_type: valid_content_type(h),
        ttl,
        expires_at: expires_raw.map(str::to_owned),
        closed: is_true(h, "stream-closed"),
        forked_from,
        fork_offset,
        fork_sub_offset,
        body,
    };
    let (s, created) = state.store.create(name, req).await?;
    let mut r = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
    .into_response();
    let out = r.headers_mut();
    set(out, "content-type", &s.config.content_type);
    set(out, NEXT_OFFSET, offset::format(s.tail()));
    if s.is_closed() {
        set(out, CLOSED, "true");
    }
    if created {
        let host = header_str(h, "host").unwrap_or("127.0.0.1");
        let path: String = name
            .split('/')
            .map(|seg| {
                percent_encoding::utf8_percent_encode(seg, SEGMENT).to_string()
            })
            .collect::<Vec<_>>()
            .join("/");
        set(out, "location", format!("http://{host}/v1/stream/{path}"));
    }
    Ok(r)
}

const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

/// Largest producer epoch or sequence number (2^53 - 1, for JavaScript).
const MAX_SAFE: u64 = (1 << 53) - 1;

/// Parses `Producer-*` headers: all three or none.
fn producer(h: &HeaderMap) -> Result<Option<(String, u64, u64)>, Error> {
    let id = header_str(h, "producer-id");
    let epoch = header_str(h, "producer-epoch");
    let seq = header_str(h, "producer-seq");
    let bad = |m: &str| Error::BadRequest(format!("{m}\n"));
    match (id, epoch, seq) {
        (None, None, None) => Ok(None),
        (Some(id), Some(epoch), Some(seq)) => {
            if id.is_empty() {
                return Err(bad("Invalid Producer-Id: must not be empty"));
            }
            let num = |v: &str| {
                (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| v.parse::<u64>().ok())
                    .flatten()
                    .filter(|n| *n <= MAX_SAFE)
            };
            let epoch = num(epoch).ok_or_else(|| {
                bad("Invalid Producer-Epoch: must be a non-negative integer")
            })?;
            let seq = num(seq).ok_or_else(|| {
                bad("Invalid Producer-Seq: must be a non-negative integer")
            })?;
            Ok(Some((id.to_owned(), epoch, seq)))
        }
        _ => Err(bad(
            "Producer-Id, Producer-Epoch and Producer-Seq must be sent together",
        )),
    }
}

async fn append(
    state: &AppState,
    name: &str,
    h: &HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let producer = producer(h)?;
    let s = live(state, name)?;
    let body = read_body(state, h, body).await?;
    let req = AppendRequest {
        content_type: header_str(h, "content-type").map(str::to_owned),
        body,
        close: is_true(h, "stream-closed"),
        stream_seq: header_str(h, "stream-seq").map(str::to_owned),
        producer,
    };
    let out = state.store.append(&s, req).await?;
    let status =
        StatusCode::from_u16(out.status).unwrap_or(StatusCode::NO_CONTENT);
    let mut r = status.into_response();
    let hm = r.headers_mut();
    set(hm, NEXT_OFFSET, offset::format(out.tail));
    if out.closed {
        set(hm, CLOSED, "true");
    }
    if let Some((epoch, seq)) = out.producer {
        set(hm, "producer-epoch", epoch.to_string());
        set(hm, "producer-seq", seq.to_string());
    }
    Ok(r)
}

fn head(state: &AppState, name: &str) -> Result<Response, Error> {
    let s = live(state, name)?;
    let (tail, closed) = {
        let d = s.data.read().expect("stream lock");
        (d.tail, d.closed)
    };
    let mut r = StatusCode::OK.into_response();
    let h = r.headers_mut();
    set(h, "content-type", &s.config.content_type);
    set(h, NEXT_OFFSET, offset::format(tail));
    set(h, "cache-control", "no-store");
    if closed {
        set(h, CLOSED, "true");
    }
    if let Some(ttl) = s.config.ttl {
        set(h, "stream-ttl", ttl.to_string());
    }
    if let Some(at) = &s.config.expires_at {
        set(h, "stream-expires-at", at);
    }
    let suffix = if closed { ":c" } else { "" };
    set(
        h,
        "etag",
        format!(
            "\"{}:-1:{}{suffix}\"",
            s.config.incarnation,
            offset::format(tail)
        ),
    );
    Ok(r)
}

/// Parses the query of a read.
pub struct ReadQuery {
    pub offset: Option<Requested>,
    pub offset_raw: Option<String>,
    pub live: Option<String>,
    pub cursor: Option<String>,
}

pub fn parse_query(query: Option<&str>) -> Result<ReadQuery, Error> {
    let mut offsets = Vec::new();
    let mut q = ReadQuery {
        offset: None,
        offset_raw: None,
        live: None,
        cursor: None,
    };
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "offset" => offsets.push(v.into_owned()),
            "live" => q.live = Some(v.into_owned()),
            "cursor" => q.cursor = Some(v.into_owned()),
            _ => {}
        }
    }
    let bad = |m: &str| Error::BadRequest(format!("{m}\n"));
    if offsets.len() > 1 {
        return Err(bad("Multiple offset parameters not allowed"));
    }
    if let Some(raw) = offsets.pop() {
        let parsed =
            offset::parse(&raw).ok_or_else(|| bad("Invalid offset format"))?;
        q.offset = Some(parsed);
        q.offset_raw = Some(raw);
    }
    Ok(q)
}
