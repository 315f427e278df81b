//! Subscriptions through the client (PROTOCOL.md sections 6 and 7): create
//! and re-confirm, explicit links, pull-wake claim / ack / release with
//! fencing and leases, webhook deliveries verified with the JWKS, and the
//! callback. Against the embedded server and the official Node server (the
//! official Rust server has no subscriptions: see `subscription_tests!`).

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dsx::client::{
    REPLAY_WINDOW, StreamAck, Subscription, SubscriptionError,
    SubscriptionKind, SubscriptionSpec, Subscriptions, WebhookWake,
    verify_webhook,
};
use support::{Kind, TestServer, WAIT, append, create_at, unique_name, within};

fn subs(server: &TestServer) -> Subscriptions {
    server
        .client()
        .subscriptions(&server.stream_base())
        .expect("stream root")
}

/// Polls `check` every 25 ms for at most `WAIT`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out after {WAIT:?}: {what}");
}

async fn wake_events(url: &str) -> Vec<serde_json::Value> {
    let body = reqwest::get(format!("{url}?offset=-1"))
        .await
        .expect("read wake stream")
        .text()
        .await
        .expect("body");
    serde_json::from_str(&body).unwrap_or_default()
}

fn acked(sub: &Subscription, path: &str) -> Option<String> {
    sub.streams
        .iter()
        .find(|s| s.path == path)
        .map(|s| s.acked_offset.to_string())
}

