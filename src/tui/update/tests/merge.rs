//! The merged tail: marks, one reader per stream, arrival order, tags,
//! each stream's own offsets, reconnects and modes, and globs.

use super::*;

fn known(s: &mut State, path: &str) {
    update(
        s,
        Message::Registry(RegistryEvent::Created {
            path: path.into(),
            content_type: Some("application/json".into()),
        }),
    );
}

/// Readers started, by URL: (url, reader, from).
fn started(fx: &[Effect]) -> Vec<(String, u64, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::StartReader {
                reader, url, from, ..
            } => Some((url.clone(), *reader, from.clone())),
            _ => None,
        })
        .collect()
}

fn url(path: &str) -> String {
    format!("{BASE}/{path}")
}

/// `a` and `b` marked and tailed merged; their readers' ids.
fn merged_ab() -> (State, u64, u64) {
    let mut s = new_state();
    known(&mut s, "a");
    known(&mut s, "b");
    s.focus = Pane::Streams;
    s.streams.select_path("a");
    ch(&mut s, ' ');
    press(&mut s, KeyCode::Down);
    ch(&mut s, ' ');
    let fx = ch(&mut s, 'T');
    let st = started(&fx);
    assert_eq!(st.len(), 2, "{fx:?}");
    (s, st[0].1, st[1].1)
}

#[test]
fn space_marks_streams_and_t_tails_them_with_a_reader_each_from_now() {
    let mut s = new_state();
    known(&mut s, "a");
    known(&mut s, "b");
    s.focus = Pane::Streams;
    s.streams.select_path("a");
    ch(&mut s, ' ');
    press(&mut s, KeyCode::Down);
    ch(&mut s, ' ');
    assert_eq!(s.streams.marked.len(), 2);
    // Space again unmarks.
    ch(&mut s, ' ');
    assert_eq!(s.streams.marked.len(), 1);
    ch(&mut s, ' ');
    let fx = ch(&mut s, 'T');
    assert!(fx.contains(&Effect::StopReader));
    let st = started(&fx);
    assert_eq!(
        st.iter()
            .map(|(u, _, f)| (u.clone(), f.clone()))
            .collect::<Vec<_>>(),
        [(url("a"), "now".to_owned()), (url("b"), "now".to_owned())]
    );
    assert_ne!(st[0].1, st[1].1, "reader ids are unique across streams");
    assert!(s.open.is_none());
    assert_eq!(s.merge.as_ref().unwrap().sources.len(), 2);
    assert_eq!(s.readers.len(), 2);
    assert!(s.streams.marked.is_empty());
    assert_eq!(s.focus, Pane::Tail);
}

#[test]
fn batches_of_both_streams_show_in_arrival_order_each_tagged() {
    let (mut s, a, b) = merged_ab();
    deliver_from(&mut s, a, batch("now", "a1", &[&n(1)], false));
    deliver_from(&mut s, b, batch("now", "b1", &[&n(10)], false));
    deliver_from(&mut s, a, batch("a1", "a2", &[&n(2), &n(3)], false));
    assert_eq!(shown(&s), [n(1), n(10), n(2), n(3)]);
    let sources: Vec<_> = s.tail.batches.iter().map(|b| b.source).collect();
    assert_eq!(sources, [Some(0), Some(1), Some(0)]);
    assert_eq!(s.tail.tags, ["a", "b"]);
    let m = s.merge.as_ref().unwrap();
    assert_eq!((m.sources[0].received, m.sources[1].received), (3, 1));
    // Each stream is live on its own.
    assert_eq!(
        s.readers.get(&url("a")).unwrap().connection,
        Connection::Live
    );
    assert_eq!(
        s.readers.get(&url("b")).unwrap().connection,
        Connection::Live
    );
}

#[test]
fn a_stream_reconnects_on_its_own_from_its_own_offset() {
    let (mut s, a, b) = merged_ab();
    deliver_from(&mut s, a, batch("now", "a1", &[&n(1)], false));
    deliver_from(&mut s, b, batch("now", "b1", &[&n(10)], false));
    // Half a response of a, then its connection drops: it resumes at its
    // checkpoint and skips the message already shown.
    deliver_from(&mut s, a, batch("a1", "a1+", &[&n(2)], true));
    let fx = update(
        &mut s,
        Message::Reader {
            reader: a,
            event: ReaderEvent::Retry("connection closed".into()),
        },
    );
    let st = started(&fx);
    assert_eq!(st.len(), 1, "only a restarts: {fx:?}");
    assert_eq!(
        (st[0].0.as_str(), st[0].2.as_str()),
        (url("a").as_str(), "a1")
    );
    let a2 = st[0].1;
    // The old reader of a is stale now; b's is not.
    deliver_from(&mut s, a, batch("x", "y", &[&n(99)], false));
    deliver_from(&mut s, a2, batch("a1", "a2", &[&n(2), &n(3)], false));
    deliver_from(&mut s, b, batch("b1", "b2", &[&n(11)], false));
    assert_eq!(shown(&s), [n(1), n(10), n(2), n(3), n(11)]);
    // Progress since its last failure: at once again, from a2.
    let fx = update(
        &mut s,
        Message::Reader {
            reader: a2,
            event: ReaderEvent::Retry("refused".into()),
        },
    );
    let st = started(&fx);
    assert_eq!(st.len(), 1, "{fx:?}");
    assert_eq!(st[0].2, "a2");
    // A failure without progress backs off, for that stream only.
    let fx = update(
        &mut s,
        Message::Reader {
            reader: st[0].1,
            event: ReaderEvent::Retry("refused".into()),
        },
    );
    assert!(started(&fx).is_empty(), "{fx:?}");
    assert!(matches!(
        s.readers.get(&url("a")).unwrap().connection,
        Connection::Reconnecting { attempt: 1, .. }
    ));
    assert_eq!(
        s.readers.get(&url("b")).unwrap().connection,
        Connection::Live
    );
    let later = s.now + Duration::from_secs(1);
    let fx = tick(&mut s, later);
    let st = started(&fx);
    assert_eq!(st.len(), 1, "{fx:?}");
    assert_eq!(
        (st[0].0.as_str(), st[0].2.as_str()),
        (url("a").as_str(), "a2")
    );
}

