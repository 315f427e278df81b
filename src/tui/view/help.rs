//! The help overlay: every key of the focused pane or of the detail view,
//! from the keymap (`tui::help` says what and how much room), scrollable
//! when the terminal is too short for it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::tui::help::{geometry, max_scroll, text};
use crate::tui::state::{Help, State};

#[cfg(test)]
pub(crate) use crate::tui::help::lines;

/// Draws the help overlay.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, help: &Help) {
    let detail = help.detail.is_some();
    let size = (area.width, area.height);
    let keymap = &state.keymap;
    let (width, height, _) = geometry(keymap, size, state.focus, detail);
    let max = max_scroll(keymap, size, state.focus, detail);
    let scroll = help.scroll.min(max);
    let hint = match (scroll > 0, scroll < max) {
        (false, false) => "",
        (false, true) => " · ↓ more",
        (true, true) => " · ↑/↓ more",
        (true, false) => " · ↑ more",
    };
    let paragraph = Paragraph::new(text(keymap, state.focus, detail))
        .wrap(Wrap { trim: false })
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(Style::new().fg(Color::Cyan))
                .title(format!(" Help · ? or Esc closes{hint} ")),
        )
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0));
    let r = centered(
        Rect::new(area.x, area.y, area.width, height.max(1)),
        width,
        height,
    );
    frame.render_widget(Clear, r);
    frame.render_widget(paragraph, r);
}
