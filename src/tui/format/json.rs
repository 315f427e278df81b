//! A validating pull parser over raw JSON text that keeps key order and
//! number spelling exactly as sent, and byte positions for the detail tree.
//!
//! Why not `serde_json::Value`: without its `preserve_order` feature it
//! sorts keys, and it rewrites numbers (`1.50` becomes `1.5`); users must see
//! the message as the server has it. Walking the raw text also lets the
//! printers borrow scalars instead of building a tree per frame.

use std::borrow::Cow;

/// Deepest nesting accepted, as `serde_json`'s default; deeper input is shown
/// as text, which also bounds indentation.
pub const MAX_DEPTH: usize = 128;

/// One step of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    StartObject,
    EndObject,
    StartArray,
    EndArray,
    /// An object key: the text between its quotes, JSON escapes intact.
    Key(&'a str),
    /// A string value: the text between its quotes, JSON escapes intact.
    Str(&'a str),
    /// A number exactly as written.
    Num(&'a str),
    Bool(bool),
    Null,
}

/// An event with the byte range it covers (a whole key or scalar including
/// quotes; the bracket alone for start/end events).
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub event: Event<'a>,
    pub start: usize,
    pub end: usize,
}

/// The input is not one well-formed JSON value (or nests too deep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    ValueOrEnd,
    Key,
    KeyOrEnd,
    CommaOrEnd,
    Done,
}

/// Pulls [`Item`]s from one JSON text, rejecting anything malformed.
pub struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Open containers, `true` for objects.
    stack: Vec<bool>,
    expect: Expect,
    peeked: Option<Item<'a>>,
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            stack: Vec::new(),
            expect: Expect::Value,
            peeked: None,
        }
    }

    /// The next item without consuming it.
    pub fn peek(&mut self) -> Result<Option<Item<'a>>, Invalid> {
        if self.peeked.is_none() {
            self.peeked = self.advance()?;
        }
        Ok(self.peeked)
    }

    /// The next item; `Ok(None)` once the value ended with only whitespace
    /// after it.
    pub fn next_item(&mut self) -> Result<Option<Item<'a>>, Invalid> {
        match self.peeked.take() {
            Some(item) => Ok(Some(item)),
            None => self.advance(),
        }
    }

    fn skip_ws(&mut self) {
        let bytes = self.src.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn advance(&mut self) -> Result<Option<Item<'a>>, Invalid> {
        let bytes = self.src.as_bytes();
        loop {
            self.skip_ws();
            let start = self.pos;
            let Some(&b) = bytes.get(start) else {
                return if self.expect == Expect::Done {
                    Ok(None)
                } else {
                    Err(Invalid)
                };
            };
            match (self.expect, b) {
                (Expect::CommaOrEnd, b',') => {
                    self.pos += 1;
                    self.expect = if self.stack.last() == Some(&true) {
                        Expect::Key
                    } else {
                        Expect::Value
                    };
                }
                (
                    Expect::CommaOrEnd | Expect::KeyOrEnd | Expect::ValueOrEnd,
                    b'}' | b']',
                ) => {
                    let object = b == b'}';
                    if self.stack.pop() != Some(object)
                        || (self.expect == Expect::KeyOrEnd && !object)
                        || (self.expect == Expect::ValueOrEnd && object)
                    {
                        return Err(Invalid);
                    }
                    self.pos += 1;
                    self.after_value();
                    let event = if object {
                        Event::EndObject
                    } else {
                        Event::EndArray
                    };
                    return Ok(Some(self.item(event, start)));
                }
                (Expect::Key | Expect::KeyOrEnd, b'"') => {
                    let key = self.string()?;
                    let end = self.pos;
                    self.skip_ws();
                    if bytes.get(self.pos) != Some(&b':') {
                        return Err(Invalid);
                    }
                    self.pos += 1;
                    self.expect = Expect::Value;
                    return Ok(Some(Item {
                        event: Event::Key(key),
                        start,
                        end,
                    }));
                }
                (Expect::Value | Expect::ValueOrEnd, _) => {
                    return self.value(b, start).map(Some);
                }
                _ => return Err(Invalid),
            }
        }
    }

    fn item(&self, event: Event<'a>, start: usize) -> Item<'a> {
        Item {
            event,
            start,
            end: self.pos,
        }
    }

    fn after_value(&mut self) {
        self.expect = if self.stack.is_empty() {
            Expect::Done
        } else {
            Expect::CommaOrEnd
        };
    }

    fn value(&mut self, b: u8, start: usize) -> Result<Item<'a>, Invalid> {
        let event = match b {
            b'{' | b'[' => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(Invalid);
                }
                let object = b == b'{';
                self.stack.push(object);
                self.pos += 1;
                self.expect = if object {
                    Expect::KeyOrEnd
                } else {
                    Expect::ValueOrEnd
                };
                return Ok(self.item(
                    if object {
                        Event::StartObject
                    } else {
                        Event::StartArray
                    },
                    start,
                ));
            }
            b'"' => Event::Str(self.string()?),
            b't' => self.literal("true", Event::Bool(true))?,
            b'f' => self.literal("false", Event::Bool(false))?,
            b'n' => self.literal("null", Event::Null)?,
            b'-' | b'0'..=b'9' => Event::Num(self.number()?),
            _ => return Err(Invalid),
        };
        self.after_value();
        Ok(self.item(event, start))
    }

    fn literal(
        &mut self,
        word: &str,
        event: Event<'a>,
    ) -> Result<Event<'a>, Invalid> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(event)
        } else {
            Err(Invalid)
        }
    }

    /// Consumes a string starting at its opening quote; returns its contents.
    fn string(&mut self) -> Result<&'a str, Invalid> {
        let bytes = self.src.as_bytes();
        let begin = self.pos + 1;
        let mut i = begin;
        loop {
            match bytes.get(i) {
                None => return Err(Invalid),
                Some(b'"') => break,
                Some(b'\\') => match bytes.get(i + 1) {
                    Some(
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't',
                    ) => i += 2,
                    Some(b'u') => {
                        let hex = bytes.get(i + 2..i + 6).ok_or(Invalid)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(Invalid);
                        }
                        i += 6;
                    }
                    _ => return Err(Invalid),
                },
                Some(&c) if c < 0x20 => return Err(Invalid),
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        Ok(&self.src[begin..i])
    }

    fn number(&mut self) -> Result<&'a str, Invalid> {
        let bytes = self.src.as_bytes();
        let begin = self.pos;
        let mut i = begin;
        let digits = |i: &mut usize| {
            let from = *i;
            while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        if bytes.get(i) == Some(&b'0') {
            i += 1;
        } else if !digits(&mut i) {
            return Err(Invalid);
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(Invalid);
            }
        }
        if let Some(b'e' | b'E') = bytes.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(Invalid);
            }
        }
        self.pos = i;
        Ok(&self.src[begin..i])
    }
}

