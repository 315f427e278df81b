//! The multi-stream tail under load (issue 12's target): `--streams N`
//! streams (default 10) each receive `--rate R` messages of 100 B a second
//! (default 20,000) for `--seconds S` (default 10) while the real `dsx`
//! binary tails them merged (`o`, a glob) in a pseudo-terminal.
//!
//! `cargo build --release && cargo run --release --example multi_burst --
//! [--server BASE_URL] [--streams N] [--rate R] [--seconds S]
//! [--timeout SECS]`
//!
//! Each producer appends a JSON array of `R / 20` messages every 50 ms
//! (one POST; the server flattens it), paced by the clock; the rate it
//! really reached is reported, since a shared 2-core box may not reach the
//! one asked for. Lag = from the last append's answer until the status bar
//! shows every stream's exact count; peak memory is the dsx process's
//! `VmHWM`. One JSON line on stdout; exit status 1 if a count was never
//! exact.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dsx::client::bench_api::event_100;
use dsx::client::{AppendOptions, Client, CreateOptions};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 50;
/// Wide enough for every stream's count in the status bar.
const COLS: u16 = 400;
/// Appends a second per producer.
const TICKS_PER_S: u64 = 20;

struct Args {
    server: Option<String>,
    streams: usize,
    rate: u64,
    seconds: u64,
    timeout: Duration,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        server: None,
        streams: 10,
        rate: 20_000,
        seconds: 10,
        timeout: Duration::from_mins(2),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().context("a value after the flag");
        match a.as_str() {
            "--server" => out.server = Some(value()?),
            "--streams" => out.streams = value()?.parse()?,
            "--rate" => out.rate = value()?.parse()?,
            "--seconds" => out.seconds = value()?.parse()?,
            "--timeout" => {
                out.timeout = Duration::from_secs(value()?.parse()?);
            }
            other => bail!(
                "unknown argument {other:?}; use [--server BASE_URL] \
                 [--streams N] [--rate R] [--seconds S] [--timeout SECS]"
            ),
        }
    }
    Ok(out)
}

fn dsx_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("DSX_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("cannot locate the target directory")?;
    Ok(dir.join("dsx"))
}

/// The status bar (second row from the bottom) as the explorer drew it.
fn status_line(parser: &vt100::Parser) -> String {
    let rows: Vec<String> = parser.screen().rows(0, COLS).collect();
    rows.iter().rev().nth(1).cloned().unwrap_or_default()
}

