//! The output formats of `dsx read`: raw bytes, one JSON message per line,
//! one JSON object per batch, and jq outputs.

use std::io;

use base64::Engine as _;

use super::output::{Out, server_text};
use crate::client::{ByteChunk, RawJsonBatch, ReadMeta};
use crate::jq::{Filter, JqError};

/// Raw bytes, as the server sent them.
pub fn raw(chunk: &ByteChunk, out: &mut Out) -> io::Result<()> {
    out.content(&chunk.data)
}

/// Each message on its own line.
pub fn ndjson(batch: &RawJsonBatch, out: &mut Out) -> io::Result<()> {
    // One scan of the whole batch decides whether any message needs its
    // line breaks removed; most batches need none.
    if has_line_break(&batch.data) {
        for item in batch.items() {
            out.content(&one_line(item))?;
            out.text(b"\n")?;
        }
    } else {
        for item in batch.items() {
            out.content(item)?;
            out.text(b"\n")?;
        }
    }
    Ok(())
}

/// `message` without its `\n` and `\r` bytes. In valid JSON those can only
/// be whitespace between tokens (inside strings they must be escaped), so
/// dropping them keeps the value, its key order and its numbers exactly.
pub fn one_line(message: &[u8]) -> Vec<u8> {
    message
        .iter()
        .copied()
        .filter(|&b| b != b'\n' && b != b'\r')
        .collect()
}

fn has_line_break(data: &[u8]) -> bool {
    data.iter().any(|&b| b == b'\n' || b == b'\r')
}

/// The `batches` format: one JSON object per batch. Empty batches are
/// printed only when they move the offset or change the up-to-date or
/// closed state (a long-poll that timed out changes nothing).
#[derive(Default)]
pub struct Batches {
    last: Option<(String, bool, bool)>,
}

impl Batches {
    /// A batch of a JSON stream: its messages in `"messages"`.
    pub fn json(
        &mut self,
        batch: &RawJsonBatch,
        out: &mut Out,
    ) -> io::Result<()> {
        if !self.worth_printing(batch.is_empty(), &batch.meta) {
            return Ok(());
        }
        let mut line = header(&batch.meta);
        line.extend_from_slice(b",\"messages\":[");
        for (i, item) in batch.items().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            line.extend_from_slice(&one_line(item));
        }
        line.extend_from_slice(b"]}\n");
        out.content(&line)
    }

    /// A batch of a JSON stream through `--jq`: what the filter yields
    /// for its messages, in `"messages"` (a batch whose messages the filter
    /// all drops still says where the read is, as an empty one does).
    pub fn jq(
        &mut self,
        jq: &mut Jq,
        batch: &RawJsonBatch,
        out: &mut Out,
    ) -> io::Result<()> {
        if !self.worth_printing(batch.is_empty(), &batch.meta) {
            return Ok(());
        }
        let mut line = header(&batch.meta);
        line.extend_from_slice(b",\"messages\":[");
        let mut first = true;
        for item in batch.items() {
            match jq.filter.run(item) {
                Ok(results) => {
                    for result in results {
                        if !first {
                            line.push(b',');
                        }
                        first = false;
                        line.extend_from_slice(&one_line(result.as_bytes()));
                    }
                }
                Err(e) => jq.report(&e, &batch.meta),
            }
        }
        line.extend_from_slice(b"]}\n");
        out.content(&line)
    }

    /// A chunk of any other stream: `"data"` (UTF-8 text) or
    /// `"data_base64"`.
    pub fn bytes(
        &mut self,
        chunk: &ByteChunk,
        out: &mut Out,
    ) -> io::Result<()> {
        if !self.worth_printing(chunk.data.is_empty(), &chunk.meta) {
            return Ok(());
        }
        let mut line = header(&chunk.meta);
        if let Ok(text) = std::str::from_utf8(&chunk.data) {
            line.extend_from_slice(b",\"data\":");
            let quoted = serde_json::to_string(text).expect("a string");
            line.extend_from_slice(quoted.as_bytes());
        } else {
            line.extend_from_slice(b",\"data_base64\":\"");
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(&chunk.data);
            line.extend_from_slice(encoded.as_bytes());
            line.push(b'"');
        }
        line.extend_from_slice(b"}\n");
        out.content(&line)
    }

    fn worth_printing(&mut self, empty: bool, meta: &ReadMeta) -> bool {
        let state = (
            meta.offset.as_str().to_owned(),
            meta.up_to_date,
            meta.stream_closed,
        );
        if empty && self.last.as_ref() == Some(&state) {
            return false;
        }
        self.last = Some(state);
        true
    }
}

