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

use ::http::{Method, StatusCode};
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use serde::Deserialize;

use super::error::{header_is_true, header_str};
use super::http::{self, Op, Phase, Reply, Request, names};
use super::read::ReadMeta;
use super::sse::{SseOutput, SseParser};
use super::{
    DurableStream, Error, Headers, LiveMode, Offset, ReadOptions, Result,
};

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
        let next = header_str(headers, names::STREAM_NEXT_OFFSET).ok_or_else(
            || Error::decode(&url, "response has no Stream-Next-Offset"),
        )?;
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
        if let Some(ct) = header_str(headers, names::CONTENT_TYPE)
            && !no_content
        {
            self.stream.learn_content_type(ct);
        }
        let response = reply.response.take();
        if no_content || response.is_none() {
            if skip > 0 {
                return Err(Error::decode(
                    &url,
                    "resumed response has no body",
                ));
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
                Some(Some(Ok(chunk))) => {
                    piece.push(skip_prefix(&mut body.skip, chunk));
                }
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
        let req =
            self.request(body.mode, &start, body.cursor_sent.as_deref())?;
        let reply = http::send(self.op(), &req).await?;
        self.start_http(
            reply,
            body.mode,
            body.cursor_sent.clone(),
            emitted,
            attempt,
        )
    }

    /// A response ended: hand out its last piece and move the position.
    fn end_response(
        &mut self,
        data: Bytes,
        meta: ReadMeta,
        mode: Mode,
        total: u64,
    ) {
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
        let up_to_date =
            self.last_state.as_ref().is_some_and(|s| s.1) || stalled;
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
        let content_type =
            header_str(&reply.headers, names::CONTENT_TYPE).unwrap_or("");
        if !essence(content_type).eq_ignore_ascii_case("text/event-stream") {
            return Err(Error::decode(
                &url,
                format!("expected text/event-stream, got {content_type:?}"),
            ));
        }
        let base64 = header_str(&reply.headers, names::SSE_DATA_ENCODING)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"))
            .then(Base64Stream::default);
        let response = reply.response.take().ok_or_else(|| {
            Error::decode(&url, "SSE response without a body")
        })?;
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
        if let Some(err) = ended {
            return self.sse_ended(conn, err).await;
        }
        self.active = Some(Active::Sse(conn));
        Ok(())
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
                        Some(b64) => b64
                            .decode(&bytes)
                            .map_err(|m| Error::decode(&url, m))?,
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
                                b64.finish()
                                    .map_err(|m| Error::decode(&url, m))?;
                            }
                            let data = conn.pending.take();
                            self.hold_sse(conn, data, true);
                        }
                        "control" => {
                            let control: Control = serde_json::from_slice(
                                &event.data,
                            )
                            .map_err(|e| {
                                Error::decode(
                                    &url,
                                    format!("invalid SSE control event: {e}"),
                                )
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
        http::observe_control(
            self.op(),
            &conn.url,
            conn.connected.elapsed(),
            fields,
        );
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
        input
            .extend(text.iter().copied().filter(|&b| b != b'\r' && b != b'\n'));
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
