//! `update` driven by messages alone (no network, no clock): live modes and
//! restarts, reconnects, follow/pause, eviction, filters and the composer.
//! Navigation, composer and dialog flows are in `tests/`.

mod composer;
mod dialogs;
mod inspector;
mod interleave;
mod navigation;
mod numbers;
mod recovery;
mod search;
mod tail_view;

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::client::{Error, Offset, StreamMetadata};
use crate::tui::message::{ReaderEvent, RegistryEvent, WriteKind, Written};
use crate::tui::state::composer::Outcome;
use crate::tui::state::meta::ReadInfo;
use crate::tui::state::tail::{Incoming, Limits};

pub(super) use crate::tui::testkit::{BASE, ch, ctrl, new_state, press, typ};

/// A JSON batch; a non-partial one is up to date.
pub(super) fn batch(
    start: &str,
    next: &str,
    msgs: &[&str],
    partial: bool,
) -> Incoming {
    Incoming::json(start, next, msgs, partial)
}

pub(super) fn deliver_from(
    s: &mut State,
    reader: u64,
    incoming: Incoming,
) -> Vec<Effect> {
    let at = s.now;
    update(
        s,
        Message::Reader {
            reader,
            event: ReaderEvent::Batch {
                incoming,
                info: ReadInfo::default(),
                at,
            },
        },
    )
}

/// Delivers a batch from the current reader.
pub(super) fn deliver(s: &mut State, incoming: Incoming) -> Vec<Effect> {
    let reader = s.reader().id;
    deliver_from(s, reader, incoming)
}

/// Makes a stream known with its content type, then opens it.
pub(super) fn open_typed(s: &mut State, path: &str, ct: &str) -> Vec<Effect> {
    update(
        s,
        Message::Registry(RegistryEvent::Created {
            path: path.into(),
            content_type: Some(ct.into()),
        }),
    );
    let mut fx = Vec::new();
    open_stream(s, path, &mut fx);
    fx
}

pub(super) fn open_json(s: &mut State, path: &str) -> Vec<Effect> {
    open_typed(s, path, "application/json")
}

/// The reader starts among effects: (reader, from, mode, kind).
pub(super) fn starts(
    fx: &[Effect],
) -> Vec<(u64, String, LiveMode, ContentKind)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::StartReader {
                reader,
                from,
                mode,
                kind,
                ..
            } => Some((*reader, from.clone(), *mode, *kind)),
            _ => None,
        })
        .collect()
}

/// Every buffered message, in order.
pub(super) fn shown(s: &State) -> Vec<String> {
    s.tail
        .batches
        .iter()
        .flat_map(|b| {
            (0..b.len())
                .map(|i| String::from_utf8_lossy(b.message(i)).into_owned())
        })
        .collect()
}

/// A clock tick at `now` (the wall clock stays fixed).
pub(super) fn tick(s: &mut State, now: Instant) -> Vec<Effect> {
    let wall = s.wall.clone();
    update(s, Message::Tick { now, wall })
}

pub(super) fn head(
    s: &mut State,
    url: String,
    result: Result<StreamMetadata, Error>,
) -> Vec<Effect> {
    let at = s.now;
    update(s, Message::Head { url, at, result })
}

pub(super) fn n(i: u32) -> String {
    format!("{{\"n\":{i}}}")
}

pub(super) fn metadata(ct: Option<&str>, ttl: Option<u64>) -> StreamMetadata {
    StreamMetadata {
        content_type: ct.map(str::to_owned),
        next_offset: Offset::new("0000_0042"),
        closed: false,
        ttl,
        expires_at: None,
        etag: None,
        cache_control: None,
    }
}

pub(super) fn server_error(url: &str) -> Error {
    Error::Status {
        url: url.into(),
        status: 500,
        message: "disk on fire".into(),
    }
}

#[test]
fn opening_a_typed_stream_starts_reading_from_the_beginning() {
    let mut s = new_state();
    let fx = open_json(&mut s, "demo/orders");
    assert_eq!(fx.first(), Some(&Effect::StopReader));
    assert!(fx.contains(&Effect::Head {
        url: format!("{BASE}/demo/orders")
    }));
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveBookmarks(_))));
    assert_eq!(
        starts(&fx),
        [(1, "-1".into(), LiveMode::Sse, ContentKind::Json)]
    );
    assert_eq!(s.reader().id, 1);
    assert_eq!(s.reader().connection, Connection::Connecting);
}

