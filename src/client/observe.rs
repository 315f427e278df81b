//! What the client tells a request observer (`ClientBuilder::observer`,
//! `Client::with_observer`): one [`RequestEvent`] per HTTP exchange and per
//! SSE `control` event. Nothing here runs when no observer is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::HeaderMap;

use super::{Headers, LiveMode};

/// What an event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// One HTTP exchange: each retry attempt and each redirect hop is its
    /// own. A catch-up or long-poll read is told once its body ended (or
    /// the read stopped), with the body's length; any other exchange once
    /// its response headers arrived.
    Exchange,
    /// One `control` event of an open SSE response: its fields appear as
    /// `Stream-Next-Offset`, `Stream-Cursor`, `Stream-Up-To-Date` and
    /// `Stream-Closed` in `response_headers`.
    Control,
}

/// What a request observer is told. Secrets (the `Authorization` header,
/// cookies, a token in the URL's query) are in it as sent: they are the
/// observer's to redact ([`redact_header`](super::redact_header),
/// [`redact_url`](super::redact_url)) before anything shows them.
#[derive(Clone, Debug)]
pub struct RequestEvent {
    /// Numbers the exchanges of the process from 1; a control event
    /// carries the number of the SSE exchange it arrived on.
    pub id: u64,
    pub kind: EventKind,
    /// The HTTP method, or `SSE` for a control event.
    pub method: String,
    /// The full request URL, query included.
    pub url: String,
    /// When the request was sent (a control event: when it arrived).
    pub at: SystemTime,
    /// The response status; `None` when no response arrived.
    pub status: Option<u16>,
    /// Time until the response headers (a control event: since connect).
    pub latency: Duration,
    /// Every header the request carried, values as sent.
    pub request_headers: Headers,
    /// Every header of the response (see [`protocol_headers`](Self::protocol_headers)).
    pub response_headers: Headers,
    /// Bytes of the request body.
    pub request_bytes: u64,
    /// Bytes of the response body read (a control event: of the data
    /// events it positions); `None` when not known (an SSE response, an
    /// error's body).
    pub body_bytes: Option<u64>,
    /// The read's live mode (`Off` for a catch-up read); `None` for a
    /// request that is not a read.
    pub live: Option<LiveMode>,
    /// The retry policy's attempt number, from 1.
    pub attempt: u32,
    /// A read session's request to reopen a connection that ended or
    /// broke (an SSE reconnect, a body resumed).
    pub reconnect: bool,
    /// The transport error or timeout when no response arrived, or what
    /// cut a body short.
    pub error: Option<String>,
}

impl RequestEvent {
    /// A response header's value (the name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The response headers of the protocol: `Stream-*`, `Producer-*`,
    /// `Content-Type`, `ETag`, `Cache-Control`, `Retry-After`, `Location`.
    pub fn protocol_headers(&self) -> impl Iterator<Item = &(String, String)> {
        self.response_headers
            .iter()
            .filter(|(n, _)| is_protocol_header(n))
    }
}

/// A hook called for every [`RequestEvent`].
pub type RequestObserver = Arc<dyn Fn(&RequestEvent) + Send + Sync>;

/// Whether a header is one of the protocol's (see
/// [`RequestEvent::protocol_headers`]).
pub(crate) fn is_protocol_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("stream-")
        || name.starts_with("producer-")
        || matches!(
            name.as_str(),
            "content-type"
                | "etag"
                | "cache-control"
                | "retry-after"
                | "location"
        )
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh exchange number.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A header map as pairs, values as text.
pub(crate) fn pairs(map: &HeaderMap) -> Headers {
    map.iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// An exchange's event, told when its body ended or, at the latest, when
/// this is dropped (the read stopped, the reply was consumed).
pub(crate) struct Pending {
    observer: RequestObserver,
    event: Option<RequestEvent>,
}

impl Pending {
    pub fn new(observer: RequestObserver, event: RequestEvent) -> Pending {
        Pending {
            observer,
            event: Some(event),
        }
    }

    /// The exchange's number.
    pub fn id(&self) -> u64 {
        self.event.as_ref().map_or(0, |e| e.id)
    }

    /// The body ended after `bytes`: tells the observer now.
    pub fn ended(mut self, bytes: u64) {
        self.set_bytes(bytes);
    }

    /// The body broke after `bytes`: tells the observer now.
    pub fn broke(mut self, bytes: u64, why: String) {
        self.set_bytes(bytes);
        if let Some(e) = &mut self.event {
            e.error = Some(why);
        }
    }

    /// The read stopped after `bytes` before the body ended.
    pub fn stopped(&mut self, bytes: u64) {
        self.set_bytes(bytes);
        if let Some(e) = &mut self.event {
            e.error = Some(format!(
                "the read stopped after {bytes} bytes, before the body ended"
            ));
        }
        self.tell();
    }

    fn set_bytes(&mut self, bytes: u64) {
        if let Some(e) = &mut self.event {
            e.body_bytes = Some(bytes);
        }
    }

    fn tell(&mut self) {
        if let Some(event) = self.event.take() {
            (self.observer)(&event);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.tell();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_header_filter() {
        assert!(is_protocol_header("stream-next-offset"));
        assert!(is_protocol_header("Producer-Epoch"));
        assert!(is_protocol_header("etag"));
        assert!(!is_protocol_header("date"));
        assert!(!is_protocol_header("authorization"));
    }
}
