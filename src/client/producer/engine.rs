//! The producer's engine: batches, the byte budget, the driver task that
//! numbers and dispatches batches, and the request tasks (gap resends,
//! auto-claim). See the parent module for the design.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Notify, OnceCell, Semaphore, watch};
use tokio::time::Instant;

use super::ProducerOptions;
use crate::client::session::is_json;
use crate::client::{
    AppendOptions, AppendResult, CloseResult, DurableStream, Error, Offset,
    ProducerStamp, Result,
};

/// How many times in a row an auto-claiming producer takes a new epoch
/// without any batch being accepted before it gives up (two auto-claiming
/// producers with one id would otherwise fence each other forever).
pub(super) const MAX_CLAIMS_WITHOUT_PROGRESS: u32 = 5;

/// How often one batch is resent after a 409 sequence gap.
pub(super) const MAX_GAP_RETRIES: u32 = 8;

/// Pacing: while requests are in flight, the next one starts no sooner
/// than this after the previous one, plus its body at [`PACE_BYTES_PER_US`].
/// Requests started closer together often reach the server's per-producer
/// lock in the wrong order (the servers read and parse bodies concurrently),
/// and each overtaking costs a 409 and a resend of the whole batch. Measured
/// against both official servers (4 runs each, loopback): 3000 small
/// messages in 2 KiB batches went from 33-35 gaps to 0-3, one-message
/// batches from 101-131 to 0, and 100 000 messages in 1 MiB batches from
/// 6-17 to 1-11, with equal or better throughput.
pub(super) const PACE_BASE: Duration = Duration::from_micros(250);

/// Bytes per microsecond assumed for a request body (about 1 GB/s).
pub(super) const PACE_BYTES_PER_US: usize = 1000;

/// The spacing after a request whose body had `len` bytes.
pub(super) fn pace_after(len: usize) -> Duration {
    let per_body = u64::try_from(len / PACE_BYTES_PER_US).unwrap_or(u64::MAX);
    PACE_BASE.saturating_add(Duration::from_micros(per_body))
}

/// First capacity of a batch buffer; it grows up to `max_batch_bytes`.
pub(super) const BATCH_START_CAPACITY: usize = 64 * 1024;
/// How batches are framed.
#[derive(Clone, Debug)]
pub(super) struct Format {
    /// `[m1,m2,...]` on JSON streams, plain concatenation otherwise.
    pub(super) json: bool,
    pub(super) content_type: String,
}

pub(super) struct Shared {
    pub(super) stream: DurableStream,
    pub(super) producer_id: String,
    pub(super) options: ProducerOptions,
    pub(super) format: OnceCell<Format>,
    pub(super) state: Mutex<State>,
    /// Wakes the driver: a batch was sealed or opened, a flush or shutdown.
    pub(super) wake: Notify,
    /// Wakes `flush`: a batch finished, or the producer failed.
    pub(super) settled: Notify,
    /// Bytes accepted and not yet acknowledged.
    pub(super) budget: Semaphore,
    pub(super) budget_total: u32,
    /// Acknowledgement progress, for batches waiting out a sequence gap.
    pub(super) progress: watch::Sender<Progress>,
    /// Serialises `close` calls.
    pub(super) closing: tokio::sync::Mutex<()>,
}

/// Seqs acknowledged so far in the current round of sending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Progress {
    /// Changes when an epoch ends (claim) or the producer fails: batches
    /// waiting on the old round give up.
    pub(super) round: u64,
    /// Every seq below this one has been acknowledged.
    pub(super) acked_below: u64,
}

/// A sealed batch: its body, the budget it holds, and which messages it
/// carries (their positions in the order they were appended, from 0).
#[derive(Debug)]
pub(super) struct Batch {
    pub(super) body: Bytes,
    pub(super) permits: u32,
    pub(super) first: u64,
    pub(super) messages: u64,
}

