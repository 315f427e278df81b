//! The read session driver: issues catch-up, long-poll and SSE requests in
//! turn and turns their bodies into raw, positioned pieces.
//!
//! Bodies are never buffered whole. An HTTP body is handed out as pieces of
//! what has arrived (small network chunks that are already there are
//! coalesced up to `MAX_PIECE`, but the driver never waits to fill a piece).
//! The last piece of a body is held back until the body ends, so that it
//! alone carries the response's resumable offset (`partial == false`). SSE
//! `data` events are streamed the same way and positioned by the control
//! event that follows them.

use std::collections::VecDeque;
use std::time::Instant;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use ::http::{Method, StatusCode};
use serde::Deserialize;

use super::error::{header_is_true, header_str};
use super::http::{self, Op, Phase, Reply, Request, names};
use super::read::ReadMeta;
use super::sse::{SseOutput, SseParser};
use super::{DurableStream, Error, Headers, LiveMode, Offset, ReadOptions, Result};

/// Largest piece assembled from chunks that are already available.
pub(crate) const MAX_PIECE: usize = 256 * 1024;

/// Raw bytes of a read, positioned.
#[derive(Clone, Debug)]
pub(crate) struct Piece {
    pub data: Bytes,
    pub meta: ReadMeta,
    /// This piece ends an encoded unit: a response body or an SSE `data`
    /// event (a JSON array; UTF-8 must be complete here).
    pub unit_end: bool,
    /// Another piece is ready right behind this one (decoders may merge).
    pub more_ready: bool,
}

/// The raw pieces of a read session.
pub(crate) fn pieces(
    stream: DurableStream,
    options: ReadOptions,
) -> impl Stream<Item = Result<Piece>> + Send + 'static {
    async_stream::try_stream! {
        let mut session = Session::new(stream, options);
        loop {
            let more = session.step().await?;
            while let Some(piece) = session.pop() {
                yield piece;
            }
            if !more {
                break;
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    CatchUp,
    LongPoll,
    Sse,
}

struct Session {
    stream: DurableStream,
    op: Option<Op>,
    headers: Headers,
    live: LiveMode,
    offset: Offset,
    cursor: Option<String>,
    /// Auto mode has caught up and tails live now.
    live_started: bool,
    finished: bool,
    active: Option<Active>,
    out: VecDeque<Piece>,
    /// SSE connections in a row that ended without any event.
    sse_failures: u32,
    /// (offset, up to date, closed) of the last item handed out.
    last_state: Option<(Offset, bool, bool)>,
}

enum Active {
    Http(Box<HttpBody>),
    Sse(Box<SseConn>),
}

/// A streaming catch-up or long-poll response body.
struct HttpBody {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    url: url::Url,
    mode: Mode,
    /// The `cursor` the request carried (for a resume).
    cursor_sent: Option<String>,
    /// The response's metadata, for its last piece.
    meta: ReadMeta,
    held: Option<Bytes>,
    /// Body bytes handed out so far.
    emitted: u64,
    /// Bytes still to skip at the start of a resumed response.
    skip: u64,
    total: u64,
    resumes: u32,
}

/// A live SSE connection.
struct SseConn {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    url: url::Url,
    connected: Instant,
    parser: SseParser,
    outputs: Vec<SseOutput>,
    base64: Option<Base64Stream>,
    /// Payload of the current data event gathered during this step.
    pending: Coalescer,
    /// Payload handed out last, waiting for the next event.
    held: Option<Held>,
    /// Partial pieces were handed out since the last control event.
    emitted_partial: bool,
    got_event: bool,
}

struct Held {
    data: Bytes,
    unit_end: bool,
}

/// Gathers small chunks into one piece, copying only when there are two.
#[derive(Default)]
pub(crate) struct Coalescer {
    first: Option<Bytes>,
    buf: BytesMut,
}

impl Coalescer {
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        if self.first.is_none() && self.buf.is_empty() {
            self.first = Some(chunk);
            return;
        }
        if let Some(first) = self.first.take() {
            self.buf.reserve(first.len() + chunk.len());
            self.buf.extend_from_slice(&first);
        }
        self.buf.extend_from_slice(&chunk);
    }

    pub fn len(&self) -> usize {
        self.first.as_ref().map_or(0, Bytes::len) + self.buf.len()
    }

    pub fn take(&mut self) -> Bytes {
        match self.first.take() {
            Some(first) => first,
            None => self.buf.split().freeze(),
        }
    }
}

/// The JSON of an SSE `control` event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Control {
    stream_next_offset: String,
    #[serde(default)]
    stream_cursor: Option<String>,
    #[serde(default)]
    up_to_date: Option<bool>,
    #[serde(default)]
    stream_closed: Option<bool>,
}

