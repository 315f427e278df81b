//! The protocol inspector, full screen: a summary line, then every request
//! kept, newest last (following the newest unless a row is selected), or
//! one request with all its headers. Server text goes through `sanitize`;
//! secret headers through `client::redact_header`, here as everywhere.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{count, human_bytes, safe};
use crate::client::{
    EventKind, LiveMode, RequestEvent, is_secret_header, redact_header,
    redact_url,
};
use crate::tui::state::inspector::{
    DetailLine, Inspector, Summary, detail_lines,
};

/// The protocol headers a row shows, and how it names them.
const ROW_HEADERS: &[(&str, &str)] = &[
    ("stream-next-offset", "next"),
    ("stream-cursor", "cursor"),
    ("stream-up-to-date", "up-to-date"),
    ("stream-closed", "closed"),
    ("etag", "etag"),
    ("cache-control", "cache"),
    ("content-type", "type"),
    ("producer-id", "producer"),
    ("producer-epoch", "epoch"),
    ("producer-seq", "seq"),
    ("producer-expected-seq", "expected-seq"),
    ("producer-received-seq", "received-seq"),
    ("retry-after", "retry-after"),
    ("stream-ttl", "ttl"),
    ("stream-expires-at", "expires"),
    ("stream-forked-from", "forked-from"),
    ("stream-fork-offset", "fork-offset"),
    ("age", "age"),
    ("x-cache", "x-cache"),
];

fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Draws the inspector over `area`.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    inspector: &Inspector,
    base_url: &str,
) {
    frame.render_widget(Clear, area);
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Color::Cyan))
        .title(title(inspector));
    if inspector.confirm_secrets {
        block = block.title_bottom(Line::styled(
            " copy WITH its secrets (Authorization, cookies in clear)? \
             y: yes · any other key: no ",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    match &inspector.opened {
        Some(opened) => {
            let lines = request_lines(&opened.event, inspector);
            let height = usize::from(inner.height);
            let max = lines.len().saturating_sub(height);
            let shown: Vec<Line> = lines
                .into_iter()
                .skip(opened.scroll.min(max))
                .take(height)
                .collect();
            frame.render_widget(Paragraph::new(shown), inner);
        }
        None => list(frame, inner, inspector, base_url),
    }
}

fn title(inspector: &Inspector) -> Line<'static> {
    let mut text =
        format!(" Inspector · {} kept", count(inspector.len() as u64));
    if inspector.evicted > 0 {
        let _ = write!(text, ", {} older dropped", count(inspector.evicted));
    }
    if inspector.dropped > 0 {
        let _ = write!(text, ", {} lost", count(inspector.dropped));
    }
    match (&inspector.opened, inspector.selected) {
        (Some(o), _) => {
            let _ = write!(text, " · request #{} ", o.event.id);
        }
        (None, None) => text.push_str(" · following "),
        (None, Some(_)) => {
            let at = inspector.current().map_or(0, |i| i + 1);
            let _ = write!(
                text,
                " · at {} of {} (G follows) ",
                count(at as u64),
                count(inspector.len() as u64)
            );
        }
    }
    Line::styled(text, Style::new().add_modifier(Modifier::BOLD))
}

fn list(frame: &mut Frame, area: Rect, inspector: &Inspector, base: &str) {
    // Narrow, the path gives way to the headers.
    let path_room = if area.width < 120 { 24 } else { 60 };
    let mut lines = summary_lines(&inspector.summary).to_vec();
    if area.height > 2 {
        lines.push(Line::styled(
            format!(
                "{:<12} {:<6} {:>3} {:>7} {:>9} {:<9} path · headers",
                "time", "method", "st", "latency", "bytes", "live"
            ),
            dim().add_modifier(Modifier::BOLD),
        ));
    }
    let room = usize::from(area.height).saturating_sub(lines.len());
    let rows = inspector.rows();
    if rows.is_empty() {
        lines.push(Line::styled(
            " no request yet: what the explorer sends shows here, live",
            dim(),
        ));
    } else if let Some(current) = inspector.current() {
        // The window ends at the current row (the newest when following).
        let start = (current + 1).saturating_sub(room);
        for (i, e) in rows.iter().enumerate().skip(start).take(room) {
            let mut line = row(e, base, path_room);
            if i == current && inspector.selected.is_some() {
                line =
                    line.style(Style::new().add_modifier(Modifier::REVERSED));
            }
            lines.push(line);
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The summary, on two lines: counts, then bytes, latency and cache hints.
fn summary_lines(s: &Summary) -> [Line<'static>; 2] {
    let sep = || Span::styled(" · ", dim());
    let mut first = vec![Span::styled(
        format!("{} requests", count(s.requests)),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if s.controls > 0 {
        first.push(sep());
        first.push(Span::raw(format!("{} controls", count(s.controls))));
    }
    first.push(sep());
    if s.errors.is_empty() {
        first.push(Span::styled("no errors", Style::new().fg(Color::Green)));
    } else {
        let errors: Vec<String> = s
            .errors
            .iter()
            .map(|(status, n)| format!("{status}×{}", count(*n)))
            .collect();
        first.push(Span::styled(
            format!("errors {}", errors.join(" ")),
            Style::new().fg(Color::Red),
        ));
    }
    first.push(sep());
    first.push(Span::raw(format!(
        "retries {} · reconnects {}",
        count(s.retries),
        count(s.reconnects)
    )));
    let p = |d: Option<Duration>| d.map_or_else(|| "–".into(), latency);
    let second = vec![
        Span::raw(human_bytes(s.bytes)),
        sep(),
        Span::raw(format!("p50 {} · p99 {}", p(s.p50), p(s.p99))),
        sep(),
        Span::raw(format!(
            "cache: 304×{} age×{} hit×{} miss×{}",
            count(s.not_modified),
            count(s.aged),
            count(s.cache_hits),
            count(s.cache_misses)
        )),
    ];
    [Line::from(first), Line::from(second)]
}

/// `HH:MM:SS.mmm` UTC.
pub fn clock(at: SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A latency, short: `850 µs`, `12 ms`, `1.5 s`.
pub fn latency(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else if d < Duration::from_secs(10) && d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

fn live_label(e: &RequestEvent) -> &'static str {
    match e.live {
        None => "",
        Some(LiveMode::Off) => "catch-up",
        Some(LiveMode::LongPoll) => "long-poll",
        Some(LiveMode::Sse) if e.kind == EventKind::Control => "control",
        Some(LiveMode::Sse) => "sse",
        Some(LiveMode::Auto) => "auto",
    }
}

/// The (redacted) URL under the base URL, or whole when elsewhere, cut
/// to `room` characters.
fn path_of(url: &str, base: &str, room: usize) -> String {
    let shown = redact_url(url);
    let base = redact_url(base);
    let rest = shown
        .strip_prefix(base.trim_end_matches('/'))
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(&shown);
    if rest.chars().count() <= room {
        return rest.to_owned();
    }
    let mut cut: String = rest.chars().take(room.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// One request as a row.
fn row(e: &RequestEvent, base: &str, path_room: usize) -> Line<'static> {
    let status = match (e.status, &e.error) {
        (Some(s), _) => s.to_string(),
        (None, _) => "ERR".into(),
    };
    let failed = e.status.is_none_or(|s| s >= 400) || e.error.is_some();
    let style = if failed {
        Style::new().fg(Color::Red)
    } else if e.kind == EventKind::Control {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    };
    let bytes = e.body_bytes.map_or_else(|| "–".into(), human_bytes);
    let mut text = format!(
        "{:<12} {:<6} {:>3} {:>7} {:>9} {:<9} {}",
        clock(e.at),
        safe(&e.method),
        status,
        latency(e.latency),
        bytes,
        live_label(e),
        safe(&path_of(&e.url, base, path_room)),
    );
    if e.attempt > 1 {
        let _ = write!(text, " attempt={}", e.attempt);
    }
    if e.reconnect {
        text.push_str(" reconnect");
    }
    for (name, short) in ROW_HEADERS {
        if let Some(v) = e.header(name) {
            if matches!(*short, "up-to-date" | "closed") && v == "true" {
                let _ = write!(text, " {short}");
            } else {
                let _ = write!(text, " {short}={}", safe(v));
            }
        }
    }
    if let Some(error) = &e.error {
        let _ = write!(text, " · {}", safe(error));
    }
    Line::styled(text, style)
}

/// The lines of one opened request.
fn request_lines(
    e: &RequestEvent,
    inspector: &Inspector,
) -> Vec<Line<'static>> {
    let also = &inspector.secret_headers;
    let key = Style::new().fg(Color::Cyan);
    detail_lines(e)
        .into_iter()
        .map(|line| match line {
            DetailLine::Title => Line::styled(
                format!("{} {}", safe(&e.method), safe(&redact_url(&e.url))),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            DetailLine::Facts => {
                let status = e
                    .status
                    .map_or_else(|| "no response".into(), |s| s.to_string());
                let bytes =
                    e.body_bytes.map_or_else(|| "–".into(), human_bytes);
                let mut text =
                    format!("{status} · {} · body {bytes}", latency(e.latency));
                if e.request_bytes > 0 {
                    let _ = write!(
                        text,
                        " · sent {}",
                        human_bytes(e.request_bytes)
                    );
                }
                let live = live_label(e);
                if !live.is_empty() {
                    let _ = write!(text, " · {live}");
                }
                let _ = write!(
                    text,
                    " · attempt {} · {} UTC · #{}",
                    e.attempt,
                    clock(e.at),
                    e.id
                );
                if e.reconnect {
                    text.push_str(" · reconnect");
                }
                Line::raw(text)
            }
            DetailLine::Error(error) => Line::styled(
                format!("error: {}", safe(error)),
                Style::new().fg(Color::Red),
            ),
            DetailLine::Blank => Line::default(),
            DetailLine::Section(name, n) => Line::styled(
                format!("{name} ({n})"),
                Style::new()
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
            DetailLine::Header(name, value) => {
                let secret = is_secret_header(name, also);
                let value = redact_header(name, value, also);
                let value_style = if secret {
                    Style::new().fg(Color::Yellow)
                } else {
                    Style::new()
                };
                Line::from(vec![
                    Span::styled(format!("  {}: ", safe(name)), key),
                    Span::styled(safe(&value), value_style),
                ])
            }
        })
        .collect()
}
