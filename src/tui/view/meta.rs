//! The metadata pane: HEAD of the open stream, what the last read said,
//! and a sparkline of messages per second.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{count, pane_block, safe, title};
use crate::tui::state::{Pane, State};

/// Width of the key column.
const KEY: usize = 11;

/// `text` shortened for display to `width` columns by keeping its end
/// (where offsets differ: `…0000000000043478`). Display only: the value
/// itself is never changed, and `y` copies it whole.
pub fn keep_end(text: &str, width: usize) -> String {
    let w = |s: &str| Span::raw(s).width();
    if w(text) <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut kept = String::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let cw = w(c.encode_utf8(&mut [0; 4]));
        if used + cw > width {
            break;
        }
        used += cw;
        kept.insert(0, c);
    }
    format!("…{kept}")
}

fn kv(key: &str, value: String, style: Style) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{key:<KEY$}"), Style::new().fg(Color::DarkGray)),
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

/// The lines of the pane, `width` columns wide (long offsets and cursors
/// keep their end).
pub fn lines(state: &State, width: u16) -> Vec<Line<'static>> {
    let value_width = usize::from(width).saturating_sub(KEY);
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
            keep_end(&safe(h.next_offset.as_str()), value_width),
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
        out.push(kv("cursor", keep_end(&safe(c), value_width), plain));
    }
    if let Some(e) = &r.etag {
        out.push(kv("etag", safe(e), plain));
    }
    if let Some(c) = &r.cache_control {
        out.push(kv("cache", safe(c), plain));
    }
    out.push(kv("live/s", count(state.meta.rate.per_second()), plain));
    out
}

/// The last `width` seconds of the rate as block characters, scaled to
/// the busiest second shown.
pub fn sparkline(history: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let shown = &history[history.len().saturating_sub(width)..];
    let max = shown.iter().copied().max().unwrap_or(0);
    shown
        .iter()
        .map(|&v| {
            if max == 0 || v == 0 {
                ' '
            } else {
                // v * 7 / max fits: v <= max.
                let i = usize::try_from(v.saturating_mul(7) / max).unwrap_or(7);
                BARS[i.min(7)]
            }
        })
        .collect()
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
    let mut lines = lines(state, inner.width);
    if state.open.is_some() {
        // The sparkline rides on the msgs/s line so it shows even at 80x24.
        let width = usize::from(inner.width).saturating_sub(20);
        if let Some(last) = lines.last_mut() {
            last.spans.push(Span::styled(
                format!(" {}", sparkline(&state.meta.rate.history, width)),
                Style::new().fg(Color::Cyan),
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_offsets_keep_their_distinguishing_end() {
        let o = "0000000000000000_0000000000043478";
        assert_eq!(keep_end(o, 40), o);
        assert_eq!(keep_end(o, 13), "…000000043478");
        assert_eq!(keep_end(o, 1), "…");
        assert_eq!(keep_end(o, 0), "");
        // Wide characters are not split.
        assert_eq!(keep_end("ab日本", 4), "…本");
    }

    #[test]
    fn sparkline_scales_to_the_busiest_second() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8], 10), " ▁▂▄█");
        assert_eq!(sparkline(&[5, 5, 0], 2), "█ ");
        assert_eq!(sparkline(&[], 5), "");
    }
}