#[test]
fn a_bookmark_names_the_messages_own_stream_and_offset() {
    let (mut s, a, b) = merged_ab();
    deliver_from(&mut s, a, batch("now", "a1", &[&n(1)], false));
    deliver_from(&mut s, b, batch("now", "b1", &[&n(10)], false));
    deliver_from(&mut s, b, batch("b1", "b2", &[&n(11)], false));
    deliver_from(&mut s, a, batch("a1", "a2", &[&n(2)], false));
    // The selection on b's second message.
    for _ in 0..8 {
        if s.tail.current_message() == Some(n(11).as_bytes()) {
            break;
        }
        press(&mut s, KeyCode::Up);
    }
    assert_eq!(s.tail.current_message(), Some(n(11).as_bytes()));
    ch(&mut s, 'm');
    typ(&mut s, "x");
    press(&mut s, KeyCode::Enter);
    let marks = s.bookmarks.list(&url("b"));
    assert_eq!(marks.len(), 1, "{:?}", s.notice);
    assert_eq!((marks[0].offset.as_str(), marks[0].position), ("b1", 0));
    assert!(s.bookmarks.list(&url("a")).is_empty());
    // Copy and detail take the message under the cursor.
    let fx = ch(&mut s, 'y');
    assert!(fx.contains(&Effect::Copy(n(11))), "{fx:?}");
}

#[test]
fn a_mode_key_switches_every_stream_and_opening_one_leaves_the_merge() {
    let (mut s, a, b) = merged_ab();
    deliver_from(&mut s, a, batch("now", "a1", &[&n(1)], false));
    deliver_from(&mut s, b, batch("now", "b1", &[&n(10)], false));
    let fx = ch(&mut s, '2');
    let st = started(&fx);
    assert_eq!(
        st.iter()
            .map(|(u, _, f)| (u.clone(), f.clone()))
            .collect::<Vec<_>>(),
        [(url("a"), "a1".to_owned()), (url("b"), "b1".to_owned())]
    );
    for u in [url("a"), url("b")] {
        assert_eq!(s.readers.get(&u).unwrap().mode, LiveMode::LongPoll);
    }
    // Enter on a stream: back to one stream, the others stopped.
    s.focus = Pane::Streams;
    s.streams.select_path("a");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(fx.contains(&Effect::StopReader));
    assert!(s.merge.is_none());
    assert_eq!(s.readers.len(), 1);
    assert_eq!(s.reader().mode, LiveMode::LongPoll);
}

#[test]
fn a_glob_tails_the_matching_streams_and_those_that_appear() {
    let mut s = new_state();
    for p in ["orders/eu", "orders/us", "payments/eu", "orders/eu/x"] {
        known(&mut s, p);
    }
    update(&mut s, Message::Registry(RegistryEvent::Live));
    s.focus = Pane::Streams;
    ch(&mut s, 'o');
    typ(&mut s, "orders/*");
    let fx = press(&mut s, KeyCode::Enter);
    let urls: Vec<String> = started(&fx).into_iter().map(|t| t.0).collect();
    assert_eq!(urls, [url("orders/eu"), url("orders/us")]);
    assert!(s.overlay.is_none());
    // A new stream that matches joins from its beginning; others do not.
    let fx = update(
        &mut s,
        Message::Registry(RegistryEvent::Created {
            path: "orders/asia".into(),
            content_type: Some("application/json".into()),
        }),
    );
    let st = started(&fx);
    assert_eq!(st.len(), 1, "{fx:?}");
    assert_eq!(
        (st[0].0.clone(), st[0].2.as_str()),
        (url("orders/asia"), "-1")
    );
    let fx = update(
        &mut s,
        Message::Registry(RegistryEvent::Created {
            path: "payments/us".into(),
            content_type: Some("application/json".into()),
        }),
    );
    assert!(started(&fx).is_empty());
    assert_eq!(s.merge.as_ref().unwrap().sources.len(), 3);
    // An untyped stream waits for its HEAD, then starts.
    let fx = update(
        &mut s,
        Message::Registry(RegistryEvent::Created {
            path: "orders/new".into(),
            content_type: None,
        }),
    );
    assert!(started(&fx).is_empty());
    let fx = head(
        &mut s,
        url("orders/new"),
        Ok(metadata(Some("application/json"), None)),
    );
    assert_eq!(started(&fx).len(), 1, "{fx:?}");
}
