//! Where each pane goes for a terminal size. Pure, so `update` can use the
//! same geometry for mouse clicks and page sizes as the views draw with.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::tui::state::tail::scroll;
use crate::tui::state::{Pane, State};

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

/// Terminals at least this wide give the metadata its own column; below,
/// it goes under the stream list. (At 120 columns two side columns took 66
/// of them from the tail.)
const WIDE: u16 = 160;

/// Below this width the side panes show only while one has focus: the tail
/// would be too narrow to read beside them.
const NARROW: u16 = 60;

/// What the layout depends on besides the terminal's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub zoomed: bool,
    pub focus: Pane,
    /// The stream list and metadata are shown (`s` hides them).
    pub side_panes: bool,
}

impl Options {
    /// The layout options of `state`.
    pub fn of(state: &State) -> Options {
        Options {
            zoomed: state.zoomed,
            focus: state.focus,
            side_panes: state.side_panes,
        }
    }

    /// Whether the side panes get space on a terminal `width` wide.
    pub fn sides_shown(self, width: u16) -> bool {
        let side_focus = matches!(self.focus, Pane::Streams | Pane::Meta);
        side_focus || (self.side_panes && width >= NARROW)
    }
}

/// Lays the panes out on `area` with the side panes shown.
pub fn areas(area: Rect, zoomed: bool, focus: Pane) -> Areas {
    areas_with(
        area,
        Options {
            zoomed,
            focus,
            side_panes: true,
        },
    )
}

/// The panes of `state` on its terminal.
pub fn of_state(state: &State) -> Areas {
    let (w, h) = state.size;
    areas_with(Rect::new(0, 0, w, h), Options::of(state))
}

/// Rows of the composer: it grows only while it has focus, so that the
/// tail keeps the rows (an unfocused one shows one line of text or the
/// last outcome).
fn composer_rows(main: u16, focused: bool) -> u16 {
    match (focused, main) {
        (false, _) => 3,
        (true, 30..) => 7,
        (true, 14..) => 5,
        (true, _) => 4,
    }
}

/// Lays the panes out on `area`.
pub fn areas_with(area: Rect, opts: Options) -> Areas {
    let [main, status] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(2)])
            .areas(area);
    let mut out = Areas {
        status,
        ..Areas::default()
    };
    if opts.zoomed {
        match opts.focus {
            Pane::Streams => out.streams = main,
            Pane::Tail => out.tail = main,
            Pane::Meta => out.meta = main,
            Pane::Composer => out.composer = main,
        }
        return out;
    }
    let rows = composer_rows(main.height, opts.focus == Pane::Composer);
    let [top, composer] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(rows)])
            .areas(main);
    out.composer = composer;
    if !opts.sides_shown(area.width) {
        out.tail = top;
        return out;
    }
    if area.width >= WIDE {
        let [streams, tail, meta] = Layout::horizontal([
            Constraint::Length(32),
            Constraint::Min(20),
            Constraint::Length(30),
        ])
        .areas(top);
        out.streams = streams;
        out.tail = tail;
        out.meta = meta;
    } else if area.width >= NARROW {
        let [left, tail] =
            Layout::horizontal([Constraint::Length(26), Constraint::Min(20)])
                .areas(top);
        let [streams, meta] = Layout::vertical([
            Constraint::Percentage(50),
            Constraint::Percentage(50),
        ])
        .areas(left);
        out.streams = streams;
        out.tail = tail;
        out.meta = meta;
    } else {
        // Too narrow for a column beside the tail: the focused side pane
        // takes the width, the other one a third of the height.
        let (streams, meta) = if opts.focus == Pane::Meta {
            let [s, m] = Layout::vertical([
                Constraint::Percentage(34),
                Constraint::Percentage(66),
            ])
            .areas(top);
            (s, m)
        } else {
            let [s, m] = Layout::vertical([
                Constraint::Percentage(66),
                Constraint::Percentage(34),
            ])
            .areas(top);
            (s, m)
        };
        out.streams = streams;
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

/// Rows of the tail's viewport.
pub fn tail_height(state: &State) -> usize {
    let areas = of_state(state);
    usize::from(areas.tail.height.saturating_sub(2)).max(1)
}

/// Columns of the tail's rows.
pub fn tail_width(state: &State) -> usize {
    let areas = of_state(state);
    usize::from(areas.tail.width.saturating_sub(2)).max(1)
}

/// How the tail lays its rows out now (what the view draws).
pub fn tail_shape(state: &State) -> scroll::Shape {
    let view = &state.tail_view;
    scroll::Shape {
        style: state.json_style,
        wrap: view.wraps(state.tail.kind).then(|| tail_width(state)),
        headers: view.headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_terminals_stack_metadata_under_the_list() {
        let a = areas(Rect::new(0, 0, 80, 24), false, Pane::Tail);
        assert_eq!(a.status, Rect::new(0, 22, 80, 2));
        assert_eq!(a.streams.x, a.meta.x);
        assert!(a.tail.width >= 50);
        // The composer grows only when focused: the tail has the rows.
        assert_eq!(a.composer.height, 3);
        assert_eq!(a.tail.height, 19);
        let a = areas(Rect::new(0, 0, 80, 24), false, Pane::Composer);
        assert_eq!(a.composer.height, 5);
    }

    #[test]
    fn wide_terminals_give_metadata_a_column() {
        let a = areas(Rect::new(0, 0, 160, 48), false, Pane::Tail);
        assert!(a.meta.x > a.tail.x);
        assert_eq!(a.tail.width, 98);
        let a = areas(Rect::new(0, 0, 160, 48), false, Pane::Composer);
        assert_eq!(a.composer.height, 7);
        // At 120 columns the side panes share one column of 26.
        let a = areas(Rect::new(0, 0, 120, 30), false, Pane::Tail);
        assert_eq!(a.streams.x, a.meta.x);
        assert_eq!(a.tail.width, 94);
    }

    #[test]
    fn hidden_side_panes_give_the_tail_the_width() {
        let opts = Options {
            zoomed: false,
            focus: Pane::Tail,
            side_panes: false,
        };
        let a = areas_with(Rect::new(0, 0, 120, 30), opts);
        assert_eq!(a.tail.width, 120);
        assert_eq!(a.of(Pane::Streams), None);
        assert_eq!(a.of(Pane::Meta), None);
        // A focused side pane shows anyway.
        let a = areas_with(
            Rect::new(0, 0, 120, 30),
            Options {
                focus: Pane::Meta,
                ..opts
            },
        );
        assert!(a.of(Pane::Meta).is_some());
    }

    #[test]
    fn a_tiny_terminal_gives_the_tail_all_but_the_composer() {
        let a = areas(Rect::new(0, 0, 40, 12), false, Pane::Tail);
        assert_eq!(a.tail, Rect::new(0, 0, 40, 7));
        assert_eq!(a.composer.height, 3);
        assert_eq!(a.of(Pane::Streams), None);
        let a = areas(Rect::new(0, 0, 40, 12), false, Pane::Streams);
        assert_eq!(a.of(Pane::Tail), None);
        assert_eq!(a.streams.width, 40);
        assert!(a.streams.height > a.meta.height);
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
