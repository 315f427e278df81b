//! The protocol inspector's state: the last requests the explorer made (a
//! bounded ring of the client's observer events), their summary, and the
//! inspector view's selection. `view/inspector.rs` draws it; every value
//! from a server goes through `sanitize` there, and secret headers through
//! `client::redact_header`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::time::Duration;

use crate::client::{EventKind, LiveMode, RequestEvent, redact_header};

/// Requests kept by default (`[inspector] max_requests`).
pub const DEFAULT_MAX_REQUESTS: usize = 10_000;

/// What the inspector shows: the list, or one request's headers.
#[derive(Clone, Debug)]
pub struct Opened {
    pub event: Box<RequestEvent>,
    /// First line shown.
    pub scroll: usize,
}

/// Totals over every request seen (evicted ones included), and the
/// latency percentiles of those kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// HTTP exchanges (retries and redirect hops each count).
    pub requests: u64,
    /// SSE control events.
    pub controls: u64,
    /// Failed exchanges by status (`"404"`), or `"network"` when no
    /// response came.
    pub errors: BTreeMap<String, u64>,
    /// Exchanges that were a retry (attempt 2 or later).
    pub retries: u64,
    /// Connections reopened: by a read session, or by the tail after a
    /// failure.
    pub reconnects: u64,
    /// Body bytes, request and response.
    pub bytes: u64,
    /// Latency to the response headers, of the exchanges kept.
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    /// `304 Not Modified` answers.
    pub not_modified: u64,
    /// Responses with an `Age` header (served from a cache).
    pub aged: u64,
    /// `X-Cache` (or `CF-Cache-Status`) saying HIT, and saying MISS.
    pub cache_hits: u64,
    pub cache_misses: u64,
}

/// The inspector: a ring of the latest requests and how it is viewed.
#[derive(Clone, Debug)]
pub struct Inspector {
    rows: VecDeque<RequestEvent>,
    max: usize,
    /// Rows pushed out of the ring by newer ones.
    pub evicted: u64,
    /// Events lost on the way (the queue to the UI was full).
    pub dropped: u64,
    /// Header names the user marked secret (`[inspector] secret_headers`).
    pub secret_headers: Vec<String>,
    pub summary: Summary,
    /// The selected row; `None` follows the newest.
    pub selected: Option<usize>,
    /// One request opened (Enter), shown over the list.
    pub opened: Option<Opened>,
    /// `Y` asked whether to copy with secrets; the next key answers.
    pub confirm_secrets: bool,
}

impl Default for Inspector {
    fn default() -> Self {
        Inspector::new(DEFAULT_MAX_REQUESTS, Vec::new())
    }
}

impl Inspector {
    /// Keeps at most `max` requests (at least 1).
    pub fn new(max: usize, secret_headers: Vec<String>) -> Self {
        Inspector {
            rows: VecDeque::new(),
            max: max.max(1),
            evicted: 0,
            dropped: 0,
            secret_headers,
            summary: Summary::default(),
            selected: None,
            opened: None,
            confirm_secrets: false,
        }
    }

