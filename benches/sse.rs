//! Criterion bench: the incremental SSE parser on a live JSON tail.
//!
//! The input is what an SSE read of a busy JSON stream receives: many small
//! `data` events (one message each, multi-line as servers send them), each
//! followed by a `control` event, fed in 16 KiB pieces as a socket read
//! hands them over. Throughput is reported in input bytes.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dsx::client::bench_api::sse_parse_all;

/// Events in the input: about 2.3 MB.
const EVENTS: usize = 10_000;
/// A typical socket read size.
const PIECE: usize = 16 * 1024;

fn sse_input() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..EVENTS {
        out.extend_from_slice(b"event: data\ndata: [\n");
        out.extend_from_slice(
            format!(
                "data: {{\"id\":{i},\"kind\":\"order\",\"user\":\"u{:05}\",\
                 \"total\":{}.{:02},\"note\":\"benchmark payload\"}}\n",
                i % 97_531,
                i % 1000,
                i % 100
            )
            .as_bytes(),
        );
        out.extend_from_slice(b"data: ]\n\nevent: control\n");
        out.extend_from_slice(
            format!(
                "data: {{\"streamNextOffset\":\"0000000000{i:06}_0000000000\
                 {:06}\",\"streamCursor\":\"{}\",\"upToDate\":true}}\n\n",
                i * 100,
                i % 7
            )
            .as_bytes(),
        );
    }
    out
}

fn pieces(input: &[u8], size: usize) -> Vec<Bytes> {
    input.chunks(size).map(Bytes::copy_from_slice).collect()
}

fn bench_sse(c: &mut Criterion) {
    let input = sse_input();
    let split = pieces(&input, PIECE);
    // Each event counts once, plus the streamed payload bytes of the data
    // events: check once that the parser saw every event.
    let total = sse_parse_all(&split);
    assert!(total > 2 * EVENTS, "parser lost events: {total}");
    let mut group = c.benchmark_group("sse");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(3));
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("parse_16k_pieces", |b| {
        b.iter(|| sse_parse_all(std::hint::black_box(&split)));
    });
    let one = vec![Bytes::from(input.clone())];
    group.bench_function("parse_one_buffer", |b| {
        b.iter(|| sse_parse_all(std::hint::black_box(&one)));
    });
    group.finish();
}

criterion_group!(benches, bench_sse);
criterion_main!(benches);
