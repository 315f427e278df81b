//! How the tail is shown, beside what it holds: wrapping, the horizontal
//! scroll, batch headers, and why the JSON layout is what it is.

use crate::tui::format::ContentKind;

/// Messages per second above which pretty JSON cannot be read as it
/// scrolls by: the layout turns compact by itself (until `p` is pressed).
pub const COMPACT_ABOVE: u64 = 50;

/// The tail's display settings; they survive opening another stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TailView {
    /// Wrap long lines (`w`); `None` until toggled: on for text and JSON,
    /// never for hex dumps (their rows have a fixed width).
    pub wrap: Option<bool>,
    /// Columns cut off the left of every message row while not wrapping.
    pub hscroll: usize,
    /// Show a header row before every batch (`b`).
    pub headers: bool,
    /// The user chose the JSON layout (`p`): it no longer changes by
    /// itself.
    pub style_pinned: bool,
    /// The live rate that made the layout compact, while it is so.
    pub auto_compact: Option<u64>,
}

impl Default for TailView {
    fn default() -> Self {
        TailView {
            wrap: None,
            hscroll: 0,
            headers: true,
            style_pinned: false,
            auto_compact: None,
        }
    }
}

impl TailView {
    /// Whether rows of `kind` wrap.
    pub fn wraps(&self, kind: ContentKind) -> bool {
        kind != ContentKind::Binary && self.wrap.unwrap_or(true)
    }
}