/// The count the status bar shows for `path` (`path: live, 1,234`).
fn count_of(status: &str, path: &str) -> Option<u64> {
    let at = status.find(&format!("{path}: "))?;
    let rest = &status[at + path.len() + 2..];
    let after = rest.split(", ").nth(1)?;
    let digits: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Seconds of CPU (user + system) and the peak resident set in MiB.
fn usage(pid: u32) -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = &stat[stat.rfind(')').context("odd /proc stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmHWM")?;
    #[allow(clippy::cast_precision_loss, reason = "seconds, display only")]
    Ok((ticks as f64 / 100.0, hwm_kb / 1024.0))
}

/// Polls `check` on the screen every 5 ms until it holds or `limit` ends.
fn wait_for(
    screen: &Mutex<vt100::Parser>,
    limit: Duration,
    check: impl Fn(&vt100::Parser) -> bool,
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

fn keys(w: &Mutex<Box<dyn Write + Send>>, bytes: &[u8]) -> anyhow::Result<()> {
    let mut w = w.lock().expect("writer lock");
    w.write_all(bytes)?;
    w.flush()?;
    Ok(())
}

#[tokio::main]
#[allow(clippy::too_many_lines, reason = "one scenario, start to end")]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
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
    let prefix = format!("mb{}", std::process::id());
    let mut streams = Vec::new();
    let mut paths = Vec::new();
    for i in 0..args.streams {
        let path = format!("{prefix}/s{i}");
        let json = CreateOptions {
            content_type: Some("application/json".into()),
            ..Default::default()
        };
        streams.push(client.create(&path, json).await?);
        paths.push(path);
    }

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
    cmd.arg(format!("{base}/{}", paths[0]));
    cmd.env("DSX_DATA_DIR", temp.path());
    cmd.env("DSX_CONFIG", temp.path().join("none.toml"));
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("STREAM_URL");
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
    let writer: Arc<Mutex<Box<dyn Write + Send>>> = Arc::new(Mutex::new(
        pty.master
            .take_writer()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    ));
    let screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
    let feed = Arc::clone(&screen);
    let answer = Arc::clone(&writer);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(got) = reader.read(&mut buf) {
            if got == 0 {
                break;
            }
            let mut parser = feed.lock().expect("screen lock");
            parser.process(&buf[..got]);
            if buf[..got].windows(4).any(|w| w == b"\x1b[6n") {
                let (row, col) = parser.screen().cursor_position();
                let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                let mut w = answer.lock().expect("writer lock");
                let _ = w.write_all(reply.as_bytes());
                let _ = w.flush();
            }
        }
    });

    let limit = args.timeout;
    let n = args.streams;
    let last = paths[n - 1].clone();
    let (s2, w2) = (Arc::clone(&screen), Arc::clone(&writer));
    let glob = format!("{prefix}/*");
    let all_live =
        tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            // Every stream listed (the registry), then the stream list, `o`,
            // the glob.
            if !wait_for(&s2, limit, |p| p.screen().contents().contains(&last))
            {
                return Ok(false);
            }
            keys(&w2, b"\t\t\t")?;
            std::thread::sleep(Duration::from_millis(300));
            keys(&w2, b"o")?;
            std::thread::sleep(Duration::from_millis(300));
            keys(&w2, glob.as_bytes())?;
            keys(&w2, b"\r")?;
            let all = format!("merged {n}/{n} live");
            Ok(wait_for(&s2, limit, |p| status_line(p).contains(&all)))
        })
        .await??;
    if !all_live {
        let _ = child.kill();
        let text = screen.lock().expect("screen lock").screen().contents();
        bail!("the merged tail never had every stream live:\n{text}");
    }

    // The producers, paced by the clock.
    let per_tick = args.rate / TICKS_PER_S;
    let ticks = args.seconds * TICKS_PER_S;
    let expected = per_tick * ticks;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, stream) in streams.into_iter().enumerate() {
        let messages: Vec<String> = (0..per_tick)
            .map(|k| event_100(i as u64 * 1_000_000 + k))
            .collect();
        let body = bytes::Bytes::from(format!("[{}]", messages.join(",")));
        tasks.push(tokio::spawn(async move {
            let mut next = tokio::time::Instant::now();
            for _ in 0..ticks {
                stream
                    .append(body.clone(), AppendOptions::default())
                    .await?;
                next += Duration::from_millis(1000 / TICKS_PER_S);
                tokio::time::sleep_until(next).await;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let produced = started.elapsed().as_secs_f64();
    let written = Instant::now();
    let (s3, p3) = (Arc::clone(&screen), paths.clone());
    let exact = tokio::task::spawn_blocking(move || {
        wait_for(&s3, limit, |p| {
            let bar = status_line(p);
            p3.iter().all(|path| count_of(&bar, path) == Some(expected))
        })
    })
    .await?;
    let lag = written.elapsed().as_secs_f64();
    let (cpu, rss) = usage(pid)?;
    let bar = status_line(&screen.lock().expect("screen lock"));
    let counts: Vec<Option<u64>> =
        paths.iter().map(|p| count_of(&bar, p)).collect();
    let _ = keys(&writer, b"q");
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await;
    drop(server);
    #[allow(clippy::cast_precision_loss, reason = "rates, display only")]
    let reached = expected as f64 / produced;
    let out = serde_json::json!({
        "streams": n,
        "rate_asked_per_stream": args.rate,
        "rate_reached_per_stream": reached.round(),
        "seconds_asked": args.seconds,
        "seconds_taken": (produced * 100.0).round() / 100.0,
        "per_stream_expected": expected,
        "per_stream_counts": counts,
        "counts_exact": exact,
        "lag_s": if exact { Some((lag * 1000.0).round() / 1000.0) } else { None },
        "lag_target_s": 1.0,
        "cpu_s": (cpu * 10.0).round() / 10.0,
        "peak_rss_mib": rss.round(),
    });
    println!("{out}");
    if !exact {
        std::process::exit(1);
    }
    Ok(())
}
