//! `IdempotentProducer`: exactly-once appends with batching and pipelining.

use std::time::Duration;

use bytes::Bytes;

use super::{CloseResult, DurableStream, Result};

/// Options for an [`IdempotentProducer`].
#[derive(Clone, Debug)]
pub struct ProducerOptions {
    /// Starting epoch (default 0).
    pub epoch: u64,
    /// On 403, retry with the server's epoch + 1.
    pub auto_claim: bool,
    /// A batch is sent once it reaches this many bytes.
    pub max_batch_bytes: usize,
    /// The longest a message waits for its batch to fill.
    pub linger: Duration,
    /// Batches sent concurrently.
    pub max_in_flight: usize,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            epoch: 0,
            auto_claim: false,
            max_batch_bytes: 1024 * 1024,
            linger: Duration::from_millis(5),
            max_in_flight: 5,
        }
    }
}

/// Fire-and-forget appends with one `Producer-Seq` per batch.
pub struct IdempotentProducer {
    _stream: DurableStream,
}

impl IdempotentProducer {
    pub fn new(
        stream: DurableStream,
        producer_id: impl Into<String>,
        options: ProducerOptions,
    ) -> Self {
        let _ = (producer_id.into(), options);
        todo!()
    }

    /// Queues a message and returns at once; waits only while the queue is
    /// full (backpressure). Failures surface from `flush` / `close`.
    pub async fn append(&self, data: impl Into<Bytes>) -> Result<()> {
        let _ = data.into();
        todo!()
    }

    /// Sends the pending batch and waits for every in-flight batch.
    pub async fn flush(&self) -> Result<()> {
        todo!()
    }

    /// Flushes, then closes the stream with producer headers.
    pub async fn close(&self) -> Result<CloseResult> {
        todo!()
    }
}
