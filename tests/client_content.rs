//! Client integration tests: content survives every read mode intact.
//! Bodies of hundreds of KiB (so responses and SSE events arrive in many
//! pieces, splitting multi-byte UTF-8 and base64 groups), and JSON values
//! built to confuse a streaming scanner.

mod support;

use bytes::Bytes;
use dsx::client::{
    AppendOptions, CreateOptions, DurableStream, LiveMode, Offset, ReadOptions,
};
use serde_json::{Value, json};
use support::{TestServer, WAIT, within};

const MODES: [LiveMode; 4] = [
    LiveMode::Off,
    LiveMode::Auto,
    LiveMode::LongPoll,
    LiveMode::Sse,
];

async fn create(
    server: &support::TestServer,
    content_type: &str,
    prefix: &str,
) -> DurableStream {
    within(
        WAIT,
        "create",
        server.client().create(
            &server.fresh_url(prefix),
            CreateOptions {
                content_type: Some(content_type.to_owned()),
                ..CreateOptions::default()
            },
        ),
    )
    .await
    .expect("create")
}

async fn append(stream: &DurableStream, data: Bytes) {
    within(
        WAIT,
        "append",
        stream.append(data, AppendOptions::default()),
    )
    .await
    .expect("append");
}

fn from_start(live: LiveMode) -> ReadOptions {
    ReadOptions {
        offset: Offset::START,
        live,
        ..ReadOptions::default()
    }
}

/// About 550 KB of 1- to 4-byte UTF-8 characters, in five appends,
/// read back identically in every mode.
async fn large_text_every_mode(server: TestServer) {
    let stream = create(&server, "text/plain; charset=utf-8", "big-text").await;
    let unit = "aé€😀\n";
    let part = unit.repeat(10_000);
    for _ in 0..5 {
        append(&stream, Bytes::from(part.clone())).await;
    }
    let expected = part.repeat(5);
    for live in MODES {
        let mut session = stream.read_text(from_start(live));
        let got = support::reads::read_while(&mut session, WAIT, |text, _| {
            text.len() >= expected.len()
        })
        .await
        .ok();
        assert!(
            got.data == expected,
            "{live:?}: text differs ({} bytes)",
            got.data.len()
        );
    }
}

/// 512 KiB covering every byte value, read back identically in every
/// mode (base64 over SSE).
async fn large_binary_every_mode(server: TestServer) {
    let stream = create(&server, "application/octet-stream", "big-bin").await;
    let data: Vec<u8> = (0..512 * 1024u32)
        .map(|i| u8::try_from((i * 7 + i / 256) % 256).expect("byte"))
        .collect();
    for part in data.chunks(128 * 1024) {
        append(&stream, Bytes::copy_from_slice(part)).await;
    }
    for live in MODES {
        let mut session = stream.read_bytes(from_start(live));
        let got = support::reads::read_while(&mut session, WAIT, |bytes, _| {
            bytes.len() >= data.len()
        })
        .await
        .ok();
        assert!(
            got.data == data,
            "{live:?}: bytes differ ({} bytes)",
            got.data.len()
        );
    }
}

/// JSON values with brackets, commas and quotes inside strings,
/// escapes, line separators, nesting, and one 200 KB string, read back
/// as the same values in every mode.
async fn json_tricky_values(server: TestServer) {
    let stream = create(&server, "application/json", "tricky").await;
    let big = "x]\",[".repeat(40_000);
    let values = vec![
        json!({"s": "],[\"}{", "t": "\\", "u": "\u{5d}\u{2028}\u{85}\u{2029}"}),
        json!([1, [2, [3, "]"]]]),
        json!("a string with\na newline and \r a return"),
        json!(null),
        json!(-42),
        json!(true),
        json!({"deep": {"a": [{"b": "]"}, {"c": "[{"}]}}),
        json!({"big": big}),
        json!({"emoji": "😀 é €", "escaped": "\u{1}\u{1f}"}),
    ];
    // One value per append (an array is wrapped once by the caller, so
    // it stays one message), then all of them again as one batch.
    for value in &values {
        let body = if value.is_array() {
            format!("[{value}]")
        } else {
            value.to_string()
        };
        append(&stream, Bytes::from(body)).await;
    }
    append(
        &stream,
        Bytes::from(Value::Array(values.clone()).to_string()),
    )
    .await;
    let expected: Vec<Value> =
        values.iter().chain(values.iter()).cloned().collect();
    for live in MODES {
        let mut session = stream.read_json::<Value>(from_start(live));
        let got = support::reads::read_while(&mut session, WAIT, |items, _| {
            items.len() >= expected.len()
        })
        .await
        .ok();
        assert_eq!(got.data.len(), expected.len(), "{live:?}");
        for (i, (g, e)) in got.data.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "{live:?}: value {i}");
        }
    }
}

server_tests!(
    large_text_every_mode,
    large_binary_every_mode,
    json_tricky_values,
);
