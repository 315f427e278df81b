//! Read helpers: drive a read session with bounded waits, and numbered test
//! messages for JSON, text and binary streams that can be told apart after
//! the server and client have re-chunked them.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use dsx::client::{
    ByteChunk, DurableStream, Error, JsonBatch, Offset, ReadMeta, ReadOptions,
    TextChunk,
};
use futures::{Stream, StreamExt};
use tokio::time::Instant;

/// One item of a read session: its metadata and its data.
pub trait Chunk: Send + 'static {
    /// Everything read so far, concatenated.
    type Data: Default + Send;
    /// A copy of the item's metadata (the client's own `ReadMeta`).
    fn meta(&self) -> ReadMeta;
    fn append_to(self, out: &mut Self::Data);
}

impl Chunk for ByteChunk {
    type Data = Vec<u8>;
    fn meta(&self) -> ReadMeta {
        self.meta.clone()
    }
    fn append_to(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.data);
    }
}

impl Chunk for TextChunk {
    type Data = String;
    fn meta(&self) -> ReadMeta {
        self.meta.clone()
    }
    fn append_to(self, out: &mut String) {
        out.push_str(&self.text);
    }
}

impl<T: Send + 'static> Chunk for JsonBatch<T> {
    type Data = Vec<T>;
    fn meta(&self) -> ReadMeta {
        self.meta.clone()
    }
    fn append_to(self, out: &mut Vec<T>) {
        out.extend(self.items);
    }
}

/// A boxed read session, as the client returns it.
pub type Session<C> =
    Pin<Box<dyn Stream<Item = dsx::client::Result<C>> + Send>>;

/// What a read session produced.
#[derive(Debug, Default)]
pub struct Drained<D> {
    pub data: D,
    /// One entry per item, in order.
    pub metas: Vec<ReadMeta>,
    /// The session yielded `None`.
    pub ended: bool,
    /// The session yielded this error (reading stopped there).
    pub error: Option<Error>,
}

impl<D> Drained<D> {
    /// The last item's metadata.
    pub fn last(&self) -> &ReadMeta {
        last_meta(&self.metas)
    }

    /// Panics with the error if the session failed.
    pub fn ok(self) -> Self {
        panic_on(self.error.as_ref());
        self
    }
}

/// The last of a read's item metadata; panics if there was no item.
fn last_meta(metas: &[ReadMeta]) -> &ReadMeta {
    metas.last().expect("the read yielded at least one item")
}

/// Panics with a read's error, if it has one.
fn panic_on(error: Option<&Error>) {
    if let Some(e) = error {
        panic!("read failed: {e} ({e:?})");
    }
}

/// Upper bound on items per session, so no loop runs unbounded.
pub const MAX_ITEMS: usize = 200_000;

/// Reads until the session ends or fails, or until `stop(data, meta)` holds
/// after an item (`meta` being that item's). Panics if that takes longer
/// than `limit`.
pub async fn read_while<C: Chunk>(
    session: &mut Session<C>,
    limit: Duration,
    mut stop: impl FnMut(&C::Data, &ReadMeta) -> bool,
) -> Drained<C::Data> {
    let deadline = Instant::now() + limit;
    let mut out = Drained::<C::Data>::default();
    for _ in 0..MAX_ITEMS {
        let next = tokio::time::timeout_at(deadline, session.next()).await;
        let Ok(next) = next else {
            panic!(
                "read did not reach its goal within {limit:?}; {} items so \
                 far, last meta {:?}",
                out.metas.len(),
                out.metas.last()
            );
        };
        match next {
            None => {
                out.ended = true;
                return out;
            }
            Some(Err(e)) => {
                out.error = Some(e);
                return out;
            }
            Some(Ok(chunk)) => {
                let meta = chunk.meta();
                chunk.append_to(&mut out.data);
                let done = stop(&out.data, &meta);
                out.metas.push(meta);
                if done {
                    return out;
                }
            }
        }
    }
    panic!("read yielded more than {MAX_ITEMS} items");
}

/// Reads until the session ends or fails.
pub async fn drain<C: Chunk>(
    session: &mut Session<C>,
    limit: Duration,
) -> Drained<C::Data> {
    read_while(session, limit, |_, _| false).await
}

/// The three content kinds, with numbered messages that survive re-chunking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    Json,
    Text,
    Binary,
}

/// Bytes per text message: `é-NNNNNN\n` (é is two bytes in UTF-8).
const TEXT_FRAME: usize = 10;
/// Bytes per binary message: a marker that is invalid UTF-8 and has CR/LF,
/// then the number in big-endian.
const BIN_FRAME: usize = 8;
const BIN_MARK: [u8; 4] = [0xff, 0x00, 0x0d, 0x0a];

/// What a numbered read produced.
#[derive(Debug, Default)]
pub struct Received {
    pub numbers: Vec<u32>,
    pub metas: Vec<ReadMeta>,
    pub ended: bool,
    pub error: Option<Error>,
}

impl Received {
    /// The last item's metadata.
    pub fn last(&self) -> &ReadMeta {
        last_meta(&self.metas)
    }

