//! Live-latency probe for `bench/compare.sh`: how long from the start of an
//! append until a live reader of the same stream sees the message.
//!
//! One process does both, so that send and receive times come from the same
//! clock. It creates a fresh JSON stream, starts a live read (SSE or
//! long-poll) and waits until the read is up to date (for long-poll, which
//! is live from its first request, 500 ms), then appends
//! `--count` messages of ~100 bytes at a steady pace (`--interval-ms`), each
//! carrying its sequence number. The first `--warmup` messages are left out
//! of the figures. Runs on a current-thread runtime unless `--runtime
//! multi`. Prints one JSON line:
//! `{"client":"dsx","mode":"sse","n":200,"p50_ms":..,"p99_ms":..,"max_ms":..}`.
//!
//! `cargo run --release --example latency -- --url http://127.0.0.1:4437/v1/stream/lat-1 --mode sse`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dsx::client::{
    AppendOptions, Client, CreateOptions, LiveMode, ReadOptions,
};
use futures::StreamExt;

struct Args {
    url: String,
    mode: LiveMode,
    count: usize,
    warmup: usize,
    interval: Duration,
    /// `--runtime multi`: Tokio's multi-thread runtime instead.
    multi_thread: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        mode: LiveMode::Sse,
        count: 200,
        warmup: 10,
        interval: Duration::from_millis(10),
        multi_thread: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number =
            || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => args.url.clone_from(&value),
            "--mode" => {
                args.mode = match value.as_str() {
                    "sse" => LiveMode::Sse,
                    "long-poll" => LiveMode::LongPoll,
                    other => return Err(format!("unknown mode {other}")),
                };
            }
            "--count" => args.count = usize::try_from(number()?).unwrap_or(0),
            "--warmup" => {
                args.warmup = usize::try_from(number()?).unwrap_or(0);
            }
            "--runtime" => args.multi_thread = value == "multi",
            "--interval-ms" => args.interval = Duration::from_millis(number()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.url.is_empty() || args.count == 0 {
        return Err("usage: latency --url STREAM_URL [--mode sse|long-poll] \
                    [--count N] [--warmup N] [--interval-ms MS] \
                    [--runtime current|multi]"
            .into());
    }
    Ok(args)
}

/// The `"seq":N` field of a message this probe wrote.
fn seq_of(message: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(message).ok()?;
    let rest = &text[text.find("\"seq\":")? + 6..];
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    #[allow(clippy::cast_precision_loss)]
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    // Single-threaded by default, as `dsx read` runs: with one reader and
    // one writer, a second worker only adds cross-thread wake-ups (on the
    // loaded 2-core bench machine they cost the long-poll p50 up to 2 ms).
    let runtime = if args.multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let total = args.warmup + args.count;
    let client = Client::builder().build()?;
    let stream = client.stream(&args.url)?;
    stream
        .create(CreateOptions {
            content_type: Some("application/json".into()),
            ..Default::default()
        })
        .await?;

    let sent: Arc<Mutex<Vec<Option<Instant>>>> =
        Arc::new(Mutex::new(vec![None; total]));
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let reader = {
        let sent = Arc::clone(&sent);
        let mut read = stream.read_json_raw(ReadOptions {
            live: args.mode,
            ..Default::default()
        });
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut latencies = vec![None; total];
            let mut seen = 0;
            while let Some(batch) = read.next().await {
                let batch = batch?;
                let now = Instant::now();
                for message in batch.items() {
                    let seq = seq_of(message).ok_or_else(|| {
                        anyhow::anyhow!("foreign message in the stream")
                    })?;
                    let at = sent.lock().expect("not poisoned")[seq]
                        .ok_or_else(|| anyhow::anyhow!("seen before sent"))?;
                    latencies[seq] = Some(now - at);
                    seen += 1;
                }
                if batch.meta.up_to_date
                    && let Some(tx) = ready.take()
                {
                    let _ = tx.send(());
                }
                if seen == total {
                    break;
                }
            }
            anyhow::Ok(latencies)
        })
    };
    if args.mode == LiveMode::LongPoll {
        // A long-poll read is live from its first request: on an empty
        // stream nothing answers until data arrives, so there is no
        // up-to-date item to wait for. Give the request time to be sent;
        // the warm-up messages are left out of the figures anyway.
        drop(ready_rx);
        tokio::time::sleep(Duration::from_millis(500)).await;
    } else {
        tokio::time::timeout(Duration::from_secs(10), ready_rx)
            .await
            .map_err(|_| anyhow::anyhow!("the live read never caught up"))??;
    }

    let pad = "x".repeat(60);
    let mut tick = tokio::time::interval(args.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for seq in 0..total {
        tick.tick().await;
        let body = format!(r#"{{"seq":{seq},"pad":"{pad}"}}"#);
        sent.lock().expect("not poisoned")[seq] = Some(Instant::now());
        stream.append(body, AppendOptions::default()).await?;
    }
    let latencies = tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .map_err(|_| anyhow::anyhow!("messages missing after 30 s"))???;
    let mut ms: Vec<f64> = latencies[args.warmup..]
        .iter()
        .map(|l| l.expect("every message seen").as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let mode = if args.mode == LiveMode::Sse {
        "sse"
    } else {
        "long-poll"
    };
    println!(
        "{{\"client\":\"dsx\",\"mode\":\"{mode}\",\"n\":{},\"p50_ms\":{:.3},\
         \"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        ms.len(),
        percentile(&ms, 0.50),
        percentile(&ms, 0.99),
        ms[ms.len() - 1]
    );
    let _ = stream.delete().await;
    Ok(())
}
