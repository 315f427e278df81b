//! `dsx create`, `close`, `delete`, `head`, `fork` and `completions` as child
//! processes, the base URL (`STREAM_URL` or the top-level argument), the
//! headers sent (`-H`, `--auth`, `STREAM_AUTH`) and the exit codes.

use crate::support;

use dsx::client::{LiveMode, Offset};
use futures::StreamExt;
use support::cli::{command, run};
use support::{
    TestServer, WAIT, append, create_at, dead_port, dsx, read_opts, within,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

async fn create_head_delete(server: TestServer) {
    let url = server.fresh_url("adm-create");
    let out = dsx(&[
        "create",
        &url,
        "--content-type",
        "text/plain",
        "--ttl",
        "3600",
    ])
    .await;
    out.ok();
    assert!(out.stderr.contains("created"), "{out:#?}");
    let out = dsx(&["head", &url, "--json"]).await;
    let meta = parse(&out.ok().stdout);
    assert_eq!(meta["url"], url.as_str());
    assert!(
        meta["content_type"]
            .as_str()
            .is_some_and(|t| t.starts_with("text/plain")),
        "{meta}"
    );
    assert_eq!(meta["ttl"], 3600);
    assert_eq!(meta["closed"], false);
    assert!(meta["next_offset"].as_str().is_some_and(|o| !o.is_empty()));
    for key in ["expires_at", "etag", "cache_control"] {
        assert!(meta.get(key).is_some(), "no {key} in {meta}");
    }
    // The same configuration again is fine; another one is a conflict.
    let out = dsx(&[
        "create",
        &url,
        "--content-type",
        "text/plain",
        "--ttl",
        "3600",
    ])
    .await;
    out.ok();
    assert!(out.stderr.contains("already exists"), "{out:#?}");
    let out = dsx(&["create", &url, "--json"]).await;
    out.expect_code(3);
    assert!(out.stderr.contains("409"), "{out:#?}");

    dsx(&["delete", &url]).await.ok();
    let out = dsx(&["head", &url]).await;
    out.expect_code(2);
    assert!(out.stderr.contains("404"), "{out:#?}");
    dsx(&["delete", &url]).await.expect_code(2);
}

async fn head_human_output(server: TestServer) {
    let url = server.fresh_url("adm-head");
    dsx(&["create", &url, "--json", "--closed", r#"{"a":1}"#])
        .await
        .ok();
    let out = dsx(&["head", &url]).await;
    let text = &out.ok().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    for key in [
        "url:",
        "content type:",
        "next offset:",
        "closed:",
        "ttl:",
        "expires at:",
        "etag:",
        "cache-control:",
    ] {
        assert!(lines.iter().any(|l| l.starts_with(key)), "{key}: {text}");
    }
    // Values line up in one column.
    let column = lines[0].find("http").expect("url value");
    assert!(
        lines
            .iter()
            .all(|l| l.len() > column && &l[column - 1..column] == " ")
    );
    assert!(text.contains("closed:        yes"), "{text}");
    // Created closed with its data: the data is there, appends refused.
    let out = dsx(&["read", &url]).await;
    assert_eq!(out.ok().stdout, "{\"a\":1}\n");
    dsx(&["append", &url, "2"]).await.expect_code(3);
}

async fn close_with_and_without_data(server: TestServer) {
    let url = server.fresh_url("adm-close");
    let stream = create_at(&server.client(), &url, "text/plain").await;
    append(&stream, "a").await;
    let out = dsx(&["close", &url, "b"]).await;
    out.ok();
    let meta = stream.head().await.expect("head");
    assert!(meta.closed);
    assert!(out.stderr.contains(meta.next_offset.as_str()), "{out:#?}");
    assert_eq!(dsx(&["read", &url]).await.ok().stdout, "ab");
    // Closing again is idempotent; closing with data is a conflict.
    dsx(&["close", &url]).await.ok();
    dsx(&["close", &url, "c"]).await.expect_code(3);
    dsx(&["close", &server.fresh_url("adm-none")])
        .await
        .expect_code(2);
}

async fn fork_at_an_offset(server: TestServer) {
    let source = server.fresh_url("adm-src");
    let stream = create_at(&server.client(), &source, "text/plain").await;
    let mid = append(&stream, "one\n").await;
    append(&stream, "two\n").await;
    let at_tail = server.fresh_url("adm-fork-tail");
    dsx(&["fork", &source, &at_tail]).await.ok();
    let at_mid = server.fresh_url("adm-fork-mid");
    dsx(&["fork", &source, &at_mid, "--offset", mid.as_str()])
        .await
        .ok();
    assert_eq!(dsx(&["read", &at_tail]).await.ok().stdout, "one\ntwo\n");
    assert_eq!(dsx(&["read", &at_mid]).await.ok().stdout, "one\n");
    dsx(&["append", &at_mid, "three\n"]).await.ok();
    assert_eq!(dsx(&["read", &at_mid]).await.ok().stdout, "one\nthree\n");
    let missing = server.fresh_url("adm-nosrc");
    let out = dsx(&["fork", &missing, &server.fresh_url("adm-f")]).await;
    assert!(matches!(out.code, 2 | 3 | 5), "fork of nothing: {out:#?}");
    assert_ne!(out.code, 0);
}

/// A fork onto a stream that exists otherwise (forked at another offset)
/// changed nothing but said `forked from`, exit 0: it is a conflict. The
/// same fork again is accepted and says nothing changed. A missing source
/// is named in the error, not the new stream.
async fn fork_conflicts_and_missing_source(server: TestServer) {
    let source = server.fresh_url("adm-fsrc");
    let stream = create_at(&server.client(), &source, "text/plain").await;
    let mid = append(&stream, "one\n").await;
    append(&stream, "two\n").await;
    let fork = server.fresh_url("adm-fork-mid");
    dsx(&["fork", &source, &fork, "--offset", mid.as_str()])
        .await
        .ok();
    // Onto it at the tail (no --offset): a conflict, and nothing changed.
    let out = dsx(&["fork", &source, &fork]).await;
    out.expect_code(3);
    assert!(!out.stderr.contains("forked from"), "{out:#?}");
    assert!(out.stderr.contains("already exists"), "{out:#?}");
    assert_eq!(dsx(&["read", &fork]).await.ok().stdout, "one\n");
    // The same fork again: the dev server and the official Rust server
    // accept it (dsx says nothing changed); the official Node server
    // answers 409 "already exists with different configuration", which
    // dsx reports as the conflict it was told of.
    let out = dsx(&["fork", &source, &fork, "--offset", mid.as_str()]).await;
    if server.kind() == support::Kind::OfficialNode {
        out.expect_code(3);
        assert!(out.stderr.contains("already exists"), "{out:#?}");
    } else {
        out.ok();
        assert!(out.stderr.contains("nothing changed"), "{out:#?}");
    }
    // A fork at the tail, rerun while the tail has not moved: the same.
    let at_tail = server.fresh_url("adm-fork-tail");
    let out = dsx(&["fork", &source, &at_tail]).await;
    assert!(out.ok().stderr.contains("forked from"), "{out:#?}");
    let out = dsx(&["fork", &source, &at_tail]).await;
    if server.kind() == support::Kind::OfficialNode {
        out.expect_code(3);
    } else {
        assert!(out.ok().stderr.contains("nothing changed"), "{out:#?}");
    }
    // The tail moved: the old fork is not at the new tail.
    append(&stream, "three\n").await;
    dsx(&["fork", &source, &at_tail]).await.expect_code(3);
    assert_eq!(dsx(&["read", &at_tail]).await.ok().stdout, "one\ntwo\n");
    // A missing source: exit 2, naming the source and not the new stream.
    let missing = server.fresh_url("adm-nope");
    let new = server.fresh_url("adm-h-x");
    let out = dsx(&["fork", &missing, &new]).await;
    out.expect_code(2);
    assert!(out.stderr.contains(&missing), "{out:#?}");
    assert!(!out.stderr.contains(&new), "{out:#?}");
}

/// Stream paths resolve against `STREAM_URL` or the top-level URL.
async fn base_url_from_env_and_argument(server: TestServer) {
    let name = support::unique_name("adm-base");
    let base = server.stream_base();
    let mut create = command(&["create", &name, "--json"]);
    create.env("STREAM_URL", &base);
    run(create, None).await.ok();
    let out = dsx(&[&base, "append", &name, "7"]).await;
    out.ok();
    let mut read = command(&["read", &format!("/{name}")]);
    read.env("STREAM_URL", &base);
    assert_eq!(run(read, None).await.ok().stdout, "7\n");
    let stream = server.client().stream(&server.stream_url(&name)).unwrap();
    let mut items =
        stream.read_json::<u32>(read_opts(Offset::START, LiveMode::Off));
    let batch = within(WAIT, "read", items.next()).await.unwrap().unwrap();
    assert_eq!(batch.items, [7]);
}

server_tests!(
    create_head_delete,
    head_human_output,
    close_with_and_without_data,
    fork_at_an_offset,
    fork_conflicts_and_missing_source,
    base_url_from_env_and_argument,
);

/// Answers one HTTP request with 404 and returns the request's head (request
/// line and headers), to see what dsx sent. Not a protocol server: it only
/// records.
async fn record_one_request(listener: tokio::net::TcpListener) -> String {
    let (mut socket, _) = within(WAIT, "a connection", listener.accept())
        .await
        .expect("accept");
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
        let n = within(WAIT, "request bytes", socket.read(&mut buf))
            .await
            .expect("read");
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let _ = socket
        .write_all(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\
              connection: close\r\n\r\n",
        )
        .await;
    String::from_utf8_lossy(&head).to_ascii_lowercase()
}

#[tokio::test]
async fn headers_and_auth_reach_the_server() {
    for (args, env_auth) in [
        (vec!["-H", "X-Test: one", "--auth", "Bearer flag"], None),
        (vec!["-H", "X-Test: one"], Some("Bearer env")),
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/v1/stream/s",
            listener.local_addr().expect("address")
        );
        let recorded = tokio::spawn(record_one_request(listener));
        let mut all = vec!["head", url.as_str()];
        all.extend(args.iter().copied());
        let mut head = command(&all);
        if let Some(auth) = env_auth {
            head.env("STREAM_AUTH", auth);
        }
        let out = run(head, None).await;
        out.expect_code(2);
        let request = recorded.await.expect("recorder");
        assert!(request.starts_with("head /v1/stream/s "), "{request}");
        assert!(request.contains("\r\nx-test: one\r\n"), "{request}");
        let auth = env_auth.unwrap_or("Bearer flag").to_ascii_lowercase();
        assert!(
            request.contains(&format!("\r\nauthorization: {auth}\r\n")),
            "{request}"
        );
    }
}

/// `-H` and `--auth` before the subcommand's name reach the server too,
/// with those after it added (the later `--auth` wins).
#[tokio::test]
async fn connection_options_before_the_subcommand() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/v1/stream/s",
        listener.local_addr().expect("address")
    );
    let recorded = tokio::spawn(record_one_request(listener));
    let out = dsx(&[
        "-H",
        "X-Before: one",
        "--auth",
        "Bearer early",
        "head",
        &url,
        "-H",
        "X-After: two",
        "--auth",
        "Bearer late",
    ])
    .await;
    out.expect_code(2);
    let request = recorded.await.expect("recorder");
    assert!(request.contains("\r\nx-before: one\r\n"), "{request}");
    assert!(request.contains("\r\nx-after: two\r\n"), "{request}");
    assert!(
        request.contains("\r\nauthorization: bearer late\r\n"),
        "{request}"
    );
    assert!(!request.contains("bearer early"), "{request}");
}

