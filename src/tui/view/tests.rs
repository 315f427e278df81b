//! Whole-screen snapshots at 80x24 and 160x48 of every pane, overlay and
//! dialog, with states built through `update` and a fixed clock, plus
//! buffer checks where style carries meaning. Dialog scenes are in
//! `tests/it/dialogs.rs`.

mod dialogs;
mod explorer;
mod inspector;
mod search;
mod tail_view;

use std::time::{Duration, Instant};

use bytes::Bytes;
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::*;
use crate::client::{Error, Offset, StreamMetadata};
use crate::tui::effect::Effect;
use crate::tui::keymap;
use crate::tui::message::{Message, ReaderEvent, RegistryEvent};
use crate::tui::state::Connection;
use crate::tui::state::meta::ReadInfo;
use crate::tui::state::tail::Incoming;
use crate::tui::update::{open_stream, update};

pub(super) use crate::tui::testkit::{BASE, ch, ctrl, press as key, typ};

pub(super) const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// A state of the given terminal size, with fixed wall-clock time.
pub(super) fn state(size: (u16, u16)) -> State {
    let mut s = crate::tui::testkit::new_state();
    s.size = size;
    update(&mut s, Message::Registry(RegistryEvent::Live));
    s
}

pub(super) fn registry(s: &mut State, path: &str, ct: &str) {
    update(
        s,
        Message::Registry(RegistryEvent::Created {
            path: path.into(),
            content_type: Some(ct.into()),
        }),
    );
}

pub(super) fn head(
    s: &mut State,
    path: &str,
    result: Result<StreamMetadata, Error>,
) {
    let url = s.url_of(path);
    let at = s.now;
    update(s, Message::Head { url, at, result });
}

pub(super) fn metadata(
    ct: &str,
    closed: bool,
    ttl: Option<u64>,
) -> StreamMetadata {
    StreamMetadata {
        content_type: Some(ct.into()),
        next_offset: Offset::new("0000000000000042_0000000000001337"),
        closed,
        ttl,
        expires_at: None,
        etag: None,
        cache_control: None,
    }
}

/// Raw bytes as a batch; JSON messages are split at `\x1e`.
pub(super) fn incoming(
    start: &str,
    next: &str,
    data: &[u8],
    json: bool,
    up_to_date: bool,
) -> Incoming {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    if json {
        for m in data.split(|b| *b == 0x1e) {
            bytes.extend_from_slice(m);
            ends.push(u32::try_from(bytes.len()).unwrap());
        }
    } else {
        bytes.extend_from_slice(data);
    }
    Incoming {
        arrived: "12:00:01.250".into(),
        start_offset: start.into(),
        next_offset: next.into(),
        up_to_date,
        closed: false,
        partial: !up_to_date,
        data: Bytes::from(bytes),
        ends,
    }
}

pub(super) fn deliver(s: &mut State, incoming: Incoming) {
    let reader = s.reader().id;
    let at = s.now;
    update(
        s,
        Message::Reader {
            reader,
            event: ReaderEvent::Batch {
                incoming,
                info: ReadInfo {
                    cursor: Some("c-77".into()),
                    etag: Some("\"e1\"".into()),
                    cache_control: Some("no-store".into()),
                    status: 200,
                    up_to_date: true,
                },
                at,
            },
        },
    );
}

pub(super) fn open(s: &mut State, path: &str) {
    let mut fx = Vec::new();
    open_stream(s, path, &mut fx);
}

/// A list of several streams (JSON, text, binary, closed, gone), with
/// `demo/orders` open and holding three batches of orders.
pub(super) fn orders(size: (u16, u16)) -> State {
    let mut s = state(size);
    registry(&mut s, "demo/orders", "application/json");
    registry(&mut s, "demo/app-log", "text/plain; charset=utf-8");
    registry(&mut s, "blobs/firmware", "application/octet-stream");
    registry(&mut s, "archive/2025", "application/json");
    head(
        &mut s,
        "archive/2025",
        Ok(metadata("application/json", true, None)),
    );
    registry(&mut s, "old/removed", "application/json");
    let url = s.url_of("old/removed");
    head(&mut s, "old/removed", Err(Error::NotFound { url }));
    open(&mut s, "demo/orders");
    head(
        &mut s,
        "demo/orders",
        Ok(metadata("application/json", false, Some(3600))),
    );
    let mut offset = "-1".to_owned();
    for b in 0..3u32 {
        let msgs: Vec<String> = (0..3)
            .map(|i| {
                let id = b * 3 + i;
                format!(
                    r#"{{"id":{id},"item":"widget-{id}","qty":{},"ok":true}}"#,
                    id % 4 + 1
                )
            })
            .collect();
        let next = format!("0000000000000000_{:016}", (b + 1) * 300);
        deliver(
            &mut s,
            incoming(&offset, &next, msgs.join("\x1e").as_bytes(), true, true),
        );
        offset = next;
    }
    // Opening moved the focus to the tail; scenes choose their own.
    s.focus = Pane::Streams;
    s
}

