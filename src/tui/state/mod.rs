//! Everything the explorer shows, as plain data. Only `update` changes it;
//! views only read it.

pub mod composer;
pub mod detail;
pub mod dialog;
pub mod inspector;
pub mod meta;
pub mod reader;
pub mod search;
pub mod streams;
pub mod tail;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::bookmarks::Bookmarks;
use crate::client::RetryPolicy;
use crate::tui::format::{ContentKind, JsonStyle};
use crate::tui::keymap::Keymap;

pub use composer::Composer;
pub use detail::DetailState;
pub use dialog::{Dialog, DialogKind};
pub use meta::Meta;
pub use reader::{Reader, Readers};
pub use search::Search;
pub use streams::Streams;
pub use tail::{Tail, TailView};

pub use crate::tui::pane::Pane;

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

/// Whether the screen has colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Colours {
    /// The basic ANSI colours.
    #[default]
    Ansi,
    /// None at all (`NO_COLOR`): only bold, dim and reverse.
    Off,
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

/// The tail's reconnect backoff: 0.5 s doubling to 8 s, for as long as it
/// takes (the status bar shows each attempt; `R` retries at once). The
/// client's `RetryPolicy`, so that one backoff rule serves everything.
pub const TAIL_RECONNECT: RetryPolicy =
    RetryPolicy::doubling(Duration::from_millis(500), Duration::from_secs(8));

/// The registry watch's backoff after its stream failed: 1 s doubling to
/// 30 s (the list says the server is unreachable meanwhile).
pub const REGISTRY_WATCH: RetryPolicy =
    RetryPolicy::doubling(Duration::from_secs(1), Duration::from_secs(30));

/// The stream the tail, metadata and composer are about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenStream {
    /// Path under the base URL, or the full URL if it is elsewhere.
    pub path: String,
    pub url: String,
    pub content_type: Option<String>,
}

/// The help overlay: how far it is scrolled, and the detail view it was
/// opened from (shown again when help closes).
#[derive(Debug, Default)]
pub struct Help {
    /// First wrapped row shown.
    pub scroll: usize,
    pub detail: Option<Box<DetailState>>,
}

/// Something drawn over the panes.
#[derive(Debug)]
pub enum Overlay {
    Help(Help),
    Detail(Box<DetailState>),
    Dialog(Dialog),
    /// The protocol inspector (`i`): every request, full screen.
    Inspector,
}

/// The whole explorer.
#[derive(Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent switches of the screen, not a state machine"
)]
pub struct State {
    /// Base URL of the server (stream paths are relative to it).
    pub base_url: String,
    pub focus: Pane,
    pub zoomed: bool,
    /// The stream list and metadata panes are shown (`s` toggles).
    pub side_panes: bool,
    pub streams: Streams,
    pub open: Option<OpenStream>,
    pub tail: Tail,
    /// The tail's search (`/`): the line typed, the matches found.
    pub search: Search,
    pub meta: Meta,
    pub composer: Composer,
    pub overlay: Option<Overlay>,
    /// The tail's readers by stream URL (the open stream's is
    /// [`State::reader`]): each one's mode, connection and reconnects.
    pub readers: Readers,
    pub json_style: JsonStyle,
    /// How the tail is shown (wrap, scroll, headers, layout choice).
    pub tail_view: TailView,
    /// Whether the screen shows colours (`NO_COLOR` turns them off).
    pub colours: Colours,
    /// What every key does (the defaults with the config's `[keys]`).
    pub keymap: Keymap,
    /// The colours of the theme (unused when `colours` is off).
    pub palette: crate::tui::palette::Palette,
    pub notice: Option<Notice>,
    pub bookmarks: Bookmarks,
    /// Where a stream opened starts reading (the config's `tail.start`).
    pub start_default: crate::config::TailStart,
    /// The bookmarks file could not be read: saving is off so it is not
    /// overwritten.
    pub bookmarks_broken: bool,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// The latest clock reading a message brought.
    pub now: Instant,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// A jump's new tail, until its reader delivers; `tail` keeps what was
    /// shown so that a refused jump loses nothing.
    pub jump: Option<Box<Tail>>,
    /// Wall-clock time of the latest tick, RFC 3339 UTC.
    pub wall: String,
    /// URLs opened in this session: the Resume dialog asks once per
    /// stream per session; switching back resumes without asking.
    pub opened: HashSet<String>,
    /// The protocol inspector: the requests made, kept while it is closed.
    pub inspector: inspector::Inspector,
}

