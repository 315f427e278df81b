//! Incremental splitter of a JSON array into its top-level elements.
//!
//! A JSON stream's read response is one array that may be as large as the
//! stream, delivered in network-sized pieces. This scanner walks the bytes
//! once, tracking nesting depth, strings and escapes, and hands out each
//! top-level element's bytes as soon as the element ends, so that memory is
//! bounded by the largest element rather than the response. Elements that lie
//! inside one piece are handed out as borrowed slices (no copy); only an
//! element that spans pieces is copied into a carry buffer.
//!
//! Why not `serde_json::StreamDeserializer`: it reads a sequence of
//! whitespace-separated values, not the elements of one array, and needs
//! either the whole input as a slice or a blocking `io::Read`; neither fits
//! an async body that arrives in pieces. The scanner checks only the array's
//! framing (brackets, commas, strings); each element is then fully validated
//! when serde deserializes it.

/// Where the scanner is, outside of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Top {
    /// Before the opening `[`.
    Start,
    /// After `[`: an element or `]`.
    Open,
    /// After `,`: an element.
    Comma,
    /// After an element: `,` or `]`.
    AfterElement,
    /// Inside an element.
    Element,
    /// After the closing `]`: only whitespace.
    Done,
}

/// What kind of element is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Object or array: ends when depth returns to zero.
    Container,
    /// A string: ends at its closing quote.
    Str,
    /// Number, `true`, `false`, `null`: ends before a delimiter.
    Scalar,
}

/// The array's framing is broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScanError(pub String);

/// State carried between pieces.
#[derive(Debug)]
pub(crate) struct JsonArrayScanner {
    top: Top,
    kind: Kind,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// Bytes of an element that began in an earlier piece.
    carry: Vec<u8>,
    /// Bytes seen in total (for error positions).
    position: u64,
}

