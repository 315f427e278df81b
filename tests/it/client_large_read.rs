//! Client integration test: a 256 MiB catch-up read (and a 64 MiB JSON one)
//! with bounded memory.
//!
//! This file is its own test process, so the resident-set numbers below are
//! the client's: the server always runs as a separate process (`dsx serve`
//! for the embedded kind, the official processes otherwise), and the tests
//! here run one at a time.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use dsx::client::{AppendOptions, DurableStream, LiveMode, Offset};
use futures::StreamExt;
use support::{Kind, TestServer, within};

const MIB: usize = 1024 * 1024;
const TOTAL: usize = 256 * MIB;
const CHUNK: usize = 4 * MIB;
const JSON_TOTAL: usize = 64 * MIB;
/// Allowed growth of the client's peak resident set during a read.
const RSS_BOUND: u64 = 96 * 1024 * 1024;
const LIMIT: Duration = Duration::from_mins(4);

/// Tests in this file measure this process's memory: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `VmRSS` and `VmHWM` of this process, in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| {
                v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
            })
            .map_or_else(
                || panic!("no {name} in /proc/self/status"),
                |kb| kb * 1024,
            )
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets `VmHWM` to the current RSS (Linux `clear_refs` value 5).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Tracks the peak RSS over a measured section: the kernel's high-water
/// mark when it can be reset, and samples taken along the way regardless.
struct PeakRss {
    baseline: u64,
    hwm_reset: bool,
    sampled_peak: u64,
}

impl PeakRss {
    fn start() -> Self {
        let hwm_reset = reset_peak();
        let (rss, _) = memory();
        PeakRss {
            baseline: rss,
            hwm_reset,
            sampled_peak: rss,
        }
    }

    fn sample(&mut self) {
        self.sampled_peak = self.sampled_peak.max(memory().0);
    }

    /// Peak growth over the baseline, in bytes.
    fn growth(&mut self) -> u64 {
        self.sample();
        let (_, hwm) = memory();
        let peak = if self.hwm_reset {
            hwm.max(self.sampled_peak)
        } else {
            self.sampled_peak
        };
        peak.saturating_sub(self.baseline)
    }
}

/// An order-sensitive checksum over a byte stream, fed in any chunking.
#[derive(Default)]
struct Checksum {
    hash: u64,
    pending: Vec<u8>,
    len: u64,
}

