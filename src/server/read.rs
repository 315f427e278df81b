//! Reads (`GET`): catch-up in bounded chunks, long-poll with cursors, and
//! SSE (text, JSON arrays or base64; a control event after every data
//! event; keep-alives; closed after `sse_max_duration`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

use super::http::{
    AppState, CLOSED, CURSOR, NEXT_OFFSET, ReadQuery, UP_TO_DATE, live,
    parse_query, set,
};
use super::offset::{self, Requested};
use super::store::{Error, now_ms};
use super::stream::{Chunk, Kind, Stream};

/// Start of cursor intervals: 2024-10-09T00:00:00Z.
const CURSOR_EPOCH_MS: u64 = 1_728_432_000_000;
const CURSOR_INTERVAL_MS: u64 = 20_000;

/// The cursor for a live response (PROTOCOL.md section 10.1): the current
/// interval, or, when the client already holds that one or a later one,
/// the client's plus a random 1-3600 s of jitter so cursors never repeat.
pub fn response_cursor(client: Option<&str>) -> String {
    let current = now_ms().saturating_sub(CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS;
    match client.and_then(|c| c.trim().parse::<u64>().ok()) {
        Some(c) if c >= current => {
            let jitter_s = rand::random_range(1..=3600u64);
            let step = jitter_s.div_ceil(CURSOR_INTERVAL_MS / 1000).max(1);
            c.saturating_add(step).to_string()
        }
        _ => current.to_string(),
    }
}

/// Resolves the requested position; validates JSON boundaries.
fn start_position(s: &Stream, req: Option<Requested>) -> Result<u64, Error> {
    let tail = s.tail();
    match req.unwrap_or(Requested::Start) {
        Requested::Start => Ok(0),
        Requested::Now => Ok(tail),
        Requested::At(p) if p >= tail => Ok(tail),
        Requested::At(p) => {
            if s.is_boundary(p) {
                Ok(p)
            } else {
                Err(Error::BadRequest(
                    "Invalid offset: not a message boundary\n".into(),
                ))
            }
        }
    }
}

pub async fn get(
    state: &AppState,
    name: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let q = parse_query(query)?;
    let s = live(state, name)?;
    let mode = q.live.as_deref();
    let is_live = matches!(mode, Some("long-poll" | "sse"));
    if is_live && q.offset.is_none() {
        return Err(Error::BadRequest(
            "Live reads require an offset parameter (use offset=-1 for the start)\n".into(),
        ));
    }
    s.touch(now_ms());
    let from = start_position(&s, q.offset)?;
    match mode {
        Some("sse") => Ok(sse(state, s, from, q.cursor)),
        Some("long-poll") => long_poll(state, &s, from, &q, headers).await,
        _ if q.offset == Some(Requested::Now) => Ok(now_response(&s)),
        _ => Ok(catch_up(state, &s, from, &q, headers, false)),
    }
}

/// `offset=now` without a live mode: empty, up to date, not cacheable.
fn now_response(s: &Stream) -> Response {
    let (tail, closed) = {
        let d = s.data.read().expect("stream lock");
        (d.tail, d.closed)
    };
    let body = if s.kind == Kind::Json { "[]" } else { "" };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    set(h, "content-type", &s.config.content_type);
    set(h, NEXT_OFFSET, offset::format(tail));
    set(h, UP_TO_DATE, "true");
    set(h, "cache-control", "no-store");
    if closed {
        set(h, CLOSED, "true");
    }
    r
}

fn catch_up(
    state: &AppState,
    s: &Stream,
    from: u64,
    q: &ReadQuery,
    headers: &HeaderMap,
    with_cursor: bool,
) -> Response {
    let chunk = s.read(from, state.store.limits.max_chunk_bytes);
    data_response(s, &chunk, q, headers, with_cursor)
}

fn data_response(
    s: &Stream,
    chunk: &Chunk,
    q: &ReadQuery,
    headers: &HeaderMap,
    with_cursor: bool,
) -> Response {
    let up_to_date = chunk.end >= chunk.tail;
    let closed = chunk.closed && up_to_date;
    let start = q.offset_raw.clone().unwrap_or_else(|| "-1".into());
    let etag = format!(
        "\"{}:{start}:{}{}\"",
        s.config.incarnation,
        offset::format(chunk.end),
        if closed { ":c" } else { "" }
    );
    let cache = if chunk.is_empty() {
        "no-store"
    } else {
        "public, max-age=60, stale-while-revalidate=300"
    };
    let matches = headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| t.trim() == etag || t.trim() == "*")
        });
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, Body::from(chunk.body(s.kind))).into_response()
    };
    let h = r.headers_mut();
    set(h, "etag", &etag);
    set(h, "cache-control", cache);
    if matches {
        return r;
    }
    set(h, "content-type", &s.config.content_type);
    set(h, NEXT_OFFSET, offset::format(chunk.end));
    if up_to_date {
        set(h, UP_TO_DATE, "true");
    }
    if closed {
        set(h, CLOSED, "true");
    }
    if with_cursor && !closed {
        set(h, CURSOR, response_cursor(q.cursor.as_deref()));
    }
    r
}