/// The batch being filled.
#[derive(Debug, Default)]
pub(super) struct OpenBatch {
    pub(super) body: BytesMut,
    pub(super) permits: u32,
    pub(super) messages: u64,
    /// When its first message arrived (the linger clock).
    pub(super) since: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) open: OpenBatch,
    pub(super) sealed: VecDeque<Batch>,
    pub(super) in_flight: usize,
    pub(super) epoch: u64,
    pub(super) next_seq: u64,
    /// Acknowledged seqs above `progress.acked_below` (out of order).
    pub(super) acked: BTreeSet<u64>,
    /// Requests allowed in flight now (see the module doc).
    pub(super) window: usize,
    /// When the last request started, and its body's size (pacing).
    pub(super) last_dispatch: Option<(Instant, usize)>,
    /// A 403 arrived with auto-claim on: waiting for the in-flight requests
    /// to settle before taking a new epoch.
    pub(super) reclaim: Option<Reclaim>,
    pub(super) claims_without_progress: u32,
    pub(super) failure: Option<Error>,
    pub(super) closed: Option<CloseResult>,
    /// Messages sealed into batches so far (the next batch's `first`).
    pub(super) sealed_messages: u64,
    /// What the server has confirmed, message by message.
    pub(super) delivered: Delivered,
    pub(super) driver_started: bool,
    /// The handle was dropped: send what is queued, then stop.
    pub(super) shutdown: bool,
}

/// The server's answers so far, counted in messages.
#[derive(Debug, Default)]
pub(super) struct Delivered {
    /// Messages in batches answered 200 (stored now).
    pub(super) appended: u64,
    /// Messages in batches answered 204 (the server had that seq already).
    pub(super) duplicates: u64,
    /// Every message before this one was answered (200 or 204).
    pub(super) prefix: u64,
    /// The `Stream-Next-Offset` of the batch that last moved `prefix`, and
    /// the prefix it moved to (when the server sent an offset).
    pub(super) prefix_offset: Option<(u64, Offset)>,
    /// Answered batches beyond `prefix`: first message -> (end, offset).
    pub(super) beyond: BTreeMap<u64, (u64, Offset)>,
}

impl Delivered {
    /// Books the answer to the batch of `messages` starting at `first`.
    pub(super) fn answer(
        &mut self,
        first: u64,
        messages: u64,
        answer: &AppendResult,
    ) {
        if answer.duplicate {
            self.duplicates += messages;
        } else {
            self.appended += messages;
        }
        self.beyond
            .insert(first, (first + messages, answer.next_offset.clone()));
        while let Some((end, offset)) = self.beyond.remove(&self.prefix) {
            self.prefix = end;
            if !offset.as_str().is_empty() {
                self.prefix_offset = Some((end, offset));
            }
        }
    }
}

#[derive(Debug)]
pub(super) struct Reclaim {
    /// Highest epoch a 403 reported.
    pub(super) server_epoch: Option<u64>,
    /// Unacknowledged batches by their old seq.
    pub(super) batches: Vec<(u64, Batch)>,
}

/// One batch handed to a request task.
#[derive(Debug)]
pub(super) struct Dispatch {
    pub(super) batch: Batch,
    pub(super) epoch: u64,
    pub(super) seq: u64,
    pub(super) round: u64,
}

/// How a request task ended.
pub(super) enum Outcome {
    Acked(Dispatch, AppendResult),
    /// Its round ended while it waited out a sequence gap.
    Abandoned(Dispatch),
    Failed(Dispatch, Error),
}

/// Budget of bytes in the producer: a batch being filled, one sealed and
/// waiting, and the in-flight ones.
pub(super) fn budget_for(options: &ProducerOptions) -> u32 {
    let want = options
        .max_batch_bytes
        .saturating_mul(options.max_in_flight.saturating_add(2))
        .max(1024 * 1024);
    u32::try_from(want.min(Semaphore::MAX_PERMITS))
        .unwrap_or(u32::MAX)
        .min(u32::MAX / 2)
}

