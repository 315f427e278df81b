//! One stream in memory: its configuration, its own data (segments, one per
//! append) stitched after an optional fork source, and chunked reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::{Bytes, BytesMut};
use tokio::sync::Notify;

/// How the server treats a stream's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `application/json`: message boundaries, array reads.
    Json,
    /// `text/*`: sent as text over SSE.
    Text,
    /// Everything else: base64 over SSE.
    Binary,
}

/// The media type without parameters, lowercased (`text/plain`).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether `content_type` looks like `type/subtype[; params]`.
pub fn is_valid_type(content_type: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
    };
    let mt = content_type.split(';').next().unwrap_or("").trim();
    mt.split_once('/')
        .is_some_and(|(t, sub)| word(t) && word(sub))
}

impl Kind {
    pub fn of(content_type: &str) -> Kind {
        use crate::client::content_type::{is_json, is_text};
        if is_json(content_type) {
            Kind::Json
        } else if is_text(content_type) {
            Kind::Text
        } else {
            Kind::Binary
        }
    }
}

/// Configuration fixed at creation.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub name: String,
    /// Stored exactly as given (returned verbatim on reads).
    pub content_type: String,
    /// Effective sliding TTL in seconds.
    pub ttl: Option<u64>,
    /// Effective absolute expiry, RFC 3339 as given.
    pub expires_at: Option<String>,
    /// What the creating PUT asked for (idempotency comparison).
    pub req_ttl: Option<u64>,
    pub req_expires_at: Option<String>,
    pub forked_from: Option<String>,
    pub req_fork_offset: Option<String>,
    pub fork_sub_offset: u64,
    /// Position where this stream's own data starts (the fork point).
    pub base: u64,
    /// Milliseconds since the Unix epoch.
    pub created_at: u64,
    /// Distinguishes re-creations at the same path (`ETag`s).
    pub incarnation: u64,
}

/// One append's worth of stored bytes.
pub struct Segment {
    pub start: u64,
    pub bytes: Bytes,
    /// JSON only: message ends relative to `start`; empty means the segment
    /// is a single message.
    pub msg_ends: Box<[u32]>,
}

impl Segment {
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    /// Absolute message ends (JSON).
    fn ends(&self) -> impl Iterator<Item = u64> + '_ {
        let single = [self.bytes.len() as u64];
        let rel: Vec<u64> = if self.msg_ends.is_empty() {
            single.to_vec()
        } else {
            self.msg_ends.iter().map(|&e| u64::from(e)).collect()
        };
        rel.into_iter().map(move |e| self.start + e)
    }
}

/// Own data plus the closed flag, read together for consistent snapshots.
#[derive(Default)]
pub struct Data {
    pub segments: Vec<Segment>,
    pub tail: u64,
    pub closed: bool,
}

/// Idempotent producer state for one producer id.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Producer {
    pub epoch: u64,
    pub last_seq: u64,
}

/// State only writers touch; its mutex serialises validate + append.
#[derive(Default)]
pub struct Writer {
    pub producers: HashMap<String, Producer>,
    pub stream_seq: Option<String>,
    pub closed_by: Option<(String, u64, u64)>,
    pub log: Option<Arc<std::fs::File>>,
}

pub struct Stream {
    pub config: Config,
    pub kind: Kind,
    pub source: Option<Arc<Stream>>,
    pub data: RwLock<Data>,
    pub writer: tokio::sync::Mutex<Writer>,
    /// Woken on every append, close and deletion.
    pub notify: Notify,
    pub last_access_ms: AtomicU64,
    /// `config.expires_at`, parsed once.
    expires_at_ms: Option<u64>,
    /// Forks that read through this stream.
    pub refs: AtomicUsize,
    pub soft_deleted: AtomicBool,
    /// Removed from the store; waiters should give up.
    pub gone: AtomicBool,
}

/// A consistent view of one read.
pub struct Chunk {
    pub pieces: Vec<Bytes>,
    pub end: u64,
    pub tail: u64,
    pub closed: bool,
}

impl Chunk {
    pub fn is_empty(&self) -> bool {
        self.pieces.iter().all(Bytes::is_empty)
    }

    pub fn len(&self) -> usize {
        self.pieces.iter().map(Bytes::len).sum()
    }

