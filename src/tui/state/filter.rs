//! The tail's live filter: a jq filter on a JSON stream, a line filter
//! (substring or regex) on a text stream. The raw messages stay in the
//! tail; what is shown is derived from them here, as the item ids of the
//! shown messages (in order) and, for a jq projection, the text shown
//! instead. Clearing the filter shows the tail again without a re-read.
//!
//! The filter is evaluated in steps of at most [`STEP`] messages (each
//! batch as it arrives, and a whole buffer in steps between frames), so a
//! filter set on a million buffered messages never holds a frame.

use std::collections::VecDeque;
use std::sync::Arc;

use ratatui::text::Line as Row;

use crate::jq;
use crate::tui::format::{self, ContentKind, Theme, wrap};
use crate::tui::state::dialog::LineInput;
use crate::tui::state::tail::scroll::{Shape, message_rows};
use crate::tui::state::tail::{Item, Mark, Tail};

/// Messages evaluated per step at most.
pub const STEP: usize = 4096;

/// Filters kept in the history (the oldest go first).
pub const HISTORY: usize = 100;

/// What a filter runs.
#[derive(Clone, Debug)]
pub enum Program {
    Jq(Arc<jq::Filter>),
    Substring(String),
    Regex(regex::Regex),
}

/// The line filter's kind (text streams); `Ctrl-R` toggles it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LineKind {
    #[default]
    Substring,
    Regex,
}

impl Program {
    /// Compiles what was typed for a stream of `kind`; the error says
    /// where it fails (`column`: 1-based character) when it can.
    pub fn compile(
        source: &str,
        kind: ContentKind,
        line: LineKind,
    ) -> Result<Program, CompileError> {
        match (kind, line) {
            (ContentKind::Json, _) => jq::Filter::compile(source)
                .map(|f| Program::Jq(Arc::new(f)))
                .map_err(|e| CompileError {
                    column: e.column(),
                    text: e.to_string(),
                }),
            (_, LineKind::Substring) => Ok(Program::Substring(source.into())),
            (_, LineKind::Regex) => regex::Regex::new(source)
                .map(Program::Regex)
                .map_err(|e| CompileError {
                    column: None,
                    text: format!("invalid regex: {e}"),
                }),
        }
    }

    /// What the filter makes of one message.
    fn eval(&self, message: &[u8]) -> Result<jq::Outcome, String> {
        let line = || {
            let text = String::from_utf8_lossy(message);
            text.trim_end_matches(['\n', '\r']).to_owned()
        };
        let shown = match self {
            Program::Jq(f) => {
                return f.eval(message).map_err(|e| e.to_string());
            }
            Program::Substring(s) => line().contains(s.as_str()),
            Program::Regex(r) => r.is_match(&line()),
        };
        Ok(if shown {
            jq::Outcome::Raw
        } else {
            jq::Outcome::Hidden
        })
    }
}

/// A filter that does not compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub text: String,
    pub column: Option<usize>,
}

/// One shown message: its item id in the tail and, for a projection, what
/// is shown instead of it (the filter's outputs, one per line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub item: u64,
    pub text: Option<Box<str>>,
}

/// An applied filter and what it shows of the tail.
#[derive(Clone, Debug)]
pub struct Active {
    /// The filter as typed.
    pub source: String,
    pub line: LineKind,
    program: Program,
    /// Shown messages, oldest first (ascending item ids).
    pub shown: VecDeque<Shown>,
    /// The next item id to evaluate.
    pub scan: u64,
    /// Messages the filter failed on (run-time errors), and the first
    /// error.
    pub errors: u64,
    pub first_error: Option<String>,
    /// The selected shown message (its item id); `None` follows the
    /// newest.
    pub selected: Option<u64>,
    /// The first shown message on screen while not following.
    pub top: u64,
    /// Shown messages counted when following was paused.
    pub paused_at: u64,
    /// Shown messages counted since the filter was set.
    pub total_shown: u64,
    /// A step is queued (one at a time).
    pub step_pending: bool,
}

impl Active {
    pub fn new(source: &str, line: LineKind, program: Program) -> Active {
        Active {
            source: source.to_owned(),
            line,
            program,
            shown: VecDeque::new(),
            scan: 0,
            errors: 0,
            first_error: None,
            selected: None,
            top: 0,
            paused_at: 0,
            total_shown: 0,
            step_pending: false,
        }
    }

