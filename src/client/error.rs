//! The client's typed error, mirroring the seed's exception hierarchy.

use std::time::Duration;

use http::HeaderMap;

use super::offset::Offset;
use super::redact::redact_url;
use super::redirect::RedirectRefusal;

/// Everything a client call can fail with. Each variant carries the URL and,
/// where a response arrived, its HTTP status. `url()` and the `url` fields
/// are the URLs as requested; the `Display` text shows them through
/// [`redact_url`], so that no userinfo or query secret reaches a message.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 404: the stream (or a fork's source) does not exist.
    #[error("stream not found (404): {}", redact_url(url))]
    NotFound { url: String },
    /// 409 on create: a stream exists here with a different configuration.
    #[error(
        "stream already exists with another configuration (409) on {}{}",
        redact_url(url),
        said(message)
    )]
    AlreadyExists { url: String, message: String },
    /// 409 with `Stream-Closed: true`: the stream is closed.
    #[error(
        "stream is closed (409){}: {}",
        final_offset
            .as_ref()
            .map(|o| format!(" at offset {o}"))
            .unwrap_or_default(),
        redact_url(url)
    )]
    Closed {
        url: String,
        final_offset: Option<Offset>,
    },
    /// 409 from an idempotent producer or `Stream-Seq`: sequence gap or
    /// regression.
    #[error(
        "sequence conflict (409) on {}: {}",
        redact_url(url),
        sequence_text(*expected_seq, *received_seq, message)
    )]
    SequenceConflict {
        url: String,
        expected_seq: Option<u64>,
        received_seq: Option<u64>,
        message: String,
    },
    /// Any other 409 outside create, such as a content-type mismatch on
    /// append.
    #[error("conflict (409) on {}{}", redact_url(url), said(message))]
    Conflict { url: String, message: String },
    /// 403 to an idempotent producer: a newer epoch owns the producer id.
    #[error(
        "stale producer epoch (403) on {}: another writer holds epoch {}",
        redact_url(url),
        server_epoch.map_or_else(|| "unknown".to_owned(), |e| e.to_string())
    )]
    StaleEpoch {
        url: String,
        server_epoch: Option<u64>,
    },
    /// 410: the stream is soft-deleted or the offset is no longer retained.
    #[error("stream gone (410): {}", redact_url(url))]
    Gone { url: String },
    /// 400 with the server's message.
    #[error("bad request (400) on {}{}", redact_url(url), said(message))]
    BadRequest { url: String, message: String },
    /// 429 that outlasted every retry.
    #[error("rate limited (429) on {}", redact_url(url))]
    RateLimited {
        url: String,
        retry_after: Option<Duration>,
    },
    /// Any other unexpected status.
    #[error("HTTP {status} on {}{}", redact_url(url), said(message))]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    /// A redirect the client did not follow (see `redirect.rs`): every
    /// redirect of a write, and a read's redirect to another origin, a loop
    /// or too many hops. `location` is display-safe (secrets redacted,
    /// control characters escaped, length bounded). Not retryable.
    #[error(
        "HTTP {status} redirect from {} to {location} was not followed: \
         {reason}",
        redact_url(url)
    )]
    Redirect {
        url: String,
        status: u16,
        location: String,
        reason: RedirectRefusal,
    },
    /// A read whose responses stopped moving forward: the same offset came
    /// back `attempts` times in a row without new data (or the same data
    /// again), so the read stopped rather than loop or deliver data twice.
    #[error(
        "no progress reading {} at offset {offset}: {detail} ({attempts} \
         times in a row); the server is misbehaving",
        redact_url(url)
    )]
    NoProgress {
        url: String,
        offset: Offset,
        attempts: u32,
        detail: String,
    },
    /// The connection failed or dropped. The message names the innermost
    /// cause once (such as "Connection refused (os error 111)"). The cause
    /// is not a `source()` (so an error chain printed whole does not repeat
    /// it); [`network_cause`](Self::network_cause) returns it. It is shared
    /// (`Arc`) so that the error is `Clone`: one failure can be reported to
    /// several callers (the producer does).
    #[error("network error on {}: {}", redact_url(url), root_cause(cause.as_ref()))]
    Network {
        url: String,
        cause: std::sync::Arc<dyn std::error::Error + Send + Sync>,
    },
    /// The request timed out.
    #[error("request timed out: {}", redact_url(url))]
    Timeout { url: String },
    /// Malformed JSON, SSE or base64 from the server.
    #[error("could not decode response from {}: {message}", redact_url(url))]
    Decode { url: String, message: String },
    /// The caller's arguments were refused before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// ": message", or nothing when the server said nothing (no dangling
