//! Client integration tests with injected faults: retries that succeed after
//! 503/429/dropped connections, and the typed errors when they do not
//! (`RateLimited`, Status, Timeout, Decode).
//!
//! Only the embedded server (started with test hooks) and the Node reference
//! server have `/_test/inject-error`; the official Rust server has no fault
//! hook, so these tests exist in `embedded` and `node` variants only
//! (`fault_tests!`).

use crate::support;

use std::time::{Duration, Instant};

use dsx::client::{
    AppendOptions, Client, Error, IdempotentProducer, LiveMode, Offset,
    ProducerOptions,
};
use support::{
    Body, Fault, Recorder, TestServer, WAIT, append, create, fast_retry,
    numbers_of, read_opts, recording, try_append, within,
};

fn statuses(recorder: &Recorder, method: &str) -> Vec<Option<u16>> {
    recorder
        .with_method(method)
        .iter()
        .map(|e| e.status)
        .collect()
}

/// Two 503s on append, then success: the data is stored once and every
/// attempt was observed.
async fn append_retries_503(server: TestServer) {
    let (client, recorder) = recording(4);
    let body = Body::Text;
    let stream = create(&server, &client, body, "retry-503").await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::status(503).count(2).method("POST"))
        .await;
    try_append(&stream, body.message(0))
        .await
        .expect("append succeeds after two 503s");
    assert_eq!(
        statuses(&recorder, "POST"),
        vec![Some(503), Some(503), Some(204)]
    );
    assert_eq!(body.read_all(&stream).await.ok().numbers, vec![0]);
}

/// 429 with Retry-After: retried after (at least about) that long.
async fn retries_429_with_retry_after(server: TestServer) {
    // Retry-After is honoured up to the policy's max_backoff: allow 2 s.
    let recorder = Recorder::default();
    let client = recorder
        .builder()
        .retry(dsx::client::RetryPolicy {
            max_backoff: Duration::from_secs(2),
            ..fast_retry(3)
        })
        .build()
        .expect("client");
    let body = Body::Json;
    let stream = create(&server, &client, body, "retry-429").await;
    append(&stream, body.message(0)).await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::status(429).retry_after(1).method("GET"))
        .await;
    let started = Instant::now();
    let got = body.read_all(&stream).await.ok();
    assert_eq!(got.numbers, vec![0]);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was honoured ({:?})",
        started.elapsed()
    );
    assert_eq!(statuses(&recorder, "GET"), vec![Some(429), Some(200)]);
}

/// A dropped connection is retried when replaying is safe: reads, and
/// appends carrying `Stream-Seq` (the server refuses a duplicate). A
/// plain append is replayed only when the client opted in, since the
/// server may already have stored it.
async fn retries_dropped_connection(server: TestServer) {
    let (client, recorder) = recording(3);
    let body = Body::Binary;
    let stream = create(&server, &client, body, "retry-drop").await;
    let url = stream.url().to_string();

    server
        .inject(&url, Fault::drop_connection().method("POST"))
        .await;
    let seq = AppendOptions {
        seq: Some("0001".to_owned()),
        ..AppendOptions::default()
    };
    within(WAIT, "append", stream.append(body.message(7), seq))
        .await
        .expect("a Stream-Seq append is replayed after a drop");
    let posts = recorder.with_method("POST");
    assert_eq!(posts.len(), 2, "one failed and one good attempt");
    assert!(posts[0].error.is_some() && posts[0].status.is_none());

    server
        .inject(&url, Fault::drop_connection().method("GET"))
        .await;
    assert_eq!(body.read_all(&stream).await.ok().numbers, vec![7]);

    server
        .inject(&url, Fault::drop_connection().method("POST"))
        .await;
    let plain = try_append(&stream, body.message(8)).await;
    assert!(
        matches!(plain, Err(Error::Network { .. })),
        "a plain append is not replayed by default: {plain:?}"
    );

    let opted_in = Client::builder()
        .retry(fast_retry(3))
        .retry_appends_after_drop(true)
        .build()
        .expect("client");
    let same = opted_in.stream(&url).expect("url");
    server
        .inject(&url, Fault::drop_connection().method("POST"))
        .await;
    try_append(&same, body.message(9))
        .await
        .expect("replayed after the drop when opted in");
    assert_eq!(body.read_all(&stream).await.ok().numbers, vec![7, 9]);
}

