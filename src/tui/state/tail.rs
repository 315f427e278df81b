//! The tail: batches of the open stream as they arrived, bounded, with a
//! cursor, follow mode and the bookkeeping that lets a reader restart from
//! the last offset the UI received without losing or repeating a message.
//!
//! Raw bytes are kept; what is shown is derived when drawing, and only for
//! the rows on screen, so a million buffered messages cost no more per
//! frame than ten.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::tui::format::ContentKind;

pub mod scroll;
pub mod view;

pub use view::TailView;

/// Binary streams are cut into pieces of this many bytes, each shown as one
/// hex-dump item, so that a large chunk never has to be formatted whole.
pub const BINARY_ITEM: usize = 256;

/// One read item that carried data, as the tail keeps it.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Item id of the batch's header row; its messages follow.
    pub first_item: u64,
    /// Wall-clock arrival time, formatted (`HH:MM:SS.mmm`).
    pub arrived: String,
    /// Where this data starts (the offset the response was asked for).
    pub start_offset: String,
    /// Where to resume after it; only a checkpoint if `!partial`.
    pub next_offset: String,
    pub up_to_date: bool,
    pub closed: bool,
    pub partial: bool,
    /// Messages back to back; `ends[i]` is where message `i` ends.
    pub data: Bytes,
    pub ends: Vec<u32>,
    /// Byte position of `data` in what this tail has received (hex
    /// addresses of binary streams are relative to the tail's start).
    pub received_before: u64,
    /// The checkpoint the response that carried this batch was read from
    /// (the offset a reader asked for; the sentinel `now` for the first
    /// response of a read from now), and how far into that response the
    /// batch starts: messages for JSON, bytes for text and binary. Reading
    /// from `response_offset` and skipping `response_before` plus the
    /// message's place in the batch comes back to exactly that message.
    pub response_offset: String,
    pub response_before: u64,
    /// In a merged tail, the stream it came from (an index into
    /// [`Tail::tags`]); `None` in a tail of one stream.
    pub source: Option<u16>,
}

/// Where one message is, as a server offset and how many to skip after it
/// (messages for JSON, bytes for text and binary). The offset is opaque:
/// only ever one the server gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub offset: String,
    pub skip: u64,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Where message `i` starts in `data`.
    fn start(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.ends[i - 1] as usize }
    }

    /// The bytes of message `i`.
    pub fn message(&self, i: usize) -> &[u8] {
        &self.data[self.start(i)..self.ends[i] as usize]
    }

    /// Byte position of message `i` within what the tail received.
    pub fn message_position(&self, i: usize) -> u64 {
        self.received_before + self.start(i) as u64
    }

    /// Where message `i` is: its response's offset and its place in that
    /// response (`kind` says the unit). `None` when the response was read
    /// from `now`, whose start no offset names.
    pub fn mark(&self, i: usize, kind: ContentKind) -> Option<Mark> {
        if self.response_offset == "now" {
            return None;
        }
        let within = if kind == ContentKind::Json {
            i as u64
        } else {
            self.start(i) as u64
        };
        Some(Mark {
            offset: self.response_offset.clone(),
            skip: self.response_before + within,
        })
    }

    /// Items this batch occupies: its header and its messages.
    pub fn items(&self) -> u64 {
        1 + self.ends.len() as u64
    }
}

/// What one row of the tail is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// The header of batch `batch` (index into the buffer).
    Header { batch: usize },
    /// Message `message` of batch `batch`.
    Message { batch: usize, message: usize },
}

/// A batch as a reader hands it to the UI.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub arrived: String,
    pub start_offset: String,
    pub next_offset: String,
    pub up_to_date: bool,
    pub closed: bool,
    pub partial: bool,
    /// JSON: the messages' bytes back to back with their ends; text and
    /// binary: the bytes (`ends` empty), cut into items here.
    pub data: Bytes,
    pub ends: Vec<u32>,
}

