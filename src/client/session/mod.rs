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
//!
//! Modes: `Off` issues catch-up GETs until a response is up to date.
//! `LongPoll` and `Sse` are live from the first request (a live request at
//! an offset with data answers at once, so no separate catch-up is needed,
//! and `offset=now` costs no extra round trip). `Auto` catches up first,
//! learns the content type from that response, then tails with SSE (JSON
//! and `text/*`) or long-poll. Every request carries `offset` (`-1` for the
//! start); live requests echo the last cursor. The session ends after the
//! item that reports `Stream-Closed` / `streamClosed`, and never reconnects
//! after it.
//!
//! No progress: a response whose `Stream-Next-Offset` is the offset it was
//! asked for carries no new data, so its body is never handed out (it would
//! repeat data already delivered). Such a response counts as a stall unless
//! it is an ordinary "nothing new" (up to date or closed, with an empty body
//! or `[]`); an empty catch-up response that is not up to date ends the
//! catch-up as before. An SSE connection that ends within
//! `SHORT_CONNECTION` without moving the offset counts as a stall too
//! (data events positioned at the same offset are dropped). Each stall in a
//! row waits the retry policy's backoff before the next request, and after
//! `max_attempts` of them the read fails with
//! [`Error::NoProgress`](super::Error::NoProgress). Progress resets the
//! count.
//!
//! `body.rs` drives catch-up and long-poll bodies, `events.rs` SSE.

mod body;
mod events;

use std::collections::VecDeque;

use ::http::Method;
use bytes::{Bytes, BytesMut};
use futures::Stream;

use self::body::HttpBody;
use self::events::SseConn;
use super::http::{self, Op, Phase, Request};
use super::read::ReadMeta;
use super::{DurableStream, Headers, LiveMode, Offset, ReadOptions, Result};

/// A response whose body was withheld because its offset did not move.
pub(super) struct Repeat {
    /// Body bytes withheld.
    pub bytes: u64,
    /// The body was empty, or a JSON `[]`.
    pub empty: bool,
}

/// Largest piece assembled from chunks that are already available.
pub(crate) const MAX_PIECE: usize = 256 * 1024;

/// Raw bytes of a read, positioned.
#[derive(Clone, Debug)]
pub(crate) struct Piece {
    pub data: Bytes,
    /// `meta.ends_unit`: this piece ends an encoded unit, a response body
    /// or an SSE `data` event (a JSON array; UTF-8 must be complete here).
    pub meta: ReadMeta,
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
    /// SSE connections in a row that failed or ended without progress.
    sse_failures: u32,
    /// Responses in a row that did not move the offset (see the module
    /// doc), and what the last one did.
    stalls: u32,
    stall_detail: String,
    /// (offset, up to date, closed) of the last item handed out.
    last_state: Option<(Offset, bool, bool)>,
    /// The next request reopens a connection that ended (told to the
    /// request observer).
    reopening: bool,
}

enum Active {
    Http(Box<HttpBody>),
    Sse(Box<SseConn>),
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

pub(crate) use super::content_type::{essence, is_json, is_text};

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
            stalls: 0,
            stall_detail: String::new(),
            last_state: None,
            reopening: false,
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
        if self.stalls > 0 {
            if self.stalls >= self.policy_attempts() {
                return Err(self.no_progress_error());
            }
            let policy = &self.stream.client.inner.retry;
            tokio::time::sleep(policy.delay(self.stalls, None)).await;
        }
        let mode = self.mode();
        let cursor = if mode == Mode::CatchUp {
            None
        } else {
            self.cursor.clone()
        };
        let mut req = self.request(mode, &self.offset, cursor.as_deref())?;
        req.reconnect = std::mem::take(&mut self.reopening);
        let reply = http::send(self.op(), &req).await?;
        match mode {
            Mode::Sse => self.start_sse(reply),
            _ => self.start_http(reply, mode, cursor, 0, 0),
        }
    }

    /// The error that ends a read after `stalls` responses without
    /// progress.
    pub(super) fn no_progress_error(&self) -> super::Error {
        super::Error::NoProgress {
            url: self.stream.url.to_string(),
            offset: self.offset.clone(),
            attempts: self.stalls.max(self.sse_failures),
            detail: self.stall_detail.clone(),
        }
    }

    /// A response or connection made no progress: `detail` says how.
    pub(super) fn stalled(&mut self, detail: String) {
        self.stalls += 1;
        self.stall_detail = detail;
    }

    /// A response ended: hand out its last piece and move the position.
    /// `repeat` says the body was withheld because the response did not
    /// move the offset (`empty`: the body was empty or `[]`).
    fn end_response(
        &mut self,
        data: Bytes,
        meta: ReadMeta,
        mode: Mode,
        repeat: Option<Repeat>,
    ) {
        let requested = self.offset.clone();
        self.apply_state(&meta);
        let empty = repeat.as_ref().is_none_or(|r| r.empty);
        let stalled = mode == Mode::CatchUp
            && empty
            && !meta.up_to_date
            && meta.offset == requested;
        if let Some(repeat) = repeat
            && !stalled
            && !meta.stream_closed
            && (!meta.up_to_date || !repeat.empty)
        {
            let what = if repeat.empty {
                "no data and no Stream-Up-To-Date".to_owned()
            } else {
                format!("{} bytes of data already delivered", repeat.bytes)
            };
            self.stalled(format!(
                "the server answered with the same offset and {what}"
            ));
            return;
        }
        self.out.push_back(Piece {
            data,
            meta: ReadMeta {
                ends_unit: true,
                ..meta
            },
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
        if meta.offset != self.offset {
            self.stalls = 0;
        }
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
        meta.ends_unit = unit_end;
        self.out.push_back(Piece {
            data,
            meta,
            more_ready: false,
        });
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
