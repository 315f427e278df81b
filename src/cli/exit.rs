//! Exit codes of the headless commands, and which error maps to which.

use crate::client;

/// Success.
pub const SUCCESS: u8 = 0;
/// Bad arguments, an invalid filter or body, or input refused before
/// anything was sent.
pub const USAGE: u8 = 1;
/// The stream does not exist (404) or is gone (410).
pub const NOT_FOUND: u8 = 2;
/// A conflict (409): the stream is closed, exists with another
/// configuration, or a sequence or producer epoch was refused (403).
pub const CONFLICT: u8 = 3;
/// The server could not be reached, or a request timed out.
pub const NETWORK: u8 = 4;
/// Any other HTTP status or server failure, a local I/O error, or a jq
/// filter that failed on some messages.
pub const OTHER: u8 = 5;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// The exit-code table shown at the end of `dsx --help`.
pub const HELP: &str = "\
Exit codes:
  0    success
  1    usage error (bad arguments, invalid --jq filter, invalid JSON input)
  2    stream or subscription not found (HTTP 404), stream gone (HTTP
       410), or unknown --from-bookmark name
  3    conflict (HTTP 409): stream closed, exists with another
       configuration, sequence conflict, stale producer epoch (HTTP 403),
       append --lines --epoch lines dropped as duplicates (HTTP 204),
       dsx sub: fenced wake, expired lease, claimed by another worker
  4    network failure or timeout (server unreachable)
  5    any other HTTP or server error, a local I/O error, or a --jq
       filter that failed on some messages (the others are printed)
  130  interrupted (Ctrl-C); output received so far is flushed first

Environment:
  STREAM_URL   base URL (or stream URL for the explorer)
  STREAM_AUTH  Authorization header value (same as --auth)
  STREAM_PROFILE  a [servers.NAME] profile of the config (same as
               --profile)
  DSX_CONFIG   the config file (default: <config dir>/dsx/config.toml)
  DSX_DATA_DIR bookmarks.json and the explorer's log, dsx.log (default:
               the user's data directory, e.g. ~/.local/share/dsx)
  DSX_LOG      log filter (default info): the explorer and demo log to
               dsx.log, serve to stderr";

pub use crate::errors::{
    ConflictError, Interrupted, NotFoundError, UsageError, usage,
};

/// The exit code for `err`: the first cause in its chain that has one.
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return USAGE;
        }
        if cause.is::<Interrupted>() {
            return INTERRUPTED;
        }
        if cause.is::<NotFoundError>() {
            return NOT_FOUND;
        }
        if cause.is::<ConflictError>() {
            return CONFLICT;
        }
        if let Some(e) = cause.downcast_ref::<client::SubscriptionError>() {
            return subscription_code(e);
        }
        if let Some(e) = cause.downcast_ref::<client::Error>() {
            return client_code(e);
        }
        if let Some(crate::jq::JqError::Compile(_)) = cause.downcast_ref() {
            return USAGE;
        }
    }
    OTHER
}

/// The exit code for a client error.
pub fn client_code(err: &client::Error) -> u8 {
    use client::Error as E;
    match err {
        E::NotFound { .. } | E::Gone { .. } => NOT_FOUND,
        E::AlreadyExists { .. }
        | E::Closed { .. }
        | E::SequenceConflict { .. }
        | E::Conflict { .. }
        | E::StaleEpoch { .. } => CONFLICT,
        E::Network { .. } | E::Timeout { .. } => NETWORK,
        E::InvalidArgument(_) => USAGE,
        _ => OTHER,
    }
}

/// The exit code for a subscription error: a fenced wake, an expired
/// lease, a claim held elsewhere or an id taken are conflicts.
pub fn subscription_code(err: &client::SubscriptionError) -> u8 {
    use client::SubscriptionError as E;
    match err {
        E::NotFound { .. } => NOT_FOUND,
        E::Fenced { .. }
        | E::LeaseExpired { .. }
        | E::AlreadyClaimed { .. }
        | E::AlreadyExists { .. }
        | E::Refused { status: 409, .. } => CONFLICT,
        E::Refused { status: 400, .. } => USAGE,
        E::Client(e) => client_code(e),
        _ => OTHER,
    }
}

