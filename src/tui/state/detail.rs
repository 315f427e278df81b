//! The detail overlay's state: one message, a cursor, and (for JSON) a tree
//! of foldable containers. Drawing lives in `view::detail`.

use bytes::Bytes;
use ratatui::text::Line;

use crate::sanitize;
use crate::tui::format::json;
use crate::tui::format::{self, ContentKind, Theme};

mod tree;

use tree::{JsonTree, NO_PARENT, Row};

#[derive(Debug)]
enum Body {
    Json(JsonTree),
    /// Escaped display lines (the raw bytes stay in `DetailState::raw`).
    Text(Vec<String>),
    Binary,
}

/// What the gutter shows beside a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    /// Not a foldable container's first line.
    None,
    Open,
    Folded,
}

/// One message shown full screen, with a cursor line and folding.
#[derive(Debug)]
pub struct DetailState {
    /// As given: untrusted, so views sanitize it.
    pub title: String,
    raw: Bytes,
    body: Body,
    cursor: usize,
    scroll: usize,
    height: usize,
    warning: Option<&'static str>,
    /// Long lines take several rows (`w`); on for text and JSON.
    pub wrap: bool,
    /// Columns cut off the left of every line while not wrapping
    /// (`<` / `>`).
    pub hscroll: usize,
}

impl DetailState {
    /// Opens `raw` as `kind`; JSON that does not parse is shown as text with
    /// a warning.
    pub fn new(
        raw: impl Into<Bytes>,
        kind: ContentKind,
        title: String,
    ) -> Self {
        let raw = raw.into();
        let mut warning = None;
        let body = match kind {
            ContentKind::Json => {
                if let Some(tree) = JsonTree::parse(&raw) {
                    Body::Json(tree)
                } else {
                    warning = Some("not valid JSON: shown as text");
                    Body::Text(sanitize::text_lines(&raw))
                }
            }
            ContentKind::Text => Body::Text(sanitize::text_lines(&raw)),
            ContentKind::Binary => Body::Binary,
        };
        Self {
            title,
            raw,
            body,
            cursor: 0,
            scroll: 0,
            height: 1,
            warning,
            wrap: kind != ContentKind::Binary,
            hscroll: 0,
        }
    }

