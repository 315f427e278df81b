//! Untrusted stream bytes to text that is safe to hand to the terminal.
//!
//! Stream content may hold control characters, escape sequences, bidi
//! overrides and invalid UTF-8; any of them written raw could move the
//! cursor, retitle the window or spoof what the user reads. Everything shown
//! goes through here, which spells such characters out: ESC becomes the four
//! characters `\x1b`. This is for display, not round-tripping: a literal
//! backslash in the content stays a single backslash, so `\x1b` on screen may
//! be either an escaped ESC or those four characters as sent.
//!
//! What is escaped ([`needs_escape`]):
//! - every control character (Unicode Cc: C0, DEL, C1);
//! - every format character (Unicode 16 Cf): soft hyphen, the Arabic,
//!   Syriac and Kaithi prepended number marks, U+061C, U+180E, zero-width
//!   and direction marks U+200B–U+200F, bidi embeddings and overrides
//!   U+202A–U+202E, U+2060–U+206F (word joiner, invisible operators, bidi
//!   isolates, deprecated shaping controls), U+FEFF, interlinear
//!   annotation U+FFF9–U+FFFB, Egyptian, shorthand and musical format
//!   controls, and the tag characters;
//! - the line and paragraph separators U+2028 and U+2029 (Zl, Zp);
//! - the other default-ignorable code points, which a terminal draws as
//!   nothing and which can smuggle hidden text: U+034F, U+115F, U+1160,
//!   U+17B4, U+17B5, U+3164, U+FFA0, U+FFF0–U+FFF8 and the whole plane-14
//!   block U+E0000–U+E0FFF (tags, variation selectors 17–256, unassigned).
//!
//! Kept as they are: the variation selectors U+FE00–U+FE0F and the
//! Mongolian ones U+180B–U+180D, U+180F, which only choose the glyph of the
//! character before them (emoji presentation, CJK and Mongolian variants)
//! and are needed to show such text right; combining marks; private-use
//! characters (drawn as a box or a font's icon, never as nothing).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Tab stops of text streams, in columns.
const TAB_WIDTH: usize = 4;

