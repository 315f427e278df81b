//! The detail overlay's state: one message, a cursor, and (for JSON) a tree
//! of foldable containers. Drawing lives in `view::detail`.

use std::fmt::Write as _;

use bytes::Bytes;
use ratatui::text::{Line, Span};

use crate::tui::format::json::{self, Event, Parser};
use crate::tui::format::{self, ContentKind, Theme};
use crate::tui::sanitize;

/// Sentinel parent of the root node.
const NO_PARENT: usize = usize::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeKind {
    Object,
    Array,
    Scalar,
}

/// How a node is reached from its parent.
#[derive(Clone, Copy, Debug)]
enum Label {
    Root,
    /// Byte range of the key's contents (between its quotes) in the text.
    Key(usize, usize),
    Index(usize),
}

/// One JSON value; nodes are stored in document order, so a node's subtree
/// is `index..=last`.
#[derive(Clone, Debug)]
struct Node {
    kind: NodeKind,
    label: Label,
    depth: usize,
    parent: usize,
    /// Byte range of the whole value in the text.
    start: usize,
    end: usize,
    last: usize,
    children: usize,
}

/// A displayed row: a node's first line, or a container's closing bracket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    node: usize,
    close: bool,
}

#[derive(Debug)]
struct JsonTree {
    text: String,
    nodes: Vec<Node>,
    folded: Vec<bool>,
    rows: Vec<Row>,
}

#[derive(Debug)]
enum Body {
    Json(JsonTree),
    /// Escaped display lines, and the raw lines for the clipboard.
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
        }
    }

    /// Why the content is shown other than as asked, if it is.
    pub fn warning(&self) -> Option<&'static str> {
        self.warning
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

impl JsonTree {
    fn parse(raw: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(raw).ok()?.to_owned();
        let mut nodes: Vec<Node> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        let mut key = None;
        let mut parser = Parser::new(&text);
        while let Some(item) = parser.next_item().ok()? {
            let kind = match item.event {
                Event::Key(_) => {
                    key = Some((item.start + 1, item.end - 1));
                    continue;
                }
                Event::EndObject | Event::EndArray => {
                    let index = open.pop()?;
                    nodes[index].end = item.end;
                    nodes[index].last = nodes.len() - 1;
                    continue;
                }
                Event::StartObject => NodeKind::Object,
                Event::StartArray => NodeKind::Array,
                _ => NodeKind::Scalar,
            };
            let parent = open.last().copied().unwrap_or(NO_PARENT);
            let label = match (parent, key.take()) {
                (NO_PARENT, _) => Label::Root,
                (_, Some((from, to))) => Label::Key(from, to),
                (p, None) => Label::Index(nodes[p].children),
            };
            if parent != NO_PARENT {
                nodes[parent].children += 1;
            }
            let index = nodes.len();
            nodes.push(Node {
                kind,
                label,
                depth: open.len(),
                parent,
                start: item.start,
                end: item.end,
                last: index,
                children: 0,
            });
            if kind != NodeKind::Scalar {
                open.push(index);
            }
        }
        let mut tree = Self {
            text,
            folded: vec![false; nodes.len()],
            nodes,
            rows: Vec::new(),
        };
        tree.layout();
        Some(tree)
    }

    fn foldable(&self, node: usize) -> bool {
        self.nodes[node].kind != NodeKind::Scalar
            && self.nodes[node].children > 0
    }

    /// Recomputes the shown rows from the fold flags.
    fn layout(&mut self) {
        self.rows.clear();
        let mut open: Vec<usize> = Vec::new();
        let mut index = 0;
        while index < self.nodes.len() {
            while let Some(&top) = open.last() {
                if self.nodes[top].last >= index {
                    break;
                }
                self.rows.push(Row {
                    node: top,
                    close: true,
                });
                open.pop();
            }
            self.rows.push(Row {
                node: index,
                close: false,
            });
            if self.foldable(index) {
                if self.folded[index] {
                    index = self.nodes[index].last + 1;
                    continue;
                }
                open.push(index);
            }
            index += 1;
        }
        while let Some(top) = open.pop() {
            self.rows.push(Row {
                node: top,
                close: true,
            });
        }
    }

    fn has_next_sibling(&self, node: usize) -> bool {
        let next = self.nodes[node].last + 1;
        next < self.nodes.len()
            && self.nodes[next].parent == self.nodes[node].parent
    }

    fn path(&self, node: usize) -> String {
        let mut chain = Vec::new();
        let mut at = node;
        while at != NO_PARENT {
            chain.push(at);
            at = self.nodes[at].parent;
        }
        let mut out = String::new();
        for &at in chain.iter().rev() {
            match self.nodes[at].label {
                Label::Root => {}
                Label::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
                Label::Key(from, to) => {
                    let key = json::decode_string(&self.text[from..to]);
                    let plain = key.starts_with(|c: char| {
                        c.is_ascii_alphabetic() || c == '_'
                    }) && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if plain {
                        out.push('.');
                        out.push_str(&key);
                    } else {
                        // serde_json quoting makes a valid jq path.
                        let quoted = serde_json::to_string(key.as_ref())
                            .unwrap_or_default();
                        let _ = write!(out, "[{quoted}]");
                    }
                }
            }
        }
        if out.is_empty() { ".".to_owned() } else { out }
    }

    fn render(&self, row: Row, theme: &Theme) -> Line<'static> {
        let node = &self.nodes[row.node];
        let mut spans = vec![format::indent(node.depth)];
        let comma = self.has_next_sibling(row.node);
        let (open, close) = match node.kind {
            NodeKind::Object => ("{", "}"),
            NodeKind::Array => ("[", "]"),
            NodeKind::Scalar => ("", ""),
        };
        if row.close {
            spans.push(Span::styled(close, theme.punct));
        } else {
            if let Label::Key(from, to) = node.label {
                spans
                    .push(format::string_span(&self.text[from..to], theme.key));
                spans.push(Span::styled(": ", theme.punct));
            }
            let value = &self.text[node.start..node.end];
            match node.kind {
                NodeKind::Scalar => {
                    let event = Parser::new(value)
                        .next_item()
                        .ok()
                        .flatten()
                        .map_or(Event::Null, |item| item.event);
                    spans.extend(format::scalar_span(event, theme));
                }
                _ if node.children == 0 => {
                    spans.push(Span::styled(
                        if node.kind == NodeKind::Object {
                            "{}"
                        } else {
                            "[]"
                        },
                        theme.punct,
                    ));
                }
                _ if self.folded[row.node] => {
                    let noun = match (node.kind, node.children) {
                        (NodeKind::Object, 1) => "key",
                        (NodeKind::Object, _) => "keys",
                        (_, 1) => "item",
                        _ => "items",
                    };
                    spans.push(Span::styled(open, theme.punct));
                    spans.push(Span::styled(
                        format!(" … {} {noun} ", node.children),
                        theme.dim,
                    ));
                    spans.push(Span::styled(close, theme.punct));
                }
                _ => {
                    spans.push(Span::styled(open, theme.punct));
                    return Line::from(spans);
                }
            }
        }
        if comma {
            spans.push(Span::styled(",", theme.punct));
        }
        Line::from(spans)
    }
}

#[cfg(test)]
mod tests;