/// `{"offset":..,"up_to_date":..,"closed":..` (and `"partial":true` for a
/// piece of a larger response, whose offset is not resumable yet).
fn header(meta: &ReadMeta) -> Vec<u8> {
    let offset = serde_json::to_string(meta.offset.as_str()).expect("a string");
    let mut line = format!(
        "{{\"offset\":{offset},\"up_to_date\":{},\"closed\":{}",
        meta.up_to_date, meta.stream_closed
    );
    if meta.partial {
        line.push_str(",\"partial\":true");
    }
    line.into_bytes()
}

/// How many `--jq` failures are described on stderr; the rest are only
/// counted (a filter that fails on every message of a large stream would
/// otherwise print a line per message).
pub const JQ_ERRORS_SHOWN: u64 = 5;

/// The `--jq` output: each result of the filter on each message, one per
/// line. A message the filter fails on is reported on stderr (the first
/// [`JQ_ERRORS_SHOWN`]) and skipped.
pub struct Jq {
    filter: Filter,
    /// Messages the filter failed on.
    pub failures: u64,
}

impl Jq {
    pub fn new(filter: Filter) -> Jq {
        Jq {
            filter,
            failures: 0,
        }
    }

    /// The failures not described on stderr.
    pub fn unshown(&self) -> u64 {
        self.failures.saturating_sub(JQ_ERRORS_SHOWN)
    }

    pub fn batch(
        &mut self,
        batch: &RawJsonBatch,
        out: &mut Out,
    ) -> io::Result<()> {
        for item in batch.items() {
            match self.filter.run(item) {
                Ok(results) => {
                    for result in results {
                        out.content(result.as_bytes())?;
                        out.text(b"\n")?;
                    }
                }
                Err(e) => self.report(&e, &batch.meta),
            }
        }
        Ok(())
    }

    fn report(&mut self, error: &JqError, meta: &ReadMeta) {
        self.failures += 1;
        if self.failures > JQ_ERRORS_SHOWN {
            return;
        }
        eprintln!(
            "dsx: --jq: {} (in the batch before offset {})",
            server_text(&error.to_string()),
            server_text(meta.offset.as_str()),
        );
        if self.failures == JQ_ERRORS_SHOWN {
            eprintln!(
                "dsx: --jq: further failures are counted, not shown; the \
                 count follows at the end"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_drops_only_line_breaks() {
        let pretty = b"{\r\n  \"a\": [1,\n 2],\n  \"b\": \"x\\ny\"\n}";
        assert_eq!(one_line(pretty), br#"{  "a": [1, 2],  "b": "x\ny"}"#);
        let parsed: serde_json::Value =
            serde_json::from_slice(&one_line(pretty)).unwrap();
        assert_eq!(parsed["b"], "x\ny");
    }

    #[test]
    fn header_fields() {
        let meta = ReadMeta {
            start_offset: "-1".into(),
            offset: "0_\"5".into(),
            up_to_date: true,
            cursor: None,
            stream_closed: false,
            partial: true,
            ends_unit: false,
            etag: None,
            cache_control: None,
            status: 200,
        };
        let line = String::from_utf8(header(&meta)).unwrap() + "}";
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["offset"], "0_\"5");
        assert_eq!(v["up_to_date"], true);
        assert_eq!(v["closed"], false);
        assert_eq!(v["partial"], true);
    }
}
