//! Drawing: reads `&State` only. Every string that came from a server goes
//! through `sanitize` before it reaches a widget.

pub mod composer;
pub mod detail;
pub mod dialog;
pub mod help;
pub mod inspector;
use super::layout;
pub mod meta;
pub mod search;
pub mod status_bar;
pub mod streams;
pub mod tail;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use super::format::Theme;
use super::state::{Colours, Overlay, Pane, State};
use crate::sanitize;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, state: &State) {
    let no_color = state.colours == Colours::Off;
    let theme = Theme::new(no_color);
    let area = frame.area();
    let areas = layout::areas_with(area, layout::Options::of(state));
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
        Some(Overlay::Help(h)) => {
            if let Some(d) = &h.detail {
                detail::draw(frame, detail_area(area), d, &theme);
            }
            help::draw(frame, area, state, h);
        }
        Some(Overlay::Detail(d)) => {
            detail::draw(frame, detail_area(area), d, &theme);
        }
        Some(Overlay::Dialog(d)) => dialog::draw(frame, area, state, d),
        Some(Overlay::Inspector) => {
            inspector::draw(
                frame,
                detail_area(area),
                &state.inspector,
                &state.base_url,
            );
        }
        None => {}
    }
    if no_color {
        strip_colours(frame.buffer_mut());
    } else {
        state.palette.apply(frame.buffer_mut());
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

/// The detail view's rectangle: all but the status bar.
fn detail_area(area: Rect) -> Rect {
    Rect::new(area.x, area.y, area.width, area.height.saturating_sub(2))
}

/// Key hints (`key what` pairs) that fit in `width` columns: whole hints
/// are dropped from the end rather than a word cut; the help hint (`?`)
/// is kept last when there is room for it, since it lists the rest.
pub fn hint_spans(
    hints: &[(String, &str)],
    width: u16,
    key_style: Style,
    text_style: Style,
) -> Vec<Span<'static>> {
    let cost = |(k, w): &(String, &str)| {
        Span::raw(k.as_str()).width() + Span::raw(*w).width() + 3
    };
    let budget = usize::from(width).saturating_sub(1);
    let help = hints.iter().find(|(k, _)| k == "?");
    let mut left = budget.saturating_sub(help.map_or(0, cost));
    let mut kept: Vec<&(String, &str)> = Vec::new();
    for h in hints.iter().filter(|(k, _)| k != "?") {
        let c = cost(h);
        if c > left {
            break;
        }
        left -= c;
        kept.push(h);
    }
    if let Some(h) = help
        && cost(h) <= budget
    {
        kept.push(h);
    }
    if kept.is_empty() {
        return Vec::new();
    }
    let mut spans = vec![Span::raw(" ")];
    for (key, what) in kept {
        spans.push(Span::styled(key.clone(), key_style));
        spans.push(Span::styled(format!(" {what}  "), text_style));
    }
    spans
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

pub use super::format::count;

#[cfg(test)]
mod tests;
