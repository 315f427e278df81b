//! Draws the detail overlay: one message, full screen, with fold marks and
//! the cursor line highlighted. Formats only the rows in view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear};

use crate::sanitize;
use crate::tui::format::{Theme, wrap};
use crate::tui::state::detail::{DetailState, Fold};

/// Width of the fold-mark gutter.
const GUTTER: u16 = 2;

/// Draws `state` over `area`, clearing what was under it.
pub fn draw(frame: &mut Frame, area: Rect, state: &DetailState, theme: &Theme) {
    let title = sanitize::escape_str(&state.title).into_owned();
    let path = sanitize::escape_str(&state.cursor_path()).into_owned();
    let mut block = Block::new()
        .borders(Borders::ALL)
        .title(Line::from(vec![
            Span::raw(" "),
            Span::raw(title),
            Span::raw(" "),
        ]))
        .title_bottom(Line::from(vec![
            // Says what the bottom-left value is: the cursor's place.
            Span::raw(if state.can_fold() { " path " } else { " at " }),
            Span::styled(path, theme.key),
            Span::raw(if state.can_fold() {
                " (Y copies it) · ? keys "
            } else {
                " · ? keys "
            }),
        ]));
    if let Some(warning) = state.warning() {
        block = block.title(
            Line::styled(format!(" {warning} "), theme.warning).right_aligned(),
        );
    }
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    // Only JSON folds; text and hex get the full width.
    let gutter = if state.can_fold() { GUTTER } else { 0 };
    if inner.width <= gutter || inner.height == 0 {
        return;
    }

    let height = usize::from(inner.height);
    let width = usize::from(inner.width - gutter);
    let shown = |index: usize| {
        let line = state.line(index, theme);
        if state.wrap {
            wrap::wrap(line, width)
        } else {
            vec![wrap::crop(line, state.hscroll)]
        }
    };
    let mut scroll = state.scroll_for(height);
    // Wrapped lines take several rows: start late enough that the cursor
    // line still shows whole (or from its top when taller than the view).
    if state.wrap {
        let cursor = state.cursor();
        let rows = |from: usize| -> usize {
            (from..=cursor).map(|i| shown(i).len()).sum()
        };
        while scroll < cursor && rows(scroll) > height {
            scroll += 1;
        }
    }
    let mut row = 0usize;
    let mut index = scroll;
    while row < height && index < state.line_count() {
        for (part, line) in shown(index).into_iter().enumerate() {
            if row == height {
                break;
            }
            // `row` < inner.height, which is a u16.
            let y = inner.y + u16::try_from(row).unwrap_or(u16::MAX);
            let row_area = Rect::new(inner.x, y, inner.width, 1);
            if index == state.cursor() {
                frame.buffer_mut().set_style(row_area, theme.selection);
            }
            if gutter > 0 && part == 0 {
                let mark = match state.fold_mark(index) {
                    Fold::None => "  ",
                    Fold::Open => "▾ ",
                    Fold::Folded => "▸ ",
                };
                frame.render_widget(
                    Span::styled(mark, theme.dim),
                    Rect::new(inner.x, y, gutter, 1),
                );
            }
            frame.render_widget(
                line,
                Rect::new(inner.x + gutter, y, inner.width - gutter, 1),
            );
            row += 1;
        }
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::Modifier;

    use super::*;
    use crate::tui::format::ContentKind;

    const DOC: &str = r#"{"id":7,"name":"sensor \u001b[2J",
        "items":[{"t":1.50,"ok":true},{"t":1e3,"ok":null},[]],
        "meta":{"tags":["a","b"],"empty":{}}}"#;

    fn render(state: &DetailState) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal
            .draw(|frame| {
                draw(frame, frame.area(), state, &Theme::default());
            })
            .unwrap();
        terminal
    }

    fn json_state() -> DetailState {
        let mut state = DetailState::new(
            DOC.as_bytes().to_vec(),
            ContentKind::Json,
            "events @ 0042\u{1b}]0;pwned\u{7}".to_owned(),
        );
        state.set_viewport_height(22);
        state
    }

    #[test]
    fn json_unfolded() {
        let mut state = json_state();
        state.page_down(4);
        let terminal = render(&state);
        insta::assert_snapshot!(terminal.backend());
        // The cursor row is highlighted across the inner width.
        let buffer = terminal.backend().buffer();
        assert!(buffer[(1, 5)].modifier.contains(Modifier::REVERSED));
        assert!(buffer[(78, 5)].modifier.contains(Modifier::REVERSED));
        assert!(!buffer[(1, 4)].modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn json_folded() {
        let mut state = json_state();
        state.fold_all();
        state.down();
        state.down();
        state.down();
        state.expand();
        insta::assert_snapshot!(render(&state).backend());
    }

    #[test]
    fn long_json_scrolled_to_end() {
        let numbers: Vec<String> = (0..40).map(|n| n.to_string()).collect();
        let doc = format!("[{}]", numbers.join(","));
        let mut state =
            DetailState::new(doc.into_bytes(), ContentKind::Json, "n".into());
        state.set_viewport_height(5);
        state.end();
        // The view is taller than the height last set: it still shows the
        // cursor, filling the screen up to the end.
        let terminal = render(&state);
        insta::assert_snapshot!(terminal.backend());
        let last = terminal.backend().buffer()[(3, 22)].symbol().to_owned();
        assert_eq!(last, "]");
    }

    #[test]
    fn hostile_text_and_invalid_json() {
        let state = DetailState::new(
            b"{\"x\": \x1b[2J\x1b]0;title\x07\r\n\xc2\x9b1m\tbidi \xe2\x80\xaeevil"
                .to_vec(),
            ContentKind::Json,
            "t\u{202e}itle".to_owned(),
        );
        let terminal = render(&state);
        insta::assert_snapshot!(terminal.backend());
        let shown = terminal.backend().to_string();
        for line in shown.lines() {
            assert!(!line.chars().any(sanitize::needs_escape), "{line}");
        }
    }

    #[test]
    fn long_lines_wrap_and_scroll_sideways() {
        let text = format!("{} TAIL-END", "word ".repeat(40));
        let mut state = DetailState::new(
            text.into_bytes(),
            ContentKind::Text,
            "log".to_owned(),
        );
        state.set_viewport_height(22);
        let shown = |s: &DetailState| render(s).backend().to_string();
        // Wrapped by default: the end of the line shows on a later row.
        assert!(shown(&state).contains("TAIL-END"));
        state.toggle_wrap();
        assert!(!shown(&state).contains("TAIL-END"));
        for _ in 0..20 {
            state.scroll_right(8);
        }
        assert!(shown(&state).contains("TAIL-END"));
        // > turned wrap off; w brings it back from the line's start.
        state.toggle_wrap();
        assert!(state.wrap);
        assert_eq!(state.hscroll, 0);
    }

    #[test]
    fn the_wrapped_cursor_line_stays_in_view() {
        let lines: Vec<String> = (0..30)
            .map(|i| format!("{i:02} {}", "x".repeat(150)))
            .collect();
        let mut state = DetailState::new(
            lines.join("\n").into_bytes(),
            ContentKind::Text,
            "log".to_owned(),
        );
        state.set_viewport_height(22);
        state.page_down(20);
        let terminal = render(&state);
        let buffer = terminal.backend().buffer();
        let cursor_row = (1..23)
            .find(|&y| buffer[(1, y)].modifier.contains(Modifier::REVERSED))
            .expect("the cursor line is on screen");
        let row: String =
            (1..4).map(|x| buffer[(x, cursor_row)].symbol()).collect();
        assert_eq!(row, "20 ");
    }

    #[test]
    fn binary_hex() {
        let mut state = DetailState::new(
            (0u8..=255).collect::<Vec<_>>(),
            ContentKind::Binary,
            "blob".to_owned(),
        );
        state.set_viewport_height(22);
        state.page_down(3);
        insta::assert_snapshot!(render(&state).backend());
    }
}
