//! The stream list pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::layout::list_window;
use super::{pane_block, safe, title};
use crate::tui::format::ContentKind;
use crate::tui::state::streams::{Entry, Registry};
use crate::tui::state::{Pane, State};

/// A short name for a content type.
pub fn short_type(ct: Option<&str>) -> &'static str {
    let Some(ct) = ct else {
        return "?";
    };
    match ContentKind::of(Some(ct)) {
        ContentKind::Json => "json",
        ContentKind::Text => "text",
        ContentKind::Binary
            if crate::client::content_type::essence(ct)
                .to_ascii_lowercase()
                .starts_with("image/") =>
        {
            "image"
        }
        ContentKind::Binary => "bin",
    }
}

fn row(
    e: &Entry,
    open: bool,
    marked: bool,
    selected: bool,
    width: usize,
) -> Line<'static> {
    // `▶` the stream (or a stream) the tail shows, `*` marked for a merge.
    let lead = match (open, marked) {
        (true, true) => "▶*",
        (true, false) => "▶ ",
        (false, true) => " *",
        (false, false) => "  ",
    };
    let kind = short_type(e.content_type.as_deref());
    let flag = match (e.missing, e.closed) {
        (Some(404 | 410), _) => "gone",
        (_, Some(true)) => "closed",
        _ => "",
    };
    let tail = format!(
        " {kind:>5}{}",
        if flag.is_empty() {
            String::new()
        } else {
            format!(" {flag}")
        }
    );
    let name_width =
        width.saturating_sub(lead.chars().count() + tail.chars().count());
    let mut name = safe(&e.path);
    if name.chars().count() > name_width {
        let keep = name_width.saturating_sub(1);
        // Keep the end: the last path segment tells streams apart.
        let skip = name.chars().count() - keep;
        name = format!("…{}", name.chars().skip(skip).collect::<String>());
    }
    let pad = name_width.saturating_sub(name.chars().count());
    let base = if selected {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    };
    let flag_style = match flag {
        "closed" => base.fg(Color::Yellow),
        "gone" => base.fg(Color::Red),
        _ => base.fg(Color::DarkGray),
    };
    Line::from(vec![
        Span::styled(lead, base.fg(Color::Green)),
        Span::styled(format!("{name}{}", " ".repeat(pad)), base),
        Span::styled(tail, flag_style),
    ])
}

/// Draws the stream list.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Pane::Streams;
    let s = &state.streams;
    let visible = s.visible();
    let registry = match &s.registry {
        Registry::Loading => "loading…".to_owned(),
        Registry::Live => String::new(),
        Registry::Absent => "no registry".to_owned(),
        Registry::Failed(_) => "list failed".to_owned(),
    };
    let mut extra = vec![Span::styled(
        format!("{}/{} ", visible.len(), s.entries.len()),
        Style::new().fg(Color::DarkGray),
    )];
    if !registry.is_empty() {
        extra.push(Span::styled(
            format!("{registry} "),
            Style::new().fg(Color::DarkGray),
        ));
    }
    let mut block = pane_block(title("Streams", focused, extra), focused);
    if s.filtering || !s.filter.is_empty() {
        let cursor = if s.filtering { "▏" } else { "" };
        block = block.title_bottom(Line::from(vec![
            Span::styled(" /", Style::new().fg(Color::Yellow)),
            Span::raw(format!("{}{cursor} ", safe(&s.filter))),
        ]));
    }
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    if let Registry::Failed(e) = &s.registry {
        // Said in the pane, not only in the title: an unreachable server
        // must not look like an empty one.
        let text = vec![
            Line::styled(
                format!("cannot list the streams of {}", safe(&state.base_url)),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Line::styled(safe(e), Style::new().fg(Color::Red)),
            Line::styled(
                "retrying in the background; o opens a path",
                Style::new().fg(Color::DarkGray),
            ),
        ];
        let para =
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true });
        let need = u16::try_from(para.line_count(inner.width))
            .unwrap_or(u16::MAX)
            .min(inner.height);
        frame.render_widget(
            para,
            Rect {
                height: need,
                ..inner
            },
        );
        inner.y += need;
        inner.height -= need;
    }
    let rows = usize::from(inner.height);
    if visible.is_empty() {
        if s.entries.is_empty() && matches!(s.registry, Registry::Failed(_)) {
            return;
        }
        let hint = if s.entries.is_empty() {
            "no streams yet: n creates one, o opens by path"
        } else {
            "nothing matches the filter (Esc clears it)"
        };
        frame.render_widget(
            Paragraph::new(hint)
                .style(Style::new().fg(Color::DarkGray))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let start = list_window(s.selected, visible.len(), rows);
    let open = state.open.as_ref().map(|o| o.path.as_str());
    let lines: Vec<Line> = visible
        .iter()
        .enumerate()
        .skip(start)
        .take(rows)
        .map(|(i, &idx)| {
            let e = &s.entries[idx];
            let merged =
                state.merge.as_ref().is_some_and(|m| m.has_path(&e.path));
            row(
                e,
                merged || open == Some(e.path.as_str()),
                s.marked.contains(&e.path),
                i == s.selected,
                usize::from(inner.width),
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
