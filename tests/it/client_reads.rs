//! Client integration tests: every live mode (Off, Auto, `LongPoll`, Sse) on
//! JSON, text and binary streams, from offsets -1, now and mid-stream, and
//! closure (EOF) in each mode.

use crate::support;

use std::time::Duration;

use dsx::client::{CloseOptions, DurableStream, LiveMode, Offset};
use support::{
    Body, Recorder, TestServer, WAIT, create_at, numbers_of, read_opts,
    try_append, within,
};

/// Long enough for a live read to have its request in flight at the server.
/// (If a poll expires meanwhile, the next one starts at the tail it was
/// told, so nothing appended after that is missed.)
const SETTLE: Duration = Duration::from_millis(400);

async fn append(stream: &DurableStream, body: Body, n: u32) -> Offset {
    try_append(stream, body.message(n))
        .await
        .unwrap_or_else(|e| panic!("append {n}: {e}"))
        .next_offset
}

/// The whole read contract for one content kind in one live mode.
async fn roundtrip(server: TestServer, body: Body, live: LiveMode) {
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let url = server.fresh_url(&format!("rt-{body:?}-{live:?}").to_lowercase());
    let stream = create_at(&client, &url, body.content_type()).await;
    let after_first = append(&stream, body, 0).await;
    append(&stream, body, 1).await;
    let tail = append(&stream, body, 2).await;

    // Catch-up reads run to their end; live ones stop once all arrived.
    let want = |n| (live != LiveMode::Off).then_some(n);

    // From the start (-1).
    let from_start = body
        .read(&stream, read_opts(Offset::START, live), want(3), WAIT)
        .await
        .ok();
    assert_eq!(from_start.numbers, numbers_of(0..3), "from -1");
    let caught_up = from_start.metas.iter().rev().find(|m| !m.partial);
    let caught_up = caught_up.expect("a complete item");
    assert_eq!(caught_up.offset, tail, "offset after the last message");
    assert!(caught_up.up_to_date, "up to date at the tail");
    assert!(!caught_up.stream_closed, "the stream is open");
    if live == LiveMode::Off {
        assert!(from_start.ended, "a catch-up read ends at the tail");
    }

    // From a mid-stream offset taken from an append result.
    let from_mid = body
        .read(&stream, read_opts(after_first.clone(), live), want(2), WAIT)
        .await
        .ok();
    assert_eq!(from_mid.numbers, numbers_of(1..3), "from mid-stream");
    assert_eq!(from_mid.metas[0].start_offset, after_first);

    // From now: nothing old; in live modes, what is appended next. The
    // offset to resume from afterwards is the read's own checkpoint.
    let checkpoint = if live == LiveMode::Off {
        let now = body
            .read(&stream, read_opts(Offset::NOW, live), None, WAIT)
            .await
            .ok();
        assert!(now.numbers.is_empty(), "now skips existing data");
        assert!(now.ended);
        if let Some(last) = now.metas.last() {
            assert_eq!(last.offset, tail);
            assert!(last.up_to_date);
        }
        append(&stream, body, 3).await
    } else {
        let reader = stream.clone();
        let waiting = tokio::spawn(async move {
            body.read(&reader, read_opts(Offset::NOW, live), Some(1), WAIT)
                .await
        });
        tokio::time::sleep(SETTLE).await;
        append(&stream, body, 3).await;
        let now = within(WAIT, "read from now", waiting)
            .await
            .expect("reader task")
            .ok();
        assert_eq!(now.numbers, vec![3], "from now sees only the new data");
        let resumable = now.metas.iter().rev().find(|m| !m.partial);
        resumable.expect("a resumable item").offset.clone()
    };
    let head = within(WAIT, "head", stream.head()).await.expect("head");
    assert_eq!(checkpoint, head.next_offset, "the checkpoint is the tail");

    // Closure observed by a reader that waits at the checkpoint.
    let tail = checkpoint;
    let closing = if live == LiveMode::Off {
        None
    } else {
        let reader = stream.clone();
        let tail = tail.clone();
        Some(tokio::spawn(async move {
            body.read(&reader, read_opts(tail, live), None, WAIT).await
        }))
    };
    tokio::time::sleep(SETTLE).await;
    append(&stream, body, 4).await;
    let closed = within(WAIT, "close", stream.close(CloseOptions::default()))
        .await
        .expect("close");
    if let Some(task) = closing {
        let got = within(WAIT, "live read to EOF", task)
            .await
            .expect("reader task")
            .ok();
        assert_eq!(got.numbers, vec![4], "the waiting reader saw the append");
        assert!(got.ended, "the live read ends at EOF");
        assert!(got.last().stream_closed, "EOF is reported");
        assert_eq!(got.last().offset, closed.final_offset);
    }

    // A closed stream read from -1: all data, then EOF, in every mode.
    let all = body
        .read(&stream, read_opts(Offset::START, live), None, WAIT)
        .await
        .ok();
    assert_eq!(all.numbers, numbers_of(0..5));
    assert!(all.ended, "the read of a closed stream ends");
    assert!(all.last().stream_closed, "stream_closed on the last item");
    assert_eq!(all.last().offset, closed.final_offset);
    assert!(all.metas.iter().rev().skip(1).all(|m| !m.stream_closed));

    // From now on a closed stream: EOF at once, with no long-poll hold.
    let started = std::time::Instant::now();
    let now = body
        .read(&stream, read_opts(Offset::NOW, live), None, WAIT)
        .await
        .ok();
    assert!(
        started.elapsed() < support::LONG_POLL,
        "EOF at the tail of a closed stream must not wait ({:?})",
        started.elapsed()
    );
    assert!(now.numbers.is_empty());
    assert!(now.ended);
    assert!(now.last().stream_closed);
    assert_eq!(now.last().offset, closed.final_offset);

    check_transport(&recorder, body, live);
}

