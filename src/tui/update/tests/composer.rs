//! The composer (validation, send results, history, close keys) and the
//! global keys: help, quit, focus and zoom.

use super::*;

#[test]
fn composer_refuses_invalid_json_and_keeps_the_text() {
    let mut s = new_state();
    open_json(&mut s, "s");
    ch(&mut s, 'a');
    assert_eq!(s.focus, Pane::Composer);
    typ(&mut s, "{\"q\": ");
    // q was text, not quit.
    assert!(!s.quit);
    let fx = ctrl(&mut s, 's');
    assert!(fx.is_empty());
    let Some(Outcome::Failed(why)) = &s.composer.outcome else {
        panic!("{:?}", s.composer.outcome);
    };
    assert!(why.contains("line 1, column 6"), "{why}");
    assert_eq!(s.composer.text(), "{\"q\": ");
}

#[test]
fn composer_send_failure_success_and_recall() {
    let mut s = new_state();
    open_json(&mut s, "s");
    let url = s.open.as_ref().unwrap().url.clone();
    ch(&mut s, 'a');
    typ(&mut s, "{\"n\":1}");
    let fx = ctrl(&mut s, 's');
    assert_eq!(
        fx,
        [Effect::Append {
            url: url.clone(),
            body: Bytes::from("{\"n\":1}"),
            content_type: Some("application/json".into()),
            mode: crate::tui::state::composer::AppendMode::Plain,
            close: false,
        }]
    );
    // A second send waits for the first.
    assert!(ctrl(&mut s, 's').is_empty());
    let append = WriteKind::Append { close: false };
    let fx = update(
        &mut s,
        Message::Written {
            url: url.clone(),
            kind: append.clone(),
            result: Err(server_error(&url)),
        },
    );
    assert!(fx.contains(&Effect::Head { url: url.clone() }));
    let Some(Outcome::Failed(why)) = &s.composer.outcome else {
        panic!("{:?}", s.composer.outcome);
    };
    assert!(why.contains("500") && why.contains("kept"), "{why}");
    assert_eq!(s.composer.text(), "{\"n\":1}");
    assert!(!s.composer.busy);
    // Retry; this time it lands.
    assert_eq!(ctrl(&mut s, 's').len(), 1);
    update(
        &mut s,
        Message::Written {
            url: url.clone(),
            kind: append,
            result: Ok(Written::Appended {
                next_offset: "o9".into(),
                duplicate: false,
                closed: false,
            }),
        },
    );
    assert!(
        matches!(&s.composer.outcome, Some(Outcome::Done(t)) if t.contains("o9"))
    );
    assert!(s.composer.is_empty());
    assert_eq!(s.composer.history, ["{\"n\":1}"]);
    press(&mut s, KeyCode::Up);
    assert_eq!(s.composer.text(), "{\"n\":1}");
    press(&mut s, KeyCode::Down);
    assert!(s.composer.is_empty());
    // Esc leaves the composer for the tail.
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.focus, Pane::Tail);
}

#[test]
fn composer_close_keys_ask_first_and_ctrl_c_quits() {
    let mut s = new_state();
    open_json(&mut s, "s");
    let url = s.open.as_ref().unwrap().url.clone();
    ch(&mut s, 'a');
    typ(&mut s, "[1]");
    assert!(ctrl(&mut s, 'x').is_empty());
    assert!(matches!(
        &s.overlay,
        Some(Overlay::Dialog(d))
            if d.kind == DialogKind::Confirm(Confirm::AppendAndClose)
    ));
    assert!(ch(&mut s, 'n').is_empty());
    assert!(s.overlay.is_none());
    ctrl(&mut s, 'x');
    let fx = ch(&mut s, 'y');
    assert!(matches!(
        fx.as_slice(),
        [Effect::Append { close: true, .. }]
    ));
    update(
        &mut s,
        Message::Written {
            url: url.clone(),
            kind: WriteKind::Append { close: true },
            result: Ok(Written::Appended {
                next_offset: "o2".into(),
                duplicate: false,
                closed: true,
            }),
        },
    );
    assert!(ctrl(&mut s, 'd').is_empty());
    assert!(matches!(
        &s.overlay,
        Some(Overlay::Dialog(d)) if d.kind == DialogKind::Confirm(Confirm::Close)
    ));
    assert_eq!(press(&mut s, KeyCode::Enter), [Effect::Close { url }]);
    assert!(s.overlay.is_none());
    assert!(!s.quit);
    let fx = ctrl(&mut s, 'c');
    assert!(s.quit);
    assert!(fx.contains(&Effect::StopReader));
}

#[test]
fn composer_needs_an_open_stream_and_text() {
    let mut s = new_state();
    ch(&mut s, 'a');
    assert!(ctrl(&mut s, 's').is_empty());
    assert!(
        matches!(&s.composer.outcome, Some(Outcome::Failed(t)) if t.contains("open a stream"))
    );
    open_json(&mut s, "s");
    s.focus = Pane::Composer;
    assert!(ctrl(&mut s, 's').is_empty());
    assert!(
        matches!(&s.composer.outcome, Some(Outcome::Failed(t)) if t.contains("nothing"))
    );
}

#[test]
fn help_opens_with_question_mark_and_closes_with_esc() {
    let mut s = new_state();
    ch(&mut s, '?');
    assert!(matches!(s.overlay, Some(Overlay::Help(_))));
    // Keys other than Esc, ? and q do nothing under help.
    ch(&mut s, 'j');
    assert!(matches!(s.overlay, Some(Overlay::Help(_))));
    press(&mut s, KeyCode::Esc);
    assert!(s.overlay.is_none());
    ch(&mut s, '?');
    ch(&mut s, '?');
    assert!(s.overlay.is_none());
}

#[test]
fn quitting_remembers_the_position() {
    let mut s = new_state();
    open_json(&mut s, "s");
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    let fx = ch(&mut s, 'q');
    assert!(s.quit);
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveBookmarks(_))));
    let url = s.open.as_ref().unwrap().url.clone();
    assert_eq!(s.bookmarks.last_position(&url).unwrap().offset, "c1");
}

#[test]
fn tab_cycles_focus_and_z_zooms() {
    let mut s = new_state();
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut s, KeyCode::Tab);
        seen.push(s.focus);
    }
    assert_eq!(
        seen,
        [Pane::Tail, Pane::Meta, Pane::Composer, Pane::Streams]
    );
    press(&mut s, KeyCode::BackTab);
    assert_eq!(s.focus, Pane::Composer);
    press(&mut s, KeyCode::Esc);
    ch(&mut s, 'z');
    assert!(s.zoomed);
}
