//! The tail pane: batch headers and messages, formatting only the rows on
//! screen, with a footer that says how the tail stands.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{count, human_bytes, pane_block, safe, title};
use crate::tui::format::{ContentKind, JsonStyle, Theme, wrap};
use crate::tui::layout::tail_shape;
use crate::tui::state::tail::scroll::{Shape, bottom_anchor, message_rows};
use crate::tui::state::tail::{Batch, Item, Tail};
use crate::tui::state::{Connection, Pane, State};

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

/// The end of an offset in at most `keep` columns: `…` and its last
/// characters. Only what is displayed is shortened; copies take it whole.
pub fn offset_end(offset: &str, keep: usize) -> String {
    let n = offset.chars().count();
    if n <= keep {
        return offset.to_owned();
    }
    let keep = keep.max(2);
    let tail: String = offset.chars().skip(n + 1 - keep).collect();
    format!("…{tail}")
}

/// Columns both offsets of a header get at least, shortened.
const MIN_OFFSETS: usize = 18;

/// Columns the offsets of a header get: whole when they fit, else the
/// distinguishing end of each (the shorter one whole if it fits in half).
fn offset_budget(start: usize, next: usize, budget: usize) -> (usize, usize) {
    if start + next <= budget {
        return (start, next);
    }
    let half = budget / 2;
    if start <= half {
        (start, budget - start)
    } else if next <= half {
        (budget - next, next)
    } else {
        (half, budget - half)
    }
}

