//! `DurableStream`: one stream's handle and its operations.

use std::sync::{Arc, Mutex};

use ::http::{Method, StatusCode};
use bytes::{BufMut, Bytes, BytesMut};
use serde::de::DeserializeOwned;

use super::error::{ErrorContext, header_is_true, header_str, header_u64};
use super::http::{self, Op, Phase, Request, names};
use super::session::is_json;
use super::{
    AppendOptions, ByteStream, Client, CloseOptions, CreateOptions, Error,
    JsonStream, Offset, ProducerStamp, RawJsonStream, ReadOptions, Result,
    TextStream, decode,
};

/// The type the servers give a stream created without one.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// A handle to one stream. Cheap to clone; holds no connection.
#[derive(Clone)]
pub struct DurableStream {
    pub(crate) client: Client,
    pub(crate) url: url::Url,
    /// The content type last learnt from create/head/connect, if any.
    pub(crate) content_type: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl std::fmt::Debug for DurableStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableStream")
            .field("url", &self.url.as_str())
            .field("content_type", &self.content_type())
            .finish_non_exhaustive()
    }
}

/// Answer to an append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendResult {
    /// `Stream-Next-Offset`: the tail after the append. Empty when the
    /// server sent none (the Node server omits it on a producer's 204
    /// duplicate).
    pub next_offset: Offset,
    /// The server answered 204 to producer headers: already appended.
    pub duplicate: bool,
}

/// Answer to a close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseResult {
    /// The stream's final offset (empty if the server sent none).
    pub final_offset: Offset,
}

/// Answer to a create or fork, from [`DurableStream::create_detailed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateResult {
    /// 201 (created) rather than 200 (it existed with this configuration).
    pub created: bool,
    /// HTTP status (201 or 200).
    pub status: u16,
    /// The tail after any initial data, if the server said.
    pub next_offset: Option<Offset>,
    /// The stream's content type, as the server reported (or as sent).
    pub content_type: Option<String>,
    pub closed: bool,
}

/// What HEAD tells about a stream.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StreamMetadata {
    pub content_type: Option<String>,
    pub next_offset: Offset,
    pub closed: bool,
    /// `Stream-TTL`, in seconds.
    pub ttl: Option<u64>,
    /// `Stream-Expires-At`, as sent.
    pub expires_at: Option<String>,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
}

impl DurableStream {
    pub(crate) fn new(client: Client, url: url::Url) -> Self {
        DurableStream {
            client,
            url,
            content_type: Arc::new(Mutex::new(None)),
        }
    }