#[test]
fn an_unknown_content_type_waits_for_the_head() {
    let mut s = new_state();
    let mut fx = Vec::new();
    open_stream(&mut s, "logs", &mut fx);
    assert!(starts(&fx).is_empty());
    assert_eq!(s.reader().pending_start.as_deref(), Some("-1"));
    let url = format!("{BASE}/logs");
    let fx = head(&mut s, url, Ok(metadata(Some("text/plain"), None)));
    assert_eq!(
        starts(&fx),
        [(1, "-1".into(), LiveMode::Sse, ContentKind::Text)]
    );
    assert_eq!(s.tail.kind, ContentKind::Text);
    assert!(s.reader().pending_start.is_none());
}

#[test]
fn a_failed_head_before_the_start_fails_the_tail() {
    let mut s = new_state();
    let mut fx = Vec::new();
    open_stream(&mut s, "nope", &mut fx);
    let url = format!("{BASE}/nope");
    head(&mut s, url.clone(), Err(Error::NotFound { url }));
    assert!(
        matches!(&s.reader().connection, Connection::Failed(e) if e.contains("404"))
    );
    // Opened by mistake: no `gone` row stays behind.
    assert!(s.streams.entries.is_empty());
    assert!(s.meta.head_error.is_some());
}

#[test]
fn mode_switch_keeps_the_offset_and_shows_nothing_twice() {
    let mut s = new_state();
    open_json(&mut s, "demo/orders");
    deliver(&mut s, batch("-1", "c1", &[&n(1), &n(2)], false));
    deliver(&mut s, batch("c1", "p1", &[&n(3)], true));
    deliver(&mut s, batch("p1", "p2", &[&n(4), &n(5)], true));
    assert_eq!(s.reader().connection, Connection::CatchingUp);

    let fx = ch(&mut s, '2');
    assert_eq!(s.reader().mode, LiveMode::LongPoll);
    assert_eq!(
        starts(&fx),
        [(2, "c1".into(), LiveMode::LongPoll, ContentKind::Json)]
    );
    assert_eq!(s.reader().id, 2);
    // The old reader's late batch is ignored.
    deliver_from(&mut s, 1, batch("p2", "p3", &[&n(99)], false));
    assert_eq!(s.tail.total_messages, 5);
    // The replay from c1 repeats 3..5, cut differently, then brings 6.
    deliver(&mut s, batch("c1", "q1", &[&n(3), &n(4)], true));
    deliver(&mut s, batch("q1", "c2", &[&n(5), &n(6)], false));
    let want: Vec<String> = (1..=6).map(n).collect();
    assert_eq!(shown(&s), want);
    assert_eq!(s.reader().connection, Connection::Live);

    let fx = ch(&mut s, '1');
    assert_eq!(
        starts(&fx),
        [(3, "c2".into(), LiveMode::Sse, ContentKind::Json)]
    );
    deliver(&mut s, batch("c2", "c3", &[&n(7)], false));
    assert_eq!(shown(&s).len(), 7);

    let fx = ch(&mut s, '3');
    assert_eq!(
        starts(&fx),
        [(4, "c3".into(), LiveMode::Off, ContentKind::Json)]
    );
    deliver(&mut s, batch("c3", "c3", &[], false));
    assert_eq!(s.reader().connection, Connection::CaughtUp);
    update(
        &mut s,
        Message::Reader {
            reader: 4,
            event: ReaderEvent::Done,
        },
    );
    assert_eq!(s.reader().connection, Connection::CaughtUp);

    let fx = ch(&mut s, '4');
    assert_eq!(
        starts(&fx),
        [(5, "c3".into(), LiveMode::Auto, ContentKind::Json)]
    );
    assert_eq!(shown(&s).len(), 7);
}

#[test]
fn two_mode_switches_before_the_replay_arrive() {
    let mut s = new_state();
    open_json(&mut s, "s");
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    deliver(&mut s, batch("c1", "p1", &[&n(2), &n(3)], true));
    assert_eq!(starts(&ch(&mut s, '2'))[0].1, "c1");
    // The long-poll reader repeats 2, then SSE replaces it.
    deliver(&mut s, batch("c1", "x", &[&n(2)], true));
    assert_eq!(starts(&ch(&mut s, '1'))[0].1, "c1");
    deliver(&mut s, batch("c1", "c2", &[&n(2), &n(3), &n(4)], false));
    let want: Vec<String> = (1..=4).map(n).collect();
    assert_eq!(shown(&s), want);
}

