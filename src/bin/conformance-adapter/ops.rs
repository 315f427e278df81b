//! The plain stream commands: create, connect, append, head, delete,
//! close.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use dsx::client::{AppendOptions, CloseOptions, CreateOptions, Headers};
use serde::Deserialize;
use serde_json::Value;

use crate::reply::Reply;
use crate::state::{Adapter, fields};

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Command headers, in the client's form.
pub fn headers(map: Option<BTreeMap<String, String>>) -> Headers {
    map.unwrap_or_default().into_iter().collect()
}

/// Whether a content type is JSON mode (the client's reading of it).
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(dsx::client::content_type::is_json)
}

/// One message for a JSON stream: `[data]`, so that whatever `data` is
/// (arrays included) is stored as one message, as the official clients do.
/// Empty data is left empty, for the client to refuse.
pub fn json_message(json: bool, data: Bytes) -> Bytes {
    if !json || data.is_empty() {
        return data;
    }
    let mut framed = Vec::with_capacity(data.len() + 2);
    framed.push(b'[');
    framed.extend_from_slice(&data);
    framed.push(b']');
    framed.into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Create {
    path: String,
    content_type: Option<String>,
    ttl_seconds: Option<i64>,
    expires_at: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    closed: bool,
    data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PathOnly {
    path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Append {
    path: String,
    #[serde(default)]
    data: String,
    #[serde(default)]
    binary: bool,
    seq: Option<u64>,
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Close {
    path: String,
    data: Option<String>,
    content_type: Option<String>,
}

impl Adapter {
    pub async fn create(&mut self, command: Value) -> Result<Reply, Reply> {
        let c: Create = fields("create", command)?;
        let ttl = match c.ttl_seconds {
            None => None,
            Some(secs) => Some(Duration::from_secs(
                u64::try_from(secs).map_err(|_| {
                    Reply::error(
                        "create",
                        "INVALID_ARGUMENT",
                        None,
                        format!("ttlSeconds must not be negative: {secs}"),
                    )
                })?,
            )),
        };
        let stream = self.stream("create", &c.path)?;
        let options = CreateOptions {
            content_type: c.content_type.clone(),
            ttl,
            expires_at: c.expires_at,
            closed: c.closed,
            data: c.data.filter(|d| !d.is_empty()).map(Bytes::from),
            headers: headers(c.headers),
        };
        let created = stream
            .create_detailed(options)
            .await
            .map_err(|e| Reply::from_error("create", &e))?;
        let content_type = c
            .content_type
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        self.content_types.insert(c.path, content_type);
        Ok(Reply::ok("create")
            .with("status", created.status)
            .with_some("offset", created.next_offset.map(|o| o.to_string())))
    }

    pub async fn connect(&mut self, command: Value) -> Result<Reply, Reply> {
        let c: PathOnly = fields("connect", command)?;
        let stream = self.stream("connect", &c.path)?;
        let meta = stream
            .head()
            .await
            .map_err(|e| Reply::from_error("connect", &e))?;
        if let Some(ct) = meta.content_type {
            self.content_types.insert(c.path, ct);
        }
        Ok(Reply::ok("connect")
            .with("status", 200)
            .with("offset", meta.next_offset.to_string()))
    }

    pub async fn append(&mut self, command: Value) -> Result<Reply, Reply> {
        let c: Append = fields("append", command)?;
        let sent = self.dynamic.next_values();
        let stream = self.stream("append", &c.path)?;
        let content_type = self.content_type(&c.path);
        let data = if c.binary {
            base64::engine::general_purpose::STANDARD
                .decode(c.data.as_bytes())
                .map_err(|e| {
                    Reply::error(
                        "append",
                        "INVALID_ARGUMENT",
                        None,
                        format!("binary data is not base64: {e}"),
                    )
                })?
                .into()
        } else {
            Bytes::from(c.data)
        };
        let body = json_message(is_json(content_type.as_deref()), data);
        let options = AppendOptions {
            producer: None,
            seq: c.seq.map(|s| s.to_string()),
            content_type,
            headers: headers(c.headers),
        };
        let appended = stream
            .append(body, options)
            .await
            .map_err(|e| Reply::from_error("append", &e))?;
        let reply = Reply::ok("append")
            .with("status", 200)
            .with("offset", appended.next_offset.to_string());
        Ok(with_sent(reply, sent))
    }

    pub async fn head(&mut self, command: Value) -> Result<Reply, Reply> {
        let c: PathOnly = fields("head", command)?;
        let stream = self.stream("head", &c.path)?;
        let meta = stream
            .head()
            .await
            .map_err(|e| Reply::from_error("head", &e))?;
        if let Some(ct) = &meta.content_type {
            self.content_types.insert(c.path, ct.clone());
        }
        Ok(Reply::ok("head")
            .with("status", 200)
            .with("offset", meta.next_offset.to_string())
            .with_some("contentType", meta.content_type)
            .with("streamClosed", meta.closed)
            .with_some("ttlSeconds", meta.ttl)
            .with_some("expiresAt", meta.expires_at))
    }

    pub async fn delete(&mut self, command: Value) -> Result<Reply, Reply> {
        let c: PathOnly = fields("delete", command)?;
        let stream = self.stream("delete", &c.path)?;
        let outcome = stream.delete().await;
        self.forget(&c.path);
        outcome.map_err(|e| Reply::from_error("delete", &e))?;
        Ok(Reply::ok("delete").with("status", 200))
    }

    pub async fn close(&mut self, command: Value) -> Result<Reply, Reply> {
        let c: Close = fields("close", command)?;
        let stream = self.stream("close", &c.path)?;
        let content_type =
            c.content_type.or_else(|| self.content_type(&c.path));
        let json = is_json(content_type.as_deref());
        let options = CloseOptions {
            producer: None,
            data: c
                .data
                .filter(|d| !d.is_empty())
                .map(|d| json_message(json, Bytes::from(d))),
            content_type,
            headers: Headers::new(),
        };
        let closed = stream
            .close(options)
            .await
            .map_err(|e| Reply::from_error("close", &e))?;
        Ok(Reply::ok("close")
            .with("status", 200)
            .with("finalOffset", closed.final_offset.to_string()))
    }
}

/// Adds `headersSent` / `paramsSent` when dynamic values are configured.
pub fn with_sent(reply: Reply, sent: Option<(Value, Value)>) -> Reply {
    match sent {
        Some((headers, params)) => reply
            .with("headersSent", headers)
            .with("paramsSent", params),
        None => reply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_messages_are_wrapped_once() {
        assert_eq!(
            json_message(true, Bytes::from("[1,2]")).as_ref(),
            b"[[1,2]]"
        );
        assert_eq!(json_message(true, Bytes::new()).as_ref(), b"");
        assert_eq!(json_message(false, Bytes::from("x")).as_ref(), b"x");
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
}