impl Default for JsonArrayScanner {
    fn default() -> Self {
        JsonArrayScanner::new()
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl JsonArrayScanner {
    pub fn new() -> Self {
        JsonArrayScanner {
            top: Top::Start,
            kind: Kind::Scalar,
            depth: 0,
            in_string: false,
            escape: false,
            carry: Vec::new(),
            position: 0,
        }
    }

    /// Scans `piece`, calling `emit` with each element that ends in it.
    pub fn feed<E>(
        &mut self,
        piece: &[u8],
        mut emit: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<ScanError>,
    {
        let mut i = 0;
        // Start (in `piece`) of the element being read: 0 when it began in
        // an earlier piece (its first bytes are in `carry`).
        let mut start = 0;
        while i < piece.len() {
            if self.top == Top::Element {
                let (end, done) = self.scan_element(piece, i);
                if done {
                    if self.carry.is_empty() {
                        emit(&piece[start..end])?;
                    } else {
                        self.carry.extend_from_slice(&piece[..end]);
                        let element = std::mem::take(&mut self.carry);
                        emit(&element)?;
                        // Keep the allocation for the next spanning element.
                        self.carry = element;
                        self.carry.clear();
                    }
                    self.top = Top::AfterElement;
                }
                i = end;
                continue;
            }
            let b = piece[i];
            if is_ws(b) {
                i += 1;
                continue;
            }
            match (self.top, b) {
                (Top::Start, b'[') => self.top = Top::Open,
                (Top::Open | Top::AfterElement, b']') => {
                    self.top = Top::Done;
                }
                (Top::AfterElement, b',') => self.top = Top::Comma,
                (Top::Open | Top::Comma, b) if b != b']' && b != b',' => {
                    self.begin_element(b);
                    start = i;
                    // A container or string element starts after its opening
                    // byte; a scalar's first byte is scanned normally.
                    if self.kind != Kind::Scalar {
                        i += 1;
                    }
                    continue;
                }
                _ => return Err(self.unexpected(b, i).into()),
            }
            i += 1;
        }
        if self.top == Top::Element {
            self.carry.extend_from_slice(&piece[start..]);
        }
        self.position += piece.len() as u64;
        Ok(())
    }

    /// Checks that the array ended, at the end of the response or event.
    /// The scanner is reset for another array.
    pub fn finish(&mut self) -> Result<(), ScanError> {
        // A scalar at the very end of the input (no delimiter after it) is
        // a framing error too: the array is not closed.
        let outcome = match self.top {
            Top::Done => Ok(()),
            Top::Start => {
                Err(ScanError("empty body, expected a JSON array".into()))
            }
            _ => Err(ScanError(format!(
                "truncated JSON array after {} bytes",
                self.position
            ))),
        };
        *self = JsonArrayScanner::new();
        outcome
    }

    fn begin_element(&mut self, first: u8) {
        self.top = Top::Element;
        self.in_string = false;
        self.escape = false;
        match first {
            b'{' | b'[' => {
                self.kind = Kind::Container;
                self.depth = 1;
            }
            b'"' => {
                self.kind = Kind::Str;
                self.in_string = true;
            }
            _ => self.kind = Kind::Scalar,
        }
    }

    /// Scans element bytes from `i`; returns where scanning stopped and
    /// whether the element ended there (exclusive end).
    fn scan_element(&mut self, piece: &[u8], mut i: usize) -> (usize, bool) {
        if self.kind == Kind::Scalar {
            while i < piece.len() {
                let b = piece[i];
                if is_ws(b) || b == b',' || b == b']' {
                    return (i, true);
                }
                i += 1;
            }
            return (i, false);
        }
        while i < piece.len() {
            if self.in_string {
                // Fast path: jump to the next quote or backslash.
                if self.escape {
                    self.escape = false;
                    i += 1;
                    continue;
                }
                match piece[i..].iter().position(|&b| b == b'"' || b == b'\\') {
                    None => return (piece.len(), false),
                    Some(k) => {
                        i += k;
                        if piece[i] == b'\\' {
                            self.escape = true;
                        } else {
                            self.in_string = false;
                            if self.kind == Kind::Str {
                                return (i + 1, true);
                            }
                        }
                        i += 1;
                    }
                }
                continue;
            }
            match piece[i] {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return (i + 1, true);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        (i, false)
    }

    fn unexpected(&self, b: u8, i: usize) -> ScanError {
        let at = self.position + i as u64;
        let expected = match self.top {
            Top::Start => "'['",
            Top::Open => "an element or ']'",
            Top::Comma => "an element",
            Top::AfterElement => "',' or ']'",
            Top::Done => "nothing after the closing ']'",
            Top::Element => "more of the element",
        };
        ScanError(format!(
            "invalid JSON array: unexpected {:?} at byte {at}, expected {expected}",
            char::from(b)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl From<ScanError> for String {
        fn from(e: ScanError) -> Self {
            e.0
        }
    }

    fn scan(pieces: &[&[u8]]) -> Result<Vec<String>, String> {
        let mut scanner = JsonArrayScanner::new();
        let mut out = Vec::new();
        for piece in pieces {
            scanner.feed(piece, |e: &[u8]| -> Result<(), String> {
                out.push(String::from_utf8(e.to_vec()).unwrap());
                Ok(())
            })?;
        }
        scanner.finish()?;
        Ok(out)
    }

    const NESTED: &str = " [ {\"a\":[1,{\"b\":\"]}\\\"[\"}]} ,\n\t\"s\\\\\",\"q\\\"]\" , -1.5e3,true,null,[[]],[],{},\"\" ] \r\n";

    fn nested_expected() -> Vec<String> {
        [
            "{\"a\":[1,{\"b\":\"]}\\\"[\"}]}",
            "\"s\\\\\"",
            "\"q\\\"]\"",
            "-1.5e3",
            "true",
            "null",
            "[[]]",
            "[]",
            "{}",
            "\"\"",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    #[test]
    fn nested_whole() {
        assert_eq!(scan(&[NESTED.as_bytes()]).unwrap(), nested_expected());
    }

    #[test]
    fn nested_split_everywhere() {
        let bytes = NESTED.as_bytes();
        for cut in 0..=bytes.len() {
            assert_eq!(
                scan(&[&bytes[..cut], &bytes[cut..]]).unwrap(),
                nested_expected(),
                "cut at {cut}"
            );
        }
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                assert_eq!(
                    scan(&[&bytes[..a], &bytes[a..b], &bytes[b..]]).unwrap(),
                    nested_expected(),
                    "cuts at {a},{b}"
                );
            }
        }
    }

    #[test]
    fn byte_by_byte() {
        let pieces: Vec<&[u8]> = NESTED.as_bytes().chunks(1).collect();
        assert_eq!(scan(&pieces).unwrap(), nested_expected());
    }

    #[test]
    fn empty_arrays() {
        assert_eq!(scan(&[b"[]"]).unwrap(), Vec::<String>::new());
        assert_eq!(scan(&[b" [ \n ] "]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn framing_errors() {
        for bad in [
            &b""[..],
            b"   ",
            b"{}",
            b"XY{\"a\":1}]",
            b"[1,2",
            b"[1,2,]",
            b"[,1]",
            b"[1 2]",
            b"[1]]",
            b"[1] x",
            b"[{\"a\":1}",
            b"[\"abc",
        ] {
            assert!(
                scan(&[bad]).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn truncated_in_every_place_fails() {
        let bytes = b"[{\"msg\":\"first\"},{\"msg\":\"second\"}]";
        for cut in 0..bytes.len() {
            assert!(scan(&[&bytes[..cut]]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn resets_after_finish() {
        let mut scanner = JsonArrayScanner::new();
        let mut n = 0;
        for _ in 0..2 {
            scanner
                .feed(b"[1,2]", |_: &[u8]| -> Result<(), String> {
                    n += 1;
                    Ok(())
                })
                .unwrap();
            scanner.finish().unwrap();
        }
        assert_eq!(n, 4);
    }
}