    pub fn url(&self) -> &url::Url {
        &self.url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The content type learnt from the server, if known.
    pub fn content_type(&self) -> Option<String> {
        self.content_type.lock().expect("not poisoned").clone()
    }

    /// This handle, told that its stream has `content_type` (as known from
    /// elsewhere: an earlier handle, the caller's own records), so that an
    /// append or close without an explicit type sends it without first
    /// asking the server with a HEAD, and an `Auto` read picks its live
    /// transport from it. Clones of the handle share what it knows;
    /// responses that report another type replace it.
    #[must_use]
    pub fn with_content_type(self, content_type: impl AsRef<str>) -> Self {
        self.set_content_type(content_type);
        self
    }

    /// Tells this handle (and its clones) that its stream has
    /// `content_type`; see [`DurableStream::with_content_type`].
    pub fn set_content_type(&self, content_type: impl AsRef<str>) {
        self.learn_content_type(content_type.as_ref());
    }

    /// Records the stream's content type (as learnt from a response).
    pub(crate) fn learn_content_type(&self, content_type: &str) {
        let mut slot = self.content_type.lock().expect("not poisoned");
        if slot.as_deref() != Some(content_type) {
            *slot = Some(content_type.to_owned());
        }
    }

    fn forget_content_type(&self) {
        *self.content_type.lock().expect("not poisoned") = None;
    }

    /// Creates the stream (`PUT`). Succeeds too when it already exists with
    /// the same configuration.
    pub async fn create(&self, options: CreateOptions) -> Result<()> {
        self.create_detailed(options).await.map(|_| ())
    }

    /// [`create`](Self::create), telling whether the stream was new.
    pub async fn create_detailed(
        &self,
        options: CreateOptions,
    ) -> Result<CreateResult> {
        self.put(options, None).await
    }

    async fn put(
        &self,
        options: CreateOptions,
        fork: Option<(String, Option<Offset>)>,
    ) -> Result<CreateResult> {
        let op = Op::begin(&self.client).await?;
        let mut req = Request::new(Method::PUT, &self.url, Phase::Ordinary);
        req.ctx.create = true;
        if let Some(ct) = &options.content_type {
            req.header(names::CONTENT_TYPE, ct)?;
        }
        if let Some(ttl) = options.ttl {
            // The header is whole seconds; rounding a fraction either way
            // would silently change the stream's lifetime.
            if ttl.subsec_nanos() != 0 {
                return Err(Error::InvalidArgument(format!(
                    "ttl must be whole seconds, got {ttl:?}"
                )));
            }
            req.header(names::STREAM_TTL, &ttl.as_secs().to_string())?;
        }
        if let Some(at) = &options.expires_at {
            req.header(names::STREAM_EXPIRES_AT, at)?;
        }
        if options.closed {
            req.header(names::STREAM_CLOSED, "true")?;
        }
        let forked = fork.is_some();
        if let Some((source, offset)) = fork {
            req.header(names::STREAM_FORKED_FROM, &source)?;
            if let Some(offset) = offset {
                req.header(names::STREAM_FORK_OFFSET, offset.as_str())?;
            }
        }
        req.body.clone_from(&options.data);
        req.extra_headers(&options.headers)?;
        let reply = http::send(&op, &req).await?;
        let headers = &reply.headers;
        let content_type = header_str(headers, names::CONTENT_TYPE)
            .map(str::to_owned)
            .or(options.content_type)
            .or_else(|| (!forked).then(|| DEFAULT_CONTENT_TYPE.to_owned()));
        if let Some(ct) = &content_type {
            self.learn_content_type(ct);
        }
        Ok(CreateResult {
            created: reply.status == StatusCode::CREATED,
            status: reply.status.as_u16(),
            next_offset: header_str(headers, names::STREAM_NEXT_OFFSET)
                .map(Offset::new),
            content_type,
            closed: header_is_true(headers, names::STREAM_CLOSED),
        })
    }

    /// Appends one body. On a JSON stream a single value is wrapped in `[..]`
    /// (so it is stored as one message), a top-level array is sent as it is
    /// (a batch: the server stores each element as a message; wrap an array
    /// yourself to store it as one message), an empty array is refused, and
    /// invalid JSON is refused, all before sending. An empty body is refused
    /// on every stream.
    ///
    /// Retries: see `retry.rs`. A plain append is not replayed after the
    /// connection dropped mid-request (it may have been stored); one with
    /// `seq` or `Producer-*` headers is.
    pub async fn append(
        &self,
        data: impl Into<Bytes>,
        options: AppendOptions,
    ) -> Result<AppendResult> {
        let data = data.into();
        let op = Op::begin(&self.client).await?;
        let content_type = self
            .write_content_type(
                &op,
                options.content_type.as_deref(),
                &options.headers,
            )
            .await?;
        let body = prepare_body(&content_type, data)?;
        let mut req = Request::new(Method::POST, &self.url, Phase::Ordinary);
        req.header(names::CONTENT_TYPE, &content_type)?;
        if let Some(seq) = &options.seq {
            req.header(names::STREAM_SEQ, seq)?;
        }
        stamp(&mut req, options.producer.as_ref())?;
        req.extra_headers(&options.headers)?;
        req.body = Some(body);
        let ctx = write_context(&req);
        req.ctx = ctx;
        req.replay_safe = ctx.has_producer || ctx.has_seq;
        let reply = http::send(&op, &req).await?;
        Ok(AppendResult {
            next_offset: header_str(&reply.headers, names::STREAM_NEXT_OFFSET)
                .map_or_else(|| Offset::new(""), Offset::new),
            duplicate: ctx.has_producer
                && reply.status == StatusCode::NO_CONTENT,
        })
    }

    /// Closes the stream: an empty `POST` with `Stream-Closed: true`
    /// (idempotent), or, with `data`, an atomic append-and-close (prepared
    /// as for [`append`](Self::append)). Returns the final offset.
    pub async fn close(&self, options: CloseOptions) -> Result<CloseResult> {
        let op = Op::begin(&self.client).await?;
        let mut req = Request::new(Method::POST, &self.url, Phase::Ordinary);
        req.header(names::STREAM_CLOSED, "true")?;
        let with_data = options.data.as_ref().is_some_and(|d| !d.is_empty());
        if with_data {
            let content_type = self
                .write_content_type(
                    &op,
                    options.content_type.as_deref(),
                    &options.headers,
                )
                .await?;
            let data = options.data.clone().unwrap_or_default();
            req.body = Some(prepare_body(&content_type, data)?);
            req.header(names::CONTENT_TYPE, &content_type)?;
        } else {
            req.body = Some(Bytes::new());
        }
        stamp(&mut req, options.producer.as_ref())?;
        req.extra_headers(&options.headers)?;
        let ctx = write_context(&req);
        req.ctx = ctx;
        // A close-only request is idempotent; an append-and-close only with
        // producer headers.
        req.replay_safe = !with_data || ctx.has_producer || ctx.has_seq;
        let reply = http::send(&op, &req).await?;
        Ok(CloseResult {
            final_offset: header_str(&reply.headers, names::STREAM_NEXT_OFFSET)
                .map_or_else(|| Offset::new(""), Offset::new),
        })
    }

    pub async fn delete(&self) -> Result<()> {
        let op = Op::begin(&self.client).await?;
        let req = Request::new(Method::DELETE, &self.url, Phase::Ordinary);
        http::send(&op, &req).await?;
        self.forget_content_type();
        Ok(())
    }

    pub async fn head(&self) -> Result<super::StreamMetadata> {
        let op = Op::begin(&self.client).await?;
        self.head_with(&op, &[]).await
    }

    async fn head_with(
        &self,
        op: &Op,
        headers: &[(String, String)],
    ) -> Result<StreamMetadata> {
        let mut req = Request::new(Method::HEAD, &self.url, Phase::Ordinary);
        req.extra_headers(headers)?;
        let reply = http::send(op, &req).await?;
        let h = &reply.headers;
        let next_offset =
            header_str(h, names::STREAM_NEXT_OFFSET).ok_or_else(|| {
                Error::decode(
                    &reply.url,
                    "HEAD response has no Stream-Next-Offset",
                )
            })?;
        let content_type =
            header_str(h, names::CONTENT_TYPE).map(str::to_owned);
        if let Some(ct) = &content_type {
            self.learn_content_type(ct);
        }
        Ok(StreamMetadata {
            content_type,
            next_offset: Offset::new(next_offset),
            closed: header_is_true(h, names::STREAM_CLOSED),
            ttl: header_u64(h, names::STREAM_TTL),
            expires_at: header_str(h, names::STREAM_EXPIRES_AT)
                .map(str::to_owned),
            etag: header_str(h, names::ETAG).map(str::to_owned),
            cache_control: header_str(h, names::CACHE_CONTROL)
                .map(str::to_owned),
        })
    }

    /// Creates this stream as a fork of `source` (a path or URL on the same
    /// server) at `offset` (the source's tail when `None`). A relative
    /// `source` resolves against the base URL like any stream path, or, when
    /// the client has none, is a path on this stream's server.
    pub async fn fork(
        &self,
        source: &str,
        offset: Option<Offset>,
        options: CreateOptions,
    ) -> Result<()> {
        self.fork_detailed(source, offset, options)
            .await
            .map(|_| ())
    }

    /// [`fork`](Self::fork), telling whether the fork was new.
    pub async fn fork_detailed(
        &self,
        source: &str,
        offset: Option<Offset>,
        options: CreateOptions,
    ) -> Result<CreateResult> {
        // A relative source resolves like any stream path when the client
        // has a base URL; without one it is a path on the fork's server.
        let source_url = match self.client.resolve(source) {
            Ok(url) => url,
            Err(_)
                if self.client.base_url().is_none()
                    && source.starts_with('/') =>
            {
                self.url.join(source).map_err(|e| {
                    Error::InvalidArgument(format!(
                        "invalid fork source {source:?}: {e}"
                    ))
                })?
            }
            Err(e) => return Err(e),
        };
        if source_url.origin() != self.url.origin() {
            return Err(Error::InvalidArgument(format!(
                "fork source {source_url} is not on the same server as {}",
                self.url
            )));
        }
        self.put(options, Some((source_url.path().to_owned(), offset)))
            .await
    }

    /// Reads raw bytes. See [`ReadMeta`](super::ReadMeta) for how items are
    /// positioned.
    pub fn read_bytes(&self, options: ReadOptions) -> ByteStream {
        decode::bytes(self.clone(), options)
    }

    /// Reads UTF-8 text; a piece never ends inside a character. Invalid
    /// UTF-8 fails the read with [`Error::Decode`].
    pub fn read_text(&self, options: ReadOptions) -> TextStream {
        decode::text(self.clone(), options)
    }

    /// Reads the messages of a JSON stream, deserialized as `T`, in batches
    /// bounded by the bytes that arrived together.
    pub fn read_json<T: DeserializeOwned + Send + 'static>(
        &self,
        options: ReadOptions,
    ) -> JsonStream<T> {
        decode::json(self.clone(), options)
    }

