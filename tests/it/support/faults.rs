//! Faults for `/_test/inject-error` (the body format of the Node reference
//! server, which the embedded server's test hooks share): a fault is keyed by
//! the exact request path and used up one per matching request.

use serde_json::{Map, Value, json};

/// One fault to arm, built fluently: `Fault::status(503).count(2)`.
#[derive(Clone, Debug, Default)]
pub struct Fault {
    fields: Map<String, Value>,
}

impl Fault {
    fn with(mut self, key: &str, value: Value) -> Self {
        self.fields.insert(key.to_owned(), value);
        self
    }

    /// Answer with this status and a plain-text body.
    pub fn status(code: u16) -> Self {
        Fault::default().with("status", json!(code))
    }

    /// Hold the request this long before handling it.
    pub fn delay_ms(ms: u64) -> Self {
        Fault::default().with("delayMs", json!(ms))
    }

    /// Destroy the socket before any response.
    pub fn drop_connection() -> Self {
        Fault::default().with("dropConnection", json!(true))
    }

    /// Mangle the body of a (JSON) GET response.
    pub fn corrupt_body() -> Self {
        Fault::default().with("corruptBody", json!(true))
    }

    /// Cut the body of a GET answer that carries data after `bytes` bytes
    /// (the embedded server cuts SSE bodies too, then ends them cleanly).
    pub fn truncate_body_bytes(bytes: u64) -> Self {
        Fault::default().with("truncateBodyBytes", json!(bytes))
    }

    /// Write an extra SSE event before the normal output of an SSE response.
    pub fn sse_event(event_type: &str, data: &str) -> Self {
        Fault::default().with(
            "injectSseEvent",
            json!({ "eventType": event_type, "data": data }),
        )
    }

    /// How many matching requests the fault applies to (default 1).
    pub fn count(self, n: u32) -> Self {
        self.with("count", json!(n))
    }

    /// Add `Retry-After: <seconds>` to a status fault.
    pub fn retry_after(self, seconds: u64) -> Self {
        self.with("retryAfter", json!(seconds))
    }

    /// Match only this HTTP method (any method matches otherwise).
    pub fn method(self, method: &str) -> Self {
        self.with("method", json!(method))
    }

    /// The JSON body for a fault on `path`.
    pub fn into_json(self, path: &str) -> Value {
        let mut fields = self.fields;
        fields.insert("path".to_owned(), json!(path));
        Value::Object(fields)
    }
}