impl State {
    pub fn new(base_url: &str, now: Instant) -> Self {
        State {
            base_url: base_url.trim_end_matches('/').to_owned(),
            focus: Pane::Streams,
            zoomed: false,
            side_panes: true,
            streams: Streams::default(),
            open: None,
            tail: Tail::new(ContentKind::Json, tail::Limits::default()),
            search: Search::default(),
            meta: Meta::default(),
            composer: Composer::new(),
            overlay: None,
            readers: Readers::default(),
            json_style: JsonStyle::Pretty,
            tail_view: TailView::default(),
            colours: Colours::Ansi,
            keymap: Keymap::default(),
            palette: crate::tui::palette::Palette::default(),
            notice: None,
            bookmarks: Bookmarks::default(),
            start_default: crate::config::TailStart::default(),
            bookmarks_broken: false,
            size: (80, 24),
            now,
            quit: false,
            jump: None,
            wall: String::new(),
            opened: HashSet::new(),
            inspector: inspector::Inspector::default(),
        }
    }

    /// Full URL of a stream path under the base URL. A path is always a
    /// path: a name a server gave (a registry entry can be named anything,
    /// `http://elsewhere/…` included) stays under the base URL, with `?`
    /// and `#` escaped so that it cannot start a query or fragment either.
    /// Only what the user typed may name another origin: see
    /// [`State::url_of_input`].
    pub fn url_of(&self, path: &str) -> String {
        let path = path
            .trim_start_matches('/')
            .replace('?', "%3F")
            .replace('#', "%23");
        format!("{}/{path}", self.base_url)
    }

    /// Full URL of what the user typed (`o`, the command line): an
    /// `http://` or `https://` URL is used as it is, anything else is a
    /// path under the base URL.
    pub fn url_of_input(&self, input: &str) -> String {
        if input.starts_with("http://") || input.starts_with("https://") {
            input.to_owned()
        } else {
            self.url_of(input)
        }
    }

    /// Path of a URL under the base URL, if it is there (the inverse of
    /// [`State::url_of`]).
    /// Bookmark keys (credentials stripped) match a base URL with them.
    pub fn path_of(&self, url: &str) -> Option<String> {
        let rest = url
            .strip_prefix(&self.base_url)
            .or_else(|| {
                url.strip_prefix(&crate::bookmarks::stream_key(&self.base_url))
            })?
            .strip_prefix('/')?;
        (!rest.is_empty()).then(|| rest.replace("%3F", "?").replace("%23", "#"))
    }

    /// The open stream's reader (with no stream open, the idle one: what
    /// the status bar shows, and the mode the next reader starts in).
    pub fn reader(&self) -> &Reader {
        self.open
            .as_ref()
            .and_then(|o| self.readers.get(&o.url))
            .unwrap_or(&self.readers.idle)
    }

    /// [`State::reader`], to change; the open stream gets one if it has
    /// none yet.
    pub fn reader_mut(&mut self) -> &mut Reader {
        match &self.open {
            Some(o) => self.readers.entry(&o.url),
            None => &mut self.readers.idle,
        }
    }

    /// Shows a message in the status bar.
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.notice = Some(Notice {
            level,
            text: text.into(),
            until: self.now + NOTICE_FOR,
        });
    }

    /// Whether the open stream is closed (no append can land).
    pub fn stream_closed(&self) -> bool {
        self.open.is_some()
            && (self.reader().connection == Connection::Closed
                || self.meta.head.as_ref().is_some_and(|h| h.closed))
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
                    || (self.focus == Pane::Tail && self.search.line.is_some())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:4437/v1/stream";

    #[test]
    fn a_name_from_the_server_stays_under_the_base_url() {
        let s = State::new(BASE, Instant::now());
        for name in [
            "http://127.0.0.1:4702/v1/stream/target",
            "https://127.0.0.1:4702/x",
            "//127.0.0.1:4702/x",
        ] {
            let url = s.url_of(name);
            let parsed = url::Url::parse(&url).unwrap();
            assert_eq!(parsed.port(), Some(4437), "{name} -> {url}");
            assert_eq!(parsed.host_str(), Some("127.0.0.1"), "{url}");
            assert!(url.starts_with(&format!("{BASE}/")), "{url}");
        }
        // Nor can a name start a query or a fragment; the list still finds
        // it by its name.
        let url = s.url_of("a?offset=now#x");
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.query(), None, "{url}");
        assert_eq!(parsed.fragment(), None, "{url}");
        assert_eq!(s.path_of(&url).as_deref(), Some("a?offset=now#x"));
        assert_eq!(s.url_of("demo/orders"), format!("{BASE}/demo/orders"));
    }

    #[test]
    fn what_the_user_typed_may_name_another_server() {
        let s = State::new(BASE, Instant::now());
        let other = "http://127.0.0.1:4702/v1/stream/target";
        assert_eq!(s.url_of_input(other), other);
        assert_eq!(s.url_of_input("a/b"), format!("{BASE}/a/b"));
    }
}
