//! Client integration tests: what create and fork report (201 vs 200), the
//! 409 kinds told apart (`AlreadyExists`, `Closed`, `SequenceConflict`,
//! `Conflict`), and the error helpers (`status`, `url`, `is_*`,
//! `server_message`) on errors from a real server.

use crate::support;

use std::time::Duration;

use dsx::client::{
    AppendOptions, Client, CloseOptions, CreateOptions, Error, Offset,
    RetryPolicy,
};
use support::{
    Body, TestServer, WAIT, create_at, create_opts, try_append, within,
};

/// Checks the helpers that every HTTP error shares.
fn check_helpers(e: &Error, status: u16, url: &str) {
    assert_eq!(e.status(), Some(status), "{e:?}");
    assert_eq!(e.url(), Some(url), "{e:?}");
    assert_eq!(e.is_conflict(), status == 409, "{e:?}");
    assert!(!e.is_retryable(), "{status} is not retryable: {e:?}");
    assert!(!e.to_string().is_empty());
}

/// `create_detailed`: 201 then 200 for the same configuration, with the
/// tail and content type; `fork_detailed` likewise.
async fn detailed_create_and_fork(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("detailed");
    let stream = client.stream(&url).expect("url");
    let opts = CreateOptions {
        data: Some(Body::Text.message(0)),
        ..create_opts("text/plain")
    };
    let first = within(WAIT, "create", stream.create_detailed(opts.clone()))
        .await
        .expect("create");
    assert!(first.created);
    assert_eq!(first.status, 201);
    assert!(!first.closed);
    let tail = within(WAIT, "head", stream.head()).await.expect("head");
    assert_eq!(first.next_offset.as_ref(), Some(&tail.next_offset));

    let again = within(
        WAIT,
        "create again",
        stream.create_detailed(create_opts("text/plain")),
    )
    .await
    .expect("idempotent create");
    assert!(!again.created);
    assert_eq!(again.status, 200);
    assert_eq!(
        Body::Text.read_all(&stream).await.ok().numbers,
        vec![0],
        "a repeated create leaves the data alone"
    );

    // The content type is given (it must match the source's): the Node
    // reference server compares a repeated fork's missing content type
    // as application/octet-stream and answers 409 instead of 200.
    let fork = client
        .stream(&server.fresh_url("detailed-fork"))
        .expect("url");
    let at = Some(tail.next_offset.clone());
    let made = within(
        WAIT,
        "fork",
        fork.fork_detailed(&url, at.clone(), create_opts("text/plain")),
    )
    .await
    .expect("fork");
    assert!(made.created);
    assert_eq!(made.status, 201);
    let repeat = within(
        WAIT,
        "fork again",
        fork.fork_detailed(&url, at, create_opts("text/plain")),
    )
    .await
    .expect("the same fork again is idempotent");
    assert!(!repeat.created);
    assert_eq!(repeat.status, 200);
}

/// The 409s are told apart, and each carries its status and URL.
async fn conflicts_told_apart(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("conflicts");
    let stream = create_at(&client, &url, "text/plain").await;

    let exists = within(
        WAIT,
        "create",
        stream.create(create_opts("application/octet-stream")),
    )
    .await
    .expect_err("another content type");
    assert!(matches!(exists, Error::AlreadyExists { .. }), "{exists:?}");
    check_helpers(&exists, 409, &url);

    let mismatch = within(
        WAIT,
        "append",
        stream.append(
            "{}",
            AppendOptions {
                content_type: Some("application/json".to_owned()),
                ..AppendOptions::default()
            },
        ),
    )
    .await
    .expect_err("a body of another content type");
    assert!(matches!(mismatch, Error::Conflict { .. }), "{mismatch:?}");
    check_helpers(&mismatch, 409, &url);
    assert!(mismatch.server_message().is_some());

    let seq = |s: &str| AppendOptions {
        seq: Some(s.to_owned()),
        ..AppendOptions::default()
    };
    within(WAIT, "append", stream.append("a", seq("2")))
        .await
        .expect("seq 2");
    let regression = within(WAIT, "append", stream.append("b", seq("1")))
        .await
        .expect_err("seq 1 after 2");
    assert!(regression.is_sequence_conflict(), "{regression:?}");
    check_helpers(&regression, 409, &url);

    within(WAIT, "close", stream.close(CloseOptions::default()))
        .await
        .expect("close");
    let closed = try_append(&stream, "c")
        .await
        .expect_err("append after close");
    assert!(closed.is_closed(), "{closed:?}");
    check_helpers(&closed, 409, &url);
}

/// Helpers on 404, 410 and 400, and on client-side errors.
async fn error_helpers(server: TestServer) {
    let client = server.client();
    let missing = server.fresh_url("helpers-missing");
    let e = within(WAIT, "head", client.stream(&missing).expect("url").head())
        .await
        .expect_err("missing");
    assert!(e.is_not_found() && !e.is_gone());
    check_helpers(&e, 404, &missing);

    let source_url = server.fresh_url("helpers-src");
    let source = create_at(&client, &source_url, "text/plain").await;
    let fork = client
        .stream(&server.fresh_url("helpers-fork"))
        .expect("url");
    within(
        WAIT,
        "fork",
        fork.fork(&source_url, None, CreateOptions::default()),
    )
    .await
    .expect("fork");
    within(WAIT, "delete", source.delete())
        .await
        .expect("delete");
    let gone = within(WAIT, "head", source.head()).await.expect_err("gone");
    assert!(gone.is_gone(), "{gone:?}");
    check_helpers(&gone, 410, &source_url);

    let bad = within(
        WAIT,
        "create",
        client
            .stream(&server.fresh_url("helpers-bad"))
            .expect("url")
            .create(CreateOptions {
                ttl: Some(Duration::from_secs(5)),
                expires_at: Some("2099-01-01T00:00:00Z".to_owned()),
                ..CreateOptions::default()
            }),
    )
    .await
    .expect_err("TTL and expiry together");
    assert!(matches!(bad, Error::BadRequest { .. }), "{bad:?}");
    assert_eq!(bad.status(), Some(400));
    assert!(bad.server_message().is_some());

    let invalid = Error::InvalidArgument("x".to_owned());
    assert!(invalid.is_invalid_argument());
    assert_eq!((invalid.status(), invalid.url()), (None, None));
}

server_tests!(
    detailed_create_and_fork,
    conflicts_told_apart,
    error_helpers,
);

/// Client getters reflect the builder; an invalid retry policy is refused;
/// relative paths resolve against the base URL.
#[test]
fn client_configuration() {
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let client = Client::builder()
        .base_url("http://127.0.0.1:9/v1/stream/")
        .timeout(Duration::from_secs(7))
        .retry(policy.clone())
        .long_poll_allowance(Duration::from_secs(2))
        .build()
        .expect("client");
    assert_eq!(client.timeout(), Some(Duration::from_secs(7)));
    assert_eq!(client.retry_policy().max_attempts, 3);
    assert_eq!(
        client.base_url().map(url::Url::as_str),
        Some("http://127.0.0.1:9/v1/stream/")
    );
    assert_eq!(
        client.resolve("a/b").expect("relative").as_str(),
        "http://127.0.0.1:9/v1/stream/a/b"
    );
    assert_eq!(policy.backoff(1), policy.initial_backoff);
    for bad in [
        RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        },
        RetryPolicy {
            multiplier: 0.5,
            ..RetryPolicy::default()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
        let built = Client::builder().retry(bad).build();
        assert!(
            matches!(built, Err(Error::InvalidArgument(_))),
            "an invalid retry policy is refused"
        );
    }
    assert!(Offset::START.is_start());
}
