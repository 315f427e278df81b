//! The panes that can have focus: what the keymap's scopes, the layout and
//! the state all name.

/// A pane that can have focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    Streams,
    Tail,
    Meta,
    Composer,
}

impl Pane {
    pub const ALL: [Pane; 4] =
        [Pane::Streams, Pane::Tail, Pane::Meta, Pane::Composer];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Streams => "Streams",
            Pane::Tail => "Tail",
            Pane::Meta => "Metadata",
            Pane::Composer => "Append",
        }
    }
}