/// Whether a content type is JSON (parameters ignored, any case).
pub(crate) fn is_json(content_type: &str) -> bool {
    essence(content_type).eq_ignore_ascii_case("application/json")
}

/// Whether a content type is `text/*`.
pub(crate) fn is_text(content_type: &str) -> bool {
    essence(content_type)
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("text/"))
}

fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

impl Session {
    fn new(stream: DurableStream, options: ReadOptions) -> Self {
        Session {
            stream,
            op: None,
            headers: options.headers,
            live: options.live,
            offset: options.offset,
            cursor: options.cursor,
            live_started: false,
            finished: false,
            active: None,
            out: VecDeque::new(),
            sse_failures: 0,
            last_state: None,
        }
    }

    fn pop(&mut self) -> Option<Piece> {
        let mut piece = self.out.pop_front()?;
        piece.more_ready = !self.out.is_empty();
        Some(piece)
    }

    /// Makes progress; `false` once the session has ended.
    async fn step(&mut self) -> Result<bool> {
        if self.finished {
            return Ok(false);
        }
        if self.op.is_none() {
            self.op = Some(Op::begin(&self.stream.client).await?);
        }
        match self.active.take() {
            None => self.open().await?,
            Some(Active::Http(body)) => self.read_http(body).await?,
            Some(Active::Sse(conn)) => self.read_sse(conn).await?,
        }
        Ok(!self.finished)
    }

    fn op(&self) -> &Op {
        self.op.as_ref().expect("op begun in step")
    }

    fn policy_attempts(&self) -> u32 {
        self.stream.client.inner.retry.max_attempts
    }

    fn mode(&self) -> Mode {
        match self.live {
            LiveMode::Off => Mode::CatchUp,
            LiveMode::LongPoll => Mode::LongPoll,
            LiveMode::Sse => Mode::Sse,
            LiveMode::Auto if !self.live_started => Mode::CatchUp,
            LiveMode::Auto => {
                let sse = self
                    .stream
                    .content_type()
                    .is_some_and(|ct| is_json(&ct) || is_text(&ct));
                if sse { Mode::Sse } else { Mode::LongPoll }
            }
        }
    }

    /// The GET for `mode` at `offset`.
    fn request(
        &self,
        mode: Mode,
        offset: &Offset,
        cursor: Option<&str>,
    ) -> Result<Request> {
        let (phase, live) = match mode {
            Mode::CatchUp => (Phase::CatchUp, None),
            Mode::LongPoll => (Phase::LongPoll, Some("long-poll")),
            Mode::Sse => (Phase::Sse, Some("sse")),
        };
        let mut req = Request::new(Method::GET, &self.stream.url, phase);
        req.query.push(("offset", offset.as_str().to_owned()));
        if let Some(live) = live {
            req.query.push(("live", live.to_owned()));
            if let Some(cursor) = cursor {
                req.query.push(("cursor", cursor.to_owned()));
            }
        }
        req.extra_headers(&self.headers)?;
        Ok(req)
    }

    async fn open(&mut self) -> Result<()> {
        let mode = self.mode();
        let cursor = if mode == Mode::CatchUp {
            None
        } else {
            self.cursor.clone()
        };
        let req = self.request(mode, &self.offset, cursor.as_deref())?;
        let reply = http::send(self.op(), &req).await?;
        match mode {
            Mode::Sse => self.start_sse(reply),
            _ => self.start_http(reply, mode, cursor, 0, 0),
        }
    }

    // ---- catch-up and long-poll ------------------------------------------

