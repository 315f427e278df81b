//! Client integration tests: content survives every read mode intact.
//! Bodies of hundreds of KiB (so responses and SSE events arrive in many
//! pieces, splitting multi-byte UTF-8 and base64 groups), and JSON values
//! built to confuse a streaming scanner.

use crate::support;

use bytes::Bytes;
use dsx::client::{DurableStream, LiveMode, Offset, ReadOptions};
use serde_json::{Value, json};
use support::{TestServer, WAIT, append, create_at, read_opts, within};

const MODES: [LiveMode; 4] = [
    LiveMode::Off,
    LiveMode::Auto,
    LiveMode::LongPoll,
    LiveMode::Sse,
];

/// A fresh stream of `content_type`, made with a default client.
async fn create(
    server: &TestServer,
    content_type: &str,
    prefix: &str,
) -> DurableStream {
    create_at(&server.client(), &server.fresh_url(prefix), content_type).await
}

fn from_start(live: LiveMode) -> ReadOptions {
    read_opts(Offset::START, live)
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

/// Reads one SSE session from the start until its first positioned item,
/// returning each item's data and `(partial, ends_unit)`.
async fn first_sse_unit<C>(
    mut session: std::pin::Pin<
        Box<dyn futures::Stream<Item = dsx::client::Result<C>> + Send>,
    >,
    split: impl Fn(C) -> (Vec<u8>, dsx::client::ReadMeta),
) -> Vec<(Vec<u8>, bool, bool)> {
    use futures::StreamExt;
    let mut items = Vec::new();
    // Bounded: a large event comes in at most a few hundred pieces.
    for _ in 0..10_000 {
        let item = within(WAIT, "SSE item", session.next())
            .await
            .expect("an item")
            .expect("no error");
        let (data, meta) = split(item);
        let done = !meta.partial;
        items.push((data, meta.partial, meta.ends_unit));
        if done {
            return items;
        }
    }
    panic!("no positioned item among 10000");
}

/// Checks that the items of one large SSE data event say where it ends:
/// several pieces, only the last one `ends_unit`, nothing lost.
fn check_one_event(items: &[(Vec<u8>, bool, bool)], expected: &[u8]) {
    let with_data = items.iter().filter(|(d, _, _)| !d.is_empty()).count();
    assert!(
        with_data >= 2,
        "a large event arrives in pieces: {with_data}"
    );
    let (last, rest) = items.split_last().expect("items");
    assert!(last.2, "the positioned item ends the event");
    assert!(
        rest.iter().all(|(_, partial, ends)| *partial && !*ends),
        "earlier pieces are partial and do not end it: {:?}",
        rest.iter()
            .map(|i| (i.0.len(), i.1, i.2))
            .collect::<Vec<_>>()
    );
    let joined: Vec<u8> = items.iter().flat_map(|i| i.0.clone()).collect();
    assert!(joined == expected, "data differs ({} bytes)", joined.len());
}

/// One large append (720 KB of text, 1 MiB of bytes) is one SSE data
/// event on the embedded server (its events hold up to 4 MiB); read as
/// text and as bytes (base64), its pieces carry `ends_unit` on the last
/// one only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_sse_event_ends_unit_once() {
    support::run(support::Kind::Embedded, |server| async move {
        let text = "aé€😀\n".repeat(1 << 16);
        let stream = create(&server, "text/plain", "sse-unit-text").await;
        append(&stream, Bytes::from(text.clone())).await;
        let items =
            first_sse_unit(stream.read_text(from_start(LiveMode::Sse)), |c| {
                (c.text.into_bytes(), c.meta)
            })
            .await;
        check_one_event(&items, text.as_bytes());

        let data: Vec<u8> = (0..1u32 << 20)
            .map(|i| u8::try_from((i * 31 + i / 251) % 256).expect("byte"))
            .collect();
        let stream =
            create(&server, "application/octet-stream", "sse-unit-bin").await;
        append(&stream, Bytes::from(data.clone())).await;
        let items =
            first_sse_unit(stream.read_bytes(from_start(LiveMode::Sse)), |c| {
                (c.data.to_vec(), c.meta)
            })
            .await;
        check_one_event(&items, &data);
    })
    .await;
}

/// A structured-syntax `+json` type is not the protocol's JSON mode (only
/// `application/json` is): the server stores bytes without framing, every
/// read mode (SSE base64) gives them back as they were, `dsx read` prints
/// them as they are, and the explorer shows them as text, not as
/// messages. One reading of a content type for all four.
async fn structured_json_type_is_bytes(server: TestServer) {
    let ct = "application/vnd.acme+json";
    let stream = create(&server, ct, "plus-json").await;
    append(&stream, Bytes::from_static(br#"{"a":1}"#)).await;
    append(&stream, Bytes::from_static(br#"{"b":2}"#)).await;
    let expected = br#"{"a":1}{"b":2}"#.to_vec();
    for live in MODES {
        let mut session = stream.read_bytes(from_start(live));
        let got = support::reads::read_while(&mut session, WAIT, |bytes, _| {
            bytes.len() >= expected.len()
        })
        .await
        .ok();
        assert_eq!(got.data, expected, "{live:?}: bytes as appended");
    }
    let out = support::dsx(&["read", stream.url().as_str()]).await;
    assert_eq!(out.code, 0, "{out:#?}");
    assert_eq!(out.stdout.as_bytes(), expected, "dsx read prints the bytes");
    assert!(!dsx::client::content_type::is_json(ct));
    assert_eq!(
        dsx::tui::format::ContentKind::of(Some(ct)),
        dsx::tui::format::ContentKind::Text,
        "the explorer shows it as text, not split into JSON messages"
    );
}

server_tests!(
    large_text_every_mode,
    large_binary_every_mode,
    json_tricky_values,
    structured_json_type_is_bytes,
);
