//! Entry points into crate-private parsers, for the criterion benches only.
//!
//! Not part of the client's API: hidden from the docs, and free to change
//! with the benches. Each function runs the real code path over pieces as a
//! network read would deliver them and returns a count, so that the work
//! cannot be optimised away and the bench can check it.

use bytes::Bytes;

use super::decode;
use super::json_scan::JsonArrayScanner;
use super::sse::{SseOutput, SseParser};

/// A realistic JSON event of exactly 100 bytes, number `i`: the message the
/// render bench buffers and the explorer burst bench appends.
pub fn event_100(i: u64) -> String {
    let mut m = format!(
        r#"{{"id":{i},"type":"order.created","user":"u_{:04x}","total":{}.{:02},"items":[1,2,3],"note":""#,
        i % 65_536,
        i % 500,
        i % 100
    );
    while m.len() < 98 {
        m.push('x');
    }
    m.push_str("\"}");
    m
}

/// Feeds `pieces` to the incremental SSE parser; returns the number of
/// completed events plus the streamed payload bytes.
pub fn sse_parse_all(pieces: &[Bytes]) -> usize {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    let mut total = 0;
    for piece in pieces {
        parser
            .feed(piece, &mut out)
            .expect("bench input within limits");
        for item in out.drain(..) {
            total += match item {
                SseOutput::Data(data) => data.len(),
                SseOutput::Event(_) => 1,
            };
        }
    }
    total
}

/// Splits one JSON array, delivered as `pieces`, into its top-level
/// elements (framing only, no validation); returns how many there were.
pub fn json_split_count(pieces: &[Bytes]) -> usize {
    let mut scanner = JsonArrayScanner::new();
    let mut count = 0;
    for piece in pieces {
        scanner
            .feed(piece, |_| -> Result<(), super::json_scan::ScanError> {
                count += 1;
                Ok(())
            })
            .expect("bench input is a JSON array");
    }
    scanner.finish().expect("bench input is a whole array");
    count
}

/// Decodes one JSON array response, delivered as `pieces`, the way
/// `read_json_raw` does (split, validate each message, pack the batch);
/// returns the number of messages.
pub fn json_raw_decode_count(pieces: &[Bytes]) -> usize {
    decode::bench_raw_decode(pieces).expect("bench input is valid JSON")
}