/// Whether `src` is exactly one well-formed JSON value.
pub fn is_valid(src: &str) -> bool {
    let mut parser = Parser::new(src);
    loop {
        match parser.next_item() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(Invalid) => return false,
        }
    }
}

/// The string that validated contents `raw` (between the quotes) stand for;
/// borrowed when `raw` has no escapes. A lone surrogate becomes U+FFFD.
pub fn decode_string(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let esc = &rest[at + 1..];
        let (c, used) = match esc.as_bytes()[0] {
            b'b' => ('\u{8}', 1),
            b'f' => ('\u{c}', 1),
            b'n' => ('\n', 1),
            b'r' => ('\r', 1),
            b't' => ('\t', 1),
            b'u' => unicode_escape(esc),
            other => (char::from(other), 1),
        };
        out.push(c);
        rest = &esc[used..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes `u1234` (and a following low surrogate escape); returns the char
/// and how many bytes of `esc` it used.
fn unicode_escape(esc: &str) -> (char, usize) {
    let unit = |s: &str| u32::from_str_radix(&s[1..5], 16).unwrap_or(0xfffd);
    let high = unit(esc);
    if (0xd800..0xdc00).contains(&high)
        && esc.get(5..7) == Some("\\u")
        && let Some(low) = esc.get(6..11).map(unit)
        && (0xdc00..0xe000).contains(&low)
    {
        let c = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
        return (char::from_u32(c).unwrap_or('\u{fffd}'), 11);
    }
    (char::from_u32(high).unwrap_or('\u{fffd}'), 5)
}

/// Validated JSON `src` without insignificant whitespace: still valid JSON,
/// strings byte for byte as sent. For the clipboard, never the terminal.
pub fn compact(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in src.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(src: &str) -> Result<Vec<Event<'_>>, Invalid> {
        let mut parser = Parser::new(src);
        let mut out = Vec::new();
        while let Some(item) = parser.next_item()? {
            out.push(item.event);
        }
        Ok(out)
    }

    #[test]
    fn keeps_order_and_number_text() {
        let got = events(r#" {"z": 1.50, "a": [1e3, -0, true, null]} "#);
        assert_eq!(
            got.unwrap(),
            [
                Event::StartObject,
                Event::Key("z"),
                Event::Num("1.50"),
                Event::Key("a"),
                Event::StartArray,
                Event::Num("1e3"),
                Event::Num("-0"),
                Event::Bool(true),
                Event::Null,
                Event::EndArray,
                Event::EndObject,
            ]
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[1 2]",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"a",
            "\"\u{1}\"",
            "\"\\x\"",
            "\"\\u12g4\"",
            "[}",
            "{]",
            "1 2",
            "{1:2}",
            "[\"a\":1]",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(!is_valid(&deep));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(is_valid(&ok));
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(decode_string("plain"), "plain");
        assert_eq!(
            decode_string(r#"a\"b\\c\/\n\u001b\u00e9\ud83d\ude00\ud800x"#),
            "a\"b\\c/\n\u{1b}é😀\u{fffd}x"
        );
    }

    #[test]
    fn compact_strips_only_outside_strings() {
        assert_eq!(
            compact("{ \"a b\" : [ 1 , \"x\\\" y\" ] }"),
            "{\"a b\":[1,\"x\\\" y\"]}"
        );
    }
}
