//! The idempotent-producer commands, carried out by
//! `dsx::client::IdempotentProducer`.

use std::collections::BTreeMap;

use bytes::Bytes;
use dsx::client::{IdempotentProducer, ProducerOptions};
use serde::Deserialize;
use serde_json::Value;

use crate::ops::headers;
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

impl Adapter {
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
            .append(Bytes::from(c.data))
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
        for item in c.items {
            producer
                .append(Bytes::from(item))
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
        let key = (c.path, c.producer_id, c.epoch);
        let producer = self.producer(KIND, &key, || ProducerOptions {
            epoch: c.epoch,
            auto_claim: c.auto_claim,
            max_in_flight: 1,
            headers: headers(c.headers),
            ..ProducerOptions::default()
        })?;
        let closed = producer
            .close_with(c.data.map(Bytes::from))
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
