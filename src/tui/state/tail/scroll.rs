//! Moving through the tail by rows. Heights come from formatting only the
//! items involved, so every move costs at most a screenful of work.

use ratatui::text::Line;

use crate::tui::format::{self, ContentKind, JsonStyle, Theme, wrap};
use crate::tui::state::tail::{Anchor, Item, Tail};

/// How the tail lays its items out: what decides their heights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub style: JsonStyle,
    /// Columns to wrap rows at; `None` when not wrapping.
    pub wrap: Option<usize>,
    /// Whether batch headers take a row.
    pub headers: bool,
}

impl Shape {
    /// One row per header, no wrapping.
    pub fn plain(style: JsonStyle) -> Shape {
        Shape {
            style,
            wrap: None,
            headers: true,
        }
    }
}

/// The rows of message `message` of batch `batch`, wrapped if the shape
/// says so. The view draws these; heights are counted from them.
pub fn message_rows(
    tail: &Tail,
    batch: usize,
    message: usize,
    shape: Shape,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let b = &tail.batches[batch];
    let raw = b.message(message);
    let mut lines = match tail.kind {
        ContentKind::Json => format::json_lines(raw, shape.style, theme),
        ContentKind::Text => format::text_message_lines(raw, theme),
        ContentKind::Binary => {
            format::hex_lines(raw, b.message_position(message), theme)
        }
    };
    // A merged tail tags each message with its stream, in its colour (the
    // name stays when colours are off).
    if let Some(tag) = b.source.and_then(|i| tail.tags.get(usize::from(i)))
        && let Some(first) = lines.first_mut()
    {
        let span = crate::tui::state::merge::tag_span(tag);
        first.spans.insert(0, span);
    }
    match shape.wrap {
        Some(width) if tail.kind != ContentKind::Binary => lines
            .into_iter()
            .flat_map(|line| wrap::wrap(line, width))
            .collect(),
        _ => lines,
    }
}

/// Rows item `id` takes on screen (a hidden header takes none).
pub fn item_height(tail: &Tail, id: u64, shape: Shape) -> usize {
    match tail.locate(id) {
        Some(Item::Header { .. }) => usize::from(shape.headers),
        None => 1,
        Some(Item::Message { batch, message }) => {
            if shape.wrap.is_some() && tail.kind != ContentKind::Binary {
                let theme = Theme::default();
                return message_rows(tail, batch, message, shape, &theme)
                    .len()
                    .max(1);
            }
            let raw = tail.batches[batch].message(message);
            match tail.kind {
                ContentKind::Json => format::json_line_count(raw, shape.style),
                ContentKind::Text => 1,
                ContentKind::Binary => format::hex_line_count(raw.len()),
            }
            .max(1)
        }
    }
}

/// Whether `id` is a batch header.
fn is_header(tail: &Tail, id: u64) -> bool {
    matches!(tail.locate(id), Some(Item::Header { .. }))
}

/// A message near `id`: `id` itself unless it is a header, else the
/// message before it (moving up) or after it (moving down, or when
/// nothing is before). Every header is followed by a message of its batch.
fn message_near(tail: &Tail, id: u64, down: bool) -> u64 {
    if !is_header(tail, id) {
        return id;
    }
    let first = tail.first_item();
    if !down && id > first && !is_header(tail, id - 1) {
        id - 1
    } else {
        id + 1
    }
}

/// The first row a bottom-anchored (following) view of `height` rows
/// shows.
pub fn bottom_anchor(tail: &Tail, height: usize, shape: Shape) -> Anchor {
    let Some(last) = tail.last_item() else {
        return Anchor::default();
    };
    let first = tail.first_item();
    let mut rows = 0;
    let mut id = last;
    loop {
        let h = item_height(tail, id, shape);
        if rows + h >= height {
            return Anchor {
                item: id,
                line: rows + h - height,
            };
        }
        rows += h;
        if id == first {
            return Anchor { item: id, line: 0 };
        }
        id -= 1;
    }
}

/// Scrolls so that the selected item is on screen, preferring to move as
/// little as possible.
pub fn reveal(tail: &mut Tail, height: usize, shape: Shape) {
    let Some(sel) = tail.selected else {
        return;
    };
    let height = height.max(1);
    if sel < tail.anchor.item
        || (sel == tail.anchor.item && tail.anchor.line > 0)
    {
        tail.anchor = Anchor { item: sel, line: 0 };
        return;
    }
    // Rows from the anchor to the end of the selected item.
    let mut rows = 0;
    let mut id = tail.anchor.item;
    while id <= sel {
        let h = item_height(tail, id, shape);
        rows += if id == tail.anchor.item {
            h.saturating_sub(tail.anchor.line)
        } else {
            h
        };
        if rows > height * 4 {
            break;
        }
        id += 1;
    }
    if rows <= height {
        return;
    }
    // Put the selected item's end at the bottom (its top if it is taller
    // than the screen).
    let h = item_height(tail, sel, shape);
    if h >= height {
        tail.anchor = Anchor { item: sel, line: 0 };
        return;
    }
    let mut above = height - h;
    let mut id = sel;
    while above > 0 && id > tail.first_item() {
        id -= 1;
        let h = item_height(tail, id, shape);
        if h >= above {
            tail.anchor = Anchor {
                item: id,
                line: h - above,
            };
            return;
        }
        above -= h;
    }
    tail.anchor = Anchor { item: id, line: 0 };
}