/// The mode picked the transport it promises: `live=sse` for Sse (and Auto
/// on JSON and text), `live=long-poll` for `LongPoll` (and Auto on binary), no
/// `live` for Off.
fn check_transport(recorder: &Recorder, body: Body, live: LiveMode) {
    let reads: Vec<String> = recorder
        .events()
        .into_iter()
        .filter(|e| e.method == "GET")
        .map(|e| e.url)
        .collect();
    assert!(!reads.is_empty(), "the observer saw the reads");
    let expected = match (live, body) {
        (LiveMode::Off, _) => None,
        (LiveMode::Sse, _) | (LiveMode::Auto, Body::Json | Body::Text) => {
            Some("live=sse")
        }
        (LiveMode::LongPoll, _) | (LiveMode::Auto, Body::Binary) => {
            Some("live=long-poll")
        }
    };
    match expected {
        None => assert!(
            reads.iter().all(|u| !u.contains("live=")),
            "catch-up reads must not ask for live: {reads:?}"
        ),
        Some(param) => assert!(
            reads.iter().any(|u| u.contains(param)),
            "{live:?} on {body:?} should use {param}: {reads:?}"
        ),
    }
}

async fn json_off(server: TestServer) {
    roundtrip(server, Body::Json, LiveMode::Off).await;
}
async fn json_auto(server: TestServer) {
    roundtrip(server, Body::Json, LiveMode::Auto).await;
}
async fn json_long_poll(server: TestServer) {
    roundtrip(server, Body::Json, LiveMode::LongPoll).await;
}
async fn json_sse(server: TestServer) {
    roundtrip(server, Body::Json, LiveMode::Sse).await;
}
async fn text_off(server: TestServer) {
    roundtrip(server, Body::Text, LiveMode::Off).await;
}
async fn text_auto(server: TestServer) {
    roundtrip(server, Body::Text, LiveMode::Auto).await;
}
async fn text_long_poll(server: TestServer) {
    roundtrip(server, Body::Text, LiveMode::LongPoll).await;
}
async fn text_sse(server: TestServer) {
    roundtrip(server, Body::Text, LiveMode::Sse).await;
}
async fn binary_off(server: TestServer) {
    roundtrip(server, Body::Binary, LiveMode::Off).await;
}
async fn binary_auto(server: TestServer) {
    roundtrip(server, Body::Binary, LiveMode::Auto).await;
}
async fn binary_long_poll(server: TestServer) {
    roundtrip(server, Body::Binary, LiveMode::LongPoll).await;
}
async fn binary_sse(server: TestServer) {
    roundtrip(server, Body::Binary, LiveMode::Sse).await;
}

/// Catch-up from `now` on a JSON stream is an empty batch, never an
/// error, and a read from the tail offset is the same.
async fn json_empty_reads(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("json-empty");
    let stream = create_at(&client, &url, "application/json").await;
    let body = Body::Json;
    let empty = body.read_all(&stream).await.ok();
    assert!(empty.numbers.is_empty());
    assert!(empty.ended);
    let tail = append(&stream, body, 0).await;
    let at_tail = body
        .read(&stream, read_opts(tail.clone(), LiveMode::Off), None, WAIT)
        .await
        .ok();
    assert!(at_tail.numbers.is_empty());
    assert!(at_tail.ended);
    if let Some(last) = at_tail.metas.last() {
        assert_eq!(last.offset, tail);
        assert!(last.up_to_date);
    }
}

server_tests!(
    json_off,
    json_auto,
    json_long_poll,
    json_sse,
    text_off,
    text_auto,
    text_long_poll,
    text_sse,
    binary_off,
    binary_auto,
    binary_long_poll,
    binary_sse,
    json_empty_reads,
);
