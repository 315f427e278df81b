//! The progress line of long reads and appends: messages, bytes and rate,
//! redrawn in place on stderr when stderr is a terminal, nothing otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::output::human_bytes;

/// Nothing is drawn for commands shorter than this.
const DELAY: Duration = Duration::from_millis(500);
/// At most about four redraws a second.
const INTERVAL: Duration = Duration::from_millis(250);

/// Counts what went through and redraws the line now and then.
pub struct Progress {
    verb: &'static str,
    enabled: bool,
    started: Instant,
    last_draw: Option<Instant>,
    messages: u64,
    bytes: u64,
    /// Count messages (JSON, lines) rather than only bytes.
    count_messages: bool,
}

impl Progress {
    /// A progress line starting with `verb` ("read", "appended"), drawn
    /// only when `wanted` and stderr is a terminal.
    pub fn new(verb: &'static str, wanted: bool) -> Progress {
        Progress {
            verb,
            enabled: wanted && std::io::stderr().is_terminal(),
            started: Instant::now(),
            last_draw: None,
            messages: 0,
            bytes: 0,
            count_messages: true,
        }
    }

    /// Shows bytes only (raw reads have no message boundaries).
    #[must_use]
    pub fn bytes_only(mut self) -> Progress {
        self.count_messages = false;
        self
    }

    /// Adds to the counts; redraws if it is time.
    pub fn add(&mut self, messages: u64, bytes: u64) {
        self.messages += messages;
        self.bytes += bytes;
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.started) < DELAY {
            return;
        }
        if self
            .last_draw
            .is_some_and(|at| now.duration_since(at) < INTERVAL)
        {
            return;
        }
        self.last_draw = Some(now);
        let line = self.line(now.duration_since(self.started));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
    }

    pub fn messages(&self) -> u64 {
        self.messages
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Erases the line, if one was drawn.
    pub fn finish(&mut self) {
        if self.last_draw.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }

    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "an approximate, non-negative rate"
    )]
    fn line(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(0.001);
        let rate = human_bytes((self.bytes as f64 / secs) as u64);
        if self.count_messages {
            let per_sec = self.messages as f64 / secs;
            format!(
                "{} {} messages, {} ({per_sec:.0} msg/s, {rate}/s)",
                self.verb,
                self.messages,
                human_bytes(self.bytes)
            )
        } else {
            format!("{} {} ({rate}/s)", self.verb, human_bytes(self.bytes))
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_counts_and_rate() {
        let mut p = Progress::new("read", false);
        p.add(10, 2048);
        let line = p.line(Duration::from_secs(2));
        assert_eq!(line, "read 10 messages, 2.0 KiB (5 msg/s, 1.0 KiB/s)");
        let raw = Progress::new("read", false).bytes_only();
        assert_eq!(raw.line(Duration::from_secs(1)), "read 0 B (0 B/s)");
        assert_eq!(p.messages(), 10);
        assert_eq!(p.bytes(), 2048);
    }
}
