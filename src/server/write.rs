//! Appends and closes (`POST`): closed-stream checks, content type,
//! idempotent producers (epochs, fencing, dedupe), `Stream-Seq`, JSON
//! flattening, the memory budget, then persist-before-acknowledge.
//!
//! `Stream-Seq` is scoped per stream and compared byte-wise.

use std::sync::Arc;

use bytes::Bytes;

use super::json;
use super::persist::{Disk, Header};
use super::store::{Error, Lookup, Store, compact_ends, json_error, now_ms};
use super::stream::{
    Kind, Producer, Stream, Writer, is_valid_type, media_type,
};

/// A parsed append request.
#[derive(Debug, Default)]
pub struct AppendRequest {
    pub content_type: Option<String>,
    pub body: Bytes,
    pub close: bool,
    pub stream_seq: Option<String>,
    /// `(Producer-Id, Producer-Epoch, Producer-Seq)`.
    pub producer: Option<(String, u64, u64)>,
}

/// A successful append or close.
#[derive(Debug)]
pub struct AppendOutcome {
    /// 200 (producer append), 204 (plain append, close or duplicate).
    pub status: u16,
    pub tail: u64,
    pub closed: bool,
    /// `(epoch, highest accepted seq)` to echo.
    pub producer: Option<(u64, u64)>,
}

enum Check {
    Accept,
    Duplicate(u64),
}

fn check_producer(
    w: &Writer,
    id: &str,
    epoch: u64,
    seq: u64,
) -> Result<Check, Error> {
    match w.producers.get(id) {
        None if seq == 0 => Ok(Check::Accept),
        None => Err(Error::SeqGap {
            expected: 0,
            received: seq,
        }),
        Some(p) if epoch < p.epoch => Err(Error::StaleEpoch { epoch: p.epoch }),
        Some(p) if epoch > p.epoch => {
            if seq == 0 {
                Ok(Check::Accept)
            } else {
                Err(Error::BadRequest(
                    "New producer epoch must start with Producer-Seq 0\n"
                        .into(),
                ))
            }
        }
        Some(p) if seq <= p.last_seq => Ok(Check::Duplicate(p.last_seq)),
        Some(p) if seq == p.last_seq + 1 => Ok(Check::Accept),
        Some(p) => Err(Error::SeqGap {
            expected: p.last_seq + 1,
            received: seq,
        }),
    }
}

impl Store {
    /// Appends to (and/or closes) the stream called `name`, for in-process
    /// callers; the HTTP handler does the same after parsing headers.
    pub async fn append_to(
        &self,
        name: &str,
        req: AppendRequest,
    ) -> Result<AppendOutcome, Error> {
        match self.lookup(name) {
            Lookup::Live(s) => self.append(&s, req).await,
            Lookup::Gone => Err(Error::Gone),
            Lookup::Missing => Err(Error::NotFound("Stream not found\n")),
        }
    }

    /// Appends to and/or closes `stream`.
    pub async fn append(
        &self,
        stream: &Arc<Stream>,
        req: AppendRequest,
    ) -> Result<AppendOutcome, Error> {
        stream.touch(now_ms());
        if req.body.is_empty() && !req.close {
            return Err(Error::BadRequest("Empty body\n".into()));
        }
        // Parse before taking the lock: it is pure and may be large.
        let parsed = if req.body.is_empty() || stream.kind != Kind::Json {
            None
        } else {
            Some(json::split(&req.body, false).map_err(json_error)?)
        };
        let mut w = stream.writer.lock().await;
        if stream.gone.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::NotFound("Stream not found\n"));
        }
        let producer = req.producer.clone();
        let echo = |last: u64| producer.as_ref().map(|(_, e, _)| (*e, last));
        if stream.is_closed() {
            let tail = stream.tail();
            if let Some((id, epoch, seq)) = &producer
                && let Ok(Check::Duplicate(last)) =
                    check_producer(&w, id, *epoch, *seq)
            {
                return Ok(AppendOutcome {
                    status: 204,
                    tail,
                    closed: true,
                    producer: echo(last),
                });
            }
            if req.body.is_empty() && producer.is_none() {
                return Ok(AppendOutcome {
                    status: 204,
                    tail,
                    closed: true,
                    producer: None,
                });
            }
            return Err(Error::Closed { tail });
        }
        if !req.body.is_empty() {
            let Some(ct) = &req.content_type else {
                return Err(Error::BadRequest(
                    "Content-Type header is required\n".into(),
                ));
            };
            if !is_valid_type(ct) {
                return Err(Error::BadRequest(
                    "Invalid Content-Type header\n".into(),
                ));
            }
            if media_type(ct) != media_type(&stream.config.content_type) {
                return Err(Error::Conflict("Content-type mismatch\n".into()));
            }
        }
        if let Some((id, epoch, seq)) = &producer
            && let Check::Duplicate(last) =
                check_producer(&w, id, *epoch, *seq)?
        {
            return Ok(AppendOutcome {
                status: 204,
                tail: stream.tail(),
                closed: stream.is_closed(),
                producer: echo(last),
            });
        }
        if let (Some(seq), Some(last)) = (&req.stream_seq, &w.stream_seq)
            && seq.as_bytes() <= last.as_bytes()
        {
            return Err(Error::Conflict("Sequence conflict\n".into()));
        }
        let (data, ends) = match parsed {
            Some(m) => (m.data, compact_ends(m.ends)),
            None => (req.body.clone(), Box::default()),
        };
        self.reserve(data.len() as u64)?;
        if let Some(log) = &w.log {
            let header = Header {
                m: ends.to_vec(),
                p: producer.clone(),
                s: req.stream_seq.clone(),
                c: req.close,
            };
            if let Err(e) = Disk::append(log, &header, &data).await {
                self.release(data.len() as u64);
                return Err(e.into());
            }
        }
        if let Some((id, epoch, seq)) = &producer {
            w.producers.insert(
                id.clone(),
                Producer {
                    epoch: *epoch,
                    last_seq: *seq,
                },
            );
            if req.close {
                w.closed_by = Some((id.clone(), *epoch, *seq));
            }
        }
        if let Some(seq) = req.stream_seq {
            w.stream_seq = Some(seq);
        }
        let appended = !data.is_empty();
        let tail = stream.push(data, ends, req.close);
        drop(w);
        let status = if producer.is_some() && appended {
            200
        } else {
            204
        };
        Ok(AppendOutcome {
            status,
            tail,
            closed: req.close,
            producer: producer.map(|(_, e, s)| (e, s)),
        })
    }
}
