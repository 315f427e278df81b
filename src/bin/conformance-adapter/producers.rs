//! The idempotent-producer commands, carried out by
//! `dsx::client::IdempotentProducer`.

use std::collections::BTreeMap;

use bytes::Bytes;
use dsx::client::{IdempotentProducer, ProducerOptions};
use serde::Deserialize;
use serde_json::Value;

use crate::ops::{headers, is_json};
use crate::reply::Reply;
use crate::state::{Adapter, ProducerKey, fields};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Append {
    path: String,
    data: String,
    producer_id: String,
    #[serde(default)]
    epoch: u64,
    #[serde(default)]
    auto_claim: bool,
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Batch {
    path: String,
    items: Vec<String>,
    producer_id: String,
    #[serde(default)]
    epoch: u64,
    #[serde(default)]
    auto_claim: bool,
    max_in_flight: Option<usize>,
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Close {
    path: String,
    producer_id: String,
    #[serde(default)]
    epoch: u64,
    #[serde(default)]
    auto_claim: bool,
    data: Option<String>,
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detach {
    path: String,
    producer_id: String,
    #[serde(default)]
    epoch: u64,
}

/// A JSON item as the official adapters hand it to their producers: parsed
/// and written back compactly (whitespace outside strings dropped; keys
/// keep their order). Anything that is not valid JSON is left as it is,
/// for the producer to refuse.
fn compact_json(item: String) -> Bytes {
    if serde_json::from_str::<serde::de::IgnoredAny>(&item).is_err() {
        return Bytes::from(item);
    }
    let mut out = Vec::with_capacity(item.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in item.as_bytes() {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    Bytes::from(out)
}

impl Adapter {
    /// One message for the producer of the stream at `path`.
    fn message(&self, path: &str, data: String) -> Bytes {
        if is_json(self.content_type(path).as_deref()) {
            compact_json(data)
        } else {
            Bytes::from(data)
        }
    }

    /// The cached producer for `key`, made on first use.
    fn producer(
        &mut self,
        kind: &str,
        key: &ProducerKey,
        options: impl FnOnce() -> ProducerOptions,
    ) -> Result<&IdempotentProducer, Reply> {
        if !self.producers.contains_key(key) {
            let stream = self.stream(kind, &key.0)?;
            let producer =
                IdempotentProducer::new(stream, key.1.clone(), options());
            self.producers.insert(key.clone(), producer);
        }
        Ok(&self.producers[key])
    }

    pub async fn idempotent_append(
        &mut self,
        command: Value,
    ) -> Result<Reply, Reply> {
        const KIND: &str = "idempotent-append";
        let c: Append = fields(KIND, command)?;
        let message = self.message(&c.path, c.data);
        let key = (c.path, c.producer_id, c.epoch);
        let producer = self.producer(KIND, &key, || ProducerOptions {
            epoch: c.epoch,
            auto_claim: c.auto_claim,
            max_in_flight: 1,
            headers: headers(c.headers),
            ..ProducerOptions::default()
        })?;
        // A message the producer refuses (invalid JSON) leaves it usable.
        producer
            .append(message)
            .await
            .map_err(|e| Reply::from_error(KIND, &e))?;
        if let Err(e) = producer.flush().await {
            // The producer has stopped for good; a later command starts a
            // new one.
            self.producers.remove(&key);
            return Err(Reply::from_error(KIND, &e));
        }
        Ok(Reply::ok(KIND).with("status", 200))
    }

    pub async fn idempotent_append_batch(
        &mut self,
        command: Value,
    ) -> Result<Reply, Reply> {
        const KIND: &str = "idempotent-append-batch";
        let c: Batch = fields(KIND, command)?;
        let messages: Vec<Bytes> = c
            .items
            .into_iter()
            .map(|i| self.message(&c.path, i))
            .collect();
        let stream = self.stream(KIND, &c.path)?;
        let max_in_flight = c.max_in_flight.unwrap_or(1).max(1);
        let defaults = ProducerOptions::default();
        // With several requests in flight, one item per request, so that
        // the pipelining (and its out-of-order arrivals) is real.
        let max_batch_bytes = if max_in_flight > 1 {
            1
        } else {
            defaults.max_batch_bytes
        };
        let producer = IdempotentProducer::new(
            stream,
            c.producer_id,
            ProducerOptions {
                epoch: c.epoch,
                auto_claim: c.auto_claim,
                max_batch_bytes,
                max_in_flight,
                headers: headers(c.headers),
                ..defaults
            },
        );
        for message in messages {
            producer
                .append(message)
                .await
                .map_err(|e| Reply::from_error(KIND, &e))?;
        }
        producer
            .detach()
            .await
            .map_err(|e| Reply::from_error(KIND, &e))?;
        Ok(Reply::ok(KIND).with("status", 200))
    }

    pub async fn idempotent_close(
        &mut self,
        command: Value,
    ) -> Result<Reply, Reply> {
        const KIND: &str = "idempotent-close";
        let c: Close = fields(KIND, command)?;
        let data = c.data.map(|d| self.message(&c.path, d));
        let key = (c.path, c.producer_id, c.epoch);
        let producer = self.producer(KIND, &key, || ProducerOptions {
            epoch: c.epoch,
            auto_claim: c.auto_claim,
            max_in_flight: 1,
            headers: headers(c.headers),
            ..ProducerOptions::default()
        })?;
        let closed = producer
            .close_with(data)
            .await
            .map_err(|e| Reply::from_error(KIND, &e))?;
        Ok(Reply::ok(KIND)
            .with("status", 200)
            .with("finalOffset", closed.final_offset.to_string()))
    }

    pub async fn idempotent_detach(
        &mut self,
        command: Value,
    ) -> Result<Reply, Reply> {
        const KIND: &str = "idempotent-detach";
        let c: Detach = fields(KIND, command)?;
        if let Some(producer) =
            self.producers.remove(&(c.path, c.producer_id, c.epoch))
        {
            producer
                .detach()
                .await
                .map_err(|e| Reply::from_error(KIND, &e))?;
        }
        Ok(Reply::ok(KIND).with("status", 200))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_items_are_compacted_outside_strings() {
        let got = compact_json("{ \"id\": 0, \"s\": \"a b\\\" c\" }\n".into());
        assert_eq!(got.as_ref(), br#"{"id":0,"s":"a b\" c"}"#);
        assert_eq!(compact_json("not json".into()).as_ref(), b"not json");
        assert_eq!(compact_json(" [1, 2] ".into()).as_ref(), b"[1,2]");
    }
}
