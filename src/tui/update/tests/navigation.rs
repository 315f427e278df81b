//! Tail navigation (follow, pause, pages, eviction), copies, the detail
//! view and the stream list's filter.

use super::*;

/// An open JSON stream with the tail focused and `batches` batches of
/// five one-row messages.
fn tail_with(batches: u32) -> State {
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    s.json_style = JsonStyle::Compact;
    for b in 0..batches {
        let msgs: Vec<String> = (0..5).map(|i| n(b * 5 + i)).collect();
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        let (from, to) = (format!("o{b}"), format!("o{}", b + 1));
        deliver(&mut s, batch(&from, &to, &refs, false));
    }
    s
}

#[test]
fn up_pauses_follow_and_f_snaps_back() {
    let mut s = tail_with(3);
    assert!(s.tail.follow);
    press(&mut s, KeyCode::Up);
    assert!(!s.tail.follow);
    let last = s.tail.last_item().unwrap();
    assert_eq!(s.tail.selected, Some(last - 1));
    deliver(&mut s, batch("o3", "o4", &[&n(100), &n(101)], false));
    assert_eq!(s.tail.new_below(), 2);
    // The selection stays where it was.
    assert_eq!(s.tail.selected, Some(last - 1));
    ch(&mut s, 'f');
    assert!(s.tail.follow);
    assert_eq!(s.tail.new_below(), 0);
    assert_eq!(s.tail.current(), s.tail.last_item());
    // End and G follow too.
    ch(&mut s, 'k');
    press(&mut s, KeyCode::End);
    assert!(s.tail.follow);
}

#[test]
fn top_bottom_and_pages_stay_in_bounds() {
    let mut s = tail_with(10);
    let (first, last) = (s.tail.first_item(), s.tail.last_item().unwrap());
    ch(&mut s, 'g');
    assert!(!s.tail.follow);
    assert_eq!(s.tail.selected, Some(first));
    assert_eq!(s.tail.anchor.item, first);
    press(&mut s, KeyCode::PageUp);
    assert_eq!(s.tail.selected, Some(first));
    let height = tail_height(&s);
    let mut previous = first;
    for _ in 0..20 {
        press(&mut s, KeyCode::PageDown);
        let sel = s.tail.selected.unwrap();
        assert!(sel <= last && sel >= previous);
        // The selection is on screen: at or after the first row shown.
        assert!(s.tail.anchor.item <= sel);
        previous = sel;
    }
    assert_eq!(s.tail.selected, Some(last));
    assert!(height > 3);
    ctrl(&mut s, 'b');
    assert!(s.tail.selected.unwrap() < last);
    for _ in 0..20 {
        press(&mut s, KeyCode::PageUp);
    }
    assert_eq!(s.tail.selected, Some(first));
    press(&mut s, KeyCode::Up);
    assert_eq!(s.tail.selected, Some(first));
}

#[test]
fn eviction_counts_and_keeps_the_selection_valid() {
    let mut s = new_state();
    s.tail.limits = Limits {
        max_messages: 12,
        max_bytes: u64::MAX,
    };
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    deliver(&mut s, batch("-1", "o0", &[&n(0), &n(1), &n(2)], false));
    ch(&mut s, 'g');
    for b in 1..10u32 {
        let (from, to) = (format!("o{}", b - 1), format!("o{b}"));
        deliver(
            &mut s,
            batch(&from, &to, &[&n(b * 3), &n(b * 3 + 1)], false),
        );
    }
    assert!(s.tail.buffered_messages <= 12);
    assert_eq!(s.tail.total_messages, 21);
    assert_eq!(
        s.tail.evicted_messages,
        21 - s.tail.buffered_messages as u64
    );
    let sel = s.tail.selected.unwrap();
    assert!(s.tail.locate(sel).is_some());
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Up);
    assert!(s.tail.selected.unwrap() >= s.tail.first_item());
    assert!(s.tail.current_batch().is_some());
}

#[test]
fn p_toggles_pretty_and_compact() {
    let mut s = tail_with(1);
    ch(&mut s, 'p');
    assert_eq!(s.json_style, JsonStyle::Pretty);
    ch(&mut s, 'p');
    assert_eq!(s.json_style, JsonStyle::Compact);
}

