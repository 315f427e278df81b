//! The dev server against misbehaving clients: half-sent headers, bodies
//! refused before they were read.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use dsx::server::{ServerConfig, start};
use support::{Dsx, data_dir_arg, http, run_to_end};

/// Reads until the server closes the connection; `Ok(bytes)` on EOF or a
/// reset, `Err` when it was still open after `limit`.
fn read_until_closed(
    tcp: &mut TcpStream,
    limit: Duration,
) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("still open after {limit:?}"));
        }
        tcp.set_read_timeout(Some(left)).unwrap();
        match tcp.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(got),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("still open after {limit:?}"));
            }
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_dropped_after_the_header_timeout() {
    let handle = start(ServerConfig {
        addr: ([127, 0, 0, 1], 0).into(),
        header_read_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let addr = handle.url.trim_start_matches("http://").to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        // Slowloris: many connections, each stuck inside its headers, and
        // one that never sends a byte.
        let mut conns: Vec<TcpStream> = (0..50)
            .map(|i| {
                let mut tcp = TcpStream::connect(&addr).unwrap();
                if i > 0 {
                    tcp.write_all(b"GET /v1/stream/x HTTP/1.1\r\nHost: a\r\nX-Slow: ")
                        .unwrap();
                }
                tcp
            })
            .collect();
        let mut open = Vec::new();
        for (i, tcp) in conns.iter_mut().enumerate() {
            if let Err(e) = read_until_closed(tcp, Duration::from_secs(15)) {
                open.push(format!("connection {i}: {e}"));
            }
        }
        // The server still answers a well-behaved client.
        let mut ok = TcpStream::connect(&addr).unwrap();
        ok.write_all(
            b"HEAD /v1/stream/nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let answer = read_until_closed(&mut ok, Duration::from_secs(15));
        (open, answer)
    })
    .await
    .unwrap();
    let (open, answer) = outcome;
    assert!(open.is_empty(), "half-sent requests kept: {open:?}");
    let answer =
        String::from_utf8_lossy(&answer.expect("an answer")).into_owned();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer:?}");
    handle.shutdown().await;
}

/// Sends `body_len` bytes of body after `head` and returns the response,
/// or why it did not come. Every write must succeed: the server reads (and
/// throws away) what it refuses before answering.
fn send_and_read(
    addr: &str,
    head: &str,
    body_len: usize,
) -> Result<String, String> {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_write_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    tcp.write_all(head.as_bytes())
        .map_err(|e| format!("head: {e}"))?;
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < body_len {
        let n = chunk.len().min(body_len - sent);
        tcp.write_all(&chunk[..n])
            .map_err(|e| format!("body write after {sent} bytes: {e}"))?;
        sent += n;
    }
    let answer = read_until_closed(&mut tcp, Duration::from_secs(30))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn an_append_past_the_memory_budget_gets_its_507_not_a_broken_pipe() {
    let dsx = Dsx::spawn(&[
        "serve",
        "--port",
        "0",
        "--max-memory-mb",
        "1",
        "--max-body-mb",
        "64",
        "--no-registry",
    ]);
    let url = dsx.loopback_url();
    let addr = url.trim_start_matches("http://").to_owned();
    let create = "PUT /v1/stream/full HTTP/1.1\r\nHost: a\r\n\
                  Content-Type: application/octet-stream\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n";
    let created = send_and_read(&addr, create, 0).unwrap();
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    // 24 MiB declared: refused at once against a 1 MiB budget. The body
    // is far larger than the socket buffers, so a server that answered
    // and closed without reading it reset the connection mid-write.
    let len = 24 << 20;
    let append = format!(
        "POST /v1/stream/full HTTP/1.1\r\nHost: a\r\n\
         Content-Type: application/octet-stream\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    let answer = send_and_read(&addr, &append, len)
        .unwrap_or_else(|e| panic!("no 507: {e}\n{}", dsx.transcript()));
    assert!(answer.starts_with("HTTP/1.1 507"), "{answer}");
    assert!(answer.contains("memory budget"), "{answer}");
}

#[tokio::test]
async fn a_flipped_byte_in_a_data_dir_log_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = data_dir_arg(dir.path());
    let mut first = Dsx::spawn(&[
        "serve",
        "--port",
        "0",
        "--data-dir",
        &dir_arg,
        "--no-registry",
    ]);
    let url = format!("{}/v1/stream/kept", first.loopback_url());
    let http = http();
    let created = http
        .put(&url)
        .header("content-type", "text/plain")
        .body("acknowledged line one\n")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let appended = http
        .post(&url)
        .header("content-type", "text/plain")
        .body("acknowledged line two\n")
        .send()
        .await
        .unwrap();
    assert!(appended.status().is_success());
    first.kill();

    let streams = dir.path().join("streams");
    let stream_dir = std::fs::read_dir(&streams)
        .unwrap()
        .next()
        .expect("one stream directory")
        .unwrap()
        .path();
    let log = stream_dir.join("log");
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes
        .windows(3)
        .position(|w| w == b"one")
        .expect("the first line is in the log");
    bytes[at] = b'0';
    std::fs::write(&log, &bytes).unwrap();

    let (status, out) = run_to_end(
        &[
            "serve",
            "--port",
            "0",
            "--data-dir",
            &dir_arg,
            "--no-registry",
        ],
        Duration::from_secs(20),
    );
    assert!(!status.success(), "served a corrupt log:\n{out}");
    assert!(out.contains("corrupt record"), "{out}");
    assert!(out.contains("log"), "names no file:\n{out}");
    // Nothing was cut off: the log is as it was left, for the user to see.
    assert_eq!(std::fs::read(&log).unwrap(), bytes);
}