/// Pull-wake from end to end: a wake event in the wake stream, one claim
/// at a time, heartbeat and done acks, fencing of a finished claim, no
/// pending work, release, delete.
async fn pull_wake_cycle(server: TestServer) {
    let client = server.client();
    let subs = subs(&server);
    let prefix = unique_name("pw");
    let wake_name = format!("{prefix}-wake");
    let wake_url = server.stream_url(&wake_name);
    create_at(&client, &wake_url, "application/json").await;
    let id = unique_name("sub-pull");
    let spec = SubscriptionSpec {
        pattern: Some(format!("{prefix}/*")),
        lease_ttl_ms: Some(5_000),
        description: Some("test".into()),
        ..SubscriptionSpec::new(SubscriptionKind::PullWake {
            wake_stream: wake_name.clone(),
        })
    };
    let (created, fresh) = subs.create(&id, &spec).await.expect("create");
    assert!(fresh, "first PUT creates");
    assert_eq!(created.kind, "pull-wake");
    assert_eq!(created.wake_stream.as_deref(), Some(wake_name.as_str()));
    let (_, again) = subs.create(&id, &spec).await.expect("re-confirm");
    assert!(!again, "identical PUT re-confirms");
    let other = SubscriptionSpec {
        lease_ttl_ms: Some(6_000),
        ..spec.clone()
    };
    assert!(matches!(
        subs.create(&id, &other).await,
        Err(SubscriptionError::AlreadyExists { .. })
    ));

    let path = format!("{prefix}/a");
    let events =
        create_at(&client, &server.stream_url(&path), "application/json").await;
    let tail = append(&events, r#"{"n":1}"#).await;
    eventually("a wake event for the subscription", || async {
        wake_events(&wake_url)
            .await
            .iter()
            .any(|e| e["subscription_id"] == id.as_str() && e["type"] == "wake")
    })
    .await;

    let claim = subs
        .claim(&id, "worker-1")
        .await
        .expect("claim")
        .expect("work");
    let link = claim
        .streams
        .iter()
        .find(|s| s.path == path)
        .expect("linked");
    assert_eq!(link.tail_offset.as_ref(), Some(&tail));
    match subs.claim(&id, "worker-2").await {
        Err(SubscriptionError::AlreadyClaimed { holder, .. }) => {
            assert_eq!(holder.as_deref(), Some("worker-1"));
        }
        other => panic!("second claim: {other:?}"),
    }
    let heartbeat = subs.ack(&id, &claim, &[], false).await.expect("heartbeat");
    assert!(!heartbeat.next_wake);
    let done = subs
        .ack(&id, &claim, &claim.tails(), true)
        .await
        .expect("ack");
    assert!(!done.next_wake, "nothing new arrived");
    let got = subs.get(&id).await.expect("get");
    assert_eq!(acked(&got, &path).as_deref(), Some(tail.as_str()));
    assert!(matches!(
        subs.ack(&id, &claim, &claim.tails(), true).await,
        Err(SubscriptionError::Fenced { .. })
    ));
    assert!(
        subs.claim(&id, "worker-1").await.expect("claim").is_none(),
        "no pending work"
    );

    append(&events, r#"{"n":2}"#).await;
    let second = subs
        .claim(&id, "worker-1")
        .await
        .expect("claim")
        .expect("work");
    assert!(second.generation > claim.generation);
    subs.release(&id, &second).await.expect("release");
    assert!(matches!(
        subs.release(&id, &second).await,
        Err(SubscriptionError::Fenced { .. })
    ));
    subs.delete(&id).await.expect("delete");
    assert!(matches!(
        subs.get(&id).await,
        Err(SubscriptionError::NotFound { .. })
    ));
}

/// An ack after the lease ran out is refused. The dev server says so
/// (401 `TOKEN_EXPIRED`, `LeaseExpired`); the Node server has cleared the
/// wake by then and answers 409 `FENCED`.
async fn expired_lease(server: TestServer) {
    let client = server.client();
    let subs = subs(&server);
    let prefix = unique_name("lease");
    let wake_name = format!("{prefix}-wake");
    create_at(&client, &server.stream_url(&wake_name), "application/json")
        .await;
    let id = unique_name("sub-lease");
    let spec = SubscriptionSpec {
        streams: vec![format!("{prefix}/x")],
        lease_ttl_ms: Some(1_000),
        ..SubscriptionSpec::new(SubscriptionKind::PullWake {
            wake_stream: wake_name,
        })
    };
    subs.create(&id, &spec).await.expect("create");
    let stream = create_at(
        &client,
        &server.stream_url(&format!("{prefix}/x")),
        "text/plain",
    )
    .await;
    append(&stream, "work").await;
    let claim = subs.claim(&id, "slow").await.expect("claim").expect("work");
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    let late = subs.ack(&id, &claim, &claim.tails(), true).await;
    match server.kind() {
        Kind::Embedded => assert!(
            matches!(late, Err(SubscriptionError::LeaseExpired { .. })),
            "{late:?}"
        ),
        _ => assert!(
            matches!(late, Err(SubscriptionError::Fenced { .. })),
            "{late:?}"
        ),
    }
    let got = subs.get(&id).await.expect("get");
    let path = format!("{prefix}/x");
    assert_ne!(
        acked(&got, &path),
        claim.tails().first().map(|a| a.offset.to_string()),
        "a late ack must not move the cursor"
    );
    subs.delete(&id).await.expect("delete");
}

/// Explicit links: added, listed as `explicit`, removed.
async fn explicit_links(server: TestServer) {
    let subs = subs(&server);
    let receiver = Receiver::start(false).await;
    let id = unique_name("sub-links");
    let prefix = unique_name("links");
    let spec = SubscriptionSpec {
        streams: vec![format!("{prefix}/a")],
        ..SubscriptionSpec::new(SubscriptionKind::Webhook {
            url: receiver.url.clone(),
        })
    };
    subs.create(&id, &spec).await.expect("create");
    subs.add_streams(&id, &[format!("{prefix}/b")])
        .await
        .expect("add");
    let got = subs.get(&id).await.expect("get");
    let paths: Vec<(&str, &str)> = got
        .streams
        .iter()
        .map(|s| (s.path.as_str(), s.link_type.as_str()))
        .collect();
    assert!(
        paths.contains(&(format!("{prefix}/a").as_str(), "explicit")),
        "{paths:?}"
    );
    assert!(
        paths.contains(&(format!("{prefix}/b").as_str(), "explicit")),
        "{paths:?}"
    );
    subs.remove_stream(&id, &format!("{prefix}/b"))
        .await
        .expect("remove");
    let got = subs.get(&id).await.expect("get");
    assert!(got.streams.iter().all(|s| s.path != format!("{prefix}/b")));
    assert!(got.streams.iter().any(|s| s.path == format!("{prefix}/a")));
    subs.delete(&id).await.expect("delete");
}

/// What the test receiver saw: the signature header and the raw body.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A webhook receiver on 127.0.0.1 that records each delivery and
/// answers `{}` (asynchronous) or `{"done":true}`.
struct Receiver {
    url: String,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(done: bool) -> Receiver {
        Self::start_failing(done, 0).await
    }

    /// Answers the first `failures` deliveries 500.
    async fn start_failing(done: bool, failures: usize) -> Receiver {
        let seen: Seen = Arc::default();
        let record = seen.clone();
        let app = axum::Router::new().route(
            "/webhook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: bytes::Bytes| {
                    let record = record.clone();
                    async move {
                        let sig = headers
                            .get("webhook-signature")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let n = {
                            let mut seen = record.lock().unwrap();
                            seen.push((sig, body.to_vec()));
                            seen.len()
                        };
                        let status = if n <= failures {
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            axum::http::StatusCode::OK
                        };
                        (status, if done { r#"{"done":true}"# } else { "{}" })
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/webhook"),
            seen,
            task,
        }
    }

    async fn delivery(&self) -> (String, Vec<u8>) {
        let seen = self.seen.clone();
        eventually("a webhook delivery", || {
            let seen = seen.clone();
            async move { !seen.lock().unwrap().is_empty() }
        })
        .await;
        self.seen.lock().unwrap().last().cloned().expect("delivery")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A webhook delivery verifies against the server's JWKS, names the
/// callback, and the callback acks once; the same callback again is fenced.
async fn webhook_callback(server: TestServer) {
    let client = server.client();
    let subs = subs(&server);
    let receiver = Receiver::start(false).await;
    let id = unique_name("sub-hook");
    let prefix = unique_name("hook");
    let spec = SubscriptionSpec {
        pattern: Some(format!("{prefix}/**")),
        lease_ttl_ms: Some(10_000),
        ..SubscriptionSpec::new(SubscriptionKind::Webhook {
            url: receiver.url.clone(),
        })
    };
    let (created, _) = subs.create(&id, &spec).await.expect("create");
    let signing = created.webhook.and_then(|w| w.signing).expect("signing");
    assert_eq!(signing.alg, "ed25519");
    assert_eq!(signing.jwks_url, subs.jwks_url().expect("url").as_str());
    let jwks = subs.jwks().await.expect("jwks");
    assert!(
        jwks.keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(&signing.kid))
    );

    let path = format!("{prefix}/deep/one");
    let stream =
        create_at(&client, &server.stream_url(&path), "text/plain").await;
    let tail = append(&stream, "event").await;
    let (header, body) = within(WAIT, "delivery", receiver.delivery()).await;
    let verified =
        verify_webhook(&jwks, &header, &body, now_unix(), REPLAY_WINDOW)
            .expect("signature verifies");
    assert_eq!(verified.kid, signing.kid);
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert!(
        verify_webhook(&jwks, &header, &tampered, now_unix(), REPLAY_WINDOW)
            .is_err()
    );
    let wake: WebhookWake = serde_json::from_slice(&body).expect("wake body");
    assert_eq!(wake.subscription_id, id);
    assert!(
        wake.callback_url
            .ends_with(&format!("/__ds/subscriptions/{id}/callback"))
    );
    let acks = vec![StreamAck {
        stream: path.clone(),
        offset: tail.clone(),
    }];
    let outcome = subs.callback(&wake, &acks, true).await.expect("callback");
    assert!(!outcome.next_wake);
    assert!(matches!(
        subs.callback(&wake, &acks, true).await,
        Err(SubscriptionError::Fenced { .. })
    ));
    let got = subs.get(&id).await.expect("get");
    assert_eq!(acked(&got, &path).as_deref(), Some(tail.as_str()));
    subs.delete(&id).await.expect("delete");
}

/// A receiver that answers `{"done":true}` acks the wake's tails.
async fn webhook_sync_done(server: TestServer) {
    let client = server.client();
    let subs = subs(&server);
    let receiver = Receiver::start(true).await;
    let id = unique_name("sub-sync");
    let prefix = unique_name("sync");
    let spec = SubscriptionSpec {
        pattern: Some(format!("{prefix}/*")),
        ..SubscriptionSpec::new(SubscriptionKind::Webhook {
            url: receiver.url.clone(),
        })
    };
    subs.create(&id, &spec).await.expect("create");
    let path = format!("{prefix}/s");
    let stream =
        create_at(&client, &server.stream_url(&path), "text/plain").await;
    let tail = append(&stream, "x").await;
    within(WAIT, "delivery", receiver.delivery()).await;
    eventually("the wake's tail acked", || async {
        subs.get(&id)
            .await
            .is_ok_and(|s| acked(&s, &path).as_deref() == Some(tail.as_str()))
    })
    .await;
    subs.delete(&id).await.expect("delete");
}

/// A failed delivery marks the subscription `failed` and is retried after
/// about a second (1 s ± 20 %), with the same wake.
async fn webhook_retry(server: TestServer) {
    let client = server.client();
    let subs = subs(&server);
    let receiver = Receiver::start_failing(true, 1).await;
    let id = unique_name("sub-retry");
    let prefix = unique_name("retry");
    let spec = SubscriptionSpec {
        pattern: Some(format!("{prefix}/*")),
        lease_ttl_ms: Some(10_000),
        ..SubscriptionSpec::new(SubscriptionKind::Webhook {
            url: receiver.url.clone(),
        })
    };
    subs.create(&id, &spec).await.expect("create");
    let path = format!("{prefix}/r");
    let stream =
        create_at(&client, &server.stream_url(&path), "text/plain").await;
    let tail = append(&stream, "x").await;
    within(WAIT, "first delivery", receiver.delivery()).await;
    let first_at = Instant::now();
    eventually("status failed after the 500", || async {
        subs.get(&id)
            .await
            .is_ok_and(|s| s.status.as_deref() == Some("failed"))
    })
    .await;
    let seen = receiver.seen.clone();
    eventually("a second delivery", || {
        let seen = seen.clone();
        async move { seen.lock().unwrap().len() >= 2 }
    })
    .await;
    let waited = first_at.elapsed();
    assert!(
        waited >= Duration::from_millis(700),
        "retried after {waited:?}, before the 1 s backoff"
    );
    let (first, second) = {
        let seen = receiver.seen.lock().unwrap();
        (seen[0].1.clone(), seen[1].1.clone())
    };
    let wake_of = |body: &[u8]| -> WebhookWake {
        serde_json::from_slice(body).expect("wake body")
    };
    assert_eq!(
        wake_of(&first).wake_id,
        wake_of(&second).wake_id,
        "same wake retried"
    );
    eventually("acked and active again", || async {
        subs.get(&id).await.is_ok_and(|s| {
            acked(&s, &path).as_deref() == Some(tail.as_str())
                && s.status.as_deref() == Some("active")
        })
    })
    .await;
    subs.delete(&id).await.expect("delete");
}

/// Unsafe webhook URLs are refused with the protocol's code.
async fn unsafe_webhook_url(server: TestServer) {
    let subs = subs(&server);
    let spec = SubscriptionSpec {
        pattern: Some("x/*".into()),
        ..SubscriptionSpec::new(SubscriptionKind::Webhook {
            url: "http://10.0.0.1/hook".into(),
        })
    };
    let refused = subs.create(&unique_name("sub-bad"), &spec).await;
    match refused {
        Err(e) => assert_eq!(e.code(), Some("WEBHOOK_URL_REJECTED"), "{e}"),
        Ok(s) => panic!("accepted {s:?}"),
    }
}

subscription_tests!(
    pull_wake_cycle,
    expired_lease,
    explicit_links,
    webhook_callback,
    webhook_sync_done,
    webhook_retry,
    unsafe_webhook_url,
);