#[test]
fn copy_message_and_offset() {
    let mut s = tail_with(2);
    assert_eq!(ch(&mut s, 'y'), [Effect::Copy(n(9))]);
    // Y copies the batch's offset and says it is not the message's.
    match ch(&mut s, 'Y').as_slice() {
        [Effect::CopyNoted { text, note }] => {
            assert_eq!(text, "o1");
            assert!(note.contains("batch starts, not the message"), "{note}");
        }
        other => panic!("{other:?}"),
    }
    ch(&mut s, 'g');
    // A header row has no message.
    assert!(ch(&mut s, 'y').is_empty());
    assert_eq!(s.notice.as_ref().unwrap().level, Level::Error);
    assert!(matches!(
        ch(&mut s, 'Y').as_slice(),
        [Effect::CopyNoted { text, .. }] if text == "o0"
    ));
    let url = s.open.as_ref().unwrap().url.clone();
    assert_eq!(ch(&mut s, 'U'), [Effect::Copy(url)]);
}

#[test]
fn enter_opens_the_detail_and_esc_closes_it() {
    let mut s = tail_with(1);
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.overlay, Some(Overlay::Detail(_))));
    press(&mut s, KeyCode::Esc);
    assert!(s.overlay.is_none());
    // q in the detail view quits, as everywhere outside editors.
    press(&mut s, KeyCode::Enter);
    ch(&mut s, 'q');
    assert!(s.quit);
}

#[test]
fn filter_narrows_the_list_case_insensitively() {
    let mut s = new_state();
    for p in ["demo/orders", "demo/app-log", "other/Orders-eu"] {
        update(
            &mut s,
            Message::Registry(RegistryEvent::Created {
                path: p.into(),
                content_type: Some("application/json".into()),
            }),
        );
    }
    ch(&mut s, '/');
    assert!(s.streams.filtering && s.editing());
    // q is text while filtering.
    typ(&mut s, "ORDq");
    assert!(!s.quit);
    assert!(s.streams.visible().is_empty());
    press(&mut s, KeyCode::Backspace);
    let paths = |s: &State| -> Vec<String> {
        s.streams
            .visible()
            .into_iter()
            .map(|i| s.streams.entries[i].path.clone())
            .collect()
    };
    assert_eq!(paths(&s), ["demo/orders", "other/Orders-eu"]);
    press(&mut s, KeyCode::Esc);
    assert!(!s.streams.filtering);
    assert_eq!(s.streams.filter, "");
    assert_eq!(paths(&s).len(), 3);
    // Enter keeps a filter with several matches.
    ch(&mut s, '/');
    typ(&mut s, "demo");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(fx.is_empty() && s.open.is_none());
    assert!(!s.streams.filtering);
    assert_eq!(s.streams.filter, "demo");
    assert_eq!(paths(&s).len(), 2);
    // With one match, Enter opens it.
    ch(&mut s, '/');
    typ(&mut s, "/app");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(s.open.as_ref().unwrap().path, "demo/app-log");
    assert_eq!(starts(&fx).len(), 1);
}

#[test]
fn list_navigation_and_registry_deletes() {
    let mut s = new_state();
    for p in ["a", "b", "c"] {
        update(
            &mut s,
            Message::Registry(RegistryEvent::Created {
                path: p.into(),
                content_type: None,
            }),
        );
    }
    ch(&mut s, 'G');
    assert_eq!(s.streams.selected, 2);
    ch(&mut s, 'j');
    assert_eq!(s.streams.selected, 2);
    ch(&mut s, 'g');
    assert_eq!(s.streams.selected, 0);
    update(
        &mut s,
        Message::Registry(RegistryEvent::Deleted { path: "a".into() }),
    );
    assert_eq!(s.streams.entries.len(), 2);
    // Registry streams beginning with __ are internal.
    update(
        &mut s,
        Message::Registry(RegistryEvent::Created {
            path: "__registry__".into(),
            content_type: None,
        }),
    );
    assert_eq!(s.streams.entries.len(), 2);
}

fn mouse(
    s: &mut State,
    kind: MouseEventKind,
    column: u16,
    row: u16,
) -> Vec<Effect> {
    update(
        s,
        Message::Input(Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })),
    )
}

