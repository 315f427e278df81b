//! The tail's search on screen: the search line (in place of the tail's
//! footer while it is open), the count in the tail's title, and the
//! highlight of every match in the rows drawn (only those: the view formats
//! only what is on screen).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::{count, safe};
use crate::tui::state::State;
use crate::tui::state::search::{Active, Matcher, Scan, plural};

/// How a match looks in a row.
pub fn match_style() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::LightYellow)
        .add_modifier(Modifier::BOLD)
}

/// What the tail's title says of the search: the query, then "match
/// 7/1,204", "1,204 matches" or the scan's progress.
pub fn title_spans(state: &State) -> Vec<Span<'static>> {
    let Some(a) = &state.search.active else {
        return Vec::new();
    };
    let style = Style::new().fg(Color::Yellow);
    let kind = if a.query.regex { "regex " } else { "" };
    let mut text = format!("{kind}/{}/ ", safe(&a.query.text));
    text.push_str(&status(state, a));
    text.push(' ');
    vec![Span::styled(text, style)]
}

/// The count of matches, with the current one or the progress.
fn status(state: &State, a: &Active) -> String {
    let found = match a.current_place() {
        Some(i) => {
            format!("match {}/{}", count(i as u64), count(a.count() as u64))
        }
        None => plural(a.count()),
    };
    match a.scan {
        Scan::Running => {
            format!("searching {}% · {found}", a.progress(&state.tail))
        }
        Scan::Current => found,
        Scan::Stopped => {
            format!("{found} (stopped at {}%)", a.progress(&state.tail))
        }
    }
}

/// The search line: `/`, the query with a cursor, whether it is a regex,
/// and a bad regex's error.
pub fn line(state: &State) -> Option<Line<'static>> {
    let l = state.search.line.as_ref()?;
    let mut spans = vec![
        Span::styled("/", Style::new().fg(Color::Yellow)),
        Span::raw(safe(&l.query.text)),
        Span::styled("▏", Style::new().fg(Color::Yellow)),
    ];
    // The error first: a narrow pane cuts the end of the line.
    if let Some(e) = &l.error {
        spans.push(Span::styled(
            format!("  ✗ {}", safe(e)),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let dim = Style::new().fg(Color::DarkGray);
    let mode = if l.query.regex { "regex" } else { "text" };
    let case = if l.query.case_sensitive() {
        "case"
    } else {
        "any case"
    };
    spans.push(Span::styled(format!("  {mode}, {case}"), dim));
    Some(Line::from(spans))
}

/// `line` with every match of `matcher` in its text styled as a match.
/// Spans are split where a match starts or ends; a match across two
/// wrapped rows shows in neither.
pub fn highlight(line: Line<'static>, matcher: &Matcher) -> Line<'static> {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let ranges: Vec<_> = matcher.ranges(&text).collect();
    if ranges.is_empty() {
        return line;
    }
    let mut out = Vec::with_capacity(line.spans.len() + ranges.len() * 2);
    let mut at = 0;
    let mut r = ranges.iter().peekable();
    for span in line.spans {
        let content = span.content.as_ref();
        let (start, end) = (at, at + content.len());
        let mut cut = start;
        while cut < end {
            // Skip matches that ended before this point.
            while r.peek().is_some_and(|m| m.end <= cut) {
                r.next();
            }
            let (piece_end, hit) = match r.peek() {
                Some(m) if m.start <= cut => (m.end.min(end), true),
                Some(m) if m.start < end => (m.start, false),
                _ => (end, false),
            };
            let piece = &content[cut - start..piece_end - start];
            let style = if hit {
                span.style.patch(match_style())
            } else {
                span.style
            };
            out.push(Span::styled(piece.to_owned(), style));
            cut = piece_end;
        }
        at = end;
    }
    let mut highlighted = Line::from(out);
    highlighted.style = line.style;
    highlighted.alignment = line.alignment;
    highlighted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::search::Query;

    fn matcher(text: &str, regex: bool) -> Matcher {
        Query {
            text: text.into(),
            regex,
        }
        .compile()
        .unwrap()
    }

    fn marked(line: &Line) -> String {
        line.spans
            .iter()
            .map(|s| {
                if s.style.bg == Some(Color::LightYellow) {
                    format!("[{}]", s.content)
                } else {
                    s.content.to_string()
                }
            })
            .collect()
    }

    #[test]
    fn matches_are_cut_out_of_the_spans_they_cross() {
        let line = Line::from(vec![
            Span::styled("\"level\": ", Style::new().fg(Color::Blue)),
            Span::styled("\"error\"", Style::new().fg(Color::Red)),
            Span::raw(", disk error"),
        ]);
        let out = highlight(line, &matcher("rror\", d", false));
        assert_eq!(marked(&out), "\"level\": \"e[rror\"][, d]isk error");
        // The colour of the span a match sits in stays under the match's.
        let red = out.spans.iter().find(|s| s.content == "rror\"").unwrap();
        assert_eq!(red.style.fg, Some(Color::Black));
        let line = Line::raw("Error, error, ERROR");
        let out = highlight(line, &matcher("error", false));
        assert_eq!(marked(&out), "[Error], [error], [ERROR]");
        let out =
            highlight(Line::raw("Error, error"), &matcher("Error", false));
        assert_eq!(marked(&out), "[Error], error");
        let out = highlight(Line::raw("a1 b22 c"), &matcher(r"\d+", true));
        assert_eq!(marked(&out), "a[1] b[22] c");
        // A regex that matches the empty string marks nothing.
        let out = highlight(Line::raw("abc"), &matcher("x*", true));
        assert_eq!(marked(&out), "abc");
    }
}
