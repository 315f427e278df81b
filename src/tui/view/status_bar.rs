//! The status bar: connection, mode, offset, rate, then the keys that
//! matter in the focused pane, or the latest notice while it lasts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::tail::unit;
use super::{count, safe};
use crate::tui::format::ContentKind;
use crate::tui::keymap::Scope;
use crate::tui::state::{Connection, Level, Overlay, State};

/// The connection as words, with its colour.
pub fn connection_label(state: &State) -> (String, Color) {
    match &state.reader().connection {
        Connection::Idle => ("idle".into(), Color::DarkGray),
        Connection::Connecting => ("connecting".into(), Color::Yellow),
        Connection::CatchingUp => ("catching up".into(), Color::Yellow),
        Connection::Live => ("live".into(), Color::Green),
        Connection::CaughtUp => ("caught up".into(), Color::Cyan),
        Connection::Reconnecting {
            attempt,
            next_at,
            error,
        } => {
            let secs =
                next_at.saturating_duration_since(state.now).as_secs_f64();
            (
                format!(
                    "reconnecting, attempt {attempt}, next in {}s (R now): {}",
                    secs.ceil(),
                    safe(error)
                ),
                Color::Yellow,
            )
        }
        Connection::Closed => ("closed".into(), Color::Red),
        Connection::Failed(_) => ("failed (R retries)".into(), Color::Red),
    }
}

/// Draws both rows.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    if area.height == 0 {
        return;
    }
    let (conn, color) = connection_label(state);
    let dim = Style::new().fg(Color::DarkGray);
    let mut spans = vec![
        Span::styled(
            format!(" ● {conn} "),
            Style::new()
                .fg(Color::Black)
                .bg(color)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
        Span::styled(
            state.reader().mode.to_string(),
            Style::new().fg(Color::Cyan),
        ),
    ];
    if let Some(o) = &state.tail.last_offset {
        spans.push(Span::styled(" · offset ", dim));
        spans.push(Span::styled(safe(o), Style::new().fg(Color::Magenta)));
    }
    spans.push(Span::styled(" · ", dim));
    spans.push(Span::raw(if state.tail.kind == ContentKind::Binary {
        super::human_bytes(state.tail.total_bytes)
    } else {
        unit(state.tail.kind, state.tail.total_messages)
    }));
    spans.push(Span::styled(" · ", dim));
    // Live arrivals only: what catch-up brought is not a rate.
    spans.push(Span::raw(format!(
        "{}/s live",
        count(state.meta.rate.per_second())
    )));
    frame.render_widget(
        Paragraph::new(Line::from(spans)),
        Rect::new(area.x, area.y, area.width, 1),
    );
    if area.height < 2 {
        return;
    }
    // The notice takes the hints' row while it lasts: after a full-length
    // offset the first row has no room left for it at 80 or 120 columns.
    if let Some(n) = &state.notice {
        let style = match n.level {
            Level::Info => Style::new().fg(Color::Green),
            Level::Error => {
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
            }
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw(" "),
                Span::styled(safe(&n.text), style),
            ])),
            Rect::new(area.x, area.y + 1, area.width, 1),
        );
        return;
    }
    let hints: Vec<(String, &str)> = match &state.overlay {
        Some(Overlay::Help(_)) => state.keymap.scope_hints(Scope::Help),
        Some(Overlay::Detail(_)) => state.keymap.scope_hints(Scope::Detail),
        Some(Overlay::Dialog(d)) => {
            state.keymap.scope_hints(Scope::Dialog(d.kind.form()))
        }
        Some(Overlay::Inspector) if state.inspector.confirm_secrets => vec![
            ("y".into(), "copy with secrets"),
            ("any key".into(), "cancel"),
        ],
        Some(Overlay::Inspector) => state
            .keymap
            .scope_hints(crate::tui::keymap::Scope::Inspector),
        None if state.streams.filtering
            && state.focus == crate::tui::state::Pane::Streams =>
        {
            state.keymap.scope_hints(Scope::FilterLine)
        }
        None if state.search.line.is_some()
            && state.focus == crate::tui::state::Pane::Tail =>
        {
            state.keymap.scope_hints(Scope::SearchLine)
        }
        None => state.keymap.hints(state.focus),
    };
    let hint_spans = super::hint_spans(
        &hints,
        area.width,
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        dim,
    );
    frame.render_widget(
        Paragraph::new(Line::from(hint_spans)),
        Rect::new(area.x, area.y + 1, area.width, 1),
    );
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;

    fn rows(state: &State, width: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, 2)).unwrap();
        terminal
            .draw(|f| draw(f, Rect::new(0, 0, width, 2), state))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..2)
            .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn a_notice_is_readable_after_a_full_length_offset_at_80_columns() {
        let mut state =
            State::new("http://127.0.0.1:1/v1/stream", Instant::now());
        state.tail.last_offset =
            Some("0000000000000000_0000000000043478".into());
        state.tail.total_messages = 1234;
        state.notify(Level::Info, "jumped to bookmark \"release\"");
        let [first, second] = &rows(&state, 80)[..] else {
            unreachable!()
        };
        assert!(first.contains("1,234 msgs"), "{first}");
        assert!(
            second.contains("jumped to bookmark \"release\""),
            "{second}"
        );
        state.notice = None;
        assert!(rows(&state, 80)[1].contains("quit"));
    }

    #[test]
    fn hints_drop_whole_words_and_keep_help_at_80_columns() {
        let mut state =
            State::new("http://127.0.0.1:1/v1/stream", Instant::now());
        state.focus = crate::tui::state::Pane::Tail;
        let hints = rows(&state, 80)[1].clone();
        let trimmed = hints.trim_end();
        assert!(trimmed.ends_with("? help"), "{hints}");
        // Every hint shown is whole: each label is one of the keymap's.
        for (key, what) in state.keymap.hints(state.focus) {
            let shown = format!("{key} {what}");
            if trimmed.contains(&format!("{key} ")) && what != "help" {
                assert!(trimmed.contains(&shown), "{shown} cut: {hints}");
            }
        }
        // Narrow: fewer hints, never a cut one.
        let narrow = rows(&state, 30)[1].clone();
        assert!(narrow.trim_end().ends_with("? help"), "{narrow}");
    }
}
