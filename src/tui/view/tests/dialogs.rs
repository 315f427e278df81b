//! Every dialog kind over the panes, at both sizes, opened by keys.

use super::*;
use crate::tui::message::{WriteKind, Written};

fn tail_focused(size: (u16, u16)) -> State {
    let mut s = orders(size);
    s.focus = Pane::Tail;
    s
}

#[test]
fn open_dialog_with_an_error() {
    let shots = snap("dialog_open_error", |size| {
        let mut s = orders(size);
        ch(&mut s, 'o');
        key(&mut s, KeyCode::Enter);
        s
    });
    assert!(screen_text(shots[0].1.backend().buffer()).contains("✗ type"));
    snap("dialog_open_typing", |size| {
        let mut s = orders(size);
        ch(&mut s, 'o');
        typ(&mut s, "demo/new-stream");
        key(&mut s, KeyCode::Left);
        s
    });
}

#[test]
fn jump_dialog() {
    snap("dialog_jump", |size| {
        let mut s = tail_focused(size);
        ch(&mut s, 'J');
        s
    });
}

#[test]
fn bookmark_name_and_list() {
    snap("dialog_bookmark_name", |size| {
        let mut s = tail_focused(size);
        key(&mut s, KeyCode::Up);
        ch(&mut s, 'm');
        s
    });
    let with_marks = |size| {
        let mut s = tail_focused(size);
        for name in ["checkout spike", "before deploy", "last good"] {
            key(&mut s, KeyCode::Up);
            key(&mut s, KeyCode::Up);
            ch(&mut s, 'm');
            ctrl(&mut s, 'u');
            typ(&mut s, name);
            key(&mut s, KeyCode::Enter);
        }
        ch(&mut s, '\'');
        ch(&mut s, 'j');
        s
    };
    snap("dialog_bookmarks", with_marks);
    snap("dialog_bookmarks_renaming", |size| {
        let mut s = with_marks(size);
        ch(&mut s, 'r');
        typ(&mut s, " (2)");
        s
    });
    snap("dialog_bookmarks_duplicate_error", |size| {
        let mut s = with_marks(size);
        ch(&mut s, 'r');
        ctrl(&mut s, 'u');
        typ(&mut s, "last good");
        key(&mut s, KeyCode::Enter);
        s
    });
    snap("dialog_bookmarks_empty", |size| {
        let mut s = tail_focused(size);
        ch(&mut s, '\'');
        s
    });
}

#[test]
fn create_dialog_with_an_error_and_busy() {
    snap("dialog_create_error", |size| {
        let mut s = orders(size);
        ch(&mut s, 'n');
        typ(&mut s, "demo/new");
        key(&mut s, KeyCode::Tab);
        key(&mut s, KeyCode::Tab);
        typ(&mut s, "60");
        key(&mut s, KeyCode::Tab);
        typ(&mut s, "2030-01-01T00:00:00Z");
        key(&mut s, KeyCode::Enter);
        s
    });
    snap("dialog_create_server_error", |size| {
        let mut s = orders(size);
        ch(&mut s, 'n');
        typ(&mut s, "demo/orders");
        key(&mut s, KeyCode::Enter);
        let url = s.url_of("demo/orders");
        update(
            &mut s,
            Message::Written {
                url: url.clone(),
                kind: WriteKind::Create {
                    path: "demo/orders".into(),
                },
                result: Err(Error::AlreadyExists {
                    url,
                    message: "content type differs".into(),
                }),
            },
        );
        s
    });
    snap("dialog_create_busy", |size| {
        let mut s = orders(size);
        ch(&mut s, 'n');
        typ(&mut s, "demo/new");
        key(&mut s, KeyCode::Tab);
        key(&mut s, KeyCode::Tab);
        key(&mut s, KeyCode::Tab);
        key(&mut s, KeyCode::Tab);
        ch(&mut s, ' ');
        key(&mut s, KeyCode::Enter);
        s
    });
}

#[test]
fn delete_dialog() {
    snap("dialog_delete", |size| {
        let mut s = orders(size);
        ch(&mut s, 'D');
        typ(&mut s, "demo/ord");
        key(&mut s, KeyCode::Enter);
        s
    });
}

#[test]
fn confirm_dialogs() {
    snap("dialog_confirm_append_and_close", |size| {
        let mut s = orders(size);
        ch(&mut s, 'a');
        typ(&mut s, "{\"last\":true}");
        ctrl(&mut s, 'x');
        s
    });
    snap("dialog_confirm_close", |size| {
        let mut s = orders(size);
        ch(&mut s, 'a');
        ctrl(&mut s, 'd');
        s
    });
}

