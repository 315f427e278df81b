//! The JSON document behind the detail view as a flat tree of values,
//! and the rows it shows at the current folding.

use std::fmt::Write as _;

use ratatui::text::{Line, Span};

use crate::tui::format::json::{self, Event, Parser};
use crate::tui::format::{self, Theme};

/// Sentinel parent of the root node.
pub(super) const NO_PARENT: usize = usize::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NodeKind {
    Object,
    Array,
    Scalar,
}

/// How a node is reached from its parent.
#[derive(Clone, Copy, Debug)]
pub(super) enum Label {
    Root,
    /// Byte range of the key's contents (between its quotes) in the text.
    Key(usize, usize),
    Index(usize),
}

/// One JSON value; nodes are stored in document order, so a node's subtree
/// is `index..=last`.
#[derive(Clone, Debug)]
pub(super) struct Node {
    pub(super) kind: NodeKind,
    pub(super) label: Label,
    pub(super) depth: usize,
    pub(super) parent: usize,
    /// Byte range of the whole value in the text.
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) last: usize,
    pub(super) children: usize,
}

/// A displayed row: a node's first line, or a container's closing bracket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) node: usize,
    pub(super) close: bool,
}

#[derive(Debug)]
pub(super) struct JsonTree {
    pub(super) text: String,
    pub(super) nodes: Vec<Node>,
    pub(super) folded: Vec<bool>,
    pub(super) rows: Vec<Row>,
}

impl JsonTree {
    pub(super) fn parse(raw: &[u8]) -> Option<Self> {
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

    pub(super) fn foldable(&self, node: usize) -> bool {
        self.nodes[node].kind != NodeKind::Scalar
            && self.nodes[node].children > 0
    }

    /// Recomputes the shown rows from the fold flags.
    pub(super) fn layout(&mut self) {
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

    pub(super) fn has_next_sibling(&self, node: usize) -> bool {
        let next = self.nodes[node].last + 1;
        next < self.nodes.len()
            && self.nodes[next].parent == self.nodes[node].parent
    }

    pub(super) fn path(&self, node: usize) -> String {
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

    pub(super) fn render(&self, row: Row, theme: &Theme) -> Line<'static> {
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
