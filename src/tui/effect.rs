//! What `update` asks the outside world to do. The executor (`executor.rs`)
//! carries these out; `update` itself never does I/O.

use bytes::Bytes;

use crate::bookmarks::Bookmarks;
use crate::client::LiveMode;
use crate::tui::format::ContentKind;
use crate::tui::state::composer::AppendMode;

/// Settings of a stream to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateSpec {
    pub content_type: String,
    pub ttl_secs: Option<u64>,
    pub expires_at: Option<String>,
    pub closed: bool,
}

/// One side effect.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Follow the server's `__registry__` stream under `base_url` (creates
    /// and deletes, live), for the whole session.
    WatchRegistry {
        base_url: String,
    },
    /// Start the tail reader `reader` of `url` at `from` (cancelling the
    /// one `url` had; other streams' readers go on).
    StartReader {
        reader: u64,
        url: String,
        from: String,
        mode: LiveMode,
        kind: ContentKind,
    },
    /// Stop every tail reader.
    StopReader,
    /// HEAD one stream (the open one, or a row of the list).
    Head {
        url: String,
    },
    Append {
        url: String,
        body: Bytes,
        content_type: Option<String>,
        mode: AppendMode,
        close: bool,
    },
    Close {
        url: String,
    },
    Create {
        path: String,
        url: String,
        spec: CreateSpec,
    },
    Delete {
        path: String,
        url: String,
    },
    /// Export `range` of `url` into `file` (`replace`: an existing one);
    /// progress and the end come back as `Message::Export` with `id`.
    Export {
        id: u64,
        url: String,
        json: bool,
        range: crate::export::Range,
        format: crate::export::Format,
        file: std::path::PathBuf,
        replace: bool,
    },
    /// Cancel the running export (what it wrote stays as `.partial`).
    CancelExport,
    /// Write the bookmarks file.
    SaveBookmarks(Box<Bookmarks>),
    /// Put text on the clipboard.
    Copy(String),
    /// Send `Message::SearchStep` back through the loop's channel, so
    /// that input and drawing come between two steps of a search.
    SearchStep {
        generation: u64,
    },
    /// Come back with `Message::FilterStep` through the message channel,
    /// so that input and frames take turns with a long re-filter.
    FilterStep,
    /// Write the filter history (the newest pending one wins).
    SaveFilterHistory(Vec<String>),
    /// Put text on the clipboard and say what it is (`note`).
    CopyNoted {
        text: String,
        note: String,
    },
}