    fn start_http(
        &mut self,
        mut reply: Reply,
        mode: Mode,
        cursor_sent: Option<String>,
        skip: u64,
        resumes: u32,
    ) -> Result<()> {
        let headers = &reply.headers;
        let url = reply.url.clone();
        let next = header_str(headers, names::STREAM_NEXT_OFFSET)
            .ok_or_else(|| Error::decode(&url, "response has no Stream-Next-Offset"))?;
        let closed = header_is_true(headers, names::STREAM_CLOSED);
        let no_content = reply.status == StatusCode::NO_CONTENT;
        let meta = ReadMeta {
            start_offset: self.offset.clone(),
            offset: Offset::new(next),
            up_to_date: no_content
                || closed
                || header_is_true(headers, names::STREAM_UP_TO_DATE),
            cursor: header_str(headers, names::STREAM_CURSOR)
                .map(str::to_owned)
                .or_else(|| self.cursor.clone()),
            stream_closed: closed,
            partial: false,
            etag: header_str(headers, names::ETAG).map(str::to_owned),
            cache_control: header_str(headers, names::CACHE_CONTROL)
                .map(str::to_owned),
            status: reply.status.as_u16(),
        };
        if !no_content {
            if let Some(ct) = header_str(headers, names::CONTENT_TYPE) {
                self.stream.learn_content_type(ct);
            }
        }
        let response = reply.response.take();
        if no_content || response.is_none() {
            if skip > 0 {
                return Err(Error::decode(&url, "resumed response has no body"));
            }
            self.end_response(Bytes::new(), meta, mode, 0);
            return Ok(());
        }
        let body = HttpBody {
            body: response.expect("checked").bytes_stream().boxed(),
            url,
            mode,
            cursor_sent,
            meta,
            held: None,
            emitted: skip,
            skip,
            total: 0,
            resumes,
        };
        self.active = Some(Active::Http(Box::new(body)));
        Ok(())
    }

    async fn read_http(&mut self, mut body: Box<HttpBody>) -> Result<()> {
        let idle = self.stream.client.inner.timeout;
        let next = match idle {
            Some(limit) => tokio::time::timeout(limit, body.body.next())
                .await
                .map_err(|_| Error::Timeout {
                    url: body.url.to_string(),
                })?,
            None => body.body.next().await,
        };
        let first = match next {
            None => return self.finish_http(body),
            Some(Err(e)) => return self.resume_http(body, e).await,
            Some(Ok(chunk)) => chunk,
        };
        let mut piece = Coalescer::default();
        piece.push(skip_prefix(&mut body.skip, first));
        let mut ended = false;
        let mut failed = None;
        while piece.len() < MAX_PIECE {
            match body.body.next().now_or_never() {
                Some(Some(Ok(chunk))) => piece.push(skip_prefix(&mut body.skip, chunk)),
                Some(Some(Err(e))) => {
                    failed = Some(e);
                    break;
                }
                Some(None) => {
                    ended = true;
                    break;
                }
                None => break,
            }
        }
        if piece.len() > 0 {
            if let Some(held) = body.held.take() {
                body.emitted += held.len() as u64;
                self.push_partial(held, &body.meta, false);
            }
            let data = piece.take();
            body.total += data.len() as u64;
            body.held = Some(data);
        }
        if let Some(e) = failed {
            return self.resume_http(body, e).await;
        }
        if ended {
            return self.finish_http(body);
        }
        self.active = Some(Active::Http(body));
        Ok(())
    }

    fn finish_http(&mut self, mut body: Box<HttpBody>) -> Result<()> {
        if body.skip > 0 {
            return Err(Error::decode(
                &body.url,
                "resumed response is shorter than the data already delivered",
            ));
        }
        let data = body.held.take().unwrap_or_default();
        let total = body.total;
        self.end_response(data, body.meta.clone(), body.mode, total);
        Ok(())
    }

    /// The body failed mid-way: request the same data again and skip what
    /// was already handed out (data at an offset never changes), within the
    /// retry budget.
    async fn resume_http(
        &mut self,
        body: Box<HttpBody>,
        err: reqwest::Error,
    ) -> Result<()> {
        let attempt = body.resumes + 1;
        if attempt >= self.policy_attempts() {
            return Err(Error::Network {
                url: body.url.to_string(),
                source: Box::new(err),
            });
        }
        let policy = self.stream.client.inner.retry.clone();
        tokio::time::sleep(policy.delay(attempt, None)).await;
        // The held piece was not handed out: it is read again.
        let emitted = body.emitted;
        let start = body.meta.start_offset.clone();
        let req = self.request(body.mode, &start, body.cursor_sent.as_deref())?;
        let reply = http::send(self.op(), &req).await?;
        self.start_http(reply, body.mode, body.cursor_sent.clone(), emitted, attempt)
    }

