//! The export dialog's state: which range (from the open stream's
//! bookmarks), which format, the file name, and the export running or done
//! (its counts, as the executor's task reports them).

use std::time::Instant;

use super::dialog::LineInput;
use crate::bookmarks::Bookmark;
use crate::client::Offset;
use crate::export::{Counts, End, Format, Range, Spot};

/// One range the dialog offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What the dialog shows (bookmark names are escaped when drawn).
    pub label: String,
    pub range: Range,
}

/// The ranges to offer: the whole stream, each bookmark to now, and each
/// pair of bookmarks (in the list's order, the earlier one first).
///
/// The filtered view is not offered yet: it needs the tail's filter (issue
/// 12's live filters); it will be one more `Choice` here.
pub fn choices(bookmarks: &[Bookmark]) -> Vec<Choice> {
    let spot = |b: &Bookmark| Spot {
        offset: Offset::new(b.offset.clone()),
        units: b.position,
    };
    let mut out = vec![Choice {
        label: "the whole stream".into(),
        range: Range::whole(),
    }];
    for b in bookmarks {
        out.push(Choice {
            label: format!("{} → now", b.name),
            range: Range {
                from: spot(b),
                end: End::Now,
            },
        });
    }
    for (i, a) in bookmarks.iter().enumerate() {
        for b in &bookmarks[i + 1..] {
            out.push(Choice {
                label: format!("{} → {}", a.name, b.name),
                range: Range {
                    from: spot(a),
                    end: End::At(Spot::after_bookmark(
                        Offset::new(b.offset.clone()),
                        b.position,
                    )),
                },
            });
        }
    }
    out
}

/// The export dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportForm {
    pub choices: Vec<Choice>,
    pub selected: usize,
    pub format: Format,
    /// The open stream is JSON (NDJSON is offered only then).
    pub json: bool,
    pub file: LineInput,
    /// The file exists: the next Enter replaces it.
    pub replace: bool,
    /// The export started (or ran).
    pub run: Option<ExportRun>,
}

impl ExportForm {
    /// The dialog for a stream named `name` (its last path segment makes
    /// the file name).
    pub fn new(bookmarks: &[Bookmark], json: bool, name: &str) -> Self {
        let format = if json { Format::Ndjson } else { Format::Raw };
        let base: String = name
            .rsplit('/')
            .next()
            .unwrap_or("stream")
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let base = if base.is_empty() {
            "stream".into()
        } else {
            base
        };
        ExportForm {
            choices: choices(bookmarks),
            selected: 0,
            format,
            json,
            file: LineInput::new(&format!("{base}.{}", format.extension(json))),
            replace: false,
            run: None,
        }
    }

    pub fn range(&self) -> &Range {
        &self.choices[self.selected.min(self.choices.len() - 1)].range
    }

    /// Moves the range choice by `by` (wrapping).
    pub fn step(&mut self, by: isize) {
        let n = self.choices.len().cast_signed();
        self.selected = (self.selected.cast_signed() + by)
            .rem_euclid(n)
            .cast_unsigned();
        self.replace = false;
    }

    /// NDJSON / raw (JSON streams); the file's extension follows.
    pub fn toggle_format(&mut self) {
        if !self.json {
            return;
        }
        let old = self.format.extension(true);
        self.format = match self.format {
            Format::Ndjson => Format::Raw,
            Format::Raw => Format::Ndjson,
        };
        let new = self.format.extension(true);
        if let Some(stem) = self.file.value.strip_suffix(&format!(".{old}")) {
            self.file = LineInput::new(&format!("{stem}.{new}"));
        }
        self.replace = false;
    }

    /// Whether an export is running.
    pub fn running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.outcome.is_none())
    }
}

/// An export running or finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRun {
    pub id: u64,
    pub file: String,
    pub counts: Counts,
    pub started: Instant,
    /// When the last counts came.
    pub at: Instant,
    /// `Ok(what was written)` or `Err(why it stopped)`.
    pub outcome: Option<Result<String, String>>,
}

impl ExportRun {
    /// Bytes a second so far.
    pub fn rate(&self) -> f64 {
        let secs = self.at.duration_since(self.started).as_secs_f64();
        if secs <= 0.0 {
            0.0
        } else {
            #[allow(clippy::cast_precision_loss, reason = "a rate shown")]
            let bytes = self.counts.bytes as f64;
            bytes / secs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(name: &str, offset: &str, position: u64) -> Bookmark {
        Bookmark {
            name: name.into(),
            offset: offset.into(),
            position,
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn ranges_offered_are_whole_each_mark_to_now_and_each_pair() {
        let marks = [mark("a", "o1", 0), mark("b", "o2", 3)];
        let labels: Vec<String> =
            choices(&marks).into_iter().map(|c| c.label).collect();
        assert_eq!(labels, ["the whole stream", "a → now", "b → now", "a → b"]);
        let pair = &choices(&marks)[3].range;
        assert_eq!(pair.from, Spot::at(Offset::new("o1")));
        assert_eq!(
            pair.end,
            End::At(Spot {
                offset: Offset::new("o2"),
                units: 4
            })
        );
    }

    #[test]
    fn the_form_cycles_ranges_and_formats_with_the_file_name() {
        let marks = [mark("a", "o1", 0)];
        let mut form = ExportForm::new(&marks, true, "logs/app");
        assert_eq!(form.file.value, "app.ndjson");
        form.step(-1);
        assert_eq!(form.selected, 1);
        form.step(1);
        assert_eq!(form.selected, 0);
        form.toggle_format();
        assert_eq!(
            (form.format, form.file.value.as_str()),
            (Format::Raw, "app.json")
        );
        let mut text = ExportForm::new(&[], false, "t");
        text.toggle_format();
        assert_eq!(
            (text.format, text.file.value.as_str()),
            (Format::Raw, "t.bin")
        );
    }
}
