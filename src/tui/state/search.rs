//! Search in the tail: the query line being typed, the query kept (plain
//! text or a regex, smart case), and the matches found, named by item id.
//!
//! Item ids are never reused and survive eviction (see `state/tail.rs`), so
//! a match stays right when older batches go: only the matches below the
//! oldest buffered item are dropped. The scan runs in bounded steps, one per
//! `Message::SearchStep`, each looking at no more than [`STEP_MESSAGES`]
//! messages or [`STEP_BYTES`] bytes; between steps the loop draws and reads
//! input, so a million buffered messages never hold up a frame, and Esc
//! stops a scan under way. Messages that arrive while a search is active
//! extend what is left to scan, so they are counted and highlighted as they
//! come.
//!
//! What is searched is a sequence of `(id, bytes)`: today every buffered
//! message ([`messages_from`]); a derived view (a filter showing only some
//! messages, or what a projection yields) can hand its own sequence to
//! [`Active::scan`] instead, and the view highlights rows by id.

use std::collections::VecDeque;
use std::ops::Range;

use regex::bytes::{Regex as BytesRegex, RegexBuilder as BytesRegexBuilder};
use regex::{Regex, RegexBuilder};

use crate::tui::state::tail::Tail;

/// Messages one scan step looks at, at most.
pub const STEP_MESSAGES: usize = 25_000;
/// Bytes one scan step looks at, at most (a step ends after the message
/// that crosses it).
pub const STEP_BYTES: usize = 2 * 1024 * 1024;
/// Compiled size a regex may take (a pattern beyond it is refused with an
/// error rather than eating memory).
const REGEX_SIZE: usize = 4 * 1024 * 1024;

/// A query as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Query {
    pub text: String,
    /// A regex (Ctrl-R in the search line), else plain text.
    pub regex: bool,
}

impl Query {
    /// Smart case, as in vim and less: a query with a capital letter is
    /// case-sensitive, an all-lowercase one is not.
    pub fn case_sensitive(&self) -> bool {
        self.text.chars().any(char::is_uppercase)
    }

    /// The query compiled, or why it cannot be (one line).
    pub fn compile(&self) -> Result<Matcher, String> {
        let pattern = if self.regex {
            self.text.clone()
        } else {
            regex::escape(&self.text)
        };
        let insensitive = !self.case_sensitive();
        let bytes = BytesRegexBuilder::new(&pattern)
            .case_insensitive(insensitive)
            .size_limit(REGEX_SIZE)
            .build()
            .map_err(|e| short_error(&e))?;
        let text = RegexBuilder::new(&pattern)
            .case_insensitive(insensitive)
            .size_limit(REGEX_SIZE)
            .build()
            .map_err(|e| short_error(&e))?;
        Ok(Matcher { bytes, text })
    }
}

/// The regex crate's error is several lines (the pattern, a caret, the
/// reason): the reason is what fits a status line.
fn short_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let reason = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid regex");
    let reason = reason.strip_prefix("error: ").unwrap_or(reason);
    format!("bad regex: {reason}")
}

/// A compiled query: over a message's raw bytes (what is counted) and over
/// a displayed line (what is highlighted).
#[derive(Clone, Debug)]
pub struct Matcher {
    bytes: BytesRegex,
    text: Regex,
}

impl Matcher {
    /// Whether a message matches.
    pub fn is_match(&self, raw: &[u8]) -> bool {
        self.bytes.is_match(raw)
    }

    /// Byte ranges of the matches in a displayed line (empty matches, which
    /// a regex such as `a*` finds everywhere, are not shown).
    pub fn ranges<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = Range<usize>> + 'a {
        self.text
            .find_iter(text)
            .filter(|m| !m.is_empty())
            .map(|m| m.range())
    }
}

/// The search line while it is open (`/` in the tail).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SearchLine {
    pub query: Query,
    /// Why the query typed cannot be searched (a bad regex); the search
    /// kept before stays until a good one replaces it.
    pub error: Option<String>,
}

/// How the scan of an active search stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// Steps are under way: older messages are still to be looked at.
    Running,
    /// Everything buffered was looked at; arrivals are searched as they
    /// come.
    Current,
    /// Stopped with Esc: the matches found so far stay, nothing more is
    /// looked at.
    Stopped,
}

