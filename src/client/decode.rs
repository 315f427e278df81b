//! Turns a session's raw pieces into byte chunks, text chunks or JSON
//! batches.
//!
//! Each decoder hands out one item per piece, except that partial pieces
//! which are ready back to back are merged (up to `MAX_PIECE` bytes): for
//! bytes and text within one response body or SSE event, for JSON also
//! across events, so that a burst of small SSE events becomes one batch. A partial piece that yields
//! nothing (an incomplete UTF-8 sequence, part of a JSON element) is not
//! handed out; non-partial pieces always are, even when empty, because they
//! carry the resumable offset and state.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use super::json_scan::{JsonArrayScanner, ScanError};
use super::read::{
    ByteChunk, ByteStream, JsonBatch, JsonStream, RawJsonBatch, RawJsonStream,
    ReadMeta, TextChunk, TextStream,
};
use super::session::{self, Coalescer, MAX_PIECE, Piece};
use super::{DurableStream, Error, LiveMode, Offset, ReadOptions, Result};

/// Feeds pieces to a decoder.
trait Decoder: Send + 'static {
    type Item: Send + 'static;
    fn push(&mut self, piece: Piece) -> Result<Option<Self::Item>>;
}

/// Whether a read in `live` mode reads a corrupt response again: catch-up
/// and long-poll reads (each response is a plain GET, safe to repeat), and
/// `Auto` reads of streams that it tails with long-poll. (An SSE read fails
/// on a corrupt event; its callers reconnect.)
fn restarts_on_corruption(stream: &DurableStream, live: LiveMode) -> bool {
    match live {
        LiveMode::Off | LiveMode::LongPoll => true,
        LiveMode::Auto => !stream
            .content_type()
            .is_some_and(|ct| session::is_json(&ct) || session::is_text(&ct)),
        LiveMode::Sse => false,
    }
}

/// Runs a read session through `make()`'s decoder. In a catch-up or long-poll read
/// (see `restarts_on_corruption`), a response that fails to decode (or that the session
/// refuses, such as one without `Stream-Next-Offset`) does not end the read
/// when nothing of it was handed out yet: the session is restarted from the
/// last position handed out, with a fresh decoder, after the retry policy's
/// backoff. Only `max_attempts - 1` such restarts in a row are made; the
/// next corrupt response fails the read.
fn run<D: Decoder>(
    stream: DurableStream,
    options: ReadOptions,
    make: impl Fn() -> D + Send + 'static,
) -> impl Stream<Item = Result<D::Item>> + Send + 'static {
    async_stream::try_stream! {
        let live = restarts_on_corruption(&stream, options.live);
        let policy = stream.client().retry_policy().clone();
        let mut options = options;
        let mut corrupt = 0u32;
        'session: loop {
            let mut pieces =
                Box::pin(session::pieces(stream.clone(), options.clone()));
            let mut decoder = make();
            // Everything before this piece was handed out whole: a restart
            // from `options.offset` repeats nothing.
            let mut clean = true;
            while let Some(piece) = pieces.next().await {
                let result = piece.and_then(|piece| {
                    let meta = piece.meta.clone();
                    decoder.push(piece).map(|item| (item, meta))
                });
                match result {
                    Ok((item, meta)) => {
                        clean = !meta.partial;
                        if clean {
                            if meta.offset != options.offset {
                                corrupt = 0;
                            }
                            options.offset = meta.offset.clone();
                            options.cursor.clone_from(&meta.cursor);
                        }
                        if let Some(item) = item {
                            yield item;
                        }
                    }
                    Err(e) => {
                        let again = live
                            && clean
                            && e.is_decode()
                            && corrupt + 1 < policy.max_attempts;
                        if !again {
                            Err(e)?;
                        }
                        corrupt += 1;
                        tokio::time::sleep(policy.delay(corrupt, None)).await;
                        continue 'session;
                    }
                }
            }
            break;
        }
    }
}

pub(crate) fn bytes(stream: DurableStream, options: ReadOptions) -> ByteStream {
    Box::pin(run(stream, options, BytesDecoder::default))
}

pub(crate) fn text(stream: DurableStream, options: ReadOptions) -> TextStream {
    let url = stream.url().clone();
    Box::pin(run(stream, options, move || TextDecoder {
        url: url.clone(),
        carry: Vec::new(),
        text: String::new(),
        start: None,
    }))
}

