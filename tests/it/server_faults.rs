//! The `/_test/inject-error` fault hooks of the embedded server, over HTTP.

use std::time::{Duration, Instant};

use dsx::server::{ServerConfig, ServerHandle, start};
use reqwest::{Client, StatusCode};

const INJECT: &str = "/_test/inject-error";
const JSON_BODY: &str = r#"[{"id":1,"msg":"first"},{"id":2,"msg":"second"}]"#;

async fn server(test_hooks: bool) -> ServerHandle {
    let config = ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        long_poll_timeout: Duration::from_millis(500),
        test_hooks,
        ..ServerConfig::default()
    };
    start(config).await.expect("server starts")
}

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Creates a JSON stream holding two messages; returns (url, path).
async fn json_stream(http: &Client, srv: &ServerHandle) -> (String, String) {
    let name = format!("faults-{}", rand::random::<u32>());
    let path = format!("/v1/stream/{name}");
    let url = format!("{}{path}", srv.url);
    let resp = http
        .put(&url)
        .header("content-type", "application/json")
        .body(JSON_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    (url, path)
}

/// A server with test hooks, a client, and a JSON stream on that server as
/// [`json_stream`] makes it: `(srv, http, url, path)`.
async fn hooked_stream() -> (ServerHandle, Client, String, String) {
    let srv = server(true).await;
    let http = client();
    let (url, path) = json_stream(&http, &srv).await;
    (srv, http, url, path)
}

/// Arms a fault for `path`: `fields` are the fault's JSON fields after
/// `"path"`.
async fn inject(http: &Client, srv: &ServerHandle, path: &str, fields: &str) {
    let body = format!(r#"{{"path":"{path}",{fields}}}"#);
    let resp = http
        .post(format!("{}{INJECT}", srv.url))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "inject {body}");
    assert_eq!(resp.text().await.unwrap(), r#"{"ok":true}"#);
}

async fn read_all(http: &Client, url: &str) -> (StatusCode, String) {
    let resp = http.get(format!("{url}?offset=-1")).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Opens an SSE read of `url` from the start.
async fn sse_from_start(http: &Client, url: &str) -> reqwest::Response {
    http.get(format!("{url}?offset=-1&live=sse"))
        .send()
        .await
        .unwrap()
}

/// Reads an SSE body until `enough` holds or 5 s pass.
async fn read_sse_until(
    resp: reqwest::Response,
    enough: impl Fn(&str) -> bool,
) -> (String, bool) {
    let mut resp = resp;
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !enough(&text) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
            Ok(Ok(None)) => return (text, true),
            Ok(Err(_)) | Err(_) => return (text, false),
        }
    }
    (text, false)
}

#[tokio::test]
async fn control_endpoint_validates_like_the_node_server() {
    let srv = server(true).await;
    let http = client();
    let url = format!("{}{INJECT}", srv.url);
    let cases = [
        (r#"{"status":503}"#, "Missing required field: path"),
        (
            r#"{"path":"/v1/stream/x"}"#,
            "Must specify at least one fault type: status, delayMs, \
             dropConnection, truncateBodyBytes, corruptBody, or \
             injectSseEvent",
        ),
        ("not json", "Invalid JSON body"),
    ];
    for (body, message) in cases {
        let resp = http.post(&url).body(body).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(resp.text().await.unwrap(), message);
    }
    let resp = http.put(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let resp = http.delete(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.unwrap(), r#"{"ok":true}"#);
    srv.shutdown().await;
}

#[tokio::test]
async fn status_fault_is_used_up_by_count_requests() {
    let (srv, http, url, path) = hooked_stream().await;
    inject(
        &http,
        &srv,
        &path,
        r#""status":503,"retryAfter":2,"count":2"#,
    )
    .await;
    for _ in 0..2 {
        // The query is ignored when matching the path.
        let resp = http.get(format!("{url}?offset=-1")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()["retry-after"], "2");
        assert_eq!(resp.headers()["content-type"], "text/plain");
        assert_eq!(resp.text().await.unwrap(), "Injected error for testing");
    }
    assert_eq!(
        read_all(&http, &url).await,
        (StatusCode::OK, JSON_BODY.into())
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn any_method_uses_a_fault_unless_method_is_set() {
    let (srv, http, url, path) = hooked_stream().await;

    // No method filter: a HEAD uses the fault up, the GET after it is fine.
    inject(&http, &srv, &path, r#""status":500"#).await;
    let head = http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(read_all(&http, &url).await.0, StatusCode::OK);

    // With a filter (any case), only that method triggers it.
    inject(&http, &srv, &path, r#""status":429,"method":"post""#).await;
    assert_eq!(
        http.head(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(read_all(&http, &url).await.0, StatusCode::OK);
    let options = http.request(reqwest::Method::OPTIONS, &url).send().await;
    assert_ne!(options.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    let post = http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"id":3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(post.headers().get("retry-after").is_none());
    // The rejected append did not land.
    assert_eq!(read_all(&http, &url).await.1, JSON_BODY);
    srv.shutdown().await;
}

#[tokio::test]
async fn delete_clears_and_probability_zero_never_fires() {
    let (srv, http, url, path) = hooked_stream().await;
    inject(&http, &srv, &path, r#""status":500"#).await;
    let resp = http.delete(format!("{}{INJECT}", srv.url)).send().await;
    assert_eq!(resp.unwrap().status(), StatusCode::OK);
    assert_eq!(read_all(&http, &url).await.0, StatusCode::OK);

    inject(&http, &srv, &path, r#""status":500,"probability":0"#).await;
    for _ in 0..5 {
        assert_eq!(read_all(&http, &url).await.0, StatusCode::OK);
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn delay_then_normal_answer() {
    let (srv, http, url, path) = hooked_stream().await;
    inject(&http, &srv, &path, r#""delayMs":300"#).await;
    let started = Instant::now();
    let (status, body) = read_all(&http, &url).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((status, body.as_str()), (StatusCode::OK, JSON_BODY));
    srv.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_gets_no_response() {
    let (srv, http, url, path) = hooked_stream().await;
    inject(&http, &srv, &path, r#""dropConnection":true,"count":3"#).await;
    let get = http.get(format!("{url}?offset=-1")).send().await;
    assert!(get.is_err(), "expected no response, got {get:?}");
    let head = http.head(&url).send().await;
    assert!(head.is_err(), "expected no response, got {head:?}");
    let post = http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"id":3}"#)
        .send()
        .await;
    assert!(post.is_err(), "expected no response, got {post:?}");
    // The fault is used up and the dropped append never reached the store.
    assert_eq!(
        read_all(&http, &url).await,
        (StatusCode::OK, JSON_BODY.into())
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn truncated_and_corrupted_catch_up_bodies() {
    let (srv, http, url, path) = hooked_stream().await;

    inject(&http, &srv, &path, r#""truncateBodyBytes":10"#).await;
    let (status, body) = read_all(&http, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, JSON_BODY[..10]);
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());
    assert_eq!(read_all(&http, &url).await.1, JSON_BODY);

    inject(&http, &srv, &path, r#""corruptBody":true"#).await;
    let (status, body) = read_all(&http, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("XY"), "{body}");
    assert_eq!(body.len(), JSON_BODY.len());
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());
    assert_eq!(read_all(&http, &url).await.1, JSON_BODY);

    // As on the Node server, `offset=now` catch-up is answered unmodified
    // (the fault is still used up).
    inject(&http, &srv, &path, r#""corruptBody":true"#).await;
    let now = http.get(format!("{url}?offset=now")).send().await.unwrap();
    assert_eq!(now.text().await.unwrap(), "[]");
    assert_eq!(read_all(&http, &url).await.1, JSON_BODY);
    srv.shutdown().await;
}

#[tokio::test]
async fn stray_sse_event_comes_first_and_only_on_sse() {
    let (srv, http, url, path) = hooked_stream().await;
    let fault = r#""count":2,
        "injectSseEvent":{"eventType":"mystery","data":"{bad"}"#;
    inject(&http, &srv, &path, fault).await;
    // A plain GET uses up one count and is unaffected.
    assert_eq!(read_all(&http, &url).await.1, JSON_BODY);
    let resp = sse_from_start(&http, &url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (text, _) = read_sse_until(resp, |t| t.contains("\"second\"")).await;
    assert!(
        text.starts_with("event: mystery\ndata: {bad\n\n"),
        "SSE body: {text:?}"
    );
    assert!(text.contains("event: data"), "SSE body: {text:?}");
    // Used up: the next SSE read starts with real events.
    let resp = sse_from_start(&http, &url).await;
    let (text, _) = read_sse_until(resp, |t| t.contains("\"second\"")).await;
    assert!(!text.contains("mystery"), "SSE body: {text:?}");
    srv.shutdown().await;
}

#[tokio::test]
async fn truncation_cuts_an_sse_body_mid_stream() {
    let (srv, http, url, path) = hooked_stream().await;
    inject(&http, &srv, &path, r#""truncateBodyBytes":20"#).await;
    let resp = sse_from_start(&http, &url).await;
    let (text, ended) = read_sse_until(resp, |_| false).await;
    assert!(ended, "the cut SSE body should end, got {text:?}");
    assert_eq!(text.len(), 20, "{text:?}");
    srv.shutdown().await;
}

#[tokio::test]
async fn hooks_are_off_by_default() {
    let srv = server(false).await;
    let http = client();
    let (url, path) = json_stream(&http, &srv).await;
    let resp = http
        .post(format!("{}{INJECT}", srv.url))
        .body(format!(r#"{{"path":"{path}","status":500}}"#))
        .send()
        .await
        .unwrap();
    assert_ne!(resp.status(), StatusCode::OK);
    assert_eq!(
        read_all(&http, &url).await,
        (StatusCode::OK, JSON_BODY.into())
    );
    srv.shutdown().await;
}
