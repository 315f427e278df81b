//! Leak or allocator? Runs the dev server in-process behind a counting
//! global allocator, sends rounds of long-poll reads at the tail of a
//! stream (each ends in a 204 after the server's long-poll timeout), and
//! prints per round the bytes the program holds (live allocations) next to
//! its RSS. A leak grows the live bytes round after round; allocator
//! retention grows RSS alone.
//!
//! `cargo run --release --example rss_longpoll -- [ROUNDS] [PER_ROUND]
//! [CONCURRENCY] [close]`; `close` sends each request on a new connection.
//! Loopback only, bounded in count. See bench/RSS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dsx::server::{ServerConfig, start};

struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

#[allow(clippy::cast_possible_wrap, reason = "sizes far below i64::MAX")]
// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(
        &self,
        ptr: *mut u8,
        layout: Layout,
        new_size: usize,
    ) -> *mut u8 {
        LIVE.fetch_add(
            new_size as i64 - layout.size() as i64,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: u64| {
        args.get(i).and_then(|a| a.parse::<u64>().ok()).unwrap_or(d)
    };
    let rounds = num(0, 5);
    let per_round = num(1, 200_000);
    let concurrency = num(2, 64);
    let close = args.iter().any(|a| a == "close");
    let server = start(ServerConfig {
        addr: ([127, 0, 0, 1], 0).into(),
        long_poll_timeout: Duration::from_millis(1),
        registry: false,
        ..ServerConfig::default()
    })
    .await
    .expect("server starts");
    let url = format!("{}/probe", server.stream_base());
    let mut builder = reqwest::Client::builder().no_proxy();
    if close {
        builder = builder.pool_max_idle_per_host(0);
    }
    let http = builder.build().unwrap();
    let created = http
        .put(&url)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    let tail = created.headers()["stream-next-offset"]
        .to_str()
        .unwrap()
        .to_owned();
    let read = Arc::new(format!("{url}?offset={tail}&live=long-poll"));
    println!(
        "round 0 rss_kb {} live_kb {}",
        rss_kb(),
        LIVE.load(Ordering::Relaxed) / 1024
    );
    for round in 1..=rounds {
        let started = Instant::now();
        let allocs = ALLOCS.load(Ordering::Relaxed);
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let http = http.clone();
                let read = read.clone();
                tokio::spawn(async move {
                    let mut statuses = [0u64; 2];
                    for _ in 0..per_round / concurrency {
                        let r = http.get(read.as_str()).send().await.unwrap();
                        let ok = r.status().as_u16() == 204;
                        let _ = r.bytes().await;
                        statuses[usize::from(!ok)] += 1;
                    }
                    statuses
                })
            })
            .collect();
        let mut no_content = 0;
        let mut other = 0;
        for w in workers {
            let [a, b] = w.await.unwrap();
            no_content += a;
            other += b;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!(
            "round {round} rss_kb {} live_kb {} allocations {} \
             204s {no_content} other {other} secs {:.1}",
            rss_kb(),
            LIVE.load(Ordering::Relaxed) / 1024,
            ALLOCS.load(Ordering::Relaxed) - allocs,
            started.elapsed().as_secs_f64()
        );
    }
    server.shutdown().await;
}