/// Stops following (if it was) where the screen is.
pub fn pause(tail: &mut Tail, height: usize, shape: Shape) {
    if tail.follow {
        let anchor = bottom_anchor(tail, height, shape);
        tail.pause(anchor);
    }
}

/// Moves the selection by `delta` items.
pub fn move_by(tail: &mut Tail, delta: i64, height: usize, shape: Shape) {
    let Some(last) = tail.last_item() else {
        return;
    };
    // Leaving follow lands on a message: the header of the newest
    // message's batch is not what "one row up" means there.
    let was_following = tail.follow;
    pause(tail, height, shape);
    let first = tail.first_item();
    let sel = tail.selected.unwrap_or(last);
    let mut next = if delta < 0 {
        sel.saturating_sub(delta.unsigned_abs()).max(first)
    } else {
        sel.saturating_add(delta.unsigned_abs()).min(last)
    };
    if was_following || !shape.headers {
        next = message_near(tail, next, delta > 0);
    }
    tail.selected = Some(next);
    reveal(tail, height, shape);
}

/// Moves the selection by about a screen of rows.
pub fn page(tail: &mut Tail, down: bool, height: usize, shape: Shape) {
    let Some(last) = tail.last_item() else {
        return;
    };
    pause(tail, height, shape);
    let first = tail.first_item();
    let mut sel = tail.selected.unwrap_or(last);
    let mut rows = 0;
    while rows < height.saturating_sub(1).max(1) {
        if down && sel < last {
            sel += 1;
        } else if !down && sel > first {
            sel -= 1;
        } else {
            break;
        }
        rows += item_height(tail, sel, shape);
    }
    if !shape.headers {
        sel = message_near(tail, sel, down);
    }
    tail.selected = Some(sel);
    reveal(tail, height, shape);
}

/// Jumps to the oldest buffered item.
pub fn top(tail: &mut Tail, height: usize, shape: Shape) {
    if tail.last_item().is_none() {
        return;
    }
    pause(tail, height, shape);
    let first = tail.first_item();
    tail.selected = Some(if shape.headers {
        first
    } else {
        message_near(tail, first, true)
    });
    tail.anchor = Anchor {
        item: first,
        line: 0,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::tail::{Incoming, Limits};
    use bytes::Bytes;

    fn tail_with(batches: usize, per_batch: usize) -> Tail {
        let mut t = Tail::new(ContentKind::Json, Limits::default());
        t.reset("-1");
        for b in 0..batches {
            let mut data = Vec::new();
            let mut ends = Vec::new();
            for m in 0..per_batch {
                data.extend_from_slice(format!("{}", b * 100 + m).as_bytes());
                ends.push(u32::try_from(data.len()).unwrap());
            }
            t.push(Incoming {
                arrived: "t".into(),
                start_offset: format!("o{b}"),
                next_offset: format!("o{}", b + 1),
                up_to_date: true,
                closed: false,
                partial: false,
                data: Bytes::from(data),
                ends,
            });
        }
        t
    }

    #[test]
    fn following_shows_the_newest_rows() {
        let t = tail_with(3, 4); // 15 items of one row each
        let a = bottom_anchor(&t, 5, Shape::plain(JsonStyle::Compact));
        assert_eq!(a, Anchor { item: 10, line: 0 });
        let a = bottom_anchor(&t, 100, Shape::plain(JsonStyle::Compact));
        assert_eq!(a, Anchor { item: 0, line: 0 });
    }

    #[test]
    fn moving_up_pauses_and_keeps_the_selection_visible() {
        let mut t = tail_with(3, 4);
        move_by(&mut t, -1, 5, Shape::plain(JsonStyle::Compact));
        assert!(!t.follow);
        assert_eq!(t.selected, Some(13));
        assert_eq!(t.anchor.item, 10);
        move_by(&mut t, -5, 5, Shape::plain(JsonStyle::Compact));
        assert_eq!(t.selected, Some(8));
        assert_eq!(t.anchor, Anchor { item: 8, line: 0 });
        move_by(&mut t, 6, 5, Shape::plain(JsonStyle::Compact));
        assert_eq!(t.selected, Some(14));
        assert_eq!(t.anchor.item, 10);
        move_by(&mut t, -100, 5, Shape::plain(JsonStyle::Compact));
        assert_eq!(t.selected, Some(0));
    }

    #[test]
    fn paging_moves_about_a_screen() {
        let mut t = tail_with(10, 9);
        top(&mut t, 10, Shape::plain(JsonStyle::Compact));
        page(&mut t, true, 10, Shape::plain(JsonStyle::Compact));
        assert_eq!(t.selected, Some(9));
        page(&mut t, false, 10, Shape::plain(JsonStyle::Compact));
        assert_eq!(t.selected, Some(0));
    }
}
