//! Criterion bench: splitting a JSON array response into its messages.
//!
//! The input is a 1 MB catch-up body of ~100-byte JSON messages, fed in
//! 16 KiB pieces. `split` measures the array scanner alone (framing);
//! `raw_decode` the whole path of `read_json_raw` (split, validate each
//! message, pack the batch). Throughput is reported in input bytes.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dsx::client::bench_api::{json_raw_decode_count, json_split_count};

const TARGET_BYTES: usize = 1024 * 1024;
const PIECE: usize = 16 * 1024;

/// A JSON array of ~100-byte messages, about `TARGET_BYTES` long; returns
/// it and its message count.
fn json_body() -> (Vec<u8>, usize) {
    let mut out = b"[".to_vec();
    let mut count = 0;
    while out.len() < TARGET_BYTES {
        if count > 0 {
            out.push(b',');
        }
        let msg = format!(
            "{{\"id\":{count},\"kind\":\"order\",\"user\":\"u{:05}\",\
             \"total\":{}.{:02},\"tags\":[\"a\",\"b\"],\"ok\":true}}",
            count % 97_531,
            count % 1000,
            count % 100
        );
        out.extend_from_slice(msg.as_bytes());
        count += 1;
    }
    out.push(b']');
    (out, count)
}

fn bench_json(c: &mut Criterion) {
    let (body, count) = json_body();
    let pieces: Vec<Bytes> =
        body.chunks(PIECE).map(Bytes::copy_from_slice).collect();
    assert_eq!(json_split_count(&pieces), count);
    assert_eq!(json_raw_decode_count(&pieces), count);
    let mut group = c.benchmark_group("json");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(3));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("split_1mb_16k_pieces", |b| {
        b.iter(|| json_split_count(std::hint::black_box(&pieces)));
    });
    group.bench_function("raw_decode_1mb_16k_pieces", |b| {
        b.iter(|| json_raw_decode_count(std::hint::black_box(&pieces)));
    });
    group.finish();
}

criterion_group!(benches, bench_json);
criterion_main!(benches);
