//! Recovery: opening while the server is down, retrying now, a failed
//! jump that keeps the buffer, rows of streams that do not exist.

use super::*;

fn refused(url: &str) -> Error {
    Error::Network {
        url: url.into(),
        cause: std::sync::Arc::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        )),
    }
}

fn heads(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Head { .. }))
        .count()
}

#[test]
fn opening_while_the_server_is_down_retries_with_backoff() {
    let mut s = new_state();
    let t0 = s.now;
    let mut fx = Vec::new();
    open_stream(&mut s, "logs", &mut fx);
    let url = format!("{BASE}/logs");
    head(&mut s, url.clone(), Err(refused(&url)));
    // Not failed for good: reconnecting, with the reason.
    let Connection::Reconnecting { attempt, error, .. } =
        &s.reader().connection
    else {
        panic!("{:?}", s.reader().connection);
    };
    assert_eq!(*attempt, 1);
    assert!(error.contains("Connection refused"), "{error}");
    assert!(s.reader().retry_at.is_some());
    // Nothing before the backoff ends; then the HEAD again.
    assert_eq!(heads(&tick(&mut s, t0 + Duration::from_millis(100))), 0);
    let fx = tick(&mut s, t0 + Duration::from_secs(1));
    assert_eq!(heads(&fx), 1);
    assert_eq!(s.reader().connection, Connection::Connecting);
    // Down again: a longer wait, attempt 2.
    head(&mut s, url.clone(), Err(refused(&url)));
    assert!(matches!(
        s.reader().connection,
        Connection::Reconnecting { attempt: 2, .. }
    ));
    // The server came up: the answer starts the tail.
    let fx = tick(&mut s, t0 + Duration::from_secs(3));
    assert_eq!(heads(&fx), 1);
    let fx = head(&mut s, url, Ok(metadata(Some("text/plain"), None)));
    assert_eq!(
        starts(&fx),
        [(1, "-1".into(), LiveMode::Sse, ContentKind::Text)]
    );
}

#[test]
fn r_retries_now_when_failed_or_reconnecting() {
    let mut s = new_state();
    let mut fx = Vec::new();
    open_stream(&mut s, "nope", &mut fx);
    let url = format!("{BASE}/nope");
    head(
        &mut s,
        url.clone(),
        Err(Error::NotFound { url: url.clone() }),
    );
    assert!(matches!(s.reader().connection, Connection::Failed(_)));
    // A 404 is not retried by itself, but R asks again.
    let fx = ch(&mut s, 'R');
    assert_eq!(heads(&fx), 1);
    // Created meanwhile: the answer starts the tail.
    let fx = head(&mut s, url, Ok(metadata(Some("application/json"), None)));
    assert_eq!(starts(&fx).len(), 1);

    // A reader waiting for its backoff restarts at once on R.
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    let reader = s.reader().id;
    for _ in 0..2 {
        let reader = s.reader().id;
        let event = ReaderEvent::Retry("connection reset".into());
        update(&mut s, Message::Reader { reader, event });
    }
    assert!(matches!(
        s.reader().connection,
        Connection::Reconnecting { .. }
    ));
    let fx = ch(&mut s, 'R');
    let started = starts(&fx);
    assert_eq!(started.len(), 1);
    assert!(started[0].0 > reader);
    assert_eq!(started[0].1, "c1");
    assert_eq!(s.reader().retry_at, None);
    // Nothing to retry while live: a notice says so, nothing starts.
    deliver(&mut s, batch("c1", "c2", &[&n(2)], false));
    assert!(starts(&ch(&mut s, 'R')).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("nothing to retry"));
}

#[test]
fn a_head_that_failed_under_the_resume_dialog_is_asked_again() {
    let mut s = new_state();
    let url = format!("{BASE}/logs");
    s.bookmarks
        .set_last_position(&url, "c9", 0, "2026-11-28T12:00:00Z");
    let mut fx = Vec::new();
    open_stream(&mut s, "logs", &mut fx);
    assert!(matches!(s.overlay, Some(Overlay::Dialog(_))));
    head(&mut s, url.clone(), Err(refused(&url)));
    // Resume: the HEAD is asked again instead of waiting forever.
    let mut fx = Vec::new();
    begin_tail(&mut s, "c9".into(), &mut fx);
    assert_eq!(heads(&fx), 1);
    let fx = head(&mut s, url, Ok(metadata(Some("text/plain"), None)));
    assert_eq!(starts(&fx)[0].1, "c9");
}