    /// The body of a read: raw bytes, or a JSON array.
    pub fn body(&self, kind: Kind) -> Bytes {
        let total = self.len();
        if kind != Kind::Json {
            if self.pieces.len() == 1 {
                return self.pieces[0].clone();
            }
            let mut out = BytesMut::with_capacity(total);
            for p in &self.pieces {
                out.extend_from_slice(p);
            }
            return out.freeze();
        }
        if total == 0 {
            return Bytes::from_static(b"[]");
        }
        let mut out = BytesMut::with_capacity(total + 1);
        out.extend_from_slice(b"[");
        for p in &self.pieces {
            out.extend_from_slice(p);
        }
        // Replace the last message's trailing comma.
        let n = out.len();
        out[n - 1] = b']';
        out.freeze()
    }
}

/// Where a chunked read stops.
struct Cut {
    target: u64,
    json: bool,
    taken: bool,
}

/// The storage unit around a position (for fork sub-offsets).
pub struct Unit {
    pub start: u64,
    pub end: u64,
    /// JSON message ends within the unit, ascending.
    pub msg_ends: Vec<u64>,
}

impl Stream {
    pub fn new(
        config: Config,
        source: Option<Arc<Stream>>,
        now_ms: u64,
    ) -> Self {
        let kind = Kind::of(&config.content_type);
        let base = config.base;
        let expires_at_ms =
            config.expires_at.as_deref().and_then(parse_rfc3339_ms);
        Stream {
            config,
            kind,
            source,
            data: RwLock::new(Data {
                segments: Vec::new(),
                tail: base,
                closed: false,
            }),
            writer: tokio::sync::Mutex::new(Writer::default()),
            notify: Notify::new(),
            last_access_ms: AtomicU64::new(now_ms),
            expires_at_ms,
            refs: AtomicUsize::new(0),
            soft_deleted: AtomicBool::new(false),
            gone: AtomicBool::new(false),
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn tail(&self) -> u64 {
        self.data.read().expect("stream lock").tail
    }

    pub fn is_closed(&self) -> bool {
        self.data.read().expect("stream lock").closed
    }

    pub fn touch(&self, now_ms: u64) {
        self.last_access_ms.store(now_ms, Ordering::Relaxed);
    }

    /// Whether TTL or Expires-At has passed.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        if self.expires_at_ms.is_some_and(|at| now_ms >= at) {
            return true;
        }
        if let Some(ttl) = self.config.ttl {
            let last = self.last_access_ms.load(Ordering::Relaxed);
            return now_ms.saturating_sub(last) >= ttl.saturating_mul(1000);
        }
        false
    }

    /// Appends one segment of own data (caller holds the writer lock).
    pub fn push(&self, bytes: Bytes, msg_ends: Box<[u32]>, close: bool) -> u64 {
        let mut data = self.data.write().expect("stream lock");
        if !bytes.is_empty() {
            let start = data.tail;
            data.tail += bytes.len() as u64;
            data.segments.push(Segment {
                start,
                bytes,
                msg_ends,
            });
        }
        if close {
            data.closed = true;
        }
        let tail = data.tail;
        drop(data);
        self.notify.notify_waiters();
        tail
    }

    /// Reads up to about `max` bytes from `from`, never splitting a JSON
    /// message (a single larger message is returned whole).
    pub fn read(&self, from: u64, max: u64) -> Chunk {
        let data = self.data.read().expect("stream lock");
        let (tail, closed) = (data.tail, data.closed);
        let mut cut = Cut {
            target: from.saturating_add(max.max(1)),
            json: self.kind == Kind::Json,
            taken: false,
        };
        let mut pieces = Vec::new();
        let end = self.collect(&data, from, tail, &mut cut, &mut pieces);
        Chunk {
            pieces,
            end,
            tail,
            closed,
        }
    }

    fn collect(
        &self,
        data: &Data,
        from: u64,
        cap: u64,
        cut: &mut Cut,
        out: &mut Vec<Bytes>,
    ) -> u64 {
        let mut pos = from;
        let base = self.config.base;
        if pos < base {
            if let Some(src) = &self.source {
                let src_cap = cap.min(base);
                let src_data = src.data.read().expect("stream lock");
                pos = src.collect(&src_data, pos, src_cap, cut, out);
                if pos < src_cap {
                    return pos;
                }
            } else {
                pos = base;
            }
        }
        let segs = &data.segments;
        let mut idx = segs.partition_point(|s| s.end() <= pos);
        while idx < segs.len() && pos < cap {
            let seg = &segs[idx];
            let seg_end = seg.end().min(cap);
            let rel = |p: u64| usize::try_from(p - seg.start).expect("offset");
            if seg_end <= cut.target {
                out.push(seg.bytes.slice(rel(pos)..rel(seg_end)));
                cut.taken |= seg_end > pos;
                pos = seg_end;
                idx += 1;
                continue;
            }
            let stop = if cut.json {
                json_cut(seg, pos, seg_end, cut)
            } else if cut.target > pos {
                Some(text_cut(seg, pos, cut.target, self.kind == Kind::Text))
            } else {
                None
            };
            if let Some(stop) = stop {
                out.push(seg.bytes.slice(rel(pos)..rel(stop)));
                pos = stop;
            }
            // Mark the budget as spent so callers up the fork chain stop.
            cut.target = pos;
            cut.taken = true;
            return pos;
        }
        pos
    }

