//! The dev server beyond the official conformance suite: chunked catch-up,
//! limits, restart on a data directory, registry events, security headers
//! and CORS. Each test runs its own server on `127.0.0.1:0`.

use std::time::Duration;

use dsx::server::{self, Limits, ServerConfig, ServerHandle};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

fn config() -> ServerConfig {
    ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        long_poll_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    }
}

async fn start(config: ServerConfig) -> (ServerHandle, Client) {
    let handle = server::start(config).await.expect("server starts");
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (handle, client)
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn put(c: &Client, url: &str, ct: &str, body: &'static [u8]) -> Response {
    c.put(url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post(c: &Client, url: &str, ct: &str, body: Vec<u8>) -> Response {
    c.post(url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Reads a whole stream chunk by chunk; returns the chunks' bodies and
/// whether each carried `Stream-Up-To-Date`.
async fn read_chunks(c: &Client, url: &str) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut offset = "-1".to_owned();
    for _ in 0..100 {
        let r = c
            .get(format!("{url}?offset={offset}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let up = header(&r, "stream-up-to-date") == Some("true");
        offset = header(&r, "stream-next-offset").unwrap().to_owned();
        let body = r.bytes().await.unwrap().to_vec();
        out.push((body, up));
        if up {
            return out;
        }
    }
    panic!("read did not reach the tail in 100 requests");
}

#[tokio::test]
async fn large_reads_are_split_with_up_to_date_only_on_the_last_chunk() {
    let mut cfg = config();
    cfg.limits = Limits {
        max_chunk_bytes: 1000,
        ..Limits::default()
    };
    let (srv, c) = start(cfg).await;
    let url = format!("{}/bin", srv.stream_base());
    put(&c, &url, "application/octet-stream", b"").await;
    let data: Vec<u8> = (0..3500u32).map(|i| (i % 251) as u8).collect();
    let r = post(&c, &url, "application/octet-stream", data.clone()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let chunks = read_chunks(&c, &url).await;
    assert_eq!(chunks.len(), 4, "3500 bytes in chunks of at most 1000");
    for (i, (body, up)) in chunks.iter().enumerate() {
        assert!(body.len() <= 1000);
        assert_eq!(*up, i == chunks.len() - 1, "chunk {i}");
    }
    let all: Vec<u8> = chunks.into_iter().flat_map(|(b, _)| b).collect();
    assert_eq!(all, data);

    // JSON chunks end on message boundaries and are arrays on their own.
    let jurl = format!("{}/json", srv.stream_base());
    put(&c, &jurl, "application/json", b"").await;
    let msgs: Vec<Value> = (0..200)
        .map(|i| serde_json::json!({"i": i, "pad": "x".repeat(20)}))
        .collect();
    let batch = serde_json::to_vec(&msgs).unwrap();
    let r = post(&c, &jurl, "application/json", batch).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let chunks = read_chunks(&c, &jurl).await;
    assert!(chunks.len() > 3);
    let mut seen = Vec::new();
    for (body, _) in &chunks {
        let part: Vec<Value> =
            serde_json::from_slice(body).expect("chunk is JSON");
        seen.extend(part);
    }
    assert_eq!(seen, msgs);
    srv.shutdown().await;
}

#[tokio::test]
async fn body_and_memory_limits_answer_clearly() {
    let mut cfg = config();
    cfg.limits = Limits {
        max_body_bytes: 1000,
        max_chunk_bytes: 4096,
        max_memory_bytes: 10_000,
    };
    cfg.registry = false;
    let (srv, c) = start(cfg).await;
    let url = format!("{}/limited", srv.stream_base());
    put(&c, &url, "application/octet-stream", b"").await;

    let r = post(&c, &url, "application/octet-stream", vec![1; 1001]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("--max-body-mb"));

    let mut status = StatusCode::NO_CONTENT;
    for _ in 0..20 {
        let r = post(&c, &url, "application/octet-stream", vec![7; 900]).await;
        status = r.status();
        if status != StatusCode::NO_CONTENT {
            assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
            let text = r.text().await.unwrap();
            assert!(text.contains("--max-memory-mb"), "{text}");
            break;
        }
    }
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    // Deleting frees the budget.
    let r = c.delete(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    put(&c, &url, "application/octet-stream", b"").await;
    let r = post(&c, &url, "application/octet-stream", vec![7; 900]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    srv.shutdown().await;
}

#[tokio::test]
async fn data_dir_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.data_dir = Some(dir.path().to_owned());
    let (srv, c) = start(cfg.clone()).await;
    let base = srv.stream_base();
    let text = format!("{base}/logs/app");
    put(&c, &text, "text/plain", b"hello ").await;
    for seq in 0..2 {
        let r = c
            .post(&text)
            .header("content-type", "text/plain")
            .header("producer-id", "p1")
            .header("producer-epoch", "3")
            .header("producer-seq", seq.to_string())
            .header("stream-seq", format!("00{seq}"))
            .body(format!("w{seq} "))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let json = format!("{base}/events");
    put(&c, &json, "application/json", br#"[{"a":1},{"b":2}]"#).await;
    let r = c
        .post(&json)
        .header("stream-closed", "true")
        .header("content-type", "application/json")
        .body(r#"{"c":3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let fork = format!("{base}/events-fork");
    let r = c
        .put(&fork)
        .header("stream-forked-from", "/v1/stream/events")
        .header("stream-fork-offset", "0000000000000000_0000000000000008")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let before_text = c.get(&text).send().await.unwrap().text().await.unwrap();
    srv.shutdown().await;

    let (srv, c) = start(cfg).await;
    let base = srv.stream_base();
    let text = format!("{base}/logs/app");
    let r = c.get(&text).send().await.unwrap();
    assert_eq!(header(&r, "content-type"), Some("text/plain"));
    assert_eq!(r.text().await.unwrap(), before_text);
    assert_eq!(before_text, "hello w0 w1 ");
    // Producer state survived: a retry is a duplicate, the next is new.
    let send = |seq: u64, stream_seq: &str| {
        c.post(&text)
            .header("content-type", "text/plain")
            .header("producer-id", "p1")
            .header("producer-epoch", "3")
            .header("producer-seq", seq.to_string())
            .header("stream-seq", stream_seq)
            .body("again")
            .send()
    };
    assert_eq!(
        send(1, "001").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let r = c
        .post(&text)
        .header("content-type", "text/plain")
        .header("stream-seq", "001")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "Stream-Seq survived");
    assert_eq!(send(2, "002").await.unwrap().status(), StatusCode::OK);

    let r = c.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(header(&r, "stream-closed"), Some("true"));
    assert_eq!(r.text().await.unwrap(), r#"[{"a":1},{"b":2},{"c":3}]"#);
    let r = c
        .post(format!("{base}/events"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = c.get(format!("{base}/events-fork")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), r#"[{"a":1}]"#);

    let reg = registry(&c, &base).await;
    let keys: Vec<&str> =
        reg.iter().filter_map(|e| e["key"].as_str()).collect();
    assert_eq!(keys, ["__registry__", "logs/app", "events", "events-fork"]);
    srv.shutdown().await;
}

async fn registry(c: &Client, base: &str) -> Vec<Value> {
    let r = c.get(format!("{base}/__registry__")).send().await.unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn registry_records_creates_and_deletes() {
    let (srv, c) = start(config()).await;
    let base = srv.stream_base();
    put(&c, &format!("{base}/orders"), "application/json", b"").await;
    let r = c.delete(format!("{base}/orders")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let events = registry(&c, &base).await;
    let insert = &events[1];
    assert_eq!(insert["type"], "stream");
    assert_eq!(insert["key"], "orders");
    assert_eq!(insert["value"]["path"], "orders");
    assert_eq!(insert["value"]["contentType"], "application/json");
    assert!(insert["value"]["createdAt"].as_u64().unwrap() > 1_700_000_000_000);
    assert_eq!(insert["headers"]["operation"], "insert");
    let delete = &events[2];
    assert_eq!(delete["key"], "orders");
    assert_eq!(delete["headers"]["operation"], "delete");
    assert!(delete.get("value").is_none());
    // Each event's offset is the registry position just after it.
    let r = c.head(format!("{base}/__registry__")).send().await.unwrap();
    let tail = header(&r, "stream-next-offset").unwrap();
    assert_eq!(delete["headers"]["offset"], tail);
    srv.shutdown().await;
}

#[tokio::test]
async fn security_and_cors_headers() {
    let (srv, c) = start(config()).await;
    let url = format!("{}/sec", srv.stream_base());
    let missing = c.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    put(&c, &url, "text/plain", b"x").await;
    let read = c.get(&url).send().await.unwrap();
    let head = c.head(&url).send().await.unwrap();
    for r in [&missing, &read, &head] {
        assert_eq!(header(r, "x-content-type-options"), Some("nosniff"));
        assert_eq!(
            header(r, "cross-origin-resource-policy"),
            Some("cross-origin")
        );
        assert_eq!(header(r, "access-control-allow-origin"), Some("*"));
    }
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    let expose = header(&read, "access-control-expose-headers").unwrap();
    for h in [
        "stream-next-offset",
        "stream-up-to-date",
        "stream-closed",
        "etag",
    ] {
        assert!(expose.contains(h), "{h} exposed");
    }

    let pre = c
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "producer-id, stream-seq")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&pre, "access-control-allow-origin"), Some("*"));
    let allow = header(&pre, "access-control-allow-headers").unwrap();
    for h in [
        "content-type",
        "producer-id",
        "producer-epoch",
        "stream-seq",
        "stream-closed",
        "if-none-match",
    ] {
        assert!(allow.contains(h), "{h} allowed");
    }
    assert!(
        header(&pre, "access-control-allow-methods")
            .unwrap()
            .contains("DELETE")
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_live_readers_promptly() {
    let mut cfg = config();
    cfg.long_poll_timeout = Duration::from_secs(30);
    let (srv, c) = start(cfg).await;
    let url = format!("{}/live", srv.stream_base());
    put(&c, &url, "text/plain", b"").await;
    let sse = c
        .get(format!("{url}?offset=now&live=sse"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&sse, "content-type"), Some("text/event-stream"));
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), srv.shutdown())
        .await
        .expect("shutdown finishes while an SSE reader is connected");
    assert!(started.elapsed() < Duration::from_secs(5));
    let rest = tokio::time::timeout(Duration::from_secs(5), sse.text()).await;
    assert!(rest.is_ok(), "the SSE body ends");
}

#[tokio::test]
async fn data_dir_keeps_soft_deletes_and_drops_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.data_dir = Some(dir.path().to_owned());
    let (srv, c) = start(cfg.clone()).await;
    let base = srv.stream_base();
    put(&c, &format!("{base}/src"), "text/plain", b"inherited").await;
    let r = c
        .put(format!("{base}/fork"))
        .header("stream-forked-from", "src")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c.delete(format!("{base}/src")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    post(&c, &format!("{base}/fork"), "text/plain", b" own".to_vec()).await;
    srv.shutdown().await;

    // A crash mid-write leaves a partial record; it was never acknowledged.
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("streams"))
        .unwrap()
        .map(|e| e.unwrap().path().join("log"))
        .collect();
    for log in &logs {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
        // The start of a record (magic, part of the lengths), cut off.
        f.write_all(b"DSX\xff\x05\x00\x00").unwrap();
    }

    let (srv, c) = start(cfg).await;
    let base = srv.stream_base();
    let r = c.head(format!("{base}/src")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE, "still soft-deleted");
    let r = c.get(format!("{base}/fork")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "inherited own");
    let r =
        post(&c, &format!("{base}/fork"), "text/plain", b"!".to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c.get(format!("{base}/fork")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "inherited own!");
    // Deleting the last fork removes the soft-deleted source for good.
    let r = c.delete(format!("{base}/fork")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c.head(format!("{base}/src")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    srv.shutdown().await;
}

#[tokio::test]
async fn expiry_is_recorded_in_the_registry() {
    let (srv, c) = start(config()).await;
    let base = srv.stream_base();
    let r = c
        .put(format!("{base}/short"))
        .header("stream-ttl", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut ops = Vec::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ops = registry(&c, &base)
            .await
            .iter()
            .filter(|e| e["key"] == "short")
            .map(|e| e["headers"]["operation"].as_str().unwrap().to_owned())
            .collect();
        if ops.len() == 2 {
            break;
        }
    }
    assert_eq!(ops, ["insert", "delete"]);
    let r = c.get(format!("{base}/short")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    srv.shutdown().await;
}

#[tokio::test]
async fn in_process_writes_are_visible_over_http() {
    use dsx::server::{AppendRequest, CreateRequest};
    let (srv, c) = start(config()).await;
    let store = srv.store();
    let req = CreateRequest {
        content_type: Some("application/json".into()),
        ..CreateRequest::default()
    };
    let (_, created) = store.create("local/feed", req).await.unwrap();
    assert!(created);
    let out = store
        .append_to(
            "local/feed",
            AppendRequest {
                content_type: Some("application/json".into()),
                body: bytes::Bytes::from_static(br#"[{"n":1},{"n":2}]"#),
                ..AppendRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.status, 204);
    let r = c
        .get(format!("{}/local/feed", srv.stream_base()))
        .send()
        .await;
    assert_eq!(r.unwrap().text().await.unwrap(), r#"[{"n":1},{"n":2}]"#);
    srv.shutdown().await;
}

#[tokio::test]
async fn sse_connections_end_after_their_lifetime() {
    let mut cfg = config();
    cfg.sse_max_duration = Duration::from_millis(400);
    cfg.long_poll_timeout = Duration::from_millis(100);
    let (srv, c) = start(cfg).await;
    let url = format!("{}/sse", srv.stream_base());
    put(&c, &url, "text/plain", b"hi").await;
    let started = std::time::Instant::now();
    let r = c
        .get(format!("{url}?offset=-1&live=sse"))
        .send()
        .await
        .unwrap();
    let body = tokio::time::timeout(Duration::from_secs(5), r.text())
        .await
        .expect("the server closes the SSE connection")
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(350));
    assert!(body.starts_with("event: data\ndata:hi\n\nevent: control\n"));
    // Keep-alive controls arrived while waiting; none claims closure.
    assert!(body.matches("event: control").count() >= 2, "{body}");
    assert!(!body.contains("streamClosed"));
    srv.shutdown().await;
}

#[tokio::test]
async fn text_chunks_do_not_split_characters() {
    let mut cfg = config();
    cfg.limits = Limits {
        max_chunk_bytes: 5,
        ..Limits::default()
    };
    let (srv, c) = start(cfg).await;
    let url = format!("{}/utf8", srv.stream_base());
    let text = "ééééé€€€";
    c.put(&url)
        .header("content-type", "text/plain; charset=utf-8")
        .body(text)
        .send()
        .await
        .unwrap();
    let chunks = read_chunks(&c, &url).await;
    let mut all = String::new();
    for (body, _) in &chunks {
        all.push_str(std::str::from_utf8(body).expect("whole characters"));
    }
    assert_eq!(all, text);
    assert!(chunks.len() >= 4);
    srv.shutdown().await;
}

#[tokio::test]
async fn data_dir_handles_long_and_odd_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.data_dir = Some(dir.path().to_owned());
    let long = format!("deep/{}/x", "n".repeat(300));
    let names = [long.as_str(), "a/../b", "sp ace", "ünï"];
    let (srv, c) = start(cfg.clone()).await;
    for (i, name) in names.iter().enumerate() {
        let url = format!("{}/{}", srv.stream_base(), urlencode(name));
        let r = c.put(&url).body(format!("body{i}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{name}");
    }
    srv.shutdown().await;
    let (srv, c) = start(cfg).await;
    for (i, name) in names.iter().enumerate() {
        let url = format!("{}/{}", srv.stream_base(), urlencode(name));
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), format!("body{i}"), "{name}");
    }
    srv.shutdown().await;
}

/// Percent-encodes each path segment (keeps `/`).
fn urlencode(name: &str) -> String {
    name.split('/')
        .map(|seg| {
            percent_encoding::utf8_percent_encode(
                seg,
                percent_encoding::NON_ALPHANUMERIC,
            )
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("/")
}
