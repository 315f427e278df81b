//! Client integration tests: reads that lose their connection or wait
//! through empty polls, against the embedded server.
//!
//! * a catch-up body that breaks off mid-way is requested again and the
//!   bytes already handed out are skipped (a relay cuts the connection,
//!   since the fault hook's truncation ends a body cleanly);
//! * a run of long-poll 204s, each answered item empty and positioned at
//!   the tail, each next poll echoing the cursor, then data;
//! * an SSE connection cut in the middle of a data event (the hook's
//!   `truncateBodyBytes` on SSE) reconnects from the last control offset.
//!
//! `client_live.rs` covers SSE reconnects at a short connection lifetime
//! and long-poll sessions with one 204 between appends; `client_faults.rs`
//! covers requests that fail before any response.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use dsx::client::{LiveMode, Offset};
use dsx::server::ServerConfig;
use futures::StreamExt;
use support::{
    CutRelay, Fault, Recorder, TestServer, WAIT, append, create_at, header,
    read_opts, recording, within,
};

/// The value of query parameter `name` in a request URL.
fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .expect("request URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A 600 KiB catch-up response is cut after about 300 KB (sent in two
/// halves, so that the first is handed out before the cut). The client asks
/// for the same offset again and hands out only what it had not: the
/// reader sees every byte exactly once, some of them from before the cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_body_cut_resumes() {
    support::run(support::Kind::Embedded, |server| async move {
        let url = server.fresh_url("cut-body");
        create_at(&server.client(), &url, "application/octet-stream").await;
        let writer = server.client().stream(&url).expect("handle");
        let data: Vec<u8> = (0..600 * 1024u32)
            .map(|i| u8::try_from((i * 13 + i / 509) % 256).expect("byte"))
            .collect();
        for part in data.chunks(100 * 1024) {
            append(&writer, Bytes::copy_from_slice(part)).await;
        }

        let relay =
            CutRelay::start(server.url(), 300_000, Duration::from_millis(300))
                .await;
        let relayed = url.replacen(server.url(), &relay.url, 1);
        let (client, recorder) = recording(4);
        let stream = client.stream(&relayed).expect("handle");
        let mut session =
            stream.read_bytes(read_opts(Offset::START, LiveMode::Off));
        let mut got = Vec::new();
        let mut before_cut = 0;
        let mut last = None;
        // Bounded: 600 KiB come in far fewer items than this.
        for _ in 0..10_000 {
            let Some(item) = within(WAIT, "read item", session.next()).await
            else {
                break;
            };
            let item = item.expect("the cut is resumed, not an error");
            if !relay.has_cut() {
                before_cut += item.data.len();
            }
            got.extend_from_slice(&item.data);
            last = Some(item.meta);
        }
        assert!(
            got.len() == data.len(),
            "{} bytes, not {}",
            got.len(),
            data.len()
        );
        assert!(got == data, "every byte once, in order");
        assert!(
            before_cut > 0 && before_cut < data.len(),
            "part was handed out before the cut: {before_cut}"
        );
        let last = last.expect("items");
        assert!(last.up_to_date && !last.partial && last.ends_unit);

        let gets = recorder.with_method("GET");
        assert_eq!(gets.len(), 2, "the cut response was requested again");
        for get in &gets {
            assert_eq!(query(&get.url, "offset").as_deref(), Some("-1"));
            assert_eq!(get.status, Some(200));
        }
    })
    .await;
}

