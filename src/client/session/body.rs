//! Catch-up and long-poll responses: the body is handed out in pieces as
//! it arrives, its last piece positioned by the response headers, and a
//! body that breaks off is requested again and resumed after the bytes
//! already handed out.

use ::http::StatusCode;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};

use super::super::error::{header_is_true, header_str};
use super::super::http::{self, Reply, names};
use super::super::observe::Pending;
use super::super::read::ReadMeta;
use super::super::{Error, Offset, Result};
use super::{Active, Coalescer, MAX_PIECE, Mode, Repeat, Session};

/// A streaming catch-up or long-poll response body.
pub(super) struct HttpBody {
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
    /// The response did not move the offset: its body is not handed out
    /// (its first bytes are kept to tell `[]` from data).
    withhold: bool,
    probe: Vec<u8>,
    /// The current minimum-rate window: when it began, bytes since.
    window_start: std::time::Instant,
    window_bytes: u64,
    /// The observer's event, told with the body's length when it ends.
    observed: Option<Pending>,
}

impl Drop for HttpBody {
    fn drop(&mut self) {
        // The read stopped before the body ended (a body that ended or
        // broke has told its event already).
        if let Some(mut pending) = self.observed.take() {
            pending.stopped(self.total);
        }
    }
}

/// The least a catch-up or long-poll body must deliver in each window of
/// the request timeout once its response started: a body that trickles
/// slower (1 byte/s, say) fails with a timeout instead of holding the read
/// forever, although no single wait for a chunk exceeds the timeout.
pub(crate) const MIN_BYTES_PER_TIMEOUT: u64 = 1024;

/// Body bytes kept of a withheld body: enough to recognise `[ ]`.
const PROBE: usize = 16;

impl Session {
    pub(super) fn start_http(
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
            ends_unit: false,
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
        let withhold = meta.offset == self.offset;
        let response = reply.response.take();
        let observed = reply.observed.take();
        if no_content || response.is_none() {
            if let Some(pending) = observed {
                pending.ended(0);
            }
            if skip > 0 {
                return Err(Error::decode(
                    &url,
                    "resumed response has no body",
                ));
            }
            let repeat = withhold.then_some(Repeat {
                bytes: 0,
                empty: true,
            });
            self.end_response(Bytes::new(), meta, mode, repeat);
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
            withhold,
            probe: Vec::new(),
            window_start: std::time::Instant::now(),
            window_bytes: 0,
            observed,
        };
        self.active = Some(Active::Http(Box::new(body)));
        Ok(())
    }

    pub(super) async fn read_http(
        &mut self,
        mut body: Box<HttpBody>,
    ) -> Result<()> {
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
        if let Some(window) = idle {
            body.window_bytes += first.len() as u64;
            if body.window_start.elapsed() >= window {
                if body.window_bytes < MIN_BYTES_PER_TIMEOUT {
                    return Err(Error::Timeout {
                        url: body.url.to_string(),
                    });
                }
                body.window_start = std::time::Instant::now();
                body.window_bytes = 0;
            }
        }
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
        if piece.len() > 0 && body.withhold {
            let data = piece.take();
            body.total += data.len() as u64;
            let room = PROBE.saturating_sub(body.probe.len());
            body.probe.extend_from_slice(&data[..data.len().min(room)]);
        } else if piece.len() > 0 {
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
        if let Some(pending) = body.observed.take() {
            pending.ended(body.total);
        }
        let data = body.held.take().unwrap_or_default();
        let repeat = body.withhold.then(|| Repeat {
            bytes: body.total,
            empty: is_empty_body(&body.probe, body.total),
        });
        self.end_response(data, body.meta.clone(), body.mode, repeat);
        Ok(())
    }

    /// The body failed mid-way: request the same data again and skip what
    /// was already handed out (data at an offset never changes), within the
    /// retry budget.
    async fn resume_http(
        &mut self,
        mut body: Box<HttpBody>,
        err: reqwest::Error,
    ) -> Result<()> {
        if let Some(pending) = body.observed.take() {
            pending.broke(body.total, super::super::error::root_cause(&err));
        }
        let attempt = body.resumes + 1;
        if attempt >= self.policy_attempts() {
            return Err(Error::network(body.url.as_str(), err));
        }
        let policy = self.stream.client.inner.retry.clone();
        tokio::time::sleep(policy.delay(attempt, None)).await;
        // The held piece was not handed out: it is read again.
        let emitted = body.emitted;
        let start = body.meta.start_offset.clone();
        let mut req =
            self.request(body.mode, &start, body.cursor_sent.as_deref())?;
        req.reconnect = true;
        let reply = http::send(self.op(), &req).await?;
        self.start_http(
            reply,
            body.mode,
            body.cursor_sent.clone(),
            emitted,
            attempt,
        )
    }
}

/// Whether a withheld body (`probe` its first bytes, `total` its length)
/// carried nothing: empty, or a JSON `[]`.
fn is_empty_body(probe: &[u8], total: u64) -> bool {
    if total > probe.len() as u64 {
        return false;
    }
    let text: Vec<u8> = probe
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    text.is_empty() || text == b"[]"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bodies() {
        assert!(is_empty_body(b"", 0));
        assert!(is_empty_body(b"[]", 2));
        assert!(is_empty_body(b" [ ]\n", 5));
        assert!(!is_empty_body(b"[1]", 3));
        assert!(!is_empty_body(b"[]", 40), "longer than the probe");
        assert!(!is_empty_body(b"x", 1));
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
}