impl Incoming {
    /// A JSON batch of `messages` (fixtures for tests and benches; readers
    /// build theirs from what the client hands out). Up to date unless
    /// `partial`.
    pub fn json<M: AsRef<[u8]>>(
        start: &str,
        next: &str,
        messages: &[M],
        partial: bool,
    ) -> Incoming {
        let mut data = Vec::new();
        let mut ends = Vec::with_capacity(messages.len());
        for m in messages {
            data.extend_from_slice(m.as_ref());
            ends.push(u32::try_from(data.len()).unwrap_or(u32::MAX));
        }
        Incoming {
            arrived: "12:00:01.000".into(),
            start_offset: start.into(),
            next_offset: next.into(),
            up_to_date: !partial,
            closed: false,
            partial,
            data: Bytes::from(data),
            ends,
        }
    }
}

/// Where the view's first row is: an item and a line within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Anchor {
    pub item: u64,
    pub line: usize,
}

/// Bounds of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_messages: usize,
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_messages: 1_000_000,
            max_bytes: 192 * 1024 * 1024,
        }
    }
}

/// The tail of the open stream.
#[derive(Clone, Debug)]
pub struct Tail {
    pub kind: ContentKind,
    pub limits: Limits,
    pub batches: VecDeque<Batch>,
    /// Next item id to hand out; ids are never reused, so a cursor survives
    /// eviction of the batches before it.
    next_item: u64,
    /// Messages and bytes currently buffered.
    pub buffered_messages: usize,
    pub buffered_bytes: u64,
    /// Counted since the tail started (evicted ones included).
    pub total_messages: u64,
    pub total_bytes: u64,
    pub evicted_messages: u64,
    pub evicted_bytes: u64,
    /// The last checkpoint received and how much came after it: a restart
    /// reads from `resume_offset` and skips what was already shown.
    pub resume_offset: Option<String>,
    pub since_resume_messages: u64,
    pub since_resume_bytes: u64,
    /// The offset of the last item received (a checkpoint or not).
    pub last_offset: Option<String>,
    pub up_to_date: bool,
    pub closed: bool,
    /// The selected item; `None` with `follow` means "the newest".
    pub selected: Option<u64>,
    /// Whether the view sticks to the newest rows.
    pub follow: bool,
    /// First row shown when not following.
    pub anchor: Anchor,
    /// `total_messages` when follow was paused.
    pub paused_at: u64,
    /// Messages still to drop after a restart (already shown).
    skip_messages: u64,
    skip_bytes: u64,
    /// Text: the start of a line whose end has not arrived yet.
    held: Vec<u8>,
    /// A merged tail's stream names, by [`Batch::source`] (shown as each
    /// message's tag).
    pub tags: Vec<String>,
}