    /// A response ended: hand out its last piece and move the position.
    fn end_response(&mut self, data: Bytes, meta: ReadMeta, mode: Mode, total: u64) {
        let requested = self.offset.clone();
        self.apply_state(&meta);
        let stalled = mode == Mode::CatchUp
            && total == 0
            && !meta.up_to_date
            && meta.offset == requested;
        self.out.push_back(Piece {
            data,
            meta,
            unit_end: true,
            more_ready: false,
        });
        let up_to_date = self.last_state.as_ref().is_some_and(|s| s.1) || stalled;
        if self.finished {
            return;
        }
        match self.live {
            LiveMode::Off if up_to_date => self.finished = true,
            LiveMode::Auto if up_to_date => self.live_started = true,
            _ => {}
        }
    }

    /// Moves the session to `meta`'s position and state.
    fn apply_state(&mut self, meta: &ReadMeta) {
        self.offset = meta.offset.clone();
        if meta.cursor.is_some() {
            self.cursor.clone_from(&meta.cursor);
        }
        self.last_state =
            Some((meta.offset.clone(), meta.up_to_date, meta.stream_closed));
        if meta.stream_closed {
            self.finished = true;
        }
    }

    fn push_partial(&mut self, data: Bytes, meta: &ReadMeta, unit_end: bool) {
        if data.is_empty() && !unit_end {
            return;
        }
        let mut meta = meta.clone();
        meta.partial = true;
        meta.up_to_date = false;
        meta.stream_closed = false;
        self.out.push_back(Piece {
            data,
            meta,
            unit_end,
            more_ready: false,
        });
    }

    // ---- SSE --------------------------------------------------------------

    fn start_sse(&mut self, mut reply: Reply) -> Result<()> {
        let url = reply.url.clone();
        let content_type = header_str(&reply.headers, names::CONTENT_TYPE).unwrap_or("");
        if !essence(content_type).eq_ignore_ascii_case("text/event-stream") {
            return Err(Error::decode(
                &url,
                format!("expected text/event-stream, got {content_type:?}"),
            ));
        }
        let base64 = header_str(&reply.headers, names::SSE_DATA_ENCODING)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"))
            .then(Base64Stream::default);
        let response = reply
            .response
            .take()
            .ok_or_else(|| Error::decode(&url, "SSE response without a body"))?;
        self.active = Some(Active::Sse(Box::new(SseConn {
            body: response.bytes_stream().boxed(),
            url,
            connected: Instant::now(),
            parser: SseParser::new(),
            outputs: Vec::new(),
            base64,
            pending: Coalescer::default(),
            held: None,
            emitted_partial: false,
            got_event: false,
        })));
        Ok(())
    }

