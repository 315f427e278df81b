//! Dialog flows through `update`: bookmarks, resume, jump, open, create,
//! delete and append settings, with their validation and server errors.

use super::*;

fn dialog(s: &State) -> &Dialog {
    match &s.overlay {
        Some(Overlay::Dialog(d)) => d,
        other => panic!("no dialog: {other:?}"),
    }
}

fn saves(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::SaveBookmarks(_)))
        .count()
}

/// Clears a line input and types `text`.
fn retype(s: &mut State, text: &str) {
    ctrl(s, 'u');
    typ(s, text);
}

fn names(s: &State) -> Vec<String> {
    let url = &s.open.as_ref().unwrap().url;
    s.bookmarks
        .list(url)
        .iter()
        .map(|b| b.name.clone())
        .collect()
}

/// An open stream with two batches, the tail focused.
fn two_batches() -> State {
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    deliver(&mut s, batch("-1", "c1", &[&n(1), &n(2)], false));
    deliver(&mut s, batch("c1", "c2", &[&n(3), &n(4)], false));
    s
}

#[test]
fn bookmark_add_duplicate_rename_delete_and_jump() {
    let mut s = two_batches();
    // Select a message of the first batch.
    for _ in 0..3 {
        press(&mut s, KeyCode::Up);
    }
    assert_eq!(s.tail.current_message(), Some(n(2).as_bytes()));
    ch(&mut s, 'm');
    match &dialog(&s).kind {
        DialogKind::BookmarkName {
            offset,
            skip,
            input,
        } => {
            // The message, not its batch: the second after `-1`.
            assert_eq!((offset.as_str(), *skip), ("-1", 1));
            assert_eq!(input.value, "2026-11-28 12:00:00");
        }
        other => panic!("{other:?}"),
    }
    retype(&mut s, "first");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(saves(&fx), 1);
    assert!(s.overlay.is_none());
    assert_eq!(names(&s), ["first"]);

    ch(&mut s, 'f');
    ch(&mut s, 'm');
    retype(&mut s, "first");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(saves(&fx), 0);
    let err = dialog(&s).error.clone().unwrap();
    assert!(err.contains("already exists"), "{err}");
    // Typing clears the error; the text stays editable.
    retype(&mut s, "second");
    assert!(dialog(&s).error.is_none());
    assert_eq!(saves(&press(&mut s, KeyCode::Enter)), 1);
    let url = s.open.as_ref().unwrap().url.clone();
    // Following, the current message is the newest: the second of the
    // batch read from c1.
    let second = s.bookmarks.find(&url, "second").unwrap();
    assert_eq!((second.offset.as_str(), second.position), ("c1", 1));
    let first = s.bookmarks.find(&url, "first").unwrap();
    assert_eq!((first.offset.as_str(), first.position), ("-1", 1));

    ch(&mut s, '\'');
    assert_eq!(
        dialog(&s).kind,
        DialogKind::Bookmarks {
            selected: 0,
            renaming: None
        }
    );
    ch(&mut s, 'j');
    ch(&mut s, 'r');
    assert!(matches!(
        &dialog(&s).kind,
        DialogKind::Bookmarks { selected: 1, renaming: Some(i) } if i.value == "second"
    ));
    // Renaming onto an existing name fails in place.
    retype(&mut s, "first");
    assert_eq!(saves(&press(&mut s, KeyCode::Enter)), 0);
    assert!(dialog(&s).error.is_some());
    // Esc leaves the rename only.
    press(&mut s, KeyCode::Esc);
    assert!(matches!(
        &dialog(&s).kind,
        DialogKind::Bookmarks { renaming: None, .. }
    ));
    ch(&mut s, 'r');
    retype(&mut s, "later");
    assert_eq!(saves(&press(&mut s, KeyCode::Enter)), 1);
    assert_eq!(names(&s), ["first", "later"]);
    // Delete the first; the selection stays on a bookmark.
    ch(&mut s, 'k');
    assert_eq!(saves(&ch(&mut s, 'd')), 1);
    assert_eq!(names(&s), ["later"]);
    // Enter jumps: the tail restarts at the bookmark's offset and skips
    // to its message.
    let fx = press(&mut s, KeyCode::Enter);
    assert!(s.overlay.is_none());
    assert_eq!(starts(&fx)[0].1, "c1");
    // The new tail replaces the shown one once its reader delivers.
    let fresh = s.jump.as_ref().unwrap();
    assert!(fresh.batches.is_empty());
    assert_eq!(fresh.total_messages, 0);
    assert!(fresh.follow);
    deliver(&mut s, batch("c1", "c2", &[&n(3), &n(4)], false));
    assert_eq!(shown(&s), [n(4)]);
}

