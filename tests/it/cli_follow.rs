//! `dsx read -f` across a server restart: a `dsx serve --data-dir` child is
//! killed and started again on the same port and data while the read
//! follows; the read reports the outage and the reconnect on stderr and
//! prints every numbered message exactly once, in order. A catch-up read
//! still fails fast, and `--retry-for` bounds a live read's patience.

use crate::support;

use std::time::Duration;

use dsx::client::{Client, DurableStream};
use support::{Dsx, Running, append, create_at, data_dir_arg, dsx};

/// `dsx serve --data-dir DIR --port PORT` as a child process; its URL.
fn serve(dir: &std::path::Path, port: u16) -> (Dsx, String) {
    let port = port.to_string();
    let server = Dsx::spawn(&[
        "serve",
        "--port",
        &port,
        "--data-dir",
        &data_dir_arg(dir),
    ]);
    let url = server.loopback_url();
    (server, url)
}

async fn append_numbers(stream: &DurableStream, numbers: std::ops::Range<u64>) {
    for n in numbers {
        append(stream, format!(r#"{{"n":{n}}}"#)).await;
    }
}

/// Reads `count` lines of `{"n":..}` (bounded in time) and returns the
/// numbers.
async fn numbers(read: &mut Running, count: usize) -> Vec<u64> {
    let mut got = Vec::new();
    for _ in 0..count {
        let Some(line) = read.line(Duration::from_secs(30)).await else {
            break;
        };
        let value: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{e}: {line}"));
        got.push(value["n"].as_u64().expect("numbered"));
    }
    got
}

async fn follow_across_a_restart(mode: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, base) = serve(dir.path(), 0);
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    let url = format!("{base}/v1/stream/follow-{mode}");
    let client = Client::new();
    let stream = create_at(&client, &url, "application/json").await;
    append_numbers(&stream, 0..30).await;

    let mut read = Running::spawn(&["read", &url, "--live", mode]);
    let before = numbers(&mut read, 30).await;
    assert_eq!(before, (0..30).collect::<Vec<_>>());

    server.kill();
    // Down for longer than the client's own quick retries.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_server, _) = serve(dir.path(), port);
    append_numbers(&stream, 30..60).await;
    let after = numbers(&mut read, 30).await;
    assert_eq!(after, (30..60).collect::<Vec<_>>(), "each exactly once");

    read.interrupt();
    let (code, stderr) = read.finish(Duration::from_secs(20)).await;
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("reconnecting (attempt 1)"), "{stderr}");
    assert!(stderr.contains("reconnected to"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_follow_rides_out_a_restart() {
    follow_across_a_restart("sse").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_follow_rides_out_a_restart() {
    follow_across_a_restart("long-poll").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_fails_fast_and_retry_for_bounds_a_follow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, base) = serve(dir.path(), 0);
    let url = format!("{base}/v1/stream/follow-bounded");
    let stream = create_at(&Client::new(), &url, "application/json").await;
    append_numbers(&stream, 0..3).await;
    let mut read = Running::spawn(&["read", &url, "-f", "--retry-for", "2s"]);
    assert_eq!(numbers(&mut read, 3).await, [0, 1, 2]);
    server.kill();
    let (code, stderr) = read.finish(Duration::from_secs(30)).await;
    assert_eq!(code, 4, "gives up after --retry-for: {stderr}");
    assert!(stderr.contains("reconnecting"), "{stderr}");
    // A catch-up read of a dead server fails at once, without reconnects.
    let out = dsx(&["read", &url]).await;
    out.expect_code(4);
    assert!(!out.stderr.contains("reconnecting"), "{out:#?}");
}

/// A follow started while the server is down (restarting, say) waits for
/// it as a follow that lost it would, instead of exiting 4 at the first
/// HEAD; a missing stream still fails at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_started_while_the_server_is_down_waits_for_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, base) = serve(dir.path(), 0);
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    let url = format!("{base}/v1/stream/follow-late");
    let stream = create_at(&Client::new(), &url, "application/json").await;
    append_numbers(&stream, 0..3).await;
    server.kill();

    let mut read = Running::spawn(&["read", &url, "-f"]);
    // Down for longer than the client's own quick retries.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_server, _) = serve(dir.path(), port);
    assert_eq!(numbers(&mut read, 3).await, [0, 1, 2]);
    append_numbers(&stream, 3..5).await;
    assert_eq!(numbers(&mut read, 2).await, [3, 4]);
    read.interrupt();
    let (code, stderr) = read.finish(Duration::from_secs(20)).await;
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("trying again (attempt 1)"), "{stderr}");
    assert!(stderr.contains("reached"), "{stderr}");

    let missing = format!("{base}/v1/stream/follow-nope");
    let out = dsx(&["read", &missing, "-f"]).await;
    out.expect_code(2);
    assert!(!out.stderr.contains("trying again"), "{out:#?}");
}
