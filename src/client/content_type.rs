//! What a stream's content type means to the protocol, read in one place
//! for the client, the dev server, the headless commands and the explorer.
//!
//! Only `application/json` (any parameters, any case) is JSON mode: message
//! boundaries, array reads, `[]` for an empty read (PROTOCOL.md 9.1). A
//! structured-syntax type such as `application/vnd.acme+json` is not: the
//! protocol frames it as bytes like any other type, and SSE sends it
//! base64-encoded. `text/*` is the other type SSE carries as UTF-8.

/// The media type without parameters or surrounding blanks, as given
/// (`text/plain; charset=utf-8` → `text/plain`).
pub fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// Whether a content type is the protocol's JSON mode: `application/json`,
/// parameters and case ignored. `+json` types are not.
pub fn is_json(content_type: &str) -> bool {
    essence(content_type).eq_ignore_ascii_case("application/json")
}

/// Whether a content type is `text/*`, case ignored.
pub fn is_text(content_type: &str) -> bool {
    essence(content_type)
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("text/"))
}

/// Whether SSE carries the type as UTF-8 rather than base64 (PROTOCOL.md
/// 5.8): JSON mode and `text/*`.
pub fn is_sse_text(content_type: &str) -> bool {
    is_json(content_type) || is_text(content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_json_is_json_mode() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("application/vnd.acme+json"));
        assert!(!is_json("application/x+json"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json(""));
        assert!(is_text("text/plain"));
        assert!(is_text("TEXT/csv;x=y"));
        assert!(!is_text("application/x-ndjson"));
        assert!(is_sse_text("text/plain") && is_sse_text("application/json"));
        assert!(!is_sse_text("application/x+json"));
        assert_eq!(essence(" text/plain ; charset=utf-8"), "text/plain");
    }
}
