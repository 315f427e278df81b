//! Entry points into crate-private parsers, for the `cargo fuzz` targets in
//! `fuzz/` and the regression tests that keep their crashers.
//!
//! Not part of the client's API: hidden from the docs, and free to change
//! with the fuzz targets. Each function runs the real parser and checks a
//! property that must hold for any input, panicking when it does not, so
//! that the fuzzer reports a broken property as a crash.

use bytes::Bytes;

use super::decode;
use super::json_scan::{JsonArrayScanner, ScanError};
use super::sse::{SseOutput, SseParser};

/// `input` cut at the positions in `cuts` (taken modulo the length, sorted),
/// as a network read could deliver it.
fn pieces<'a>(input: &'a [u8], cuts: &[u8]) -> Vec<&'a [u8]> {
    if input.is_empty() {
        return vec![input];
    }
    let mut at: Vec<usize> =
        cuts.iter().map(|&c| usize::from(c) % input.len()).collect();
    at.sort_unstable();
    at.dedup();
    let mut out = Vec::with_capacity(at.len() + 1);
    let mut start = 0;
    for end in at {
        out.push(&input[start..end]);
        start = end;
    }
    out.push(&input[start..]);
    out
}

/// One parsed event with any streamed payload joined back in: what a reader
/// sees, independent of where the network cut the bytes.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    event: String,
    data: Vec<u8>,
    streamed: bool,
}

fn sse_run(
    parts: &[&[u8]],
    limit: usize,
) -> (Vec<Seen>, Vec<u8>, Option<usize>) {
    let mut parser = SseParser::with_limit(limit);
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let mut pending = Vec::new();
    for part in parts {
        let fed = parser.feed(part, &mut out);
        for item in out.drain(..) {
            match item {
                SseOutput::Data(data) => pending.extend_from_slice(&data),
                SseOutput::Event(e) => {
                    let data = if e.streamed {
                        assert!(e.data.is_empty(), "streamed event kept data");
                        std::mem::take(&mut pending)
                    } else {
                        assert!(
                            pending.is_empty(),
                            "streamed data before a buffered event"
                        );
                        e.data.to_vec()
                    };
                    seen.push(Seen {
                        event: e.event,
                        data,
                        streamed: e.streamed,
                    });
                }
            }
        }
        if let Err(e) = fed {
            return (seen, pending, Some(e.0));
        }
    }
    (seen, pending, None)
}

/// The SSE parser gives the same events whether `input` arrives whole or
/// cut at `cuts`; a buffered event never exceeds the limit.
pub fn sse_split_agrees(input: &[u8], cuts: &[u8], small_limit: bool) {
    let limit = if small_limit { 64 } else { 1 << 20 };
    let whole = sse_run(&[input], limit);
    let cut = sse_run(&pieces(input, cuts), limit);
    if whole.2.is_none() && cut.2.is_none() {
        assert_eq!(whole, cut, "SSE events depend on how bytes were cut");
    } else {
        // The limit may trip at a different byte, but both must trip, and
        // what was handed out before agrees as far as the shorter run went.
        assert!(
            whole.2.is_some() && cut.2.is_some(),
            "SSE limit tripped for one cut only: {whole:?} vs {cut:?}"
        );
        let n = whole.0.len().min(cut.0.len());
        assert_eq!(whole.0[..n], cut.0[..n]);
    }
    for seen in &whole.0 {
        if !seen.streamed {
            assert!(seen.data.len() <= limit, "buffered past the limit");
        }
    }
}

fn split_run(parts: &[&[u8]]) -> Result<Vec<Vec<u8>>, ScanError> {
    let mut scanner = JsonArrayScanner::new();
    let mut elements = Vec::new();
    for part in parts {
        scanner.feed(part, |e| -> Result<(), ScanError> {
            elements.push(e.to_vec());
            Ok(())
        })?;
    }
    scanner.finish()?;
    Ok(elements)
}

/// The JSON batch splitter gives the same elements whole or cut at `cuts`;
/// an array that serde accepts is split into exactly its elements; the raw
/// decoder (split, validate, pack) does not panic.
pub fn json_split_agrees(input: &[u8], cuts: &[u8]) {
    let parts = pieces(input, cuts);
    let whole = split_run(&[input]);
    let cut = split_run(&parts);
    match (&whole, &cut) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "elements depend on the cuts"),
        (Err(_), Err(_)) => {}
        _ => panic!("split outcome depends on the cuts: {whole:?} {cut:?}"),
    }
    if let Ok(values) = serde_json::from_slice::<Vec<serde_json::Value>>(input)
    {
        let elements = whole.expect("serde accepted the array");
        assert_eq!(elements.len(), values.len(), "element count");
        for (raw, value) in elements.iter().zip(&values) {
            let parsed: serde_json::Value = serde_json::from_slice(raw)
                .expect("a split element parses on its own");
            assert_eq!(&parsed, value, "element differs from serde's");
        }
    }
    let owned: Vec<Bytes> =
        parts.iter().map(|p| Bytes::copy_from_slice(p)).collect();
    if let Ok(n) = decode::bench_raw_decode(&owned)
        && let Ok(values) =
            serde_json::from_slice::<Vec<serde_json::Value>>(input)
    {
        assert_eq!(n, values.len(), "decoder message count");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_input_in_order() {
        let input = b"abcdef";
        let parts = pieces(input, &[4, 2, 2, 10]);
        assert_eq!(parts, [&b"ab"[..], b"cd", b"ef"]);
        assert_eq!(pieces(b"", &[3]), [&b""[..]]);
    }

    #[test]
    fn sse_property_holds_for_a_plain_stream() {
        let input = b"event: data\ndata: [1,2]\n\nevent: control\r\n\
                      data: {\"streamNextOffset\":\"1\"}\r\n\r\n";
        for cut in 0..=u8::try_from(input.len()).unwrap() {
            sse_split_agrees(input, &[cut], false);
            sse_split_agrees(input, &[cut, cut / 2], true);
        }
    }

    #[test]
    fn json_property_holds_for_nested_arrays() {
        let input = br#" [ {"a":[1,"]"]}, "x\"y", 12, null,[[]] ] "#;
        for cut in 0..=u8::try_from(input.len()).unwrap() {
            json_split_agrees(input, &[cut]);
        }
        json_split_agrees(b"[1,", &[1]);
        json_split_agrees(b"", &[]);
    }

    /// Every input a fuzz target once failed on, kept in
    /// `fuzz/regressions/<target>/`, passes its target's check.
    fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions")
            .join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        entries
            .map(|e| {
                let path = e.expect("a directory entry").path();
                let name = path.display().to_string();
                (name, std::fs::read(&path).expect("a regression input"))
            })
            .collect()
    }

    /// The sse target's framing of its input: flags, count, cuts, stream.
    fn run_sse_target(data: &[u8]) {
        let [flags, n, rest @ ..] = data else {
            return;
        };
        let n = usize::from(n % 8).min(rest.len());
        let (cuts, body) = rest.split_at(n);
        sse_split_agrees(body, cuts, flags & 1 == 1);
    }

    #[test]
    fn sse_fuzz_regressions_pass() {
        let found = regressions("sse");
        assert!(!found.is_empty(), "fuzz/regressions/sse is missing");
        for (name, data) in found {
            let run = std::panic::catch_unwind(|| run_sse_target(&data));
            assert!(run.is_ok(), "{name} fails again");
        }
    }
}
