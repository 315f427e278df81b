//! Drawing: reads `&State` only. Every string that came from a server goes
//! through `sanitize` before it reaches a widget.

pub mod composer;
pub mod detail;
pub mod dialog;
pub mod help;
pub mod layout;
pub mod meta;
pub mod status_bar;
pub mod streams;
pub mod tail;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use super::format::Theme;
use super::sanitize;
use super::state::{Colours, Overlay, Pane, State};

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, state: &State) {
    let no_color = state.colours == Colours::Off;
    let theme = Theme::new(no_color);
    let area = frame.area();
    let areas = layout::areas(area, state.zoomed, state.focus);
    if let Some(r) = areas.of(Pane::Streams) {
        streams::draw(frame, r, state);
    }
    if let Some(r) = areas.of(Pane::Tail) {
        tail::draw(frame, r, state, &theme);
    }
    if let Some(r) = areas.of(Pane::Meta) {
        meta::draw(frame, r, state);
    }
    if let Some(r) = areas.of(Pane::Composer) {
        composer::draw(frame, r, state);
    }
    status_bar::draw(frame, areas.status, state);
    match &state.overlay {
        Some(Overlay::Help) => help::draw(frame, area, state),
        Some(Overlay::Detail(d)) => {
            let r = Rect::new(
                area.x,
                area.y,
                area.width,
                area.height.saturating_sub(2),
            );
            detail::draw(frame, r, d, &theme);
        }
        Some(Overlay::Dialog(d)) => dialog::draw(frame, area, state, d),
        None => {}
    }
    if no_color {
        strip_colours(frame.buffer_mut());
    }
}

/// `NO_COLOR`: every colour goes, whoever drew it; what a background
/// colour marked (the selection, banners) shows reversed instead.
pub fn strip_colours(buffer: &mut ratatui::buffer::Buffer) {
    for cell in &mut buffer.content {
        if cell.bg != Color::Reset {
            cell.modifier.insert(Modifier::REVERSED);
        }
        cell.fg = Color::Reset;
        cell.bg = Color::Reset;
    }
}

/// Untrusted text made safe to show.
pub fn safe(s: &str) -> String {
    sanitize::escape_str(s).into_owned()
}

/// A pane's frame; the focused one is bold, cyan and thick-lined.
pub fn pane_block(title: Line<'_>, focused: bool) -> Block<'_> {
    let (style, kind) = if focused {
        (
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            BorderType::Thick,
        )
    } else {
        (Style::new().fg(Color::DarkGray), BorderType::Plain)
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(kind)
        .border_style(style)
        .title(title)
}

/// A pane title: the name, then details.
pub fn title<'a>(name: &str, focused: bool, extra: Vec<Span<'a>>) -> Line<'a> {
    let style = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    let mut spans = vec![Span::styled(format!(" {name} "), style)];
    spans.extend(extra);
    Line::from(spans)
}

/// A centred rectangle of at most `width` x `height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Bytes in a short human form.
pub fn human_bytes(n: u64) -> String {
    #[allow(clippy::cast_precision_loss, reason = "display only")]
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", f / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.1} MiB", f / 1024.0 / 1024.0)
    } else {
        format!("{:.1} GiB", f / 1024.0 / 1024.0 / 1024.0)
    }
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