/// Refuses what cannot be one message: nothing at all, or (JSON) anything
/// but a single JSON value.
pub(super) fn check_message(json: bool, data: &[u8]) -> Result<()> {
    if data.is_empty() {
        return Err(Error::InvalidArgument(
            "empty message: there is nothing to append".into(),
        ));
    }
    if json {
        serde_json::from_slice::<serde::de::IgnoredAny>(data).map_err(|e| {
            Error::InvalidArgument(format!(
                "message for a JSON stream is not one JSON value: {e}"
            ))
        })?;
    }
    Ok(())
}

/// `[message]`: one JSON message, whatever its type.
pub(super) fn wrap_one(message: &[u8]) -> Bytes {
    let mut body = BytesMut::with_capacity(message.len() + 2);
    body.put_u8(b'[');
    body.extend_from_slice(message);
    body.put_u8(b']');
    body.freeze()
}

/// The epoch to claim after a 403: past both ours and the server's.
pub(super) fn next_epoch(ours: u64, server: Option<u64>) -> u64 {
    server.unwrap_or(ours).max(ours).saturating_add(1)
}

impl OpenBatch {
    /// Adds one message: `[` or `,` before it on JSON streams.
    pub(super) fn push(
        &mut self,
        json: bool,
        data: &[u8],
        permits: u32,
        max: usize,
    ) {
        if self.body.is_empty() {
            self.since = Some(Instant::now());
            let want = (data.len() + 2).max(max.min(BATCH_START_CAPACITY));
            self.body.reserve(want);
            if json {
                self.body.put_u8(b'[');
            }
        } else if json {
            self.body.put_u8(b',');
        }
        self.body.extend_from_slice(data);
        self.permits += permits;
        self.messages += 1;
    }
}

impl State {
    /// Closes the open batch (`]` on JSON streams) and queues it.
    pub(super) fn seal(&mut self, json: bool) {
        if self.open.body.is_empty() {
            return;
        }
        let mut open = std::mem::take(&mut self.open);
        if json {
            open.body.put_u8(b']');
        }
        let first = self.sealed_messages;
        self.sealed_messages += open.messages;
        self.sealed.push_back(Batch {
            body: open.body.freeze(),
            permits: open.permits,
            first,
            messages: open.messages,
        });
    }

