//! The client's typed error, mirroring the seed's exception hierarchy.

use std::time::Duration;

use http::HeaderMap;

use super::offset::Offset;

/// Everything a client call can fail with. Each variant carries the URL and,
/// where a response arrived, its HTTP status.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 404: the stream (or a fork's source) does not exist.
    #[error("stream not found (404): {url}")]
    NotFound { url: String },
    /// 409 on create: a stream exists here with a different configuration.
    #[error(
        "stream already exists with another configuration (409) on {url}: \
         {message}"
    )]
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
    /// Any other 409 outside create, such as a content-type mismatch on
    /// append.
    #[error("conflict (409) on {url}: {message}")]
    Conflict { url: String, message: String },
    /// 403 to an idempotent producer: a newer epoch owns the producer id.
    #[error(
        "stale producer epoch (403) on {url}: server epoch {server_epoch:?}"
    )]
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
    /// The connection failed or dropped. The message names the innermost
    /// cause (such as "connection refused"), which reqwest's own message
    /// leaves out. The source is shared (`Arc`) so that the error is
    /// `Clone`: one failure can be reported to several callers (the
    /// producer does) with its cause chain intact.
    #[error("network error on {url}: {}", root_cause(source.as_ref()))]
    Network {
        url: String,
        #[source]
        source: std::sync::Arc<dyn std::error::Error + Send + Sync>,
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

/// The innermost error of a source chain.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    if std::ptr::addr_eq(current, error) {
        error.to_string()
    } else {
        format!("{error}: {current}")
    }
}

/// Longest server message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 512;

impl Error {
    /// The HTTP status of the response that caused this error, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::NotFound { .. } => Some(404),
            Error::AlreadyExists { .. }
            | Error::Closed { .. }
            | Error::SequenceConflict { .. }
            | Error::Conflict { .. } => Some(409),
            Error::StaleEpoch { .. } => Some(403),
            Error::Gone { .. } => Some(410),
            Error::BadRequest { .. } => Some(400),
            Error::RateLimited { .. } => Some(429),
            Error::Status { status, .. } => Some(*status),
            Error::Network { .. }
            | Error::Timeout { .. }
            | Error::Decode { .. }
            | Error::InvalidArgument(_) => None,
        }
    }

    /// The URL of the request that failed (none for argument errors).
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::NotFound { url }
            | Error::AlreadyExists { url, .. }
            | Error::Closed { url, .. }
            | Error::SequenceConflict { url, .. }
            | Error::Conflict { url, .. }
            | Error::StaleEpoch { url, .. }
            | Error::Gone { url }
            | Error::BadRequest { url, .. }
            | Error::RateLimited { url, .. }
            | Error::Status { url, .. }
            | Error::Network { url, .. }
            | Error::Timeout { url }
            | Error::Decode { url, .. } => Some(url),
            Error::InvalidArgument(_) => None,
        }
    }

    /// Whether trying the same call again later may succeed: 429, 5xx,
    /// network failures and timeouts.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. }
            | Error::Network { .. }
            | Error::Timeout { .. } => true,
            Error::Status { status, .. } => {
                super::retry::is_retryable_status(*status)
            }
            _ => false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Closed { .. })
    }

    pub fn is_gone(&self) -> bool {
        matches!(self, Error::Gone { .. })
    }

    /// Any 409 (exists, closed, sequence or other conflict).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    pub fn is_sequence_conflict(&self) -> bool {
        matches!(self, Error::SequenceConflict { .. })
    }

    pub fn is_stale_epoch(&self) -> bool {
        matches!(self, Error::StaleEpoch { .. })
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    pub fn is_network(&self) -> bool {
        matches!(self, Error::Network { .. })
    }

    pub fn is_decode(&self) -> bool {
        matches!(self, Error::Decode { .. })
    }

    pub fn is_invalid_argument(&self) -> bool {
        matches!(self, Error::InvalidArgument(_))
    }

    /// The server's message, for variants that carry one.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            Error::AlreadyExists { message, .. }
            | Error::SequenceConflict { message, .. }
            | Error::Conflict { message, .. }
            | Error::BadRequest { message, .. }
            | Error::Status { message, .. } => Some(message),
            _ => None,
        }
    }

    pub(crate) fn decode(url: &url::Url, message: impl Into<String>) -> Self {
        Error::Decode {
            url: url.to_string(),
            message: message.into(),
        }
    }
}

/// What the failed request was, which decides how a 409 or 403 reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorContext {
    /// A PUT (create or fork): a plain 409 means "exists differently".
    pub create: bool,
    /// The request carried `Stream-Seq`.
    pub has_seq: bool,
    /// The request carried `Producer-*` headers.
    pub has_producer: bool,
}

/// Maps a non-success response to a typed error. `body` is the (bounded)
/// response text.
pub(crate) fn from_response(
    url: &str,
    status: u16,
    headers: &HeaderMap,
    body: &str,
    ctx: ErrorContext,
) -> Error {
    let url = url.to_owned();
    let message = bounded_message(body);
    match status {
        404 => Error::NotFound { url },
        410 => Error::Gone { url },
        400 => Error::BadRequest { url, message },
        429 => Error::RateLimited {
            url,
            retry_after: super::retry::parse_retry_after(headers),
        },
        403 if ctx.has_producer || headers.contains_key("producer-epoch") => {
            Error::StaleEpoch {
                url,
                server_epoch: header_u64(headers, "producer-epoch"),
            }
        }
        409 => conflict(url, headers, message, ctx),
        _ => Error::Status {
            url,
            status,
            message,
        },
    }
}

