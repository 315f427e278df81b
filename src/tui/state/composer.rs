//! The append composer: the editor, how the text is sent, the history of
//! earlier appends and the result of the last one.

use ratatui_textarea::TextArea;

/// How one append is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendMode {
    /// A plain POST.
    Plain,
    /// A POST with `Stream-Seq: seq` (must increase; the server refuses a
    /// lower or equal one with 409).
    Seq { seq: String },
    /// With idempotent-producer headers: a repeat of a sequence number is
    /// acknowledged as a duplicate (204) and not stored again, a stale
    /// epoch is refused (403), a gap is a 409.
    Producer { id: String, epoch: u64, seq: u64 },
}

impl AppendMode {
    pub fn label(&self) -> String {
        match self {
            AppendMode::Plain => "plain append".into(),
            AppendMode::Seq { seq } => format!("Stream-Seq {seq}"),
            AppendMode::Producer { id, epoch, seq } => {
                format!("producer {id} · epoch {epoch} · seq {seq}")
            }
        }
    }
}

/// Which of the three ways the composer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendWay {
    Plain,
    Seq,
    Producer,
}

/// The outcome of the last send, shown under the editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sending(String),
    Done(String),
    Failed(String),
}

/// The composer pane.
#[derive(Debug)]
pub struct Composer {
    pub editor: TextArea<'static>,
    pub way: SendWay,
    /// The next `Stream-Seq`.
    pub seq: String,
    pub producer_id: String,
    pub epoch: u64,
    /// The next `Producer-Seq`.
    pub producer_seq: u64,
    /// The text being sent (goes to history when it lands).
    pub in_flight: Option<String>,
    /// Earlier appends, oldest first.
    pub history: Vec<String>,
    /// Position while recalling with Up/Down.
    pub recall: Option<usize>,
    pub outcome: Option<Outcome>,
    /// A send is in flight: another one waits for it.
    pub busy: bool,
    /// Text streams: end each append with a newline (unless the text
    /// already ends with one), so two appends stay two lines.
    pub newline: bool,
}

impl Default for Composer {
    fn default() -> Self {
        Composer::new()
    }
}

impl Composer {
    pub fn new() -> Self {
        let mut editor = TextArea::default();
        editor.set_placeholder_text("type a message; Ctrl-S appends it");
        Composer {
            editor,
            way: SendWay::Plain,
            seq: "1".into(),
            producer_id: "dsx".into(),
            epoch: 0,
            producer_seq: 0,
            in_flight: None,
            history: Vec::new(),
            recall: None,
            outcome: None,
            busy: false,
            newline: true,
        }
    }

    /// The text as one string.
    pub fn text(&self) -> String {
        self.editor.lines().join("\n")
    }

    pub fn is_empty(&self) -> bool {
        self.editor.lines().iter().all(String::is_empty)
    }

    /// Replaces the text (history recall, restore after a crash).
    pub fn set_text(&mut self, text: &str) {
        let lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let placeholder = self.editor.placeholder_text().to_owned();
        self.editor = TextArea::new(lines);
        self.editor.set_placeholder_text(placeholder);
        self.editor
            .move_cursor(ratatui_textarea::CursorMove::Bottom);
        self.editor.move_cursor(ratatui_textarea::CursorMove::End);
    }

    /// Remembers a sent text (no immediate duplicates) and clears.
    pub fn sent(&mut self, text: &str) {
        if self.history.last().is_none_or(|h| h != text) {
            self.history.push(text.to_owned());
        }
        self.recall = None;
        self.set_text("");
    }

    /// Up in an empty (or recalled) composer: the previous append.
    pub fn recall_prev(&mut self) -> bool {
        if self.history.is_empty() {
            return false;
        }
        let i = match self.recall {
            Some(0) => 0,
            Some(i) => i - 1,
            None => self.history.len() - 1,
        };
        self.recall = Some(i);
        let text = self.history[i].clone();
        self.set_text(&text);
        true
    }

    /// Down while recalling: the next append, then empty.
    pub fn recall_next(&mut self) -> bool {
        let Some(i) = self.recall else {
            return false;
        };
        if i + 1 < self.history.len() {
            self.recall = Some(i + 1);
            let text = self.history[i + 1].clone();
            self.set_text(&text);
        } else {
            self.recall = None;
            self.set_text("");
        }
        true
    }