#[test]
fn mode_keys_without_a_stream_only_set_the_mode() {
    let mut s = new_state();
    assert!(starts(&ch(&mut s, '2')).is_empty());
    assert_eq!(s.reader().mode, LiveMode::LongPoll);
    assert!(s.notice.as_ref().unwrap().text.contains("long-poll"));
}

fn retry(s: &mut State, reader: u64, error: &str) -> Vec<Effect> {
    update(
        s,
        Message::Reader {
            reader,
            event: ReaderEvent::Retry(error.into()),
        },
    )
}

#[test]
fn reconnects_back_off_and_restart_from_the_last_checkpoint() {
    let mut s = new_state();
    let t0 = s.now;
    open_json(&mut s, "s");
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    deliver(&mut s, batch("c1", "p1", &[&n(2)], true));
    // A reader that made progress and then failed (a server ending a long
    // response) is replaced at once, from the last checkpoint.
    let fx = retry(&mut s, 1, "connection reset");
    assert_eq!(
        starts(&fx),
        [(2, "c1".into(), LiveMode::Sse, ContentKind::Json)]
    );
    // The new one fails without progress: now it backs off.
    assert!(starts(&retry(&mut s, 2, "refused")).is_empty());
    let Connection::Reconnecting {
        attempt,
        next_at,
        error,
    } = s.reader().connection.clone()
    else {
        panic!("{:?}", s.reader().connection);
    };
    assert_eq!((attempt, error.as_str()), (1, "refused"));
    assert_eq!(next_at, t0 + Duration::from_millis(500));
    // Not yet.
    let fx = tick(&mut s, t0 + Duration::from_millis(400));
    assert!(starts(&fx).is_empty());
    let fx = tick(&mut s, t0 + Duration::from_millis(500));
    assert_eq!(
        starts(&fx),
        [(3, "c1".into(), LiveMode::Sse, ContentKind::Json)]
    );
    // A stale reader's retry changes nothing.
    retry(&mut s, 1, "old");
    assert_eq!(s.reader().connection, Connection::Connecting);
    // The new one fails too: a longer wait.
    retry(&mut s, 3, "refused");
    assert!(matches!(
        s.reader().connection,
        Connection::Reconnecting { attempt: 2, next_at, .. }
            if next_at == s.now + Duration::from_secs(1)
    ));
    let later = s.now + Duration::from_secs(1);
    let fx = tick(&mut s, later);
    assert_eq!(starts(&fx)[0].0, 4);
    assert_eq!(starts(&fx)[0].1, "c1");
    // Data resets the count; the repeat of 2 is dropped.
    deliver(&mut s, batch("c1", "c2", &[&n(2), &n(3)], false));
    assert_eq!(s.reader().reconnects, 0);
    assert_eq!(s.reader().connection, Connection::Live);
    assert_eq!(shown(&s), [n(1), n(2), n(3)]);
}

#[test]
fn backoff_doubles_up_to_eight_seconds() {
    let secs: Vec<f64> =
        (1..=7).map(|a| events::backoff(a).as_secs_f64()).collect();
    assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]);
}

#[test]
fn a_failed_reader_shows_why() {
    let mut s = new_state();
    open_json(&mut s, "s");
    update(
        &mut s,
        Message::Reader {
            reader: 1,
            event: ReaderEvent::Failed("gone (410)".into()),
        },
    );
    assert_eq!(
        s.reader().connection,
        Connection::Failed("gone (410)".into())
    );
    assert_eq!(s.notice.as_ref().unwrap().level, Level::Error);
}

#[test]
fn a_closed_batch_ends_the_stream() {
    let mut s = new_state();
    open_json(&mut s, "s");
    let mut last = batch("-1", "end", &[&n(1)], false);
    last.closed = true;
    let fx = deliver(&mut s, last);
    assert_eq!(s.reader().connection, Connection::Closed);
    assert_eq!(s.streams.entries[0].closed, Some(true));
    assert!(fx.iter().any(|e| matches!(e, Effect::Head { .. })));
}

#[test]
fn a_head_without_a_content_type_still_starts_the_tail() {
    let mut s = new_state();
    let mut fx = Vec::new();
    open_stream(&mut s, "untyped", &mut fx);
    let url = format!("{BASE}/untyped");
    let fx = head(&mut s, url, Ok(metadata(None, None)));
    // Bytes of no declared type are shown as binary.
    assert_eq!(
        starts(&fx),
        [(1, "-1".into(), LiveMode::Sse, ContentKind::Binary)]
    );
    assert!(s.reader().pending_start.is_none());
}

