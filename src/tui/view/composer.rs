//! The append composer: the editor, how it sends, and the last outcome.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{pane_block, safe, title};
use crate::tui::format::ContentKind;
use crate::tui::state::composer::Outcome;
use crate::tui::state::{Pane, State};

/// Draws the composer.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Pane::Composer;
    let c = &state.composer;
    let dim = Style::new().fg(Color::DarkGray);
    let closed = state.stream_closed();
    let kind = match (&state.open, state.tail.kind) {
        (None, _) => "no stream",
        _ if closed => "stream closed: nothing can be appended",
        (_, ContentKind::Json) => "JSON (checked before sending)",
        (_, ContentKind::Text) if c.newline => "text · adds a newline",
        (_, ContentKind::Text) => "text · as typed, no newline",
        (_, ContentKind::Binary) => "bytes",
    };
    let mut extra = vec![Span::styled(format!("{kind} "), dim)];
    if !closed {
        extra.push(Span::styled("· ", dim));
        extra.push(Span::styled(
            format!("{} ", safe(&c.mode().label())),
            Style::new().fg(Color::Yellow),
        ));
    }
    let text_stream =
        state.open.is_some() && state.tail.kind == ContentKind::Text;
    let hints: Vec<(String, &str)> = match (focused, closed) {
        (_, true) => Vec::new(),
        (true, false) => {
            let mut h = vec![("Ctrl-S".into(), "send")];
            // Next to send: the title says what it switches.
            if text_stream {
                let what = if c.newline { "no newline" } else { "newline" };
                h.push(("Ctrl-L".into(), what));
            }
            h.extend([
                ("Ctrl-X".into(), "send+close"),
                ("Ctrl-D".into(), "close"),
                ("Ctrl-P".into(), "mode"),
                ("Ctrl-O".into(), "settings"),
            ]);
            h
        }
        (false, false) => vec![("a".into(), "write an append")],
    };
    let footer = Line::from(super::hint_spans(
        &hints,
        area.width.saturating_sub(2),
        Style::new().fg(Color::Cyan),
        dim,
    ));
    let block = pane_block(title("Append", focused, extra), focused)
        .title_bottom(footer);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let line = match &c.outcome {
        None => Line::default(),
        Some(Outcome::Sending(t)) => Line::styled(safe(t), dim),
        Some(Outcome::Done(t)) => Line::styled(
            format!("✓ {}", safe(t)),
            Style::new().fg(Color::Green),
        ),
        Some(Outcome::Failed(t)) => {
            Line::styled(format!("✗ {}", safe(t)), Style::new().fg(Color::Red))
        }
    };
    // Unfocused, the composer has one row: the last outcome if there is
    // one, else the text's first line (or the placeholder).
    if closed && c.is_empty() && c.outcome.is_none() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "the stream is closed: appends are refused",
                dim,
            )),
            inner,
        );
        return;
    }
    if inner.height <= 1 {
        if c.outcome.is_some() {
            frame.render_widget(Paragraph::new(line), inner);
        } else {
            frame.render_widget(&c.editor, inner);
        }
        return;
    }
    // A long outcome (an error with the server's message) wraps onto a
    // second row while the editor keeps at least one.
    let outcome = Paragraph::new(line).wrap(Wrap { trim: true });
    let rows = u16::try_from(outcome.line_count(inner.width))
        .unwrap_or(u16::MAX)
        .clamp(1, inner.height.saturating_sub(1).clamp(1, 2));
    let [editor, outcome_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(rows)])
            .areas(inner);
    frame.render_widget(&c.editor, editor);
    frame.render_widget(outcome, outcome_area);
}