/// The header row of a batch, fitted to `width` columns by shortening
/// its offsets to their ends (`…0000000300`).
pub fn header_line(
    batch: &Batch,
    kind: ContentKind,
    width: usize,
) -> Line<'static> {
    let dim = Style::new().fg(Color::DarkGray);
    let accent = Style::new().fg(Color::Blue);
    let offset_style = Style::new().fg(Color::Magenta);
    let mut before = vec![
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
    ];
    let mut after = Vec::new();
    if batch.partial {
        after.push(Span::styled(" · partial", dim));
    }
    if batch.up_to_date {
        after
            .push(Span::styled(" · up-to-date", Style::new().fg(Color::Green)));
    }
    if batch.closed {
        after.push(Span::styled(
            " · closed",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let (start, next) = (safe(&batch.start_offset), safe(&batch.next_offset));
    let (a_len, b_len) = (start.chars().count(), next.chars().count());
    let lead: usize = before.iter().map(Span::width).sum::<usize>() + 3;
    let flags: usize = after.iter().map(Span::width).sum();
    let mut budget = width.saturating_sub(lead + flags);
    // The offsets' ends come before the flags: when both cannot fit, the
    // flags go.
    if budget < (a_len + b_len).min(MIN_OFFSETS) {
        after.clear();
        budget = width.saturating_sub(lead);
    }
    // Then the batch's bytes (the pane title counts them too); its
    // message count stays.
    if budget < (a_len + b_len).min(MIN_OFFSETS) {
        let was = before[3].width();
        if kind == ContentKind::Binary {
            before.remove(3);
            before.remove(3);
            budget += was + 3;
        } else {
            before[3] = Span::raw(unit(kind, batch.len() as u64));
            budget += was - before[3].width();
        }
    }
    let (a, b) = offset_budget(a_len, b_len, budget);
    before.push(Span::styled(offset_end(&start, a), offset_style));
    before.push(Span::styled(" → ", dim));
    before.push(Span::styled(offset_end(&next, b), offset_style));
    before.extend(after);
    Line::from(before)
}

/// The rows of one item (none for a hidden header).
pub fn item_lines(
    tail: &Tail,
    id: u64,
    shape: Shape,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    match tail.locate(id) {
        None => Vec::new(),
        Some(Item::Header { .. }) if !shape.headers => Vec::new(),
        Some(Item::Header { batch }) => {
            vec![header_line(&tail.batches[batch], tail.kind, width)]
        }
        Some(Item::Message { batch, message }) => {
            message_rows(tail, batch, message, shape, theme)
        }
    }
}

/// The rows the body shows: `(item id, line)` for each screen row.
fn visible_rows(
    state: &State,
    height: usize,
    width: usize,
    theme: &Theme,
) -> Vec<(u64, Line<'static>)> {
    let tail = &state.tail;
    let shape = tail_shape(state);
    let Some(last) = tail.last_item() else {
        return Vec::new();
    };
    let anchor = if tail.follow {
        bottom_anchor(tail, height, shape)
    } else {
        tail.anchor
    };
    let hscroll = if shape.wrap.is_some() {
        0
    } else {
        state.tail_view.hscroll
    };
    let mut rows = Vec::with_capacity(height);
    let mut id = anchor.item.max(tail.first_item());
    let mut skip = if id == anchor.item { anchor.line } else { 0 };
    while rows.len() < height && id <= last {
        let header = matches!(tail.locate(id), Some(Item::Header { .. }));
        let lines = item_lines(tail, id, shape, width, theme);
        for line in lines.into_iter().skip(skip) {
            if rows.len() == height {
                break;
            }
            // Headers fit their width; messages scroll.
            let line = if header {
                line
            } else {
                wrap::crop(line, hscroll)
            };
            rows.push((id, line));
        }
        skip = 0;
        id += 1;
    }
    rows
}

/// The footer: end of stream, caught up, catching up, or new rows below,
/// fitted to `width`: the wordiest form that fits, so that the marker of
/// new rows never cuts the line beside it.
fn footer(state: &State, width: usize) -> Line<'static> {
    let tail = &state.tail;
    let offset = tail.last_offset.as_deref().map(safe).unwrap_or_default();
    let below = tail.new_below();
    let marker_style = Style::new().fg(Color::Black).bg(Color::Yellow);
    let markers: Vec<String> = if tail.follow {
        vec![String::new()]
    } else {
        vec![
            format!(" ▼ {} new below · f follows ", count(below)),
            format!(" ▼ {} new · f ", count(below)),
        ]
    };
    // "caught up 73,988 msgs in 0.4 s": catch-up is told apart from the
    // live rate.
    let c = &state.meta.catch_up;
    let caught: Vec<String> = match c.took {
        Some(took) => {
            let n = unit(tail.kind, c.messages);
            let secs = took.as_secs_f64();
            vec![
                format!("caught up {n} in {secs:.1} s at {offset}"),
                format!("caught up {n} in {secs:.1} s"),
                "caught up".to_owned(),
            ]
        }
        None => vec![format!("caught up at {offset}"), "caught up".to_owned()],
    };
    let (lines, style): (Vec<String>, Style) = match &state.reader().connection
    {
        Connection::Closed => (
            vec![
                format!(
                    "■■ END OF STREAM · closed at {offset} · nothing more will arrive ■■"
                ),
                "■■ END OF STREAM · nothing more will arrive ■■".to_owned(),
                "■■ END OF STREAM ■■".to_owned(),
            ],
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        ),
        Connection::Live => {
            let mode = state.reader().mode;
            let mut v: Vec<String> = caught
                .iter()
                .flat_map(|c| {
                    [
                        format!("── {c} · live ({mode}) ──"),
                        format!("{c} · live ({mode})"),
                    ]
                })
                .collect();
            v.push(format!("live ({mode})"));
            (v, Style::new().fg(Color::Green))
        }
        Connection::CaughtUp => {
            let mut v: Vec<String> = caught
                .iter()
                .flat_map(|c| {
                    [
                        format!(
                            "── {c} · not live (catch-up only; 1 for SSE) ──"
                        ),
                        format!("{c} · not live (1 for SSE)"),
                    ]
                })
                .collect();
            v.push(format!("{} · not live", caught[caught.len() - 1]));
            (v, Style::new().fg(Color::Yellow))
        }
        Connection::CatchingUp | Connection::Connecting => (
            vec![if c.messages == 0 {
                "… catching up".to_owned()
            } else {
                format!("… catching up: {} so far", unit(tail.kind, c.messages))
            }],
            Style::new().fg(Color::DarkGray),
        ),
        Connection::Reconnecting { attempt, error, .. } => (
            vec![format!(
                "… reconnecting (attempt {attempt}; R retries now): {}",
                safe(error)
            )],
            Style::new().fg(Color::Yellow),
        ),
        Connection::Failed(e) => (
            vec![format!("✗ {} · R retries", safe(e))],
            Style::new().fg(Color::Red),
        ),
        Connection::Idle => (vec![String::new()], Style::new()),
    };
    let gap = if tail.follow { "" } else { " " };
    let fits =
        |m: &str, l: &str| Line::raw(format!("{m}{gap}{l}")).width() <= width;
    // The line whole first, with the longest marker that leaves it so.
    let mut pick = None;
    'search: for l in &lines {
        for m in &markers {
            if fits(m, l) {
                pick = Some((m.clone(), l.clone()));
                break 'search;
            }
        }
    }
    let (marker, line) = pick.unwrap_or_else(|| {
        (
            markers.last().cloned().unwrap_or_default(),
            lines.last().cloned().unwrap_or_default(),
        )
    });
    let mut spans = Vec::new();
    if !marker.is_empty() {
        spans.push(Span::styled(marker, marker_style));
        spans.push(Span::raw(gap));
    }
    spans.push(Span::styled(line, style));
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
            let style = match (state.json_style, state.tail_view.auto_compact) {
                (JsonStyle::Pretty, _) => "pretty".to_owned(),
                (JsonStyle::Compact, Some(rate)) => {
                    format!("compact: {}/s (p: pretty)", count(rate))
                }
                (JsonStyle::Compact, None) => "compact".to_owned(),
            };
            extra.push(Span::styled(format!("{style} "), dim));
        }
        // What differs from the defaults, so a cut line is not a mystery.
        let view = &state.tail_view;
        if !view.headers {
            extra.push(Span::styled("no headers ", dim));
        }
        if !view.wraps(tail.kind) && tail.kind != ContentKind::Binary {
            let from = if view.hscroll > 0 {
                format!("no wrap, from column {} ", view.hscroll + 1)
            } else {
                "no wrap ".to_owned()
            };
            extra.push(Span::styled(from, dim));
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
    frame.render_widget(
        Paragraph::new(footer(state, usize::from(foot.width))),
        foot,
    );
    if state.open.is_none() {
        frame.render_widget(
            Paragraph::new("open a stream: pick one in the list and press Enter, or o to type a path")
                .style(dim)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            body,
        );
        return;
    }
    let rows = visible_rows(
        state,
        usize::from(body.height),
        usize::from(body.width),
        theme,
    );
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
