//! What the headless commands print when a server answers with an error:
//! a hostile body (terminal escapes, OSC 0 title, OSC 52 clipboard, fake
//! lines) reaches stderr escaped and cut short; a 401/403 names its status,
//! says when the server gave no reason, and points at --auth / -H; a URL's
//! credentials are not printed. The server is a tiny loopback listener
//! that answers every request the same way.

use crate::support;

use std::time::Duration;

use support::dsx;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A loopback server answering every request with `status` and `body`;
/// stops when dropped.
struct Answering {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answering(status: u16, body: &'static [u8]) -> Answering {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        // Bounded: each test makes a handful of requests.
        for _ in 0..100 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tokio::time::timeout(
                        Duration::from_secs(5),
                        socket.read(&mut buf),
                    )
                    .await
                    {
                        Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                    if head.len() > 64 * 1024 {
                        return;
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status} Hostile\r\ncontent-type: text/plain\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.write_all(body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Answering {
        url: format!("http://{addr}/v1/stream"),
        task,
    }
}

/// Clears the screen, sets the title, writes the clipboard, and starts a
/// line that pretends to be dsx's own.
const HOSTILE: &[u8] =
    b"\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\ndsx: all good\r\x9b31m";

#[track_caller]
fn assert_inert(stderr: &str) {
    for bad in ['\x1b', '\x07', '\r', '\u{9b}'] {
        assert!(!stderr.contains(bad), "raw {bad:?} on stderr: {stderr:?}");
    }
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("dsx: all good"))
            .count(),
        0,
        "a server line posed as dsx's: {stderr:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_error_bodies_are_escaped_everywhere() {
    for status in [401, 403, 500] {
        let server = answering(status, HOSTILE).await;
        let url = format!("{}/s", server.url);
        // (command, whether its failing request has a body to show: a
        // HEAD answer has none)
        let commands: [(&[&str], bool); 8] = [
            (&["read", &url], true),
            (&["read", &url, "--format", "raw"], true),
            // A follow retries a 5xx for --retry-for (15 min by default),
            // saying so each time: bounded here, then it fails as the rest.
            (&["read", &url, "-f", "--retry-for", "1s"], true),
            (&["head", &url], false),
            (&["append", &url, "x"], false),
            (&["create", &url], true),
            (&["delete", &url], true),
            (&["close", &url], true),
        ];
        for (args, has_body) in commands {
            let out = dsx(args).await;
            assert_ne!(out.code, 0, "{args:?}: {out:#?}");
            assert!(out.stderr.contains(&status.to_string()), "{out:#?}");
            assert_inert(&out.stderr);
            if has_body {
                assert!(
                    out.stderr.contains("\\x1b]52;c;"),
                    "{args:?}: body shown escaped: {out:#?}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_error_bodies_are_cut() {
    static LONG: [u8; 100_000] = [b'z'; 100_000];
    let server = answering(403, &LONG).await;
    let out = dsx(&["read", &format!("{}/s", server.url)]).await;
    out.expect_code(5);
    assert!(out.stderr.len() < 4000, "{} bytes", out.stderr.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_say_what_to_check() {
    let server = answering(403, b"").await;
    let url = format!("{}/s", server.url);
    let out = dsx(&["read", &url, "--auth", "Bearer nope"]).await;
    out.expect_code(5);
    assert!(out.stderr.contains("HTTP 403"), "{out:#?}");
    assert!(!out.stderr.trim_end().ends_with(':'), "{out:#?}");
    assert!(!out.stderr.contains(": ;"), "{out:#?}");
    assert!(out.stderr.contains("check --auth / -H"), "{out:#?}");
    let server = answering(401, b"token expired").await;
    let url = format!("{}/s", server.url);
    let out = dsx(&["read", &url]).await;
    assert!(out.stderr.contains("HTTP 401"), "{out:#?}");
    assert!(out.stderr.contains("token expired"), "{out:#?}");
    assert!(out.stderr.contains("check --auth / -H"), "{out:#?}");
    // A HEAD answer has no body: no empty colon, and the hint.
    let out = dsx(&["head", &url]).await;
    assert!(!out.stderr.trim_end().ends_with(':'), "{out:#?}");
    assert!(out.stderr.contains("check --auth / -H"), "{out:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_url_are_not_printed() {
    let server = answering(404, b"").await;
    let url = server.url.replace("http://", "http://alice:s3cret@")
        + "/s?token=t0ken&x=1";
    for args in [&["read", &url][..], &["head", &url], &["delete", &url]] {
        let out = dsx(args).await;
        out.expect_code(2);
        assert!(!out.stderr.contains("s3cret"), "{out:#?}");
        assert!(!out.stderr.contains("t0ken"), "{out:#?}");
        // The client redacts every query value but offset, live, cursor.
        assert!(out.stderr.contains("x=***"), "{out:#?}");
    }
}