pub(crate) fn json<T: DeserializeOwned + Send + 'static>(
    stream: DurableStream,
    options: ReadOptions,
) -> JsonStream<T> {
    let url = stream.url().clone();
    Box::pin(run(stream, options, move || {
        JsonDecoder::new(url.clone(), Typed::<T>(Vec::new()))
    }))
}

/// Whether to keep gathering instead of handing out now.
fn keep_gathering(piece: &Piece, gathered: usize) -> bool {
    piece.meta.partial && piece.more_ready && gathered < MAX_PIECE
}

/// Bytes and text keep each unit (response body, SSE data event) apart, so
/// that one SSE event is one item; JSON batches may span units.
fn keep_gathering_in_unit(piece: &Piece, gathered: usize) -> bool {
    !piece.meta.ends_unit && keep_gathering(piece, gathered)
}

/// The item's metadata: the piece's, starting where the first merged piece
/// started.
fn merged_meta(meta: ReadMeta, start: &mut Option<Offset>) -> ReadMeta {
    match start.take() {
        Some(first) => ReadMeta {
            start_offset: first,
            ..meta
        },
        None => meta,
    }
}

#[derive(Default)]
struct BytesDecoder {
    data: Coalescer,
    start: Option<Offset>,
}

impl Decoder for BytesDecoder {
    type Item = ByteChunk;

    fn push(&mut self, piece: Piece) -> Result<Option<ByteChunk>> {
        if piece.meta.partial && piece.data.is_empty() && self.data.len() == 0 {
            return Ok(None);
        }
        if self.start.is_none() {
            self.start = Some(piece.meta.start_offset.clone());
        }
        self.data.push(piece.data.clone());
        if keep_gathering_in_unit(&piece, self.data.len()) {
            return Ok(None);
        }
        Ok(Some(ByteChunk {
            data: self.data.take(),
            meta: merged_meta(piece.meta, &mut self.start),
        }))
    }
}

struct TextDecoder {
    url: url::Url,
    /// An incomplete UTF-8 sequence at the end of the last piece.
    carry: Vec<u8>,
    text: String,
    start: Option<Offset>,
}

impl TextDecoder {
    fn append(&mut self, bytes: &[u8], unit_end: bool) -> Result<()> {
        let joined;
        let bytes = if self.carry.is_empty() {
            bytes
        } else {
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(bytes);
            joined = buf;
            &joined[..]
        };
        match std::str::from_utf8(bytes) {
            Ok(s) => self.text.push_str(s),
            Err(e) => {
                let valid = e.valid_up_to();
                if e.error_len().is_some() {
                    return Err(Error::decode(
                        &self.url,
                        format!(
                            "invalid UTF-8 in text stream at byte {valid} of a piece"
                        ),
                    ));
                }
                // Valid up to `valid` by construction.
                self.text.push_str(
                    std::str::from_utf8(&bytes[..valid]).unwrap_or_default(),
                );
                self.carry = bytes[valid..].to_vec();
            }
        }
        if unit_end && !self.carry.is_empty() {
            self.carry.clear();
            return Err(Error::decode(
                &self.url,
                "text ends inside a UTF-8 sequence",
            ));
        }
        Ok(())
    }
}

impl Decoder for TextDecoder {
    type Item = TextChunk;

    fn push(&mut self, piece: Piece) -> Result<Option<TextChunk>> {
        self.append(&piece.data, piece.meta.ends_unit)?;
        if piece.meta.partial && self.text.is_empty() {
            return Ok(None);
        }
        if self.start.is_none() {
            self.start = Some(piece.meta.start_offset.clone());
        }
        if keep_gathering_in_unit(&piece, self.text.len()) {
            return Ok(None);
        }
        Ok(Some(TextChunk {
            text: std::mem::take(&mut self.text),
            meta: merged_meta(piece.meta, &mut self.start),
        }))
    }
}

/// Collects a JSON batch's elements, typed or raw.
trait JsonSink: Send + 'static {
    type Batch: Send + 'static;
    /// Validates and keeps one element.
    fn push(&mut self, element: &[u8]) -> Result<(), serde_json::Error>;
    fn is_empty(&self) -> bool;
    /// Hands out what was collected.
    fn take(&mut self, meta: ReadMeta) -> Self::Batch;
}

/// Deserializes each element as `T`.
struct Typed<T>(Vec<T>);