    async fn read_sse(&mut self, mut conn: Box<SseConn>) -> Result<()> {
        let first = match conn.body.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => return self.sse_ended(conn, Some(e)).await,
            None => return self.sse_ended(conn, None).await,
        };
        let mut fed = first.len();
        self.feed_sse(&mut conn, &first)?;
        let mut ended = None;
        while fed < MAX_PIECE && !self.finished {
            match conn.body.next().now_or_never() {
                Some(Some(Ok(chunk))) => {
                    fed += chunk.len();
                    self.feed_sse(&mut conn, &chunk)?;
                }
                Some(Some(Err(e))) => {
                    ended = Some(Some(e));
                    break;
                }
                Some(None) => {
                    ended = Some(None);
                    break;
                }
                None => break,
            }
        }
        if self.finished {
            return Ok(()); // dropping the connection closes it
        }
        let rest = conn.pending.take();
        self.hold_sse(&mut conn, rest, false);
        match ended {
            Some(err) => self.sse_ended(conn, err).await,
            None => {
                self.active = Some(Active::Sse(conn));
                Ok(())
            }
        }
    }

    fn feed_sse(&mut self, conn: &mut SseConn, chunk: &[u8]) -> Result<()> {
        let url = conn.url.clone();
        let mut outputs = std::mem::take(&mut conn.outputs);
        conn.parser.feed(chunk, &mut outputs).map_err(|e| {
            Error::decode(&url, format!("SSE event larger than {} bytes", e.0))
        })?;
        for output in outputs.drain(..) {
            if self.finished {
                break;
            }
            match output {
                SseOutput::Data(bytes) => {
                    let bytes = match &mut conn.base64 {
                        Some(b64) => b64.decode(&bytes).map_err(|m| Error::decode(&url, m))?,
                        None => bytes,
                    };
                    conn.pending.push(bytes);
                }
                SseOutput::Event(event) => {
                    conn.got_event = true;
                    match event.event.as_str() {
                        "data" => {
                            if !event.streamed {
                                let bytes = match &mut conn.base64 {
                                    Some(b64) => b64
                                        .decode(&event.data)
                                        .map_err(|m| Error::decode(&url, m))?,
                                    None => event.data,
                                };
                                conn.pending.push(bytes);
                            }
                            if let Some(b64) = &mut conn.base64 {
                                b64.finish().map_err(|m| Error::decode(&url, m))?;
                            }
                            let data = conn.pending.take();
                            self.hold_sse(conn, data, true);
                        }
                        "control" => {
                            let control: Control = serde_json::from_slice(&event.data)
                                .map_err(|e| {
                                    Error::decode(&url, format!("invalid SSE control event: {e}"))
                                })?;
                            self.control(conn, control);
                        }
                        _ => {} // unknown events are ignored
                    }
                }
            }
        }
        conn.outputs = outputs;
        Ok(())
    }

    /// Holds `data` (of the current data event) back until the next event;
    /// what was held before is handed out as partial.
    fn hold_sse(&mut self, conn: &mut SseConn, data: Bytes, unit_end: bool) {
        if data.is_empty() {
            if unit_end {
                match &mut conn.held {
                    Some(held) => held.unit_end = true,
                    None => conn.held = Some(Held { data, unit_end }),
                }
            }
            return;
        }
        if let Some(held) = conn.held.take() {
            let meta = self.position_meta();
            if !held.data.is_empty() {
                conn.emitted_partial = true;
            }
            self.push_partial(held.data, &meta, held.unit_end);
        }
        conn.held = Some(Held { data, unit_end });
    }

    /// Metadata of the current position (for partial SSE pieces).
    fn position_meta(&self) -> ReadMeta {
        ReadMeta {
            start_offset: self.offset.clone(),
            offset: self.offset.clone(),
            up_to_date: false,
            cursor: self.cursor.clone(),
            stream_closed: false,
            partial: true,
            etag: None,
            cache_control: None,
            status: 200,
        }
    }

    fn control(&mut self, conn: &mut SseConn, control: Control) {
        let closed = control.stream_closed.unwrap_or(false);
        let meta = ReadMeta {
            start_offset: self.offset.clone(),
            offset: Offset::new(control.stream_next_offset),
            up_to_date: closed || control.up_to_date.unwrap_or(false),
            cursor: control.stream_cursor.or_else(|| self.cursor.clone()),
            stream_closed: closed,
            partial: false,
            etag: None,
            cache_control: None,
            status: 200,
        };
        let mut fields = vec![(
            "Stream-Next-Offset".to_owned(),
            meta.offset.as_str().to_owned(),
        )];
        if let Some(cursor) = &meta.cursor {
            fields.push(("Stream-Cursor".to_owned(), cursor.clone()));
        }
        if meta.up_to_date {
            fields.push(("Stream-Up-To-Date".to_owned(), "true".to_owned()));
        }
        if closed {
            fields.push(("Stream-Closed".to_owned(), "true".to_owned()));
        }
        http::observe_control(self.op(), &conn.url, conn.connected.elapsed(), fields);
        let state = (meta.offset.clone(), meta.up_to_date, meta.stream_closed);
        let piece = match conn.held.take() {
            Some(held) => Some(Piece {
                data: held.data,
                meta: meta.clone(),
                unit_end: held.unit_end,
                more_ready: false,
            }),
            // A control on its own: hand out its state if it changed.
            None if self.last_state.as_ref() != Some(&state) => Some(Piece {
                data: Bytes::new(),
                meta: meta.clone(),
                unit_end: false,
                more_ready: false,
            }),
            None => None,
        };
        self.apply_state(&meta);
        conn.emitted_partial = false;
        if let Some(piece) = piece {
            self.out.push_back(piece);
        }
    }

    /// The SSE connection ended without `streamClosed`: reconnect from the
    /// last control event's offset, with backoff if it keeps failing.
    async fn sse_ended(
        &mut self,
        conn: Box<SseConn>,
        err: Option<reqwest::Error>,
    ) -> Result<()> {
        if conn.emitted_partial {
            // Part of a data event was handed out but never positioned; a
            // reconnect would send it again.
            let message = "SSE connection ended inside a data event after part \
                           of it was delivered; resume from the last offset";
            return Err(match err {
                Some(source) => Error::Network {
                    url: conn.url.to_string(),
                    source: Box::new(source),
                },
                None => Error::decode(&conn.url, message),
            });
        }
        if conn.got_event && err.is_none() {
            self.sse_failures = 0;
            return Ok(());
        }
        self.sse_failures += 1;
        if self.sse_failures >= self.policy_attempts() {
            return Err(match err {
                Some(source) => Error::Network {
                    url: conn.url.to_string(),
                    source: Box::new(source),
                },
                None => Error::Network {
                    url: conn.url.to_string(),
                    source: "SSE connection kept closing without events".into(),
                },
            });
        }
        let delay = self
            .stream
            .client
            .inner
            .retry
            .delay(self.sse_failures, None);
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// Drops the first `*skip` bytes of a resumed body.
fn skip_prefix(skip: &mut u64, chunk: Bytes) -> Bytes {
    if *skip == 0 {
        return chunk;
    }
    let len = chunk.len() as u64;
    if len <= *skip {
        *skip -= len;
        Bytes::new()
    } else {
        let from = usize::try_from(*skip).expect("smaller than chunk");
        *skip = 0;
        chunk.slice(from..)
    }
}

/// Base64 decoding of a data event that arrives in pieces: CR and LF are
/// dropped, whole quartets are decoded, and the rest waits for more.
#[derive(Default)]
struct Base64Stream {
    carry: Vec<u8>,
}

impl Base64Stream {
    fn decode(&mut self, text: &[u8]) -> Result<Bytes, String> {
        let mut input = std::mem::take(&mut self.carry);
        input.reserve(text.len());
        input.extend(text.iter().copied().filter(|&b| b != b'\r' && b != b'\n'));
        let whole = input.len() / 4 * 4;
        let mut out = vec![0; whole / 4 * 3];
        let n = base64::engine::general_purpose::STANDARD
            .decode_slice(&input[..whole], &mut out)
            .map_err(|e| format!("invalid base64 in SSE data event: {e}"))?;
        out.truncate(n);
        self.carry = input.split_off(whole);
        Ok(Bytes::from(out))
    }

    fn finish(&mut self) -> Result<(), String> {
        if self.carry.is_empty() {
            Ok(())
        } else {
            self.carry.clear();
            Err("base64 SSE data event length is not a multiple of 4".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("application/jsonl"));
        assert!(is_text("text/plain; charset=utf-8"));
        assert!(is_text("TEXT/csv"));
        assert!(!is_text("application/octet-stream"));
        assert!(!is_text("tex"));
    }

    #[test]
    fn base64_in_pieces() {
        let text = b"AQID\nBAUG\r\nBwgJCg==";
        for cut in 0..=text.len() {
            let mut b = Base64Stream::default();
            let mut out = b.decode(&text[..cut]).unwrap().to_vec();
            out.extend_from_slice(&b.decode(&text[cut..]).unwrap());
            b.finish().unwrap();
            assert_eq!(out, (1..=10).collect::<Vec<u8>>(), "cut at {cut}");
        }
        let mut b = Base64Stream::default();
        b.decode(b"QUJD\nR").unwrap();
        assert!(b.finish().is_err());
        let mut b = Base64Stream::default();
        assert!(b.decode(b"!!!!").is_err());
        let mut b = Base64Stream::default();
        assert!(b.decode(b"").unwrap().is_empty());
        b.finish().unwrap();
    }

    #[test]
    fn skipping_a_prefix() {
        let mut skip = 5;
        assert_eq!(skip_prefix(&mut skip, Bytes::from_static(b"abc")), "");
        assert_eq!(skip, 2);
        assert_eq!(skip_prefix(&mut skip, Bytes::from_static(b"defgh")), "fgh");
        assert_eq!(skip, 0);
        assert_eq!(skip_prefix(&mut skip, Bytes::from_static(b"ij")), "ij");
    }

    #[test]
    fn coalescer_copies_only_when_needed() {
        let mut c = Coalescer::default();
        let one = Bytes::from_static(b"one");
        c.push(one.clone());
        assert_eq!(c.len(), 3);
        let taken = c.take();
        assert_eq!(taken.as_ptr(), one.as_ptr());
        c.push(Bytes::from_static(b"a"));
        c.push(Bytes::new());
        c.push(Bytes::from_static(b"bc"));
        assert_eq!(c.take(), "abc");
        assert_eq!(c.len(), 0);
    }
}

/// Session behaviour against a scripted loopback server: reconnects,
/// long-poll 204s, resumed bodies.
#[cfg(test)]
mod scripted {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use futures::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use crate::client::{ByteChunk, Client, LiveMode, Offset, ReadOptions, Result, RetryPolicy};

    /// What the server does on one connection.
    enum Step {
        Write(Vec<u8>),
        Sleep(u64),
    }

    /// Serves one script per connection, in order; records request lines.
    async fn serve(scripts: Vec<Vec<Step>>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/s", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            for script in scripts {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = sock.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_owned();
                log.lock().unwrap().push(line);
                for step in script {
                    match step {
                        Step::Write(bytes) => {
                            if sock.write_all(&bytes).await.is_err() {
                                break;
                            }
                            sock.flush().await.unwrap();
                        }
                        Step::Sleep(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    }
                }
            }
        });
        (url, seen)
    }

    fn w(s: &str) -> Step {
        Step::Write(s.as_bytes().to_vec())
    }

    const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

    fn client() -> Client {
        Client::builder()
            .retry(RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
                multiplier: 2.0,
            })
            .build()
            .unwrap()
    }

    async fn read_all(url: &str, live: LiveMode) -> Vec<Result<ByteChunk>> {
        let stream = client().stream(url).unwrap();
        let mut read = stream.read_bytes(ReadOptions { live, ..Default::default() });
        let mut out = Vec::new();
        while let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(5), read.next()).await {
            let failed = item.is_err();
            out.push(item);
            if failed {
                break;
            }
        }
        out
    }

    #[tokio::test]
    async fn sse_reconnects_with_cursor_and_stops_at_closed() {
        let (url, seen) = serve(vec![
            vec![
                w(SSE_HEAD),
                w("event: data\ndata: a\n\nevent: control\ndata: {\"streamNextOffset\":\"1\",\"streamCursor\":\"c1\",\"upToDate\":true}\n\n"),
            ],
            vec![
                w(SSE_HEAD),
                w("event: data\r\ndata: b\r\n\r\nevent: control\r\ndata: {\"streamNextOffset\":\"2\",\"streamClosed\":true}\r\n\r\n"),
            ],
        ])
        .await;
        let items = read_all(&url, LiveMode::Sse).await;
        let items: Vec<_> = items.into_iter().map(Result::unwrap).collect();
        let data: Vec<_> = items.iter().map(|c| c.data.clone()).collect();
        assert_eq!(data, ["a", "b"]);
        assert_eq!(items[0].meta.offset.as_str(), "1");
        assert_eq!(items[0].meta.cursor.as_deref(), Some("c1"));
        assert!(items[1].meta.stream_closed && !items[1].meta.partial);
        assert_eq!(items[1].meta.cursor.as_deref(), Some("c1"));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert!(seen[0].contains("/s?live=sse&offset=-1 "), "{}", seen[0]);
        assert!(seen[1].contains("/s?cursor=c1&live=sse&offset=1 "), "{}", seen[1]);
    }

    #[tokio::test]
    async fn sse_data_waits_for_its_control() {
        let (url, _) = serve(vec![vec![
            w(SSE_HEAD),
            w("event: data\ndata: x\n\n"),
            Step::Sleep(200),
            w("event: mystery\ndata: ignored\n\n: comment\n\nevent: control\ndata: {\"streamNextOffset\":\"9\",\"streamClosed\":true}\n\n"),
        ]])
        .await;
        let items: Vec<_> = read_all(&url, LiveMode::Sse).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].data, "x");
        assert_eq!(items[0].meta.offset.as_str(), "9");
        assert!(items[0].meta.stream_closed);
    }

    #[tokio::test]
    async fn malformed_control_fails() {
        let (url, _) = serve(vec![vec![w(SSE_HEAD), w("event: control\ndata: {nope\n\n")]]).await;
        let items = read_all(&url, LiveMode::Sse).await;
        assert!(items.last().unwrap().as_ref().unwrap_err().is_decode());
    }

    #[tokio::test]
    async fn long_poll_204_then_closed() {
        let (url, seen) = serve(vec![
            vec![w("HTTP/1.1 204 No Content\r\nstream-next-offset: 5\r\nstream-cursor: k1\r\nstream-up-to-date: true\r\nconnection: close\r\n\r\n")],
            vec![w("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nstream-next-offset: 7\r\nstream-cursor: k2\r\nstream-up-to-date: true\r\nconnection: close\r\n\r\nhi")],
            vec![w("HTTP/1.1 204 No Content\r\nstream-next-offset: 7\r\nstream-up-to-date: true\r\nstream-closed: true\r\nconnection: close\r\n\r\n")],
        ])
        .await;
        let items: Vec<_> = read_all(&url, LiveMode::LongPoll).await.into_iter().map(Result::unwrap).collect();
        let summary: Vec<_> = items
            .iter()
            .map(|c| (c.data.clone(), c.meta.status, c.meta.up_to_date, c.meta.stream_closed))
            .collect();
        assert_eq!(
            summary,
            [
                ("".into(), 204, true, false),
                ("hi".into(), 200, true, false),
                ("".into(), 204, true, true)
            ]
        );
        let seen = seen.lock().unwrap().clone();
        assert!(seen[0].contains("?live=long-poll&offset=-1 "), "{}", seen[0]);
        assert!(seen[1].contains("?cursor=k1&live=long-poll&offset=5 "), "{}", seen[1]);
        assert!(seen[2].contains("?cursor=k2&live=long-poll&offset=7 "), "{}", seen[2]);
        assert_eq!(items[1].meta.start_offset, Offset::new("5"));
    }

    #[tokio::test]
    async fn dropped_body_resumes_without_duplicates() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 12\r\nstream-next-offset: 12\r\nstream-up-to-date: true\r\nconnection: close\r\n\r\n";
        let (url, seen) = serve(vec![
            vec![w(head), w("abcd"), Step::Sleep(100), w("efgh"), Step::Sleep(100)],
            vec![w(head), w("abcdefghijkl")],
        ])
        .await;
        let items: Vec<_> = read_all(&url, LiveMode::Off).await.into_iter().map(Result::unwrap).collect();
        let data: Vec<u8> = items.iter().flat_map(|c| c.data.to_vec()).collect();
        assert_eq!(data, b"abcdefghijkl");
        assert!(items[0].meta.partial);
        assert!(!items.last().unwrap().meta.partial);
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn catch_up_stops_at_up_to_date_and_follows_chunks() {
        let (url, seen) = serve(vec![
            vec![w("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nstream-next-offset: 3\r\nconnection: close\r\n\r\nabc")],
            vec![w("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nstream-next-offset: 5\r\nstream-up-to-date: true\r\nconnection: close\r\n\r\nde")],
        ])
        .await;
        let items: Vec<_> = read_all(&url, LiveMode::Off).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(items.len(), 2);
        assert!(!items[0].meta.up_to_date && items[1].meta.up_to_date);
        let seen = seen.lock().unwrap().clone();
        assert!(seen[1].contains("?offset=3 "), "{}", seen[1]);
    }

    #[tokio::test]
    async fn sse_drop_inside_a_delivered_event_fails() {
        let (url, _) = serve(vec![vec![
            w(SSE_HEAD),
            w("event: data\ndata: aaaa"),
            Step::Sleep(100),
            w("bbbb"),
            Step::Sleep(100),
        ]])
        .await;
        let items = read_all(&url, LiveMode::Sse).await;
        assert_eq!(items[0].as_ref().unwrap().data, "aaaa");
        assert!(items[0].as_ref().unwrap().meta.partial);
        assert!(items.last().unwrap().is_err());
    }

    #[tokio::test]
    async fn sse_that_keeps_closing_gives_up() {
        let (url, seen) = serve(vec![vec![w(SSE_HEAD)], vec![w(SSE_HEAD)], vec![w(SSE_HEAD)]]).await;
        let items = read_all(&url, LiveMode::Sse).await;
        assert!(items.last().unwrap().as_ref().unwrap_err().is_network());
        assert_eq!(seen.lock().unwrap().len(), 3);
    }
}
