//! `dsx export` as a child process: a range into a file, the same bytes
//! `dsx read` prints for it, an existing file kept unless `--force`.

use crate::support;

use support::{TestServer, append, create_at, dsx};

async fn a_range_into_a_file(server: TestServer) {
    let client = server.client();
    let url = server.fresh_url("export-range");
    let stream = create_at(&client, &url, "application/json").await;
    let mut after = Vec::new();
    for n in 1..=6 {
        let message = format!("{{\n \"n\": {n}\n}}");
        after.push(append(&stream, message).await.as_str().to_owned());
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("out.ndjson");
    let file_arg = file.to_str().expect("utf-8 path");
    let range = ["--from", after[0].as_str(), "--until-offset", &after[4]];
    let mut args = vec!["export", url.as_str(), "-o", file_arg];
    args.extend(range);
    let out = dsx(&args).await;
    out.ok();
    assert!(out.stderr.contains("exported 4 message(s)"), "{out:#?}");
    let written = std::fs::read(&file).expect("the file");
    let mut read = vec!["read", url.as_str()];
    read.extend(range);
    let printed = dsx(&read).await;
    assert_eq!(written, printed.ok().stdout.as_bytes());
    // Messages 2 to 5, one a line (how a server keeps a message's inner
    // whitespace is its own: the dev server compacts, the official Rust
    // server keeps what was sent, so the lines are compared as JSON).
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&written)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON message a line"))
        .collect();
    let expected: Vec<serde_json::Value> =
        (2..=5).map(|n| serde_json::json!({ "n": n })).collect();
    assert_eq!(lines, expected);
    assert!(!dir.path().join("out.ndjson.partial").exists());
    // An existing file is kept...
    let out = dsx(&["export", &url, "-o", file_arg]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("already exists"), "{out:#?}");
    assert_eq!(std::fs::read(&file).expect("kept"), written);
    // ... unless --force: the whole stream, the default range.
    let out = dsx(&["export", &url, "-o", file_arg, "--force"]).await;
    out.ok();
    let lines = std::fs::read_to_string(&file).expect("replaced");
    assert_eq!(lines.lines().count(), 6, "{lines}");
}

server_tests!(a_range_into_a_file);
