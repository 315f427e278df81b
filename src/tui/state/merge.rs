//! A merged tail: several streams read at once into one view, in arrival
//! order. Each stream keeps its own reader (`State::readers`, by URL) and
//! its own restart bookkeeping (a [`Tail`] that keeps only its newest
//! batch); the merged [`Tail`] in `State::tail` holds the batches, each
//! tagged with its stream, so that a message's bookmark, copy and detail
//! act on its own stream at its real offset.

use ratatui::style::{Color, Style};
use ratatui::text::Span;

use crate::tui::format::ContentKind;

use super::tail::{Limits, Tail};

/// One stream of a merged tail.
#[derive(Debug)]
pub struct Source {
    pub path: String,
    pub url: String,
    /// Its restart point: a tail of its own whose batches go on to the
    /// merged tail as they arrive (the skip and checkpoint bookkeeping is
    /// the one-stream tail's).
    pub tail: Tail,
    /// Messages it brought into the merged tail.
    pub received: u64,
}

impl Source {
    pub fn new(path: &str, url: &str, kind: ContentKind) -> Source {
        Source {
            path: path.to_owned(),
            url: url.to_owned(),
            tail: Tail::new(kind, Limits::default()),
            received: 0,
        }
    }
}

/// What a merged tail reads.
#[derive(Debug, Default)]
pub struct Merge {
    /// By [`super::tail::Batch::source`].
    pub sources: Vec<Source>,
    /// The glob it was opened with (`o orders/*`): streams the registry
    /// announces that match it join while it runs.
    pub glob: Option<String>,
    /// The stream of the message a bookmark dialog is naming (its URL).
    pub bookmarking: Option<String>,
}

impl Merge {
    pub fn index_of_url(&self, url: &str) -> Option<usize> {
        self.sources.iter().position(|s| s.url == url)
    }

    pub fn has_path(&self, path: &str) -> bool {
        self.sources.iter().any(|s| s.path == path)
    }

    /// The URL of the stream a merged-tail batch came from.
    pub fn url_of_source(&self, source: Option<u16>) -> Option<&str> {
        let i = usize::from(source?);
        self.sources.get(i).map(|s| s.url.as_str())
    }

    /// How the tail's title names what it shows.
    pub fn label(&self) -> String {
        if let Some(glob) = &self.glob {
            return format!("{glob} ({})", self.sources.len());
        }
        format!("{} streams", self.sources.len())
    }
}

/// Colours a stream's tag can take.
const PALETTE: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Blue,
    Color::LightGreen,
    Color::LightRed,
];

/// A stream's colour: from a hash of its path (FNV-1a), so that it is the
/// same in every run and whatever else is merged with it.
pub fn tag_colour(path: &str) -> Color {
    let mut h: u32 = 0x811c_9dc5;
    for b in path.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let i = usize::try_from(h).unwrap_or(0) % PALETTE.len();
    PALETTE[i]
}

/// A message's tag: its stream's name (escaped: names come from the
/// server) in the stream's colour.
pub fn tag_span(path: &str) -> Span<'static> {
    let name = crate::sanitize::escape_str(path).into_owned();
    Span::styled(format!("[{name}] "), Style::new().fg(tag_colour(path)))
}

/// Whether `path` matches `pattern`: `*` stands for any run of characters
/// within one path segment, `**` for any run at all (`/` included).
pub fn glob_matches(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| go(rest, &s[i..])),
            [b'*', rest @ ..] => {
                let segment =
                    s.iter().position(|c| *c == b'/').unwrap_or(s.len());
                (0..=segment).any(|i| go(rest, &s[i..]))
            }
            [c, rest @ ..] => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_within_a_segment_or_across_with_two_stars() {
        assert!(glob_matches("orders/*", "orders/eu"));
        assert!(!glob_matches("orders/*", "orders/eu/1"));
        assert!(!glob_matches("orders/*", "payments/eu"));
        assert!(glob_matches("orders/**", "orders/eu/1"));
        assert!(glob_matches("*/eu", "orders/eu"));
        assert!(glob_matches("o*s/e?", "orders/e?"));
        assert!(!glob_matches("orders/*", "orders"));
    }

    #[test]
    fn a_stream_keeps_its_colour_and_its_tag_is_escaped() {
        assert_eq!(tag_colour("demo/orders"), tag_colour("demo/orders"));
        let colours: std::collections::HashSet<_> =
            (0..40).map(|i| tag_colour(&format!("s{i}"))).collect();
        assert!(colours.len() > 3, "{colours:?}");
        let tag = tag_span("evil\x1b[2J");
        assert!(!tag.content.contains('\x1b'), "{:?}", tag.content);
    }
}