fn conflict(
    url: String,
    headers: &HeaderMap,
    message: String,
    ctx: ErrorContext,
) -> Error {
    if header_is_true(headers, "stream-closed") {
        return Error::Closed {
            url,
            final_offset: header_str(headers, "stream-next-offset")
                .map(Offset::new),
        };
    }
    let expected_seq = header_u64(headers, "producer-expected-seq");
    let received_seq = header_u64(headers, "producer-received-seq");
    if expected_seq.is_some() || received_seq.is_some() {
        return Error::SequenceConflict {
            url,
            expected_seq,
            received_seq,
            message,
        };
    }
    if ctx.create {
        return Error::AlreadyExists { url, message };
    }
    // The reference servers answer a Stream-Seq regression with a plain 409
    // whose body says "Sequence conflict"; a content-type mismatch is also a
    // plain 409, so only trust the body when no Stream-Seq was sent.
    if ctx.has_seq || message.to_ascii_lowercase().contains("sequence") {
        return Error::SequenceConflict {
            url,
            expected_seq: None,
            received_seq: None,
            message,
        };
    }
    Error::Conflict { url, message }
}

/// Trims the server's text and bounds its length (at a char boundary).
pub(crate) fn bounded_message(body: &str) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

pub(crate) fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    header_str(headers, name).and_then(|v| v.trim().parse().ok())
}

/// `true` only for the (case-insensitive) value `true`, as the protocol
/// requires.
pub(crate) fn header_is_true(headers: &HeaderMap, name: &str) -> bool {
    header_str(headers, name)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    const URL: &str = "http://h/s";

    fn map(
        status: u16,
        pairs: &[(&'static str, &str)],
        ctx: ErrorContext,
    ) -> Error {
        from_response(URL, status, &headers(pairs), "  server says no \n", ctx)
    }

    #[test]
    fn plain_statuses() {
        let ctx = ErrorContext::default();
        assert!(map(404, &[], ctx).is_not_found());
        assert!(map(410, &[], ctx).is_gone());
        let bad = map(400, &[], ctx);
        assert!(
            matches!(&bad, Error::BadRequest { message, .. } if message == "server says no")
        );
        assert_eq!(bad.status(), Some(400));
        assert_eq!(bad.url(), Some(URL));
        let other = map(418, &[], ctx);
        assert!(matches!(other, Error::Status { status: 418, .. }));
        assert!(!other.is_retryable());
        assert!(map(503, &[], ctx).is_retryable());
        assert!(!map(501, &[], ctx).is_retryable());
    }

    #[test]
    fn rate_limited_keeps_retry_after() {
        let err = map(429, &[("retry-after", "3")], ErrorContext::default());
        assert!(matches!(
            err,
            Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        assert!(err.is_retryable());
    }

    #[test]
    fn conflicts() {
        let plain = ErrorContext::default();
        let closed = map(
            409,
            &[("stream-closed", "TRUE"), ("stream-next-offset", "0_9")],
            plain,
        );
        assert!(matches!(
            &closed,
            Error::Closed { final_offset: Some(o), .. } if o.as_str() == "0_9"
        ));
        let gap = map(
            409,
            &[
                ("producer-expected-seq", "3"),
                ("producer-received-seq", "5"),
            ],
            plain,
        );
        assert!(matches!(
            gap,
            Error::SequenceConflict {
                expected_seq: Some(3),
                received_seq: Some(5),
                ..
            }
        ));
        let seq = ErrorContext {
            has_seq: true,
            ..plain
        };
        assert!(matches!(
            map(409, &[], seq),
            Error::SequenceConflict {
                expected_seq: None,
                received_seq: None,
                ..
            }
        ));
        let create = ErrorContext {
            create: true,
            ..plain
        };
        assert!(matches!(map(409, &[], create), Error::AlreadyExists { .. }));
        // Closed wins over create.
        assert!(map(409, &[("stream-closed", "true")], create).is_closed());
        // "false" is not closed.
        assert!(matches!(
            map(409, &[("stream-closed", "false")], plain),
            Error::Conflict { .. }
        ));
        let body_seq = from_response(
            URL,
            409,
            &HeaderMap::new(),
            "Sequence conflict",
            plain,
        );
        assert!(body_seq.is_sequence_conflict());
        assert!(body_seq.is_conflict());
    }

    #[test]
    fn stale_epoch_needs_producer_context() {
        let producer = ErrorContext {
            has_producer: true,
            ..Default::default()
        };
        assert!(matches!(
            map(403, &[("producer-epoch", "7")], producer),
            Error::StaleEpoch {
                server_epoch: Some(7),
                ..
            }
        ));
        assert!(matches!(
            map(403, &[], ErrorContext::default()),
            Error::Status { status: 403, .. }
        ));
        assert!(
            map(403, &[("producer-epoch", "2")], ErrorContext::default())
                .is_stale_epoch()
        );
    }

    #[test]
    fn network_message_names_the_cause() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        );
        let err = Error::Network {
            url: URL.into(),
            source: std::sync::Arc::new(io),
        };
        assert_eq!(err.to_string(), "network error on http://h/s: refused");
        assert!(err.is_retryable() && err.is_network());
        assert_eq!(err.status(), None);
        // A clone shares the source: same message, same cause chain.
        let copy = err.clone();
        assert_eq!(copy.to_string(), err.to_string());
        let cause = std::error::Error::source(&copy).expect("a source");
        assert_eq!(cause.to_string(), "refused");
    }

    #[test]
    fn message_is_bounded() {
        let long = "é".repeat(2000);
        let msg = bounded_message(&long);
        assert_eq!(msg.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
