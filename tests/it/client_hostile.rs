//! Client integration tests against a hostile server (`support::hostile`):
//! redirects, offsets that do not advance, corrupt and trickling bodies,
//! and what reaches a server that should not see it. Every test bounds the
//! number of requests it lets the client make.

use crate::support;

use std::time::Duration;

use dsx::client::{
    AppendOptions, Client, CloseOptions, CreateOptions, Error, LiveMode,
    ReadOptions, RedirectRefusal,
};
use futures::StreamExt;
use support::{Hostile, Received, Reply, WAIT, fast_retry, within};

fn client_for(server: &Hostile) -> Client {
    Client::builder()
        .base_url(server.at("/v1/stream"))
        .retry(fast_retry(3))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// The harness itself: scripted replies in order, requests recorded with
/// method, target, headers and body; a chunked, paced body arrives whole.
#[tokio::test]
async fn harness_scripts_and_records() {
    let server = Hostile::sequence(vec![
        Reply::status(201).header("Stream-Next-Offset", "0_0"),
        Reply::status(200)
            .header("Content-Type", "text/plain")
            .header("Stream-Next-Offset", "0_5")
            .header("Stream-Up-To-Date", "true")
            .chunk("he")
            .pause(Duration::from_millis(20))
            .chunk("llo"),
    ])
    .await;
    let client = Client::builder()
        .base_url(server.at("/v1/stream"))
        .header("X-Secret", "s3")
        .build()
        .expect("client");
    let stream = client.stream("s").expect("url");
    within(WAIT, "create", stream.create(CreateOptions::default()))
        .await
        .expect("create");
    let mut read = stream.read_text(ReadOptions {
        live: LiveMode::Off,
        ..Default::default()
    });
    let mut text = String::new();
    while let Some(chunk) = within(WAIT, "read", read.next()).await {
        text.push_str(&chunk.expect("chunk").text);
    }
    assert_eq!(text, "hello");
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(seen[0].path(), "/v1/stream/s");
    assert_eq!(seen[0].header("x-secret"), Some("s3"));
    assert_eq!(seen[1].method, "GET");
    assert_eq!(seen[1].query("offset").as_deref(), Some("-1"));
}

/// A server that answers everything; the target of redirects that must not
/// be followed (its request count proves they were not).
async fn bystander() -> Hostile {
    Hostile::start(|_| {
        Reply::status(200)
            .header("Content-Type", "text/plain")
            .header("Stream-Next-Offset", "9_9")
            .header("Stream-Up-To-Date", "true")
            .body("elsewhere")
    })
    .await
}

fn assert_refused(
    result: Result<impl std::fmt::Debug, Error>,
    reason: RedirectRefusal,
    location: &str,
) {
    match result {
        Err(Error::Redirect {
            status,
            location: shown,
            reason: why,
            ..
        }) => {
            assert_eq!(status, 301);
            assert_eq!(why, reason);
            assert!(shown.starts_with(location), "{shown} vs {location}");
        }
        other => panic!("expected a refused redirect, got {other:?}"),
    }
}

/// Issue 9 point 3: create, append, close (with and without data) and
/// delete answered with a 301 to another port fail with the status and the
/// Location; nothing reaches the other port, and nothing is retried.
#[tokio::test]
async fn writes_never_follow_redirects() {
    let other = bystander().await;
    let target = other.at("/v1/stream/s");
    let location = target.clone();
    let server = Hostile::start(move |_| Reply::redirect(301, &location)).await;
    let client = client_for(&server);
    let stream = client.stream("s").expect("url");
    let text = || AppendOptions {
        content_type: Some("text/plain".into()),
        ..Default::default()
    };
    let write = RedirectRefusal::Write;
    assert_refused(
        within(WAIT, "create", stream.create(CreateOptions::default())).await,
        write,
        &target,
    );
    assert_refused(
        within(WAIT, "append", stream.append("x", text())).await,
        write,
        &target,
    );
    assert_refused(
        within(WAIT, "close", stream.close(CloseOptions::default())).await,
        write,
        &target,
    );
    let with_data = CloseOptions {
        data: Some("last".into()),
        content_type: Some("text/plain".into()),
        ..Default::default()
    };
    assert_refused(
        within(WAIT, "append and close", stream.close(with_data)).await,
        write,
        &target,
    );
    assert_refused(
        within(WAIT, "delete", stream.delete()).await,
        write,
        &target,
    );
    let methods: Vec<String> =
        server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["PUT", "POST", "POST", "POST", "DELETE"]);
    assert_eq!(other.count(), 0, "{:?}", other.requests());
    let err = stream.delete().await.expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("301") && text.contains(&target), "{text}");
    assert!(!err.is_retryable());
}