/// A search kept (Enter in the search line).
#[derive(Clone, Debug)]
pub struct Active {
    pub query: Query,
    matcher: Matcher,
    /// Ids of the matching messages, oldest first.
    matches: VecDeque<u64>,
    /// The next item id to look at: every message before it was looked at.
    pub next: u64,
    /// Where the scan started (for the progress shown).
    from: u64,
    pub scan: Scan,
    /// The match `n` / `N` last went to.
    pub current: Option<u64>,
    /// Tags this search's step messages: a step of a search since replaced
    /// is stale.
    pub generation: u64,
    /// A step message is on its way (at most one at a time).
    pub step_pending: bool,
}

impl Active {
    fn new(query: Query, matcher: Matcher, from: u64, generation: u64) -> Self {
        Active {
            query,
            matcher,
            matches: VecDeque::new(),
            next: from,
            from,
            scan: Scan::Running,
            current: None,
            generation,
            step_pending: false,
        }
    }

    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Matches found (among the messages still buffered).
    pub fn count(&self) -> usize {
        self.matches.len()
    }

    /// Whether message `id` was found to match.
    pub fn is_match(&self, id: u64) -> bool {
        self.matches.binary_search(&id).is_ok()
    }

    /// Whether message `id` was looked at yet.
    pub fn scanned(&self, id: u64) -> bool {
        id < self.next
    }

    /// 1-based place of the current match among the matches, if it is one.
    pub fn current_place(&self) -> Option<usize> {
        let id = self.current?;
        self.matches.binary_search(&id).ok().map(|i| i + 1)
    }

    /// How much of what is buffered was looked at, in percent (items, as
    /// ids count them; headers are a small share).
    pub fn progress(&self, tail: &Tail) -> u64 {
        let Some(last) = tail.last_item() else {
            return 100;
        };
        let from = self.from.max(tail.first_item());
        let total = (last + 1).saturating_sub(from);
        if total == 0 {
            return 100;
        }
        let done = self.next.saturating_sub(from).min(total);
        done * 100 / total
    }

    /// Looks at `messages` (ids ascending, from [`Active::next`] on) until
    /// the budget is spent; returns whether any message was left unseen.
    pub fn scan<'a>(
        &mut self,
        messages: impl Iterator<Item = (u64, &'a [u8])>,
        max_messages: usize,
        max_bytes: usize,
    ) -> bool {
        let (mut n, mut bytes) = (0, 0);
        for (id, raw) in messages {
            if n >= max_messages || bytes >= max_bytes {
                return true;
            }
            if id < self.next {
                continue;
            }
            if self.matcher.is_match(raw) {
                self.matches.push_back(id);
            }
            self.next = id + 1;
            n += 1;
            bytes += raw.len();
        }
        false
    }

    /// Forgets what eviction dropped: matches below `first` (the oldest
    /// buffered item); what is left keeps its ids.
    pub fn forget_before(&mut self, first: u64) {
        while self.matches.front().is_some_and(|&id| id < first) {
            self.matches.pop_front();
        }
        if self.current.is_some_and(|id| id < first) {
            self.current = None;
        }
        self.next = self.next.max(first);
        self.from = self.from.max(first);
    }

    /// The match after `at` (`None`: from the live end), wrapping to the
    /// oldest; with whether it wrapped.
    pub fn next_after(&self, at: Option<u64>) -> Option<(u64, bool)> {
        let first = *self.matches.front()?;
        let Some(at) = at else {
            return Some((first, true));
        };
        let i = self.matches.partition_point(|&id| id <= at);
        match self.matches.get(i) {
            Some(&id) => Some((id, false)),
            None => Some((first, true)),
        }
    }

    /// The match before `at` (`None`: from the live end, so the newest),
    /// wrapping to the newest; with whether it wrapped.
    pub fn prev_before(&self, at: Option<u64>) -> Option<(u64, bool)> {
        let last = *self.matches.back()?;
        let Some(at) = at else {
            return Some((last, false));
        };
        let i = self.matches.partition_point(|&id| id < at);
        if i == 0 {
            Some((last, true))
        } else {
            Some((self.matches[i - 1], false))
        }
    }
}

/// The tail's search: the line being typed and the search kept.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub line: Option<SearchLine>,
    pub active: Option<Active>,
    /// Last generation handed out.
    generation: u64,
}