fn opened_with_two(s: &mut State) {
    open_json(s, "demo/orders");
    deliver(s, batch("-1", "c1", &[&n(1), &n(2)], false));
    s.focus = Pane::Tail;
}

fn jump(s: &mut State, to: &str) -> Vec<Effect> {
    let mut fx = ch(s, 'J');
    // The dialog starts with "-1" in it.
    fx.extend(press(s, KeyCode::Backspace));
    fx.extend(press(s, KeyCode::Backspace));
    fx.extend(typ(s, to));
    fx.extend(press(s, KeyCode::Enter));
    fx
}

#[test]
fn a_jump_that_cannot_be_an_offset_changes_nothing() {
    let mut s = new_state();
    opened_with_two(&mut s);
    let fx = jump(&mut s, "gar bage");
    assert!(starts(&fx).is_empty());
    assert_eq!(shown(&s), [n(1), n(2)]);
    let Some(Overlay::Dialog(d)) = &s.overlay else {
        panic!("the dialog stays open with the reason");
    };
    assert!(d.error.as_deref().unwrap().contains("no spaces"), "{d:?}");
    press(&mut s, KeyCode::Esc);
    assert!(starts(&jump(&mut s, "a/b")).is_empty());
    assert_eq!(shown(&s), [n(1), n(2)]);
}

#[test]
fn a_jump_the_server_refuses_keeps_the_buffer_and_reading_goes_on() {
    let mut s = new_state();
    opened_with_two(&mut s);
    let fx = jump(&mut s, "garbage");
    assert_eq!(starts(&fx)[0].1, "garbage");
    // Until the new reader delivers, the tail shown stays.
    assert_eq!(shown(&s), [n(1), n(2)]);
    let reader = s.reader().id;
    let event = ReaderEvent::Failed("bad request (400): bad offset".into());
    let fx = update(&mut s, Message::Reader { reader, event });
    assert_eq!(shown(&s), [n(1), n(2)]);
    let notice = &s.notice.as_ref().unwrap().text;
    assert!(
        notice.contains("400") && notice.contains("kept"),
        "{notice}"
    );
    // Reading resumes where the kept tail was.
    assert_eq!(starts(&fx)[0].1, "c1");
    deliver(&mut s, batch("c1", "c2", &[&n(3)], false));
    assert_eq!(shown(&s), [n(1), n(2), n(3)]);
}

#[test]
fn a_jump_replaces_the_buffer_once_the_new_reader_delivers() {
    let mut s = new_state();
    opened_with_two(&mut s);
    jump(&mut s, "c1");
    assert_eq!(shown(&s), [n(1), n(2)]);
    deliver(&mut s, batch("c1", "c2", &[&n(9)], false));
    assert_eq!(shown(&s), [n(9)]);
    assert!(s.jump.is_none());
}

#[test]
fn rows_of_streams_that_do_not_exist_go_unless_bookmarked() {
    let mut s = new_state();
    update(
        &mut s,
        Message::Registry(RegistryEvent::Created {
            path: "a".into(),
            content_type: Some("application/json".into()),
        }),
    );
    // o does/not/exist: the 404 drops the row the open added.
    let mut fx = Vec::new();
    open_stream(&mut s, "does/not/exist", &mut fx);
    let url = format!("{BASE}/does/not/exist");
    head(
        &mut s,
        url.clone(),
        Err(Error::NotFound { url: url.clone() }),
    );
    let paths: Vec<_> = s.streams.entries.iter().map(|e| &e.path).collect();
    assert_eq!(paths, ["a"]);
    // Created later and retried: the row comes back.
    head(&mut s, url, Ok(metadata(Some("text/plain"), None)));
    assert!(s.streams.get_mut("does/not/exist").is_some());
    // A bookmarked stream that is gone keeps its row, marked.
    s.streams.upsert("kept").sources.bookmarked = true;
    let url = format!("{BASE}/kept");
    head(&mut s, url.clone(), Err(Error::NotFound { url }));
    assert_eq!(s.streams.get_mut("kept").unwrap().missing, Some(404));
    // Deleted and recreated by the registry: no gone row left.
    update(
        &mut s,
        Message::Registry(RegistryEvent::Deleted { path: "a".into() }),
    );
    assert!(s.streams.get_mut("a").is_none());
}

