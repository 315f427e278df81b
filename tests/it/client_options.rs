//! Client integration tests: client-wide options. Default headers, dynamic
//! headers and query parameters (evaluated once per operation, retries
//! included), the request observer, a caller's `reqwest::Client`, a base URL
//! and the first-request cursor.
//!
//! Headers are observed through their effect on a real server: `Stream-Seq`
//! sent as a default or dynamic header makes a repeated value a
//! `SequenceConflict`, which only happens if the header was sent.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dsx::client::{
    Client, CreateOptions, DurableStream, Error, EventKind, LiveMode, Offset,
    ReadOptions,
};
use support::{
    Fault, Recorder, TestServer, WAIT, fast_retry, try_append, within,
};

async fn create(client: &Client, url: &str) -> DurableStream {
    within(WAIT, "create", client.create(url, CreateOptions::default()))
        .await
        .expect("create")
}

async fn append(
    stream: &DurableStream,
    data: &'static str,
) -> dsx::client::Result<()> {
    try_append(stream, data).await.map(|_| ())
}

/// The whole stream, read in catch-up mode.
async fn read_all(stream: &DurableStream) -> Vec<u8> {
    let mut session =
        stream.read_bytes(support::read_opts(Offset::START, LiveMode::Off));
    support::reads::drain(&mut session, WAIT).await.ok().data
}

/// A dynamic `Stream-Seq` header counting its evaluations: each call
/// returns the next, strictly increasing value.
fn counting_seq(
    builder: dsx::client::ClientBuilder,
) -> (Client, Arc<AtomicU64>) {
    let calls = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&calls);
    let client = builder
        .dynamic_header("Stream-Seq", move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Ok(format!("{n:08}")) }
        })
        .build()
        .expect("client");
    (client, calls)
}

/// A default header goes out on every request.
async fn default_headers_are_sent(server: TestServer) {
    let client = Client::builder()
        .header("Stream-Seq", "00000001")
        .build()
        .expect("client");
    let stream = create(&client, &server.fresh_url("default-hdr")).await;
    append(&stream, "a").await.expect("first append with seq 1");
    let again = append(&stream, "b").await;
    assert!(
        matches!(again, Err(Error::SequenceConflict { .. })),
        "the same default Stream-Seq twice must conflict: {again:?}"
    );
}

/// A dynamic header is evaluated once per operation and its value sent.
async fn dynamic_headers_once_per_operation(server: TestServer) {
    let (client, calls) = counting_seq(Client::builder());
    let url = server.fresh_url("dyn-hdr");
    let stream = create(&client, &url).await;
    let after_create = calls.load(Ordering::SeqCst);
    assert_eq!(after_create, 1, "create evaluated it once");
    for (i, data) in ["a", "b", "c", "d"].into_iter().enumerate() {
        append(&stream, data).await.expect("increasing Stream-Seq");
        let expected = after_create + u64::try_from(i).expect("small") + 1;
        assert_eq!(calls.load(Ordering::SeqCst), expected);
    }
    within(WAIT, "head", stream.head()).await.expect("head");
    assert_eq!(calls.load(Ordering::SeqCst), after_create + 5);

    // A constant dynamic value shows the header really is sent.
    let constant = Client::builder()
        .dynamic_header("Stream-Seq", || async { Ok("99999999".to_owned()) })
        .build()
        .expect("client");
    let same = constant.stream(&url).expect("url");
    append(&same, "e").await.expect("seq 99999999");
    let again = append(&same, "f").await;
    assert!(
        matches!(again, Err(Error::SequenceConflict { .. })),
        "{again:?}"
    );
    assert_eq!(read_all(&stream).await, b"abcde");
}

/// A failing dynamic header fails the operation with its error, before
/// anything is sent.
async fn dynamic_header_error(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder
        .builder()
        .dynamic_header("Authorization", || async {
            Err(Error::InvalidArgument("no token".to_owned()))
        })
        .build()
        .expect("client");
    let stream = client.stream(&server.fresh_url("dyn-err")).expect("url");
    let result =
        within(WAIT, "create", stream.create(CreateOptions::default())).await;
    assert!(
        matches!(
            result,
            Err(Error::InvalidArgument(ref m)) if m.contains("no token")
        ),
        "{result:?}"
    );
    assert!(recorder.events().is_empty(), "nothing was sent");
}

/// A dynamic query parameter is evaluated once per operation and
/// appears in the request URL.
async fn dynamic_params(server: TestServer) {
    let recorder = Recorder::default();
    let calls = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&calls);
    let client = recorder
        .builder()
        .dynamic_param("trace", move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Ok(format!("t{n}")) }
        })
        .build()
        .expect("client");
    let stream = create(&client, &server.fresh_url("dyn-param")).await;
    append(&stream, "x").await.expect("append");
    within(WAIT, "head", stream.head()).await.expect("head");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let urls: Vec<String> =
        recorder.events().into_iter().map(|e| e.url).collect();
    assert_eq!(urls.len(), 3, "{urls:?}");
    for (i, url) in urls.iter().enumerate() {
        assert!(url.contains(&format!("trace=t{}", i + 1)), "{url}");
    }
}

