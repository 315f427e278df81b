//! Read sessions: catch-up, long-poll, SSE and auto, as async streams.
//!
//! Dropping a returned stream drops its HTTP request.

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadMeta {
    /// Where this item's data starts.
    pub start_offset: Offset,
    /// Where to resume after this item (`Stream-Next-Offset`).
    pub offset: Offset,
    pub up_to_date: bool,
    pub cursor: Option<String>,
    pub stream_closed: bool,
    /// More of the same response follows; `offset` is not yet resumable.
    pub partial: bool,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
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

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<ByteChunk>> + Send>>;
pub type TextStream = Pin<Box<dyn Stream<Item = Result<TextChunk>> + Send>>;
pub type JsonStream<T> = Pin<Box<dyn Stream<Item = Result<JsonBatch<T>>> + Send>>;
