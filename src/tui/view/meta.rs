//! The metadata pane: HEAD of the open stream, what the last read said,
//! and a sparkline of messages per second.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::{count, pane_block, safe, title};
use crate::tui::state::{Pane, State};

fn kv(key: &str, value: String, style: Style) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{key:<11}"), Style::new().fg(Color::DarkGray)),
        Span::styled(value, style),
    ])
}

/// `1h02m`, `3m05s`, `42s`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// The lines of the pane.
pub fn lines(state: &State) -> Vec<Line<'static>> {
    let plain = Style::new();
    let mut out = Vec::new();
    let Some(_open) = &state.open else {
        out.push(Line::styled(
            "no stream open",
            Style::new().fg(Color::DarkGray),
        ));
        return out;
    };
    if let Some(e) = &state.meta.head_error {
        out.push(Line::styled(
            format!("HEAD failed: {e}"),
            Style::new().fg(Color::Red),
        ));
    }
    if let Some(h) = &state.meta.head {
        out.push(kv(
            "type",
            h.content_type.as_deref().map_or_else(|| "?".into(), safe),
            plain,
        ));
        out.push(kv(
            "next",
            safe(h.next_offset.as_str()),
            Style::new().fg(Color::Magenta),
        ));
        out.push(kv(
            "closed",
            if h.closed { "yes".into() } else { "no".into() },
            if h.closed {
                Style::new().fg(Color::Red)
            } else {
                plain
            },
        ));
        if let Some(ttl) = h.ttl {
            let left =
                state.meta.ttl_left(state.now).map_or(0, |d| d.as_secs());
            // Two short rows: one long row was cut off before the
            // countdown in the narrow metadata column.
            out.push(kv("ttl", format!("{} idle", duration(ttl)), plain));
            out.push(kv("expires in", duration(left), plain));
        }
        if let Some(e) = &h.expires_at {
            out.push(kv("expires", safe(e), plain));
        }
    } else if state.meta.loading {
        out.push(Line::styled("HEAD…", Style::new().fg(Color::DarkGray)));
    }
    let r = &state.meta.read;
    if r.status != 0 {
        out.push(kv(
            "read",
            format!(
                "{}{}",
                r.status,
                if r.up_to_date { " · up-to-date" } else { "" }
            ),
            plain,
        ));
    }
    if let Some(c) = &r.cursor {
        out.push(kv("cursor", safe(c), plain));
    }
    if let Some(e) = &r.etag {
        out.push(kv("etag", safe(e), plain));
    }
    if let Some(c) = &r.cache_control {
        out.push(kv("cache", safe(c), plain));
    }
    out.push(kv("msgs/s", count(state.meta.rate.per_second()), plain));
    out
}

/// Draws the metadata pane.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Pane::Meta;
    let extra = if state.meta.loading {
        vec![Span::styled("… ", Style::new().fg(Color::DarkGray))]
    } else {
        Vec::new()
    };
    let block = pane_block(title("Metadata", focused, extra), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let spark_rows = if inner.height >= 8 { 2 } else { 0 };
    let [text, spark] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(spark_rows)])
            .areas(inner);
    frame.render_widget(Paragraph::new(lines(state)), text);
    if spark_rows > 0 {
        let history = &state.meta.rate.history;
        let width = usize::from(spark.width);
        let data: Vec<u64> =
            history[history.len().saturating_sub(width)..].to_vec();
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(Style::new().fg(Color::Cyan)),
            spark,
        );
    }
}