    /// The requests kept, oldest first.
    pub fn rows(&self) -> &VecDeque<RequestEvent> {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds what the observer told (`dropped`: events lost on the way).
    pub fn record(&mut self, events: Vec<RequestEvent>, dropped: u64) {
        self.dropped += dropped;
        for event in events {
            self.count(&event);
            self.rows.push_back(event);
        }
        let over = self.rows.len().saturating_sub(self.max);
        if over > 0 {
            self.rows.drain(..over);
            self.evicted += over as u64;
            if let Some(i) = &mut self.selected {
                *i = i.saturating_sub(over);
            }
        }
        self.percentiles();
    }

    /// The tail reconnected after a failure (a new read session).
    pub fn note_reconnect(&mut self) {
        self.summary.reconnects += 1;
    }

    fn count(&mut self, e: &RequestEvent) {
        let s = &mut self.summary;
        if e.kind == EventKind::Control {
            s.controls += 1;
            s.bytes += e.body_bytes.unwrap_or(0);
            return;
        }
        s.requests += 1;
        s.bytes += e.request_bytes + e.body_bytes.unwrap_or(0);
        if e.attempt > 1 {
            s.retries += 1;
        }
        if e.reconnect {
            s.reconnects += 1;
        }
        match e.status {
            None => *s.errors.entry("network".into()).or_default() += 1,
            Some(code) if code >= 400 => {
                *s.errors.entry(code.to_string()).or_default() += 1;
            }
            Some(304) => s.not_modified += 1,
            Some(_) => {}
        }
        if e.header("age").is_some() {
            s.aged += 1;
        }
        let cache = e.header("x-cache").or_else(|| e.header("cf-cache-status"));
        if let Some(cache) = cache.map(str::to_ascii_uppercase) {
            if cache.contains("HIT") {
                s.cache_hits += 1;
            } else if cache.contains("MISS") {
                s.cache_misses += 1;
            }
        }
    }

    fn percentiles(&mut self) {
        let mut latencies: Vec<Duration> = self
            .rows
            .iter()
            .filter(|e| e.kind == EventKind::Exchange && e.status.is_some())
            .map(|e| e.latency)
            .collect();
        self.summary.p50 = percentile(&mut latencies, 50);
        self.summary.p99 = percentile(&mut latencies, 99);
    }

    /// The row actions apply to: the selected one, else the newest.
    pub fn current(&self) -> Option<usize> {
        let last = self.rows.len().checked_sub(1)?;
        Some(self.selected.map_or(last, |i| i.min(last)))
    }

    pub fn select_by(&mut self, delta: isize) {
        let Some(at) = self.current() else {
            return;
        };
        let last = self.rows.len() - 1;
        let next = at.saturating_add_signed(delta).min(last);
        self.selected = Some(next);
    }

    pub fn select_first(&mut self) {
        if !self.rows.is_empty() {
            self.selected = Some(0);
        }
    }

    /// Follows the newest row again.
    pub fn follow(&mut self) {
        self.selected = None;
    }

    /// Opens the current row's headers.
    pub fn open_current(&mut self) {
        if let Some(i) = self.current() {
            self.opened = Some(Opened {
                event: Box::new(self.rows[i].clone()),
                scroll: 0,
            });
        }
    }

    /// The event `y` copies: the opened one, else the current row. A
    /// control event copies as its SSE request.
    pub fn to_copy(&self) -> Option<RequestEvent> {
        let event = match &self.opened {
            Some(o) => o.event.as_ref().clone(),
            None => self.rows.get(self.current()?)?.clone(),
        };
        if event.kind == EventKind::Exchange {
            return Some(event);
        }
        let request = self
            .rows
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::Exchange && e.id == event.id);
        Some(request.cloned().unwrap_or(RequestEvent {
            method: "GET".into(),
            kind: EventKind::Exchange,
            ..event
        }))
    }
}

/// One line of an opened request, as the view draws it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetailLine<'a> {
    /// Method and URL.
    Title,
    /// Status, latency, bytes, live mode, attempt, time.
    Facts,
    /// What went wrong, when something did.
    Error(&'a str),
    Blank,
    /// `Request headers (3)` / `Response headers (5)`.
    Section(&'static str, usize),
    /// One header, name and value as sent (the view redacts secrets).
    Header(&'a str, &'a str),
}

/// The lines of an opened request: every request header, then every
/// response header.
pub fn detail_lines(e: &RequestEvent) -> Vec<DetailLine<'_>> {
    let mut out = vec![DetailLine::Title, DetailLine::Facts];
    if let Some(error) = &e.error {
        out.push(DetailLine::Error(error));
    }
    out.push(DetailLine::Blank);
    let request = if e.kind == EventKind::Control {
        "Request headers: those of its SSE request"
    } else {
        "Request headers"
    };
    out.push(DetailLine::Section(request, e.request_headers.len()));
    for (n, v) in &e.request_headers {
        out.push(DetailLine::Header(n, v));
    }
    out.push(DetailLine::Blank);
    let response = if e.kind == EventKind::Control {
        "Control event fields"
    } else {
        "Response headers"
    };
    out.push(DetailLine::Section(response, e.response_headers.len()));
    for (n, v) in &e.response_headers {
        out.push(DetailLine::Header(n, v));
    }
    out
}