    /// Panics with the error if the read failed.
    pub fn ok(self) -> Self {
        panic_on(self.error.as_ref());
        self
    }
}

impl Body {
    pub fn content_type(self) -> &'static str {
        match self {
            Body::Json => "application/json",
            Body::Text => "text/plain",
            Body::Binary => "application/octet-stream",
        }
    }

    /// The message numbered `n`.
    pub fn message(self, n: u32) -> Bytes {
        match self {
            Body::Json => {
                Bytes::from(format!(r#"{{"n":{n},"s":"é \" \\ \n"}}"#))
            }
            Body::Text => Bytes::from(format!("é-{n:06}\n")),
            Body::Binary => {
                let mut v = BIN_MARK.to_vec();
                v.extend_from_slice(&n.to_be_bytes());
                Bytes::from(v)
            }
        }
    }

    /// Messages `range` concatenated as one append body (a JSON array for
    /// JSON streams, which the server flattens into separate messages).
    pub fn batch(self, range: std::ops::Range<u32>) -> Bytes {
        let parts: Vec<Bytes> = range.map(|n| self.message(n)).collect();
        if self == Body::Json {
            let inner: Vec<&str> = parts
                .iter()
                .map(|b| std::str::from_utf8(b).expect("JSON is UTF-8"))
                .collect();
            Bytes::from(format!("[{}]", inner.join(",")))
        } else {
            Bytes::from(parts.concat())
        }
    }

    /// Reads the whole stream from the start in catch-up mode.
    pub async fn read_all(self, stream: &DurableStream) -> Received {
        let options =
            super::read_opts(Offset::START, dsx::client::LiveMode::Off);
        self.read(stream, options, None, super::WAIT).await
    }

    /// Reads with `options` until `want` messages arrived (`None`: until the
    /// session ends or fails), within `limit`.
    pub async fn read(
        self,
        stream: &DurableStream,
        options: ReadOptions,
        want: Option<usize>,
        limit: Duration,
    ) -> Received {
        // Enough messages, and at a resumable item: the rest of a response
        // whose pieces are still `partial` may follow.
        let enough = |count: usize, meta: &ReadMeta| {
            !meta.partial && want.is_some_and(|w| count >= w)
        };
        match self {
            Body::Json => {
                let mut s = stream.read_json::<serde_json::Value>(options);
                let d =
                    read_while(&mut s, limit, |d, m| enough(d.len(), m)).await;
                let numbers = d.data.iter().map(json_number).collect();
                received(numbers, d.metas, d.ended, d.error)
            }
            Body::Text => {
                let mut s = stream.read_text(options);
                let d = read_while(&mut s, limit, |d, m| {
                    enough(d.len() / TEXT_FRAME, m)
                })
                .await;
                let numbers = text_numbers(&d.data, d.ended);
                received(numbers, d.metas, d.ended, d.error)
            }
            Body::Binary => {
                let mut s = stream.read_bytes(options);
                let d = read_while(&mut s, limit, |d, m| {
                    enough(d.len() / BIN_FRAME, m)
                })
                .await;
                let numbers = binary_numbers(&d.data, d.ended);
                received(numbers, d.metas, d.ended, d.error)
            }
        }
    }
}

fn received(
    numbers: Vec<u32>,
    metas: Vec<ReadMeta>,
    ended: bool,
    error: Option<Error>,
) -> Received {
    Received {
        numbers,
        metas,
        ended,
        error,
    }
}

fn json_number(value: &serde_json::Value) -> u32 {
    assert_eq!(value["s"], "é \" \\ \n", "message text mangled: {value}");
    let n = value["n"]
        .as_u64()
        .unwrap_or_else(|| panic!("no n: {value}"));
    u32::try_from(n).expect("message numbers fit u32")
}

/// Decodes whole messages; a trailing part of one is allowed only when the
/// read stopped early (`ended == false`: the rest may still be on its way).
fn text_numbers(text: &str, ended: bool) -> Vec<u32> {
    let whole = text.len() - text.len() % TEXT_FRAME;
    assert!(
        !ended || whole == text.len(),
        "text is not whole messages: {text:?}"
    );
    text[..whole]
        .lines()
        .map(|line| {
            let digits = line
                .strip_prefix("é-")
                .unwrap_or_else(|| panic!("bad text message {line:?}"));
            digits
                .parse()
                .unwrap_or_else(|_| panic!("bad number {line:?}"))
        })
        .collect()
}

fn binary_numbers(data: &[u8], ended: bool) -> Vec<u32> {
    assert!(
        !ended || data.len().is_multiple_of(BIN_FRAME),
        "binary data is not whole messages ({} bytes)",
        data.len()
    );
    data.chunks_exact(BIN_FRAME)
        .map(|frame| {
            assert_eq!(frame[..4], BIN_MARK, "binary frame mangled: {frame:?}");
            u32::from_be_bytes(frame[4..].try_into().expect("4 bytes"))
        })
        .collect()
}

/// `0..n` as a vector, for comparing with [`Received::numbers`].
pub fn numbers_of(range: std::ops::Range<u32>) -> Vec<u32> {
    range.collect()
}
