//! `dsx append` as a child process against each server: a body from the
//! argument or stdin, `--json`, `--lines` through the idempotent producer
//! with its summary and validation, `--close`, and the producer and
//! `Stream-Seq` options with their conflicts.

use crate::support;

use dsx::client::{DurableStream, LiveMode, Offset};
use futures::StreamExt;
use std::time::Duration;

use support::cli::RUN_LIMIT;
use support::{
    Dsx, TestServer, WAIT, create_at, data_dir_arg, dsx, dsx_stdin, read_opts,
    within,
};
use tokio::io::AsyncWriteExt;

/// Everything in the stream, read by the client (catch-up).
async fn content(stream: &DurableStream) -> Vec<u8> {
    let mut read = stream.read_bytes(read_opts(Offset::START, LiveMode::Off));
    let mut all = Vec::new();
    for _ in 0..10_000 {
        match within(WAIT, "read", read.next()).await {
            Some(chunk) => all.extend_from_slice(&chunk.expect("read").data),
            None => return all,
        }
    }
    panic!("read did not end");
}

/// The JSON messages in the stream.
async fn messages(stream: &DurableStream) -> Vec<serde_json::Value> {
    let mut read = stream.read_json::<serde_json::Value>(read_opts(
        Offset::START,
        LiveMode::Off,
    ));
    let mut all = Vec::new();
    for _ in 0..10_000 {
        match within(WAIT, "read", read.next()).await {
            Some(batch) => all.extend(batch.expect("read").items),
            None => return all,
        }
    }
    panic!("read did not end");
}

async fn new_stream(
    server: &TestServer,
    prefix: &str,
    content_type: &str,
) -> (DurableStream, String) {
    let url = server.fresh_url(prefix);
    let stream = create_at(&server.client(), &url, content_type).await;
    (stream, url)
}

async fn body_from_argument_and_stdin(server: TestServer) {
    let (stream, url) = new_stream(&server, "app-arg", "text/plain").await;
    dsx(&["append", &url, "hello "]).await.ok();
    dsx_stdin(&["append", &url], b"world\n").await.ok();
    assert_eq!(content(&stream).await, b"hello world\n");
    let out = dsx_stdin(&["append", &url], b"").await;
    out.expect_code(1);
    assert!(out.stderr.contains("nothing to append"), "{out:#?}");
}