    /// The body of an append of `text` to a stream of `kind`: text streams
    /// get a final newline while [`Composer::newline`] is on.
    pub fn body(
        &self,
        text: &str,
        kind: crate::tui::format::ContentKind,
    ) -> String {
        let text_stream = kind == crate::tui::format::ContentKind::Text;
        if text_stream && self.newline && !text.ends_with('\n') {
            format!("{text}\n")
        } else {
            text.to_owned()
        }
    }

    /// How the next append goes out.
    pub fn mode(&self) -> AppendMode {
        match self.way {
            SendWay::Plain => AppendMode::Plain,
            SendWay::Seq => AppendMode::Seq {
                seq: self.seq.clone(),
            },
            SendWay::Producer => AppendMode::Producer {
                id: self.producer_id.clone(),
                epoch: self.epoch,
                seq: self.producer_seq,
            },
        }
    }

    /// Plain -> Stream-Seq -> producer -> plain.
    pub fn cycle_way(&mut self) {
        self.way = match self.way {
            SendWay::Plain => SendWay::Seq,
            SendWay::Seq => SendWay::Producer,
            SendWay::Producer => SendWay::Plain,
        };
    }

    /// Moves the sequence numbers on after an append landed: Stream-Seq
    /// plus one if it is a number (keeping its width), the producer's
    /// sequence plus one.
    pub fn landed(&mut self, mode: &AppendMode) {
        match mode {
            AppendMode::Plain => {}
            AppendMode::Seq { seq } => {
                if let Ok(n) = seq.parse::<u64>() {
                    let width = seq.len();
                    self.seq = format!("{:0width$}", n + 1);
                }
            }
            AppendMode::Producer { seq, .. } => self.producer_seq = seq + 1,
        }
    }
}

/// Where JSON text is invalid, 1-based, as `serde_json` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonProblem {
    pub line: usize,
    pub column: usize,
    /// What is wrong, with the position said once (`expected value at
    /// line 2, column 8`).
    pub message: String,
}

/// Checks that `text` is exactly one JSON value.
pub fn validate_json(text: &str) -> Result<(), JsonProblem> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| JsonProblem {
            line: e.line(),
            column: e.column(),
            message: crate::client::describe_json_error(&e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_recalls_back_and_forth_and_skips_repeats() {
        let mut c = Composer::new();
        c.sent("one");
        c.sent("two");
        c.sent("two");
        assert_eq!(c.history, ["one", "two"]);
        assert!(c.recall_prev());
        assert_eq!(c.text(), "two");
        assert!(c.recall_prev());
        assert!(c.recall_prev());
        assert_eq!(c.text(), "one");
        assert!(c.recall_next());
        assert_eq!(c.text(), "two");
        assert!(c.recall_next());
        assert!(c.is_empty());
        assert!(!c.recall_next());
    }

    #[test]
    fn text_appends_end_with_a_newline_unless_switched_off() {
        use crate::tui::format::ContentKind;
        let mut c = Composer::new();
        assert_eq!(c.body("no newline", ContentKind::Text), "no newline\n");
        assert_eq!(c.body("has one\n", ContentKind::Text), "has one\n");
        assert_eq!(c.body("{}", ContentKind::Json), "{}");
        assert_eq!(c.body("ab", ContentKind::Binary), "ab");
        c.newline = false;
        assert_eq!(c.body("as typed", ContentKind::Text), "as typed");
    }

    #[test]
    fn multi_line_text_round_trips() {
        let mut c = Composer::new();
        c.set_text("{\n  \"a\": 1\n}");
        assert_eq!(c.editor.lines().len(), 3);
        assert_eq!(c.text(), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn json_problems_point_at_line_and_column() {
        assert!(validate_json("{\"a\": [1, 2]}").is_ok());
        let p = validate_json("{\n  \"a\": 1,\n  \"b\": }").unwrap_err();
        assert_eq!((p.line, p.column), (3, 8));
        // The position once, in the client's words.
        assert_eq!(p.message, "expected value at line 3, column 8");
        assert!(validate_json("1 2").is_err());
        assert!(validate_json("").is_err());
    }

    #[test]
    fn sequences_move_on_after_an_append_lands() {
        let mut c = Composer::new();
        c.cycle_way();
        c.seq = "0009".into();
        c.landed(&c.mode());
        assert_eq!(c.mode(), AppendMode::Seq { seq: "0010".into() });
        c.seq = "abc".into();
        c.landed(&c.mode());
        assert_eq!(c.seq, "abc");
        c.cycle_way();
        c.landed(&c.mode());
        assert_eq!(c.producer_seq, 1);
        c.cycle_way();
        assert_eq!(c.mode(), AppendMode::Plain);
    }
}
