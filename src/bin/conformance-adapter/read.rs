//! The `read` command: a read session of the client, cut into the chunks
//! the runner counts (one per response with data, one per SSE data event)
//! and stopped by the runner's rules.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::BytesMut;
use dsx::client::{LiveMode, Offset, ReadOptions};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::ops::{headers, is_json, with_sent};
use crate::reply::Reply;
use crate::state::{Adapter, fields};

/// The runner's defaults (those of the TypeScript adapter).
const DEFAULT_TIMEOUT_MS: u64 = 5000;
const DEFAULT_MAX_CHUNKS: usize = 100;

/// A catch-up read is not limited by `timeoutMs`, but it must still end well
/// inside the runner's 30 s deadline for one command.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(25);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Read {
    path: String,
    offset: Option<String>,
    live: Option<Value>,
    timeout_ms: Option<u64>,
    max_chunks: Option<usize>,
    #[serde(default)]
    wait_for_up_to_date: bool,
    headers: Option<BTreeMap<String, String>>,
}

/// `live`: absent or `false`, `true` (auto), `"long-poll"` or `"sse"`.
fn live_mode(live: Option<&Value>) -> Result<LiveMode, String> {
    match live {
        None | Some(Value::Null | Value::Bool(false)) => Ok(LiveMode::Off),
        Some(Value::Bool(true)) => Ok(LiveMode::Auto),
        Some(Value::String(s)) if s == "long-poll" => Ok(LiveMode::LongPoll),
        Some(Value::String(s)) if s == "sse" => Ok(LiveMode::Sse),
        Some(other) => Err(format!("unknown live mode {other}")),
    }
}

/// Where the read stands after the last complete response or event.
#[derive(Debug, Default)]
struct Position {
    offset: Option<String>,
    up_to_date: bool,
    closed: bool,
    cursor: Option<String>,
    /// Status of the last complete response.
    status: Option<u16>,
}

impl Adapter {
    pub async fn read(&mut self, command: Value) -> Result<Reply, Reply> {
        let r: Read = fields("read", command)?;
        let mode = live_mode(r.live.as_ref())
            .map_err(|m| Reply::error("read", "INVALID_ARGUMENT", None, m))?;
        let sent = self.dynamic.next_values();
        let stream = self.stream("read", &r.path)?;
        let start = r.offset.clone().unwrap_or_else(|| "-1".to_owned());
        let max_chunks = r.max_chunks.unwrap_or(DEFAULT_MAX_CHUNKS);
        let limit = if mode == LiveMode::Off {
            CATCH_UP_LIMIT
        } else {
            Duration::from_millis(r.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS))
        };
        let deadline = Instant::now() + limit;
        let known_type = self.content_type(&r.path);

        let mut session = stream.read_bytes(ReadOptions {
            offset: Offset::new(start.clone()),
            live: mode,
            cursor: None,
            headers: headers(r.headers),
        });
        let mut pending = BytesMut::new();
        let mut chunks = Vec::new();
        let mut at = Position::default();
        let mut timed_out = false;
        loop {
            let item = match tokio::time::timeout_at(deadline, session.next())
                .await
            {
                Err(_) => {
                    timed_out = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(Reply::from_error("read", &e)),
                Ok(Some(Ok(item))) => item,
            };
            pending.extend_from_slice(&item.data);
            let meta = item.meta;
            // One chunk per server unit (a whole response, a whole SSE data
            // event), however many pieces the client handed it out in.
            if !meta.ends_unit && meta.partial {
                continue;
            }
            if !pending.is_empty() {
                let json = known_type
                    .clone()
                    .or_else(|| stream.content_type())
                    .is_some_and(|ct| is_json(Some(&ct)));
                let data = pending.split().freeze();
                // An SSE event that is not yet positioned (partial) carries
                // the last resumable offset.
                let chunk = chunk(json, &data, &meta.offset)?;
                if let Some(chunk) = chunk.filter(|_| chunks.len() < max_chunks)
                {
                    chunks.push(chunk);
                }
            }
            if meta.partial {
                // Position and state come with the control event.
                continue;
            }
            at.offset = Some(meta.offset.to_string());
            at.up_to_date = meta.up_to_date;
            at.closed = meta.stream_closed;
            at.cursor = meta.cursor;
            at.status = Some(meta.status);
            if chunks.len() >= max_chunks
                || (r.wait_for_up_to_date && at.up_to_date)
                || at.closed
                || (mode == LiveMode::Off && at.up_to_date)
            {
                break;
            }
        }
        drop(session);
        let status = if timed_out {
            // A live read that ran out of time is, by definition, at the
            // tail; with no complete response it counts as a long-poll
            // timeout.
            at.up_to_date = true;
            at.status.unwrap_or(204)
        } else {
            at.status.unwrap_or(200)
        };
        let reply = Reply::ok("read")
            .with("status", status)
            .with("chunks", Value::Array(chunks))
            .with("offset", at.offset.unwrap_or(start))
            .with("upToDate", at.up_to_date)
            .with("streamClosed", at.closed)
            .with_some("cursor", at.cursor);
        Ok(with_sent(reply, sent))
    }
}

/// The runner's chunk for one response or event, if it carries messages.
/// JSON bodies are checked whole (a cut or mangled body is a parse error)
/// and an empty array is no chunk.
fn chunk(
    json: bool,
    data: &[u8],
    offset: &Offset,
) -> Result<Option<Value>, Reply> {
    if json {
        serde_json::from_slice::<serde::de::IgnoredAny>(data).map_err(|e| {
            Reply::error(
                "read",
                "PARSE_ERROR",
                None,
                format!("response is not valid JSON: {e}"),
            )
        })?;
        if data.trim_ascii() == b"[]" {
            return Ok(None);
        }
    }
    let text = String::from_utf8_lossy(data).into_owned();
    Ok(Some(json!({ "data": text, "offset": offset.as_str() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_takes_four_forms() {
        assert_eq!(live_mode(None), Ok(LiveMode::Off));
        assert_eq!(live_mode(Some(&json!(false))), Ok(LiveMode::Off));
        assert_eq!(live_mode(Some(&json!(true))), Ok(LiveMode::Auto));
        assert_eq!(
            live_mode(Some(&json!("long-poll"))),
            Ok(LiveMode::LongPoll)
        );
        assert_eq!(live_mode(Some(&json!("sse"))), Ok(LiveMode::Sse));
        assert!(live_mode(Some(&json!("poll"))).is_err());
    }

    #[test]
    fn json_chunks_are_checked_and_empty_arrays_dropped() {
        let at = Offset::new("0_5");
        let got = chunk(true, br#"[{"a":1}]"#, &at).unwrap().unwrap();
        assert_eq!(got["data"], r#"[{"a":1}]"#);
        assert!(chunk(true, b" [] ", &at).unwrap().is_none());
        assert!(chunk(true, br#"[{"a":"#, &at).is_err());
        let text = chunk(false, b"[", &at).unwrap().unwrap();
        assert_eq!(text["data"], "[");
    }
}