#[test]
fn a_message_read_from_now_before_any_offset_is_not_bookmarked() {
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    jump_to(&mut s, "now", &mut Vec::new());
    deliver(&mut s, batch("now", "c7", &[&n(1)], false));
    // Its end (c7) would point past it: refused, saying why.
    ch(&mut s, 'm');
    assert!(s.overlay.is_none());
    let notice = s.notice.clone().unwrap().text;
    assert!(notice.contains("`now`"), "{notice}");
    // The next one is after an offset the server gave.
    deliver(&mut s, batch("c7", "c8", &[&n(2)], false));
    ch(&mut s, 'm');
    assert!(matches!(
        &dialog(&s).kind,
        DialogKind::BookmarkName { offset, skip: 0, .. } if offset == "c7"
    ));
    // Nothing to bookmark in an empty tail.
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    ch(&mut s, 'm');
    assert!(s.overlay.is_none());
    assert!(s.notice.is_some());
}

#[test]
fn reopening_offers_to_resume_and_y_b_t_choose() {
    for (key, from) in [('y', "c2"), ('b', "-1"), ('t', "now")] {
        let mut s = two_batches();
        let url = s.open.as_ref().unwrap().url.clone();
        // Opening another stream remembers where this one was.
        let fx = open_json(&mut s, "other");
        assert!(saves(&fx) >= 1);
        assert_eq!(s.bookmarks.last_position(&url).unwrap().offset, "c2");
        // A new session (the position is in the file) asks.
        s.opened.clear();
        let fx = open_json(&mut s, "s");
        assert!(starts(&fx).is_empty());
        assert!(matches!(
            &dialog(&s).kind,
            DialogKind::Resume { offset, skip: 0, saved_at }
                if offset == "c2" && saved_at.starts_with("2026-11-28")
        ));
        // Other keys wait.
        assert!(ch(&mut s, 'x').is_empty());
        let fx = ch(&mut s, key);
        assert!(s.overlay.is_none());
        assert_eq!(starts(&fx)[0].1, from, "key {key}");
    }
}

#[test]
fn the_resume_dialog_asks_once_per_stream_per_session() {
    let mut s = new_state();
    let url = format!("{BASE}/s");
    s.bookmarks
        .set_last_position(&url, "o5", 0, "2026-11-27T08:00:00Z");
    open_json(&mut s, "s");
    assert!(matches!(&dialog(&s).kind, DialogKind::Resume { .. }));
    let fx = ch(&mut s, 'b');
    assert_eq!(starts(&fx)[0].1, "-1");
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    deliver(&mut s, batch("c1", "c2", &[&n(2)], false));
    // Away and back, twice: no dialog, it goes on where it was left.
    for _ in 0..2 {
        open_json(&mut s, "other");
        assert!(s.overlay.is_none(), "other has no saved position");
        let fx = open_json(&mut s, "s");
        assert!(s.overlay.is_none(), "asked again: {:?}", s.overlay);
        assert_eq!(starts(&fx)[0].1, "c2");
        deliver(&mut s, batch("c2", "c2", &[], false));
    }
}

#[test]
fn resume_dialog_from_a_saved_position() {
    let mut s = new_state();
    let url = format!("{BASE}/s");
    s.bookmarks
        .set_last_position(&url, "o5", 0, "2026-11-27T08:00:00Z");
    open_json(&mut s, "s");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(starts(&fx)[0].1, "o5");
}

