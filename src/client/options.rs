//! Options for the client and for each stream operation.

use std::time::Duration;

use bytes::Bytes;

use super::offset::{LiveMode, Offset};

/// Extra request headers, in order. Names are case-insensitive.
pub type Headers = Vec<(String, String)>;

/// Options for `PUT` (create).
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// Defaults to `application/octet-stream` on the server.
    pub content_type: Option<String>,
    /// `Stream-TTL`, in whole seconds.
    pub ttl: Option<Duration>,
    /// `Stream-Expires-At`, an RFC 3339 timestamp.
    pub expires_at: Option<String>,
    /// Create the stream already closed (`Stream-Closed: true`).
    pub closed: bool,
    /// Initial content.
    pub data: Option<Bytes>,
    pub headers: Headers,
}

/// Options for `POST` (append).
#[derive(Clone, Debug, Default)]
pub struct AppendOptions {
    /// `Stream-Seq`: opaque, strictly increasing writer sequence.
    pub seq: Option<String>,
    /// `Producer-Id`, `Producer-Epoch`, `Producer-Seq` for an idempotent
    /// append by hand (an [`IdempotentProducer`](crate::client::IdempotentProducer)
    /// stamps its own).
    pub producer: Option<ProducerStamp>,
    /// Overrides the content type the handle knows for the stream.
    pub content_type: Option<String>,
    pub headers: Headers,
}

/// Options for close (`POST` with `Stream-Closed: true`).
#[derive(Clone, Debug, Default)]
pub struct CloseOptions {
    /// A final message appended atomically with the close.
    pub data: Option<Bytes>,
    pub content_type: Option<String>,
    /// Producer headers, as for [`AppendOptions::producer`].
    pub producer: Option<ProducerStamp>,
    pub headers: Headers,
}

/// An idempotent producer's stamp on one write: the server accepts each
/// `(id, epoch, seq)` once and answers a repeat with 204.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerStamp {
    pub id: String,
    pub epoch: u64,
    pub seq: u64,
}

/// Options for a read session.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Where to start; `Offset::START` by default.
    pub offset: Offset,
    pub live: LiveMode,
    /// A cursor to echo on the first live request.
    pub cursor: Option<String>,
    pub headers: Headers,
}

/// Retries for 429, 5xx and dropped connections, with exponential backoff.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 means no retry.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub multiplier: f64,
}

impl RetryPolicy {
    /// A policy of `initial` doubling up to `max`, without an attempt limit
    /// (for a caller that keeps reconnecting and decides itself when to give
    /// up: the explorer's tail and registry watch, `dsx read -f`).
    pub const fn doubling(initial: Duration, max: Duration) -> RetryPolicy {
        RetryPolicy {
            max_attempts: u32::MAX,
            initial_backoff: initial,
            max_backoff: max,
            multiplier: 2.0,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            multiplier: 2.0,
        }
    }
}
