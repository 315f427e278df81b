//! The tail pane: batch headers and messages, formatting only the rows on
//! screen, with a footer that says how the tail stands.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{count, human_bytes, pane_block, safe, title};
use crate::tui::format::{self, ContentKind, JsonStyle, Theme};
use crate::tui::state::tail::{Batch, Item, Tail};
use crate::tui::state::{Connection, Pane, State};
use crate::tui::update::scroll::bottom_anchor;

/// What a tail's items are called.
pub fn unit(kind: ContentKind, n: u64) -> String {
    let word = match (kind, n) {
        (ContentKind::Json, 1) => "msg",
        (ContentKind::Json, _) => "msgs",
        (ContentKind::Text, 1) => "line",
        (ContentKind::Text, _) => "lines",
        (ContentKind::Binary, 1) => "row",
        (ContentKind::Binary, _) => "rows",
    };
    format!("{} {word}", count(n))
}

/// The header row of a batch.
pub fn header_line(batch: &Batch, kind: ContentKind) -> Line<'static> {
    let dim = Style::new().fg(Color::DarkGray);
    let accent = Style::new().fg(Color::Blue);
    let mut spans = vec![
        Span::styled("── ", dim),
        Span::styled(safe(&batch.arrived), accent),
        Span::styled(" · ", dim),
        Span::raw(if kind == ContentKind::Binary {
            human_bytes(batch.data.len() as u64)
        } else {
            format!(
                "{} · {}",
                unit(kind, batch.len() as u64),
                human_bytes(batch.data.len() as u64)
            )
        }),
        Span::styled(" · ", dim),
        Span::styled(
            safe(&batch.start_offset),
            Style::new().fg(Color::Magenta),
        ),
        Span::styled(" → ", dim),
        Span::styled(safe(&batch.next_offset), Style::new().fg(Color::Magenta)),
    ];
    if batch.partial {
        spans.push(Span::styled(" · partial", dim));
    }
    if batch.up_to_date {
        spans
            .push(Span::styled(" · up-to-date", Style::new().fg(Color::Green)));
    }
    if batch.closed {
        spans.push(Span::styled(
            " · closed",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// The rows of one item.
pub fn item_lines(
    tail: &Tail,
    id: u64,
    style: JsonStyle,
    theme: &Theme,
) -> Vec<Line<'static>> {
    match tail.locate(id) {
        None => Vec::new(),
        Some(Item::Header { batch }) => {
            vec![header_line(&tail.batches[batch], tail.kind)]
        }
        Some(Item::Message { batch, message }) => {
            let b = &tail.batches[batch];
            let raw = b.message(message);
            match tail.kind {
                ContentKind::Json => format::json_lines(raw, style, theme),
                ContentKind::Text => format::text_message_lines(raw, theme),
                ContentKind::Binary => {
                    format::hex_lines(raw, b.message_position(message), theme)
                }
            }
        }
    }
}

/// The rows the body shows: `(item id, line)` for each screen row.
fn visible_rows(
    state: &State,
    height: usize,
    theme: &Theme,
) -> Vec<(u64, Line<'static>)> {
    let tail = &state.tail;
    let style = state.json_style;
    let Some(last) = tail.last_item() else {
        return Vec::new();
    };
    let anchor = if tail.follow {
        bottom_anchor(tail, height, style)
    } else {
        tail.anchor
    };
    let mut rows = Vec::with_capacity(height);
    let mut id = anchor.item.max(tail.first_item());
    let mut skip = if id == anchor.item { anchor.line } else { 0 };
    while rows.len() < height && id <= last {
        for line in item_lines(tail, id, style, theme).into_iter().skip(skip) {
            if rows.len() == height {
                break;
            }
            rows.push((id, line));
        }
        skip = 0;
        id += 1;
    }
    rows
}

/// The footer: end of stream, caught up, catching up, or new rows below.
fn footer(state: &State) -> Line<'static> {
    let tail = &state.tail;
    let offset = tail.last_offset.as_deref().map(safe).unwrap_or_default();
    let below = tail.new_below();
    let mut spans = Vec::new();
    if !tail.follow {
        spans.push(Span::styled(
            format!(" ▼ {} new below · f follows ", count(below)),
            Style::new().fg(Color::Black).bg(Color::Yellow),
        ));
        spans.push(Span::raw(" "));
    }
    // "caught up 73,988 msgs in 0.4 s": catch-up is told apart from the
    // live rate.
    let c = &state.meta.catch_up;
    let caught = match c.took {
        Some(took) => format!(
            "caught up {} in {:.1} s at {offset}",
            unit(tail.kind, c.messages),
            took.as_secs_f64()
        ),
        None => format!("caught up at {offset}"),
    };
    let line = match &state.connection {
        Connection::Closed => Span::styled(
            format!(
                "■■ END OF STREAM · closed at {offset} · nothing more will arrive ■■"
            ),
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        ),
        Connection::Live => Span::styled(
            format!("── {caught} · live ({}) ──", state.mode),
            Style::new().fg(Color::Green),
        ),
        Connection::CaughtUp => Span::styled(
            format!("── {caught} · not live (catch-up only; 1 for SSE) ──"),
            Style::new().fg(Color::Yellow),
        ),
        Connection::CatchingUp | Connection::Connecting => Span::styled(
            if c.messages == 0 {
                "… catching up".to_owned()
            } else {
                format!("… catching up: {} so far", unit(tail.kind, c.messages))
            },
            Style::new().fg(Color::DarkGray),
        ),
        Connection::Reconnecting { attempt, error, .. } => Span::styled(
            format!(
                "… reconnecting (attempt {attempt}; R retries now): {}",
                safe(error)
            ),
            Style::new().fg(Color::Yellow),
        ),
        Connection::Failed(e) => Span::styled(
            format!("✗ {} · R retries", safe(e)),
            Style::new().fg(Color::Red),
        ),
        Connection::Idle => Span::raw(""),
    };
    spans.push(line);
    Line::from(spans)
}

/// Draws the tail.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Tail;
    let tail = &state.tail;
    let dim = Style::new().fg(Color::DarkGray);
    let mut extra = Vec::new();
    if let Some(open) = &state.open {
        extra.push(Span::styled(
            format!("{} ", safe(&open.path)),
            Style::new().fg(Color::Green),
        ));
        let mut counts = if tail.kind == ContentKind::Binary {
            human_bytes(tail.total_bytes)
        } else {
            format!(
                "{} · {}",
                unit(tail.kind, tail.total_messages),
                human_bytes(tail.total_bytes)
            )
        };
        if tail.evicted_messages > 0 {
            let _ = write!(
                counts,
                " · {} evicted",
                unit(tail.kind, tail.evicted_messages)
            );
        }
        extra.push(Span::styled(format!("{counts} "), dim));
        if tail.kind == ContentKind::Json {
            let style = match state.json_style {
                JsonStyle::Pretty => "pretty",
                JsonStyle::Compact => "compact",
            };
            extra.push(Span::styled(format!("{style} "), dim));
        }
    }
    let block = pane_block(title("Tail", focused, extra), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let body = Rect::new(inner.x, inner.y, inner.width, inner.height - 1);
    let foot = Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1);
    frame.render_widget(Paragraph::new(footer(state)), foot);
    if state.open.is_none() {
        frame.render_widget(
            Paragraph::new("open a stream: pick one in the list and press Enter, or o to type a path")
                .style(dim)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            body,
        );
        return;
    }
    let rows = visible_rows(state, usize::from(body.height), theme);
    if rows.is_empty() {
        let text = match &state.meta.head_error {
            Some(e) => e.clone(),
            None => "waiting for data…".to_owned(),
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(dim)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            body,
        );
        return;
    }
    let selected = if tail.follow { None } else { tail.selected };
    for (i, (id, line)) in rows.into_iter().enumerate() {
        let y = body.y + u16::try_from(i).unwrap_or(u16::MAX);
        let r = Rect::new(body.x, y, body.width, 1);
        frame.render_widget(line, r);
        if Some(id) == selected {
            frame
                .buffer_mut()
                .set_style(r, Style::new().bg(Color::DarkGray));
        }
    }
}