#[test]
fn clicks_focus_and_open_and_the_wheel_scrolls() {
    let mut s = tail_with(3);
    s.focus = Pane::Streams;
    for p in ["a", "b"] {
        update(
            &mut s,
            Message::Registry(RegistryEvent::Created {
                path: p.into(),
                content_type: Some("text/plain".into()),
            }),
        );
    }
    let areas = layout::areas(screen(&s), false, s.focus);
    // Rows: a, b, s. A click on the second opens b.
    let fx = mouse(
        &mut s,
        MouseEventKind::Down(MouseButton::Left),
        areas.streams.x + 3,
        areas.streams.y + 2,
    );
    assert_eq!(s.open.as_ref().unwrap().path, "b");
    assert_eq!(starts(&fx)[0].3, ContentKind::Text);
    // A click in the metadata pane focuses it.
    mouse(
        &mut s,
        MouseEventKind::Down(MouseButton::Left),
        areas.meta.x + 1,
        areas.meta.y + 1,
    );
    assert_eq!(s.focus, Pane::Meta);
    // The wheel over the tail pauses and moves up.
    let mut s = tail_with(3);
    let areas = layout::areas(screen(&s), false, s.focus);
    let last = s.tail.last_item().unwrap();
    mouse(
        &mut s,
        MouseEventKind::ScrollUp,
        areas.tail.x + 2,
        areas.tail.y + 2,
    );
    assert!(!s.tail.follow);
    assert_eq!(s.tail.selected, Some(last - 3));
    // Under an overlay the mouse does nothing.
    ch(&mut s, '?');
    mouse(
        &mut s,
        MouseEventKind::ScrollDown,
        areas.tail.x + 2,
        areas.tail.y + 2,
    );
    assert_eq!(s.tail.selected, Some(last - 3));
}

#[test]
fn paste_goes_to_what_has_the_keyboard() {
    let mut s = new_state();
    ch(&mut s, '/');
    update(&mut s, Message::Input(Event::Paste("or\u{1b}d\n".into())));
    assert_eq!(s.streams.filter, "ord");
    press(&mut s, KeyCode::Esc);
    ch(&mut s, 'o');
    update(&mut s, Message::Input(Event::Paste("x\ny".into())));
    assert!(matches!(
        &s.overlay,
        Some(Overlay::Dialog(d)) if d.kind == DialogKind::Open(LineInput::new("x y"))
    ));
    press(&mut s, KeyCode::Esc);
    ch(&mut s, 'a');
    update(&mut s, Message::Input(Event::Paste("[1,\n2]".into())));
    assert_eq!(s.composer.text(), "[1,\n2]");
    update(&mut s, Message::Input(Event::Resize(120, 40)));
    assert_eq!(s.size, (120, 40));
}

/// A notice describes what was on screen when it came: it goes when the
/// context changes (another pane, view or stream), and stays otherwise.
#[test]
fn stale_notices_clear_when_the_context_changes() {
    let mut s = new_state();
    open_json(&mut s, "a");
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    s.focus = Pane::Tail;
    // A key that changes nothing on screen keeps it.
    s.notify(Level::Info, "copied");
    press(&mut s, KeyCode::Up);
    assert!(s.notice.is_some());
    // Another pane drops it.
    press(&mut s, KeyCode::Tab);
    assert!(s.notice.is_none());
    // The key's own notice stays (a mode switch says so).
    ch(&mut s, '3');
    assert!(s.notice.as_ref().unwrap().text.contains("catch-up"));
    // A view opened over the panes drops it, and closing it too.
    s.focus = Pane::Tail;
    s.notify(Level::Error, "select a message first");
    ch(&mut s, '?');
    assert!(s.notice.is_none());
    s.notify(Level::Info, "old");
    press(&mut s, KeyCode::Esc);
    assert!(s.notice.is_none());
    // Another stream drops it, whichever way it is opened.
    s.notify(Level::Info, "bookmarked a");
    s.composer.outcome = Some(Outcome::Done("appended to a".into()));
    open_json(&mut s, "b");
    assert!(s.notice.is_none());
    assert!(s.composer.outcome.is_none(), "the composer spoke of a");
    s.notify(Level::Info, "bookmarked b");
    s.focus = Pane::Streams;
    s.streams.select_path("a");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.open.as_ref().unwrap().path, "a");
    let left = s.notice.as_ref().map(|n| n.text.clone());
    assert!(!left.unwrap_or_default().contains("bookmarked"));
}
