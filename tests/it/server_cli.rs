//! The `dsx` binary's headless commands: help, version, `dsx serve`.

use crate::support;

use std::time::Duration;

use reqwest::StatusCode;
use support::{Dsx, data_dir_arg, http, run_to_end};

const EXIT_WAIT: Duration = Duration::from_secs(20);

#[test]
fn help_lists_the_subcommands() {
    let (status, out) = run_to_end(&["--help"], EXIT_WAIT);
    assert!(status.success(), "{out}");
    for word in ["serve", "demo", "Usage"] {
        assert!(out.contains(word), "no {word:?} in:\n{out}");
    }
    let (status, out) = run_to_end(&["serve", "--help"], EXIT_WAIT);
    assert!(status.success(), "{out}");
    for flag in ["--port", "--data-dir", "--allow-remote", "--test-hooks"] {
        assert!(out.contains(flag), "no {flag} in:\n{out}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let (status, out) = run_to_end(&["--version"], EXIT_WAIT);
    assert!(status.success(), "{out}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

#[tokio::test]
async fn serve_prints_its_url_and_answers() {
    let dsx = Dsx::spawn(&["serve", "--port", "0"]);
    let url = dsx.loopback_url();
    let http = http();
    let stream = format!("{url}/v1/stream/cli-{}", rand::random::<u32>());
    let resp = http
        .put(&stream)
        .header("content-type", "text/plain")
        .body("hello\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body = http
        .get(format!("{stream}?offset=-1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "hello\n");
}

#[tokio::test]
async fn test_hooks_flag_mounts_the_fault_endpoint() {
    let http = http();
    let plain = Dsx::spawn(&["serve", "--port", "0"]);
    let resp = http
        .post(format!("{}/_test/inject-error", plain.loopback_url()))
        .body(r#"{"path":"/v1/stream/x","status":503}"#)
        .send()
        .await
        .unwrap();
    assert_ne!(resp.status(), StatusCode::OK, "hooks on without the flag");

    let hooked = Dsx::spawn(&["serve", "--port", "0", "--test-hooks"]);
    let url = hooked.loopback_url();
    let resp = http
        .post(format!("{url}/_test/inject-error"))
        .body(r#"{"path":"/v1/stream/x","status":503}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let injected = http.head(format!("{url}/v1/stream/x")).send().await;
    assert_eq!(injected.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    let after = http.head(format!("{url}/v1/stream/x")).send().await;
    assert_eq!(after.unwrap().status(), StatusCode::NOT_FOUND);
}

#[test]
fn non_loopback_host_is_refused_without_allow_remote() {
    let (status, out) =
        run_to_end(&["serve", "--host", "0.0.0.0", "--port", "0"], EXIT_WAIT);
    assert!(!status.success(), "dsx serve on 0.0.0.0 ran:\n{out}");
    // A usage error, as documented (it used to exit 5).
    assert_eq!(status.code(), Some(1), "exit code:\n{out}");
    assert!(out.contains("--allow-remote"), "unclear refusal:\n{out}");
}

#[test]
fn limits_that_overflow_or_are_zero_are_usage_errors() {
    // 17592186044416 MiB is 2^64 bytes: it used to wrap to a 0-byte limit
    // and the server started, refusing every body.
    for (flag, value) in [
        ("--max-body-mb", "17592186044416"),
        ("--max-memory-mb", "18446744073709551615"),
        ("--max-chunk-kb", "0"),
    ] {
        let (status, out) =
            run_to_end(&["serve", "--port", "0", flag, value], EXIT_WAIT);
        assert_eq!(status.code(), Some(1), "{flag} {value}:\n{out}");
        assert!(out.contains(flag), "{flag} {value} not named:\n{out}");
        assert!(!out.contains("listening"), "started anyway:\n{out}");
    }
}

#[test]
fn allow_remote_binds_with_a_warning() {
    // Binds all interfaces on a free port; no traffic is sent to it.
    let dsx = Dsx::spawn(&[
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--allow-remote",
    ]);
    let warning = dsx.wait_line(Duration::from_secs(20), |l| {
        l.to_ascii_lowercase().contains("warn")
    });
    assert!(
        warning.is_some(),
        "no warning; output:\n{}",
        dsx.transcript()
    );
}

/// Acknowledged writes survive SIGKILL: JSON messages, a closed stream's
/// content and closure, binary bytes, and the tail offsets.
#[tokio::test]
async fn data_dir_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = data_dir_arg(dir.path());
    let http = http();

    let mut first =
        Dsx::spawn(&["serve", "--port", "0", "--data-dir", &dir_arg]);
    let url = first.loopback_url();
    let json = format!("{url}/v1/stream/restart/json");
    let text = format!("{url}/v1/stream/restart/closed");
    let bin = format!("{url}/v1/stream/restart/bin");

    let put = |u: &str, ct: &'static str, body: Vec<u8>| {
        http.put(u).header("content-type", ct).body(body).send()
    };
    let post = |u: &str, ct: &'static str, body: Vec<u8>| {
        http.post(u).header("content-type", ct).body(body).send()
    };
    assert_eq!(
        put(&json, "application/json", br#"[{"n":1},{"n":2}]"#.to_vec())
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    for n in 3..=5 {
        let body = format!(r#"{{"n":{n},"note":"after create"}}"#);
        let resp = post(&json, "application/json", body.into_bytes()).await;
        assert!(resp.unwrap().status().is_success());
    }
    let created = put(&text, "text/plain", b"line 1\n".to_vec()).await;
    assert_eq!(created.unwrap().status(), StatusCode::CREATED);
    let appended = post(&text, "text/plain", b"line 2\n".to_vec()).await;
    assert!(appended.unwrap().status().is_success());
    let close = http
        .post(&text)
        .header("content-type", "text/plain")
        .header("Stream-Closed", "true")
        .body("last line\n")
        .send()
        .await
        .unwrap();
    assert!(close.status().is_success());
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0xff, 0x80]).collect();
    let created = put(&bin, "application/octet-stream", bytes.clone()).await;
    assert_eq!(created.unwrap().status(), StatusCode::CREATED);

    let tails = tail_offsets(&http, &[&json, &text, &bin]).await;
    first.kill();

    let second = Dsx::spawn(&["serve", "--port", "0", "--data-dir", &dir_arg]);
    let url2 = second.loopback_url();
    let moved = |u: &str| u.replace(&url, &url2);
    let (json, text, bin) = (moved(&json), moved(&text), moved(&bin));

    let messages: serde_json::Value =
        serde_json::from_str(&get_text(&http, &json).await).unwrap();
    let ns: Vec<u64> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ns, [1, 2, 3, 4, 5]);
    assert_eq!(get_text(&http, &text).await, "line 1\nline 2\nlast line\n");
    let head = http.head(&text).send().await.unwrap();
    assert_eq!(head.headers()["stream-closed"], "true");
    let rejected = post(&text, "text/plain", b"too late\n".to_vec()).await;
    assert_eq!(rejected.unwrap().status(), StatusCode::CONFLICT);
    let got = http
        .get(format!("{bin}?offset=-1"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), bytes.as_slice());
    assert_eq!(tail_offsets(&http, &[&json, &text, &bin]).await, tails);
}

async fn get_text(http: &reqwest::Client, url: &str) -> String {
    let resp = http.get(format!("{url}?offset=-1")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "GET {url}");
    resp.text().await.unwrap()
}

async fn tail_offsets(http: &reqwest::Client, urls: &[&str]) -> Vec<String> {
    let mut tails = Vec::new();
    for url in urls {
        let head = http.head(*url).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "HEAD {url}");
        let tail = head.headers()["stream-next-offset"].to_str().unwrap();
        tails.push(tail.to_owned());
    }
    tails
}