impl Search {
    /// Opens the search line with the kept query, to edit.
    pub fn open_line(&mut self) {
        let query = self
            .active
            .as_ref()
            .map(|a| a.query.clone())
            .unwrap_or_default();
        self.line = Some(SearchLine { query, error: None });
    }

    /// Keeps the query typed: a new search from the oldest buffered item
    /// (the same query again keeps the search as it is). A bad regex stays
    /// in the line with its error and the search before it stays. An empty
    /// query clears the search. Returns whether a scan must start.
    pub fn keep(&mut self, tail: &Tail) -> bool {
        let Some(line) = &mut self.line else {
            return false;
        };
        if line.query.text.is_empty() {
            self.line = None;
            self.active = None;
            return false;
        }
        if self.active.as_ref().is_some_and(|a| a.query == line.query) {
            self.line = None;
            return false;
        }
        match line.query.compile() {
            Err(e) => {
                line.error = Some(e);
                false
            }
            Ok(matcher) => {
                let query = line.query.clone();
                self.line = None;
                self.generation += 1;
                self.active = Some(Active::new(
                    query,
                    matcher,
                    tail.first_item(),
                    self.generation,
                ));
                true
            }
        }
    }

    /// The search starts over on a new buffer (another stream, a jump):
    /// ids there name other messages. Returns whether a scan must start.
    pub fn restart(&mut self, tail: &Tail) -> bool {
        let Some(a) = self.active.take() else {
            return false;
        };
        self.generation += 1;
        self.active = Some(Active::new(
            a.query,
            a.matcher,
            tail.first_item(),
            self.generation,
        ));
        true
    }

    /// Esc: a scan under way stops (what it found stays); otherwise the
    /// search goes.
    pub fn escape(&mut self) {
        if let Some(a) = &mut self.active
            && a.scan == Scan::Running
        {
            a.scan = Scan::Stopped;
            a.step_pending = false;
            return;
        }
        self.active = None;
    }

    /// One step of the scan of search `generation` over the tail; returns
    /// whether another step must follow. Stale steps do nothing.
    pub fn step(&mut self, generation: u64, tail: &Tail) -> bool {
        let Some(a) = self.active.as_mut() else {
            return false;
        };
        if a.generation != generation || !a.step_pending {
            return false;
        }
        a.step_pending = false;
        if a.scan == Scan::Stopped {
            return false;
        }
        a.forget_before(tail.first_item());
        let more =
            a.scan(messages_from(tail, a.next), STEP_MESSAGES, STEP_BYTES);
        a.scan = if more { Scan::Running } else { Scan::Current };
        a.step_pending = more;
        more
    }

    /// After a batch arrived (and maybe evicted older ones): drops evicted
    /// matches; returns whether a step must be sent to look at the new
    /// messages (none is on its way already).
    pub fn arrived(&mut self, tail: &Tail) -> bool {
        let Some(a) = self.active.as_mut() else {
            return false;
        };
        a.forget_before(tail.first_item());
        if a.scan == Scan::Stopped || a.step_pending {
            return false;
        }
        // A search that had looked at everything stays "current": what
        // arrives live is small, and is looked at in the next step.
        if tail.last_item().is_some_and(|last| a.next <= last) {
            a.step_pending = true;
            return true;
        }
        false
    }

    /// Marks a step as sent for the active search and gives its
    /// generation.
    pub fn send_step(&mut self) -> Option<u64> {
        let a = self.active.as_mut()?;
        a.step_pending = true;
        Some(a.generation)
    }
}

/// "1 match", "1,204 matches".
pub fn plural(n: usize) -> String {
    let n = crate::tui::format::count(n as u64);
    if n == "1" {
        "1 match".to_owned()
    } else {
        format!("{n} matches")
    }
}

/// Every buffered message from item `from` on, as `(id, bytes)`, oldest
/// first (headers are not messages and are left out).
pub fn messages_from(
    tail: &Tail,
    from: u64,
) -> impl Iterator<Item = (u64, &[u8])> {
    let start = tail
        .batches
        .partition_point(|b| b.first_item + b.items() <= from);
    tail.batches.range(start..).flat_map(move |b| {
        let skip = usize::try_from(from.saturating_sub(b.first_item + 1))
            .unwrap_or(usize::MAX)
            .min(b.len());
        (skip..b.len())
            .map(move |i| (b.first_item + 1 + i as u64, b.message(i)))
    })
}

#[cfg(test)]
mod tests;
