//! Replies: JSON objects that leave absent fields out, and the mapping from
//! client errors to the protocol's error codes.

use dsx::client::Error;
use serde_json::{Map, Value};

/// One reply line under construction.
#[derive(Debug)]
pub struct Reply(Map<String, Value>);

impl Reply {
    /// `{"type": kind, "success": true}`.
    pub fn ok(kind: &str) -> Self {
        let mut map = Map::new();
        map.insert("type".into(), kind.into());
        map.insert("success".into(), true.into());
        Reply(map)
    }

    /// Sets a field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Sets a field only when there is a value (never `null`).
    pub fn with_some(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// An error reply for `command`.
    pub fn error(
        command: &str,
        code: &str,
        status: Option<u16>,
        message: impl Into<String>,
    ) -> Self {
        let mut map = Map::new();
        map.insert("type".into(), "error".into());
        map.insert("success".into(), false.into());
        map.insert("commandType".into(), command.into());
        if let Some(status) = status {
            map.insert("status".into(), status.into());
        }
        map.insert("errorCode".into(), code.into());
        map.insert("message".into(), message.into().into());
        Reply(map)
    }

    /// The error reply for a client failure during `command`.
    pub fn from_error(command: &str, error: &Error) -> Self {
        Reply::error(
            command,
            error_code(command, error),
            error.status(),
            error.to_string(),
        )
    }

    pub fn into_json(self) -> Value {
        Value::Object(self.0)
    }
}

/// The protocol's code for a client error. A 400 means a bad offset only
/// on a read; elsewhere it is an unexpected status.
fn error_code(command: &str, error: &Error) -> &'static str {
    match error {
        Error::NotFound { .. } => "NOT_FOUND",
        Error::Closed { .. } => "STREAM_CLOSED",
        Error::SequenceConflict { .. } => "SEQUENCE_CONFLICT",
        Error::AlreadyExists { .. } | Error::Conflict { .. } => "CONFLICT",
        Error::BadRequest { .. } if command == "read" => "INVALID_OFFSET",
        Error::Decode { .. } => "PARSE_ERROR",
        Error::InvalidArgument(_) => "INVALID_ARGUMENT",
        Error::Network { .. } => "NETWORK_ERROR",
        Error::Timeout { .. } => "TIMEOUT",
        _ => "UNEXPECTED_STATUS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_are_left_out() {
        let json = Reply::ok("append")
            .with("status", 200)
            .with_some("offset", None::<String>)
            .into_json();
        assert_eq!(
            json,
            serde_json::json!({"type": "append", "success": true, "status": 200})
        );
        let err = Reply::error("read", "PARSE_ERROR", None, "bad").into_json();
        assert!(err.get("status").is_none());
        assert_eq!(err["commandType"], "read");
    }

    #[test]
    fn codes_follow_the_command() {
        let bad = Error::BadRequest {
            url: "u".into(),
            message: "m".into(),
        };
        assert_eq!(error_code("read", &bad), "INVALID_OFFSET");
        assert_eq!(error_code("append", &bad), "UNEXPECTED_STATUS");
        let reply = Reply::from_error("read", &bad).into_json();
        assert_eq!(reply["status"], 400);
    }
}
