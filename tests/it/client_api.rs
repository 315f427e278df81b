//! Client integration tests: stream lifecycle calls (create, connect, head,
//! append, close, delete, fork) and the typed errors they map to.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use dsx::client::{
    AppendOptions, CloseOptions, CreateOptions, Error, LiveMode, Offset,
    ReadOptions,
};
use support::{
    Body, TestServer, WAIT, append, create_at, create_opts, read_opts,
    try_append, within,
};

fn off_from(offset: Offset) -> ReadOptions {
    read_opts(offset, LiveMode::Off)
}

/// create, head, append, delete and the metadata each reports.
async fn lifecycle(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("lifecycle");
    let stream = client.stream(&url).expect("absolute URL");
    assert_eq!(stream.url().as_str(), url);
    within(WAIT, "create", stream.create(create_opts("text/plain")))
        .await
        .expect("create");
    assert_eq!(stream.content_type().as_deref(), Some("text/plain"));

    let empty = within(WAIT, "head", stream.head()).await.expect("head");
    assert_eq!(empty.content_type.as_deref(), Some("text/plain"));
    assert!(!empty.closed);

    let appended = try_append(&stream, "hello").await.expect("append");
    assert!(!appended.duplicate);
    assert_ne!(appended.next_offset, empty.next_offset);
    let meta = within(WAIT, "head", stream.head()).await.expect("head");
    assert_eq!(meta.next_offset, appended.next_offset);
    assert!(!meta.closed);

    within(WAIT, "delete", stream.delete())
        .await
        .expect("delete");
    let gone = within(WAIT, "head", stream.head()).await;
    assert!(
        matches!(
            gone,
            Err(Error::NotFound { ref url }) if url.contains("lifecycle")
        ),
        "head after delete: {gone:?}"
    );
    let again = within(WAIT, "delete", stream.delete()).await;
    assert!(matches!(again, Err(Error::NotFound { .. })), "{again:?}");
}