async fn long_poll(
    state: &AppState,
    s: &Arc<Stream>,
    from: u64,
    q: &ReadQuery,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let deadline = tokio::time::Instant::now() + state.long_poll_timeout;
    loop {
        let notified = s.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // Live readers keep a sliding TTL alive.
        s.touch(now_ms());
        let (tail, closed) = {
            let d = s.data.read().expect("stream lock");
            (d.tail, d.closed)
        };
        if s.gone.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::NotFound("Stream not found\n"));
        }
        if tail > from {
            return Ok(catch_up(state, s, from, q, headers, true));
        }
        let timed_out = if closed {
            false
        } else {
            tokio::select! {
                () = &mut notified => continue,
                () = tokio::time::sleep_until(deadline) => true,
                () = state.shutdown.cancelled() => true,
            }
        };
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        set(h, NEXT_OFFSET, offset::format(tail));
        set(h, UP_TO_DATE, "true");
        set(h, "cache-control", "no-store");
        if closed {
            set(h, CLOSED, "true");
        } else {
            debug_assert!(timed_out);
            set(h, CURSOR, response_cursor(q.cursor.as_deref()));
        }
        return Ok(r);
    }
}

/// Appends `payload` as `data:` lines (split on CR, LF and CRLF).
fn data_lines(out: &mut BytesMut, payload: &[u8]) {
    let mut i = 0;
    let mut line = 0;
    loop {
        if i == payload.len() || payload[i] == b'\n' || payload[i] == b'\r' {
            out.put_slice(b"data:");
            out.put_slice(&payload[line..i]);
            out.put_u8(b'\n');
            if i == payload.len() {
                break;
            }
            if payload[i] == b'\r' && payload.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            line = i + 1;
        }
        i += 1;
    }
}

fn control(
    out: &mut BytesMut,
    pos: u64,
    cursor: Option<&str>,
    up_to_date: bool,
    closed: bool,
) {
    let mut json =
        format!("{{\"streamNextOffset\":\"{}\"", offset::format(pos));
    if closed {
        json.push_str(",\"streamClosed\":true,\"upToDate\":true");
    } else {
        if let Some(c) = cursor {
            let _ = write!(json, ",\"streamCursor\":\"{c}\"");
        }
        if up_to_date {
            json.push_str(",\"upToDate\":true");
        }
    }
    json.push('}');
    out.put_slice(b"event: control\n");
    data_lines(out, json.as_bytes());
    out.put_u8(b'\n');
}

fn sse(
    state: &AppState,
    s: Arc<Stream>,
    from: u64,
    cursor: Option<String>,
) -> Response {
    let max_chunk = state.store.limits.max_chunk_bytes;
    let keep_alive = state.long_poll_timeout;
    let lifetime = Instant::now() + state.sse_max_duration;
    let shutdown = state.shutdown.clone();
    let base64 = s.kind == Kind::Binary;
    let kind = s.kind;
    let events = async_stream::stream! {
        let mut pos = from;
        let mut sent_control = false;
        loop {
            let notified = s.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            s.touch(now_ms());
            let chunk = s.read(pos, max_chunk);
            let mut out = BytesMut::new();
            if !chunk.is_empty() {
                out.put_slice(b"event: data\n");
                let body = chunk.body(kind);
                if base64 {
                    let enc = base64::engine::general_purpose::STANDARD.encode(&body);
                    data_lines(&mut out, enc.as_bytes());
                } else {
                    data_lines(&mut out, &body);
                }
                out.put_u8(b'\n');
                pos = chunk.end;
                let up = chunk.end >= chunk.tail;
                let closed = up && chunk.closed;
                let c = response_cursor(cursor.as_deref());
                control(&mut out, pos, Some(&c), up, closed);
                sent_control = true;
                yield Ok::<Bytes, std::convert::Infallible>(out.freeze());
                if closed {
                    break;
                }
                continue;
            }
            if chunk.closed {
                control(&mut out, pos, None, true, true);
                yield Ok(out.freeze());
                break;
            }
            if !sent_control {
                let c = response_cursor(cursor.as_deref());
                control(&mut out, pos, Some(&c), true, false);
                sent_control = true;
                yield Ok(out.freeze());
            }
            if s.gone.load(std::sync::atomic::Ordering::Relaxed) || Instant::now() >= lifetime {
                break;
            }
            let wait = keep_alive.min(lifetime.saturating_duration_since(Instant::now()));
            let woke = tokio::select! {
                () = &mut notified => true,
                () = tokio::time::sleep(wait) => false,
                () = shutdown.cancelled() => break,
            };
            if !woke {
                if Instant::now() >= lifetime {
                    break;
                }
                let mut ka = BytesMut::new();
                let c = response_cursor(cursor.as_deref());
                control(&mut ka, pos, Some(&c), true, false);
                yield Ok(ka.freeze());
            }
        }
    };
    let mut r = Response::new(Body::from_stream(events));
    let h = r.headers_mut();
    set(h, "content-type", "text/event-stream");
    set(h, "cache-control", "no-cache");
    if base64 {
        set(h, "stream-sse-data-encoding", "base64");
    }
    r
}