impl Tail {
    pub fn new(kind: ContentKind, limits: Limits) -> Self {
        Tail {
            kind,
            limits,
            batches: VecDeque::new(),
            next_item: 0,
            buffered_messages: 0,
            buffered_bytes: 0,
            total_messages: 0,
            total_bytes: 0,
            evicted_messages: 0,
            evicted_bytes: 0,
            resume_offset: None,
            since_resume_messages: 0,
            since_resume_bytes: 0,
            last_offset: None,
            up_to_date: false,
            closed: false,
            selected: None,
            follow: true,
            anchor: Anchor::default(),
            paused_at: 0,
            skip_messages: 0,
            skip_bytes: 0,
            held: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// Takes the newest batch back out (a merged tail's stream keeps none:
    /// the merged tail holds them).
    pub fn take_newest(&mut self) -> Option<Batch> {
        let b = self.batches.pop_back()?;
        self.buffered_messages -= b.len();
        self.buffered_bytes -= b.data.len() as u64;
        Some(b)
    }

    /// A merged tail: adds a batch that another stream's own tail already
    /// took in (skips done, its marks naming that stream's offsets), as
    /// coming from `source`. Returns the number of messages added.
    pub fn append(&mut self, mut batch: Batch, source: u16) -> u64 {
        let messages = batch.len() as u64;
        if messages == 0 {
            return 0;
        }
        let bytes = batch.data.len() as u64;
        batch.first_item = self.next_item;
        batch.received_before = self.total_bytes;
        batch.source = Some(source);
        self.next_item += batch.items();
        self.total_messages += messages;
        self.total_bytes += bytes;
        self.buffered_messages += batch.len();
        self.buffered_bytes += bytes;
        self.batches.push_back(batch);
        self.evict();
        messages
    }

    /// Prepares a restart of the reader: returns the offset to read from,
    /// and arranges that the messages already shown after it are skipped
    /// when they arrive again.
    pub fn restart_point(&mut self) -> Option<String> {
        let from = self.resume_offset.clone()?;
        // Shown after the checkpoint: what arrived since it, plus what an
        // earlier restart still had to skip.
        self.skip_messages += self.since_resume_messages;
        // Held-back text was never shown: the new reader brings it again.
        let held = self.held.len() as u64;
        self.held.clear();
        self.skip_bytes += self.since_resume_bytes.saturating_sub(held);
        self.since_resume_messages = 0;
        self.since_resume_bytes = 0;
        Some(from)
    }

    /// Forgets everything (a jump to another offset): the buffer starts
    /// empty and reading starts at `from`.
    pub fn reset(&mut self, from: &str) {
        self.reset_at(&Mark {
            offset: from.to_owned(),
            skip: 0,
        });
    }

    /// Like [`Tail::reset`], reading from `mark.offset` and dropping the
    /// first `mark.skip` messages (JSON) or bytes (text, binary) that
    /// arrive: the first one shown is the marked one.
    pub fn reset_at(&mut self, mark: &Mark) {
        let kind = self.kind;
        let limits = self.limits;
        *self = Tail::new(kind, limits);
        self.resume_offset = Some(mark.offset.clone());
        self.last_offset = Some(mark.offset.clone());
        if kind == ContentKind::Json {
            self.skip_messages = mark.skip;
        } else {
            self.skip_bytes = mark.skip;
        }
    }

    /// Where a reader started now would begin: the last checkpoint and
    /// what came after it (shown, held or still to skip). `None` before a
    /// reader started, or while only `now` is known.
    pub fn end_mark(&self) -> Option<Mark> {
        let offset = self.resume_offset.clone()?;
        let skip = if self.kind == ContentKind::Json {
            self.skip_messages + self.since_resume_messages
        } else {
            let held = self.held.len() as u64;
            self.skip_bytes + self.since_resume_bytes.saturating_sub(held)
        };
        (offset != "now" || skip == 0).then_some(Mark { offset, skip })
    }

    /// Where the selected message (or the first message of a selected
    /// header's batch) is; see [`Batch::mark`].
    pub fn current_mark(&self) -> Option<Mark> {
        match self.locate(self.current()?)? {
            Item::Header { batch } => self.batches[batch].mark(0, self.kind),
            Item::Message { batch, message } => {
                self.batches[batch].mark(message, self.kind)
            }
        }
    }

    /// Adds what a reader delivered. Returns the number of new messages.
    pub fn push(&mut self, incoming: Incoming) -> u64 {
        let Incoming {
            arrived,
            start_offset,
            next_offset,
            up_to_date,
            closed,
            partial,
            mut data,
            mut ends,
        } = incoming;
        if self.kind != ContentKind::Json {
            ends.clear();
        }
        // Drop what a restarted reader delivers again.
        let skip_before = (self.skip_messages, self.skip_bytes);
        let held_before = self.held.len() as u64;
        if self.kind == ContentKind::Json {
            self.skip_json(&mut data, &mut ends);
        } else if self.skip_bytes > 0 {
            let n = usize::try_from(self.skip_bytes)
                .unwrap_or(usize::MAX)
                .min(data.len());
            data = data.slice(n..);
            self.skip_bytes -= n as u64;
        }
        // Bytes that arrived (after skipping), shown now or held back.
        let arrived_bytes = data.len() as u64;
        if self.kind == ContentKind::Text {
            data = self.hold_partial_line(data, partial);
        }
        if self.kind != ContentKind::Json {
            ends = cut_items(&data, self.kind);
        }
        let messages = ends.len() as u64;
        let bytes = data.len() as u64;
        // How far into its response this batch starts: what came after
        // the checkpoint before it (skipped now included; held-back text
        // leads this batch's data).
        let response_offset = self
            .resume_offset
            .clone()
            .unwrap_or_else(|| start_offset.clone());
        let response_before = if self.kind == ContentKind::Json {
            self.since_resume_messages + (skip_before.0 - self.skip_messages)
        } else {
            (self.since_resume_bytes + (skip_before.1 - self.skip_bytes))
                .saturating_sub(held_before)
        };
        self.last_offset = Some(next_offset.clone());
        self.up_to_date = up_to_date;
        self.closed = closed;
        if partial {
            // What was skipped is still shown after the checkpoint: a
            // further restart must skip it again.
            self.since_resume_messages +=
                messages + (skip_before.0 - self.skip_messages);
            self.since_resume_bytes +=
                arrived_bytes + (skip_before.1 - self.skip_bytes);
        } else {
            self.resume_offset = Some(next_offset.clone());
            self.since_resume_messages = 0;
            self.since_resume_bytes = 0;
        }
        if ends.is_empty() {
            return 0;
        }
        let batch = Batch {
            first_item: self.next_item,
            arrived,
            start_offset,
            next_offset,
            up_to_date,
            closed,
            partial,
            data,
            ends,
            received_before: self.total_bytes,
            response_offset,
            response_before,
            source: None,
        };
        self.next_item += batch.items();
        self.total_messages += messages;
        self.total_bytes += bytes;
        self.buffered_messages += batch.len();
        self.buffered_bytes += bytes;
        self.batches.push_back(batch);
        self.evict();
        messages
    }

    /// Text: a line cut by the end of a partial piece (more of the same
    /// response follows at once) waits for its rest, so that it shows as
    /// one line. At a checkpoint whatever is held shows.
    fn hold_partial_line(&mut self, data: Bytes, partial: bool) -> Bytes {
        let data = if self.held.is_empty() {
            data
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(&data);
            Bytes::from(joined)
        };
        if !partial || data.last() == Some(&b'\n') {
            return data;
        }
        let keep = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        self.held = data[keep..].to_vec();
        data.slice(..keep)
    }

    fn skip_json(&mut self, data: &mut Bytes, ends: &mut Vec<u32>) {
        if self.skip_messages == 0 || ends.is_empty() {
            return;
        }
        let n = usize::try_from(self.skip_messages)
            .unwrap_or(usize::MAX)
            .min(ends.len());
        self.skip_messages -= n as u64;
        let cut = ends[n - 1];
        *data = data.slice(cut as usize..);
        ends.drain(..n);
        for end in ends.iter_mut() {
            *end -= cut;
        }
    }

    /// Drops the oldest messages while over a limit: whole batches first,
    /// then the front of the oldest remaining batch, so that the limits
    /// count messages and not batches (one catch-up response can carry
    /// thousands). The newest message always stays.
    fn evict(&mut self) {
        loop {
            let over_messages = self
                .buffered_messages
                .saturating_sub(self.limits.max_messages);
            let over_bytes =
                self.buffered_bytes.saturating_sub(self.limits.max_bytes);
            if over_messages == 0 && over_bytes == 0 {
                break;
            }
            let Some(front) = self.batches.front() else {
                break;
            };
            // The fewest of its first messages that make up `over_bytes`.
            let by_bytes = if over_bytes == 0 {
                0
            } else {
                front.ends.partition_point(|&e| u64::from(e) < over_bytes) + 1
            };
            let drop = over_messages.max(by_bytes);
            if drop < front.len() {
                self.drop_front_messages(drop);
                break;
            }
            if self.batches.len() == 1 {
                self.drop_front_messages(front.len() - 1);
                break;
            }
            let Some(old) = self.batches.pop_front() else {
                break;
            };
            self.buffered_messages -= old.len();
            self.buffered_bytes -= old.data.len() as u64;
            self.evicted_messages += old.len() as u64;
            self.evicted_bytes += old.data.len() as u64;
        }
        let first = self.first_item();
        if let Some(sel) = self.selected
            && sel < first
        {
            self.selected = Some(first);
        }
        if self.anchor.item < first {
            self.anchor = Anchor {
                item: first,
                line: 0,
            };
        }
    }

    /// Evicts the first `n` messages of the oldest batch (`n` below its
    /// length). Its item ids stay those of the messages kept (the header
    /// takes the id of the last one dropped), and its place in its
    /// response grows by what was dropped, so marks of the messages kept
    /// still name them; no offset is computed.
    fn drop_front_messages(&mut self, n: usize) {
        let kind = self.kind;
        let Some(b) = self.batches.front_mut() else {
            return;
        };
        if n == 0 || n >= b.len() {
            return;
        }
        let cut = b.ends[n - 1];
        b.data = b.data.slice(cut as usize..);
        b.ends.drain(..n);
        for end in &mut b.ends {
            *end -= cut;
        }
        b.first_item += n as u64;
        b.received_before += u64::from(cut);
        b.response_before += if kind == ContentKind::Json {
            n as u64
        } else {
            u64::from(cut)
        };
        self.buffered_messages -= n;
        self.buffered_bytes -= u64::from(cut);
        self.evicted_messages += n as u64;
        self.evicted_bytes += u64::from(cut);
    }

    /// Id of the oldest buffered item.
    pub fn first_item(&self) -> u64 {
        self.batches
            .front()
            .map_or(self.next_item, |b| b.first_item)
    }

    /// Id of the newest item, if any.
    pub fn last_item(&self) -> Option<u64> {
        self.batches.back().map(|b| b.first_item + b.items() - 1)
    }

    /// Where item `id` lives, if buffered.
    pub fn locate(&self, id: u64) -> Option<Item> {
        if id < self.first_item() || self.last_item().is_none_or(|l| id > l) {
            return None;
        }
        let idx = self.batches.partition_point(|b| b.first_item <= id) - 1;
        let b = &self.batches[idx];
        let within = id - b.first_item;
        Some(if within == 0 {
            Item::Header { batch: idx }
        } else {
            Item::Message {
                batch: idx,
                message: usize::try_from(within - 1).unwrap_or(usize::MAX),
            }
        })
    }

    /// The selected item, or the newest one.
    pub fn current(&self) -> Option<u64> {
        match self.selected {
            Some(id) if !self.follow => Some(id),
            _ => self.last_item(),
        }
    }

    /// The batch of the selected item (its offsets are what a bookmark
    /// keeps).
    pub fn current_batch(&self) -> Option<&Batch> {
        match self.locate(self.current()?)? {
            Item::Header { batch } | Item::Message { batch, .. } => {
                self.batches.get(batch)
            }
        }
    }

    /// The selected message's bytes (none on a header row).
    pub fn current_message(&self) -> Option<&[u8]> {
        match self.locate(self.current()?)? {
            Item::Message { batch, message } => {
                Some(self.batches[batch].message(message))
            }
            Item::Header { .. } => None,
        }
    }

    /// Messages that arrived since following was paused.
    pub fn new_below(&self) -> u64 {
        if self.follow {
            0
        } else {
            self.total_messages.saturating_sub(self.paused_at)
        }
    }

    /// Stops following at the current position.
    pub fn pause(&mut self, anchor: Anchor) {
        if self.follow {
            self.follow = false;
            self.paused_at = self.total_messages;
            self.selected = self.last_item();
            self.anchor = anchor;
        }
    }

    /// Snaps back to the newest rows.
    pub fn follow_live(&mut self) {
        self.follow = true;
        self.selected = None;
        self.paused_at = self.total_messages;
    }
}

/// Cuts text into lines and binary into fixed-size pieces.
fn cut_items(data: &[u8], kind: ContentKind) -> Vec<u32> {
    let mut ends = Vec::new();
    if kind == ContentKind::Text {
        let mut at = 0;
        for (i, b) in data.iter().enumerate() {
            if *b == b'\n' {
                ends.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                at = i + 1;
            }
        }
        if at < data.len() {
            ends.push(u32::try_from(data.len()).unwrap_or(u32::MAX));
        }
    } else {
        let mut at = 0;
        while at < data.len() {
            at = (at + BINARY_ITEM).min(data.len());
            ends.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
    }
    ends
}

#[cfg(test)]
mod tests;