/// Reads retry too: a catch-up GET and a long-poll GET after 503s.
async fn reads_retry_503(server: TestServer) {
    let (client, _recorder) = recording(4);
    let body = Body::Binary;
    let stream = create(&server, &client, body, "read-503").await;
    let tail = append(&stream, body.message(0)).await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::status(503).count(2).method("GET"))
        .await;
    assert_eq!(body.read_all(&stream).await.ok().numbers, vec![0]);

    server
        .inject(&url, Fault::status(500).count(2).method("GET"))
        .await;
    let reader = stream.clone();
    let task = tokio::spawn(async move {
        let options = read_opts(tail, LiveMode::LongPoll);
        body.read(&reader, options, Some(1), WAIT).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    append(&stream, body.message(1)).await;
    let got = within(WAIT, "reader", task).await.expect("task").ok();
    assert_eq!(got.numbers, vec![1]);
}

/// The producer's batches are retried after 503 and land once.
async fn producer_retries_503(server: TestServer) {
    let (client, _recorder) = recording(4);
    let body = Body::Json;
    let stream = create(&server, &client, body, "producer-503").await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::status(503).count(2).method("POST"))
        .await;
    let producer = IdempotentProducer::new(
        stream.clone(),
        "retrying",
        ProducerOptions::default(),
    );
    for n in 0..10 {
        within(WAIT, "append", producer.append(body.message(n)))
            .await
            .expect("queue");
    }
    within(WAIT, "flush", producer.flush())
        .await
        .expect("flush");
    assert_eq!(body.read_all(&stream).await.ok().numbers, numbers_of(0..10));
}

/// 429s that outlast the retries: `RateLimited`, after every attempt.
async fn rate_limited(server: TestServer) {
    let (client, recorder) = recording(3);
    let body = Body::Text;
    let stream = create(&server, &client, body, "rate-limited").await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::status(429).count(10).method("POST"))
        .await;
    let result = try_append(&stream, body.message(0)).await;
    match result {
        Err(Error::RateLimited { url: u, .. }) => assert_eq!(u, url),
        other => panic!("429 after all retries: {other:?}"),
    }
    assert_eq!(statuses(&recorder, "POST"), vec![Some(429); 3]);
}

/// 5xx that outlast the retries, and a status that is never retried:
/// Status errors with the status.
async fn status_errors(server: TestServer) {
    let (client, recorder) = recording(3);
    let body = Body::Text;
    let stream = create(&server, &client, body, "status").await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::status(503).count(10).method("HEAD"))
        .await;
    let result = within(WAIT, "head", stream.head()).await;
    assert!(
        matches!(result, Err(Error::Status { status: 503, .. })),
        "503 after all retries: {result:?}"
    );
    assert_eq!(statuses(&recorder, "HEAD"), vec![Some(503); 3]);

    recorder.clear();
    server
        .inject(&url, Fault::status(418).count(10).method("POST"))
        .await;
    let result = try_append(&stream, body.message(0)).await;
    match result {
        Err(Error::Status {
            status: 418,
            message,
            ..
        }) => {
            assert!(!message.is_empty());
        }
        other => panic!("418: {other:?}"),
    }
    assert_eq!(statuses(&recorder, "POST"), vec![Some(418)], "no retry");
}

/// A response slower than the client's timeout: Timeout, promptly.
async fn timeout(server: TestServer) {
    let client = Client::builder()
        .timeout(Duration::from_millis(300))
        .retry(fast_retry(1))
        .build()
        .expect("client");
    let body = Body::Text;
    let stream = create(&server, &client, body, "timeout").await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::delay_ms(3000).count(5).method("HEAD"))
        .await;
    let started = Instant::now();
    let result = within(WAIT, "head", stream.head()).await;
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "delay beyond the timeout: {result:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(2500));
}

