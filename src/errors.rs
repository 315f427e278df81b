//! The kinds of failure that are dsx's own rather than a server's, each
//! with its exit code (`cli::exit` maps them): the explorer and the
//! headless commands both raise them, so they live below both.

/// A mistake in how dsx was called (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A usage error as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// A conflict dsx found itself, such as appends the server dropped as
/// duplicates, or a fork onto a stream made otherwise (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConflictError(pub String);

/// Something named locally does not exist, such as a bookmark (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFoundError(pub String);

/// Ctrl-C or SIGTERM stopped the command (exit 130, no message).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub &'static str);
