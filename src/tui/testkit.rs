//! Test helpers shared by the `update` and `view` tests: a state on a fixed
//! base URL and wall clock, and key presses through the real `update`.

use std::time::Instant;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

use crate::tui::effect::Effect;
use crate::tui::message::Message;
use crate::tui::state::State;
use crate::tui::update::update;

/// The server every test state points at (nothing listens there).
pub const BASE: &str = "http://127.0.0.1:1/v1/stream";

/// A state on [`BASE`] with a fixed wall-clock time.
pub fn new_state() -> State {
    let mut s = State::new(BASE, Instant::now());
    s.wall = "2026-11-28T12:00:00.000Z".into();
    s
}

pub fn press_with(
    s: &mut State,
    code: KeyCode,
    modifiers: KeyModifiers,
) -> Vec<Effect> {
    update(
        s,
        Message::Input(Event::Key(KeyEvent::new(code, modifiers))),
    )
}

pub fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    press_with(s, code, KeyModifiers::NONE)
}

pub fn ch(s: &mut State, c: char) -> Vec<Effect> {
    press(s, KeyCode::Char(c))
}

pub fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
    press_with(s, KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types text key by key; returns every effect.
pub fn typ(s: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| ch(s, c)).collect()
}

/// The token the inspector tests send: it must never be on screen.
pub const TOKEN: &str = "s3cr3t-t0ken-0123456789";

/// A request event as the client's observer tells it: `ms` after a fixed
/// time, `id`, and the explorer's `Authorization` header.
pub fn request(
    id: u64,
    method: &str,
    path_query: &str,
    status: Option<u16>,
    ms: u64,
) -> crate::client::RequestEvent {
    use std::time::{Duration, SystemTime};
    crate::client::RequestEvent {
        id,
        kind: crate::client::EventKind::Exchange,
        method: method.into(),
        url: format!("{BASE}/{path_query}"),
        at: SystemTime::UNIX_EPOCH
            + Duration::from_secs(1_795_000_000)
            + Duration::from_millis(id * 137),
        status,
        latency: Duration::from_millis(ms),
        request_headers: vec![
            ("authorization".into(), format!("Bearer {TOKEN}")),
            ("accept".into(), "*/*".into()),
        ],
        response_headers: Vec::new(),
        request_bytes: 0,
        body_bytes: Some(0),
        live: None,
        attempt: 1,
        reconnect: false,
        error: None,
    }
}

/// A spread of requests: HEAD, a catch-up read, an SSE read with two
/// control events, an append retried after a 503, a refused connection.
pub fn requests() -> Vec<crate::client::RequestEvent> {
    use crate::client::{EventKind, LiveMode};
    let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    };
    let mut head = request(1, "HEAD", "demo/orders", Some(200), 3);
    head.response_headers = h(&[
        ("content-type", "application/json"),
        ("stream-next-offset", "0000000000000000_0000000000000900"),
        ("stream-ttl", "3600"),
        ("etag", "\"e1\""),
    ]);
    let mut catch_up =
        request(2, "GET", "demo/orders?offset=-1", Some(200), 12);
    catch_up.live = Some(LiveMode::Off);
    catch_up.body_bytes = Some(48_213);
    catch_up.response_headers = h(&[
        ("content-type", "application/json"),
        ("stream-next-offset", "0000000000000000_0000000000000900"),
        ("stream-up-to-date", "true"),
        ("cache-control", "public, max-age=60"),
        ("age", "4"),
        ("x-cache", "HIT"),
        ("set-cookie", "edge=abcdef0123; Path=/"),
    ]);
    let mut sse = request(
        3,
        "GET",
        "demo/orders?live=sse&offset=0000000000000000_0000000000000900",
        Some(200),
        2,
    );
    sse.live = Some(LiveMode::Sse);
    sse.body_bytes = None;
    sse.response_headers = h(&[("content-type", "text/event-stream")]);
    let control = |n: u64, next: &str, bytes: u64| {
        let mut c = request(3, "SSE", &sse.url[BASE.len() + 1..], Some(200), n);
        c.kind = EventKind::Control;
        c.at += std::time::Duration::from_millis(n * 250);
        c.live = Some(LiveMode::Sse);
        c.request_headers.clear();
        c.body_bytes = Some(bytes);
        c.response_headers = h(&[
            ("Stream-Next-Offset", next),
            ("Stream-Cursor", "c-77"),
            ("Stream-Up-To-Date", "true"),
        ]);
        c
    };
    let c1 = control(1, "0000000000000000_0000000000001000", 231);
    let c2 = control(2, "0000000000000000_0000000000001100", 198);
    let mut busy = request(4, "POST", "demo/orders", Some(503), 40);
    busy.request_bytes = 27;
    busy.body_bytes = None;
    busy.response_headers = h(&[("retry-after", "1")]);
    let mut retried = request(5, "POST", "demo/orders", Some(204), 5);
    retried.attempt = 2;
    retried.request_bytes = 27;
    retried.response_headers = h(&[
        ("stream-next-offset", "0000000000000000_0000000000001200"),
        ("producer-epoch", "0"),
        ("producer-seq", "7"),
    ]);
    let mut refused =
        request(6, "GET", "demo/orders?live=sse&offset=x", None, 1);
    refused.live = Some(LiveMode::Sse);
    refused.reconnect = true;
    refused.body_bytes = None;
    refused.error = Some("connection refused \u{1b}[31m".into());
    vec![head, catch_up, sse, c1, c2, busy, retried, refused]
}