impl<T: DeserializeOwned + Send + 'static> JsonSink for Typed<T> {
    type Batch = JsonBatch<T>;

    fn push(&mut self, element: &[u8]) -> Result<(), serde_json::Error> {
        self.0.push(serde_json::from_slice(element)?);
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take(&mut self, meta: ReadMeta) -> JsonBatch<T> {
        JsonBatch {
            items: std::mem::take(&mut self.0),
            meta,
        }
    }
}

/// Keeps each validated element's bytes, packed into one buffer.
#[derive(Default)]
struct Raw {
    data: Vec<u8>,
    ends: Vec<u32>,
}

impl JsonSink for Raw {
    type Batch = RawJsonBatch;

    fn push(&mut self, element: &[u8]) -> Result<(), serde_json::Error> {
        serde_json::from_slice::<serde::de::IgnoredAny>(element)?;
        self.data.extend_from_slice(element);
        // A batch is bounded by MAX_PIECE plus one element, far below 4 GiB.
        self.ends
            .push(u32::try_from(self.data.len()).unwrap_or(u32::MAX));
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn take(&mut self, meta: ReadMeta) -> RawJsonBatch {
        RawJsonBatch {
            data: Bytes::from(std::mem::take(&mut self.data)),
            ends: std::mem::take(&mut self.ends),
            meta,
        }
    }
}

pub(crate) fn json_raw(
    stream: DurableStream,
    options: ReadOptions,
) -> RawJsonStream {
    let url = stream.url().clone();
    Box::pin(run(stream, options, move || {
        JsonDecoder::new(url.clone(), Raw::default())
    }))
}

struct JsonDecoder<S> {
    url: url::Url,
    scanner: JsonArrayScanner,
    /// Bytes of the current unit (response or SSE event) seen so far.
    unit_bytes: u64,
    items: S,
    item_bytes: usize,
    start: Option<Offset>,
}

enum JsonError {
    Frame(ScanError),
    Item(serde_json::Error),
}

impl From<ScanError> for JsonError {
    fn from(e: ScanError) -> Self {
        JsonError::Frame(e)
    }
}

impl<S: JsonSink> JsonDecoder<S> {
    fn new(url: url::Url, items: S) -> Self {
        JsonDecoder {
            url,
            scanner: JsonArrayScanner::new(),
            unit_bytes: 0,
            items,
            item_bytes: 0,
            start: None,
        }
    }

    fn scan(&mut self, data: &Bytes) -> Result<()> {
        let items = &mut self.items;
        let item_bytes = &mut self.item_bytes;
        self.scanner
            .feed(data, |element: &[u8]| -> Result<(), JsonError> {
                items.push(element).map_err(JsonError::Item)?;
                *item_bytes += element.len();
                Ok(())
            })
            .map_err(|e| match e {
                JsonError::Frame(ScanError(m)) => Error::decode(&self.url, m),
                JsonError::Item(e) => Error::decode(
                    &self.url,
                    format!(
                        "invalid JSON message: {}",
                        super::describe_json_error(&e)
                    ),
                ),
            })
    }
}

impl<S: JsonSink> Decoder for JsonDecoder<S> {
    type Item = S::Batch;

    fn push(&mut self, piece: Piece) -> Result<Option<S::Batch>> {
        if !piece.data.is_empty() {
            self.unit_bytes += piece.data.len() as u64;
            self.scan(&piece.data)?;
        }
        if piece.meta.ends_unit {
            // An empty body (a 204, a closed stream's tail) is no array at
            // all, which is fine; a started array must be complete.
            if self.unit_bytes > 0 {
                self.scanner
                    .finish()
                    .map_err(|ScanError(m)| Error::decode(&self.url, m))?;
            }
            self.unit_bytes = 0;
        }
        if piece.meta.partial && self.items.is_empty() {
            return Ok(None);
        }
        if self.start.is_none() {
            self.start = Some(piece.meta.start_offset.clone());
        }
        if keep_gathering(&piece, self.item_bytes) {
            return Ok(None);
        }
        self.item_bytes = 0;
        let meta = merged_meta(piece.meta, &mut self.start);
        Ok(Some(self.items.take(meta)))
    }
}

/// Runs `pieces` (one response body, the last piece ending it) through the
/// raw JSON decoder; returns the messages decoded. For `bench_api` only.
pub(super) fn bench_raw_decode(pieces: &[Bytes]) -> Result<usize> {
    let mut decoder = JsonDecoder::new(
        url::Url::parse("http://127.0.0.1/bench").expect("valid URL"),
        Raw::default(),
    );
    let mut count = 0;
    for (i, data) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        let meta = ReadMeta {
            start_offset: Offset::START,
            offset: Offset::START,
            up_to_date: last,
            cursor: None,
            stream_closed: false,
            partial: !last,
            ends_unit: last,
            etag: None,
            cache_control: None,
            status: 200,
        };
        // Pieces arrive one by one, as from a socket read.
        let piece = Piece {
            data: data.clone(),
            meta,
            more_ready: false,
        };
        if let Some(batch) = decoder.push(piece)? {
            count += batch.len();
        }
    }
    Ok(count)
}