/// `-H`/`--auth` did nothing for `serve`, `demo` and `completions` but
/// were in their help: they are offered only where a request uses them,
/// and refused (exit 1) where they would do nothing.
#[tokio::test]
async fn connection_options_only_where_they_are_used() {
    for command in ["serve", "demo", "completions"] {
        let out = dsx(&[command, "--help"]).await;
        out.ok();
        for flag in ["--header", "--auth"] {
            assert!(!out.stdout.contains(flag), "{command}: {}", out.stdout);
        }
        let out = dsx(&[command, "-H", "X-A: b"]).await;
        out.expect_code(1);
        let mut before = vec!["-H", "X-A: b", command];
        if command == "completions" {
            before.push("bash");
        }
        let out = dsx(&before).await;
        out.expect_code(1);
        assert!(out.stderr.contains("no effect"), "{out:#?}");
        let out = dsx(&["--auth", "Bearer x", command]).await;
        out.expect_code(1);
    }
    for command in [
        "read", "append", "create", "close", "delete", "head", "fork",
    ] {
        let out = dsx(&[command, "--help"]).await;
        out.ok();
        for flag in ["--header", "--auth"] {
            assert!(out.stdout.contains(flag), "{command}: {}", out.stdout);
        }
    }
    let out = dsx(&["--help"]).await;
    assert!(out.ok().stdout.contains("--auth"), "{out:#?}");
    // STREAM_AUTH in the environment is no mistake of this command line.
    let mut completions = command(&["completions", "bash"]);
    completions.env("STREAM_AUTH", "Bearer env");
    run(completions, None).await.ok();
}