/// A read follows a redirect within its origin, keeping the user's
/// headers.
#[tokio::test]
async fn same_origin_read_redirect_is_followed() {
    let server = Hostile::start(|req: &Received| {
        if req.path() == "/v1/stream/s" {
            Reply::redirect(307, "/v1/stream/moved?offset=-1")
        } else {
            Reply::status(200)
                .header("Content-Type", "text/plain")
                .header("Stream-Next-Offset", "0_5")
                .header("Stream-Up-To-Date", "true")
                .body("moved")
        }
    })
    .await;
    let client = Client::builder()
        .base_url(server.at("/v1/stream"))
        .header("X-Secret", "s3")
        .build()
        .expect("client");
    let stream = client.stream("s").expect("url");
    let mut read = stream.read_text(ReadOptions {
        live: LiveMode::Off,
        ..Default::default()
    });
    let mut text = String::new();
    while let Some(chunk) = within(WAIT, "read", read.next()).await {
        text.push_str(&chunk.expect("chunk").text);
    }
    assert_eq!(text, "moved");
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].path(), "/v1/stream/moved");
    assert!(seen.iter().all(|r| r.header("x-secret") == Some("s3")));
}

/// A read redirected to another origin is refused by default (nothing
/// reaches it); when the client allows it, the hop carries none of the
/// user's headers: no default, dynamic or per-read header, no
/// Authorization.
#[tokio::test]
async fn cross_origin_read_redirects() {
    let other = bystander().await;
    let location = other.at("/v1/stream/s");
    let target = location.clone();
    let server = Hostile::start(move |_| Reply::redirect(301, &location)).await;
    let refusing = client_for(&server);
    let head = refusing.stream("s").expect("url").head().await;
    assert_refused(head, RedirectRefusal::CrossOrigin, &target);
    assert_eq!(other.count(), 0);

    let following = Client::builder()
        .base_url(server.at("/v1/stream"))
        .follow_cross_origin_redirects(true)
        .header("Authorization", "Bearer top-secret")
        .header("X-Default", "d")
        .dynamic_header("X-Dynamic", || async { Ok("dyn".to_owned()) })
        .build()
        .expect("client");
    let stream = following.stream("s").expect("url");
    let mut read = stream.read_text(ReadOptions {
        live: LiveMode::Off,
        headers: vec![("X-Per-Read".into(), "p".into())],
        ..Default::default()
    });
    let mut text = String::new();
    while let Some(chunk) = within(WAIT, "read", read.next()).await {
        text.push_str(&chunk.expect("chunk").text);
    }
    assert_eq!(text, "elsewhere");
    let first = &server.requests()[1];
    assert_eq!(first.header("authorization"), Some("Bearer top-secret"));
    assert_eq!(first.header("x-per-read"), Some("p"));
    let reached = other.requests();
    assert_eq!(reached.len(), 1, "{reached:?}");
    for name in ["authorization", "x-default", "x-dynamic", "x-per-read"] {
        assert_eq!(reached[0].header(name), None, "{name} crossed over");
    }
}

