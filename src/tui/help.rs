//! What the help overlay says (from the keymap) and how much room it takes:
//! pure, so that `update` scrolls it by the same geometry `view` draws.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::keymap::{Keymap, Scope, keys_label};
use crate::tui::pane::Pane;

fn key_style() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

fn head_style() -> Style {
    Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}

/// The help lines for `focus`, from `keymap`.
pub fn lines(keymap: &Keymap, focus: Pane) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(
        format!("{} pane", focus.title()),
        head_style(),
    )];
    let mut global = Vec::new();
    for b in keymap.bindings_for(focus) {
        if b.scope == Scope::Global {
            // Global keys share one wrapped line, so the pane's own keys
            // fit on an 80x24 screen.
            if !global.is_empty() {
                global.push(Span::raw(" · "));
            }
            global.push(Span::styled(keys_label(b), key_style()));
            global.push(Span::raw(format!(" {}", b.help)));
            continue;
        }
        out.push(Line::from(vec![
            Span::styled(format!("{:>14}  ", keys_label(b)), key_style()),
            Span::raw(b.help),
        ]));
    }
    if focus == Pane::Streams {
        out.push(Line::styled("while typing a filter", head_style()));
        for b in keymap.in_scope(Scope::FilterLine) {
            out.push(Line::from(vec![
                Span::styled(format!("{:>14}  ", keys_label(b)), key_style()),
                Span::raw(b.help),
            ]));
        }
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

/// The help lines for the detail view, from `keymap`.
pub fn detail_lines(keymap: &Keymap) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled("Detail view", head_style())];
    for b in keymap.in_scope(Scope::Detail) {
        out.push(Line::from(vec![
            Span::styled(format!("{:>16}  ", keys_label(b)), key_style()),
            Span::raw(b.help),
        ]));
    }
    out
}

/// The lines of the help for the focused pane, or the detail view.
pub fn text(keymap: &Keymap, focus: Pane, detail: bool) -> Vec<Line<'static>> {
    if detail {
        detail_lines(keymap)
    } else {
        lines(keymap, focus)
    }
}

/// Width and height of the help box on a terminal of `size`, and the rows
/// its text takes wrapped (borders included).
pub fn geometry(
    keymap: &Keymap,
    size: (u16, u16),
    focus: Pane,
    detail: bool,
) -> (u16, u16, usize) {
    let width = size.0.min(100);
    // Two rows for the status bar, when there are rows to spare.
    let room = if size.1 > 6 { size.1 - 2 } else { size.1 };
    // Counted without the block, which would wrap at the outer width.
    let rows = Paragraph::new(text(keymap, focus, detail))
        .wrap(Wrap { trim: false })
        .line_count(width.saturating_sub(2))
        + 2;
    let height = u16::try_from(rows).unwrap_or(u16::MAX).min(room);
    (width, height, rows)
}

/// How far the help can scroll on a terminal of `size`.
pub fn max_scroll(
    keymap: &Keymap,
    size: (u16, u16),
    focus: Pane,
    detail: bool,
) -> usize {
    let (_, height, rows) = geometry(keymap, size, focus, detail);
    rows.saturating_sub(usize::from(height))
}
