//! Long lines on a narrow screen: cut into rows of a width (wrap), or shown
//! from a column on (horizontal scroll). Both work on styled lines that are
//! already sanitized, by display width, and keep each span's style.

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

/// `line` cut into rows of at most `width` columns; a character never
/// straddles two rows. The line's own style carries to every row.
pub fn wrap(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    if width == 0 || self::width(&line) <= width {
        return vec![line];
    }
    let style = line.style;
    let mut out = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in line.spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = char_width(c);
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    row.push(Span::styled(
                        std::mem::take(&mut piece),
                        span.style,
                    ));
                }
                out.push(Line::from(std::mem::take(&mut row)).style(style));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, span.style));
        }
    }
    if !row.is_empty() || out.is_empty() {
        out.push(Line::from(row).style(style));
    }
    out
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
    use ratatui::style::{Color, Style};

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
    fn cropping_drops_the_first_columns() {
        let line = Line::from(vec![Span::raw("abc"), Span::raw("def")]);
        assert_eq!(text(&crop(line.clone(), 4)), "ef");
        assert_eq!(text(&crop(line.clone(), 0)), "abcdef");
        assert_eq!(text(&crop(line, 10)), "");
        assert_eq!(text(&crop(Line::raw("日本x"), 1)), " 本x");
    }
}