#[test]
fn resume_dialog() {
    snap("dialog_resume", |size| {
        let mut s = state(size);
        registry(&mut s, "demo/orders", "application/json");
        let url = s.url_of("demo/orders");
        s.bookmarks.set_last_position(
            &url,
            "0000000000000000_0000000000000600",
            0,
            "2026-11-27T18:30:00Z",
        );
        open(&mut s, "demo/orders");
        s
    });
}

#[test]
fn append_settings_dialog() {
    snap("dialog_append_settings", |size| {
        let mut s = orders(size);
        ch(&mut s, 'a');
        ctrl(&mut s, 'o');
        key(&mut s, KeyCode::Tab);
        key(&mut s, KeyCode::Tab);
        typ(&mut s, "x");
        key(&mut s, KeyCode::Enter);
        s
    });
}

#[test]
fn composer_after_a_failed_and_a_landed_append() {
    snap("composer_server_error", |size| {
        let mut s = orders(size);
        ch(&mut s, 'a');
        typ(&mut s, "{\"id\":10}");
        ctrl(&mut s, 's');
        let url = s.url_of("demo/orders");
        update(
            &mut s,
            Message::Written {
                url: url.clone(),
                kind: WriteKind::Append { close: false },
                result: Err(Error::Status {
                    url,
                    status: 503,
                    message: "overloaded".into(),
                }),
            },
        );
        s
    });
    snap("composer_landed", |size| {
        let mut s = orders(size);
        ch(&mut s, 'a');
        ctrl(&mut s, 'p');
        typ(&mut s, "{\"id\":10}");
        ctrl(&mut s, 's');
        let url = s.url_of("demo/orders");
        update(
            &mut s,
            Message::Written {
                url,
                kind: WriteKind::Append { close: false },
                result: Ok(Written::Appended {
                    next_offset: "0000000000000000_0000000000000950".into(),
                    duplicate: false,
                    closed: false,
                }),
            },
        );
        s
    });
}

/// At 40x12 a dialog is as tall as its wrapped text: its last words show.
#[test]
fn dialogs_are_whole_at_40x12() {
    let mut s = orders((40, 12));
    s.focus = Pane::Tail;
    ch(&mut s, 'J');
    let text = screen_text(render(&s).backend().buffer());
    assert!(text.contains("restarts"), "{text}");
    let mut s = orders((40, 12));
    ch(&mut s, 'n');
    let text = screen_text(render(&s).backend().buffer());
    assert!(text.contains("Enter"), "{text}");
    let create = dialog::content(
        &s,
        s.overlay.as_ref().map_or_else(
            || unreachable!(),
            |o| match o {
                Overlay::Dialog(d) => d,
                _ => unreachable!(),
            },
        ),
    );
    let last: String = create
        .1
        .last()
        .unwrap()
        .spans
        .iter()
        .map(|s| s.content.as_ref())
        .collect();
    let last_word = last.split_whitespace().last().unwrap();
    assert!(text.contains(last_word), "{last_word}: {text}");
}

/// The export dialog (`E`): the ranges offered from the stream's
/// bookmarks, the format and the file; then a run under way, with its
/// progress bar, counts and rate.
#[test]
fn export_dialog_and_its_progress() {
    let with_marks = |size| {
        let mut s = tail_focused(size);
        for name in ["before deploy", "incident"] {
            key(&mut s, KeyCode::Up);
            key(&mut s, KeyCode::Up);
            ch(&mut s, 'm');
            ctrl(&mut s, 'u');
            typ(&mut s, name);
            key(&mut s, KeyCode::Enter);
        }
        ch(&mut s, 'E');
        key(&mut s, KeyCode::Down);
        s
    };
    let shots = snap("dialog_export", with_marks);
    let text = screen_text(shots[0].1.backend().buffer());
    // ↓ moved from the whole stream to the first bookmark's range.
    assert!(text.contains("before deploy → now ›  2/4"), "{text}");
    snap("dialog_export_progress", |size| {
        let mut s = with_marks(size);
        let now = s.now;
        if let Some(Overlay::Dialog(d)) = &mut s.overlay
            && let crate::tui::state::dialog::DialogKind::Export(form) =
                &mut d.kind
        {
            form.run = Some(crate::tui::state::export::ExportRun {
                id: 1,
                file: "demo-orders.ndjson".into(),
                counts: crate::export::Counts {
                    messages: 412,
                    bytes: 41_200,
                    expected: Some(1_000),
                },
                started: now,
                at: now + Duration::from_secs(2),
                outcome: None,
            });
        }
        s
    });
}