/// The observer sees each exchange with method, URL, status, latency and
/// protocol headers.
async fn observer_sees_requests(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let url = server.fresh_url("observed");
    let stream = create(&client, &url).await;
    let appended = try_append(&stream, "x").await.expect("append");
    within(WAIT, "head", stream.head()).await.expect("head");
    within(WAIT, "delete", stream.delete())
        .await
        .expect("delete");
    let events = recorder.events();
    let summary: Vec<(String, Option<u16>)> = events
        .iter()
        .map(|e| (e.method.clone(), e.status))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("PUT".to_owned(), Some(201)),
            ("POST".to_owned(), Some(204)),
            ("HEAD".to_owned(), Some(200)),
            ("DELETE".to_owned(), Some(204)),
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.url.starts_with(&url) && e.error.is_none())
    );
    assert_eq!(
        support::header(&events[1], "stream-next-offset"),
        Some(appended.next_offset.as_str())
    );
}

/// Issue 12 (protocol inspector): the observer is told every request
/// header as sent, the body bytes (a catch-up read's once its body ended),
/// the live mode and attempt, and each SSE control event with the bytes of
/// the data it positions, numbered as its SSE request.
async fn observer_tells_headers_bytes_modes_and_controls(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder
        .builder()
        .header("X-Team", "blue")
        .build()
        .expect("client");
    let stream = create(&client, &server.fresh_url("told")).await;
    append(&stream, "hello").await.expect("append");
    assert_eq!(read_all(&stream).await, b"hello");
    let events = recorder.events();
    let post = events.iter().find(|e| e.method == "POST").expect("POST");
    assert_eq!(post.request_bytes, 5);
    assert_eq!(post.live, None);
    assert_eq!(post.attempt, 1);
    assert!(
        post.request_headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("x-team") && v == "blue"),
        "{:?}",
        post.request_headers
    );
    let get = events.iter().find(|e| e.method == "GET").expect("GET");
    assert_eq!(get.live, Some(LiveMode::Off));
    assert_eq!(get.body_bytes, Some(5), "told once the body ended");
    assert!(get.header("Stream-Next-Offset").is_some());
    // Every response header, not only the protocol's (servers differ in
    // which others they send: Date, Content-Length, X-Content-Type-Options).
    assert!(
        get.response_headers.len() > get.protocol_headers().count(),
        "every response header: {:?}",
        get.response_headers
    );

    recorder.clear();
    let mut session = stream.read_bytes(ReadOptions {
        offset: Offset::START,
        live: LiveMode::Sse,
        ..ReadOptions::default()
    });
    let got =
        support::reads::read_while(&mut session, WAIT, |d, _| d.len() >= 5)
            .await
            .ok();
    assert_eq!(got.data, b"hello");
    drop(session);
    let events = recorder.events();
    let sse = events
        .iter()
        .find(|e| e.method == "GET" && e.kind == EventKind::Exchange)
        .expect("the SSE GET");
    assert_eq!(sse.live, Some(LiveMode::Sse));
    let control = events
        .iter()
        .find(|e| e.kind == EventKind::Control)
        .expect("a control event");
    assert_eq!(control.id, sse.id, "numbered as its SSE request");
    assert_eq!(control.body_bytes, Some(5));
    assert!(control.header("Stream-Next-Offset").is_some());
}

/// A caller's `reqwest::Client` and a base URL with relative paths.
async fn http_client_and_base_url(server: TestServer) {
    let http = reqwest::Client::builder().build().expect("reqwest");
    let client = Client::builder()
        .http_client(http)
        .base_url(format!("{}/", server.stream_base()))
        .build()
        .expect("client");
    let name = support::unique_name("relative");
    let stream = within(
        WAIT,
        "create",
        client.create(&name, CreateOptions::default()),
    )
    .await
    .expect("create by relative path");
    assert_eq!(stream.url().as_str(), server.stream_url(&name));
    append(&stream, "x").await.expect("append");
    let connected = within(WAIT, "connect", client.connect(&name))
        .await
        .expect("connect");
    assert_eq!(read_all(&connected).await, b"x");
}

/// `ReadOptions::cursor` is echoed on the first live request.
async fn first_request_cursor(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let stream = create(&client, &server.fresh_url("cursor")).await;
    append(&stream, "x").await.expect("append");
    let options = ReadOptions {
        offset: Offset::START,
        live: LiveMode::LongPoll,
        cursor: Some("12345".to_owned()),
        ..ReadOptions::default()
    };
    let mut session = stream.read_bytes(options);
    let got =
        support::reads::read_while(&mut session, WAIT, |d, _| !d.is_empty())
            .await
            .ok();
    assert_eq!(got.data, b"x");
    drop(session);
    let first_poll = recorder
        .with_method("GET")
        .into_iter()
        .find(|e| e.url.contains("live=long-poll"))
        .expect("a long-poll request");
    assert!(
        first_poll.url.contains("cursor=12345"),
        "{}",
        first_poll.url
    );
}

server_tests!(
    default_headers_are_sent,
    dynamic_headers_once_per_operation,
    dynamic_header_error,
    dynamic_params,
    observer_sees_requests,
    observer_tells_headers_bytes_modes_and_controls,
    http_client_and_base_url,
    first_request_cursor,
);

/// A retried operation still evaluates its dynamic header only once.
async fn dynamic_header_once_across_retries(server: TestServer) {
    let (client, calls) = counting_seq(Client::builder().retry(fast_retry(4)));
    let stream = create(&client, &server.fresh_url("dyn-retry")).await;
    let before = calls.load(Ordering::SeqCst);
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::status(503).count(2).method("POST"))
        .await;
    append(&stream, "a").await.expect("append after two 503s");
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
}

fault_tests!(dynamic_header_once_across_retries,);