/// The decoders run over given pieces, for the unit tests.
#[cfg(test)]
fn run_pieces<D: Decoder>(
    pieces: impl Stream<Item = Result<Piece>> + Send + 'static,
    mut decoder: D,
) -> impl Stream<Item = Result<D::Item>> + Send + 'static {
    async_stream::try_stream! {
        let mut pieces = Box::pin(pieces);
        while let Some(piece) = pieces.next().await {
            if let Some(item) = decoder.push(piece?)? {
                yield item;
            }
        }
    }
}

#[cfg(test)]
fn pieces_bytes(
    pieces: impl Stream<Item = Result<Piece>> + Send + 'static,
) -> ByteStream {
    Box::pin(run_pieces(pieces, BytesDecoder::default()))
}

#[cfg(test)]
fn pieces_text(
    pieces: impl Stream<Item = Result<Piece>> + Send + 'static,
    url: url::Url,
) -> TextStream {
    Box::pin(run_pieces(
        pieces,
        TextDecoder {
            url,
            carry: Vec::new(),
            text: String::new(),
            start: None,
        },
    ))
}

#[cfg(test)]
fn pieces_json<T: DeserializeOwned + Send + 'static>(
    pieces: impl Stream<Item = Result<Piece>> + Send + 'static,
    url: url::Url,
) -> JsonStream<T> {
    Box::pin(run_pieces(
        pieces,
        JsonDecoder::new(url, Typed::<T>(Vec::new())),
    ))
}