impl Checksum {
    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if !self.pending.is_empty() {
            let take = (8 - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == 8 {
                let word = u64::from_le_bytes(
                    self.pending[..].try_into().expect("8 bytes"),
                );
                self.word(word);
                self.pending.clear();
            }
        }
        let words = data.chunks_exact(8);
        let rest = words.remainder();
        for w in words {
            self.word(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        self.pending.extend_from_slice(rest);
    }

    fn word(&mut self, w: u64) {
        self.hash = (self.hash ^ w)
            .wrapping_mul(0x0100_0000_01b3)
            .rotate_left(5);
    }

    fn finish(mut self) -> (u64, u64) {
        let mut last = [0u8; 8];
        last[..self.pending.len()].copy_from_slice(&self.pending);
        if !self.pending.is_empty() {
            self.word(u64::from_le_bytes(last));
        }
        (self.hash, self.len)
    }
}

/// Deterministic pseudo-random content for chunk `index`.
fn chunk(index: usize) -> Bytes {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ (index as u64 + 1);
    let mut out = Vec::with_capacity(CHUNK);
    for _ in 0..CHUNK / 8 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    Bytes::from(out)
}

async fn create(server: &TestServer, content_type: &str) -> DurableStream {
    let url = server.fresh_url("large");
    support::create_at(&server.client(), &url, content_type).await
}

async fn large_binary_read(kind: Kind) {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start_process(kind).await;
    let stream = create(&server, "application/octet-stream").await;
    let mut expected = Checksum::default();
    for i in 0..TOTAL / CHUNK {
        let data = chunk(i);
        expected.update(&data);
        within(
            LIMIT,
            "append 4 MiB",
            stream.append(data, AppendOptions::default()),
        )
        .await
        .unwrap_or_else(|e| panic!("append chunk {i}: {e}"));
    }
    let (expected_hash, expected_len) = expected.finish();
    let tail = within(support::WAIT, "head", stream.head())
        .await
        .expect("head")
        .next_offset;

    let mut peak = PeakRss::start();
    let mut session =
        stream.read_bytes(support::read_opts(Offset::START, LiveMode::Off));
    let mut sum = Checksum::default();
    let mut items = 0u64;
    let mut last = None;
    let read = async {
        while let Some(item) = session.next().await {
            let item = item.unwrap_or_else(|e| panic!("read failed: {e}"));
            sum.update(&item.data);
            items += 1;
            if items.is_multiple_of(32) {
                peak.sample();
            }
            last = Some((item.meta.offset.clone(), item.meta.up_to_date));
        }
    };
    within(LIMIT, "256 MiB read", read).await;
    let growth = peak.growth();
    eprintln!(
        "{kind:?}: 256 MiB in {items} items, peak RSS growth {} KiB \
         (high-water mark reset: {})",
        growth / 1024,
        peak.hwm_reset
    );
    let (hash, len) = sum.finish();
    assert_eq!(len, expected_len, "bytes read");
    assert_eq!(hash, expected_hash, "checksum of the bytes read");
    let (offset, up_to_date) = last.expect("at least one item");
    assert_eq!(offset, tail);
    assert!(up_to_date);
    assert!(
        growth < RSS_BOUND,
        "{kind:?}: peak RSS grew by {} MiB while reading 256 MiB ({items} \
         items); the body must be streamed",
        growth / MIB as u64
    );
    drop(session);
    drop(stream);
}

/// One small JSON message, about 200 bytes.
#[derive(serde::Deserialize)]
struct Message {
    i: u64,
    p: String,
}

const PAD: &str = "0123456789abcdefghijklmnopqrstuvwxyz";

fn json_batch(first: u64, count: u64) -> Bytes {
    let pad = PAD.repeat(5);
    let items: Vec<String> = (first..first + count)
        .map(|i| format!(r#"{{"i":{i},"p":"{pad}"}}"#))
        .collect();
    Bytes::from(format!("[{}]", items.join(",")))
}

async fn large_json_read(kind: Kind) {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start_process(kind).await;
    let stream = create(&server, "application/json").await;
    let per_batch = 20_000u64;
    let mut total = 0u64;
    let mut written = 0usize;
    while written < JSON_TOTAL {
        let batch = json_batch(total, per_batch);
        written += batch.len();
        within(
            LIMIT,
            "append JSON batch",
            stream.append(batch, AppendOptions::default()),
        )
        .await
        .expect("append JSON batch");
        total += per_batch;
    }

    let mut peak = PeakRss::start();
    let mut session = stream
        .read_json::<Message>(support::read_opts(Offset::START, LiveMode::Off));
    let mut next = 0u64;
    let mut batches = 0u64;
    let pad = PAD.repeat(5);
    let read = async {
        while let Some(batch) = session.next().await {
            let batch = batch.unwrap_or_else(|e| panic!("read failed: {e}"));
            for message in &batch.items {
                assert_eq!(message.i, next, "messages in order, once each");
                assert_eq!(message.p, pad);
                next += 1;
            }
            batches += 1;
            if batches.is_multiple_of(16) {
                peak.sample();
            }
        }
    };
    within(LIMIT, "64 MiB JSON read", read).await;
    let growth = peak.growth();
    eprintln!(
        "{kind:?}: {total} JSON messages in {batches} batches, peak RSS \
         growth {} KiB",
        growth / 1024
    );
    assert_eq!(next, total, "every message read");
    assert!(
        growth < RSS_BOUND,
        "{kind:?}: peak RSS grew by {} MiB while reading {} MiB of JSON \
         ({batches} batches)",
        growth / MIB as u64,
        written / MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_binary_read_embedded() {
    large_binary_read(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the official servers; see README"]
async fn large_binary_read_rust() {
    large_binary_read(Kind::OfficialRust).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the official servers; see README"]
async fn large_binary_read_node() {
    large_binary_read(Kind::OfficialNode).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_json_read_embedded() {
    large_json_read(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the official servers; see README"]
async fn large_json_read_rust() {
    large_json_read(Kind::OfficialRust).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the official servers; see README"]
async fn large_json_read_node() {
    large_json_read(Kind::OfficialNode).await;
}