pub(super) fn render(s: &State) -> Terminal<TestBackend> {
    let mut terminal =
        Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    terminal.draw(|frame| draw(frame, s)).unwrap();
    terminal
}

/// Snapshots the scene at both sizes; returns the rendered terminals.
pub(super) fn snap(
    name: &str,
    build: impl Fn((u16, u16)) -> State,
) -> Vec<(State, Terminal<TestBackend>)> {
    SIZES
        .into_iter()
        .map(|size| {
            let s = build(size);
            let t = render(&s);
            insta::assert_snapshot!(
                format!("{name}_{}x{}", size.0, size.1),
                t.backend()
            );
            assert_clean(t.backend().buffer());
            (s, t)
        })
        .collect()
}

/// No cell holds a control character or a bidi override.
pub(super) fn assert_clean(buffer: &Buffer) {
    for (i, cell) in buffer.content().iter().enumerate() {
        assert!(
            !cell.symbol().chars().any(crate::sanitize::needs_escape),
            "cell {i} holds {:?}",
            cell.symbol()
        );
    }
}

/// The text of row `y`.
pub(super) fn row(buffer: &Buffer, y: u16) -> String {
    (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol())
        .collect()
}

pub(super) fn screen_text(buffer: &Buffer) -> String {
    (0..buffer.area.height)
        .map(|y| row(buffer, y))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn streams_focused() {
    snap("streams_focused", orders);
}

#[test]
fn streams_filtered() {
    let shots = snap("streams_filtered", |size| {
        let mut s = orders(size);
        ch(&mut s, '/');
        typ(&mut s, "DEMO");
        s
    });
    let text = screen_text(shots[0].1.backend().buffer());
    assert!(text.contains("demo/app-log") && !text.contains("firmware"));
}

#[test]
fn tail_json_pretty_and_compact() {
    let shots = snap("tail_json_pretty", |size| {
        let mut s = orders(size);
        key(&mut s, KeyCode::Tab);
        s
    });
    assert!(screen_text(shots[1].1.backend().buffer()).contains("\"qty\""));
    snap("tail_json_compact", |size| {
        let mut s = orders(size);
        key(&mut s, KeyCode::Tab);
        ch(&mut s, 'p');
        s
    });
}

#[test]
fn focused_border_is_thick_and_cyan() {
    let s = {
        let mut s = orders((80, 24));
        key(&mut s, KeyCode::Tab);
        s
    };
    let t = render(&s);
    let b = t.backend().buffer();
    let a = layout::areas(b.area, false, Pane::Tail);
    let (tail, list) =
        (&b[(a.tail.x, a.tail.y)], &b[(a.streams.x, a.streams.y)]);
    assert_eq!(tail.symbol(), "┏");
    assert_eq!(tail.fg, Color::Cyan);
    assert!(tail.modifier.contains(Modifier::BOLD));
    assert_eq!(list.symbol(), "┌");
    assert_eq!(list.fg, Color::DarkGray);
}

#[test]
fn paused_with_new_rows_below_and_a_highlighted_selection() {
    let shots = snap("tail_paused_new_below", |size| {
        let mut s = orders(size);
        key(&mut s, KeyCode::Tab);
        ch(&mut s, 'p');
        key(&mut s, KeyCode::Up);
        let more = [r#"{"id":9}"#, r#"{"id":10}"#].join("\x1e");
        deliver(
            &mut s,
            incoming(
                "0000000000000000_0000000000000900",
                "0000000000000000_0000000000000950",
                more.as_bytes(),
                true,
                true,
            ),
        );
        s
    });
    for (s, t) in &shots {
        assert_eq!(s.tail.new_below(), 2);
        let b = t.backend().buffer();
        let a = layout::areas(b.area, false, Pane::Tail);
        let highlighted: Vec<u16> = (a.tail.y + 1..a.tail.bottom() - 1)
            .filter(|&y| b[(a.tail.x + 2, y)].bg == Color::DarkGray)
            .collect();
        assert_eq!(highlighted.len(), 1, "one selected row");
        let y = highlighted[0];
        // The whole row, and it is the selected message.
        assert_eq!(b[(a.tail.right() - 2, y)].bg, Color::DarkGray);
        assert!(row(b, y).contains("widget-7"), "{}", row(b, y));
        // The marker shortens at 80 columns rather than cut the line
        // beside it (issue 10: "new below" cut the caught-up line).
        assert!(screen_text(b).contains("▼ 2 new"));
        let foot = row(b, a.tail.bottom() - 2);
        assert!(foot.contains("caught up 3 msgs in 0.0 s"), "{foot}");
        assert!(foot.contains("live (SSE)"), "{foot}");
    }
}

/// A stream of the given type with `data` in one batch, the tail focused.
pub(super) fn one_stream(
    size: (u16, u16),
    path: &str,
    ct: &str,
    data: &[u8],
) -> State {
    let mut s = state(size);
    registry(&mut s, path, ct);
    open(&mut s, path);
    head(&mut s, path, Ok(metadata(ct, false, None)));
    let json = ct.contains("json");
    deliver(&mut s, incoming("-1", "0000_0001", data, json, true));
    s.focus = Pane::Tail;
    s
}

#[test]
fn tail_text() {
    snap("tail_text", |size| {
        one_stream(
            size,
            "demo/app-log",
            "text/plain",
            b"12:00:00 INFO started\n12:00:01 WARN slow disk \xff\xfe\n\
              12:00:02 \tERROR tab\tseparated\r\nno newline at the end",
        )
    });
}

#[test]
fn tail_binary() {
    let data: Vec<u8> = (0u8..=255).chain(b"tail".iter().copied()).collect();
    snap("tail_binary", |size| {
        one_stream(size, "blobs/firmware", "application/octet-stream", &data)
    });
}

#[test]
fn tail_closed_caught_up_reconnecting_failed() {
    snap("tail_closed", |size| {
        let mut s = orders(size);
        let mut last = incoming(
            "0000000000000000_0000000000000900",
            "0000000000000000_0000000000000999",
            br#"{"bye":true}"#,
            true,
            true,
        );
        last.closed = true;
        deliver(&mut s, last);
        // The HEAD the closing batch asked for.
        head(
            &mut s,
            "demo/orders",
            Ok(metadata("application/json", true, Some(3600))),
        );
        s.focus = Pane::Tail;
        s
    });
    snap("tail_caught_up", |size| {
        let mut s = orders(size);
        ch(&mut s, '3');
        deliver(
            &mut s,
            incoming(
                "0000000000000000_0000000000000900",
                "0000000000000000_0000000000000900",
                b"",
                false,
                true,
            ),
        );
        // The notice of the mode switch is gone after its time.
        let (now, wall) = (s.now + Duration::from_secs(7), s.wall.clone());
        update(&mut s, Message::Tick { now, wall });
        s
    });
    let shots = snap("tail_reconnecting", |size| {
        let mut s = orders(size);
        // The first failure after progress restarts at once; the restarted
        // reader's failure (no progress) waits.
        for _ in 0..2 {
            let reader = s.reader().id;
            update(
                &mut s,
                Message::Reader {
                    reader,
                    event: ReaderEvent::Retry("connection refused".into()),
                },
            );
        }
        s
    });
    assert!(matches!(
        shots[0].0.reader().connection,
        Connection::Reconnecting { attempt: 1, .. }
    ));
    snap("tail_failed", |size| {
        let mut s = state(size);
        open(&mut s, "missing/stream");
        let url = s.url_of("missing/stream");
        head(&mut s, "missing/stream", Err(Error::NotFound { url }));
        s
    });
}

#[test]
fn meta_with_ttl_countdown() {
    let shots = snap("meta_ttl", |size| {
        let mut s = orders(size);
        s.focus = Pane::Meta;
        let later = s.now + Duration::from_secs(65);
        update(
            &mut s,
            Message::Tick {
                now: later,
                wall: "2026-11-28T12:01:05.000Z".into(),
            },
        );
        s
    });
    let text = screen_text(shots[1].1.backend().buffer());
    // One hour TTL, 65 s after the HEAD.
    assert!(text.contains("expires in 58m55s"), "{text}");
}

#[test]
fn composer_with_an_error() {
    let shots = snap("composer_invalid_json", |size| {
        let mut s = orders(size);
        ch(&mut s, 'a');
        typ(&mut s, "{\"id\": 10,");
        key(&mut s, KeyCode::Enter);
        typ(&mut s, "  \"item\": }");
        ctrl(&mut s, 's');
        s
    });
    // The position is said once (issue 10, "Messages a person can read").
    let text = screen_text(shots[1].1.backend().buffer());
    assert_eq!(text.matches("line 2").count(), 1, "{text}");
    assert!(text.contains("at line 2, column 11"), "{text}");
}

#[test]
fn help_lists_the_focused_panes_keys() {
    for pane in [Pane::Streams, Pane::Tail, Pane::Composer] {
        let name = format!("help_{}", pane.title().to_lowercase());
        let shots = snap(&name, |size| {
            let mut s = orders(size);
            s.focus = pane;
            if pane == Pane::Composer {
                // ? is text in the composer; help opens from elsewhere.
                s.overlay =
                    Some(Overlay::Help(crate::tui::state::Help::default()));
            } else {
                ch(&mut s, '?');
            }
            s
        });
        let text = screen_text(shots[1].1.backend().buffer());
        for b in keymap::Keymap::default().bindings_for(pane) {
            if b.scope == keymap::Scope::Pane(pane) {
                assert!(text.contains(b.help), "{pane:?}: {}", b.help);
            }
        }
    }
}

#[test]
fn detail_overlay() {
    snap("detail", |size| {
        let mut s = orders(size);
        s.focus = Pane::Tail;
        key(&mut s, KeyCode::Up);
        key(&mut s, KeyCode::Enter);
        assert!(matches!(s.overlay, Some(Overlay::Detail(_))));
        s
    });
}

#[test]
fn zoomed_tail() {
    snap("tail_zoomed", |size| {
        let mut s = orders(size);
        s.focus = Pane::Tail;
        ch(&mut s, 'z');
        s
    });
}

#[test]
fn hostile_content_never_reaches_the_terminal_raw() {
    let evil = "\x1b[2J\x1b]0;pwn\x07\u{9b}31m\u{202e}evil\u{2066}";
    // Raw control bytes inside a JSON string (invalid JSON) and escaped
    // ones (valid JSON that decodes to them).
    let raw_json = format!("{{\"msg\":\"{evil}\"}}");
    let escaped_json =
        r#"{"msg":"\u001b[2J\u001b]0;pwn\u0007\u009b31m\u202eevil"}"#;
    let both = format!("{raw_json}\x1e{escaped_json}");
    for size in SIZES {
        let mut states = vec![
            one_stream(size, "evil/json", "application/json", both.as_bytes()),
            one_stream(size, "evil/text", "text/plain", evil.as_bytes()),
        ];
        // A hostile path, content type, offset and arrival time too.
        let mut s = state(size);
        let path = format!("evil/{evil}");
        registry(&mut s, &path, &format!("application/json{evil}"));
        open(&mut s, &path);
        head(
            &mut s,
            &path,
            Ok(metadata(&format!("text/{evil}"), false, None)),
        );
        let mut inc = incoming(evil, evil, evil.as_bytes(), false, true);
        inc.arrived = evil.to_owned();
        deliver(&mut s, inc);
        states.push(s);
        for mut s in states {
            for pane in [Pane::Streams, Pane::Tail, Pane::Meta] {
                s.focus = pane;
                assert_clean(render(&s).backend().buffer());
            }
            s.focus = Pane::Tail;
            key(&mut s, KeyCode::Up);
            assert_clean(render(&s).backend().buffer());
            key(&mut s, KeyCode::Enter);
            assert_clean(render(&s).backend().buffer());
            key(&mut s, KeyCode::Esc);
            ch(&mut s, 'm');
            assert_clean(render(&s).backend().buffer());
        }
    }
    // One snapshot shows what the escaping looks like.
    snap("hostile_json", |size| {
        one_stream(size, "evil/json", "application/json", both.as_bytes())
    });
}