#[test]
fn jump_dialog_restarts_from_what_is_typed() {
    let mut s = two_batches();
    ch(&mut s, 'J');
    assert_eq!(dialog(&s).kind, DialogKind::Jump(LineInput::new("-1")));
    retype(&mut s, "");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.is_some());
    typ(&mut s, "now");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(starts(&fx)[0].1, "now");
    // Kept until the new reader delivers (here: nothing new yet).
    assert!(!s.tail.batches.is_empty());
    deliver(&mut s, batch("now", "t9", &[], false));
    assert!(s.tail.batches.is_empty());
}

#[test]
fn open_dialog_opens_a_path() {
    let mut s = new_state();
    ch(&mut s, 'o');
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.is_some());
    // q is text in the dialog.
    typ(&mut s, "x/q");
    assert!(!s.quit);
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(s.open.as_ref().unwrap().path, "x/q");
    assert!(s.overlay.is_none());
    // Unknown type: the start waits for the HEAD.
    assert!(fx.contains(&Effect::Head {
        url: format!("{BASE}/x/q")
    }));
    assert_eq!(s.reader().pending_start.as_deref(), Some("-1"));
}

#[test]
fn create_dialog_validates_then_shows_server_errors() {
    let mut s = new_state();
    ch(&mut s, 'n');
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.as_deref().unwrap().contains("empty"));
    typ(&mut s, "new/one");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "ten");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.as_deref().unwrap().contains("TTL"));
    retype(&mut s, "60");
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "2030-01-01T00:00:00Z");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.as_deref().unwrap().contains("not both"));
    press(&mut s, KeyCode::Up);
    retype(&mut s, "");
    // The closed toggle takes Space.
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Down);
    ch(&mut s, ' ');
    let fx = press(&mut s, KeyCode::Enter);
    let url = format!("{BASE}/new/one");
    assert_eq!(
        fx,
        [Effect::Create {
            path: "new/one".into(),
            url: url.clone(),
            spec: crate::tui::effect::CreateSpec {
                content_type: "application/json".into(),
                ttl_secs: None,
                expires_at: Some("2030-01-01T00:00:00Z".into()),
                closed: true,
            },
        }]
    );
    assert!(dialog(&s).busy);
    let path = "new/one".to_owned();
    update(
        &mut s,
        Message::Written {
            url: url.clone(),
            kind: WriteKind::Create { path: path.clone() },
            result: Err(Error::AlreadyExists {
                url: url.clone(),
                message: "other settings".into(),
            }),
        },
    );
    let d = dialog(&s);
    assert!(!d.busy);
    assert!(d.error.as_deref().unwrap().contains("409"));
    // What was typed is still there.
    let DialogKind::Create(form) = &d.kind else {
        panic!();
    };
    assert_eq!(form.path.value, "new/one");
    let fx = update(
        &mut s,
        Message::Written {
            url: url.clone(),
            kind: WriteKind::Create { path },
            result: Ok(Written::Created {
                status: 201,
                content_type: Some("application/json".into()),
            }),
        },
    );
    assert!(s.overlay.is_none());
    assert_eq!(fx, [Effect::Head { url }]);
    assert_eq!(s.streams.selected_entry().unwrap().path, "new/one");
}

#[test]
fn create_uses_the_filter_as_the_path() {
    let mut s = new_state();
    ch(&mut s, '/');
    typ(&mut s, "logs/a");
    press(&mut s, KeyCode::Enter);
    ch(&mut s, 'n');
    let DialogKind::Create(form) = &dialog(&s).kind else {
        panic!();
    };
    assert_eq!(form.path.value, "logs/a");
    assert_eq!(
        crate::tui::update::dialogs::create_spec(form)
            .unwrap()
            .content_type,
        "application/json"
    );
}

