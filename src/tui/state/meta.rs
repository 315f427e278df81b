//! HEAD metadata of the open stream, what the last read said, and the
//! messages-per-second history behind the sparkline.

use std::time::{Duration, Instant};

use crate::client::StreamMetadata;

/// Seconds of history the sparkline shows.
pub const RATE_HISTORY: usize = 60;

/// What the last read response said beyond its data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadInfo {
    pub cursor: Option<String>,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    pub status: u16,
    pub up_to_date: bool,
}

/// The metadata pane.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub head: Option<StreamMetadata>,
    /// When that HEAD answered (for the TTL countdown).
    pub head_at: Option<Instant>,
    /// The last HEAD failed: status and message.
    pub head_error: Option<String>,
    pub loading: bool,
    pub read: ReadInfo,
    /// Live arrivals only: what catch-up brought is in `catch_up`.
    pub rate: Rate,
    pub catch_up: CatchUp,
}

/// What the reader brought before it first reached the tail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// When reading started.
    pub started: Option<Instant>,
    pub messages: u64,
    /// How long reaching the tail took; `None` while catching up.
    pub took: Option<Duration>,
}

impl CatchUp {
    /// Starts counting a new catch-up at `now`.
    pub fn start(now: Instant) -> CatchUp {
        CatchUp {
            started: Some(now),
            ..CatchUp::default()
        }
    }

    /// Counts `n` messages that arrived at `at`; `up_to_date` ends the
    /// catch-up. Returns whether they were live arrivals instead.
    pub fn record(&mut self, n: u64, at: Instant, up_to_date: bool) -> bool {
        if self.took.is_some() {
            return true;
        }
        self.messages += n;
        if up_to_date {
            let started = self.started.unwrap_or(at);
            self.took = Some(at.saturating_duration_since(started));
        }
        false
    }
}

impl Meta {
    /// Seconds left of the TTL if the stream stays idle, counting from the
    /// HEAD that reported it.
    pub fn ttl_left(&self, now: Instant) -> Option<Duration> {
        let ttl = Duration::from_secs(self.head.as_ref()?.ttl?);
        let at = self.head_at?;
        Some(ttl.saturating_sub(now.saturating_duration_since(at)))
    }
}

/// Messages per second, in one-second buckets.
#[derive(Clone, Debug, Default)]
pub struct Rate {
    /// Completed seconds, oldest first, at most `RATE_HISTORY`.
    pub history: Vec<u64>,
    /// Messages in the second being counted.
    current: u64,
    /// Start of that second.
    started: Option<Instant>,
}

impl Rate {
    /// Counts `n` messages that arrived at `at`.
    pub fn record(&mut self, n: u64, at: Instant) {
        self.advance(at);
        self.current += n;
    }

    /// Closes the seconds that have passed by `now`.
    pub fn advance(&mut self, now: Instant) {
        let Some(start) = self.started else {
            self.started = Some(now);
            return;
        };
        let elapsed = now.saturating_duration_since(start).as_secs();
        if elapsed == 0 {
            return;
        }
        self.push(self.current);
        self.current = 0;
        // Seconds with nothing in them.
        for _ in 1..elapsed.min(RATE_HISTORY as u64 + 1) {
            self.push(0);
        }
        self.started = Some(start + Duration::from_secs(elapsed));
    }

    fn push(&mut self, v: u64) {
        self.history.push(v);
        if self.history.len() > RATE_HISTORY {
            self.history.remove(0);
        }
    }

    /// The last complete second's count.
    pub fn per_second(&self) -> u64 {
        self.history.last().copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_buckets_by_second_and_fills_idle_seconds() {
        let t0 = Instant::now();
        let mut r = Rate::default();
        r.record(0, t0);
        r.record(5, t0 + Duration::from_millis(100));
        r.record(5, t0 + Duration::from_millis(900));
        r.advance(t0 + Duration::from_millis(1100));
        assert_eq!(r.per_second(), 10);
        r.advance(t0 + Duration::from_millis(4100));
        assert_eq!(r.history, vec![10, 0, 0, 0]);
        for i in 0..200 {
            r.advance(t0 + Duration::from_secs(5 + i));
        }
        assert_eq!(r.history.len(), RATE_HISTORY);
    }

    #[test]
    fn ttl_counts_down_from_the_head() {
        let t0 = Instant::now();
        let meta = Meta {
            head: Some(StreamMetadata {
                content_type: None,
                next_offset: crate::client::Offset::new("x"),
                closed: false,
                ttl: Some(60),
                expires_at: None,
                etag: None,
                cache_control: None,
            }),
            head_at: Some(t0),
            ..Meta::default()
        };
        assert_eq!(
            meta.ttl_left(t0 + Duration::from_secs(15)),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            meta.ttl_left(t0 + Duration::from_mins(10)),
            Some(Duration::ZERO)
        );
    }
}
