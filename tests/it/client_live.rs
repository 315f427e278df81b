//! Client integration tests: live sessions over time. Exactly-once delivery
//! across many appends, sessions that outlast several long-poll holds (with
//! the cursor echoed), and read sessions that stop when dropped.

use crate::support;

use std::time::Duration;

use dsx::client::{AppendOptions, LiveMode, Offset};
use futures::StreamExt;
use support::{
    Body, LONG_POLL, Recorder, TestServer, WAIT, append, create, header,
    numbers_of, read_opts, within,
};

/// Appends numbered messages `0..total` in small groups with uneven pauses
/// (some longer than the long-poll hold), while a long-poll and an SSE
/// reader, both started before the first append, collect them.
async fn exactly_once(server: support::TestServer, body: Body) {
    const TOTAL: u32 = 60;
    let client = server.client();
    let stream = create(&server, &client, body, "once").await;
    let limit = Duration::from_secs(40);
    let readers: Vec<_> = [LiveMode::LongPoll, LiveMode::Sse]
        .into_iter()
        .map(|live| {
            let reader = stream.clone();
            let want = usize::try_from(TOTAL).expect("fits");
            tokio::spawn(async move {
                let options = read_opts(Offset::START, live);
                (live, body.read(&reader, options, Some(want), limit).await)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut n = 0;
    let mut round = 0u32;
    while n < TOTAL {
        // Groups of 1..=3 messages: single appends and one-request batches.
        let group = (round % 3 + 1).min(TOTAL - n);
        let data = if group == 1 {
            body.message(n)
        } else {
            body.batch(n..n + group)
        };
        append(&stream, data).await;
        n += group;
        round += 1;
        let pause = match round % 10 {
            0 => LONG_POLL + Duration::from_millis(150),
            3 | 7 => Duration::from_millis(40),
            _ => Duration::ZERO,
        };
        tokio::time::sleep(pause).await;
    }

    for reader in readers {
        let (live, got) =
            within(limit, "reader", reader).await.expect("reader task");
        let got = got.ok();
        assert_eq!(
            got.numbers,
            numbers_of(0..TOTAL),
            "{live:?} reader: every message once, in order"
        );
        assert!(!got.ended, "{live:?}: an open stream's live read goes on");
    }
}

async fn exactly_once_json(server: TestServer) {
    exactly_once(server, Body::Json).await;
}

async fn exactly_once_binary(server: TestServer) {
    exactly_once(server, Body::Binary).await;
}

async fn exactly_once_text(server: TestServer) {
    exactly_once(server, Body::Text).await;
}

/// A long-poll session spans several holds that end in 204, sees each
/// append, and echoes the server's cursor on the next request.
async fn long_poll_session_progress(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let body = Body::Binary;
    let stream = create(&server, &client, body, "lp-progress").await;
    let start = append(&stream, body.message(0)).await;
    let reader = stream.clone();
    let task = tokio::spawn(async move {
        let options = read_opts(start, LiveMode::LongPoll);
        body.read(&reader, options, Some(4), Duration::from_secs(20))
            .await
    });
    for n in 1..=4 {
        // Longer than the hold: the poll in flight answers 204 first.
        tokio::time::sleep(LONG_POLL + Duration::from_millis(200)).await;
        append(&stream, body.message(n)).await;
    }
    let got = within(WAIT, "reader", task).await.expect("task").ok();
    assert_eq!(got.numbers, numbers_of(1..5));
    assert!(
        got.metas.iter().any(|m| m.cursor.is_some()),
        "live items carry the server's cursor: {:?}",
        got.metas
    );

    let polls: Vec<_> = recorder
        .with_method("GET")
        .into_iter()
        .filter(|e| e.url.contains("live=long-poll"))
        .collect();
    assert!(polls.len() >= 5, "one poll per append at least: {polls:?}");
    assert!(
        polls.iter().any(|e| e.status == Some(204)),
        "some polls timed out with 204: {:?}",
        polls.iter().map(|e| e.status).collect::<Vec<_>>()
    );
    let mut echoed = 0;
    for pair in polls.windows(2) {
        if let Some(cursor) = header(&pair[0], "stream-cursor") {
            let expected = format!("cursor={cursor}");
            assert!(
                pair[1].url.contains(&expected),
                "the next poll echoes {expected}: {}",
                pair[1].url
            );
            echoed += 1;
        }
    }
    assert!(echoed >= 4, "cursors were echoed across the session");
}

/// An SSE session stays open across pauses longer than the server's
/// keep-alive, seeing each append as it happens.
async fn sse_session_progress(server: TestServer) {
    let client = server.client();
    let body = Body::Json;
    let stream = create(&server, &client, body, "sse-progress").await;
    let mut session = stream
        .read_json::<serde_json::Value>(read_opts(Offset::NOW, LiveMode::Sse));
    for n in 0..4u32 {
        let appender = stream.clone();
        let append = tokio::spawn(async move {
            tokio::time::sleep(LONG_POLL + Duration::from_millis(100)).await;
            appender
                .append(body.message(n), AppendOptions::default())
                .await
        });
        let got = support::reads::read_while(&mut session, WAIT, |items, _| {
            !items.is_empty()
        })
        .await
        .ok();
        assert_eq!(got.data.len(), 1, "one message per append");
        assert_eq!(got.data[0]["n"], n);
        assert!(got.metas.iter().any(|m| m.cursor.is_some()));
        within(WAIT, "append task", append)
            .await
            .expect("task")
            .expect("append");
    }
}

/// Dropping a live read session (long-poll or SSE) stops its requests;
/// the server keeps answering.
async fn dropped_read_stops(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let body = Body::Binary;
    let stream = create(&server, &client, body, "drop").await;
    for live in [LiveMode::LongPoll, LiveMode::Sse] {
        let reader = stream.clone();
        let (first_tx, first_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut session = reader.read_bytes(read_opts(Offset::NOW, live));
            // Skip items without data (a client may report up-to-date
            // or a poll timeout as an empty item).
            let mut first = None;
            for _ in 0..100 {
                match session.next().await {
                    Some(Ok(c)) if c.data.is_empty() => {}
                    other => {
                        first = other.map(|r| r.map(|c| c.data));
                        break;
                    }
                }
            }
            let _ = first_tx.send(first);
            // Keep reading until aborted.
            while let Some(item) = session.next().await {
                item.expect("no error while reading");
            }
        });
        // Let the read from `now` reach the server before appending.
        tokio::time::sleep(Duration::from_millis(400)).await;
        append(&stream, body.message(1)).await;
        let first = within(WAIT, "first item", first_rx)
            .await
            .expect("reader sent its first item")
            .expect("an item")
            .expect("no error");
        assert_eq!(first, body.message(1), "{live:?}");
        task.abort();
        let aborted = within(WAIT, "abort", task).await;
        assert!(aborted.is_err_and(|e| e.is_cancelled()), "{live:?}");

        let before = recorder.events().len();
        tokio::time::sleep(LONG_POLL * 3).await;
        let after = recorder.events().len();
        assert!(
            after <= before + 1,
            "{live:?}: {} requests after the session was dropped",
            after - before
        );
    }
    let meta = within(WAIT, "head", stream.head()).await.expect("head");
    assert!(!meta.closed);

    // Dropping a session that never got anything is fine as well.
    let session = stream.read_json::<serde_json::Value>(read_opts(
        Offset::START,
        LiveMode::Sse,
    ));
    drop(session);
    within(WAIT, "head", stream.head()).await.expect("head");
}

server_tests!(
    exactly_once_json,
    exactly_once_binary,
    exactly_once_text,
    long_poll_session_progress,
    sse_session_progress,
    dropped_read_stops,
);

/// SSE sessions outlive the server's connection lifetime: each reconnect
/// resumes at the last control event's offset and echoes its cursor, and
/// every message arrives once. Only the embedded server can shorten the
/// lifetime (the official servers keep a connection about a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_reconnects_resume() {
    let server = TestServer::start_embedded(dsx::server::ServerConfig {
        long_poll_timeout: LONG_POLL,
        sse_max_duration: Duration::from_millis(600),
        ..dsx::server::ServerConfig::default()
    })
    .await;
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let body = Body::Json;
    let stream = create(&server, &client, body, "sse-reconnect").await;
    let reader = stream.clone();
    let task = tokio::spawn(async move {
        let options = read_opts(Offset::START, LiveMode::Sse);
        body.read(&reader, options, Some(12), Duration::from_secs(20))
            .await
    });
    for n in 0..12 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        append(&stream, body.message(n)).await;
    }
    let got = within(WAIT, "reader", task).await.expect("task").ok();
    assert_eq!(got.numbers, numbers_of(0..12), "every message once");

    let events = recorder.events();
    let connects: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.method == "GET" && e.url.contains("live=sse"))
        .map(|(i, _)| i)
        .collect();
    assert!(
        connects.len() >= 3,
        "2.4 s of 600 ms connections: {} SSE requests",
        connects.len()
    );
    for &at in &connects[1..] {
        let control = events[..at]
            .iter()
            .rev()
            .find(|e| e.method == "SSE")
            .expect("a control event before the reconnect");
        let url = &events[at].url;
        let offset = header(control, "stream-next-offset").expect("offset");
        assert!(url.contains(&format!("offset={offset}")), "{url}");
        if let Some(cursor) = header(control, "stream-cursor") {
            assert!(url.contains(&format!("cursor={cursor}")), "{url}");
        }
    }
}
