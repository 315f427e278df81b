//! JSON mode: validation and one-level array flattening of request bodies
//! into the stored form, where every message is followed by a comma so a
//! read is `[` + stored bytes minus the last comma + `]`.

use bytes::{BufMut, Bytes, BytesMut};

/// Why a JSON body was refused (both are 400s).
#[derive(Debug, PartialEq, Eq)]
pub enum JsonError {
    Invalid,
    EmptyArray,
}

/// Messages ready to store: comma-terminated bytes and the end of each
/// message relative to the start of `data`.
#[derive(Debug)]
pub struct Messages {
    pub data: Bytes,
    pub ends: Vec<u32>,
}

/// Validates `body` and splits it into messages. A top-level array is
/// flattened one level; an empty array is refused unless `allow_empty`
/// (stream creation), where it stores nothing.
pub fn split(body: &[u8], allow_empty: bool) -> Result<Messages, JsonError> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return Err(JsonError::Invalid);
    }
    let start = skip_ws(body, 0);
    let mut out = BytesMut::with_capacity(body.len() + 1);
    let mut ends = Vec::new();
    if body.get(start) == Some(&b'[') {
        let mut i = skip_ws(body, start + 1);
        if body.get(i) == Some(&b']') {
            if !allow_empty {
                return Err(JsonError::EmptyArray);
            }
        } else {
            loop {
                let end = value_end(body, i);
                push(&mut out, &mut ends, trim_end(&body[i..end]))?;
                i = skip_ws(body, end);
                match body.get(i) {
                    Some(b',') => i = skip_ws(body, i + 1),
                    _ => break,
                }
            }
        }
    } else {
        push(&mut out, &mut ends, trim_end(&body[start..]))?;
    }
    Ok(Messages {
        data: out.freeze(),
        ends,
    })
}

fn push(
    out: &mut BytesMut,
    ends: &mut Vec<u32>,
    msg: &[u8],
) -> Result<(), JsonError> {
    minify(out, msg);
    out.put_u8(b',');
    ends.push(u32::try_from(out.len()).map_err(|_| JsonError::Invalid)?);
    Ok(())
}

/// Copies valid JSON without whitespace outside strings (compact form,
/// as the reference servers return it).
fn minify(out: &mut BytesMut, msg: &[u8]) {
    if !msg
        .iter()
        .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        out.put_slice(msg);
        return;
    }
    let mut in_str = false;
    let mut escaped = false;
    for &c in msg {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_str = false;
            }
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        } else if c == b'"' {
            in_str = true;
        }
        out.put_u8(c);
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn trim_end(b: &[u8]) -> &[u8] {
    let mut n = b.len();
    while n > 0 && matches!(b[n - 1], b' ' | b'\t' | b'\n' | b'\r') {
        n -= 1;
    }
    &b[..n]
}

/// End (exclusive) of the array element starting at `i` in valid JSON: the
/// next `,` or `]` at nesting depth zero outside strings.
fn value_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' | b',' if depth == 0 => return i,
                b']' | b'}' => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: &str) -> String {
        let m = split(body.as_bytes(), false).unwrap();
        String::from_utf8(m.data.to_vec()).unwrap()
    }

    #[test]
    fn flattens_one_level() {
        assert_eq!(stored(r#" {"a": 1} "#), r#"{"a":1},"#);
        assert_eq!(
            stored(r#"[{"a":1}, {"b" : "x, ]\" y"}]"#),
            r#"{"a":1},{"b":"x, ]\" y"},"#
        );
        assert_eq!(stored("[\n  [1, 2],\n  [3, 4]\n]"), "[1,2],[3,4],");
        assert_eq!(stored("[[1,2], [3,4]]"), "[1,2],[3,4],");
        assert_eq!(stored("[[[1,2,3]]]"), "[[1,2,3]],");
        assert_eq!(stored(r#"["a\"]",2]"#), r#""a\"]",2,"#);
        let m = split(b"[1, 22]", false).unwrap();
        assert_eq!(m.ends, vec![2, 5]);
    }

    #[test]
    fn rejects_invalid_and_empty() {
        assert_eq!(
            split(b"{ invalid }", false).unwrap_err(),
            JsonError::Invalid
        );
        assert_eq!(split(b"[]", false).unwrap_err(), JsonError::EmptyArray);
        assert!(split(b" [ ] ", true).unwrap().data.is_empty());
        assert_eq!(split(b"", true).unwrap_err(), JsonError::Invalid);
    }
}
