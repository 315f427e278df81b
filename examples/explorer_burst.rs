//! The explorer under a burst: `dsx` tails a JSON stream in a 160x48
//! pseudo-terminal while a producer appends N messages of about 100 bytes
//! as fast as it can. Measures the time to the first frame, how far behind
//! the screen is when the producer finishes (until the status bar shows the
//! final offset and exactly N messages), the explorer's CPU time and its
//! peak memory, and prints them as one JSON line with the targets.
//!
//! `cargo build --release && cargo run --release --example explorer_burst
//! -- [--server BASE_URL] [--messages N] [--timeout SECS] [--trace]
//! [--reference] [--stream NAME] [--mode-key 1|2|4]`
//!
//! `--server` is the base URL streams live under (for example
//! `http://127.0.0.1:4437/v1/stream`); without it the embedded dev server
//! runs in this process (it then shares the CPU with the producer). The
//! `dsx` binary is `$DSX_BIN`, else the `dsx` next to this example's
//! directory (`target/release/dsx`). `--trace` prints what the status bar
//! shows every 100 ms (stderr); `--reference` also runs a plain client
//! reader (SSE, default retries) in this process and reports its lag and
//! count, to separate delivery from the explorer; `--mode-key` presses a
//! live-mode key before the burst (the explorer starts in SSE).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dsx::client::bench_api::event_100;
use dsx::client::{Client, CreateOptions, IdempotentProducer, ProducerOptions};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 48;
const COLS: u16 = 160;
/// Targets from the issue.
const LAG_TARGET_S: f64 = 1.0;
const FIRST_FRAME_TARGET_MS: f64 = 100.0;
const PEAK_RSS_TARGET_MB: f64 = 300.0;

struct Args {
    server: Option<String>,
    messages: u64,
    timeout: Duration,
    trace: bool,
    reference: bool,
    stream: Option<String>,
    /// A live-mode key to press before the burst (1 SSE, 2 long-poll, 4
    /// auto); the explorer starts in SSE.
    mode: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        server: None,
        messages: 1_000_000,
        timeout: Duration::from_mins(2),
        trace: false,
        reference: false,
        stream: None,
        mode: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value =
            || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--server" => out.server = Some(value()?),
            "--messages" => out.messages = value()?.parse()?,
            "--trace" => out.trace = true,
            "--reference" => out.reference = true,
            "--stream" => out.stream = Some(value()?),
            "--mode-key" => out.mode = Some(value()?),
            "--timeout" => {
                out.timeout = Duration::from_secs(value()?.parse()?);
            }
            other => bail!(
                "unknown argument {other:?}; use [--server BASE_URL] \
                 [--messages N] [--timeout SECS] [--trace] [--reference] [--stream NAME] \
                 [--mode-key 1|2|4]"
            ),
        }
    }
    Ok(out)
}

fn dsx_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("DSX_BIN") {
        return Ok(PathBuf::from(p));
    }
    // target/release/examples/explorer_burst -> target/release/dsx
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("cannot locate the target directory")?;
    Ok(dir.join("dsx"))
}

/// The screen as the explorer drew it, and when a frame first appeared.
#[derive(Default)]
struct Screen {
    parser: Option<vt100::Parser>,
    first_frame: Option<Instant>,
    bytes: u64,
}

/// What the status bar says: the offset and the message count.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Status {
    offset: Option<String>,
    count: Option<u64>,
    live: bool,
    /// The connection label at the start of the status bar.
    connection: String,
}

fn status(screen: &Screen) -> Status {
    let Some(parser) = &screen.parser else {
        return Status::default();
    };
    let rows: Vec<String> = parser.screen().rows(0, COLS).collect();
    // The status bar is the second row from the bottom.
    let Some(line) = rows.iter().rev().nth(1) else {
        return Status::default();
    };
    let offset = line.find("offset ").map(|i| {
        line[i + 7..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned()
    });
    let count = line.find(" msgs").and_then(|i| {
        let digits: String = line[..i]
            .rsplit(' ')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| *c != ',')
            .collect();
        digits.parse().ok()
    });
    Status {
        offset,
        count,
        live: line.contains(" live "),
        connection: line.split(" · ").next().unwrap_or("").trim().to_owned(),
    }
}