/// The `p`-th percentile (nearest rank) of `values`, reordering them.
pub fn percentile(values: &mut [Duration], p: usize) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let rank = (p * values.len()).div_ceil(100).max(1);
    let (_, v, _) = values.select_nth_unstable(rank - 1);
    Some(*v)
}

/// `event` as a `curl` command line. Secret headers (see
/// `client::redact_header`) and the URL's query values are redacted
/// unless `secrets`; then they are as sent.
pub fn curl(event: &RequestEvent, secrets: bool, also: &[String]) -> String {
    let url = if secrets {
        event.url.clone()
    } else {
        crate::client::redact_url(&event.url)
    };
    let mut line = String::from("curl");
    match event.method.as_str() {
        "GET" => {}
        "HEAD" => line.push_str(" --head"),
        method => {
            let _ = write!(line, " -X {}", quote(method));
        }
    }
    if matches!(event.live, Some(LiveMode::Sse | LiveMode::LongPoll)) {
        line.push_str(" -N");
    }
    let _ = write!(line, " {}", quote(&url));
    for (name, value) in &event.request_headers {
        let value = if secrets {
            value.clone()
        } else {
            redact_header(name, value, also)
        };
        let _ = write!(line, " -H {}", quote(&format!("{name}: {value}")));
    }
    if event.request_bytes > 0 {
        let _ = write!(
            line,
            " --data-binary @body  # the {}-byte body is not kept",
            event.request_bytes
        );
    }
    line
}