#[test]
fn resuming_after_the_head_answered_reads_with_the_streams_kind() {
    let now = Instant::now();
    let mut state = State::new("http://127.0.0.1:1/v1/stream", now);
    let url = state.url_of("s");
    state.bookmarks.set_last_position(
        &url,
        "0000_0010",
        0,
        "2026-01-01T00:00:00Z",
    );
    let mut fx = Vec::new();
    open_stream(&mut state, "s", &mut fx);
    assert!(state.dialog_mut().is_some(), "the Resume dialog is open");
    let head = StreamMetadata {
        content_type: Some("application/json".into()),
        next_offset: Offset::new("0000_0020"),
        ..StreamMetadata::default()
    };
    update(
        &mut state,
        Message::Head {
            url,
            at: now,
            result: Ok(head),
        },
    );
    let key = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE);
    let fx = update(&mut state, Message::Input(Event::Key(key)));
    assert_eq!(state.tail.kind, ContentKind::Json);
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::StartReader {
                kind: ContentKind::Json,
                ..
            }
        )),
        "{fx:?}"
    );
}

#[test]
fn resuming_an_untyped_stream_after_its_head_still_starts() {
    let mut s = new_state();
    let url = format!("{BASE}/untyped");
    s.bookmarks
        .set_last_position(&url, "0000_0010", 0, "2026-01-01T00:00:00Z");
    let mut fx = Vec::new();
    open_stream(&mut s, "untyped", &mut fx);
    head(&mut s, url, Ok(metadata(None, None)));
    let fx = ch(&mut s, 'y');
    assert_eq!(
        starts(&fx),
        [(1, "0000_0010".into(), LiveMode::Sse, ContentKind::Binary)]
    );
}

#[test]
fn enter_on_the_open_stream_looks_at_it_instead_of_starting_over() {
    let mut s = new_state();
    open_json(&mut s, "s");
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    s.focus = Pane::Streams;
    let fx = press(&mut s, KeyCode::Enter);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(s.focus, Pane::Tail);
    assert_eq!(s.tail.total_messages, 1);
    // A failed stream is opened again.
    update(
        &mut s,
        Message::Reader {
            reader: 1,
            event: ReaderEvent::Failed("gone (410)".into()),
        },
    );
    s.focus = Pane::Streams;
    assert!(fx_has_stop(&press(&mut s, KeyCode::Enter)));
}

fn fx_has_stop(fx: &[Effect]) -> bool {
    fx.contains(&Effect::StopReader)
}

#[test]
fn registry_rows_are_headed_once() {
    let mut s = new_state();
    s.streams.upsert("old").sources.recent = true;
    let created = |path: &str| {
        Message::Registry(RegistryEvent::Created {
            path: path.into(),
            content_type: Some("application/json".into()),
        })
    };
    // A recent row had its HEAD at start; a new one gets one now.
    assert!(update(&mut s, created("old")).is_empty());
    let fx = update(&mut s, created("new"));
    assert_eq!(
        fx,
        [Effect::Head {
            url: format!("{BASE}/new")
        }]
    );
}

/// Every URL the effects would send a request to.
fn effect_urls(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Head { url }
            | Effect::StartReader { url, .. }
            | Effect::Close { url }
            | Effect::Delete { url, .. }
            | Effect::Create { url, .. }
            | Effect::Append { url, .. } => Some(url.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_registry_name_that_looks_like_a_url_stays_on_this_server() {
    let mut s = new_state();
    let planted = "http://127.0.0.1:4702/v1/stream/target";
    let mut fx = update(
        &mut s,
        Message::Registry(RegistryEvent::Created {
            path: planted.into(),
            content_type: Some("application/json".into()),
        }),
    );
    // Highlighting and opening the row.
    s.streams.select_path(planted);
    fx.extend(press(&mut s, KeyCode::Enter));
    assert_eq!(s.open.as_ref().unwrap().path, planted);
    let urls = effect_urls(&fx);
    assert!(!urls.is_empty());
    for url in urls {
        assert!(url.starts_with(&format!("{BASE}/")), "{url}");
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.port(), Some(1), "{url}");
    }
}

#[test]
fn a_url_typed_in_o_may_name_another_server() {
    let mut s = new_state();
    let other = "http://127.0.0.1:4702/v1/stream/target";
    let mut fx = Vec::new();
    super::open_typed(&mut s, other, &mut fx);
    assert_eq!(s.open.as_ref().unwrap().url, other);
    // Not a row of this server's list.
    assert!(s.streams.entries.iter().all(|e| e.path != other));
}
