//! The client's typed error, mirroring the seed's exception hierarchy.

use std::time::Duration;

use super::offset::Offset;

/// Everything a client call can fail with. Each variant carries the URL and,
/// where a response arrived, its HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 404: the stream (or a fork's source) does not exist.
    #[error("stream not found (404): {url}")]
    NotFound { url: String },
    /// 409 on create: a stream exists here with a different configuration.
    #[error("stream already exists with another configuration (409): {url}")]
    AlreadyExists { url: String, message: String },
    /// 409 with `Stream-Closed: true`: the stream is closed.
    #[error("stream is closed (409): {url}")]
    Closed {
        url: String,
        final_offset: Option<Offset>,
    },
    /// 409 from an idempotent producer or `Stream-Seq`: sequence gap or
    /// regression.
    #[error(
        "sequence conflict (409) on {url}: expected {expected_seq:?}, \
         received {received_seq:?}"
    )]
    SequenceConflict {
        url: String,
        expected_seq: Option<u64>,
        received_seq: Option<u64>,
        message: String,
    },
    /// 403 to an idempotent producer: a newer epoch owns the producer id.
    #[error("stale producer epoch (403) on {url}: server epoch {server_epoch:?}")]
    StaleEpoch {
        url: String,
        server_epoch: Option<u64>,
    },
    /// 410: the stream is soft-deleted or the offset is no longer retained.
    #[error("stream gone (410): {url}")]
    Gone { url: String },
    /// 400 with the server's message.
    #[error("bad request (400) on {url}: {message}")]
    BadRequest { url: String, message: String },
    /// 429 that outlasted every retry.
    #[error("rate limited (429) on {url}")]
    RateLimited {
        url: String,
        retry_after: Option<Duration>,
    },
    /// Any other unexpected status.
    #[error("HTTP {status} on {url}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    /// The connection failed or dropped.
    #[error("network error on {url}: {source}")]
    Network {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The request timed out.
    #[error("request timed out: {url}")]
    Timeout { url: String },
    /// Malformed JSON, SSE or base64 from the server.
    #[error("could not decode response from {url}: {message}")]
    Decode { url: String, message: String },
    /// The caller's arguments were refused before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}
