//! A refreshing credential (`ClientBuilder::refreshing_header`) against the
//! embedded server with `require_auth`: a 401 fetches the value again once
//! and resends, every later request (a live read's reconnects included)
//! carries the new value, and a value refused twice is reported.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dsx::client::{Client, ClientBuilder, Error, LiveMode, Offset};
use dsx::server::ServerConfig;
use support::{
    Body, LONG_POLL, TestServer, WAIT, append, create, numbers_of, read_opts,
    within,
};

const TOKEN: &str = "s3cret-rotated";

async fn server(sse_max: Duration) -> TestServer {
    TestServer::start_embedded(ServerConfig {
        long_poll_timeout: LONG_POLL,
        sse_max_duration: sse_max,
        require_auth: Some(TOKEN.into()),
        ..ServerConfig::default()
    })
    .await
}

/// A builder whose credential is `values[n]` on its n-th fetch (the last
/// one repeated); the counter says how many fetches ran.
fn rotating(
    builder: ClientBuilder,
    values: &'static [&'static str],
) -> (ClientBuilder, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&fetches);
    let builder = builder.refreshing_header("Authorization", move || {
        let n = count.fetch_add(1, Ordering::SeqCst);
        let value = values[n.min(values.len() - 1)];
        std::future::ready(Ok(format!("Bearer {value}")))
    });
    (builder, fetches)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_fetches_the_credential_again_once_and_resends() {
    let server = server(Duration::from_mins(1)).await;
    let plain = Client::new();
    let refused = plain.stream(&server.fresh_url("noauth")).expect("url");
    let err = within(WAIT, "head", refused.head()).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err:?}");

    // The token alone, without "Bearer ", is accepted too.
    let bare = Client::builder()
        .header("Authorization", TOKEN)
        .build()
        .expect("client");
    create(&server, &bare, Body::Json, "bare-token").await;

    let (builder, fetches) = rotating(Client::builder(), &["stale", TOKEN]);
    let client = builder.build().expect("client");
    let stream = create(&server, &client, Body::Json, "renew").await;
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "one renewal");
    append(&stream, Body::Json.message(0)).await;
    within(WAIT, "head", stream.head()).await.expect("head");
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "the new value is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_refused_after_renewal_is_reported_not_looped() {
    let server = server(Duration::from_mins(1)).await;
    let (builder, fetches) = rotating(Client::builder(), &["wrong"]);
    let client = builder.build().expect("client");
    let stream = client.stream(&server.fresh_url("wrong")).expect("url");
    let err = within(WAIT, "head", stream.head()).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err:?}");
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "fetched, then once more");
    // A failing fetch is the operation's error.
    let failing = Client::builder()
        .refreshing_header("Authorization", || {
            std::future::ready(Err(Error::InvalidArgument("no token".into())))
        })
        .build()
        .expect("client");
    let stream = failing.stream(&server.fresh_url("fail")).expect("url");
    let err = within(WAIT, "head", stream.head()).await.unwrap_err();
    assert!(err.to_string().contains("no token"), "{err}");
}

/// A live SSE read that starts with a stale value renews it and follows
/// the stream across the server's connection lifetime: the reconnects
/// carry the renewed value, so no further fetch runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reads_reconnect_with_the_renewed_value() {
    let server = server(Duration::from_millis(600)).await;
    let good = Client::builder()
        .header("Authorization", format!("Bearer {TOKEN}"))
        .build()
        .expect("client");
    let writer = create(&server, &good, Body::Json, "live-auth").await;
    let (builder, fetches) = rotating(Client::builder(), &["stale", TOKEN]);
    let client = builder.build().expect("client");
    let reader = client.stream(writer.url().as_str()).expect("url");
    let task = tokio::spawn(async move {
        let options = read_opts(Offset::START, LiveMode::Sse);
        Body::Json
            .read(&reader, options, Some(8), Duration::from_secs(20))
            .await
    });
    for n in 0..8 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        append(&writer, Body::Json.message(n)).await;
    }
    let got = within(WAIT, "reader", task).await.expect("task").ok();
    assert_eq!(got.numbers, numbers_of(0..8), "every message once");
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "one renewal in all");
}