#[tokio::test]
async fn unreachable_server_exits_4() {
    let url = format!("http://127.0.0.1:{}/v1/stream/s", dead_port());
    for args in [["head", &url], ["delete", &url], ["append", &url]] {
        let mut all = args.to_vec();
        if args[0] == "append" {
            all.push("x");
        }
        let out = dsx(&all).await;
        out.expect_code(4);
        assert!(out.stderr.contains("network"), "{out:#?}");
    }
}

#[tokio::test]
async fn usage_errors_exit_1() {
    let cases: [&[&str]; 8] = [
        &["read"],
        &["read", "s", "--no-such-flag"],
        &["read", "s", "--live", "sometimes"],
        &["head", "s", "-H", "no colon"],
        // The explorer's --from before a command would do nothing.
        &["--from", "now", "read", "s"],
        &["--from", "@", "http://127.0.0.1:1/v1/stream/s"],
        &["create", "s", "--expires-at", "tomorrow"],
        &[
            "create",
            "s",
            "--ttl",
            "5",
            "--expires-at",
            "2030-01-01T00:00:00Z",
        ],
    ];
    for args in cases {
        let out = dsx(args).await;
        out.expect_code(1);
        assert!(!out.stderr.is_empty(), "silent usage error: {args:?}");
    }
    let out = dsx(&["--help"]).await;
    out.ok();
    for word in ["read", "append", "fork", "completions", "Exit codes", "130"] {
        assert!(out.stdout.contains(word), "no {word:?} in help");
    }
    dsx(&["read", "--help"]).await.ok();
    dsx(&["--version"]).await.ok();
}

