//! `dsx read` as a child process against each server: every format, start
//! offsets, live modes receiving appends made after the start, `--until`,
//! `--jq`, a closed pipe, Ctrl-C, and the exit codes of failed reads.

use crate::support;

use std::time::Duration;

use dsx::bookmarks::{Bookmark, Bookmarks};
use dsx::client::{CloseOptions, DurableStream};
use support::cli::{command, run};
use support::{
    Running, TestServer, WAIT, append, create_at, dead_port, dsx, within,
};

/// Long enough for a live read to have its request waiting at the server.
const SETTLE: Duration = Duration::from_millis(400);

/// A JSON stream with three messages, one of them pretty-printed over
/// several lines; returns it and the offset after the first message.
async fn json_stream(
    server: &TestServer,
    prefix: &str,
) -> (DurableStream, String) {
    let client = server.client();
    let stream =
        create_at(&client, &server.fresh_url(prefix), "application/json").await;
    let first = append(&stream, r#"{"n":1}"#).await;
    append(&stream, "{\n  \"n\": 2,\n  \"s\": \"a\\nb\"\n}").await;
    append(&stream, r#"{"n":3}"#).await;
    (stream, first.as_str().to_owned())
}

fn parse(line: &str) -> serde_json::Value {
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

async fn ndjson_is_one_message_per_line(server: TestServer) {
    let (stream, _) = json_stream(&server, "read-ndjson").await;
    let url = stream.url().as_str();
    for args in [vec!["read", url], vec!["read", url, "--format", "ndjson"]] {
        let out = dsx(&args).await;
        out.ok();
        let lines = out.lines();
        assert_eq!(lines.len(), 3, "{out:#?}");
        assert_eq!(lines[0], r#"{"n":1}"#);
        assert_eq!(parse(lines[1])["s"], "a\nb", "value kept: {}", lines[1]);
        assert_eq!(parse(lines[2])["n"], 3);
    }
}

async fn batches_carry_offset_and_flags(server: TestServer) {
    let (stream, _) = json_stream(&server, "read-batches").await;
    let tail = stream.head().await.expect("head").next_offset;
    let out =
        dsx(&["read", stream.url().as_str(), "--format", "batches"]).await;
    out.ok();
    let batches: Vec<_> = out.lines().into_iter().map(parse).collect();
    let messages: Vec<_> = batches
        .iter()
        .flat_map(|b| b["messages"].as_array().expect("messages").clone())
        .collect();
    assert_eq!(messages.len(), 3, "{out:#?}");
    assert_eq!(messages[1]["n"], 2);
    let last = batches.last().expect("a batch");
    assert_eq!(last["offset"], tail.as_str());
    assert_eq!(last["up_to_date"], true);
    assert_eq!(last["closed"], false);
}

async fn raw_and_text_batches(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("read-raw");
    let stream = create_at(&client, &url, "text/plain").await;
    append(&stream, "hello\n").await;
    append(&stream, "wörld\n").await;
    let out = dsx(&["read", &url]).await;
    out.ok();
    assert_eq!(out.stdout, "hello\nwörld\n", "text prints raw by default");
    let out = dsx(&["read", &url, "--format", "raw"]).await;
    assert_eq!(out.ok().stdout, "hello\nwörld\n");
    let out = dsx(&["read", &url, "--format", "batches"]).await;
    let data: String = out
        .ok()
        .lines()
        .into_iter()
        .map(|l| parse(l)["data"].as_str().expect("text data").to_owned())
        .collect();
    assert_eq!(data, "hello\nwörld\n");
    // A JSON format of a text stream is a usage error.
    let out = dsx(&["read", &url, "--format", "ndjson"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("JSON"), "{out:#?}");
}

async fn start_offsets(server: TestServer) {
    let (stream, after_first) = json_stream(&server, "read-from").await;
    let url = stream.url().as_str();
    let out = dsx(&["read", url, "--from", "-1"]).await;
    assert_eq!(out.ok().lines().len(), 3);
    let out = dsx(&["read", url, "--from=-1"]).await;
    assert_eq!(out.ok().lines().len(), 3);
    let out = dsx(&["read", url, "--from", &after_first]).await;
    let lines = out.ok().lines();
    assert_eq!(lines.len(), 2, "{out:#?}");
    assert_eq!(parse(lines[0])["n"], 2);
    let out = dsx(&["read", url, "--from", "now"]).await;
    assert_eq!(out.ok().stdout, "", "now skips what exists");
}

/// A live read prints a message appended after it started, then stops on
/// Ctrl-C with exit 130.
async fn live_read_sees_later_appends(server: TestServer, mode: &str) {
    let (stream, _) = json_stream(&server, &format!("read-{mode}")).await;
    let mut read = Running::spawn(&[
        "read",
        stream.url().as_str(),
        "--live",
        mode,
        "--from",
        "now",
    ]);
    tokio::time::sleep(SETTLE).await;
    append(&stream, r#"{"n":"late"}"#).await;
    let line = read.line(WAIT).await.expect("the late message");
    assert_eq!(line, r#"{"n":"late"}"#);
    append(&stream, r#"{"n":"later"}"#).await;
    let line = read.line(WAIT).await.expect("the next message");
    assert_eq!(line, r#"{"n":"later"}"#);
    read.interrupt();
    let (code, stderr) = read.finish(WAIT).await;
    assert_eq!(code, 130, "Ctrl-C exit code; stderr: {stderr}");
}

async fn live_sse(server: TestServer) {
    live_read_sees_later_appends(server, "sse").await;
}

async fn live_long_poll(server: TestServer) {
    live_read_sees_later_appends(server, "long-poll").await;
}

async fn until_conditions(server: TestServer) {
    let (stream, _) = json_stream(&server, "read-until").await;
    let url = stream.url().as_str();
    // A live read told to stop at the tail stops there.
    let out =
        dsx(&["read", url, "--live", "long-poll", "--until", "up-to-date"])
            .await;
    assert_eq!(out.ok().lines().len(), 3);
    // --until closed follows until the stream is closed.
    let mut read = Running::spawn(&["read", url, "--until", "closed"]);
    for _ in 0..3 {
        read.line(WAIT).await.expect("an existing message");
    }
    tokio::time::sleep(SETTLE).await;
    within(
        WAIT,
        "close",
        stream.close(CloseOptions {
            data: Some(r#"{"n":"last"}"#.into()),
            ..CloseOptions::default()
        }),
    )
    .await
    .expect("close");
    assert_eq!(read.line(WAIT).await.as_deref(), Some(r#"{"n":"last"}"#));
    assert_eq!(read.line(WAIT).await, None, "output ends at the close");
    let (code, stderr) = read.finish(WAIT).await;
    assert_eq!(code, 0, "{stderr}");
    // Following a closed stream ends at its end.
    let out = dsx(&["read", url, "-f"]).await;
    assert_eq!(out.ok().lines().len(), 4);
    // --until closed needs a live mode.
    let out = dsx(&["read", url, "--live", "off", "--until", "closed"]).await;
    out.expect_code(1);
}

async fn jq_filters_each_message(server: TestServer) {
    let (stream, _) = json_stream(&server, "read-jq").await;
    let url = stream.url().as_str();
    let out = dsx(&["read", url, "--jq", "select(.n > 1) | {m: .n, s}"]).await;
    let lines = out.ok().lines();
    assert_eq!(lines, [r#"{"m":2,"s":"a\nb"}"#, r#"{"m":3,"s":null}"#]);
    let out = dsx(&["read", url, "--jq", ".n | .[0]"]).await;
    out.expect_code(5);
    assert!(out.stderr.contains("jq"), "{out:#?}");
    let out = dsx(&["read", url, "--jq", ".[ | nope"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("--jq"), "{out:#?}");
    assert!(out.stdout.is_empty());
}

/// A message nested 10,000 deep between two ordinary ones: `--jq .` used
/// to overflow the stack and abort (rc 134) with nothing printed. Now the
/// deep one is refused by name, the others are printed, and the exit is 5.
async fn jq_refuses_a_deep_message_and_keeps_the_others(server: TestServer) {
    let client = server.client();
    let stream = create_at(
        &client,
        &server.fresh_url("read-jq-deep"),
        "application/json",
    )
    .await;
    append(&stream, r#"{"n":1}"#).await;
    // 10,000 levels overflowed jq's stack (issue 9 point 8). The official
    // Node server's own JSON parser answers 500 to that depth, so there the
    // message is 600 deep: still past dsx's limit of 512.
    let depth = if server.kind() == support::Kind::OfficialNode {
        600
    } else {
        10_000
    };
    let deep = "[".repeat(depth) + &"]".repeat(depth);
    append(&stream, format!("[{deep}]")).await;
    append(&stream, r#"{"n":3}"#).await;
    let out = dsx(&["read", stream.url().as_str(), "--jq", "."]).await;
    out.expect_code(5);
    assert_eq!(out.lines(), [r#"{"n":1}"#, r#"{"n":3}"#], "{out:#?}");
    assert!(out.stderr.contains("deeper than 512 levels"), "{out:#?}");
    assert!(out.stderr.contains("failed on 1 message"), "{out:#?}");
}

/// A filter that fails on every message describes the first few failures
/// and counts the rest, instead of a line per message.
async fn jq_failures_are_capped_and_counted(server: TestServer) {
    let client = server.client();
    let stream = create_at(
        &client,
        &server.fresh_url("read-jq-many"),
        "application/json",
    )
    .await;
    let batch: Vec<String> =
        (0..200).map(|n| format!(r#"{{"n":{n}}}"#)).collect();
    append(&stream, format!("[{}]", batch.join(","))).await;
    let out =
        dsx(&["read", stream.url().as_str(), "--jq", r#".n + "x""#]).await;
    out.expect_code(5);
    assert!(out.stdout.is_empty(), "{out:#?}");
    let described = out
        .stderr
        .lines()
        .filter(|l| l.contains("jq error"))
        .count();
    assert_eq!(described, 5, "{}", out.stderr);
    assert!(out.stderr.lines().count() < 10, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("failed on 200 message(s) (195 of them not shown"),
        "{}",
        out.stderr
    );
}

/// `--jq` with `--format`: ndjson is what `--jq` prints (the README's
/// example combines them), batches puts each batch's results in its
/// line; raw is refused as a usage error.
async fn jq_with_a_format(server: TestServer) {
    let (stream, _) = json_stream(&server, "read-jq-format").await;
    let url = stream.url().as_str();
    let out = dsx(&["read", url, "--format", "ndjson", "--jq", ".n"]).await;
    assert_eq!(out.ok().lines(), ["1", "2", "3"]);
    let out = dsx(&["read", url, "--format", "raw", "--jq", ".n"]).await;
    out.expect_code(1);
    assert!(out.stdout.is_empty(), "{out:#?}");
    assert!(
        out.stderr.contains("--jq cannot be used with --format raw"),
        "{out:#?}"
    );
    // batches: each batch's line carries what the filter yields for its
    // messages, with the batch's offset.
    let out = dsx(&[
        "read",
        url,
        "--format",
        "batches",
        "--jq",
        "select(.n != 2) | .n",
    ])
    .await;
    let mut yielded = Vec::new();
    for line in out.ok().lines() {
        let batch: serde_json::Value =
            serde_json::from_str(line).expect("a JSON line");
        assert!(batch["offset"].is_string(), "{line}");
        for m in batch["messages"].as_array().expect("messages") {
            yielded.push(m.as_u64().expect("a number"));
        }
    }
    assert_eq!(yielded, [1, 3]);
}

/// `dsx read s | head -c 16`: the reader goes away mid-read (or while a
/// live read waits) and dsx stops at once, quietly, with exit 0.
async fn closed_pipe_stops_quietly(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("read-pipe");
    let stream = create_at(&client, &url, "application/octet-stream").await;
    // Far more than a pipe buffer holds, so dsx is still writing.
    append(&stream, vec![b'x'; 4 * 1024 * 1024]).await;
    let mut read = Running::spawn(&["read", &url, "--format", "raw"]);
    assert_eq!(read.bytes(16, WAIT).await, vec![b'x'; 16]);
    read.close_stdout();
    let (code, stderr) = read.finish(WAIT).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stderr.is_empty(), "not quiet: {stderr}");

    // `dsx read s -f | head -1`: a live read waiting for data notices the
    // reader leave without anything else being appended.
    let mut read = Running::spawn(&["read", &url, "-f", "--from", "now"]);
    tokio::time::sleep(SETTLE).await;
    append(&stream, "y\n").await;
    assert_eq!(read.bytes(2, WAIT).await, b"y\n");
    read.close_stdout();
    let (code, stderr) = read.finish(WAIT).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stderr.is_empty(), "not quiet: {stderr}");
}

/// `--from-bookmark` starts at a bookmark saved (by the explorer's API)
/// for this stream; an unknown name exits 2 listing the known ones.
async fn from_bookmark(server: TestServer) {
    let (stream, after_first) = json_stream(&server, "read-mark").await;
    let url = stream.url().as_str();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut marks = Bookmarks::default();
    marks
        .add(
            url,
            Bookmark {
                name: "second".into(),
                offset: after_first,
                position: 0,
                created_at: "2026-01-01T00:00:00Z".into(),
            },
        )
        .expect("add");
    marks
        .save(&dir.path().join("bookmarks.json"))
        .expect("save");
    let with_marks = |args: &[&str]| {
        let mut command = command(args);
        command.env("DSX_DATA_DIR", dir.path());
        command
    };
    let out = run(
        with_marks(&["read", url, "--from-bookmark", "second"]),
        None,
    )
    .await;
    let lines = out.ok().lines();
    assert_eq!(lines.len(), 2, "{out:#?}");
    assert_eq!(parse(lines[0])["n"], 2);
    let out =
        run(with_marks(&["read", url, "--from-bookmark", "nope"]), None).await;
    out.expect_code(2);
    assert!(out.stderr.contains("second"), "known names: {out:#?}");
    let other = server.fresh_url("read-mark-none");
    create_at(&server.client(), &other, "application/json").await;
    let out = run(
        with_marks(&["read", &other, "--from-bookmark", "second"]),
        None,
    )
    .await;
    out.expect_code(2);
    assert!(out.stderr.contains("none"), "{out:#?}");
    let out = dsx(&["read", url, "--from-bookmark", "a", "--from", "-1"]).await;
    out.expect_code(1);
}

/// Ten JSON messages `{"n":1}` .. `{"n":10}`, one append each; returns
/// the stream and the offset after each message.
async fn ten_messages(
    server: &TestServer,
    prefix: &str,
) -> (DurableStream, Vec<String>) {
    let client = server.client();
    let stream =
        create_at(&client, &server.fresh_url(prefix), "application/json").await;
    let mut after = Vec::new();
    for n in 1..=10 {
        let offset = append(&stream, format!("{{\"n\":{n}}}")).await;
        after.push(offset.as_str().to_owned());
    }
    (stream, after)
}

fn numbers(out: &support::cli::Output) -> Vec<i64> {
    out.lines()
        .into_iter()
        .map(|line| parse(line)["n"].as_i64().expect("n"))
        .collect()
}

/// `--until-offset` stops just before an offset, `--until-bookmark` just
/// after the bookmarked message, even where the read's one response runs
/// past the end (the end is found by counting, offsets compared only for
/// equality); a reversed range is refused.
async fn until_offset_and_bookmark(server: TestServer) {
    let (stream, after) = ten_messages(&server, "read-until").await;
    let url = stream.url().as_str();
    let out = dsx(&["read", url, "--until-offset", &after[4]]).await;
    assert_eq!(numbers(out.ok()), [1, 2, 3, 4, 5], "{out:#?}");
    let out = dsx(&[
        "read",
        url,
        "--from",
        &after[1],
        "--until-offset",
        &after[6],
    ])
    .await;
    assert_eq!(numbers(out.ok()), [3, 4, 5, 6, 7], "{out:#?}");
    let out = dsx(&["read", url, "--until-offset", &after[9]]).await;
    assert_eq!(numbers(out.ok()).len(), 10);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut marks = Bookmarks::default();
    for (name, offset, position) in [
        ("a", &after[1], 0),
        ("b", &after[4], 1),
        ("c", &after[0], 7),
    ] {
        let bookmark = Bookmark {
            name: name.into(),
            offset: offset.clone(),
            position,
            created_at: "2026-01-01T00:00:00Z".into(),
        };
        marks.add(url, bookmark).expect("add");
    }
    marks
        .save(&dir.path().join("bookmarks.json"))
        .expect("save");
    let with_marks = |args: &[&str]| {
        let mut command = command(args);
        command.env("DSX_DATA_DIR", dir.path());
        command
    };
    // a: message 3; b: message 7 (the second after the fifth).
    let args = ["read", url, "--from-bookmark", "a", "--until-bookmark", "b"];
    let out = run(with_marks(&args), None).await;
    assert_eq!(numbers(out.ok()), [3, 4, 5, 6, 7], "{out:#?}");
    // c is message 9, named from an earlier offset: later than b.
    let args = ["read", url, "--from-bookmark", "c", "--until-bookmark", "c"];
    let out = run(with_marks(&args), None).await;
    assert_eq!(numbers(out.ok()), [9], "{out:#?}");
    let args = ["read", url, "--from-bookmark", "c", "--until-bookmark", "b"];
    let out = run(with_marks(&args), None).await;
    out.expect_code(1);
    assert!(out.stderr.contains("before its start"), "{out:#?}");
    let out = dsx(&["read", url, "--until-offset", &after[2], "-f"]).await;
    out.expect_code(1);
}

/// A text stream's range is counted in bytes.
async fn until_offset_in_a_text_stream(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("read-until-text");
    let stream = create_at(&client, &url, "text/plain").await;
    append(&stream, "one\n").await;
    let second = append(&stream, "two\n").await;
    append(&stream, "three\n").await;
    let out = dsx(&["read", &url, "--until-offset", second.as_str()]).await;
    assert_eq!(out.ok().stdout, "one\ntwo\n");
}

async fn missing_stream_exits_2(server: TestServer) {
    let url = server.fresh_url("read-missing");
    for format in ["raw", "ndjson"] {
        let out = dsx(&["read", &url, "--format", format]).await;
        out.expect_code(2);
        assert!(out.stderr.contains("404"), "{out:#?}");
    }
}

server_tests!(
    ndjson_is_one_message_per_line,
    batches_carry_offset_and_flags,
    raw_and_text_batches,
    start_offsets,
    live_sse,
    live_long_poll,
    until_conditions,
    jq_filters_each_message,
    jq_refuses_a_deep_message_and_keeps_the_others,
    jq_failures_are_capped_and_counted,
    jq_with_a_format,
    closed_pipe_stops_quietly,
    from_bookmark,
    until_offset_and_bookmark,
    until_offset_in_a_text_stream,
    missing_stream_exits_2,
);

#[tokio::test]
async fn unreachable_server_exits_4() {
    let url = format!("http://127.0.0.1:{}/v1/stream/s", dead_port());
    let out = dsx(&["read", &url, "--format", "raw"]).await;
    out.expect_code(4);
    assert!(out.stderr.contains("network"), "{out:#?}");
}

/// With stderr on a terminal (and stdout not), a long read draws a progress
/// line there and erases it when it stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_line_on_a_terminal() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    let server = TestServer::start(support::Kind::Embedded).await;
    let url = server.fresh_url("read-progress");
    let stream = create_at(&server.client(), &url, "text/plain").await;
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut shell = CommandBuilder::new("sh");
    let script = format!(
        "exec '{}' read '{url}' -f --format raw > /dev/null",
        env!("CARGO_BIN_EXE_dsx")
    );
    shell.args(["-c", &script]);
    shell.env_remove("STREAM_URL");
    let mut child = pty.slave.spawn_command(shell).expect("spawn in pty");
    drop(pty.slave);
    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pty.master.try_clone_reader().expect("pty reader");
    let sink = Arc::clone(&screen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let seen = |what: &str| {
        String::from_utf8_lossy(&screen.lock().unwrap()).contains(what)
    };
    // The line appears only for reads longer than half a second.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut drawn = false;
    for _ in 0..40 {
        append(&stream, "hello\n").await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        if seen("read ") && seen("B/s") {
            drawn = true;
            break;
        }
    }
    let shown = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    assert!(drawn, "no progress line: {shown:?}");
    let mut keys = pty.master.take_writer().expect("pty writer");
    keys.write_all(b"\x03").expect("Ctrl-C");
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().expect("try_wait");
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = status.expect("dsx exits on Ctrl-C");
    assert_eq!(status.exit_code(), 130);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shown = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    assert!(shown.ends_with("\r\x1b[K"), "line not erased: {shown:?}");
}