#[test]
fn delete_needs_the_exact_name_and_shows_server_errors() {
    let mut s = new_state();
    open_json(&mut s, "demo/orders");
    s.focus = Pane::Streams;
    ch(&mut s, 'D');
    typ(&mut s, "demo/order");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.as_deref().unwrap().contains("exactly"));
    typ(&mut s, "s");
    let url = format!("{BASE}/demo/orders");
    let path = "demo/orders".to_owned();
    assert_eq!(
        press(&mut s, KeyCode::Enter),
        [Effect::Delete {
            path: path.clone(),
            url: url.clone()
        }]
    );
    update(
        &mut s,
        Message::Written {
            url: url.clone(),
            kind: WriteKind::Delete { path: path.clone() },
            result: Err(server_error(&url)),
        },
    );
    let err = dialog(&s).error.clone().unwrap();
    assert!(err.contains("500") && err.contains("disk on fire"), "{err}");
    let fx = update(
        &mut s,
        Message::Written {
            url,
            kind: WriteKind::Delete { path },
            result: Ok(Written::Deleted),
        },
    );
    assert!(s.overlay.is_none());
    assert!(fx.contains(&Effect::StopReader));
    assert!(matches!(s.reader().connection, Connection::Failed(_)));
    // Only opened, not bookmarked: its row goes with it.
    assert!(s.streams.entries.is_empty());
}

#[test]
fn append_settings_validate_and_apply() {
    let mut s = new_state();
    open_json(&mut s, "s");
    ch(&mut s, 'a');
    ctrl(&mut s, 'o');
    assert!(matches!(
        dialog(&s).kind,
        DialogKind::AppendSettings { field: 0, .. }
    ));
    retype(&mut s, "007");
    press(&mut s, KeyCode::Tab);
    retype(&mut s, "");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.as_deref().unwrap().contains("producer"));
    typ(&mut s, "writer-1");
    press(&mut s, KeyCode::Tab);
    retype(&mut s, "x");
    press(&mut s, KeyCode::Enter);
    assert!(dialog(&s).error.as_deref().unwrap().contains("epoch"));
    retype(&mut s, "3");
    press(&mut s, KeyCode::Enter);
    assert!(s.overlay.is_none());
    let c = &s.composer;
    assert_eq!(
        (c.seq.as_str(), c.producer_id.as_str()),
        ("007", "writer-1")
    );
    assert_eq!(c.epoch, 3);
}

#[test]
fn a_typed_producer_seq_is_kept_even_with_a_new_epoch() {
    let mut s = new_state();
    open_json(&mut s, "s");
    ch(&mut s, 'a');
    s.composer.producer_seq = 9;
    ctrl(&mut s, 'o');
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    retype(&mut s, "4");
    press(&mut s, KeyCode::Tab);
    retype(&mut s, "no");
    press(&mut s, KeyCode::Enter);
    assert!(dialog(&s).error.as_deref().unwrap().contains("seq"));
    retype(&mut s, "2");
    press(&mut s, KeyCode::Enter);
    assert!(s.overlay.is_none());
    assert_eq!((s.composer.epoch, s.composer.producer_seq), (4, 2));
    // A new epoch alone starts its sequence again at 0.
    ctrl(&mut s, 'o');
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    retype(&mut s, "5");
    press(&mut s, KeyCode::Enter);
    assert_eq!((s.composer.epoch, s.composer.producer_seq), (5, 0));
}

#[test]
fn esc_closes_any_dialog_and_confirm_ignores_other_keys() {
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Composer;
    ctrl(&mut s, 'd');
    assert!(ch(&mut s, 'x').is_empty());
    assert!(s.overlay.is_some());
    press(&mut s, KeyCode::Esc);
    assert!(s.overlay.is_none());
    assert_eq!(s.focus, Pane::Composer);
}

#[test]
fn the_resume_point_is_the_message_the_view_was_paused_on() {
    let mut s = two_batches();
    let url = s.open.as_ref().unwrap().url.clone();
    // Up to message 2 (header of batch 2, then 3, then... 2).
    for _ in 0..3 {
        press(&mut s, KeyCode::Up);
    }
    assert_eq!(s.tail.current_message(), Some(n(2).as_bytes()));
    open_json(&mut s, "other");
    let pos = s.bookmarks.last_position(&url).unwrap().clone();
    assert_eq!((pos.offset.as_str(), pos.position), ("-1", 1));
    // Back in the same session: no question, it resumes there.
    let fx = open_json(&mut s, "s");
    assert!(s.overlay.is_none());
    assert_eq!(s.reader().pending_skip, 0);
    assert_eq!(starts(&fx)[0].1, "-1");
    // One response for all four: the first shown is message 2.
    let all = [n(1), n(2), n(3), n(4)];
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    deliver(&mut s, batch("-1", "c2", &all, false));
    assert_eq!(shown(&s), [n(2), n(3), n(4)]);
}

