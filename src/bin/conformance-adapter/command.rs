//! One input line to a command: its `type` and the whole JSON object, or
//! the error reply for a line that is not JSON. Kept apart from `main` so
//! that the fuzz target in `fuzz/` runs the same code.

use serde_json::Value;

use crate::reply::Reply;

/// What one line of input asks for.
#[derive(Debug)]
pub enum Line {
    /// Blank: no reply.
    Blank,
    /// A command, by its `type` (`unknown` when missing or not a string).
    Command { kind: String, command: Value },
    /// Not JSON: answered with this error.
    Malformed(Reply),
}

/// Parses one input line.
pub fn parse(line: &str) -> Line {
    if line.trim().is_empty() {
        return Line::Blank;
    }
    match serde_json::from_str::<Value>(line) {
        Ok(command) => {
            let kind = command
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned();
            Line::Command { kind, command }
        }
        Err(e) => Line::Malformed(Reply::error(
            "unknown",
            "PARSE_ERROR",
            None,
            format!("malformed command line: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_blank_commands_or_malformed() {
        assert!(matches!(parse("  \t"), Line::Blank));
        match parse(r#"{"type":"head","path":"/s"}"#) {
            Line::Command { kind, command } => {
                assert_eq!(kind, "head");
                assert_eq!(command["path"], "/s");
            }
            other => panic!("{other:?}"),
        }
        match parse(r#"{"type":7}"#) {
            Line::Command { kind, .. } => assert_eq!(kind, "unknown"),
            other => panic!("{other:?}"),
        }
        match parse("{nope") {
            Line::Malformed(reply) => {
                let json = reply.into_json();
                assert_eq!(json["success"], false);
                assert_eq!(json["errorCode"], "PARSE_ERROR");
            }
            other => panic!("{other:?}"),
        }
    }
}