    /// Reads the messages of a JSON stream without deserializing them: each
    /// is validated and kept as the bytes the server sent.
    pub fn read_json_raw(&self, options: ReadOptions) -> RawJsonStream {
        decode::json_raw(self.clone(), options)
    }

    /// The content type for a write: the caller's, the one learnt, or one
    /// HEAD (cached).
    async fn write_content_type(
        &self,
        op: &Op,
        explicit: Option<&str>,
        headers: &super::Headers,
    ) -> Result<String> {
        if let Some(ct) = explicit {
            return Ok(ct.to_owned());
        }
        if let Some(ct) = self.content_type() {
            return Ok(ct);
        }
        let meta = self.head_with(op, headers).await?;
        let ct = meta
            .content_type
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        self.learn_content_type(&ct);
        Ok(ct)
    }
}

/// The producer headers of `producer`, if any.
fn stamp(req: &mut Request, producer: Option<&ProducerStamp>) -> Result<()> {
    if let Some(p) = producer {
        req.header(names::PRODUCER_ID, &p.id)?;
        req.header(names::PRODUCER_EPOCH, &p.epoch.to_string())?;
        req.header(names::PRODUCER_SEQ, &p.seq.to_string())?;
    }
    Ok(())
}

fn write_context(req: &Request) -> ErrorContext {
    ErrorContext {
        create: false,
        has_seq: req.has_header(names::STREAM_SEQ),
        has_producer: req.has_header(names::PRODUCER_ID),
    }
}