    /// Starts over on the same filter (the tail was replaced).
    pub fn restart(&mut self) {
        let fresh = Active::new(&self.source, self.line, self.program.clone());
        *self = fresh;
    }

    /// Evaluates up to `budget` messages not evaluated yet; returns
    /// whether everything buffered has been.
    pub fn advance(&mut self, tail: &Tail, budget: usize) -> bool {
        self.prune(tail);
        let Some(last) = tail.last_item() else {
            return true;
        };
        self.scan = self.scan.max(tail.first_item());
        let mut done = 0;
        while self.scan <= last && done < budget {
            let id = self.scan;
            self.scan += 1;
            let Some(Item::Message { batch, message }) = tail.locate(id) else {
                continue;
            };
            done += 1;
            match self.program.eval(tail.batches[batch].message(message)) {
                Ok(jq::Outcome::Hidden) => {}
                Ok(jq::Outcome::Raw) => self.push(id, None),
                Ok(jq::Outcome::Projected(texts)) => {
                    self.push(id, Some(texts.join("\n").into()));
                }
                Err(e) => {
                    self.errors += 1;
                    self.first_error.get_or_insert(e);
                }
            }
        }
        self.scan > last
    }

    fn push(&mut self, item: u64, text: Option<Box<str>>) {
        self.shown.push_back(Shown { item, text });
        self.total_shown += 1;
    }

    /// Forgets shown messages the tail evicted.
    pub fn prune(&mut self, tail: &Tail) {
        let first = tail.first_item();
        while self.shown.front().is_some_and(|s| s.item < first) {
            self.shown.pop_front();
        }
        if let Some(sel) = self.selected
            && sel < first
        {
            self.selected = self.shown.front().map(|s| s.item);
        }
        self.top = self.top.max(first);
    }

    /// Messages buffered but not evaluated yet (about: headers between
    /// them count too).
    pub fn left(&self, tail: &Tail) -> u64 {
        tail.last_item()
            .map_or(0, |last| (last + 1).saturating_sub(self.scan))
    }

    /// Index in `shown` of item `id`, or where it would go.
    fn index_of(&self, id: u64) -> Result<usize, usize> {
        self.shown.binary_search_by_key(&id, |s| s.item)
    }

    /// The shown message under the cursor: the selected one, or the
    /// newest while following.
    pub fn current(&self) -> Option<u64> {
        match self.selected {
            Some(id) => Some(id),
            None => self.shown.back().map(|s| s.item),
        }
    }

    /// Shown messages that arrived since following was paused.
    pub fn new_below(&self) -> u64 {
        if self.selected.is_none() {
            0
        } else {
            self.total_shown.saturating_sub(self.paused_at)
        }
    }

    /// Moves the cursor by `delta` shown messages (pausing follow).
    pub fn move_by(&mut self, delta: i64) {
        let Some(cur) = self.current() else {
            return;
        };
        if self.selected.is_none() {
            self.paused_at = self.total_shown;
        }
        let i = self.index_of(cur).unwrap_or_else(|i| i);
        let last = self.shown.len().saturating_sub(1);
        let step = usize::try_from(delta.unsigned_abs()).unwrap_or(usize::MAX);
        let next = if delta < 0 {
            i.saturating_sub(step)
        } else {
            i.saturating_add(step).min(last)
        };
        self.selected = self.shown.get(next).map(|s| s.item);
    }

    /// The oldest shown message.
    pub fn to_top(&mut self) {
        if let Some(first) = self.shown.front() {
            if self.selected.is_none() {
                self.paused_at = self.total_shown;
            }
            self.selected = Some(first.item);
            self.top = first.item;
        }
    }

    /// Back to following the newest shown message.
    pub fn follow(&mut self) {
        self.selected = None;
    }

    /// Pauses where the cursor is, or follows again.
    pub fn toggle_pause(&mut self) {
        if self.selected.is_some() {
            self.follow();
        } else {
            self.move_by(0);
        }
    }