#[test]
fn a_bookmark_while_saving_is_off_says_it_will_not_be_kept() {
    let mut s = two_batches();
    s.bookmarks_broken = true;
    ch(&mut s, 'm');
    press(&mut s, KeyCode::Enter);
    let notice = s.notice.clone().unwrap();
    assert_eq!(notice.level, Level::Error);
    assert!(notice.text.contains("will not be kept"), "{}", notice.text);
    // Kept for the session all the same.
    assert_eq!(names(&s).len(), 1);
}

#[test]
fn credentials_in_urls_stay_out_of_bookmarks_and_titles() {
    let mut s = State::new("http://u:pw@127.0.0.1:1/v1/stream", Instant::now());
    s.wall = "2026-11-28T12:00:00Z".into();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    ch(&mut s, 'm');
    press(&mut s, KeyCode::Enter);
    let other = "http://v:secret@127.0.0.1:2/v1/stream/x?token=t0k3n";
    let mut fx = Vec::new();
    crate::tui::update::open_typed(&mut s, other, &mut fx);
    // The request keeps them; what is shown and stored does not.
    assert_eq!(s.open.as_ref().unwrap().url, other);
    assert_eq!(
        s.open.as_ref().unwrap().path,
        "http://127.0.0.1:2/v1/stream/x"
    );
    let json = serde_json::to_string(&s.bookmarks).unwrap();
    for secret in ["pw", "secret", "t0k3n"] {
        assert!(!json.contains(secret), "{json}");
    }
    // The stripped keys still belong to this server's rows.
    assert_eq!(
        s.path_of("http://127.0.0.1:1/v1/stream/s").as_deref(),
        Some("s")
    );
    assert_eq!(
        s.bookmarks
            .list("http://u:pw@127.0.0.1:1/v1/stream/s")
            .len(),
        1
    );
}

#[test]
fn dialog_and_filter_line_keys_come_from_the_keymap() {
    use crate::tui::keymap::{Form, Key, Scope};
    let mut s = new_state();
    // Bookmarks list: `x` deletes instead of `d`; Enter in the open
    // dialog becomes Ctrl-G; the filter line keeps on Ctrl-K.
    s.keymap
        .rebind(
            Scope::Dialog(Form::Open),
            Action::Submit,
            vec![Key {
                code: KeyCode::Char('g'),
                ctrl: true,
            }],
        )
        .unwrap();
    s.keymap
        .rebind(
            Scope::FilterLine,
            Action::Submit,
            vec![Key {
                code: KeyCode::Char('k'),
                ctrl: true,
            }],
        )
        .unwrap();
    ch(&mut s, 'o');
    typ(&mut s, "x/y");
    // Enter is no longer the dialog's: nothing opens.
    press(&mut s, KeyCode::Enter);
    assert!(s.open.is_none());
    assert_eq!(
        s.keymap
            .scope_hints(Scope::Dialog(dialog(&s).kind.form()))
            .first()
            .map(|(k, _)| k.clone()),
        Some("Ctrl-G".to_owned())
    );
    ctrl(&mut s, 'g');
    assert_eq!(s.open.as_ref().unwrap().path, "x/y");
    // The filter line: Enter is no longer "keep", Ctrl-K is.
    s.overlay = None;
    s.focus = Pane::Streams;
    ch(&mut s, '/');
    typ(&mut s, "ab");
    press(&mut s, KeyCode::Enter);
    assert!(s.streams.filtering);
    ctrl(&mut s, 'k');
    assert!(!s.streams.filtering);
    assert_eq!(s.streams.filter, "ab");
}