/// Checks and frames an append body for the stream's content type.
pub(crate) fn prepare_body(content_type: &str, data: Bytes) -> Result<Bytes> {
    if data.is_empty() {
        return Err(Error::InvalidArgument(
            "empty append: there is nothing to send".into(),
        ));
    }
    if !is_json(content_type) {
        return Ok(data);
    }
    let trimmed = data.trim_ascii();
    if trimmed.is_empty() {
        return Err(Error::InvalidArgument(
            "empty append to a JSON stream: expected a JSON value".into(),
        ));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).map_err(|e| {
        Error::InvalidArgument(format!(
            "append to a JSON stream is not valid JSON: {}",
            super::describe_json_error(&e)
        ))
    })?;
    if trimmed[0] == b'[' {
        if trimmed[1..].trim_ascii_start().first() == Some(&b']') {
            return Err(Error::InvalidArgument(
                "empty JSON array: an append must carry at least one message"
                    .into(),
            ));
        }
        return Ok(data);
    }
    let mut body = BytesMut::with_capacity(trimmed.len() + 2);
    body.put_u8(b'[');
    body.extend_from_slice(trimmed);
    body.put_u8(b']');
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = "application/json; charset=utf-8";

    fn prep(ct: &str, body: &str) -> Result<String> {
        prepare_body(ct, Bytes::copy_from_slice(body.as_bytes()))
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn json_values_are_wrapped() {
        assert_eq!(prep(JSON, r#" {"a":1} "#).unwrap(), r#"[{"a":1}]"#);
        assert_eq!(prep("Application/JSON", "3").unwrap(), "[3]");
        assert_eq!(prep(JSON, r#""s""#).unwrap(), r#"["s"]"#);
    }

    #[test]
    fn json_arrays_are_batches() {
        assert_eq!(prep(JSON, "[1, 2]").unwrap(), "[1, 2]");
        assert_eq!(prep(JSON, "[[]]").unwrap(), "[[]]");
    }

    #[test]
    fn invalid_json_says_its_position_once() {
        let err = prepare_body("application/json", Bytes::from("[1,\n  x]"))
            .expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "invalid argument: append to a JSON stream is not valid JSON: \
             expected value at line 2, column 3"
        );
    }

    #[test]
    fn json_refusals() {
        for bad in ["[]", " [ \n ] ", "", "  ", "{", "[1,]", "1 2", "nope"] {
            assert!(
                prep(JSON, bad).unwrap_err().is_invalid_argument(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn other_types_pass_through() {
        assert_eq!(prep("text/plain", "[]").unwrap(), "[]");
        assert_eq!(prep("application/octet-stream", "{").unwrap(), "{");
        assert!(prep("text/plain", "").unwrap_err().is_invalid_argument());
    }
}