/// Issue 9 Low: a redirect loop is an error after one round, not retried.
#[tokio::test]
async fn redirect_loop_is_not_retried() {
    let server = Hostile::start(|req: &Received| {
        let next = if req.path().ends_with("/a") {
            "/b"
        } else {
            "/a"
        };
        Reply::redirect(301, next)
    })
    .await;
    let client = client_for(&server);
    let err = within(
        WAIT,
        "head",
        client.stream(&server.at("/a")).expect("url").head(),
    )
    .await
    .expect_err("a loop");
    assert!(
        matches!(
            &err,
            Error::Redirect {
                reason: RedirectRefusal::Loop,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 2, "{:?}", server.requests());
}

/// Issue 9 Low: a response head too large for the HTTP parser is refused
/// once, not retried.
#[tokio::test]
async fn oversized_head_is_not_retried() {
    let mut head = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    head.extend_from_slice(b"\r\n\r\n");
    let server = Hostile::start(move |_| Reply::raw(head.clone())).await;
    let client = client_for(&server);
    let err = within(WAIT, "head", client.stream("s").expect("url").head())
        .await
        .expect_err("refused");
    assert!(err.is_network(), "{err:?}");
    assert_eq!(server.count(), 1, "retried: {err}");
}

/// Reads `stream` as text with `live` from `offset` until it ends or
/// fails: the texts delivered and how it ended.
async fn read_all(
    client: &Client,
    live: LiveMode,
    offset: &str,
) -> (Vec<String>, Result<(), Error>) {
    let stream = client.stream("s").expect("url");
    let mut read = stream.read_text(ReadOptions {
        live,
        offset: offset.into(),
        ..Default::default()
    });
    let mut texts = Vec::new();
    // Bounded: a loop that never ends fails the test instead of hanging.
    for _ in 0..100 {
        match within(WAIT, "read", read.next()).await {
            None => return (texts, Ok(())),
            Some(Err(e)) => return (texts, Err(e)),
            Some(Ok(chunk)) if chunk.text.is_empty() => {}
            Some(Ok(chunk)) => texts.push(chunk.text),
        }
    }
    panic!("the read did not end: {texts:?}");
}

fn assert_no_progress(result: &Result<(), Error>, server: &Hostile) {
    match result {
        Err(e @ Error::NoProgress { .. }) => {
            let text = e.to_string();
            assert!(text.contains("0_5"), "{text}");
            assert!(!text.contains("Some(") && !text.contains("None"));
        }
        other => panic!("expected NoProgress, got {other:?}"),
    }
    // fast_retry(3): three tries, then the error.
    assert_eq!(server.count(), 3, "{:?}", server.requests());
}

/// Issue 9 point 5: SSE whose control event repeats the request offset
/// after a data event: the data is never handed out, the connection is
/// retried with backoff a bounded number of times, then `NoProgress`.
#[tokio::test]
async fn sse_that_does_not_advance_stops() {
    let server = Hostile::start(|_| {
        Reply::sse(&[
            ("data", "hello"),
            ("control", r#"{"streamNextOffset":"0_5"}"#),
        ])
    })
    .await;
    let (texts, result) =
        read_all(&client_for(&server), LiveMode::Sse, "0_5").await;
    assert!(texts.is_empty(), "data handed out again: {texts:?}");
    assert_no_progress(&result, &server);
}

/// Issue 9 point 5: a 200 that repeats data at the request offset, in
/// catch-up and in long-poll (up to date or not): never handed out, then
/// `NoProgress` after a bounded number of requests.
#[tokio::test]
async fn repeated_data_at_the_same_offset_stops() {
    for (live, up_to_date) in [
        (LiveMode::Off, false),
        (LiveMode::LongPoll, false),
        (LiveMode::LongPoll, true),
    ] {
        let server = Hostile::start(move |_| {
            let reply = Reply::status(200)
                .header("Content-Type", "text/plain")
                .header("Stream-Next-Offset", "0_5");
            let reply = if up_to_date {
                reply.header("Stream-Up-To-Date", "true")
            } else {
                reply
            };
            reply.body("hello")
        })
        .await;
        let (texts, result) = read_all(&client_for(&server), live, "0_5").await;
        assert!(texts.is_empty(), "{live:?}: repeated: {texts:?}");
        assert_no_progress(&result, &server);
    }
}

/// Issue 9 point 5: `[]` at the same offset without Stream-Up-To-Date
/// ends a catch-up (as an empty body does) after one request, and in
/// long-poll is a stall that ends in `NoProgress`.
#[tokio::test]
async fn empty_json_array_without_up_to_date() {
    let script = |_: &Received| {
        Reply::status(200)
            .header("Content-Type", "application/json")
            .header("Stream-Next-Offset", "0_5")
            .body("[]")
    };
    let server = Hostile::start(script).await;
    let (texts, result) =
        read_all(&client_for(&server), LiveMode::Off, "0_5").await;
    assert!(texts.is_empty() && result.is_ok(), "{texts:?} {result:?}");
    assert_eq!(server.count(), 1);
    let server = Hostile::start(script).await;
    let (_, result) =
        read_all(&client_for(&server), LiveMode::LongPoll, "0_5").await;
    assert_no_progress(&result, &server);
}

/// Issue 9 point 6: SSE connections that each deliver an event and then
/// drop keep the read alive past the retry budget: only drops in a row
/// without progress count.
#[tokio::test]
async fn sse_drops_after_data_do_not_add_up() {
    let server = Hostile::start(|req: &Received| {
        let at: u32 = req
            .query("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        if at >= 6 {
            return Reply::sse(&[(
                "control",
                r#"{"streamNextOffset":"6","streamClosed":true}"#,
            )]);
        }
        Reply::sse(&[
            ("data", &format!("m{at}")),
            (
                "control",
                &format!(r#"{{"streamNextOffset":"{}"}}"#, at + 1),
            ),
        ])
        .cut()
    })
    .await;
    let (texts, result) =
        read_all(&client_for(&server), LiveMode::Sse, "0").await;
    result.expect("the read survives drops between which data arrived");
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(server.count(), 7);
}

/// Issue 9 point 9: a stream path with `.`/`..` segments, plain or
/// percent-encoded, is refused before anything is sent: create, append,
/// read and delete all resolve through the same join.
#[tokio::test]
async fn dot_segments_never_leave_the_base() {
    let server = Hostile::start(|_| Reply::status(500)).await;
    let client = client_for(&server);
    for bad in ["../escape", "%2e%2e/up", "a/%2E%2E/%2e%2e/b", "./s"] {
        let err = client
            .create(bad, CreateOptions::default())
            .await
            .expect_err(bad);
        assert!(err.is_invalid_argument(), "{bad}: {err:?}");
        assert!(client.stream(bad).is_err(), "{bad}");
    }
    assert_eq!(server.count(), 0, "{:?}", server.requests());
}

/// Issue 9 Low: a catch-up body that trickles a byte at a time, never
/// waiting as long as the timeout between bytes, ends in a timeout instead
/// of holding the read forever.
#[tokio::test]
async fn trickling_body_times_out() {
    let server = Hostile::start(|_| {
        Reply::status(200)
            .header("Content-Type", "text/plain")
            .header("Stream-Next-Offset", "0_9")
            .chunk("a")
            .repeat_every(Duration::from_millis(50))
    })
    .await;
    let client = Client::builder()
        .base_url(server.at("/v1/stream"))
        .retry(fast_retry(3))
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let stream = client.stream("s").expect("url");
    let mut read = stream.read_text(ReadOptions {
        live: LiveMode::Off,
        ..Default::default()
    });
    let mut outcome = None;
    for _ in 0..1000 {
        match within(WAIT, "read", read.next()).await {
            Some(Ok(_)) => {}
            other => {
                outcome = Some(other);
                break;
            }
        }
    }
    match outcome {
        Some(Some(Err(e))) => assert!(e.is_timeout(), "{e:?}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(server.count(), 1);
}

/// A JSON long-poll server whose answers `corrupt(index)` decides to
/// break: offset 0 holds `[1]` (next offset 1), offset 1 is closed.
async fn json_long_poll(corrupt: fn(usize) -> bool) -> Hostile {
    Hostile::start(move |req: &Received| {
        let json = |body: &str, next: &str| {
            Reply::status(200)
                .header("Content-Type", "application/json")
                .header("Stream-Next-Offset", next)
                .header("Stream-Up-To-Date", "true")
                .body(body.to_owned())
        };
        if corrupt(req.index) {
            return json("[1,", "1");
        }
        match req.query("offset").as_deref() {
            Some("0") => json("[1]", "1"),
            _ => json("[]", "1").header("Stream-Closed", "true"),
        }
    })
    .await
}

/// Issue 9 point 10: one corrupt long-poll body does not end a live read:
/// the same position is read again and the read goes on, nothing repeated.
#[tokio::test]
async fn one_corrupt_long_poll_body_is_read_again() {
    let server = json_long_poll(|index| index == 0).await;
    let client = client_for(&server);
    let stream = client.stream("s").expect("url");
    let mut read = stream.read_json::<serde_json::Value>(ReadOptions {
        live: LiveMode::LongPoll,
        offset: "0".into(),
        ..Default::default()
    });
    let mut items = Vec::new();
    for _ in 0..20 {
        match within(WAIT, "read", read.next()).await {
            None => break,
            Some(batch) => items.extend(batch.expect("no error").items),
        }
    }
    assert_eq!(items, [serde_json::json!(1)]);
    assert_eq!(server.count(), 3, "{:?}", server.requests());
}

/// ...but a server that keeps sending corrupt bodies fails the read after
/// the retry budget, with the decode error.
#[tokio::test]
async fn corrupt_long_poll_bodies_in_a_row_fail() {
    let server = json_long_poll(|_| true).await;
    let client = client_for(&server);
    let stream = client.stream("s").expect("url");
    let mut read = stream.read_json::<serde_json::Value>(ReadOptions {
        live: LiveMode::LongPoll,
        offset: "0".into(),
        ..Default::default()
    });
    let mut ended = None;
    for _ in 0..20 {
        match within(WAIT, "read", read.next()).await {
            Some(Ok(batch)) => assert!(batch.items.is_empty()),
            other => {
                ended = Some(other);
                break;
            }
        }
    }
    match ended {
        Some(Some(Err(e))) => assert!(e.is_decode(), "{e:?}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(server.count(), 3);
}

/// Issue 10 "Messages": a refused connection says its cause once, also
/// when the error chain is printed whole (as `dsx` does with `{:#}`), and
/// the URL's secrets never appear in it.
#[tokio::test]
async fn network_errors_say_their_cause_once() {
    let port = support::dead_port();
    let recorder = support::Recorder::default();
    let client = recorder
        .builder()
        .retry(fast_retry(1))
        .build()
        .expect("client");
    let url = format!("http://user:pw@127.0.0.1:{port}/s?token=t0k");
    let err = within(WAIT, "head", client.stream(&url).expect("url").head())
        .await
        .expect_err("nothing listens");
    assert!(err.is_network(), "{err:?}");
    let whole = format!("{:#}", anyhow::Error::new(err.clone()));
    assert_eq!(whole, err.to_string(), "no repeated source chain");
    assert_eq!(
        whole.to_lowercase().matches("refused").count(),
        1,
        "{whole}"
    );
    assert_eq!(whole.matches("error sending request").count(), 0, "{whole}");
    assert!(!whole.contains("pw") && !whole.contains("t0k"), "{whole}");
    assert_eq!(whole.matches(&format!("127.0.0.1:{port}")).count(), 1);
    // The observer's error text carries the cause, not the URL again.
    let events = recorder.events();
    assert_eq!(events.len(), 1);
    let said = events[0].error.as_deref().expect("an error");
    assert!(said.to_lowercase().contains("refused"), "{said}");
    assert!(!said.contains("pw") && !said.contains("t0k"), "{said}");
}

/// Issue 9 point 3: an idempotent producer's appends are writes too: a
/// redirect fails the flush, and nothing reaches the other port.
#[tokio::test]
async fn producer_appends_never_follow_redirects() {
    let other = bystander().await;
    let location = other.at("/v1/stream/s");
    let server = Hostile::start(move |_| Reply::redirect(307, &location)).await;
    let client = client_for(&server);
    let stream = client
        .stream("s")
        .expect("url")
        .with_content_type("text/plain");
    let producer = dsx::client::IdempotentProducer::new(
        stream,
        "p1",
        dsx::client::ProducerOptions::default(),
    );
    let _ = producer.append("x").await;
    let err = within(WAIT, "flush", producer.flush())
        .await
        .expect_err("refused");
    assert!(err.is_redirect(), "{err:?}");
    assert_eq!(other.count(), 0, "{:?}", other.requests());
    assert!((1..=3).contains(&server.count()), "{:?}", server.requests());
    assert!(server.requests().iter().all(|r| r.method == "POST"));
}