#[cfg(test)]
fn pieces_json_raw(
    pieces: impl Stream<Item = Result<Piece>> + Send + 'static,
    url: url::Url,
) -> RawJsonStream {
    Box::pin(run_pieces(pieces, JsonDecoder::new(url, Raw::default())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn meta(partial: bool, offset: &str, ends_unit: bool) -> ReadMeta {
        ReadMeta {
            start_offset: Offset::new("s"),
            offset: Offset::new(offset),
            up_to_date: !partial,
            cursor: None,
            stream_closed: false,
            partial,
            ends_unit,
            etag: None,
            cache_control: None,
            status: 200,
        }
    }

    fn piece(
        data: &[u8],
        partial: bool,
        unit_end: bool,
        more_ready: bool,
    ) -> Piece {
        Piece {
            data: Bytes::copy_from_slice(data),
            meta: meta(partial, if partial { "p" } else { "end" }, unit_end),
            more_ready,
        }
    }

    /// A body split into pieces at `cuts`, the last piece final.
    fn body(bytes: &[u8], cuts: &[usize]) -> Vec<Result<Piece>> {
        let mut out = Vec::new();
        let mut from = 0;
        for &cut in cuts {
            out.push(Ok(piece(&bytes[from..cut], true, false, false)));
            from = cut;
        }
        out.push(Ok(piece(&bytes[from..], false, true, false)));
        out
    }

    fn url() -> url::Url {
        url::Url::parse("http://h/s").unwrap()
    }

    async fn collect<T>(s: impl Stream<Item = Result<T>>) -> Result<Vec<T>> {
        let mut s = Box::pin(s);
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            out.push(item?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn text_never_splits_utf8() {
        let text = "aé€😀z";
        let bytes = text.as_bytes();
        for cut in 1..bytes.len() {
            let chunks = collect(super::pieces_text(
                stream::iter(body(bytes, &[cut])),
                url(),
            ))
            .await
            .unwrap();
            let joined: String =
                chunks.iter().map(|c| c.text.as_str()).collect();
            assert_eq!(joined, text);
            assert!(chunks.last().unwrap().meta.is_resumable());
        }
    }

    #[tokio::test]
    async fn text_rejects_bad_utf8() {
        let bad = collect(super::pieces_text(
            stream::iter(body(b"ab\xffc", &[])),
            url(),
        ))
        .await;
        assert!(bad.unwrap_err().is_decode());
        let truncated = collect(super::pieces_text(
            stream::iter(body(&"é".as_bytes()[..1], &[])),
            url(),
        ));
        assert!(truncated.await.unwrap_err().is_decode());
    }

    #[tokio::test]
    async fn json_items_across_pieces() {
        let bytes = br#"[{"a":1},{"b":"x\"]"},[2,3]]"#;
        for cut in 0..=bytes.len() {
            let batches = collect(super::pieces_json::<serde_json::Value>(
                stream::iter(body(bytes, &[cut])),
                url(),
            ))
            .await
            .unwrap();
            let items: Vec<_> =
                batches.iter().flat_map(|b| b.items.clone()).collect();
            assert_eq!(
                items,
                vec![
                    serde_json::json!({"a":1}),
                    serde_json::json!({"b":"x\"]"}),
                    serde_json::json!([2, 3])
                ]
            );
            let last = batches.last().unwrap();
            assert!(!last.meta.partial);
            assert_eq!(last.meta.offset.as_str(), "end");
            assert!(
                batches
                    .iter()
                    .rev()
                    .skip(1)
                    .all(|b| b.meta.partial && !b.items.is_empty())
            );
        }
    }

    #[tokio::test]
    async fn raw_json_items_keep_the_sent_bytes_across_pieces() {
        let bytes = br#"[ {"a": 1} ,"x\"]",[2, 3]]"#;
        for cut in 0..=bytes.len() {
            let batches = collect(super::pieces_json_raw(
                stream::iter(body(bytes, &[cut])),
                url(),
            ))
            .await
            .unwrap();
            let items: Vec<Vec<u8>> = batches
                .iter()
                .flat_map(|b| b.items().map(<[u8]>::to_vec).collect::<Vec<_>>())
                .collect();
            let want: [&[u8]; 3] = [br#"{"a": 1}"#, br#""x\"]""#, b"[2, 3]"];
            assert_eq!(items, want.map(<[u8]>::to_vec), "cut at {cut}");
            assert!(!batches.last().unwrap().meta.partial);
        }
        let invalid = body(br#"[{"a":1},{"b":}]"#, &[]);
        let err = collect(super::pieces_json_raw(stream::iter(invalid), url()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("invalid JSON message"), "{err}");
    }

    #[tokio::test]
    async fn json_errors_and_empty_bodies() {
        let truncated = body(br#"[{"a":1},{"b""#, &[]);
        let err = collect(super::pieces_json::<serde_json::Value>(
            stream::iter(truncated),
            url(),
        ));
        assert!(err.await.unwrap_err().is_decode());
        let typed = collect(super::pieces_json::<u32>(
            stream::iter(body(br#"["x"]"#, &[])),
            url(),
        ));
        assert!(typed.await.unwrap_err().is_decode());
        // An empty body (204) and `[]` are empty batches.
        for empty in [&b""[..], b"[]"] {
            let batches = collect(super::pieces_json::<u32>(
                stream::iter(body(empty, &[])),
                url(),
            ))
            .await
            .unwrap();
            assert_eq!(batches.len(), 1);
            assert!(batches[0].items.is_empty());
        }
    }

    #[tokio::test]
    async fn ready_partials_merge() {
        // Three SSE events ready together, then the control's final piece.
        let pieces = || {
            vec![
                Ok(piece(b"[1]", true, true, true)),
                Ok(piece(b"[2]", true, true, true)),
                Ok(piece(b"[3]", false, true, false)),
            ]
        };
        let batches =
            collect(super::pieces_json::<u32>(stream::iter(pieces()), url()))
                .await
                .unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].items, vec![1, 2, 3]);
        // Bytes keep one item per event; only the last is positioned.
        let chunks = collect(super::pieces_bytes(stream::iter(pieces())))
            .await
            .unwrap();
        let data: Vec<_> = chunks.iter().map(|c| c.data.clone()).collect();
        assert_eq!(data, ["[1]", "[2]", "[3]"]);
        assert!(chunks.iter().all(|c| c.meta.ends_unit), "one event each");
        assert!(chunks[0].meta.partial && chunks[1].meta.partial);
        assert_eq!(chunks[2].meta.offset.as_str(), "end");
        // Pieces of one unit that are ready together merge.
        let split = vec![
            Ok(piece(b"ab", true, false, true)),
            Ok(piece(b"cd", true, false, true)),
            Ok(piece(b"ef", false, true, false)),
        ];
        let chunks = collect(super::pieces_bytes(stream::iter(split)))
            .await
            .unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, "abcdef");
        assert!(chunks[0].meta.ends_unit);
    }
}
