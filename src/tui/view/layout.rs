//! Where each pane goes for a terminal size. Pure, so `update` can use the
//! same geometry for mouse clicks and page sizes as the views draw with.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::tui::state::Pane;

/// The panes' rectangles; a zoomed layout has only the focused pane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub streams: Rect,
    pub tail: Rect,
    pub meta: Rect,
    pub composer: Rect,
    /// Two rows: state, then key hints.
    pub status: Rect,
}

impl Areas {
    /// The rectangle of `pane`, if it is shown.
    pub fn of(&self, pane: Pane) -> Option<Rect> {
        let r = match pane {
            Pane::Streams => self.streams,
            Pane::Tail => self.tail,
            Pane::Meta => self.meta,
            Pane::Composer => self.composer,
        };
        (r.area() > 0).then_some(r)
    }
}

/// Terminals narrower than this put the metadata under the stream list
/// instead of in its own column.
const WIDE: u16 = 120;

/// Lays the panes out on `area`.
pub fn areas(area: Rect, zoomed: bool, focus: Pane) -> Areas {
    let [main, status] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(2)])
            .areas(area);
    let mut out = Areas {
        status,
        ..Areas::default()
    };
    if zoomed {
        match focus {
            Pane::Streams => out.streams = main,
            Pane::Tail => out.tail = main,
            Pane::Meta => out.meta = main,
            Pane::Composer => out.composer = main,
        }
        return out;
    }
    let composer_rows = if main.height >= 30 { 7 } else { 5 };
    let [top, composer] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(composer_rows),
    ])
    .areas(main);
    out.composer = composer;
    let left_width = if area.width >= WIDE { 32 } else { 26 };
    if area.width >= WIDE {
        let [streams, tail, meta] = Layout::horizontal([
            Constraint::Length(left_width),
            Constraint::Min(20),
            Constraint::Length(34),
        ])
        .areas(top);
        out.streams = streams;
        out.tail = tail;
        out.meta = meta;
    } else {
        let [left, tail] = Layout::horizontal([
            Constraint::Length(left_width),
            Constraint::Min(20),
        ])
        .areas(top);
        let [streams, meta] = Layout::vertical([
            Constraint::Percentage(50),
            Constraint::Percentage(50),
        ])
        .areas(left);
        out.streams = streams;
        out.tail = tail;
        out.meta = meta;
    }
    out
}

/// First row of a list window of `rows` rows that shows `selected` (kept
/// a little off the edges).
pub fn list_window(selected: usize, len: usize, rows: usize) -> usize {
    if rows == 0 || len <= rows {
        return 0;
    }
    let max_start = len - rows;
    selected.saturating_sub(rows / 2).min(max_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_terminals_stack_metadata_under_the_list() {
        let a = areas(Rect::new(0, 0, 80, 24), false, Pane::Tail);
        assert_eq!(a.status, Rect::new(0, 22, 80, 2));
        assert_eq!(a.composer.height, 5);
        assert_eq!(a.streams.x, a.meta.x);
        assert!(a.tail.width >= 50);
        assert!(a.tail.height >= 15);
    }

    #[test]
    fn wide_terminals_give_metadata_a_column() {
        let a = areas(Rect::new(0, 0, 160, 48), false, Pane::Tail);
        assert!(a.meta.x > a.tail.x);
        assert_eq!(a.composer.height, 7);
    }

    #[test]
    fn zoom_gives_the_focused_pane_everything_but_the_status_bar() {
        let a = areas(Rect::new(0, 0, 80, 24), true, Pane::Meta);
        assert_eq!(a.meta, Rect::new(0, 0, 80, 22));
        assert_eq!(a.of(Pane::Tail), None);
    }

    #[test]
    fn list_window_keeps_the_selection_visible() {
        assert_eq!(list_window(0, 100, 10), 0);
        assert_eq!(list_window(50, 100, 10), 45);
        assert_eq!(list_window(99, 100, 10), 90);
        assert_eq!(list_window(3, 5, 10), 0);
    }
}