    /// Why an append is refused now, if it is.
    pub(super) fn refusal(&self, stream: &DurableStream) -> Result<()> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        if let Some(done) = &self.closed {
            return Err(Error::Closed {
                url: stream.url().to_string(),
                final_offset: Some(done.final_offset.clone()),
            });
        }
        Ok(())
    }

    /// Everything queued has been sent and settled.
    pub(super) fn idle(&self) -> bool {
        self.open.body.is_empty()
            && self.sealed.is_empty()
            && self.in_flight == 0
            && self.reclaim.is_none()
    }
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves nothing half-done that a
        // later holder could trip on, so a poisoned lock is used as it is.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn refuse_if_stopped(&self) -> Result<()> {
        self.lock().refusal(&self.stream)
    }

    /// The stream's framing, learnt once (HEAD only if the handle does not
    /// know its content type yet).
    pub(super) async fn format(&self) -> Result<&Format> {
        self.format
            .get_or_try_init(|| async {
                let content_type = match self.stream.content_type() {
                    Some(ct) => ct,
                    None => {
                        self.stream.head().await?.content_type.unwrap_or_else(
                            || "application/octet-stream".to_owned(),
                        )
                    }
                };
                Ok(Format {
                    json: is_json(&content_type),
                    content_type,
                })
            })
            .await
    }

    /// Permits a message of `len` bytes takes (a message larger than the
    /// whole budget takes all of it).
    pub(super) fn permits_for(&self, len: usize) -> u32 {
        u32::try_from(len)
            .unwrap_or(u32::MAX)
            .clamp(1, self.budget_total)
    }

    /// The stamp of the write at `(epoch, seq)`.
    pub(super) fn stamp(&self, epoch: u64, seq: u64) -> ProducerStamp {
        ProducerStamp {
            id: self.producer_id.clone(),
            epoch,
            seq,
        }
    }

    /// The next batch to put on the wire, if one may go now; otherwise sets
    /// `linger_until` when the open batch must be sealed later.
    pub(super) fn next_dispatch(
        &self,
        state: &mut State,
        linger_until: &mut Option<Instant>,
    ) -> Option<Dispatch> {
        let may_send = state.failure.is_none()
            && state.reclaim.is_none()
            && state.in_flight < state.window;
        if !may_send {
            return None;
        }
        if state.in_flight > 0
            && let Some((at, len)) = state.last_dispatch
        {
            let due = at + pace_after(len);
            if Instant::now() < due {
                *linger_until = Some(due);
                return None;
            }
        }
        if state.sealed.is_empty() {
            let since = state.open.since?;
            let due = since + self.options.linger;
            if state.shutdown || Instant::now() >= due {
                let json = self.format.get().is_some_and(|f| f.json);
                state.seal(json);
            } else {
                *linger_until = Some(due);
                return None;
            }
        }
        let batch = state.sealed.pop_front()?;
        let seq = state.next_seq;
        state.next_seq += 1;
        state.in_flight += 1;
        state.last_dispatch = Some((Instant::now(), batch.body.len()));
        Some(Dispatch {
            batch,
            epoch: state.epoch,
            seq,
            round: self.progress.borrow().round,
        })
    }

    /// Books a request task's outcome.
    pub(super) fn settle(&self, outcome: Outcome) {
        let mut state = self.lock();
        state.in_flight -= 1;
        match outcome {
            Outcome::Acked(d, answer) => {
                self.budget.add_permits(d.batch.permits as usize);
                state.delivered.answer(
                    d.batch.first,
                    d.batch.messages,
                    &answer,
                );
                state.window =
                    (state.window + 1).min(self.options.max_in_flight);
                state.claims_without_progress = 0;
                if d.round == self.progress.borrow().round {
                    self.ack(&mut state, d.seq);
                }
            }
            Outcome::Abandoned(d) => self.set_aside(&mut state, d, None),
            Outcome::Failed(d, Error::StaleEpoch { server_epoch, .. })
                if self.options.auto_claim
                    && state.failure.is_none()
                    && state.claims_without_progress
                        < MAX_CLAIMS_WITHOUT_PROGRESS =>
            {
                if state.reclaim.is_none() {
                    state.reclaim = Some(Reclaim {
                        server_epoch: None,
                        batches: Vec::new(),
                    });
                    // Batches waiting out a gap in this epoch give up too.
                    self.progress.send_modify(|p| p.round += 1);
                }
                self.set_aside(&mut state, d, server_epoch);
            }
            Outcome::Failed(d, e) => {
                self.budget.add_permits(d.batch.permits as usize);
                self.fail(&mut state, e);
            }
        }
        if state.in_flight == 0
            && let Some(reclaim) = state.reclaim.take()
        {
            self.claim(&mut state, reclaim);
        }
        drop(state);
        self.settled.notify_waiters();
    }

    /// Keeps an unacknowledged batch for resending after a claim, or drops
    /// it if the producer has failed.
    pub(super) fn set_aside(
        &self,
        state: &mut State,
        d: Dispatch,
        epoch: Option<u64>,
    ) {
        match &mut state.reclaim {
            Some(reclaim) if state.failure.is_none() => {
                reclaim.server_epoch = reclaim.server_epoch.max(epoch);
                reclaim.batches.push((d.seq, d.batch));
            }
            _ => self.budget.add_permits(d.batch.permits as usize),
        }
    }

    /// Takes a new epoch and queues the set-aside batches first, in their
    /// original order, from seq 0.
    pub(super) fn claim(&self, state: &mut State, mut reclaim: Reclaim) {
        if state.failure.is_some() {
            for (_, batch) in reclaim.batches {
                self.budget.add_permits(batch.permits as usize);
            }
            return;
        }
        state.claims_without_progress += 1;
        state.epoch = next_epoch(state.epoch, reclaim.server_epoch);
        state.next_seq = 0;
        state.acked.clear();
        state.window = 1;
        reclaim.batches.sort_by_key(|(seq, _)| *seq);
        for (_, batch) in reclaim.batches.into_iter().rev() {
            state.sealed.push_front(batch);
        }
        self.progress.send_modify(|p| {
            p.round += 1;
            p.acked_below = 0;
        });
        self.wake.notify_one();
    }

    /// Records an acknowledged seq and advances the contiguous mark.
    pub(super) fn ack(&self, state: &mut State, seq: u64) {
        let mut below = self.progress.borrow().acked_below;
        if seq < below {
            return;
        }
        state.acked.insert(seq);
        while state.acked.remove(&below) {
            below += 1;
        }
        self.progress.send_if_modified(|p| {
            let moved = p.acked_below != below;
            p.acked_below = below;
            moved
        });
    }

    /// Stops the producer: keeps the first failure, drops what is queued.
    pub(super) fn fail(&self, state: &mut State, error: Error) {
        if state.failure.is_none() {
            state.failure = Some(error);
        }
        let open = std::mem::take(&mut state.open);
        let mut released = open.permits as usize;
        for batch in state.sealed.drain(..) {
            released += batch.permits as usize;
        }
        if let Some(reclaim) = state.reclaim.as_mut() {
            for (_, batch) in reclaim.batches.drain(..) {
                released += batch.permits as usize;
            }
        }
        self.budget.add_permits(released);
        self.progress.send_modify(|p| p.round += 1);
    }
}