/// With a 100 ms long-poll hold, a reader at the tail sees a run of 204s:
/// each an empty, positioned, up-to-date item with status 204 at the tail
/// offset, each next poll echoing the cursor of the one before. Then an
/// append arrives as data, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_204_run_then_data() {
    let server = TestServer::start_embedded(ServerConfig {
        long_poll_timeout: Duration::from_millis(100),
        test_hooks: true,
        ..ServerConfig::default()
    })
    .await;
    let body = async {
        let url = server.fresh_url("lp-204s");
        create_at(&server.client(), &url, "text/plain").await;
        let writer = server.client().stream(&url).expect("handle");
        let tail = append(&writer, "first").await;

        let recorder = Recorder::default();
        let client = recorder.builder().build().expect("client");
        let reader = client.stream(&url).expect("handle");
        let from = tail.clone();
        let task = tokio::spawn(async move {
            let mut session =
                reader.read_text(read_opts(from, LiveMode::LongPoll));
            let mut items = Vec::new();
            // Bounded: about ten 204s come before the data.
            for _ in 0..1000 {
                let item = within(WAIT, "poll", session.next())
                    .await
                    .expect("a live read does not end")
                    .expect("no error");
                let done = !item.text.is_empty() && !item.meta.partial;
                items.push(item);
                if done {
                    return items;
                }
            }
            panic!("no data within 1000 items");
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let end = append(&writer, "second").await;
        let items = within(WAIT, "reader", task).await.expect("task");

        let (last, empties) = items.split_last().expect("items");
        assert_eq!(last.text, "second");
        assert_eq!(last.meta.offset, end);
        assert_eq!(last.meta.status, 200);
        assert!(
            empties.len() >= 3,
            "a run of 204s before the data: {}",
            empties.len()
        );
        for item in empties {
            let m = &item.meta;
            assert!(item.text.is_empty(), "{item:?}");
            assert_eq!(m.status, 204, "{item:?}");
            assert!(m.up_to_date && !m.partial && m.ends_unit, "{item:?}");
            assert_eq!(m.offset, tail, "a 204 keeps the position");
        }

        let polls = recorder.with_method("GET");
        assert!(polls.iter().all(|p| p.url.contains("live=long-poll")));
        let no_content = polls.iter().filter(|p| p.status == Some(204));
        assert!(no_content.count() >= 3, "{polls:?}");
        for pair in polls.windows(2) {
            let cursor = header(&pair[0], "stream-cursor")
                .expect("every poll answer carries a cursor");
            assert_eq!(
                query(&pair[1].url, "cursor").as_deref(),
                Some(cursor),
                "the next poll echoes the cursor: {}",
                pair[1].url
            );
        }
        for poll in &polls {
            assert_eq!(
                query(&poll.url, "offset").as_deref(),
                Some(tail.as_str()),
                "every poll asks from the tail until data comes"
            );
        }
    };
    within(support::TEST_TIMEOUT, "test body", body).await;
}

/// The number of bytes an SSE read of `url` from the start sends up to and
/// including its first control event (on a stream holding one message).
async fn first_event_bytes(url: &str) -> usize {
    let response = within(
        WAIT,
        "SSE probe",
        reqwest::Client::new()
            .get(format!("{url}?offset=-1&live=sse"))
            .send(),
    )
    .await
    .expect("SSE probe answers");
    let mut body = response.bytes_stream();
    let mut seen = Vec::new();
    // Bounded: the first event pair is a few hundred bytes.
    for _ in 0..1000 {
        let chunk = within(WAIT, "SSE probe body", body.next())
            .await
            .expect("probe body continues")
            .expect("probe body");
        seen.extend_from_slice(&chunk);
        let text = String::from_utf8_lossy(&seen);
        if let Some(at) = text.find("event: control")
            && let Some(end) = text[at..].find("\n\n")
        {
            return at + end + 2;
        }
    }
    panic!("no control event in the probe");
}

/// An SSE response is cut (`truncateBodyBytes`) in the middle of its
/// second data event, after the first was positioned by its control. The
/// client reconnects from that control's offset with its cursor, and the
/// reader sees each message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_cut_mid_event_resumes() {
    support::run(support::Kind::Embedded, |server| async move {
        let url = server.fresh_url("sse-cut");
        create_at(&server.client(), &url, "text/plain").await;
        let writer = server.client().stream(&url).expect("handle");
        let first = "a".repeat(100);
        append(&writer, first.clone()).await;
        // Room for a cursor a few digits longer, yet inside the second
        // event's data.
        let cut = first_event_bytes(&url).await + 40;
        server
            .inject(&url, Fault::truncate_body_bytes(cut as u64).method("GET"))
            .await;

        let (client, recorder) = recording(4);
        let reader = client.stream(&url).expect("handle");
        let mut session =
            reader.read_text(read_opts(Offset::START, LiveMode::Sse));
        let mut text = String::new();
        // The first message, positioned, before the second is appended.
        for _ in 0..100 {
            let item = within(WAIT, "first message", session.next())
                .await
                .expect("live")
                .expect("no error");
            text.push_str(&item.text);
            if !item.meta.partial && !text.is_empty() {
                break;
            }
        }
        assert_eq!(text, first);
        let second = "b".repeat(5000);
        let end = append(&writer, second.clone()).await;
        let mut last = None;
        for _ in 0..1000 {
            let item = within(WAIT, "second message", session.next())
                .await
                .expect("live")
                .expect("the cut is a reconnect, not an error");
            text.push_str(&item.text);
            let done = !item.meta.partial && item.meta.offset == end;
            last = Some(item.meta);
            if done {
                break;
            }
        }
        assert_eq!(text, format!("{first}{second}"), "each message once");
        assert!(last.is_some_and(|m| m.ends_unit && m.up_to_date));

        let events = recorder.events();
        let connects: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.method == "GET")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(connects.len(), 2, "one reconnect after the cut");
        let control = events[..connects[1]]
            .iter()
            .rev()
            .find(|e| e.method == "SSE")
            .expect("the first message's control event");
        let again = &events[connects[1]].url;
        assert_eq!(
            query(again, "offset").as_deref(),
            header(control, "stream-next-offset"),
            "{again}"
        );
        assert_eq!(
            query(again, "cursor").as_deref(),
            header(control, "stream-cursor"),
            "{again}"
        );
        assert_ne!(query(again, "offset").as_deref(), Some("-1"));
    })
    .await;
}
