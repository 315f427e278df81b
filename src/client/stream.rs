//! `DurableStream`: one stream's handle and its operations.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::{
    AppendOptions, ByteStream, Client, CloseOptions, CreateOptions,
    JsonStream, Offset, ReadOptions, Result, TextStream,
};

/// A handle to one stream. Cheap to clone; holds no connection.
#[derive(Clone)]
pub struct DurableStream {
    pub(crate) client: Client,
    pub(crate) url: url::Url,
    /// The content type last learnt from create/head/connect, if any.
    pub(crate) content_type: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// Answer to an append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendResult {
    pub next_offset: Offset,
    /// The server answered 204 to producer headers: already appended.
    pub duplicate: bool,
}

/// Answer to a close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseResult {
    pub final_offset: Offset,
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

    pub async fn create(&self, options: CreateOptions) -> Result<()> {
        todo!("{options:?}")
    }

    /// Appends one body. On a JSON stream a single value is wrapped in `[..]`
    /// and an empty array is refused before sending.
    pub async fn append(
        &self,
        data: impl Into<Bytes>,
        options: AppendOptions,
    ) -> Result<AppendResult> {
        let _ = (data.into(), options);
        todo!()
    }

    pub async fn close(&self, options: CloseOptions) -> Result<CloseResult> {
        todo!("{options:?}")
    }

    pub async fn delete(&self) -> Result<()> {
        todo!()
    }

    pub async fn head(&self) -> Result<super::StreamMetadata> {
        todo!()
    }

    /// Creates this stream as a fork of `source` (a path or URL on the same
    /// server) at `offset` (the source's tail when `None`).
    pub async fn fork(
        &self,
        source: &str,
        offset: Option<Offset>,
        options: CreateOptions,
    ) -> Result<()> {
        todo!("{source} {offset:?} {options:?}")
    }

    pub fn read_bytes(&self, options: ReadOptions) -> ByteStream {
        todo!("{options:?}")
    }

    pub fn read_text(&self, options: ReadOptions) -> TextStream {
        todo!("{options:?}")
    }

    pub fn read_json<T: DeserializeOwned + Send + 'static>(
        &self,
        options: ReadOptions,
    ) -> JsonStream<T> {
        todo!("{options:?}")
    }
}
