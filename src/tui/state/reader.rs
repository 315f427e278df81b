//! The tail's readers, one per stream: each one's live mode, connection
//! and reconnect bookkeeping, keyed by the stream's URL. A single-stream
//! tail holds one; a merged tail holds one for each stream it shows.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::client::LiveMode;

use super::Connection;

/// One stream's reader, as the UI tracks it: which mode it reads in, how
/// its connection is, and its reconnect bookkeeping.
#[derive(Debug, Default)]
pub struct Reader {
    /// Tags the reader task now reading: reports from older readers (of
    /// this stream or any other) are ignored. 0 until one starts.
    pub id: u64,
    pub mode: LiveMode,
    pub connection: Connection,
    /// Failed reads in a row (for the backoff), and when the next starts.
    pub reconnects: u32,
    pub retry_at: Option<Instant>,
    /// The tail's last offset when the reader last failed: a failure at a
    /// new offset (the reader made progress) restarts it at once.
    pub failed_at: Option<String>,
    /// Where to start the tail once the HEAD tells the content type.
    pub pending_start: Option<String>,
    /// Messages (JSON) or bytes to skip after `pending_start` (a resume
    /// point inside a response).
    pub pending_skip: u64,
}

impl Reader {
    /// A batch arrived: the reconnects are over, and the connection is
    /// what the batch says (closed, at the tail in the live mode or caught
    /// up without one, or still catching up).
    pub fn delivered(&mut self, closed: bool, up_to_date: bool) {
        self.reconnects = 0;
        self.connection = if closed {
            Connection::Closed
        } else if up_to_date {
            if self.mode == LiveMode::Off {
                Connection::CaughtUp
            } else {
                Connection::Live
            }
        } else {
            Connection::CatchingUp
        };
    }
}

/// Every reader of the tail, by stream URL, and the ids they are tagged
/// with (unique across streams, so a report names its stream).
#[derive(Debug)]
pub struct Readers {
    /// The next reader id to hand out.
    pub next_id: u64,
    /// What the status bar shows with no stream open; its mode is the one
    /// a new reader starts in (the last one chosen).
    pub idle: Reader,
    by_stream: BTreeMap<String, Reader>,
}

impl Default for Readers {
    fn default() -> Self {
        Readers {
            next_id: 1,
            idle: Reader {
                mode: LiveMode::Sse,
                ..Reader::default()
            },
            by_stream: BTreeMap::new(),
        }
    }
}

impl Readers {
    /// The reader of `url`, if it has one.
    pub fn get(&self, url: &str) -> Option<&Reader> {
        self.by_stream.get(url)
    }

    pub fn get_mut(&mut self, url: &str) -> Option<&mut Reader> {
        self.by_stream.get_mut(url)
    }

    /// The reader of `url`, made (in the current mode) if it has none.
    pub fn entry(&mut self, url: &str) -> &mut Reader {
        let mode = self.idle.mode;
        self.by_stream
            .entry(url.to_owned())
            .or_insert_with(|| Reader {
                mode,
                ..Reader::default()
            })
    }

    /// Forgets every reader (their tasks are stopped by the caller).
    pub fn clear(&mut self) {
        self.by_stream.clear();
    }

    /// Forgets the reader of `url`.
    pub fn remove(&mut self, url: &str) -> Option<Reader> {
        self.by_stream.remove(url)
    }

    /// Tags a new reader task of `url`: its reports are the ones heeded.
    pub fn tag(&mut self, url: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.entry(url).id = id;
        id
    }

    /// The stream whose current reader has the tag `id`.
    pub fn url_of(&self, id: u64) -> Option<&str> {
        self.by_stream
            .iter()
            .find(|(_, r)| r.id == id)
            .map(|(url, _)| url.as_str())
    }

    /// Every stream's reader, by URL.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Reader)> {
        self.by_stream.iter().map(|(u, r)| (u.as_str(), r))
    }

    pub fn len(&self) -> usize {
        self.by_stream.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_stream.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_unique_across_streams_and_name_their_stream() {
        let mut r = Readers::default();
        let a = r.tag("http://h/a");
        let b = r.tag("http://h/b");
        let a2 = r.tag("http://h/a");
        assert!(a != b && a != a2 && b != a2);
        assert_eq!(r.url_of(a2), Some("http://h/a"));
        assert_eq!(r.url_of(b), Some("http://h/b"));
        // The replaced reader's tag names nothing any more.
        assert_eq!(r.url_of(a), None);
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn a_new_reader_starts_in_the_mode_last_chosen() {
        let mut r = Readers::default();
        assert_eq!(r.entry("u").mode, LiveMode::Sse);
        r.idle.mode = LiveMode::LongPoll;
        assert_eq!(r.entry("v").mode, LiveMode::LongPoll);
        // An existing reader keeps its own.
        assert_eq!(r.entry("u").mode, LiveMode::Sse);
        r.clear();
        assert!(r.is_empty());
    }
}
