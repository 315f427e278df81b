//! The help overlay: every key of the focused pane (from the keymap) or of
//! the detail view, scrollable when the terminal is too short for it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::tui::keymap::{self, Scope};
use crate::tui::state::{Help, Pane, State};

/// The detail view's keys (it reads them in `update`, not the keymap).
const DETAIL_KEYS: &[(&str, &str)] = &[
    ("↑/k ↓/j", "previous / next line"),
    ("PgUp PgDn/Space", "page up / down"),
    ("Home/g End/G", "first / last line"),
    (
        "Enter/Tab",
        "fold / unfold the value under the cursor (JSON)",
    ),
    ("←/h", "collapse, or go to the parent"),
    ("→/l", "expand"),
    ("-  +", "fold / unfold everything"),
    ("y", "copy the value under the cursor"),
    ("Y", "copy its path (shown at the bottom left)"),
    ("Esc", "back to the tail"),
    ("q", "quit"),
];

fn key_style() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

fn head_style() -> Style {
    Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}

/// The help lines for `focus`.
pub fn lines(focus: Pane) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(
        format!("{} pane", focus.title()),
        head_style(),
    )];
    let mut global = Vec::new();
    for b in keymap::bindings_for(focus) {
        if b.scope == Scope::Global {
            // Global keys share one wrapped line, so the pane's own keys
            // fit on an 80x24 screen.
            if !global.is_empty() {
                global.push(Span::raw(" · "));
            }
            global.push(Span::styled(keymap::keys_label(b), key_style()));
            global.push(Span::raw(format!(" {}", b.help)));
            continue;
        }
        out.push(Line::from(vec![
            Span::styled(
                format!("{:>14}  ", keymap::keys_label(b)),
                key_style(),
            ),
            Span::raw(b.help),
        ]));
    }
    if !global.is_empty() {
        out.push(Line::styled("everywhere", head_style()));
        out.push(Line::from(global));
    }
    if focus == Pane::Composer {
        out.push(Line::default());
        out.push(Line::raw("  Other keys edit the text; ↑/↓ in an empty composer recall earlier appends."));
    }
    out.push(Line::default());
    out.push(Line::styled("  Esc closes dialogs and this help; ? in the detail view (Enter on a message) lists its keys.", Style::new().fg(Color::DarkGray)));
    out
}

/// The help lines for the detail view.
pub fn detail_lines() -> Vec<Line<'static>> {
    let mut out = vec![Line::styled("Detail view", head_style())];
    for (keys, what) in DETAIL_KEYS {
        out.push(Line::from(vec![
            Span::styled(format!("{keys:>16}  "), key_style()),
            Span::raw(*what),
        ]));
    }
    out
}

/// The paragraph of the help for the focused pane, or the detail view.
fn paragraph(focus: Pane, detail: bool, hint: &str) -> Paragraph<'static> {
    let lines = if detail { detail_lines() } else { lines(focus) };
    Paragraph::new(lines).wrap(Wrap { trim: false }).block(
        Block::new()
            .borders(Borders::ALL)
            .border_style(Style::new().fg(Color::Cyan))
            .title(format!(" Help · ? or Esc closes{hint} ")),
    )
}

/// Width and height of the help box on a terminal of `size`, and the rows
/// its text takes wrapped (borders included).
fn geometry(size: (u16, u16), focus: Pane, detail: bool) -> (u16, u16, usize) {
    let width = size.0.min(100);
    // Two rows for the status bar, when there are rows to spare.
    let room = if size.1 > 6 { size.1 - 2 } else { size.1 };
    // Counted without the block, which would wrap at the outer width.
    let lines = if detail { detail_lines() } else { lines(focus) };
    let rows = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .line_count(width.saturating_sub(2))
        + 2;
    let height = u16::try_from(rows).unwrap_or(u16::MAX).min(room);
    (width, height, rows)
}

/// How far the help can scroll on a terminal of `size`.
pub fn max_scroll(size: (u16, u16), focus: Pane, detail: bool) -> usize {
    let (_, height, rows) = geometry(size, focus, detail);
    rows.saturating_sub(usize::from(height))
}

/// Draws the help overlay.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, help: &Help) {
    let detail = help.detail.is_some();
    let size = (area.width, area.height);
    let (width, height, _) = geometry(size, state.focus, detail);
    let max = max_scroll(size, state.focus, detail);
    let scroll = help.scroll.min(max);
    let hint = match (scroll > 0, scroll < max) {
        (false, false) => "",
        (false, true) => " · ↓ more",
        (true, true) => " · ↑/↓ more",
        (true, false) => " · ↑ more",
    };
    let paragraph = paragraph(state.focus, detail, hint)
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0));
    let r = centered(
        Rect::new(area.x, area.y, area.width, height.max(1)),
        width,
        height,
    );
    frame.render_widget(Clear, r);
    frame.render_widget(paragraph, r);
}