    /// Why the content is shown other than as asked, if it is.
    pub fn warning(&self) -> Option<&'static str> {
        self.warning
    }

    /// `w`: wrap on / off (hex rows never wrap).
    pub fn toggle_wrap(&mut self) {
        if !matches!(self.body, Body::Binary) {
            self.wrap = !self.wrap;
            self.hscroll = 0;
        }
    }

    /// `>`: long lines move left by `by` columns (wrap goes off).
    pub fn scroll_right(&mut self, by: usize) {
        self.wrap = false;
        self.hscroll += by;
    }

    /// `<`: back towards the lines' start.
    pub fn scroll_left(&mut self, by: usize) {
        self.hscroll = self.hscroll.saturating_sub(by);
    }

    /// Whether the content has folds (JSON); text and hex do not.
    pub fn can_fold(&self) -> bool {
        matches!(self.body, Body::Json(_))
    }

    /// Number of displayed lines at the current folding.
    pub fn line_count(&self) -> usize {
        match &self.body {
            Body::Json(tree) => tree.rows.len(),
            Body::Text(lines) => lines.len(),
            Body::Binary => format::hex_line_count(self.raw.len()),
        }
    }

    /// Index of the cursor line.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Tells the state how many lines the view shows, so moves keep the
    /// cursor on screen; call on resize.
    pub fn set_viewport_height(&mut self, height: usize) {
        self.height = height.max(1);
        self.follow_cursor();
    }

    /// First line to show in a viewport of `height` lines: the stored scroll,
    /// moved just enough to show the cursor if `height` differs from the one
    /// last set.
    pub fn scroll_for(&self, height: usize) -> usize {
        let height = height.max(1);
        let scroll = if self.cursor < self.scroll {
            self.cursor
        } else if self.cursor >= self.scroll + height {
            self.cursor + 1 - height
        } else {
            self.scroll
        };
        scroll.min(self.line_count().saturating_sub(height))
    }

    fn follow_cursor(&mut self) {
        self.scroll = self.scroll_for(self.height);
    }

    fn move_to(&mut self, line: usize) {
        self.cursor = line.min(self.line_count().saturating_sub(1));
        self.follow_cursor();
    }

    pub fn up(&mut self) {
        self.move_to(self.cursor.saturating_sub(1));
    }

    pub fn down(&mut self) {
        self.move_to(self.cursor + 1);
    }

    pub fn page_up(&mut self, n: usize) {
        self.move_to(self.cursor.saturating_sub(n));
    }

    pub fn page_down(&mut self, n: usize) {
        self.move_to(self.cursor.saturating_add(n));
    }

    pub fn home(&mut self) {
        self.move_to(0);
    }

    pub fn end(&mut self) {
        self.move_to(usize::MAX);
    }

    /// Folds or unfolds the container under the cursor (either of its
    /// bracket lines); the cursor lands on its first line.
    pub fn toggle(&mut self) {
        let Some(row) = self.json_row() else { return };
        let Body::Json(tree) = &mut self.body else {
            return;
        };
        if tree.foldable(row.node) {
            let folded = !tree.folded[row.node];
            tree.folded[row.node] = folded;
            self.relayout(row.node);
        }
    }

    /// Folds every container below the root, which stays open so its
    /// members show.
    pub fn fold_all(&mut self) {
        let Some(row) = self.json_row() else { return };
        let Body::Json(tree) = &mut self.body else {
            return;
        };
        for (index, folded) in tree.folded.iter_mut().enumerate() {
            *folded = index != 0;
        }
        self.relayout_row(row);
    }

    pub fn unfold_all(&mut self) {
        let Some(row) = self.json_row() else { return };
        let Body::Json(tree) = &mut self.body else {
            return;
        };
        tree.folded.fill(false);
        self.relayout_row(row);
    }

    /// Left: folds the open container under the cursor, else moves to the
    /// parent container's first line.
    pub fn collapse_or_parent(&mut self) {
        let Some(row) = self.json_row() else { return };
        let Body::Json(tree) = &mut self.body else {
            return;
        };
        if tree.foldable(row.node) && !tree.folded[row.node] {
            tree.folded[row.node] = true;
            self.relayout(row.node);
        } else if tree.nodes[row.node].parent != NO_PARENT {
            let parent = tree.nodes[row.node].parent;
            self.relayout(parent);
        }
    }

    /// Right: unfolds the folded container under the cursor, or steps into
    /// an open one.
    pub fn expand(&mut self) {
        let Some(row) = self.json_row() else { return };
        let Body::Json(tree) = &mut self.body else {
            return;
        };
        if !tree.foldable(row.node) || row.close {
            return;
        }
        if tree.folded[row.node] {
            tree.folded[row.node] = false;
            self.relayout(row.node);
        } else {
            self.down();
        }
    }

    fn json_row(&self) -> Option<Row> {
        match &self.body {
            Body::Json(tree) => tree.rows.get(self.cursor).copied(),
            _ => None,
        }
    }

    /// Rebuilds rows after folding changed; the cursor goes to `node`'s
    /// first line, or its nearest shown ancestor's.
    fn relayout(&mut self, node: usize) {
        self.relayout_row(Row { node, close: false });
    }

    fn relayout_row(&mut self, want: Row) {
        let Body::Json(tree) = &mut self.body else {
            return;
        };
        tree.layout();
        let exact = tree.rows.iter().position(|r| *r == want);
        let mut node = want.node;
        let line = exact.unwrap_or_else(|| {
            loop {
                let open = Row { node, close: false };
                if let Some(i) = tree.rows.iter().position(|r| *r == open) {
                    break i;
                }
                match tree.nodes[node].parent {
                    NO_PARENT => break 0,
                    parent => node = parent,
                }
            }
        });
        self.move_to(line);
    }

    /// Where the cursor is: a jq-style path (`.items[3].name`, `.` for the
    /// root) for JSON, `line N` for text, `offset 0x…` for binary. May
    /// hold untrusted key text: sanitize before display.
    pub fn cursor_path(&self) -> String {
        match &self.body {
            Body::Json(tree) => match tree.rows.get(self.cursor) {
                Some(row) => tree.path(row.node),
                None => ".".to_owned(),
            },
            Body::Text(_) => format!("line {}", self.cursor + 1),
            Body::Binary => format!(
                "offset 0x{:08x}",
                self.cursor * format::hex::BYTES_PER_LINE
            ),
        }
    }

    /// The value under the cursor for the clipboard (never the terminal:
    /// it is raw content). JSON: the node as compact JSON, strings exactly
    /// as sent. Text: the whole message. Binary: the cursor's hex line.
    pub fn selected_value_text(&self) -> String {
        match &self.body {
            Body::Json(tree) => match tree.rows.get(self.cursor) {
                Some(row) => {
                    let node = &tree.nodes[row.node];
                    json::compact(&tree.text[node.start..node.end])
                }
                None => String::new(),
            },
            Body::Text(_) => String::from_utf8_lossy(&self.raw).into_owned(),
            Body::Binary => {
                line_text(&self.line(self.cursor, &Theme::default()))
            }
        }
    }

    /// The gutter mark of line `index`.
    pub fn fold_mark(&self, index: usize) -> Fold {
        match &self.body {
            Body::Json(tree) => match tree.rows.get(index) {
                Some(row) if !row.close && tree.foldable(row.node) => {
                    if tree.folded[row.node] {
                        Fold::Folded
                    } else {
                        Fold::Open
                    }
                }
                _ => Fold::None,
            },
            _ => Fold::None,
        }
    }

    /// Line `index` as styled, sanitized text (without gutter), formatted on
    /// demand so a frame costs only its visible lines.
    pub fn line(&self, index: usize, theme: &Theme) -> Line<'static> {
        match &self.body {
            Body::Json(tree) => match tree.rows.get(index) {
                Some(&row) => tree.render(row, theme),
                None => Line::default(),
            },
            Body::Text(lines) => match lines.get(index) {
                Some(text) if self.warning.is_some() => {
                    Line::styled(text.clone(), theme.warning)
                }
                Some(text) => Line::raw(text.clone()),
                None => Line::default(),
            },
            Body::Binary => format::hex_line(&self.raw, index, 0, theme),
        }
    }
}

fn line_text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

#[cfg(test)]
mod tests;