async fn json_body_is_one_message(server: TestServer) {
    let (stream, url) =
        new_stream(&server, "app-json", "application/json").await;
    dsx(&["append", &url, "--json", "[1, 2]"]).await.ok();
    dsx_stdin(&["append", &url, "--json"], b"{\"a\": 1}\n")
        .await
        .ok();
    // Without --json an array on a JSON stream is a batch.
    dsx(&["append", &url, "[3, 4]"]).await.ok();
    let out = dsx(&["append", &url, "--json", "{nope"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("JSON"), "{out:#?}");
    let got = messages(&stream).await;
    let want: Vec<serde_json::Value> =
        serde_json::from_str(r#"[[1, 2], {"a": 1}, 3, 4]"#).unwrap();
    assert_eq!(got, want);
}

async fn lines_go_through_the_producer(server: TestServer) {
    let (stream, url) =
        new_stream(&server, "app-lines", "application/json").await;
    let mut input = String::new();
    for n in 0..2000 {
        input.push_str(&serde_json::json!({ "n": n }).to_string());
        input.push('\n');
    }
    input.push('\n'); // a blank line is skipped
    let out = dsx_stdin(&["append", &url, "--lines"], input.as_bytes()).await;
    out.ok();
    let tail = stream.head().await.expect("head").next_offset;
    assert!(out.stderr.contains("2000 messages"), "{out:#?}");
    assert!(!out.stderr.contains('\r'), "a progress line off a terminal");
    assert!(out.stderr.contains(tail.as_str()), "no offset: {out:#?}");
    let got = messages(&stream).await;
    assert_eq!(got.len(), 2000);
    assert!(
        got.iter().enumerate().all(|(i, m)| m["n"] == i),
        "order kept"
    );
}

async fn lines_stop_at_an_invalid_line(server: TestServer) {
    let (stream, url) = new_stream(&server, "app-bad", "text/plain").await;
    let input = b"{\"a\":1}\nnot json\n{\"b\":2}\n";
    let out = dsx_stdin(&["append", &url, "--lines", "--json"], input).await;
    // --json on a text stream: the server refuses the content type.
    assert_ne!(out.code, 0, "{out:#?}");
    let (stream2, url2) =
        new_stream(&server, "app-bad-json", "application/json").await;
    let out = dsx_stdin(&["append", &url2, "--lines", "--json"], input).await;
    out.expect_code(1);
    assert!(out.stderr.contains("line 2"), "{out:#?}");
    assert!(out.stderr.contains("1 messages"), "summary: {out:#?}");
    let got = messages(&stream2).await;
    assert_eq!(got, [serde_json::json!({"a": 1})], "nothing after line 2");
    assert!(content(&stream).await.is_empty());
}

async fn lines_keep_newlines_on_byte_streams(server: TestServer) {
    let (stream, url) = new_stream(&server, "app-text", "text/plain").await;
    let out = dsx_stdin(&["append", &url, "--lines"], b"a\n\nb\nc").await;
    out.ok();
    assert!(out.stderr.contains("4 messages"), "{out:#?}");
    assert_eq!(content(&stream).await, b"a\n\nb\nc");
}

async fn close_after_the_last_message(server: TestServer) {
    let (stream, url) = new_stream(&server, "app-close", "text/plain").await;
    dsx(&["append", &url, "last", "--close"]).await.ok();
    assert!(stream.head().await.expect("head").closed);
    assert_eq!(content(&stream).await, b"last");
    let out = dsx(&["append", &url, "more"]).await;
    out.expect_code(3);
    assert!(out.stderr.contains("409"), "{out:#?}");

    let (stream, url) =
        new_stream(&server, "app-lines-close", "application/json").await;
    let out =
        dsx_stdin(&["append", &url, "--lines", "--close"], b"1\n2\n").await;
    out.ok();
    let meta = stream.head().await.expect("head");
    assert!(meta.closed);
    assert!(out.stderr.contains(meta.next_offset.as_str()), "{out:#?}");
    assert_eq!(messages(&stream).await, [1, 2]);
}

async fn stream_seq_conflict_exits_3(server: TestServer) {
    let (stream, url) = new_stream(&server, "app-seq", "text/plain").await;
    dsx(&["append", &url, "a", "--seq", "0002"]).await.ok();
    let out = dsx(&["append", &url, "b", "--seq", "0001"]).await;
    out.expect_code(3);
    assert!(out.stderr.contains("409"), "{out:#?}");
    assert_eq!(content(&stream).await, b"a");
}

async fn producer_options(server: TestServer) {
    let (stream, url) = new_stream(&server, "app-producer", "text/plain").await;
    let once = ["append", &url, "x", "--producer-id", "p1", "--epoch", "1"];
    dsx(&once).await.ok();
    // The same id, epoch and seq again: a duplicate, not stored twice.
    let out = dsx(&once).await;
    out.ok();
    assert!(out.stderr.contains("duplicate"), "{out:#?}");
    dsx(&[
        "append",
        &url,
        "y",
        "--producer-id",
        "p1",
        "--epoch",
        "1",
        "--seq",
        "1",
    ])
    .await
    .ok();
    assert_eq!(content(&stream).await, b"xy");
    // An older epoch is fenced off.
    let out =
        dsx(&["append", &url, "z", "--producer-id", "p1", "--epoch", "0"])
            .await;
    out.expect_code(3);
    // A producer seq is a number; --epoch needs a producer.
    let out =
        dsx(&["append", &url, "z", "--producer-id", "p", "--seq", "x"]).await;
    out.expect_code(1);
    dsx(&["append", &url, "z", "--epoch", "1"])
        .await
        .expect_code(1);
}

async fn missing_stream_exits_2(server: TestServer) {
    let url = server.fresh_url("app-missing");
    let out = dsx(&["append", &url, "x"]).await;
    out.expect_code(2);
    assert!(out.stderr.contains("404"), "{out:#?}");
    let out = dsx_stdin(&["append", &url, "--lines"], b"x\n").await;
    out.expect_code(2);
}

/// `count` JSON lines `{"n": from}`, `{"n": from + 1}`, ...
fn numbered(from: u64, count: u64) -> String {
    let mut input = String::new();
    for n in from..from + count {
        input.push_str(&serde_json::json!({ "n": n }).to_string());
        input.push('\n');
    }
    input
}

/// The `n` fields of the stream's messages.
async fn numbers(stream: &DurableStream) -> Vec<u64> {
    messages(stream)
        .await
        .iter()
        .map(|m| m["n"].as_u64().expect("a numbered message"))
        .collect()
}

async fn rerun_with_the_same_producer_id_loses_nothing(server: TestServer) {
    let (stream, url) =
        new_stream(&server, "app-rerun", "application/json").await;
    let args = ["append", &url, "--lines", "--producer-id", "p-rerun"];
    // The first run: one batch of 3000 lines (seq 0 of its epoch).
    let first = dsx_stdin(&args, numbered(0, 3000).as_bytes()).await;
    first.ok();
    assert!(
        first.stderr.contains("appended 3000 messages"),
        "{first:#?}"
    );
    // The rerun sends other lines with the same id and other batch
    // boundaries (three lines one by one, then the rest). Before each run
    // took its own epoch, its seq 0 was answered 204 and dropped.
    let second = dsx_stdin(&args, numbered(3000, 500).as_bytes()).await;
    second.ok();
    assert!(
        second.stderr.contains("appended 500 messages"),
        "{second:#?}"
    );
    let third = dsx_stdin(&args, numbered(3500, 1).as_bytes()).await;
    third.ok();
    assert!(third.stderr.contains("appended 1 messages"), "{third:#?}");
    let got = numbers(&stream).await;
    assert_eq!(got, (0..3501).collect::<Vec<_>>(), "every line, once");
}

async fn explicit_epoch_duplicates_are_reported_as_dropped(server: TestServer) {
    let (stream, url) =
        new_stream(&server, "app-dup", "application/json").await;
    let args = [
        "append",
        &url,
        "--lines",
        "--producer-id",
        "p-dup",
        "--epoch",
        "7",
    ];
    dsx_stdin(&args, numbered(0, 10).as_bytes()).await.ok();
    // The same epoch again, with other lines: the server answers 204 to
    // seq 0 and stores nothing; dsx must not call them appended.
    let out = dsx_stdin(&args, numbered(10, 20).as_bytes()).await;
    out.expect_code(3);
    assert!(out.stderr.contains("appended 0 messages"), "{out:#?}");
    assert!(
        out.stderr.contains("20 of 20 messages were NOT"),
        "{out:#?}"
    );
    assert!(out.stderr.contains("without --epoch"), "{out:#?}");
    assert_eq!(numbers(&stream).await, (0..10).collect::<Vec<_>>());
    // The recipe: without --epoch the same lines go in as new data.
    let args = ["append", &url, "--lines", "--producer-id", "p-dup"];
    let out = dsx_stdin(&args, numbered(10, 20).as_bytes()).await;
    out.ok();
    assert!(out.stderr.contains("appended 20 messages"), "{out:#?}");
    assert_eq!(numbers(&stream).await, (0..30).collect::<Vec<_>>());
}

server_tests!(
    rerun_with_the_same_producer_id_loses_nothing,
    explicit_epoch_duplicates_are_reported_as_dropped,
    body_from_argument_and_stdin,
    json_body_is_one_message,
    lines_go_through_the_producer,
    lines_stop_at_an_invalid_line,
    lines_keep_newlines_on_byte_streams,
    close_after_the_last_message,
    stream_seq_conflict_exits_3,
    producer_options,
    missing_stream_exits_2,
);

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

/// A server killed (SIGKILL) in the middle of `dsx append --lines`: dsx
/// fails, and names the last line the server confirmed and the offset
/// after it; after a restart on the same data the stream holds exactly
/// those lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_mid_run_names_the_last_confirmed_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, base) = serve(dir.path(), 0);
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    let url = format!("{base}/v1/stream/app-killed");
    let client = dsx::client::Client::new();
    let stream = create_at(&client, &url, "application/json").await;

    let mut command = support::cli::command(&["append", &url, "--lines"]);
    command.stdin(std::process::Stdio::piped());
    let mut child = command.spawn().expect("spawn dsx append");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(numbered(0, 100).as_bytes())
        .await
        .expect("write the first lines");
    stdin.flush().await.expect("flush");
    // Wait (bounded) until all 100 are stored, then give the answers a
    // moment to reach dsx.
    let mut stored = 0;
    for _ in 0..200 {
        stored = numbers(&stream).await.len();
        if stored == 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stored, 100, "the first lines did not arrive");
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    // More lines, which cannot be stored now; then the end of the input.
    let _ = stdin.write_all(numbered(100, 50).as_bytes()).await;
    drop(stdin);
    let out = within(RUN_LIMIT, "dsx append", child.wait_with_output())
        .await
        .expect("wait for dsx append");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("confirmed by the server: input lines 1-100,"),
        "{stderr}"
    );
    assert!(stderr.contains("not confirmed: 50 messages"), "{stderr}");
    assert!(stderr.contains("tail -n +101"), "{stderr}");
    assert!(!stderr.contains("appended 150"), "{stderr}");

    let (_server, _) = serve(dir.path(), port);
    let meta = stream.head().await.expect("head after the restart");
    assert!(
        stderr.contains(&format!("tail offset {}", meta.next_offset.as_str())),
        "the offset after line 100: {stderr}"
    );
    assert_eq!(numbers(&stream).await, (0..100).collect::<Vec<_>>());
}
