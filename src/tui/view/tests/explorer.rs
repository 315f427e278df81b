//! The explorer in use: recovery states, true numbers, layout and
//! usability, as screens.

use super::*;

#[test]
fn an_unreachable_server_is_said_in_the_stream_list() {
    let snaps = snap("streams_unreachable", |size| {
        let mut s = State::new(BASE, Instant::now());
        s.size = size;
        update(
            &mut s,
            Message::Registry(RegistryEvent::Failed(
                "server unreachable: connection refused \u{1b}[31m".into(),
            )),
        );
        s
    });
    for (_, t) in snaps {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("cannot list the streams"), "{text}");
        assert!(text.contains("http://127.0.0.1"), "{text}");
        assert!(text.contains("server unreachable"), "{text}");
        assert!(!text.contains("no streams yet"), "{text}");
    }
}

/// The tail's share of the screen at the sizes people use, with the tail
/// focused (the composer is one row until focused). Snapshots show it.
#[test]
fn the_tail_has_the_space_at_every_size() {
    // (size, tail rows inside its border, tail columns inside it)
    let expect = [
        ((160, 48), 41, 96),
        ((120, 30), 23, 92),
        ((80, 24), 17, 52),
        ((40, 12), 5, 38),
    ];
    for ((w, h), rows, cols) in expect {
        let mut s = orders((w, h));
        s.focus = Pane::Tail;
        let t = render(&s);
        insta::assert_snapshot!(format!("layout_tail_{w}x{h}"), t.backend());
        let a = layout::of_state(&s);
        assert_eq!(
            (a.tail.height - 2, a.tail.width - 2),
            (rows, cols),
            "{w}x{h}"
        );
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("widget-8"), "{w}x{h}:\n{text}");
    }
    // The composer grows when focused, and `s` hides the side panes.
    let mut s = orders((80, 24));
    s.focus = Pane::Tail;
    ch(&mut s, 'a');
    assert_eq!(layout::of_state(&s).composer.height, 5);
    key(&mut s, KeyCode::Esc);
    ch(&mut s, 's');
    let a = layout::of_state(&s);
    assert_eq!(a.tail.width, 80);
    assert_eq!(a.of(Pane::Streams), None);
    let t = render(&s);
    insta::assert_snapshot!("layout_side_panes_hidden_80x24", t.backend());
    ch(&mut s, 's');
    assert!(layout::of_state(&s).of(Pane::Streams).is_some());
}

/// The metadata pane shows the distinguishing end of a long offset at
/// both sizes, its footer offers `y`, and `y` copies the offset whole.
#[test]
fn metadata_shows_the_end_of_long_offsets_and_copies_them_whole() {
    for size in [(80, 24), (120, 30), (160, 48)] {
        let mut s = orders(size);
        s.focus = Pane::Meta;
        let whole = s
            .meta
            .head
            .as_ref()
            .unwrap()
            .next_offset
            .as_str()
            .to_owned();
        assert!(whole.len() > 30, "{whole}");
        let end = &whole[whole.len() - 6..];
        let t = render(&s);
        let b = t.backend().buffer();
        let a = layout::of_state(&s);
        let next = (a.meta.y..a.meta.bottom())
            .map(|y| row(b, y))
            .find(|r| r.contains("next"))
            .unwrap();
        assert!(next.contains(end), "{size:?}: {next}");
        assert!(
            next.contains(&whole) || next.contains("…"),
            "{size:?}: {next}"
        );
        assert!(row(b, size.1 - 1).contains("y copy offset"), "{size:?}");
        let fx = ch(&mut s, 'y');
        assert!(
            fx.iter().any(|e| matches!(
                e,
                Effect::CopyNoted { text, .. } if *text == whole
            )),
            "{fx:?}"
        );
    }
}

/// Every pane's footer shows its main keys.
#[test]
fn each_panes_footer_shows_its_main_keys() {
    for (pane, wanted) in [
        (Pane::Streams, "o open path"),
        (Pane::Meta, "y copy offset"),
        (Pane::Tail, "Enter detail"),
        (Pane::Composer, "Ctrl-S send"),
    ] {
        let mut s = orders((80, 24));
        s.focus = pane;
        let t = render(&s);
        let last = row(t.backend().buffer(), 23);
        assert!(last.contains(wanted), "{pane:?}: {last}");
    }
}

