//! Read sessions: catch-up, long-poll, SSE and auto, as async streams.
//!
//! Dropping a returned stream drops its HTTP request: a session is one
//! future polled by the caller, with no spawned task behind it.
//!
//! How each mode is driven lives in `session.rs`; turning raw pieces into
//! bytes, text or JSON batches lives in `decode.rs`.

use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

use super::{Offset, Result};

/// Metadata every read item carries.
///
/// `offset` is the checkpoint to resume from *after* this item. A response
/// body is streamed in pieces (bounded memory); only the last piece of a
/// response knows a resumable offset, so pieces before it carry
/// `partial == true` and the offset of the response they belong to.
///
/// For SSE the same holds per data event: items are positioned by the
/// control event that follows their data, and pieces handed out before it
/// (a large event) are partial and carry the last resumable offset.
/// `up_to_date` and `stream_closed` are only ever set on non-partial items;
/// the session ends right after the item with `stream_closed == true`.
///
/// Every read also hands out empty, non-partial items where a response or
/// control event carried no data (an up-to-date catch-up, a long-poll 204,
/// an SSE control that changed the position or state), so callers always
/// see the latest offset and state.
///
/// `ends_unit` marks where the server's own units end: a whole catch-up or
/// long-poll response, or a whole SSE `data` event. A large SSE event comes
/// out as several partial items, and a partial item may also end an event
/// (when the next event begins before a control event positions it), so
/// `partial` alone cannot tell event boundaries; `ends_unit` can. Bytes and
/// text items never span two units; a JSON batch may (small events ready
/// together are merged), and then `ends_unit` says whether it ends at one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about one read item, as the protocol has them"
)]
pub struct ReadMeta {
    /// Where this item's data starts: the offset requested for the response
    /// (or SSE position) it belongs to; may be the sentinel `now` for the
    /// first response of a read from `Offset::NOW`.
    pub start_offset: Offset,
    /// Where to resume after this item (`Stream-Next-Offset`).
    pub offset: Offset,
    pub up_to_date: bool,
    pub cursor: Option<String>,
    pub stream_closed: bool,
    /// More of the same response follows; `offset` is not yet resumable.
    pub partial: bool,
    /// This item ends a server unit: the last item of a catch-up or
    /// long-poll response (its whole body, or an empty 200 / 204), or the
    /// last item of an SSE `data` event. False on the earlier pieces of a
    /// unit and on SSE items that carry only a control event's state.
    pub ends_unit: bool,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    /// HTTP status of the response this item came from: 200, or 204 for a
    /// long-poll that timed out with no data. SSE items report 200.
    pub status: u16,
}

impl ReadMeta {
    /// Whether `offset` is a checkpoint to resume from.
    pub fn is_resumable(&self) -> bool {
        !self.partial
    }
}

/// Raw bytes from a read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteChunk {
    pub data: Bytes,
    pub meta: ReadMeta,
}

/// UTF-8 text from a read of a `text/*` stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextChunk {
    pub text: String,
    pub meta: ReadMeta,
}

/// JSON messages from a read of an `application/json` stream.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonBatch<T> {
    pub items: Vec<T>,
    pub meta: ReadMeta,
}

/// JSON messages as the server sent them (each validated), packed into one
/// buffer: no per-message allocation, for readers that only pass messages
/// on or keep millions of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawJsonBatch {
    /// The messages' bytes, back to back.
    pub data: Bytes,
    /// Where each message ends in `data`.
    pub ends: Vec<u32>,
    pub meta: ReadMeta,
}

impl RawJsonBatch {
    /// How many messages the batch holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each message's bytes: one complete JSON value, which may contain
    /// whitespace and newlines as the writer sent it.
    pub fn items(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let end = end as usize;
            let item = &self.data[start..end];
            start = end;
            item
        })
    }
}

pub type RawJsonStream =
    Pin<Box<dyn Stream<Item = Result<RawJsonBatch>> + Send>>;
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<ByteChunk>> + Send>>;
pub type TextStream = Pin<Box<dyn Stream<Item = Result<TextChunk>> + Send>>;
pub type JsonStream<T> =
    Pin<Box<dyn Stream<Item = Result<JsonBatch<T>>> + Send>>;