/// Whether `c` must not reach the terminal as itself (see the module docs
/// for the list and the reasons).
pub fn needs_escape(c: char) -> bool {
    // Printable ASCII and Latin-1 up to U+00AC: the common case, one test.
    if (' '..='~').contains(&c) || ('\u{a0}'..='\u{ac}').contains(&c) {
        return false;
    }
    matches!(
        c,
        // Controls (Cc).
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            // Soft hyphen, combining grapheme joiner.
            | '\u{ad}'
            | '\u{34f}'
            // Arabic and Syriac prepended marks, Arabic letter mark.
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            // Hangul fillers, Khmer inherent vowels, Mongolian vowel sep.
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180e}'
            // Zero-width and direction marks.
            | '\u{200b}'..='\u{200f}'
            // Line/paragraph separators, bidi embeddings and overrides.
            | '\u{2028}'..='\u{202e}'
            // Word joiner, invisible operators, bidi isolates, deprecated
            // shaping controls (U+2065 is unassigned but ignorable).
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            // Byte order mark / zero-width no-break space.
            | '\u{feff}'
            | '\u{ffa0}'
            // Ignorable (unassigned), interlinear annotation.
            | '\u{fff0}'..='\u{fffb}'
            // Kaithi number signs, Egyptian hieroglyph format controls,
            // shorthand format controls, musical beams and slurs.
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            // Tags, variation selectors 17-256, the rest of the block.
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// Appends `c` to `out`, spelled out when [`needs_escape`] says so.
pub fn push_char(out: &mut String, c: char) {
    if !needs_escape(c) {
        out.push(c);
        return;
    }
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        // Writing to a String cannot fail.
        '\u{0}'..='\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `s` with every unsafe character spelled out; borrowed (one scan, no
/// allocation) in the common case where nothing needs escaping.
pub fn escape_str(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(needs_escape) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`escape_str`], for bytes that may not be UTF-8: each invalid byte
/// shows as `\xNN`.
pub fn escape_bytes(b: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(b) {
        return escape_str(s);
    }
    let mut out = String::with_capacity(b.len() + 8);
    push_bytes(&mut out, b);
    Cow::Owned(out)
}

/// Appends possibly invalid UTF-8 `b`, escaped, to `out`.
fn push_bytes(out: &mut String, b: &[u8]) {
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(out, c);
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
}

/// One line of a text stream (already split on `\n`) for display: a `\r`
/// ending it is dropped (CRLF text), tabs become spaces to the next multiple
/// of 4 columns, everything else as [`escape_str`].
pub fn escape_line(s: &str) -> Cow<'_, str> {
    let s = s.strip_suffix('\r').unwrap_or(s);
    if !s.contains(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    push_line(&mut out, s.chars());
    Cow::Owned(out)
}

/// Appends the escaped line made of `chars` to `out`, expanding tabs.
fn push_line(out: &mut String, chars: impl Iterator<Item = char>) {
    // Columns counted in chars: wide characters make tabs after them land
    // late, which is acceptable for a display of untrusted text.
    let start = out.len();
    let mut col = 0;
    for c in chars {
        if c == '\t' {
            let spaces = TAB_WIDTH - col % TAB_WIDTH;
            out.extend(std::iter::repeat_n(' ', spaces));
            col += spaces;
        } else {
            let before = out.len();
            push_char(out, c);
            col += out[before..].chars().count();
        }
    }
    debug_assert!(out[start..].chars().count() == col);
}

/// A text stream's bytes as display lines: split on `\n` (a final `\n` does
/// not start another line; empty input is one empty line), each line as
/// [`escape_line`], invalid bytes as `\xNN`.
pub fn text_lines(b: &[u8]) -> Vec<String> {
    let body = b.strip_suffix(b"\n").unwrap_or(b);
    body.split(|&byte| byte == b'\n')
        .map(|line| {
            if let Ok(s) = std::str::from_utf8(line) {
                return escape_line(s).into_owned();
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let mut out = String::with_capacity(line.len() + 8);
            for chunk in line.utf8_chunks() {
                push_line(&mut out, chunk.valid().chars());
                for byte in chunk.invalid() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            out
        })
        .collect()
}

/// How many lines [`text_lines`] returns for `b`, without building them.
#[allow(
    clippy::naive_bytecount,
    reason = "one pass over one message; not worth a dependency"
)]
pub fn text_line_count(b: &[u8]) -> usize {
    let body = b.strip_suffix(b"\n").unwrap_or(b);
    body.iter().filter(|&&byte| byte == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No character that a terminal would act on.
    fn is_inert(s: &str) -> bool {
        !s.chars().any(needs_escape)
    }

    #[test]
    fn plain_text_is_borrowed() {
        let s = "hello, wörld ✓ \\ back";
        assert!(matches!(escape_str(s), Cow::Borrowed(x) if x == s));
        assert!(matches!(escape_bytes(s.as_bytes()), Cow::Borrowed(_)));
        assert!(matches!(escape_line(s), Cow::Borrowed(_)));
    }

    #[test]
    fn c0_controls_and_del() {
        assert_eq!(escape_str("a\nb\rc\td"), "a\\nb\\rc\\td");
        assert_eq!(
            escape_str("\u{0}\u{1}\u{1b}\u{1f}"),
            "\\x00\\x01\\x1b\\x1f"
        );
        assert_eq!(escape_str("x\u{7f}"), "x\\x7f");
    }

    #[test]
    fn c1_controls() {
        assert_eq!(
            escape_str("\u{80}\u{85}\u{9b}\u{9f}"),
            "\\u{80}\\u{85}\\u{9b}\\u{9f}"
        );
        assert_eq!(escape_str("\u{a0}"), "\u{a0}");
    }

    #[test]
    fn bidi_and_invisible_format_chars() {
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200b}',
            '\u{200f}', '\u{2028}', '\u{2029}', '\u{feff}',
        ] {
            let out = escape_str(&c.to_string()).into_owned();
            assert_eq!(out, format!("\\u{{{:x}}}", u32::from(c)));
        }
        assert_eq!(escape_str("\u{2010}"), "\u{2010}");
    }

    /// Every Unicode 16 format character (general category Cf), as ranges.
    const CF: &[(u32, u32)] = &[
        (0xad, 0xad),
        (0x600, 0x605),
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x890, 0x891),
        (0x8e2, 0x8e2),
        (0x180e, 0x180e),
        (0x200b, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x2064),
        (0x2066, 0x206f),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
    ];

    fn escaped(code: u32) -> bool {
        let c = char::from_u32(code).expect("a scalar value");
        let out = escape_str(&c.to_string()).into_owned();
        let spelled = out == format!("\\u{{{code:x}}}")
            || out == format!("\\x{code:02x}")
            || matches!(out.as_str(), "\\n" | "\\r" | "\\t");
        assert_eq!(needs_escape(c), spelled, "U+{code:04X} -> {out:?}");
        spelled
    }

    #[test]
    fn every_format_character_is_escaped() {
        for &(lo, hi) in CF {
            for code in lo..=hi {
                assert!(escaped(code), "Cf U+{code:04X} passed raw");
            }
        }
    }

    #[test]
    fn issue_9_invisibles_are_escaped() {
        // Word joiner, Arabic letter mark, invisible operators, tags.
        for code in [0x2060, 0x61c, 0x2061, 0x2062, 0x2063, 0x2064] {
            assert!(escaped(code), "U+{code:04X}");
        }
        for code in 0xe0000..=0xe007f {
            assert!(escaped(code), "tag U+{code:04X}");
        }
        assert_eq!(
            escape_str("ok\u{e0041}\u{e0042}\u{2060}"),
            "ok\\u{e0041}\\u{e0042}\\u{2060}"
        );
    }

    #[test]
    fn other_invisibles_are_escaped() {
        let ranges = [
            (0x0, 0x1f),
            (0x7f, 0x9f),
            (0x34f, 0x34f),
            (0x115f, 0x1160),
            (0x17b4, 0x17b5),
            (0x2028, 0x2029),
            (0x2065, 0x2065),
            (0x3164, 0x3164),
            (0xffa0, 0xffa0),
            (0xfff0, 0xfff8),
            (0xe0080, 0xe0fff),
        ];
        for (lo, hi) in ranges {
            for code in lo..=hi {
                assert!(escaped(code), "U+{code:04X} passed raw");
            }
        }
    }

    #[test]
    fn glyph_choosing_and_visible_characters_are_kept() {
        for code in (0xfe00..=0xfe0f)
            .chain([0x180b, 0x180c, 0x180d, 0x180f])
            .chain([0x20, 0x7e, 0xa0, 0xac, 0xae, 0x301, 0x2010, 0x2070])
            .chain([0xe000, 0xfffc, 0xfffd, 0x1f600, 0xe1000, 0x0010_ffff])
        {
            assert!(!escaped(code), "U+{code:04X} was escaped");
        }
        let heart = "\u{2764}\u{fe0f}";
        assert!(matches!(escape_str(heart), Cow::Borrowed(_)));
    }

    #[test]
    fn backslash_is_kept_as_is() {
        assert_eq!(escape_str("a\\x1b"), "a\\x1b");
    }

    #[test]
    fn invalid_utf8_bytes_are_hex() {
        assert_eq!(escape_bytes(b"ok\xff\xfe!\x1b"), "ok\\xff\\xfe!\\x1b");
        assert_eq!(escape_bytes(b"\xe2\x82"), "\\xe2\\x82");
    }

    #[test]
    fn hostile_sequences_become_inert() {
        let nasty =
            "\u{1b}]0;title\u{7}\u{1b}[2J\u{9b}31m\rover\u{202e}gnp.exe";
        let out = escape_str(nasty);
        assert!(is_inert(&out));
        assert!(out.contains("\\x1b]0;title\\x07\\x1b[2J\\u{9b}31m\\rover"));
        let bytes = b"\x1b[2J\xc2\x9b\xff\r\n\x07";
        assert!(is_inert(&escape_bytes(bytes)));
        for line in text_lines(b"\x1b[2J\r\x1b]0;t\x07\n\xc2\x85\xff\tz") {
            assert!(is_inert(&line), "{line:?}");
        }
    }

    #[test]
    fn text_lines_split_expand_and_drop_cr() {
        assert_eq!(text_lines(b"a\r\nb\tc\n\td\n"), ["a", "b   c", "    d"]);
        assert_eq!(text_lines(b"ab\tc\rd"), ["ab  c\\rd"]);
        assert_eq!(text_lines(b"\x1b\tx"), ["\\x1b    x"]);
        assert_eq!(text_lines(b""), [""]);
        assert_eq!(text_lines(b"\n\n"), ["", ""]);
        assert_eq!(text_lines(b"\xff\tx\r"), ["\\xff    x"]);
        assert_eq!(escape_line("a\tb\r"), "a   b");
        // Only one `\r` belongs to the line break.
        assert_eq!(text_lines(b"a\r\r\nb"), ["a\\r", "b"]);
    }

    #[test]
    fn text_line_count_matches() {
        for input in
            [&b""[..], b"\n", b"a", b"a\n", b"a\nb", b"\n\n\n", b"x\r\ny"]
        {
            assert_eq!(text_line_count(input), text_lines(input).len());
        }
    }
}
