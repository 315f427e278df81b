//! Long lines on a narrow screen: cut into rows of a width (wrap), or shown
//! from a column on (horizontal scroll). Both work on styled lines that are
//! already sanitized, by display width, and keep each span's style.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Display width of a line.
pub fn width(line: &Line<'_>) -> usize {
    line.spans
        .iter()
        .flat_map(|s| s.content.chars())
        .map(char_width)
        .sum()
}

/// Rows `line` takes when wrapped at `width` columns (at least one).
pub fn rows(line: &Line<'_>, width: usize) -> usize {
    let w = self::width(line);
    if width == 0 || w == 0 {
        1
    } else {
        w.div_ceil(width)
    }
}

/// `line` cut into rows of at most `width` columns, after the last space
/// that fits when there is one (a word longer than a row is cut); a
/// character never straddles two rows. The line's own style carries to
/// every row.
pub fn wrap(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    if width == 0 || self::width(&line) <= width {
        return vec![line];
    }
    let style = line.style;
    let mut out = Vec::new();
    // The row being filled, character by character with its style.
    let mut row: Vec<(char, Style)> = Vec::new();
    let mut used = 0;
    for span in &line.spans {
        for c in span.content.chars() {
            let w = char_width(c);
            if used + w > width && !row.is_empty() {
                let carry = match row.iter().rposition(|(c, _)| *c == ' ') {
                    Some(space) if space + 1 < row.len() => {
                        row.split_off(space + 1)
                    }
                    _ => Vec::new(),
                };
                out.push(spans_of(&row).style(style));
                used = carry.iter().map(|(c, _)| char_width(*c)).sum();
                row = carry;
                // What moved down and this character may still not fit.
                if used + w > width && !row.is_empty() {
                    out.push(spans_of(&row).style(style));
                    row.clear();
                    used = 0;
                }
            }
            row.push((c, span.style));
            used += w;
        }
    }
    if !row.is_empty() || out.is_empty() {
        out.push(spans_of(&row).style(style));
    }
    out
}

/// Characters back into spans, one per run of a style.
fn spans_of(chars: &[(char, Style)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut current: Option<Style> = None;
    for (c, style) in chars {
        if current.is_some_and(|s| s != *style) {
            let done = std::mem::take(&mut text);
            spans.push(Span::styled(done, current.unwrap_or_default()));
        }
        current = Some(*style);
        text.push(*c);
    }
    if let Some(style) = current {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

/// `line` without its first `skip` columns (a wide character cut in two
/// becomes a space).
pub fn crop(line: Line<'static>, skip: usize) -> Line<'static> {
    if skip == 0 {
        return line;
    }
    let style = line.style;
    let mut spans = Vec::with_capacity(line.spans.len());
    let mut at = 0;
    for span in line.spans {
        let mut kept = String::new();
        for c in span.content.chars() {
            let w = char_width(c);
            if at >= skip {
                kept.push(c);
            } else if at + w > skip {
                kept.extend(std::iter::repeat_n(' ', at + w - skip));
            }
            at += w;
        }
        if !kept.is_empty() {
            spans.push(Span::styled(kept, span.style));
        }
    }
    Line::from(spans).style(style)
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn wrapping_cuts_rows_of_the_width_and_keeps_styles() {
        let red = Style::new().fg(Color::Red);
        let line =
            Line::from(vec![Span::raw("abcd"), Span::styled("efghij", red)]);
        assert_eq!(rows(&line, 4), 3);
        let out = wrap(line, 4);
        let texts: Vec<String> = out.iter().map(text).collect();
        assert_eq!(texts, ["abcd", "efgh", "ij"]);
        assert_eq!(out[1].spans[0].style, red);
        // Wide characters never straddle two rows.
        let out = wrap(Line::raw("ab日本"), 3);
        let texts: Vec<String> = out.iter().map(text).collect();
        assert_eq!(texts, ["ab", "日", "本"]);
        assert_eq!(wrap(Line::raw(""), 5).len(), 1);
    }

    #[test]
    fn wrapping_breaks_after_a_space_when_one_fits() {
        let out = wrap(Line::raw("disk full on /var retrying"), 12);
        let texts: Vec<String> = out.iter().map(text).collect();
        assert_eq!(texts, ["disk full ", "on /var ", "retrying"]);
        // A word longer than a row is cut.
        let out = wrap(Line::raw("a verylongwordindeed"), 6);
        let texts: Vec<String> = out.iter().map(text).collect();
        assert_eq!(texts, ["a ", "verylo", "ngword", "indeed"]);
    }

    #[test]
    fn cropping_drops_the_first_columns() {
        let line = Line::from(vec![Span::raw("abc"), Span::raw("def")]);
        assert_eq!(text(&crop(line.clone(), 4)), "ef");
        assert_eq!(text(&crop(line.clone(), 0)), "abcdef");
        assert_eq!(text(&crop(line, 10)), "");
        assert_eq!(text(&crop(Line::raw("日本x"), 1)), " 本x");
    }
}
