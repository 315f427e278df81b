//! `dsx sub` as a child process: create, show, list, claim, ack, release,
//! delete against the base URL's stream root, exit codes of a fenced ack
//! and a missing subscription, and escaped server text. Embedded and Node
//! servers (the official Rust server has no subscriptions).

use crate::support;

use support::cli::{Output, command, run};
use support::{TestServer, append, create_at, unique_name};

async fn sub(server: &TestServer, args: &[&str]) -> Output {
    let mut all = vec!["sub"];
    all.extend_from_slice(args);
    let mut cmd = command(&all);
    cmd.env("STREAM_URL", server.stream_base());
    run(cmd, None).await
}

fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

async fn sub_commands(server: TestServer) {
    let client = server.client();
    let prefix = unique_name("clisub");
    let wake = format!("{prefix}-wake");
    create_at(&client, &server.stream_url(&wake), "application/json").await;
    let id = unique_name("cli-sub");
    let pattern = format!("{prefix}/*");
    let out = sub(
        &server,
        &[
            "create",
            &id,
            "--wake-stream",
            &wake,
            "--pattern",
            &pattern,
            "--lease-ms",
            "5000",
            "--description",
            "evil\u{1b}[2Jtext",
        ],
    )
    .await;
    out.ok();
    assert!(out.stderr.contains("created"), "{out:#?}");
    assert!(out.stdout.contains("pull-wake"), "{out:#?}");
    assert!(
        !out.stdout.contains('\u{1b}'),
        "server text printed unescaped: {out:#?}"
    );
    let out = sub(
        &server,
        &[
            "create",
            &id,
            "--wake-stream",
            &wake,
            "--pattern",
            &pattern,
            "--lease-ms",
            "9000",
        ],
    )
    .await;
    out.expect_code(3);

    let path = format!("{prefix}/a");
    let stream =
        create_at(&client, &server.stream_url(&path), "text/plain").await;
    let tail = append(&stream, "work").await;

    let out = sub(&server, &["show", &id, "--json"]).await;
    let shown = parse(&out.ok().stdout);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["type"], "pull-wake");
    let out = sub(&server, &["list", &id]).await;
    assert!(out.ok().stdout.contains(&id), "{out:#?}");
    let missing = unique_name("nope");
    sub(&server, &["list", &id, &missing]).await.expect_code(2);
    sub(&server, &["show", &missing]).await.expect_code(2);

    let out = sub(&server, &["claim", &id, "--worker", "cli"]).await;
    let claim = parse(&out.ok().stdout);
    let wake_id = claim["wake_id"].as_str().expect("wake_id").to_owned();
    let generation = claim["generation"]
        .as_u64()
        .expect("generation")
        .to_string();
    let token = claim["token"].as_str().expect("token").to_owned();
    let ack = format!("{path}={tail}");
    let ack_args = [
        "ack",
        &id,
        "--wake-id",
        &wake_id,
        "--generation",
        &generation,
        "--token",
        &token,
        "--ack",
        &ack,
        "--done",
    ];
    let out = sub(&server, &ack_args).await;
    let done = parse(&out.ok().stdout);
    assert_eq!(done["ok"], true);
    assert_eq!(done["next_wake"], false);
    // The same ack again is fenced: exit code 3.
    let out = sub(&server, &ack_args).await;
    out.expect_code(3);
    assert!(out.stderr.contains("fenced"), "{out:#?}");
    let out = sub(&server, &["show", &id]).await;
    assert!(out.ok().stdout.contains(tail.as_str()), "{out:#?}");

    append(&stream, "more").await;
    let out = sub(&server, &["claim", &id]).await;
    let claim = parse(&out.ok().stdout);
    let mut release = command(&[
        "sub",
        "release",
        &id,
        "--wake-id",
        claim["wake_id"].as_str().expect("wake_id"),
        "--generation",
        &claim["generation"].as_u64().expect("gen").to_string(),
    ]);
    release
        .env("STREAM_URL", server.stream_base())
        .env("DSX_SUB_TOKEN", claim["token"].as_str().expect("token"));
    run(release, None).await.ok();

    sub(&server, &["delete", &id]).await.ok();
    sub(&server, &["show", &id]).await.expect_code(2);
}

subscription_tests!(sub_commands);
