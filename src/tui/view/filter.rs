//! The tail's filter on screen: the title's part ("412 of 98,311 shown"),
//! the rows of the shown messages, the footer's errors and progress, and
//! the filter line being typed.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::{count, safe};
use crate::tui::format::{ContentKind, Theme, wrap};
use crate::tui::layout::tail_shape;
use crate::tui::state::State;
use crate::tui::state::filter::{self as f, Active, LineKind};

/// What the filter line is called for a stream of `kind`.
fn label(kind: ContentKind, line: LineKind) -> &'static str {
    match (kind, line) {
        (ContentKind::Json, _) => "jq",
        (_, LineKind::Substring) => "lines with",
        (_, LineKind::Regex) => "lines matching regex",
    }
}

/// The title's part: the filter and how much of the tail it shows.
pub fn title_spans(state: &State, active: &Active) -> Vec<Span<'static>> {
    let accent = Style::new().fg(Color::Yellow);
    let buffered = state.tail.buffered_messages as u64;
    vec![
        Span::styled(
            format!(
                "| {} of {} shown ",
                count(active.shown.len() as u64),
                count(buffered)
            ),
            accent.add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                "{}: {} ",
                label(state.tail.kind, active.line),
                safe(&active.source)
            ),
            accent,
        ),
    ]
}

/// The body's rows: `(item id, line)` for each screen row, the newest
/// shown message at the bottom while following.
pub fn rows(
    state: &State,
    active: &Active,
    height: usize,
    theme: &Theme,
) -> Vec<(u64, Line<'static>)> {
    let tail = &state.tail;
    let shape = tail_shape(state);
    let hscroll = if shape.wrap.is_some() {
        0
    } else {
        state.tail_view.hscroll
    };
    let crop = |l: Line<'static>| wrap::crop(l, hscroll);
    let mut out = Vec::with_capacity(height);
    if active.selected.is_none() {
        for s in active.shown.iter().rev() {
            let lines = f::shown_rows(tail, s, shape, theme);
            for line in lines.into_iter().rev() {
                out.push((s.item, crop(line)));
                if out.len() == height {
                    break;
                }
            }
            if out.len() == height {
                break;
            }
        }
        out.reverse();
        return out;
    }
    let start = active.shown.partition_point(|s| s.item < active.top);
    for s in active.shown.range(start..) {
        for line in f::shown_rows(tail, s, shape, theme) {
            if out.len() == height {
                return out;
            }
            out.push((s.item, crop(line)));
        }
    }
    out
}

/// The footer while a filter is applied, when it has something of its
/// own to say: new shown messages below, progress, errors.
pub fn footer(state: &State, active: &Active) -> Option<Line<'static>> {
    let mut spans = Vec::new();
    let below = active.new_below();
    if active.selected.is_some() {
        spans.push(Span::styled(
            format!(" ▼ {} new below · f follows ", count(below)),
            Style::new().fg(Color::Black).bg(Color::Yellow),
        ));
        spans.push(Span::raw(" "));
    }
    let left = active.left(&state.tail);
    if left > 0 {
        spans.push(Span::styled(
            format!("filtering… {} left ", count(left)),
            Style::new().fg(Color::DarkGray),
        ));
    }
    if active.errors > 0 {
        let first = active.first_error.as_deref().map(safe).unwrap_or_default();
        spans.push(Span::styled(
            format!(
                "✗ filter failed on {} (first: {first})",
                count(active.errors)
            ),
            Style::new().fg(Color::Red),
        ));
    } else if active.shown.is_empty() && left == 0 {
        spans.push(Span::styled(
            "no message matches yet (Esc clears the filter)",
            Style::new().fg(Color::DarkGray),
        ));
    }
    (!spans.is_empty()).then(|| Line::from(spans))
}

/// The filter line being typed, and the line above it: the compile error
/// (the previous filter stays applied) with a mark under its column.
pub fn line_rows(state: &State) -> Vec<Line<'static>> {
    let Some(line) = &state.filter.line else {
        return Vec::new();
    };
    let prompt = format!("| {}: ", label(state.tail.kind, line.kind));
    let chars: Vec<char> = line.input.value.chars().collect();
    let cursor = line.input.cursor.min(chars.len());
    // The character where a compile error is, marked in red.
    let bad = line.error.as_ref().and_then(|e| e.column).map(|c| c - 1);
    let accent = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let mut spans = vec![Span::styled(prompt, accent)];
    for i in 0..=chars.len() {
        if i == cursor {
            spans.push(Span::styled("▏", Style::new().fg(Color::Cyan)));
        }
        let Some(c) = chars.get(i) else { break };
        let text = safe(&c.to_string());
        if Some(i) == bad {
            spans.push(Span::styled(
                text,
                Style::new().fg(Color::White).bg(Color::Red),
            ));
        } else {
            spans.push(Span::raw(text));
        }
    }
    if bad.is_some_and(|b| b >= chars.len()) {
        spans.push(Span::styled(" ", Style::new().bg(Color::Red)));
    }
    let input = Line::from(spans);
    let hint = if state.tail.kind == ContentKind::Json {
        "Enter applies · Esc clears · ↑/↓ history"
    } else {
        "Enter applies · Esc clears · ↑/↓ history · Ctrl-R regex / substring"
    };
    let above = match &line.error {
        Some(e) => Line::styled(
            format!("✗ {} (the filter applied stays)", safe(&e.text)),
            Style::new().fg(Color::Red),
        ),
        None => Line::styled(hint, Style::new().fg(Color::DarkGray)),
    };
    vec![above, input]
}
