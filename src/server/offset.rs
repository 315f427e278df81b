//! Offsets on the wire: fixed-width `SSSSSSSSSSSSSSSS_PPPPPPPPPPPPPPPP`
//! tokens that sort lexicographically, plus the `-1` and `now` sentinels.
//!
//! The first field is always zero here; the second is the byte position in
//! the stream's stored form (raw bytes, or comma-terminated JSON messages).

/// Offset requested by a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requested {
    /// `-1` or no offset: the beginning of the stream.
    Start,
    /// `now`: the current tail.
    Now,
    /// A server-minted position (may be past the tail).
    At(u64),
}

/// Formats a byte position as an offset token.
pub fn format(pos: u64) -> String {
    format!("{:016}_{pos:016}", 0)
}

/// Parses a position token (`digits_digits`), not a sentinel.
///
/// A non-zero first field, or digits too large for `u64`, name a position
/// past every offset this server mints, so they map to `u64::MAX`.
pub fn parse_position(text: &str) -> Option<u64> {
    let (seg, pos) = text.split_once('_')?;
    let digits =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(seg) || !digits(pos) {
        return None;
    }
    if seg.bytes().any(|b| b != b'0') {
        return Some(u64::MAX);
    }
    Some(pos.parse::<u64>().unwrap_or(u64::MAX))
}

/// Parses a client-supplied offset (query parameter).
pub fn parse(text: &str) -> Option<Requested> {
    match text {
        "-1" => Some(Requested::Start),
        "now" => Some(Requested::Now),
        _ => parse_position(text).map(Requested::At),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_ordering() {
        assert_eq!(format(8), "0000000000000000_0000000000000008");
        assert_eq!(parse_position(&format(12_345)), Some(12_345));
        assert!(format(9) < format(10));
    }

    #[test]
    fn sentinels_and_garbage() {
        assert_eq!(parse("-1"), Some(Requested::Start));
        assert_eq!(parse("now"), Some(Requested::Now));
        for bad in ["", "0", "abc", "1_", "_1", "0,1", "0 1", "1_2_3", "-2"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(parse("0000000000000001_0"), Some(Requested::At(u64::MAX)));
    }
}