/// `s` in single quotes for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn event(id: u64, status: Option<u16>, ms: u64) -> RequestEvent {
        RequestEvent {
            id,
            kind: EventKind::Exchange,
            method: "GET".into(),
            url: format!("http://h/v1/stream/s?offset={id}&token=t0k"),
            at: SystemTime::UNIX_EPOCH,
            status,
            latency: Duration::from_millis(ms),
            request_headers: vec![
                ("authorization".into(), "Bearer s3cr3t-token".into()),
                ("x-team".into(), "blue".into()),
            ],
            response_headers: vec![("stream-next-offset".into(), "5".into())],
            request_bytes: 0,
            body_bytes: Some(10),
            live: Some(LiveMode::Off),
            attempt: 1,
            reconnect: false,
            error: None,
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_and_counts_the_rest() {
        let mut i = Inspector::new(3, Vec::new());
        i.record((1..=5).map(|n| event(n, Some(200), n)).collect(), 2);
        let ids: Vec<u64> = i.rows().iter().map(|e| e.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        assert_eq!((i.evicted, i.dropped), (2, 2));
        assert_eq!(i.summary.requests, 5, "totals count evicted rows");
        i.selected = Some(2);
        i.record(vec![event(6, Some(200), 1)], 0);
        assert_eq!(i.selected, Some(1), "the selection stays on its row");
        assert_eq!(i.rows()[1].id, 5);
        assert_eq!(i.len(), 3);
    }

    #[test]
    fn summary_counts_errors_retries_reconnects_and_cache_hints() {
        let mut i = Inspector::default();
        let mut retry = event(2, Some(503), 4);
        retry.attempt = 2;
        let mut reconnect = event(3, Some(200), 4);
        reconnect.reconnect = true;
        let mut cached = event(4, Some(304), 4);
        cached.response_headers.push(("Age".into(), "12".into()));
        cached
            .response_headers
            .push(("X-Cache".into(), "HIT".into()));
        let mut missed = event(5, Some(200), 4);
        missed
            .response_headers
            .push(("x-cache".into(), "Miss from c".into()));
        let mut control = event(3, Some(200), 1);
        control.kind = EventKind::Control;
        control.body_bytes = Some(100);
        let refused = RequestEvent {
            status: None,
            body_bytes: None,
            ..event(6, None, 0)
        };
        i.record(
            vec![
                event(1, Some(404), 4),
                retry,
                reconnect,
                cached,
                missed,
                control,
                refused,
            ],
            0,
        );
        i.note_reconnect();
        let s = &i.summary;
        assert_eq!((s.requests, s.controls), (6, 1));
        let errors: Vec<(&str, u64)> =
            s.errors.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(errors, [("404", 1), ("503", 1), ("network", 1)]);
        assert_eq!((s.retries, s.reconnects), (1, 2));
        assert_eq!((s.not_modified, s.aged), (1, 1));
        assert_eq!((s.cache_hits, s.cache_misses), (1, 1));
        assert_eq!(s.bytes, 5 * 10 + 100);
    }

    #[test]
    fn percentiles_are_nearest_rank_over_answered_exchanges() {
        let mut i = Inspector::default();
        let mut events: Vec<RequestEvent> =
            (1..=100).map(|n| event(n, Some(200), n)).collect();
        events.reverse();
        // No response: not a latency.
        events.push(event(101, None, 9_999));
        i.record(events, 0);
        assert_eq!(i.summary.p50, Some(Duration::from_millis(50)));
        assert_eq!(i.summary.p99, Some(Duration::from_millis(99)));
        let mut one = [Duration::from_millis(7)];
        assert_eq!(percentile(&mut one, 99), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&mut [], 50), None);
    }

    #[test]
    fn a_curl_line_redacts_secrets_unless_asked() {
        let e = event(1, Some(200), 1);
        let redacted = curl(&e, false, &[]);
        assert_eq!(
            redacted,
            "curl 'http://h/v1/stream/s?offset=1&token=***' \
             -H 'authorization: Bearer *** (12 chars)' -H 'x-team: blue'"
        );
        let also = vec!["X-Team".to_owned()];
        assert!(curl(&e, false, &also).contains("'x-team: *** (4 chars)'"));
        let clear = curl(&e, true, &also);
        assert!(clear.contains("Bearer s3cr3t-token"), "{clear}");
        assert!(clear.contains("token=t0k"), "{clear}");
        let post = RequestEvent {
            method: "POST".into(),
            request_bytes: 12,
            live: None,
            request_headers: vec![("x-q".into(), "it's".into())],
            ..event(2, Some(204), 1)
        };
        assert_eq!(
            curl(&post, false, &[]),
            "curl -X 'POST' 'http://h/v1/stream/s?offset=2&token=***' \
             -H 'x-q: it'\\''s' --data-binary @body  # the 12-byte body is \
             not kept"
        );
        let sse = RequestEvent {
            method: "HEAD".into(),
            live: Some(LiveMode::Sse),
            request_headers: Vec::new(),
            ..event(3, Some(200), 1)
        };
        assert!(curl(&sse, false, &[]).starts_with("curl --head -N 'http"));
    }

    #[test]
    fn a_control_row_copies_as_its_sse_request() {
        let mut i = Inspector::default();
        let mut get = event(7, Some(200), 1);
        get.live = Some(LiveMode::Sse);
        let mut control = event(7, Some(200), 1);
        control.kind = EventKind::Control;
        control.method = "SSE".into();
        control.request_headers.clear();
        i.record(vec![get, control], 0);
        let copied = i.to_copy().unwrap();
        assert_eq!(copied.kind, EventKind::Exchange);
        assert_eq!(copied.request_headers.len(), 2);
        i.select_by(-1);
        assert_eq!(i.current(), Some(0));
        i.open_current();
        assert_eq!(i.to_copy().unwrap().id, 7);
    }
}