/// The driver: dispatches batches, books outcomes, seals lingering
/// batches, and ends once the handle is gone (or the stream closed) and
/// nothing is left to send.
pub(super) async fn drive(shared: Arc<Shared>) {
    // The requests are polled here, in dispatch order, rather than spawned:
    // each one reaches the connection pool before the next, which keeps
    // them in seq order on the wire far more often than racing tasks do
    // (fewer 409 gaps to wait out and resend).
    let mut requests = FuturesUnordered::new();
    loop {
        let mut linger_until = None;
        let done = {
            let mut state = shared.lock();
            while let Some(d) =
                shared.next_dispatch(&mut state, &mut linger_until)
            {
                requests.push(send(Arc::clone(&shared), d));
            }
            // After a failure nothing is queued any more, so idle() also
            // covers a failed producer once its requests have settled.
            (state.shutdown || state.closed.is_some())
                && state.idle()
                && requests.is_empty()
        };
        if done {
            return;
        }
        let linger = async {
            match linger_until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shared.wake.notified() => {}
            Some(outcome) = requests.next(), if !requests.is_empty() => {
                shared.settle(outcome);
            }
            () = linger => {}
        }
    }
}

/// One batch's request, resent while a sequence gap is only earlier
/// batches overtaken on the wire.
pub(super) async fn send(shared: Arc<Shared>, d: Dispatch) -> Outcome {
    let Some(format) = shared.format.get() else {
        let e = Error::InvalidArgument("producer format unknown".into());
        return Outcome::Failed(d, e);
    };
    let mut gap_retries = 0;
    loop {
        let options = AppendOptions {
            seq: None,
            content_type: Some(format.content_type.clone()),
            producer: Some(shared.stamp(d.epoch, d.seq)),
            headers: shared.options.headers.clone(),
        };
        match shared.stream.append(d.batch.body.clone(), options).await {
            Ok(answer) => return Outcome::Acked(d, answer),
            Err(Error::SequenceConflict {
                expected_seq: Some(expected),
                ..
            }) if expected < d.seq && gap_retries < MAX_GAP_RETRIES => {
                gap_retries += 1;
                shared.lock().window = 1;
                let mut progress = shared.progress.subscribe();
                let waited = progress
                    .wait_for(|p| p.round != d.round || p.acked_below >= d.seq)
                    .await
                    .map(|p| p.round == d.round);
                if !matches!(waited, Ok(true)) {
                    return Outcome::Abandoned(d);
                }
            }
            Err(e) => return Outcome::Failed(d, e),
        }
    }
}
