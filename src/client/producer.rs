//! `IdempotentProducer`: exactly-once appends with batching and pipelining.
//!
//! How a message travels: `append` checks it (one JSON value on a JSON
//! stream), takes its size from a byte budget (the only place a caller
//! waits: backpressure, never unbounded buffering) and adds it to the open
//! batch under a short lock. A batch is sealed when it reaches
//! `max_batch_bytes`, when it has lingered for `linger`, or on `flush`. One
//! driver task per producer hands sealed batches, in order, to up to
//! `max_in_flight` request tasks, giving each the next `Producer-Seq` of the
//! current epoch; the budget comes back when a batch is acknowledged.
//!
//! Ordering hazard: pipelined requests travel on different connections and
//! may reach the server out of order. The server serialises per producer and
//! answers a later seq that overtook an earlier one with 409 (sequence gap).
//! Such a batch waits until every earlier seq of its epoch has been
//! acknowledged and is then sent again; a gap that persists after that is a
//! real one and stops the producer.
//!
//! Epochs: a 403 (stale epoch) stops the producer, unless `auto_claim` is
//! on. Then the driver lets the in-flight requests settle, moves to the
//! server's epoch + 1, restarts seq at 0 and resends, in their original
//! order, every batch that was not acknowledged.
//!
//! The window of requests in flight starts at one and grows by one per
//! acknowledged batch up to `max_in_flight`; it starts again from one in a
//! new epoch and after a gap. Starting at one settles an auto-claim before
//! anything is pipelined and opens connections one at a time; dropping to
//! one after a gap stops new requests from overtaking the ones being
//! resent, which would otherwise make every later request a gap as well.

mod engine;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, OnceCell, Semaphore, watch};

use super::{
    CloseOptions, CloseResult, DurableStream, Error, Headers, Offset, Result,
};
use engine::{
    MAX_CLAIMS_WITHOUT_PROGRESS, OpenBatch, Progress, Shared, State,
    budget_for, check_message, drive, next_epoch, wrap_one,
};

/// Options for an [`IdempotentProducer`].
#[derive(Clone, Debug)]
pub struct ProducerOptions {
    /// Starting epoch (default 0).
    pub epoch: u64,
    /// On 403, retry with the server's epoch + 1.
    pub auto_claim: bool,
    /// A batch is sent once it reaches this many bytes (at least 1).
    pub max_batch_bytes: usize,
    /// The longest a message waits for its batch to fill.
    pub linger: Duration,
    /// Batches sent concurrently (at least 1).
    pub max_in_flight: usize,
    /// Extra headers on every request the producer makes.
    pub headers: Headers,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            epoch: 0,
            auto_claim: false,
            max_batch_bytes: 1024 * 1024,
            linger: Duration::from_millis(5),
            max_in_flight: 5,
            headers: Headers::new(),
        }
    }
}

/// What the server has confirmed of a producer's messages so far, counted
/// in messages in the order they were appended (see
/// [`IdempotentProducer::delivery`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Messages in batches the server stored (200).
    pub appended: u64,
    /// Messages in batches the server answered 204: it already had that
    /// `(epoch, seq)`, so it stored nothing. Within an epoch that only this
    /// producer used, that is this producer's own earlier attempt; with an
    /// epoch an earlier run used too, these messages were dropped.
    pub duplicates: u64,
    /// Every message before this position was answered (200 or 204).
    pub confirmed: u64,
    /// The tail offset the server reported after the batch that last
    /// moved `confirmed`, with the position it moved it to (at most
    /// `confirmed`; `None` if the server sent no offset).
    pub offset: Option<(u64, Offset)>,
}

/// Fire-and-forget appends with one `Producer-Seq` per batch.
///
/// Must be used inside a Tokio runtime: the first `append` starts a driver
/// task. Dropping the producer lets that task send what is queued, then
/// end; call [`flush`](Self::flush) (or [`detach`](Self::detach)) to know
/// the outcome.
pub struct IdempotentProducer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for IdempotentProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotentProducer")
            .field("url", &self.shared.stream.url().as_str())
            .field("producer_id", &self.shared.producer_id)
            .finish_non_exhaustive()
    }
}