    /// Keeps the selected message on screen: `rows_of` is the number of
    /// rows a shown message takes, `height` the body's.
    pub fn reveal(&mut self, height: usize, rows_of: impl Fn(&Shown) -> usize) {
        let Some(sel) = self.selected else {
            return;
        };
        if sel < self.top {
            self.top = sel;
            return;
        }
        let (Ok(sel_i) | Err(sel_i)) = self.index_of(sel);
        let (Ok(top_i) | Err(top_i)) = self.index_of(self.top);
        let mut rows = 0;
        for s in self.shown.range(top_i..=sel_i.min(self.shown.len() - 1)) {
            rows += rows_of(s);
        }
        if rows <= height {
            return;
        }
        // The selected message's end at the bottom.
        let mut rows = 0;
        let mut top = sel_i;
        for i in (0..=sel_i).rev() {
            rows += rows_of(&self.shown[i]);
            if rows > height && i < sel_i {
                break;
            }
            top = i;
        }
        self.top = self.shown[top].item;
    }

    /// The shown messages in order with their item ids and marks (where
    /// each is in the stream; see [`crate::tui::state::tail::Batch::mark`]):
    /// what an export of the filtered view or a search of what is shown
    /// walks.
    pub fn iter_shown<'a>(
        &'a self,
        tail: &'a Tail,
    ) -> impl Iterator<Item = ShownMessage<'a>> + 'a {
        self.shown.iter().filter_map(move |s| {
            let Some(Item::Message { batch, message }) = tail.locate(s.item)
            else {
                return None;
            };
            let b = &tail.batches[batch];
            Some(ShownMessage {
                item: s.item,
                raw: b.message(message),
                text: s.text.as_deref(),
                mark: b.mark(message, tail.kind),
            })
        })
    }
}

/// The rows a shown message takes: the message as the tail shows it, or
/// the projection's outputs (JSON, one per line), wrapped as the shape
/// says. The view draws these; heights are counted from them.
pub fn shown_rows(
    tail: &Tail,
    shown: &Shown,
    shape: Shape,
    theme: &Theme,
) -> Vec<Row<'static>> {
    let Some(Item::Message { batch, message }) = tail.locate(shown.item) else {
        return Vec::new();
    };
    let Some(text) = &shown.text else {
        return message_rows(tail, batch, message, shape, theme);
    };
    let lines: Vec<Row<'static>> = text
        .split('\n')
        .flat_map(|out| format::json_lines(out.as_bytes(), shape.style, theme))
        .collect();
    match shape.wrap {
        Some(width) => lines
            .into_iter()
            .flat_map(|line| wrap::wrap(line, width))
            .collect(),
        None => lines,
    }
}

/// A shown message, as [`Active::iter_shown`] hands it out.
#[derive(Clone, Debug)]
pub struct ShownMessage<'a> {
    pub item: u64,
    /// The message as the tail holds it (untrusted bytes).
    pub raw: &'a [u8],
    /// What is shown instead, for a projection.
    pub text: Option<&'a str>,
    /// Where it is in the stream (`None` for a read from `now`).
    pub mark: Option<Mark>,
}

/// The filter line while it is open.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub input: LineInput,
    pub kind: LineKind,
    /// Why the last Enter did not apply it.
    pub error: Option<CompileError>,
    /// The history entry shown (↑/↓), counted from the newest.
    pub recall: Option<usize>,
}

/// The tail's filter: the one applied, the line being typed, the history.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub active: Option<Active>,
    pub line: Option<Line>,
    /// Filters applied, oldest first, each once (the newest use counts).
    pub history: Vec<String>,
}

impl Filter {
    /// Keeps `source` as the newest history entry; returns whether the
    /// history changed.
    pub fn remember(&mut self, source: &str) -> bool {
        if source.is_empty() || self.history.last().is_some_and(|h| h == source)
        {
            return false;
        }
        self.history.retain(|h| h != source);
        self.history.push(source.to_owned());
        let over = self.history.len().saturating_sub(HISTORY);
        self.history.drain(..over);
        true
    }

    /// The filter line shows an older (`up`) or newer history entry.
    pub fn recall(&mut self, up: bool) {
        let n = self.history.len();
        let Some(line) = &mut self.line else {
            return;
        };
        let next = match (line.recall, up) {
            (None, true) if n > 0 => Some(0),
            (None, _) => return,
            (Some(i), true) => Some((i + 1).min(n.saturating_sub(1))),
            (Some(0), false) => None,
            (Some(i), false) => Some(i - 1),
        };
        line.recall = next;
        line.error = None;
        line.input = match next {
            Some(i) => LineInput::new(&self.history[n - 1 - i]),
            None => LineInput::default(),
        };
    }
}
