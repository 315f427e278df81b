//! Everything that reaches the loop: input, clock ticks, and what client
//! tasks report. Only the loop turns these into state changes.

use std::time::Instant;

use crossterm::event::Event;

use super::state::Connection;
use super::state::meta::ReadInfo;
use super::state::tail::Incoming;
use crate::client::{Error, StreamMetadata};

/// What the registry watcher saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryEvent {
    /// Caught up; later events are live.
    Live,
    /// The server keeps no registry.
    Absent,
    Failed(String),
    Created {
        path: String,
        content_type: Option<String>,
    },
    Deleted {
        path: String,
    },
}

/// What a tail reader reports.
#[derive(Clone, Debug)]
pub enum ReaderEvent {
    Batch {
        incoming: Incoming,
        info: ReadInfo,
        at: Instant,
    },
    Connection(Connection),
    /// A failure worth retrying (network, 5xx, 429): the UI restarts the
    /// reader from the last offset it received, after a backoff.
    Retry(String),
    /// A response that did not decode (truncated, corrupt, a malformed SSE
    /// event): the UI reads again from the last offset it received, a few
    /// times in a row at most; data still bad after that fails the reader.
    Corrupt(String),
    /// A failure retrying cannot fix (404, 400, a redirect refused).
    Failed(String),
    /// A catch-up read reached the tail.
    Done,
}

/// A write the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteKind {
    Append { close: bool },
    Close,
    Create { path: String },
    Delete { path: String },
}

/// How a write went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    Appended {
        next_offset: String,
        duplicate: bool,
        closed: bool,
    },
    Closed {
        final_offset: Option<String>,
    },
    Created {
        status: u16,
        content_type: Option<String>,
    },
    Deleted,
}

/// One message to the loop.
#[derive(Debug)]
pub enum Message {
    Input(Event),
    /// The clock: monotonic, and wall time as RFC 3339 UTC.
    Tick {
        now: Instant,
        wall: String,
    },
    Registry(RegistryEvent),
    Reader {
        reader: u64,
        event: ReaderEvent,
    },
    Head {
        url: String,
        at: Instant,
        result: Result<StreamMetadata, Error>,
    },
    Written {
        url: String,
        kind: WriteKind,
        result: Result<Written, Error>,
    },
    /// Requests the client made, as its observer told them; `dropped`
    /// more were lost on the way (the queue to the UI was full).
    Requests {
        events: Vec<crate::client::RequestEvent>,
        dropped: u64,
    },
    /// The bookmarks file was written (or not).
    Saved(Result<(), String>),
    /// The clipboard took the text (or not).
    Copied(Result<String, String>),
    /// Time for the next step of the tail's search `generation` (see
    /// `state/search.rs`).
    SearchStep {
        generation: u64,
    },
}

/// A client error as one line: what happened, with the HTTP status, and
/// what to do next.
pub fn explain(e: &Error) -> String {
    let hint = match e {
        Error::NotFound { .. } => {
            "check the path, or create it (n in the list)"
        }
        Error::AlreadyExists { .. } => {
            "a stream with that path exists with other settings; pick another path"
        }
        Error::Closed { .. } => "it takes no more appends",
        Error::SequenceConflict { .. } => {
            "the sequence must increase: Ctrl-O sets it (a producer gap means earlier messages are missing)"
        }
        Error::StaleEpoch { .. } => {
            "another writer claimed a newer epoch: Ctrl-O sets a higher one"
        }
        Error::Conflict { .. } => "check the content type of what you send",
        Error::Gone { .. } => {
            "the stream or offset is gone: jump to now (J) or reopen"
        }
        Error::BadRequest { .. } => "the server refused the request as sent",
        Error::RateLimited { .. } => {
            "the server is rate limiting; wait and retry"
        }
        Error::Status { status, .. } if *status >= 500 => {
            "the server failed; retry, or check its logs"
        }
        Error::Status {
            status: 401 | 403, ..
        } => "not authorized: pass --auth or -H 'Authorization: ...'",
        Error::Status { .. } => "the server refused the request",
        Error::Network { .. } => "is the server running? check the URL",
        Error::Timeout { .. } => "the server did not answer in time; retry",
        Error::Decode { .. } => "the server sent data that does not parse",
        Error::Redirect { .. } => {
            "open the redirect's target directly if you trust it"
        }
        Error::NoProgress { .. } => {
            "the server repeats itself; check it, then reopen the stream"
        }
        Error::InvalidArgument(_) => "fix the input and retry",
    };
    // The error's own text names the HTTP status and the server's message.
    let text = format!("{e} — {hint}");
    crate::sanitize::escape_str(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_stream_is_called_closed_once() {
        let text = explain(&Error::Closed {
            url: "http://h/s".into(),
            final_offset: None,
        });
        assert_eq!(text.matches("closed").count(), 1, "{text}");
    }
}
