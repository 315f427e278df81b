//! The tail's search on screen: every match highlighted in the rows shown,
//! the count in the title, the search line with a bad regex's error.

use std::fmt::Write as _;

use ratatui::style::Color;

use super::*;

/// A JSON log of twelve messages, four of them errors, the tail focused
/// and compact.
fn log(size: (u16, u16)) -> State {
    let msgs: Vec<String> = (0..12)
        .map(|i| {
            let level = if i % 3 == 1 { "error" } else { "info" };
            format!(r#"{{"i":{i},"level":"{level}","msg":"request {i}"}}"#)
        })
        .collect();
    let mut s = one_stream(
        size,
        "demo/log",
        "application/json",
        msgs.join("\x1e").as_bytes(),
    );
    ch(&mut s, 'p');
    s
}

/// Runs the scan's steps as the executor would send them back (bounded).
fn run_steps(s: &mut State, mut fx: Vec<Effect>) {
    for _ in 0..1_000 {
        let Some(generation) = fx.iter().find_map(|e| match e {
            Effect::SearchStep { generation } => Some(*generation),
            _ => None,
        }) else {
            return;
        };
        fx = update(s, Message::SearchStep { generation });
    }
    panic!("the scan does not end");
}

fn search(s: &mut State, text: &str) {
    ch(s, '/');
    typ(s, text);
    let fx = key(s, KeyCode::Enter);
    run_steps(s, fx);
}

/// The screen, then under it each row with highlighted cells and a `^`
/// under each of them (the match colour): text snapshots carry no colours.
fn with_highlights(buffer: &Buffer) -> String {
    let mut out = screen_text(buffer);
    out.push_str("\n--- highlighted ---");
    for y in 0..buffer.area.height {
        let mask: String = (0..buffer.area.width)
            .map(|x| {
                if buffer[(x, y)].bg == Color::LightYellow {
                    '^'
                } else {
                    ' '
                }
            })
            .collect();
        if mask.contains('^') {
            let _ = write!(out, "\n{y:>2} {}\n   {mask}", row(buffer, y));
        }
    }
    out
}

#[test]
fn search_highlights_every_match_on_screen() {
    for size in SIZES {
        let mut state = log(size);
        search(&mut state, "error");
        ch(&mut state, 'n');
        ch(&mut state, 'n');
        let terminal = render(&state);
        let b = terminal.backend().buffer();
        insta::assert_snapshot!(
            format!("search_highlights_{}x{}", size.0, size.1),
            with_highlights(b)
        );
        assert_clean(b);
        let text = screen_text(b);
        assert!(text.contains("/error/ match 2/4"), "{text}");
        // Each error row shown has its word marked, and no info row.
        for y in 0..b.area.height {
            let line = row(b, y);
            let marked =
                (0..b.area.width).any(|x| b[(x, y)].bg == Color::LightYellow);
            if line.contains(r#""level":"error""#) {
                assert!(marked, "{line}");
            } else if line.contains(r#""level":"info""#) {
                assert!(!marked, "{line}");
            }
        }
        // The selected match: the row's background, its word's own.
        let y = (0..b.area.height)
            .find(|&y| row(b, y).contains(r#""i":4,"#))
            .unwrap();
        let line = row(b, y);
        let at = line.find("error").unwrap();
        let x = u16::try_from(line[..at].chars().count()).unwrap();
        assert_eq!(b[(x, y)].bg, Color::LightYellow);
        assert_eq!(b[(x - 3, y)].bg, Color::DarkGray);
    }
}

#[test]
fn search_line_with_a_bad_regex() {
    let shots = snap("search_line_bad_regex", |size| {
        let mut s = log(size);
        search(&mut s, "request 1");
        ch(&mut s, '/');
        typ(&mut s, "[0-");
        ctrl(&mut s, 'r');
        key(&mut s, KeyCode::Enter);
        s
    });
    for (_, t) in &shots {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("/request 1[0-▏"), "{text}");
        assert!(text.contains("✗ bad regex"), "{text}");
        // The search kept before still counts its matches.
        assert!(text.contains("/request 1/ 3 matches"), "{text}");
        // The hints are the search line's, from the keymap.
        assert!(text.contains("Ctrl-R regex"), "{text}");
    }
}
