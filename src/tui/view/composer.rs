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
    let kind = match (&state.open, state.tail.kind) {
        (None, _) => "no stream",
        (_, ContentKind::Json) => "JSON (checked before sending)",
        (_, ContentKind::Text) => "text",
        (_, ContentKind::Binary) => "bytes",
    };
    let extra = vec![
        Span::styled(format!("{kind} · "), dim),
        Span::styled(
            format!("{} ", safe(&c.mode().label())),
            Style::new().fg(Color::Yellow),
        ),
    ];
    let block = pane_block(title("Append", focused, extra), focused).title_bottom(Line::from(
        Span::styled(" Ctrl-S send · Ctrl-X send+close · Ctrl-D close · Ctrl-P mode · Ctrl-O settings ", dim),
    ));
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
