//! Opaque stream offsets and the live-read modes.

use std::borrow::Cow;
use std::fmt;

/// A position in a stream. Opaque: never parsed, compared or computed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Offset(Cow<'static, str>);

/// On the wire (subscription bodies) an offset is its string.
impl serde::Serialize for Offset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Offset {
    fn deserialize<D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Self, D::Error> {
        String::deserialize(d).map(Offset::new)
    }
}

impl Offset {
    /// The start of the stream ("-1").
    pub const START: Offset = Offset(Cow::Borrowed("-1"));
    /// The current tail ("now"): read only what arrives from here on.
    pub const NOW: Offset = Offset(Cow::Borrowed("now"));

    pub fn new(value: impl Into<String>) -> Self {
        Offset(Cow::Owned(value.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_start(&self) -> bool {
        self.0 == "-1"
    }

    pub fn is_now(&self) -> bool {
        self.0 == "now"
    }
}

impl Default for Offset {
    fn default() -> Self {
        Offset::START
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Offset {
    fn from(s: &str) -> Self {
        Offset::new(s)
    }
}

impl From<String> for Offset {
    fn from(s: String) -> Self {
        Offset::new(s)
    }
}

/// How a read behaves once it has caught up with the tail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LiveMode {
    /// Catch-up only: stop at the tail (`Stream-Up-To-Date`).
    Off,
    /// SSE for JSON and `text/*` streams, long-poll otherwise.
    #[default]
    Auto,
    /// `live=long-poll`.
    LongPoll,
    /// `live=sse`.
    Sse,
}

/// How a mode reads to a person: `SSE`, `long-poll`, `catch-up only`,
/// `auto`.
impl std::fmt::Display for LiveMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LiveMode::Sse => "SSE",
            LiveMode::LongPoll => "long-poll",
            LiveMode::Off => "catch-up only",
            LiveMode::Auto => "auto",
        })
    }
}