    /// The append (or inherited part of one) containing `pos`, capped by
    /// the tail and fork points; `None` at or past the tail.
    pub fn unit_at(&self, pos: u64) -> Option<Unit> {
        let cap = self.tail();
        self.unit_capped(pos, cap)
    }

    fn unit_capped(&self, pos: u64, cap: u64) -> Option<Unit> {
        if pos >= cap {
            return None;
        }
        let base = self.config.base;
        if pos < base {
            return self.source.as_ref()?.unit_capped(pos, cap.min(base));
        }
        let data = self.data.read().expect("stream lock");
        let idx = data.segments.partition_point(|s| s.end() <= pos);
        let seg = data.segments.get(idx)?;
        let end = seg.end().min(cap);
        let msg_ends = if self.kind == Kind::Json {
            seg.ends().filter(|&e| e <= end).collect()
        } else {
            Vec::new()
        };
        Some(Unit {
            start: seg.start,
            end,
            msg_ends,
        })
    }

    /// Whether `pos` is a valid read position (JSON: a message boundary).
    pub fn is_boundary(&self, pos: u64) -> bool {
        if self.kind != Kind::Json {
            return true;
        }
        let cap = self.tail();
        self.boundary_capped(pos, cap)
    }

    fn boundary_capped(&self, pos: u64, cap: u64) -> bool {
        if pos >= cap {
            return true;
        }
        let base = self.config.base;
        if pos < base {
            return self
                .source
                .as_ref()
                .is_none_or(|src| src.boundary_capped(pos, cap.min(base)));
        }
        let data = self.data.read().expect("stream lock");
        let idx = data.segments.partition_point(|s| s.end() <= pos);
        let Some(seg) = data.segments.get(idx) else {
            return true;
        };
        if pos == seg.start {
            return true;
        }
        let rel = u32::try_from(pos - seg.start).unwrap_or(u32::MAX);
        seg.msg_ends.binary_search(&rel).is_ok()
    }

    /// Bytes of own data held in memory.
    pub fn own_bytes(&self) -> u64 {
        let data = self.data.read().expect("stream lock");
        data.tail - self.config.base
    }
}

/// Where a JSON read stops inside `seg`: the last message end within the
/// budget, or the first one when nothing has been taken yet.
fn json_cut(seg: &Segment, pos: u64, seg_end: u64, cut: &Cut) -> Option<u64> {
    let len = seg.bytes.len() as u64;
    if seg.msg_ends.is_empty() {
        // One message: all or nothing.
        let whole = seg.start + len;
        return (!cut.taken && whole <= seg_end).then_some(whole);
    }
    let ends = &seg.msg_ends;
    let rel = |abs: u64| u32::try_from(abs - seg.start).unwrap_or(u32::MAX);
    let lo = ends.partition_point(|&e| e <= rel(pos));
    let hi = ends.partition_point(|&e| e <= rel(seg_end));
    let within = ends.partition_point(|&e| e <= rel(cut.target.min(seg_end)));
    if within > lo {
        return Some(seg.start + u64::from(ends[within - 1]));
    }
    (!cut.taken && hi > lo).then(|| seg.start + u64::from(ends[lo]))
}

/// Cuts raw bytes at `target`, backing off to a UTF-8 character boundary
/// for text streams (so SSE text events stay valid) when that is possible.
fn text_cut(seg: &Segment, pos: u64, target: u64, text: bool) -> u64 {
    if !text {
        return target;
    }
    let mut t = target;
    let byte =
        |p: u64| seg.bytes[usize::try_from(p - seg.start).expect("offset")];
    while t > pos && target - t < 4 && (byte(t) & 0xC0) == 0x80 {
        t -= 1;
    }
    if t == pos { target } else { t }
}

/// Parses an RFC 3339 timestamp to milliseconds since the Unix epoch.
pub fn parse_rfc3339_ms(text: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(
        text.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}
