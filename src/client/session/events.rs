//! SSE reads: events are parsed as bytes arrive, `data` payloads are
//! handed out (base64-decoded when the response says so) and positioned by
//! the `control` event that follows them, and a connection that ends
//! without `streamClosed` is reopened from the last control's offset.

use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use serde::Deserialize;

use super::super::error::header_str;
use super::super::http::{self, Reply, names};
use super::super::read::ReadMeta;
use super::super::sse::{SseOutput, SseParser};
use super::super::{Error, Offset, Result};
use super::{Active, Coalescer, MAX_PIECE, Piece, Session, essence};

/// A live SSE connection.
pub(super) struct SseConn {
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
    /// The session's offset when this connection opened.
    start_offset: Offset,
    /// Data bytes dropped because their control event did not move the
    /// offset.
    repeated: u64,
    /// The response's exchange number (for the observer), and the data
    /// bytes since the last control event.
    exchange: u64,
    data_bytes: u64,
}

/// A connection that ends sooner than this without moving the offset is a
/// stall (a server that closes at once, again and again); a longer one that
/// only carried heartbeats is an ordinary idle connection.
const SHORT_CONNECTION: std::time::Duration = std::time::Duration::from_secs(1);

struct Held {
    data: Bytes,
    unit_end: bool,
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

impl Session {
    pub(super) fn start_sse(&mut self, mut reply: Reply) -> Result<()> {
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
            start_offset: self.offset.clone(),
            repeated: 0,
            exchange: reply.id,
            data_bytes: 0,
        })));
        Ok(())
    }

    pub(super) async fn read_sse(
        &mut self,
        mut conn: Box<SseConn>,
    ) -> Result<()> {
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
                    conn.data_bytes += bytes.len() as u64;
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
                                conn.data_bytes += bytes.len() as u64;
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
            ends_unit: false,
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
            ends_unit: false,
            etag: None,
            cache_control: None,
            status: 200,
        };
        if self.op().client.inner.observer.is_some() {
            let mut fields = vec![(
                "Stream-Next-Offset".to_owned(),
                meta.offset.as_str().to_owned(),
            )];
            if let Some(cursor) = &meta.cursor {
                fields.push(("Stream-Cursor".to_owned(), cursor.clone()));
            }
            if meta.up_to_date {
                fields
                    .push(("Stream-Up-To-Date".to_owned(), "true".to_owned()));
            }
            if closed {
                fields.push(("Stream-Closed".to_owned(), "true".to_owned()));
            }
            http::observe_control(
                self.op(),
                &conn.url,
                conn.exchange,
                conn.connected.elapsed(),
                conn.data_bytes,
                fields,
            );
        }
        conn.data_bytes = 0;
        let state = (meta.offset.clone(), meta.up_to_date, meta.stream_closed);
        // Data whose control does not move the offset repeats what was
        // delivered (data always advances it): never hand it out again.
        if meta.offset == self.offset
            && !closed
            && conn.held.as_ref().is_some_and(|h| !h.data.is_empty())
        {
            let held = conn.held.take().expect("checked");
            conn.repeated += held.data.len() as u64;
        }
        let piece = match conn.held.take() {
            Some(held) => Some(Piece {
                data: held.data,
                meta: ReadMeta {
                    ends_unit: held.unit_end,
                    ..meta.clone()
                },
                more_ready: false,
            }),
            // A control on its own: hand out its state if it changed.
            None if self.last_state.as_ref() != Some(&state) => Some(Piece {
                data: Bytes::new(),
                meta: meta.clone(),
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
                Some(source) => Error::network(conn.url.as_str(), source),
                None => Error::decode(&conn.url, message),
            });
        }
        // Progress (the offset moved) resets the count, even when the
        // connection then dropped: only drops in a row count.
        let progressed = self.offset != conn.start_offset;
        if progressed {
            self.sse_failures = 0;
        }
        let short = conn.connected.elapsed() < SHORT_CONNECTION;
        // The next request reopens the connection.
        self.reopening = true;
        if err.is_none() && (progressed || (conn.got_event && !short)) {
            return Ok(());
        }
        self.sse_failures += 1;
        let stall = err.is_none() && conn.got_event;
        if stall {
            self.stall_detail = if conn.repeated > 0 {
                format!(
                    "the SSE connection repeated {} bytes of data already \
                     delivered and closed",
                    conn.repeated
                )
            } else {
                "the SSE connection closed without moving the offset".into()
            };
        }
        if self.sse_failures >= self.policy_attempts() {
            if stall {
                return Err(self.no_progress_error());
            }
            return Err(match err {
                Some(source) => Error::network(conn.url.as_str(), source),
                None => Error::Network {
                    url: conn.url.to_string(),
                    cause: std::sync::Arc::new(std::io::Error::other(
                        "SSE connection kept closing without events",
                    )),
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
}
