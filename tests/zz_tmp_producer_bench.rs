// Throwaway measurement, not committed.
use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
use std::time::{Duration, Instant};
use dsx::client::*;

async fn run(base: &str, json: bool, n: usize, size: usize, opts: ProducerOptions) {
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)]);
    let c2 = counts.clone();
    let client = Client::builder().observer(Arc::new(move |e: &RequestEvent| {
        if e.method == "POST" { match e.status { Some(200) => c2[0].fetch_add(1, Ordering::Relaxed), Some(409) => c2[1].fetch_add(1, Ordering::Relaxed), Some(204) => c2[2].fetch_add(1, Ordering::Relaxed), _ => c2[3].fetch_add(1, Ordering::Relaxed) }; }
    })).build().unwrap();
    let name = format!("{base}/v1/stream/bench-{}", rand_suffix());
    let ct = if json { "application/json" } else { "application/octet-stream" };
    let s = client.create(&name, CreateOptions { content_type: Some(ct.into()), ..Default::default() }).await.unwrap();
    let msg: bytes::Bytes = if json { format!("{{\"v\":\"{}\"}}", "x".repeat(size - 8)).into() } else { vec![b'a'; size].into() };
    let p = IdempotentProducer::new(s.clone(), "bench", opts);
    let t = Instant::now();
    for _ in 0..n { p.append(msg.clone()).await.unwrap(); }
    let queued = t.elapsed();
    p.flush().await.unwrap();
    let el = t.elapsed();
    let m = s.head().await.unwrap();
    eprintln!("{base} json={json} n={n}: queued {queued:?} total {el:?} => {:.0} msg/s; posts 200={} 409={} 204={} other={} tail={}", n as f64 / el.as_secs_f64(), counts[0].load(Ordering::Relaxed), counts[1].load(Ordering::Relaxed), counts[2].load(Ordering::Relaxed), counts[3].load(Ordering::Relaxed), m.next_offset);
}
fn rand_suffix() -> u64 { std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 }

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench() {
    for base in ["http://127.0.0.1:4501", "http://127.0.0.1:4502"] {
        for json in [true, false] {
            run(base, json, 100_000, 100, ProducerOptions::default()).await;
        }
        run(base, true, 3000, 10, ProducerOptions { max_batch_bytes: 2048, ..Default::default() }).await;
        run(base, true, 50, 10, ProducerOptions { max_batch_bytes: 1, ..Default::default() }).await;
    }
    let _ = Duration::ZERO;
}
