//! The sanitizer: whatever the bytes, nothing it returns is a character
//! that must be escaped; text lines hold no tab and their count is what
//! `text_line_count` says; valid text that needs nothing is borrowed.
#![no_main]

use std::borrow::Cow;

use dsx::sanitize::{
    escape_bytes, escape_line, escape_str, needs_escape, text_line_count,
    text_lines,
};
use libfuzzer_sys::fuzz_target;

fn inert(s: &str) -> bool {
    !s.chars().any(needs_escape)
}

fuzz_target!(|data: &[u8]| {
    let out = escape_bytes(data);
    assert!(inert(&out), "escape_bytes left {out:?}");
    let lines = text_lines(data);
    assert_eq!(lines.len(), text_line_count(data));
    for line in &lines {
        assert!(inert(line), "text_lines left {line:?}");
        assert!(!line.contains('\t'), "tab kept in {line:?}");
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let escaped = escape_str(s);
        assert!(inert(&escaped));
        assert_eq!(
            matches!(escaped, Cow::Borrowed(_)),
            !s.contains(needs_escape),
            "borrowed iff nothing to escape"
        );
        // Escaping is idempotent on its own output: nothing is left to do.
        assert!(matches!(escape_str(&escaped), Cow::Borrowed(_)));
        for line in s.split('\n') {
            let shown = escape_line(line);
            assert!(inert(&shown), "escape_line left {shown:?}");
        }
    }
});
