//! The help overlay: every key of the focused pane, from the keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::centered;
use crate::tui::keymap::{self, Scope};
use crate::tui::state::{Pane, State};

/// The help lines for `focus`.
pub fn lines(focus: Pane) -> Vec<Line<'static>> {
    let key_style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let head = Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let mut out = vec![Line::styled(format!("{} pane", focus.title()), head)];
    let mut global = Vec::new();
    for b in keymap::bindings_for(focus) {
        if b.scope == Scope::Global {
            // Global keys share one wrapped line, so the pane's own keys
            // fit on an 80x24 screen.
            global.push(Span::styled(keymap::keys_label(b), key_style));
            global.push(Span::raw(format!(" {} · ", b.help)));
            continue;
        }
        out.push(Line::from(vec![
            Span::styled(format!("{:>14}  ", keymap::keys_label(b)), key_style),
            Span::raw(b.help),
        ]));
    }
    if !global.is_empty() {
        out.push(Line::styled("everywhere", head));
        out.push(Line::from(global));
    }
    if focus == Pane::Composer {
        out.push(Line::default());
        out.push(Line::raw("  Other keys edit the text; ↑/↓ in an empty composer recall earlier appends."));
    }
    out.push(Line::default());
    out.push(Line::styled("  Esc closes dialogs and this help; the detail view (Enter on a message) folds with Enter/←/→.", Style::new().fg(Color::DarkGray)));
    out
}

/// Draws the help overlay.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let lines = lines(state.focus);
    let width = area.width.min(100);
    let paragraph = Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(Style::new().fg(Color::Cyan))
                .title(" Help · ? or Esc closes "),
        );
    // As tall as the wrapped text needs, borders included.
    let rows = paragraph.line_count(width);
    let r = centered(area, width, u16::try_from(rows).unwrap_or(u16::MAX));
    frame.render_widget(Clear, r);
    frame.render_widget(paragraph, r);
}
