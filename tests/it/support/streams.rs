//! Stream helpers for the client tests: create a stream, append to it and
//! build read options, each request bounded by [`WAIT`].

use bytes::Bytes;
use dsx::client::{
    AppendOptions, AppendResult, Client, CreateOptions, DurableStream,
    LiveMode, Offset, ReadOptions,
};

use super::{Body, TestServer, WAIT, within};

/// Create options with `content_type` and nothing else.
pub fn create_opts(content_type: &str) -> CreateOptions {
    CreateOptions {
        content_type: Some(content_type.to_owned()),
        ..CreateOptions::default()
    }
}

/// Creates the stream at `url` with `content_type`.
pub async fn create_at(
    client: &Client,
    url: &str,
    content_type: &str,
) -> DurableStream {
    within(
        WAIT,
        "create",
        client.create(url, create_opts(content_type)),
    )
    .await
    .expect("create")
}

/// Creates a fresh stream named after `prefix` for `body`'s content type.
pub async fn create(
    server: &TestServer,
    client: &Client,
    body: Body,
    prefix: &str,
) -> DurableStream {
    create_at(client, &server.fresh_url(prefix), body.content_type()).await
}

/// Appends `data` with default options, for a test that checks the result.
pub async fn try_append(
    stream: &DurableStream,
    data: impl Into<Bytes>,
) -> dsx::client::Result<AppendResult> {
    within(
        WAIT,
        "append",
        stream.append(data, AppendOptions::default()),
    )
    .await
}

/// Appends `data` with default options; returns the next offset.
pub async fn append(stream: &DurableStream, data: impl Into<Bytes>) -> Offset {
    try_append(stream, data).await.expect("append").next_offset
}

/// Read options from `offset` in `live` mode, the rest default.
pub fn read_opts(offset: Offset, live: LiveMode) -> ReadOptions {
    ReadOptions {
        offset,
        live,
        ..ReadOptions::default()
    }
}