/// Help at 40x12 is not cut: it scrolls to its last line, says there is
/// more, and its list of global keys ends without a stray separator.
#[test]
fn help_scrolls_at_40x12_and_ends_cleanly() {
    let mut s = orders((40, 12));
    s.focus = Pane::Tail;
    ch(&mut s, '?');
    let first = screen_text(render(&s).backend().buffer());
    assert!(first.contains("more"), "{first}");
    assert!(first.contains("Tail pane"), "{first}");
    // Scroll to the end, bounded.
    let mut seen = first.clone();
    for _ in 0..200 {
        key(&mut s, KeyCode::Down);
        seen.push_str(&screen_text(render(&s).backend().buffer()));
    }
    let last = screen_text(render(&s).backend().buffer());
    insta::assert_snapshot!("help_tail_scrolled_40x12", last);
    assert!(last.contains("Esc closes dialogs"), "{last}");
    assert!(!last.contains("↓ more"), "{last}");
    // Every key of the pane was on screen at some point.
    for b in keymap::Keymap::default().bindings_for(Pane::Tail) {
        if b.scope == keymap::Scope::Pane(Pane::Tail) {
            let start: String = b.help.chars().take(12).collect();
            assert!(seen.contains(&start), "{}", b.help);
        }
    }
    // Home goes back; Esc closes.
    key(&mut s, KeyCode::Home);
    assert_eq!(screen_text(render(&s).backend().buffer()), first);
    key(&mut s, KeyCode::Esc);
    assert!(s.overlay.is_none());
    // No separator after the last global key.
    let global: Vec<String> =
        help::lines(&keymap::Keymap::default(), Pane::Tail)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
    assert!(
        global.iter().all(|l| !l.trim_end().ends_with('·')),
        "{global:?}"
    );
}

/// `?` in the detail view lists its keys over it; Esc goes back to the
/// detail view, not the tail. Its footer says what its value is.
#[test]
fn help_in_the_detail_view() {
    let shots = snap("help_detail", |size| {
        let mut s = orders(size);
        s.focus = Pane::Tail;
        key(&mut s, KeyCode::Up);
        key(&mut s, KeyCode::Enter);
        ch(&mut s, '?');
        s
    });
    for (s, t) in shots {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("Detail view"), "{text}");
        assert!(text.contains("fold / unfold"), "{text}");
        let mut s = s;
        key(&mut s, KeyCode::Esc);
        assert!(matches!(s.overlay, Some(Overlay::Detail(_))));
        let text = screen_text(render(&s).backend().buffer());
        assert!(text.contains("path ."), "{text}");
        assert!(text.contains("? keys"), "{text}");
    }
}

/// A text stream's composer says it adds a newline (Ctrl-L switches it
/// off, and the title says that too); a closed stream's composer does not
/// invite appends and sends nothing.
#[test]
fn the_composer_says_how_text_is_sent_and_when_it_cannot_be() {
    let shots = snap("composer_text_newline", |size| {
        let mut s = one_stream(size, "demo/app-log", "text/plain", b"a\n");
        ch(&mut s, 'a');
        s
    });
    for (mut s, t) in shots {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("adds a newline"), "{text}");
        assert!(text.contains("Ctrl-L no newline"), "{text}");
        typ(&mut s, "one");
        let fx = ctrl(&mut s, 's');
        let body = fx.iter().find_map(|e| match e {
            Effect::Append { body, .. } => Some(body.clone()),
            _ => None,
        });
        assert_eq!(body.as_deref(), Some(&b"one\n"[..]));
        ctrl(&mut s, 'l');
        let text = screen_text(render(&s).backend().buffer());
        assert!(text.contains("no newline"), "{text}");
    }
    let shots = snap("composer_closed_stream", |size| {
        let mut s = orders(size);
        let mut last = incoming(
            "0000000000000000_0000000000000900",
            "0000000000000000_0000000000000999",
            br#"{"bye":true}"#,
            true,
            true,
        );
        last.closed = true;
        deliver(&mut s, last);
        s.focus = Pane::Tail;
        s
    });
    for (mut s, t) in shots {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("nothing can be appended"), "{text}");
        assert!(!text.contains("type a message"), "{text}");
        assert!(!text.contains("a write an append"), "{text}");
        ch(&mut s, 'a');
        typ(&mut s, "{}");
        let fx = ctrl(&mut s, 's');
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::Append { .. })),
            "{fx:?}"
        );
    }
}

/// Unfocused, the one-row composer shows the text left in it, or the
/// last outcome when there is one.
#[test]
fn the_unfocused_composer_shows_its_text_or_outcome() {
    let mut s = orders((80, 24));
    ch(&mut s, 'a');
    typ(&mut s, "{\"draft\": 1}");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.focus, Pane::Tail);
    let a = layout::of_state(&s);
    assert_eq!(a.composer.height, 3);
    let b = render(&s);
    assert!(
        row(b.backend().buffer(), a.composer.y + 1).contains("{\"draft\": 1}")
    );
    s.composer.outcome = Some(crate::tui::state::composer::Outcome::Done(
        "appended; next offset 7".into(),
    ));
    let b = render(&s);
    assert!(row(b.backend().buffer(), a.composer.y + 1).contains("✓ appended"));
}