/// colon).
fn said(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// "the server expected sequence 2 and got 9", with "unknown" for what the
/// server did not say, or the server's own message when it said neither.
fn sequence_text(
    expected: Option<u64>,
    received: Option<u64>,
    message: &str,
) -> String {
    let show =
        |n: Option<u64>| n.map_or_else(|| "unknown".into(), |n| n.to_string());
    if expected.is_none() && received.is_none() {
        if message.is_empty() {
            return "the sequence number was refused".into();
        }
        return message.to_owned();
    }
    format!(
        "the server expected sequence {} and got {}",
        show(expected),
        show(received)
    )
}

/// The innermost error of a cause chain: the one that says what happened
/// (reqwest's and hyper's wrappers around it only repeat the request).
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// A `serde_json` error as "expected value at line 2, column 8": the
/// position once (serde's own text already ends in "at line 2 column 8",
/// which callers used to repeat).
pub fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if error.line() == 0 {
        return text;
    }
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    format!(
        "{message} at line {}, column {}",
        error.line(),
        error.column()
    )
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
            Error::Status { status, .. } | Error::Redirect { status, .. } => {
                Some(*status)
            }
            Error::Network { .. }
            | Error::NoProgress { .. }
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
            | Error::Redirect { url, .. }
            | Error::NoProgress { url, .. }
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

    /// A redirect that was not followed.
    pub fn is_redirect(&self) -> bool {
        matches!(self, Error::Redirect { .. })
    }

    /// A read that stopped because the server's offset did not advance.
    pub fn is_no_progress(&self) -> bool {
        matches!(self, Error::NoProgress { .. })
    }

    /// The transport error behind a [`Error::Network`].
    pub fn network_cause(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Network { cause, .. } => Some(cause.as_ref()),
            _ => None,
        }
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

    /// A transport failure (reqwest's URL dropped from it: the error has
    /// its own).
    pub(crate) fn network(url: &str, err: reqwest::Error) -> Self {
        Error::Network {
            url: url.to_owned(),
            cause: std::sync::Arc::new(err.without_url()),
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

    /// The protocol's boolean headers compare case-insensitively
    /// (`Stream-Closed: TRUE` is closed); anything but `true` is not.
    #[test]
    fn boolean_headers_ignore_case() {
        for value in ["true", "TRUE", "True", " tRuE "] {
            let h = headers(&[("stream-closed", value)]);
            assert!(header_is_true(&h, "stream-closed"), "{value:?}");
        }
        for value in ["false", "1", "yes", ""] {
            let h = headers(&[("stream-closed", value)]);
            assert!(!header_is_true(&h, "stream-closed"), "{value:?}");
        }
        assert!(!header_is_true(&HeaderMap::new(), "stream-closed"));
        let closed =
            map(409, &[("stream-closed", "TRUE")], ErrorContext::default());
        assert!(closed.is_closed(), "{closed:?}");
    }

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
    fn network_message_names_the_cause_once() {
        // As reqwest nests it: a wrapper that repeats the request around
        // the cause.
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let err = Error::Network {
            url: URL.into(),
            cause: std::sync::Arc::new(Wrapper(io)),
        };
        assert_eq!(
            err.to_string(),
            "network error on http://h/s: Connection refused (os error 111)"
        );
        assert!(err.is_retryable() && err.is_network());
        assert_eq!(err.status(), None);
        // No std source: an error chain printed whole (`{:#}`) says the
        // cause once; the cause is still there for who asks.
        assert!(std::error::Error::source(&err).is_none());
        let copy = err.clone();
        assert_eq!(copy.to_string(), err.to_string());
        let cause = copy.network_cause().expect("a cause");
        assert_eq!(cause.to_string(), "error sending request");
        let chained = format!("{:#}", anyhow::Error::new(err));
        assert_eq!(chained.matches("Connection refused").count(), 1);
    }

    #[test]
    fn messages_read_as_sentences() {
        let text = |e: Error| e.to_string();
        let seq = |expected, received, message: &str| Error::SequenceConflict {
            url: URL.into(),
            expected_seq: expected,
            received_seq: received,
            message: message.into(),
        };
        assert_eq!(
            text(seq(Some(2), Some(9), "")),
            "sequence conflict (409) on http://h/s: the server expected \
             sequence 2 and got 9"
        );
        assert_eq!(
            text(seq(Some(2), None, "")),
            "sequence conflict (409) on http://h/s: the server expected \
             sequence 2 and got unknown"
        );
        assert_eq!(
            text(seq(None, None, "")),
            "sequence conflict (409) on http://h/s: the sequence number was \
             refused"
        );
        assert_eq!(
            text(seq(None, None, "Sequence conflict")),
            "sequence conflict (409) on http://h/s: Sequence conflict"
        );
        let epoch = |e| Error::StaleEpoch {
            url: URL.into(),
            server_epoch: e,
        };
        assert_eq!(
            text(epoch(Some(3))),
            "stale producer epoch (403) on http://h/s: another writer holds \
             epoch 3"
        );
        assert!(text(epoch(None)).ends_with("holds epoch unknown"));
        let closed = |o: Option<&str>| Error::Closed {
            url: URL.into(),
            final_offset: o.map(Offset::new),
        };
        assert_eq!(text(closed(None)), "stream is closed (409): http://h/s");
        assert_eq!(
            text(closed(Some("0_9"))),
            "stream is closed (409) at offset 0_9: http://h/s"
        );
        for e in [seq(None, Some(1), ""), epoch(None), closed(None)] {
            let t = text(e);
            assert!(!t.contains("Some(") && !t.contains("None"), "{t}");
            assert_eq!(
                t.matches("closed").count(),
                usize::from(t.contains("closed"))
            );
        }
    }

    #[test]
    fn an_empty_server_message_leaves_no_colon() {
        let empty = from_response(
            URL,
            403,
            &HeaderMap::new(),
            " \n",
            ErrorContext::default(),
        );
        assert_eq!(empty.to_string(), "HTTP 403 on http://h/s");
        let said = from_response(
            URL,
            403,
            &HeaderMap::new(),
            "no token",
            ErrorContext::default(),
        );
        assert_eq!(said.to_string(), "HTTP 403 on http://h/s: no token");
        let bad = from_response(
            URL,
            400,
            &HeaderMap::new(),
            "",
            ErrorContext::default(),
        );
        assert_eq!(bad.to_string(), "bad request (400) on http://h/s");
    }

    #[test]
    fn urls_in_messages_are_redacted() {
        let url = "http://u:pw@h/s?token=abc&offset=1";
        let all = [
            Error::NotFound { url: url.into() },
            Error::Timeout { url: url.into() },
            Error::Gone { url: url.into() },
            Error::Status {
                url: url.into(),
                status: 500,
                message: String::new(),
            },
            Error::decode(&url::Url::parse(url).unwrap(), "bad"),
        ];
        for e in all {
            let t = e.to_string();
            assert!(!t.contains("pw") && !t.contains("abc"), "{t}");
            assert!(t.contains("offset=1"), "{t}");
            assert_eq!(e.url(), Some(url), "url() stays the real URL");
        }
    }

    #[test]
    fn json_errors_give_the_position_once() {
        let e =
            serde_json::from_str::<serde_json::Value>("[1,\n  x]").unwrap_err();
        assert_eq!(
            describe_json_error(&e),
            "expected value at line 2, column 3"
        );
        let eof = serde_json::from_str::<serde_json::Value>("").unwrap_err();
        assert_eq!(
            describe_json_error(&eof),
            "EOF while parsing a value at line 1, column 0"
        );
    }

    #[test]
    fn message_is_bounded() {
        let long = "é".repeat(2000);
        let msg = bounded_message(&long);
        assert_eq!(msg.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
