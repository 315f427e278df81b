//! Everything the explorer shows, as plain data. Only `update` changes it;
//! views only read it.

pub mod composer;
pub mod detail;
pub mod dialog;
pub mod meta;
pub mod streams;
pub mod tail;

use std::time::{Duration, Instant};

use crate::bookmarks::Bookmarks;
use crate::client::LiveMode;
use crate::tui::format::{ContentKind, JsonStyle};

pub use composer::Composer;
pub use detail::DetailState;
pub use dialog::{Dialog, DialogKind};
pub use meta::Meta;
pub use streams::Streams;
pub use tail::Tail;

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

/// The reader's connection, as the status bar shows it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Connection {
    /// No stream open.
    #[default]
    Idle,
    Connecting,
    CatchingUp,
    Live,
    /// Catch-up only, and it reached the tail.
    CaughtUp,
    Reconnecting {
        attempt: u32,
        /// When the next attempt starts.
        next_at: Instant,
        error: String,
    },
    Closed,
    /// The read failed for good (for example 404).
    Failed(String),
}

/// How serious a status-bar message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// A message in the status bar, until it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    pub until: Instant,
}

/// How long a status-bar message stays.
pub const NOTICE_FOR: Duration = Duration::from_secs(6);

/// The stream the tail, metadata and composer are about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenStream {
    /// Path under the base URL, or the full URL if it is elsewhere.
    pub path: String,
    pub url: String,
    pub content_type: Option<String>,
    /// Tags the reader task: messages from older readers are ignored.
    pub reader: u64,
}

/// Something drawn over the panes.
#[derive(Debug)]
pub enum Overlay {
    Help,
    Detail(Box<DetailState>),
    Dialog(Dialog),
}

/// The whole explorer.
#[derive(Debug)]
pub struct State {
    /// Base URL of the server (stream paths are relative to it).
    pub base_url: String,
    pub focus: Pane,
    pub zoomed: bool,
    pub streams: Streams,
    pub open: Option<OpenStream>,
    pub tail: Tail,
    pub meta: Meta,
    pub composer: Composer,
    pub overlay: Option<Overlay>,
    pub mode: LiveMode,
    pub connection: Connection,
    pub json_style: JsonStyle,
    pub notice: Option<Notice>,
    pub bookmarks: Bookmarks,
    /// The bookmarks file could not be read: saving is off so it is not
    /// overwritten.
    pub bookmarks_broken: bool,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// The latest clock reading a message brought.
    pub now: Instant,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// Next reader id.
    pub next_reader: u64,
    /// Failed reads in a row (for the backoff), and when the next starts.
    pub reconnects: u32,
    pub retry_at: Option<Instant>,
    /// The tail's last offset when the reader last failed: a failure at a
    /// new offset (the reader made progress) restarts it at once.
    pub failed_at: Option<String>,
    /// Where to start the tail once the HEAD tells the content type.
    pub pending_start: Option<String>,
    /// A jump's new tail, until its reader delivers; `tail` keeps what was
    /// shown so that a refused jump loses nothing.
    pub jump: Option<Box<Tail>>,
    /// Wall-clock time of the latest tick, RFC 3339 UTC.
    pub wall: String,
}

impl State {
    pub fn new(base_url: &str, now: Instant) -> Self {
        State {
            base_url: base_url.trim_end_matches('/').to_owned(),
            focus: Pane::Streams,
            zoomed: false,
            streams: Streams::default(),
            open: None,
            tail: Tail::new(ContentKind::Json, tail::Limits::default()),
            meta: Meta::default(),
            composer: Composer::new(),
            overlay: None,
            mode: LiveMode::Sse,
            connection: Connection::Idle,
            json_style: JsonStyle::Pretty,
            notice: None,
            bookmarks: Bookmarks::default(),
            bookmarks_broken: false,
            size: (80, 24),
            now,
            quit: false,
            next_reader: 1,
            reconnects: 0,
            retry_at: None,
            failed_at: None,
            pending_start: None,
            jump: None,
            wall: String::new(),
        }
    }

    /// Full URL of a stream path.
    pub fn url_of(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}/{}", self.base_url, path.trim_start_matches('/'))
        }
    }

    /// Path of a URL under the base URL, if it is there.
    pub fn path_of(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.base_url)?.strip_prefix('/')?;
        (!rest.is_empty()).then(|| rest.to_owned())
    }

    /// Shows a message in the status bar.
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.notice = Some(Notice {
            level,
            text: text.into(),
            until: self.now + NOTICE_FOR,
        });
    }

    /// The open dialog, if any.
    pub fn dialog_mut(&mut self) -> Option<&mut Dialog> {
        match &mut self.overlay {
            Some(Overlay::Dialog(d)) => Some(d),
            _ => None,
        }
    }

    /// Whether a text editor has the keyboard (then `q` is text).
    pub fn editing(&self) -> bool {
        match &self.overlay {
            Some(Overlay::Dialog(d)) => !matches!(
                d.kind,
                DialogKind::Confirm(_)
                    | DialogKind::Resume { .. }
                    | DialogKind::Bookmarks { renaming: None, .. }
            ),
            Some(_) => false,
            None => {
                self.focus == Pane::Composer
                    || (self.focus == Pane::Streams && self.streams.filtering)
            }
        }
    }
}
