//! Dialogs: small forms and confirmations over the panes. Each keeps the
//! text typed into it and the server's answer when a request failed, so an
//! error never throws the input away.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::keymap::Form;

/// A one-line text field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineInput {
    pub value: String,
    /// Cursor position in chars.
    pub cursor: usize,
}

impl LineInput {
    pub fn new(value: &str) -> Self {
        LineInput {
            value: value.to_owned(),
            cursor: value.chars().count(),
        }
    }

    fn byte_at(&self, char_pos: usize) -> usize {
        self.value
            .char_indices()
            .nth(char_pos)
            .map_or(self.value.len(), |(i, _)| i)
    }

    /// Applies an editing key; returns whether it was one.
    pub fn handle(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.value.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => {
                self.cursor = self.value.chars().count();
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                let at = self.byte_at(self.cursor);
                self.value.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
            }
            KeyCode::Delete if self.cursor < self.value.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.value.chars().count());
            }
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.value.chars().count(),
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }

    /// Inserts pasted text (newlines become spaces: one line).
    pub fn paste(&mut self, text: &str) {
        for c in text.chars() {
            let c = if c.is_control() { ' ' } else { c };
            let at = self.byte_at(self.cursor);
            self.value.insert(at, c);
            self.cursor += 1;
        }
    }
}

/// The create-stream form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateForm {
    pub path: LineInput,
    pub content_type: LineInput,
    /// Seconds; empty for none.
    pub ttl: LineInput,
    /// RFC 3339; empty for none.
    pub expires_at: LineInput,
    pub closed: bool,
    /// Which field has the keyboard (0..=4; 4 is the closed toggle).
    pub field: usize,
}

impl Default for CreateForm {
    fn default() -> Self {
        CreateForm {
            path: LineInput::default(),
            content_type: LineInput::new("application/json"),
            ttl: LineInput::default(),
            expires_at: LineInput::default(),
            closed: false,
            field: 0,
        }
    }
}

impl CreateForm {
    pub const FIELDS: usize = 5;

    pub fn input_mut(&mut self) -> Option<&mut LineInput> {
        match self.field {
            0 => Some(&mut self.path),
            1 => Some(&mut self.content_type),
            2 => Some(&mut self.ttl),
            3 => Some(&mut self.expires_at),
            _ => None,
        }
    }
}

/// What a yes/no question is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Append the composer's text and close the stream.
    AppendAndClose,
    /// Close the stream without data.
    Close,
}

/// A dialog on top of the panes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogKind {
    /// Open a stream by path (relative to the base URL) or URL.
    Open(LineInput),
    /// Restart the tail from `-1`, `now` or a typed offset.
    Jump(LineInput),
    /// Name a bookmark for the message `skip` messages (JSON) or bytes
    /// after `offset`.
    BookmarkName {
        offset: String,
        skip: u64,
        input: LineInput,
    },
    /// The open stream's bookmarks; `renaming` edits the selected name.
    Bookmarks {
        selected: usize,
        renaming: Option<LineInput>,
    },
    Create(CreateForm),
    /// Delete `path` once its name is typed.
    Delete {
        path: String,
        input: LineInput,
    },
    Confirm(Confirm),
    /// Reopened stream: resume where it was left (`skip` messages or
    /// bytes after `offset`)?
    Resume {
        offset: String,
        skip: u64,
        saved_at: String,
    },
    /// Export a range of the open stream to a file (`state/export.rs`).
    Export(Box<super::export::ExportForm>),
    /// Stream-Seq and producer settings of the composer.
    AppendSettings {
        seq: LineInput,
        producer: LineInput,
        epoch: LineInput,
        /// The next `Producer-Seq` (set it to resend or to test a gap).
        producer_seq: LineInput,
        field: usize,
    },
}

impl DialogKind {
    /// The keymap scope of the dialog (renaming has its own).
    pub fn form(&self) -> Form {
        match self {
            DialogKind::Open(_) => Form::Open,
            DialogKind::Jump(_) => Form::Jump,
            DialogKind::BookmarkName { .. } => Form::BookmarkName,
            DialogKind::Bookmarks {
                renaming: Some(_), ..
            } => Form::Rename,
            DialogKind::Bookmarks { .. } => Form::Bookmarks,
            DialogKind::Create(_) => Form::Create,
            DialogKind::Delete { .. } => Form::Delete,
            DialogKind::Confirm(_) => Form::Confirm,
            DialogKind::Resume { .. } => Form::Resume,
            DialogKind::AppendSettings { .. } => Form::AppendSettings,
            DialogKind::Export(_) => Form::Export,
        }
    }
}

/// A dialog and its last error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    pub kind: DialogKind,
    /// The server's answer or a validation problem, shown in the dialog.
    pub error: Option<String>,
    /// A request for this dialog is in flight.
    pub busy: bool,
}

impl Dialog {
    pub fn new(kind: DialogKind) -> Self {
        Dialog {
            kind,
            error: None,
            busy: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn line_input_edits_at_the_cursor_with_multibyte_text() {
        let mut l = LineInput::new("héllo");
        l.handle(key(KeyCode::Left));
        l.handle(key(KeyCode::Backspace));
        l.handle(key(KeyCode::Char('L')));
        assert_eq!(l.value, "hélLo");
        l.handle(key(KeyCode::Home));
        l.handle(key(KeyCode::Delete));
        assert_eq!(l.value, "élLo");
        l.paste("a\nb");
        assert_eq!(l.value, "a bélLo");
        assert!(!l.handle(key(KeyCode::Enter)));
        l.handle(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(l.value, "élLo");
    }
}