/// `Client::create` and `Client::connect` return working handles.
async fn client_create_and_connect(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("connect");
    let created = within(
        WAIT,
        "client.create",
        client.create(&url, create_opts("application/json")),
    )
    .await
    .expect("client.create");
    append(&created, r#"{"a":1}"#).await;

    let connected = within(WAIT, "connect", client.connect(&url))
        .await
        .expect("connect to an existing stream");
    assert_eq!(
        connected.content_type().as_deref(),
        Some("application/json")
    );
    let mut read =
        connected.read_json::<serde_json::Value>(off_from(Offset::START));
    let got = support::reads::drain(&mut read, WAIT).await.ok();
    assert_eq!(got.data, vec![serde_json::json!({"a": 1})]);

    let missing = server.fresh_url("never-created");
    let result = within(WAIT, "connect", client.connect(&missing)).await;
    assert!(
        matches!(result, Err(Error::NotFound { .. })),
        "connect to a missing stream: {:?}",
        result.err()
    );
}

/// PUT is idempotent for a matching configuration (200) and conflicts
/// otherwise (409 -> `AlreadyExists`).
async fn create_idempotent_and_conflict(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("idem");
    let stream = client.stream(&url).expect("url");
    let opts = create_opts("text/plain");
    within(WAIT, "create", stream.create(opts.clone()))
        .await
        .expect("first create (201)");
    within(WAIT, "create again", stream.create(opts))
        .await
        .expect("same config again is idempotent (200)");

    let other_type = within(
        WAIT,
        "create json",
        stream.create(create_opts("application/json")),
    )
    .await;
    assert!(
        matches!(other_type, Err(Error::AlreadyExists { .. })),
        "different content type: {other_type:?}"
    );
    let closed = within(
        WAIT,
        "create closed",
        stream.create(CreateOptions {
            closed: true,
            ..create_opts("text/plain")
        }),
    )
    .await;
    assert!(
        matches!(closed, Err(Error::AlreadyExists { .. })),
        "closure status differs: {closed:?}"
    );
}

/// Create with initial data already closed: the data reads back, EOF is
/// reported, and appends fail with Closed and the final offset.
async fn create_closed_with_data(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("closed-init");
    let stream = client.stream(&url).expect("url");
    within(
        WAIT,
        "create",
        stream.create(CreateOptions {
            closed: true,
            data: Some(Bytes::from_static(b"final words")),
            ..create_opts("text/plain")
        }),
    )
    .await
    .expect("create closed");
    let meta = within(WAIT, "head", stream.head()).await.expect("head");
    assert!(meta.closed);

    let mut read = stream.read_text(off_from(Offset::START));
    let got = support::reads::drain(&mut read, WAIT).await.ok();
    assert_eq!(got.data, "final words");
    assert!(got.ended);
    assert!(got.last().stream_closed);
    assert_eq!(got.last().offset, meta.next_offset);

    let result = try_append(&stream, "more").await;
    match result {
        Err(Error::Closed { final_offset, .. }) => {
            assert_eq!(final_offset, Some(meta.next_offset));
        }
        other => panic!("append to a closed stream: {other:?}"),
    }
}

/// TTL and expiry are sent and reported; both together are refused.
async fn create_ttl_and_expiry(server: TestServer) {
    let client = server.client();
    let ttl = client.stream(&server.fresh_url("ttl")).expect("url");
    within(
        WAIT,
        "create ttl",
        ttl.create(CreateOptions {
            ttl: Some(Duration::from_hours(1)),
            ..CreateOptions::default()
        }),
    )
    .await
    .expect("create with ttl");
    let meta = within(WAIT, "head", ttl.head()).await.expect("head");
    assert_eq!(meta.ttl, Some(3600));
    assert_eq!(meta.expires_at, None);

    let exp = client.stream(&server.fresh_url("exp")).expect("url");
    within(
        WAIT,
        "create expires",
        exp.create(CreateOptions {
            expires_at: Some("2099-01-01T00:00:00Z".to_owned()),
            ..CreateOptions::default()
        }),
    )
    .await
    .expect("create with expiry");
    let meta = within(WAIT, "head", exp.head()).await.expect("head");
    let expires = meta.expires_at.expect("Stream-Expires-At reported");
    assert!(expires.starts_with("2099-01-01"), "{expires}");
    assert_eq!(meta.ttl, None);

    let both = client.stream(&server.fresh_url("both")).expect("url");
    let result = within(
        WAIT,
        "create both",
        both.create(CreateOptions {
            ttl: Some(Duration::from_mins(1)),
            expires_at: Some("2099-01-01T00:00:00Z".to_owned()),
            ..CreateOptions::default()
        }),
    )
    .await;
    assert!(
        matches!(result, Err(Error::BadRequest { .. })),
        "TTL and Expires-At together: {result:?}"
    );
}

/// JSON appends: one value is one message, an array is flattened, an
/// empty array is refused before sending, invalid JSON is refused.
async fn json_appends(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("json");
    let stream = create_at(&client, &url, "application/json").await;
    let append = |body: &'static str| {
        let stream = stream.clone();
        async move { try_append(&stream, body).await }
    };
    append(r#"{"n":1}"#).await.expect("one value");
    append(r#"[{"n":2},{"n":3}]"#).await.expect("array");
    append("[[4,5]]").await.expect("nested array");
    append("\"six\"").await.expect("a string value");

    let empty = append("[]").await;
    assert!(
        matches!(empty, Err(Error::InvalidArgument(_))),
        "empty array must be refused before sending: {empty:?}"
    );
    // Whether the client validates JSON itself or lets the server refuse
    // it (400), the append must fail without storing anything.
    let invalid = append("{not json").await;
    assert!(
        matches!(
            invalid,
            Err(Error::BadRequest { .. } | Error::InvalidArgument(_))
        ),
        "invalid JSON: {invalid:?}"
    );

    let mut read =
        stream.read_json::<serde_json::Value>(off_from(Offset::START));
    let got = support::reads::drain(&mut read, WAIT).await.ok();
    assert_eq!(
        got.data,
        vec![
            serde_json::json!({"n": 1}),
            serde_json::json!({"n": 2}),
            serde_json::json!({"n": 3}),
            serde_json::json!([4, 5]),
            serde_json::json!("six"),
        ]
    );
}

/// close: final offset, idempotent repeat, Closed with the final offset
/// on append, and close with a final message.
async fn close_and_closed_error(server: TestServer) {
    let client = server.client();
    let stream =
        create_at(&client, &server.fresh_url("close"), "text/plain").await;
    append(&stream, "a").await;
    let closed = within(WAIT, "close", stream.close(CloseOptions::default()))
        .await
        .expect("close");
    let meta = within(WAIT, "head", stream.head()).await.expect("head");
    assert!(meta.closed);
    assert_eq!(closed.final_offset, meta.next_offset);

    let again = within(WAIT, "close", stream.close(CloseOptions::default()))
        .await
        .expect("closing a closed stream is idempotent");
    assert_eq!(again.final_offset, closed.final_offset);

    let result = try_append(&stream, "b").await;
    match result {
        Err(Error::Closed { final_offset, url }) => {
            assert_eq!(final_offset, Some(closed.final_offset.clone()));
            assert_eq!(url, stream.url().as_str());
        }
        other => panic!("append after close: {other:?}"),
    }

    let url = server.fresh_url("close-data");
    let last = create_at(&client, &url, "text/plain").await;
    append(&last, "first;").await;
    let closed = within(
        WAIT,
        "close with data",
        last.close(CloseOptions {
            data: Some(Bytes::from_static(b"last")),
            ..CloseOptions::default()
        }),
    )
    .await
    .expect("close with a final message");
    let mut read = last.read_text(off_from(Offset::START));
    let got = support::reads::drain(&mut read, WAIT).await.ok();
    assert_eq!(got.data, "first;last");
    assert!(got.last().stream_closed);
    assert_eq!(got.last().offset, closed.final_offset);
}

/// Stream-Seq regression is a `SequenceConflict`.
async fn stream_seq_regression(server: TestServer) {
    let client = server.client();
    let stream = within(
        WAIT,
        "create",
        client.create(&server.fresh_url("seq"), CreateOptions::default()),
    )
    .await
    .expect("create");
    let with_seq = |seq: &str| AppendOptions {
        seq: Some(seq.to_owned()),
        ..AppendOptions::default()
    };
    within(WAIT, "append", stream.append("a", with_seq("0002")))
        .await
        .expect("seq 0002");
    within(WAIT, "append", stream.append("b", with_seq("0003")))
        .await
        .expect("seq 0003");
    for stale in ["0003", "0001"] {
        let result =
            within(WAIT, "append", stream.append("c", with_seq(stale))).await;
        assert!(
            matches!(result, Err(Error::SequenceConflict { .. })),
            "Stream-Seq {stale} after 0003: {result:?}"
        );
    }
    let mut read = stream.read_bytes(off_from(Offset::START));
    let got = support::reads::drain(&mut read, WAIT).await.ok();
    assert_eq!(got.data, b"ab");
}

/// Fork at a mid-stream offset taken from an append result, at the tail,
/// appends to the fork, and Gone once the forked source is deleted.
async fn fork_and_gone(server: TestServer) {
    let client = server.client();
    let body = Body::Text;
    let source_url = server.fresh_url("fork-src");
    let source = within(
        WAIT,
        "create",
        client.create(&source_url, create_opts(body.content_type())),
    )
    .await
    .expect("create source");
    let first = try_append(&source, body.message(0))
        .await
        .expect("append 0");
    try_append(&source, body.message(1))
        .await
        .expect("append 1");

    // Fork at the offset after message 0, naming the source by URL.
    let mid = client.stream(&server.fresh_url("fork-mid")).expect("url");
    within(
        WAIT,
        "fork",
        mid.fork(
            &source_url,
            Some(first.next_offset.clone()),
            CreateOptions::default(),
        ),
    )
    .await
    .expect("fork at mid offset");
    // Fork at the tail, naming the source by path.
    let source_path =
        url::Url::parse(&source_url).expect("url").path().to_owned();
    let tail = client.stream(&server.fresh_url("fork-tail")).expect("url");
    within(
        WAIT,
        "fork",
        tail.fork(&source_path, None, CreateOptions::default()),
    )
    .await
    .expect("fork at tail");
    try_append(&mid, body.message(7))
        .await
        .expect("append to fork");

    assert_eq!(body.read_all(&mid).await.ok().numbers, vec![0, 7]);
    assert_eq!(body.read_all(&tail).await.ok().numbers, vec![0, 1]);
    assert_eq!(body.read_all(&source).await.ok().numbers, vec![0, 1]);
    let fork_meta = within(WAIT, "head", mid.head()).await.expect("head");
    assert_eq!(fork_meta.content_type.as_deref(), Some("text/plain"));

    let orphan = client
        .stream(&server.fresh_url("fork-orphan"))
        .expect("url");
    let missing = server.fresh_url("no-such-source");
    let result = within(
        WAIT,
        "fork",
        orphan.fork(&missing, None, CreateOptions::default()),
    )
    .await;
    assert!(
        matches!(result, Err(Error::NotFound { .. })),
        "fork of a missing source: {result:?}"
    );

    // The source has forks, so DELETE soft-deletes it: 410 from now on.
    within(WAIT, "delete", source.delete())
        .await
        .expect("delete source");
    let head = within(WAIT, "head", source.head()).await;
    assert!(matches!(head, Err(Error::Gone { .. })), "head: {head:?}");
    let append = try_append(&source, body.message(2)).await;
    assert!(
        matches!(append, Err(Error::Gone { .. })),
        "append: {append:?}"
    );
    let read = body.read_all(&source).await;
    assert!(
        matches!(read.error, Some(Error::Gone { .. })),
        "read: {:?}",
        read.error
    );
    // Forks outlive their source.
    assert_eq!(body.read_all(&mid).await.ok().numbers, vec![0, 7]);
}

/// Appends, heads, reads and closes on a missing stream are `NotFound`.
async fn not_found_everywhere(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("missing");
    let stream = client.stream(&url).expect("url");
    let append = try_append(&stream, "x").await;
    assert!(matches!(append, Err(Error::NotFound { .. })), "{append:?}");
    let close =
        within(WAIT, "close", stream.close(CloseOptions::default())).await;
    assert!(matches!(close, Err(Error::NotFound { .. })), "{close:?}");
    for live in [LiveMode::Off, LiveMode::LongPoll, LiveMode::Sse] {
        let options = ReadOptions {
            live,
            ..ReadOptions::default()
        };
        let mut read = stream.read_bytes(options);
        let got = support::reads::drain(&mut read, WAIT).await;
        assert!(
            matches!(got.error, Some(Error::NotFound { .. })),
            "read {live:?}: {:?}",
            got.error
        );
    }
}

/// A malformed offset is refused by the server: `BadRequest`.
async fn malformed_offset(server: TestServer) {
    let client = server.client();
    let stream = within(
        WAIT,
        "create",
        client
            .create(&server.fresh_url("bad-offset"), CreateOptions::default()),
    )
    .await
    .expect("create");
    append(&stream, "x").await;
    for live in [LiveMode::Off, LiveMode::LongPoll] {
        let options = read_opts(Offset::new("not-an-offset"), live);
        let mut read = stream.read_bytes(options);
        let got = support::reads::drain(&mut read, WAIT).await;
        assert!(
            matches!(got.error, Some(Error::BadRequest { .. })),
            "{live:?}: {:?}",
            got.error
        );
    }
}

/// A handle told its stream's content type sends an append without asking
/// the server first; one that was not told asks with a HEAD. Either way
/// the append lands as JSON. Clones share what a handle was told.
async fn told_content_type(server: TestServer) {
    let url = server.fresh_url("told-type");
    create_at(&server.client(), &url, "application/json").await;
    let recorder = support::Recorder::default();
    let client = recorder.builder().build().expect("client");
    let heads = || recorder.with_method("HEAD").len();

    let untold = client.stream(&url).expect("handle");
    append(&untold, "[1]").await;
    assert_eq!(heads(), 1, "an untold handle looks the type up");

    let told = client
        .stream(&url)
        .expect("handle")
        .with_content_type("application/json");
    append(&told, "[2]").await;
    assert_eq!(heads(), 1, "a told handle sends no HEAD");

    let handle = client.stream(&url).expect("handle");
    let clone = handle.clone();
    handle.set_content_type("application/json");
    assert_eq!(clone.content_type().as_deref(), Some("application/json"));
    append(&clone, "[3]").await;
    assert_eq!(heads(), 1, "the clone was told too");

    let mut session = told.read_json::<u32>(off_from(Offset::START));
    let got = support::reads::read_while(&mut session, WAIT, |items, _| {
        items.len() >= 3
    })
    .await
    .ok();
    assert_eq!(got.data, vec![1, 2, 3]);
}

server_tests!(
    told_content_type,
    lifecycle,
    client_create_and_connect,
    create_idempotent_and_conflict,
    create_closed_with_data,
    create_ttl_and_expiry,
    json_appends,
    close_and_closed_error,
    stream_seq_regression,
    fork_and_gone,
    not_found_everywhere,
    malformed_offset,
);

/// Handles are made without I/O; relative paths need a base URL; a bad base
/// URL is refused by the builder.
#[test]
fn handles_and_base_urls() {
    let plain = dsx::client::Client::new();
    let relative = plain.stream("just/a/path");
    assert!(
        matches!(relative, Err(Error::InvalidArgument(_))),
        "relative path without a base URL: {:?}",
        relative.err()
    );
    let based = dsx::client::Client::builder()
        .base_url("http://127.0.0.1:9/v1/stream/")
        .build()
        .expect("builder");
    let stream = based.stream("orders").expect("relative path");
    assert_eq!(stream.url().as_str(), "http://127.0.0.1:9/v1/stream/orders");
    let absolute = based
        .stream("http://127.0.0.1:10/v1/stream/x")
        .expect("absolute URL wins over the base");
    assert_eq!(absolute.url().as_str(), "http://127.0.0.1:10/v1/stream/x");
    let sibling = stream.client().stream("payments").expect("same client");
    assert_eq!(
        sibling.url().as_str(),
        "http://127.0.0.1:9/v1/stream/payments"
    );
    assert!(Offset::START.is_start() && Offset::NOW.is_now());
    assert_eq!(Offset::default(), Offset::START);
    let opaque = Offset::from("0000_0042");
    assert_eq!(opaque.to_string(), "0000_0042");
    assert_eq!(Offset::new(String::from("x")).as_str(), "x");
    let bad = dsx::client::Client::builder().base_url("not a url").build();
    assert!(bad.is_err(), "a malformed base URL must be refused");
    let _default = dsx::client::Client::default();
}