/// The longest error message printed (the server's part of it is already
/// cut shorter by the client).
const MESSAGE_MAX: usize = 2000;

/// The message printed for `err`: one line with everything a server sent
/// escaped (an error body cannot drive the terminal), credentials in its
/// URL redacted, and a hint where one helps.
pub fn describe(err: &anyhow::Error) -> String {
    let mut text = format!("{err:#}");
    let client = err.chain().find_map(|c| c.downcast_ref::<client::Error>());
    if let Some(url) = client.and_then(client::Error::url) {
        let redacted = crate::client::redact_url(url);
        if redacted != url {
            text = text.replace(url, &redacted);
        }
    }
    let mut text = super::output::escape_line(&text, MESSAGE_MAX);
    if let Some(client::Error::Status {
        status, message, ..
    }) = client
    {
        if message.trim().is_empty()
            && let Some(head) = text.trim_end().strip_suffix(':')
        {
            text = format!("{head} (the server sent no explanation)");
        }
        if matches!(status, 401 | 403) {
            text.push_str("; check --auth / -H (or STREAM_AUTH)");
        }
    }
    text
}

/// Whether the message for `err` should be printed (an interruption is
/// silent).
pub fn is_silent(err: &anyhow::Error) -> bool {
    err.chain().any(<dyn std::error::Error>::is::<Interrupted>)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> String {
        "http://127.0.0.1:1/s".into()
    }

    #[test]
    fn client_errors_map_to_their_codes() {
        let cases = [
            (client::Error::NotFound { url: url() }, NOT_FOUND),
            (client::Error::Gone { url: url() }, NOT_FOUND),
            (
                client::Error::Closed {
                    url: url(),
                    final_offset: None,
                },
                CONFLICT,
            ),
            (
                client::Error::StaleEpoch {
                    url: url(),
                    server_epoch: Some(2),
                },
                CONFLICT,
            ),
            (client::Error::Timeout { url: url() }, NETWORK),
            (
                client::Error::Status {
                    url: url(),
                    status: 500,
                    message: String::new(),
                },
                OTHER,
            ),
            (client::Error::InvalidArgument("x".into()), USAGE),
        ];
        for (err, code) in cases {
            let wrapped = anyhow::Error::new(err.clone()).context("reading");
            assert_eq!(code_for(&wrapped), code, "{err}");
        }
    }

    #[test]
    fn messages_are_escaped_redacted_and_hinted() {
        let status = |status, message: &str| {
            anyhow::Error::new(client::Error::Status {
                url: "http://u:pw@127.0.0.1:1/s?token=t".into(),
                status,
                message: message.into(),
            })
            .context("reading s")
        };
        let text = describe(&status(403, ""));
        assert_eq!(
            text,
            "reading s: HTTP 403 on http://***:***@127.0.0.1:1/s?token=***; \
             check --auth / -H (or STREAM_AUTH)"
        );
        let text = describe(&status(500, "\x1b[2J\x1b]52;c;eA==\x07\nfake"));
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.ends_with("\\x1b[2J\\x1b]52;c;eA==\\x07\\x0afake"));
        assert!(!text.contains("check --auth"), "{text}");
        let long = describe(&status(500, &"x".repeat(5000)));
        assert!(long.len() < MESSAGE_MAX + 100, "{}", long.len());
    }

    #[test]
    fn local_errors() {
        assert_eq!(code_for(&usage("bad")), USAGE);
        let interrupted = anyhow::Error::new(Interrupted("interrupted"));
        assert_eq!(code_for(&interrupted), INTERRUPTED);
        assert!(is_silent(&interrupted));
        let io = anyhow::Error::new(std::io::Error::other("disk"));
        assert_eq!(code_for(&io), OTHER);
        let dropped = anyhow::Error::new(ConflictError("dropped".into()));
        assert_eq!(code_for(&dropped), CONFLICT);
        let missing = anyhow::Error::new(NotFoundError("no mark".into()));
        assert_eq!(code_for(&missing), NOT_FOUND);
        assert!(!is_silent(&io));
    }
}