#[test]
fn the_cursor_stays_on_the_open_stream_as_rows_arrive_and_filters_change() {
    let mut s = new_state();
    let mut fx = Vec::new();
    open_stream(&mut s, "demo/orders", &mut fx);
    for p in ["demo/app-log", "a/first", "z/last"] {
        update(
            &mut s,
            Message::Registry(RegistryEvent::Created {
                path: p.into(),
                content_type: None,
            }),
        );
    }
    assert_eq!(s.streams.selected_entry().unwrap().path, "demo/orders");
    s.focus = Pane::Streams;
    ch(&mut s, '/');
    typ(&mut s, "demo");
    assert_eq!(s.streams.selected_entry().unwrap().path, "demo/orders");
    press(&mut s, KeyCode::Up);
    assert_eq!(s.streams.selected_entry().unwrap().path, "demo/app-log");
    // Clearing the filter keeps the selected row, not the first one.
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.streams.selected_entry().unwrap().path, "demo/app-log");
    ch(&mut s, '/');
    typ(&mut s, "zz");
    // "z" matches one row, which is selected; clearing stays on it.
    press(&mut s, KeyCode::Backspace);
    press(&mut s, KeyCode::Backspace);
    assert_eq!(s.streams.selected_entry().unwrap().path, "z/last");
}

#[test]
fn a_corrupt_response_is_read_again_a_few_times_then_fails() {
    let mut s = new_state();
    opened_with_two(&mut s);
    let corrupt = |s: &mut State| {
        let reader = s.reader().id;
        let event = ReaderEvent::Corrupt("truncated JSON array".into());
        update(s, Message::Reader { reader, event })
    };
    // After progress: read again at once, from the last offset received.
    let fx = corrupt(&mut s);
    assert_eq!(starts(&fx).len(), 1);
    assert_eq!(starts(&fx)[0].1, "c1");
    // Bad again with nothing new: backed off, a few times.
    for attempt in 1..=3 {
        assert!(starts(&corrupt(&mut s)).is_empty());
        let Connection::Reconnecting { attempt: a, .. } =
            &s.reader().connection
        else {
            panic!("attempt {attempt}: {:?}", s.reader().connection);
        };
        assert_eq!(*a, attempt);
        let fx = ch(&mut s, 'R');
        assert_eq!(starts(&fx).len(), 1, "R reads again");
    }
    // Still bad: the data is, not the connection; the reader fails.
    assert!(starts(&corrupt(&mut s)).is_empty());
    let Connection::Failed(why) = &s.reader().connection else {
        panic!("{:?}", s.reader().connection);
    };
    assert!(why.contains("truncated"), "{why}");
    // Good data again resets the count.
    deliver(&mut s, batch("c1", "c2", &[&n(3)], false));
    assert_eq!(starts(&corrupt(&mut s)).len(), 1);
}

#[test]
fn init_lists_known_streams_opens_the_given_one_and_watches_the_registry() {
    let mut s = new_state();
    s.bookmarks
        .touch_recent(&format!("{BASE}/seen/before"), "2026-11-28T12:00:00Z");
    let fx = super::super::init(&mut s, Some("demo/orders"), None);
    let heads: Vec<&str> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Head { url } => Some(url.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        heads.contains(&format!("{BASE}/seen/before").as_str()),
        "{fx:?}"
    );
    assert!(
        heads.contains(&format!("{BASE}/demo/orders").as_str()),
        "{fx:?}"
    );
    assert!(s.streams.get_mut("seen/before").is_some());
    assert_eq!(s.focus, Pane::Tail);
    assert!(
        matches!(fx.last(), Some(Effect::WatchRegistry { base_url }) if base_url == BASE),
        "{fx:?}"
    );
}