impl IdempotentProducer {
    pub fn new(
        stream: DurableStream,
        producer_id: impl Into<String>,
        options: ProducerOptions,
    ) -> Self {
        let mut options = options;
        options.max_batch_bytes = options.max_batch_bytes.max(1);
        options.max_in_flight = options.max_in_flight.max(1);
        let budget_total = budget_for(&options);
        let state = State {
            open: OpenBatch::default(),
            sealed: VecDeque::new(),
            in_flight: 0,
            epoch: options.epoch,
            next_seq: 0,
            acked: BTreeSet::new(),
            window: 1,
            last_dispatch: None,
            reclaim: None,
            claims_without_progress: 0,
            failure: None,
            closed: None,
            sealed_messages: 0,
            delivered: engine::Delivered::default(),
            driver_started: false,
            shutdown: false,
        };
        IdempotentProducer {
            shared: Arc::new(Shared {
                stream,
                producer_id: producer_id.into(),
                options,
                format: OnceCell::new(),
                state: Mutex::new(state),
                wake: Notify::new(),
                settled: Notify::new(),
                budget: Semaphore::new(budget_total as usize),
                budget_total,
                progress: watch::Sender::new(Progress::default()),
                closing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The producer id sent as `Producer-Id`.
    pub fn producer_id(&self) -> &str {
        &self.shared.producer_id
    }

    /// The current epoch (it moves on when auto-claim takes a new one).
    pub fn epoch(&self) -> u64 {
        self.shared.lock().epoch
    }

    /// What the server has confirmed so far (batches answered 200 or 204),
    /// in messages. After a failure it says which of the appended messages
    /// are known to be in the stream.
    pub fn delivery(&self) -> Delivery {
        let state = self.shared.lock();
        let d = &state.delivered;
        Delivery {
            appended: d.appended,
            duplicates: d.duplicates,
            confirmed: d.prefix,
            offset: d.prefix_offset.clone(),
        }
    }

    /// Queues a message and returns at once; waits only while the queue is
    /// full (backpressure). Failures surface from `flush` / `close`.
    ///
    /// On a JSON stream the message must be one JSON value (it is stored as
    /// one message, arrays included); an invalid one is refused here with
    /// [`Error::InvalidArgument`] and does not harm the producer. After a
    /// failure the producer refuses every append with that failure; after
    /// `close` with [`Error::Closed`].
    pub async fn append(&self, data: impl Into<Bytes>) -> Result<()> {
        let data = data.into();
        let format = self.shared.format().await?;
        check_message(format.json, &data)?;
        self.shared.refuse_if_stopped()?;

        let permits = self.shared.permits_for(data.len());
        match self.shared.budget.try_acquire_many(permits) {
            Ok(permit) => permit.forget(),
            Err(_) => self
                .shared
                .budget
                .acquire_many(permits)
                .await
                .expect("the budget semaphore is never closed")
                .forget(),
        }

        let sealed = {
            let mut state = self.shared.lock();
            if let Err(e) = state.refusal(&self.shared.stream) {
                drop(state);
                self.shared.budget.add_permits(permits as usize);
                return Err(e);
            }
            let start_driver = !state.driver_started;
            state.driver_started = true;
            let max = self.shared.options.max_batch_bytes;
            let mut sealed = false;
            // Keep a batch within max_batch_bytes where a message allows.
            if !state.open.body.is_empty()
                && state.open.body.len() + data.len() + 1 > max
            {
                state.seal(format.json);
                sealed = true;
            }
            let opened = state.open.body.is_empty();
            state.open.push(format.json, &data, permits, max);
            if state.open.body.len() + usize::from(format.json) >= max {
                state.seal(format.json);
                sealed = true;
            }
            drop(state);
            if start_driver {
                tokio::spawn(drive(Arc::clone(&self.shared)));
            }
            if sealed || opened {
                self.shared.wake.notify_one();
            }
            sealed
        };
        if sealed {
            // Let the driver put the batch on the wire now, even on a
            // single-threaded runtime with a caller appending in a loop.
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    /// Sends the pending batch and waits for every in-flight batch. Reports
    /// the failure that stopped the producer, if any (every later call
    /// reports it again).
    pub async fn flush(&self) -> Result<()> {
        let shared = &self.shared;
        loop {
            let settled = shared.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            {
                let mut state = shared.lock();
                if !state.open.body.is_empty() && state.failure.is_none() {
                    let json = shared.format.get().is_some_and(|f| f.json);
                    state.seal(json);
                    shared.wake.notify_one();
                }
                if state.in_flight == 0 && state.reclaim.is_none() {
                    if let Some(e) = &state.failure {
                        return Err(e.clone());
                    }
                    if state.sealed.is_empty() {
                        return Ok(());
                    }
                }
            }
            settled.await;
        }
    }

    /// Flushes, then closes the stream with producer headers (the next
    /// seq, no body). Idempotent: a second call returns the first result
    /// without sending anything.
    pub async fn close(&self) -> Result<CloseResult> {
        self.close_with(None).await
    }

    /// Like [`close`](Self::close), appending `final_message` atomically
    /// with the close (one message, checked as for `append`).
    pub async fn close_with(
        &self,
        final_message: Option<Bytes>,
    ) -> Result<CloseResult> {
        let shared = &self.shared;
        let _one_at_a_time = shared.closing.lock().await;
        if let Some(done) = shared.lock().closed.clone() {
            return Ok(done);
        }
        self.flush().await?;
        let format = shared.format().await?;
        let data = match final_message {
            Some(message) if !message.is_empty() => {
                check_message(format.json, &message)?;
                Some(if format.json {
                    wrap_one(&message)
                } else {
                    message
                })
            }
            _ => None,
        };
        let mut claims = 0;
        loop {
            let (epoch, seq) = {
                let state = shared.lock();
                (state.epoch, state.next_seq)
            };
            let options = CloseOptions {
                data: data.clone(),
                content_type: Some(format.content_type.clone()),
                producer: Some(shared.stamp(epoch, seq)),
                headers: shared.options.headers.clone(),
            };
            match shared.stream.close(options).await {
                Ok(done) => {
                    // The seq is spent on the close; it is not advanced, so
                    // that nothing can follow it.
                    shared.lock().closed = Some(done.clone());
                    shared.wake.notify_one();
                    return Ok(done);
                }
                Err(Error::StaleEpoch { server_epoch, .. })
                    if shared.options.auto_claim
                        && claims < MAX_CLAIMS_WITHOUT_PROGRESS =>
                {
                    claims += 1;
                    let mut state = shared.lock();
                    state.epoch = next_epoch(state.epoch, server_epoch);
                    state.next_seq = 0;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Flushes, then lets the producer go without closing the stream.
    pub async fn detach(self) -> Result<()> {
        self.flush().await
    }
}

impl Drop for IdempotentProducer {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_one();
    }
}