/// Seconds of CPU (user + system) and the peak resident set in MiB.
fn usage(pid: u32) -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which may contain spaces.
    let rest = &stat[stat.rfind(')').context("odd /proc stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line.
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let hz: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmHWM")?;
    #[allow(clippy::cast_precision_loss, reason = "seconds, display only")]
    Ok((ticks as f64 / hz, hwm_kb / 1024.0))
}

/// Polls `check` every 5 ms until it holds or `limit` passes.
fn wait_for(
    screen: &Mutex<Screen>,
    limit: Duration,
    check: impl Fn(&Screen) -> bool,
) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if check(&screen.lock().expect("screen lock")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let n = args.messages;
    let mut server = None;
    let base = if let Some(url) = &args.server {
        url.trim_end_matches('/').to_owned()
    } else {
        let handle = dsx::server::start(dsx::server::ServerConfig {
            addr: "127.0.0.1:0".parse()?,
            ..Default::default()
        })
        .await?;
        let base = handle.stream_base();
        server = Some(handle);
        base
    };
    let client = Client::builder().base_url(&base).build()?;
    let name = args
        .stream
        .clone()
        .unwrap_or_else(|| format!("explorer-burst-{}", std::process::id()));
    let json = CreateOptions {
        content_type: Some("application/json".into()),
        ..Default::default()
    };
    let stream = client.create(&name, json).await?;
    let url = format!("{base}/{name}");

    let temp = tempfile::tempdir()?;
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| anyhow::anyhow!("openpty: {e}"))?;
    let mut cmd = CommandBuilder::new(dsx_bin()?);
    cmd.arg(&url);
    cmd.env("DSX_DATA_DIR", temp.path());
    cmd.env("DSX_CONFIG", temp.path().join("none.toml"));
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("STREAM_URL");
    let spawned = Instant::now();
    let mut child = pty
        .slave
        .spawn_command(cmd)
        .map_err(|e| anyhow::anyhow!("spawning dsx: {e}"))?;
    drop(pty.slave);
    let pid = child.process_id().context("no pid")?;
    let mut reader = pty
        .master
        .try_clone_reader()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let writer = Arc::new(Mutex::new(
        pty.master
            .take_writer()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    ));
    let screen = Arc::new(Mutex::new(Screen {
        parser: Some(vt100::Parser::new(ROWS, COLS, 0)),
        ..Screen::default()
    }));
    // Read the terminal all the time: a full PTY would stall the explorer.
    let feed = Arc::clone(&screen);
    let answer = Arc::clone(&writer);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(got) = reader.read(&mut buf) {
            if got == 0 {
                break;
            }
            let mut guard = feed.lock().expect("screen lock");
            let s = &mut *guard;
            s.bytes += got as u64;
            let parser = s.parser.as_mut().expect("parser");
            parser.process(&buf[..got]);
            // Answer cursor position queries as a terminal would.
            if buf[..got].windows(4).any(|w| w == b"\x1b[6n") {
                let (row, col) = parser.screen().cursor_position();
                let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                let mut w = answer.lock().expect("writer lock");
                let _ = w.write_all(reply.as_bytes());
                let _ = w.flush();
            }
            if s.first_frame.is_none() {
                let text = parser.screen().contents();
                if text.contains(" Tail ")
                    && (text.contains('━') || text.contains('─'))
                {
                    s.first_frame = Some(Instant::now());
                }
            }
        }
    });

    let limit = args.timeout;
    let screen_ref = Arc::clone(&screen);
    let (framed, live) = tokio::task::spawn_blocking(move || {
        let framed = wait_for(&screen_ref, limit, |s| s.first_frame.is_some());
        let live =
            wait_for(&screen_ref, Duration::from_secs(10), |s| status(s).live);
        (framed, live)
    })
    .await?;
    if !framed {
        let _ = child.kill();
        let s = screen.lock().expect("screen lock");
        let text = s.parser.as_ref().map(|p| p.screen().contents());
        bail!(
            "no frame within {limit:?} ({} bytes of output): {}",
            s.bytes,
            text.unwrap_or_default()
        );
    }
    let first_frame_ms = screen
        .lock()
        .expect("screen lock")
        .first_frame
        .map(|t| t.duration_since(spawned).as_secs_f64() * 1000.0)
        .unwrap_or_default();
    if !live {
        eprintln!("note: the explorer did not report live within 10 s");
    }
    if let Some(key) = &args.mode {
        let mut w = writer.lock().expect("writer lock");
        w.write_all(key.as_bytes())?;
        w.flush()?;
        drop(w);
        std::thread::sleep(Duration::from_millis(500));
    }

    // The burst.
    let producer = IdempotentProducer::new(
        stream.clone(),
        "explorer-burst",
        ProducerOptions {
            max_batch_bytes: 1 << 20,
            max_in_flight: 4,
            ..ProducerOptions::default()
        },
    );
    // With --reference: a plain client reader (SSE, default retries) in
    // this process, to tell the server's and client's delivery from the
    // explorer's own delay.
    let (final_tx, final_rx) = tokio::sync::watch::channel(None::<String>);
    let reference = args.reference.then(|| {
        let stream = stream.clone();
        tokio::spawn(async move {
            use futures::StreamExt;
            let mut read = stream.read_json_raw(dsx::client::ReadOptions {
                live: dsx::client::LiveMode::Sse,
                ..Default::default()
            });
            let mut final_rx = final_rx;
            let mut seen = 0u64;
            let mut at = String::new();
            loop {
                let item = tokio::select! {
                    item = read.next() => item,
                    _ = final_rx.changed() => {
                        if final_rx.borrow().as_deref() == Some(at.as_str()) {
                            return (Some(Instant::now()), seen);
                        }
                        continue;
                    }
                };
                let batch = match item {
                    Some(Ok(b)) => b,
                    Some(Err(e)) => {
                        eprintln!("reference reader failed: {e}");
                        return (None, seen);
                    }
                    None => return (None, seen),
                };
                seen += batch.ends.len() as u64;
                if !batch.meta.partial {
                    batch.meta.offset.as_str().clone_into(&mut at);
                    if final_rx.borrow().as_deref() == Some(at.as_str()) {
                        return (Some(Instant::now()), seen);
                    }
                }
            }
        })
    });
    let burst_start = Instant::now();
    // With --trace: what the screen shows every 100 ms, to tell a slow
    // delivery (steady lag) from a stall.
    let tracing = Arc::new(std::sync::atomic::AtomicBool::new(args.trace));
    let trace = {
        let screen = Arc::clone(&screen);
        let on = Arc::clone(&tracing);
        std::thread::spawn(move || {
            let mut shown = Vec::new();
            while on.load(std::sync::atomic::Ordering::Relaxed)
                && burst_start.elapsed() < Duration::from_mins(5)
            {
                let st = status(&screen.lock().expect("screen lock"));
                shown.push((burst_start.elapsed(), st.count, st.connection));
                std::thread::sleep(Duration::from_millis(100));
            }
            shown
        })
    };
    for i in 0..n {
        producer.append(event_100(i)).await?;
    }
    tokio::time::timeout(limit, producer.flush())
        .await
        .context("producer flush timed out")??;
    let burst_end = Instant::now();
    let burst_end_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    let burst_s = burst_end.duration_since(burst_start).as_secs_f64();
    let final_offset = stream.head().await?.next_offset.as_str().to_owned();
    final_tx.send_replace(Some(final_offset.clone()));

    let screen_ref = Arc::clone(&screen);
    let want = final_offset.clone();
    let (caught_up, seen) = tokio::task::spawn_blocking(move || {
        let ok = wait_for(&screen_ref, limit, |s| {
            let st = status(s);
            st.offset.as_deref() == Some(want.as_str()) && st.count == Some(n)
        });
        (ok, status(&screen_ref.lock().expect("screen lock")))
    })
    .await?;
    let lag_s = burst_end.elapsed().as_secs_f64();
    // The reference reader may already be past the final offset check
    // (it saw the last batch before the offset was known): then it waits
    // for a keep-alive, bounded by the timeout.
    let (reference_lag_s, reference_count) = match reference {
        Some(task) => match tokio::time::timeout(limit, task).await {
            Ok(Ok((at, seen))) => (
                at.map(|t| {
                    round(
                        t.saturating_duration_since(burst_end).as_secs_f64(),
                        3,
                    )
                }),
                Some(seen),
            ),
            _ => (None, None),
        },
        None => (None, None),
    };
    tracing.store(false, std::sync::atomic::Ordering::Relaxed);
    for (t, count, conn) in trace.join().expect("trace thread") {
        eprintln!("trace {:>6.2}s shown {count:?} {conn}", t.as_secs_f64());
    }
    let (cpu_s, peak_mb) = usage(pid)?;

    // Quit, bounded.
    {
        let mut w = writer.lock().expect("writer lock");
        let _ = w.write_all(b"q");
        let _ = w.flush();
    }
    let quit_until = Instant::now() + Duration::from_secs(5);
    while child.try_wait()?.is_none() {
        if Instant::now() > quit_until {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Some(s) = server {
        s.shutdown().await;
    }

    let exact = seen.count == Some(n);
    let lag_ok = caught_up && lag_s <= LAG_TARGET_S;
    #[allow(clippy::cast_precision_loss, reason = "rate, display only")]
    let rate = n as f64 / burst_s;
    let result = serde_json::json!({
        "bench": "explorer_burst",
        "server": if args.server.is_some() { "external" } else { "embedded" },
        "messages": n,
        "message_bytes": 100,
        "producer_s": round(burst_s, 3),
        "producer_end_unix": round(burst_end_unix, 3),
        "producer_msgs_per_s": round(rate, 0),
        "final_offset": final_offset,
        "shown_offset": seen.offset,
        "shown_count": seen.count,
        "count_exact": exact,
        "lag_s": if caught_up { Some(round(lag_s, 3)) } else { None },
        "lag_target_s": LAG_TARGET_S,
        "reference_client_lag_s": reference_lag_s,
        "reference_client_count": reference_count,
        "lag": met(lag_ok && exact),
        "first_frame_ms": round(first_frame_ms, 1),
        "first_frame_target_ms": FIRST_FRAME_TARGET_MS,
        "first_frame": met(first_frame_ms <= FIRST_FRAME_TARGET_MS),
        "cpu_s": round(cpu_s, 2),
        "peak_rss_mib": round(peak_mb, 1),
        "peak_rss_target_mib": PEAK_RSS_TARGET_MB,
        "peak_rss": met(peak_mb <= PEAK_RSS_TARGET_MB),
    });
    println!("{result}");
    if !caught_up {
        bail!(
            "the explorer did not show offset {final_offset} and {n} \
             messages within {limit:?} (it shows {seen:?})"
        );
    }
    Ok(())
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}