#[tokio::test]
async fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = dsx(&["completions", shell]).await;
        out.ok();
        assert!(out.stdout.contains("dsx"), "{shell}");
        assert!(out.stdout.contains("append"), "{shell}: no subcommands");
    }
    dsx(&["completions", "tcsh"]).await.expect_code(1);
}

/// The config file's `headers` go with every request of the headless
/// commands, as with the explorer's, before the command line's (issue 11:
/// one place builds the client for both).
#[tokio::test]
async fn commands_send_the_config_files_headers() {
    use crate::support::hostile::{Hostile, Reply};
    let server = Hostile::start(|req| {
        let reply = Reply::status(200)
            .header("Content-Type", "text/plain")
            .header("Stream-Next-Offset", "1")
            .header("Stream-Up-To-Date", "true");
        if req.method == "GET" {
            reply.body("hi")
        } else {
            reply
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "headers = [\"X-Team: blue\"]\n").unwrap();
    let url = server.at("/v1/stream/s");
    for args in [
        vec!["read", url.as_str()],
        vec!["head", url.as_str()],
        vec!["-H", "X-Other: 1", "read", url.as_str()],
    ] {
        let mut command = support::cli::command(&args);
        command.env("DSX_CONFIG", &config);
        let out = support::cli::run(command, None).await;
        assert_eq!(out.code, 0, "{args:?}: {out:#?}");
    }
    let requests = server.requests();
    assert!(requests.len() >= 3, "{requests:?}");
    for r in &requests {
        assert_eq!(
            r.header("x-team"),
            Some("blue"),
            "{} {}",
            r.method,
            r.path()
        );
    }
    assert!(requests.iter().any(|r| r.header("x-other") == Some("1")));
}