/// A corrupted JSON body in a catch-up is read again (a GET is safe to
/// repeat; issue 9 point 10): once bad, the read still gets everything,
/// once each. Bad on every try allowed by the retry policy (3 here), it is
/// a Decode error after exactly that many GETs; the next read succeeds.
async fn decode_corrupt_json(server: TestServer) {
    let (client, recorder) = recording(3);
    let body = Body::Json;
    let stream = create(&server, &client, body, "corrupt").await;
    for n in 0..20 {
        append(&stream, body.message(n)).await;
    }
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::corrupt_body().method("GET"))
        .await;
    recorder.clear();
    let read = body.read_all(&stream).await;
    assert_eq!(read.ok().numbers, numbers_of(0..20), "read again once");
    assert_eq!(recorder.with_method("GET").len(), 2, "one re-read");

    server
        .inject(&url, Fault::corrupt_body().count(3).method("GET"))
        .await;
    recorder.clear();
    let broken = body.read_all(&stream).await;
    assert!(
        matches!(broken.error, Some(Error::Decode { .. })),
        "corrupt JSON body on every try: {:?}",
        broken.error
    );
    assert_eq!(recorder.with_method("GET").len(), 3, "bounded re-reads");
    assert_eq!(body.read_all(&stream).await.ok().numbers, numbers_of(0..20));
}

/// A malformed SSE control event is a Decode error; an unknown event
/// type is ignored.
async fn decode_sse_control(server: TestServer) {
    let client = server.client();
    let body = Body::Json;
    let stream = create(&server, &client, body, "sse-bad").await;
    append(&stream, body.message(0)).await;
    let url = stream.url().to_string();

    server
        .inject(
            &url,
            Fault::sse_event("mystery", "whatever")
                .count(2)
                .method("GET"),
        )
        .await;
    let got = body
        .read(
            &stream,
            read_opts(Offset::START, LiveMode::Sse),
            Some(1),
            WAIT,
        )
        .await
        .ok();
    assert_eq!(got.numbers, vec![0], "unknown SSE events are ignored");

    // Count 2 leaves one for a catch-up GET a client may make first.
    for bad in ["{not json", ""] {
        let fault = Fault::sse_event("control", bad).count(2).method("GET");
        server.inject(&url, fault).await;
        let options = read_opts(Offset::START, LiveMode::Sse);
        let got = body.read(&stream, options, Some(1), WAIT).await;
        assert!(
            matches!(got.error, Some(Error::Decode { .. })),
            "control event {bad:?}: {:?} (items {:?})",
            got.error,
            got.numbers
        );
    }
}

fault_tests!(
    append_retries_503,
    retries_429_with_retry_after,
    retries_dropped_connection,
    reads_retry_503,
    producer_retries_503,
    rate_limited,
    status_errors,
    timeout,
    decode_corrupt_json,
    decode_sse_control,
);

/// Connection refused on a port nothing listens on: Network, after the
/// retries.
#[tokio::test]
async fn network_error_on_closed_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    // The listener is dropped: the port is closed now.
    let (client, recorder) = recording(2);
    let url = format!("http://127.0.0.1:{port}/v1/stream/nowhere");
    let stream = client.stream(&url).expect("url");
    let result = within(WAIT, "head", stream.head()).await;
    match result {
        Err(Error::Network { url: u, .. }) => assert_eq!(u, url),
        other => panic!("connection refused: {other:?}"),
    }
    let heads = recorder.with_method("HEAD");
    assert_eq!(heads.len(), 2, "dropped connections are retried");
    assert!(
        heads
            .iter()
            .all(|e| e.status.is_none() && e.error.is_some())
    );
    let result = try_append(&stream, "x").await;
    assert!(matches!(result, Err(Error::Network { .. })), "{result:?}");
}
