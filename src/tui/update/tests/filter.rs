//! The tail's live filter (`|`): applying, live batches, projections,
//! errors, clearing, the history, and acting on the real message.

use super::*;
use crate::tui::state::filter::{LineKind, STEP};

fn log(i: u32, level: &str) -> String {
    format!(
        r#"{{"id":{i},"level":"{level}","order":{{"id":"o{i}"}},"status":"s{i}"}}"#
    )
}

/// An open JSON stream, tail focused, with `n` messages in batches of
/// ten: every seventh is an error.
fn logs(n: u32) -> State {
    let mut s = new_state();
    open_json(&mut s, "logs");
    s.focus = Pane::Tail;
    s.json_style = JsonStyle::Compact;
    for b in 0..n.div_ceil(10) {
        let msgs: Vec<String> = (b * 10..((b + 1) * 10).min(n))
            .map(|i| log(i, if i % 7 == 0 { "error" } else { "info" }))
            .collect();
        let (from, to) = (format!("o{b}"), format!("o{}", b + 1));
        deliver(
            &mut s,
            batch(
                &from,
                &to,
                &msgs.iter().map(String::as_str).collect::<Vec<_>>(),
                false,
            ),
        );
    }
    s
}

/// Runs queued filter steps as the executor would (bounded).
fn settle(s: &mut State, mut fx: Vec<Effect>) -> usize {
    let mut steps = 0;
    while fx.contains(&Effect::FilterStep) {
        assert!(steps < 10_000, "the filter never finished");
        steps += 1;
        fx = update(s, Message::FilterStep);
    }
    steps
}

fn set(s: &mut State, filter: &str) -> Vec<Effect> {
    let mut fx = ch(s, '|');
    // The line starts with the filter applied, to edit: start afresh.
    fx.extend(ctrl(s, 'u'));
    fx.extend(typ(s, filter));
    fx.extend(press(s, KeyCode::Enter));
    fx
}

fn shown_ids(s: &State) -> Vec<u64> {
    let a = s.filter.active.as_ref().unwrap();
    a.iter_shown(&s.tail)
        .map(|m| {
            let v: serde_json::Value = serde_json::from_slice(m.raw).unwrap();
            v["id"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn a_select_shows_only_matching_messages_buffered_and_live() {
    let mut s = logs(30);
    let fx = set(&mut s, r#"select(.level == "error")"#);
    settle(&mut s, fx);
    assert!(s.filter.line.is_none());
    assert_eq!(shown_ids(&s), [0, 7, 14, 21, 28]);
    // Live: a batch that arrives is filtered as it comes.
    let msgs = [log(30, "info"), log(31, "error"), log(32, "info")];
    let fx = deliver(
        &mut s,
        batch(
            "o3",
            "o4",
            &msgs.iter().map(String::as_str).collect::<Vec<_>>(),
            false,
        ),
    );
    settle(&mut s, fx);
    assert_eq!(shown_ids(&s), [0, 7, 14, 21, 28, 31]);
    // The tail keeps every message.
    assert_eq!(s.tail.buffered_messages, 33);
    assert!(s.history_has(r#"select(.level == "error")"#));
}

impl State {
    fn history_has(&self, f: &str) -> bool {
        self.filter.history.iter().any(|h| h == f)
    }
}

#[test]
fn a_large_buffer_is_filtered_in_steps_with_progress() {
    let n = u32::try_from(STEP).unwrap() * 3 + 5;
    let mut s = logs(n);
    let fx = set(&mut s, r#"select(.level == "error")"#);
    // The first step is done at once; the rest are queued, one at a time.
    assert_eq!(fx.iter().filter(|e| **e == Effect::FilterStep).count(), 1);
    assert!(s.filter.active.as_ref().unwrap().left(&s.tail) > 0);
    let steps = settle(&mut s, fx);
    assert_eq!(steps, 3);
    let a = s.filter.active.as_ref().unwrap();
    assert_eq!(a.left(&s.tail), 0);
    assert_eq!(a.shown.len(), usize::try_from(n.div_ceil(7)).unwrap());
}

#[test]
fn a_projection_shows_its_output_and_keeps_the_raw_message() {
    let mut s = logs(10);
    let fx = set(&mut s, "{id: .order.id, status}");
    settle(&mut s, fx);
    let a = s.filter.active.as_ref().unwrap();
    let first = a.iter_shown(&s.tail).next().unwrap();
    assert_eq!(first.text, Some(r#"{"id":"o0","status":"s0"}"#));
    assert_eq!(first.raw, log(0, "error").as_bytes());
    assert_eq!(a.shown.len(), 10);
}

#[test]
fn a_bad_filter_says_where_and_keeps_the_one_applied() {
    let mut s = logs(20);
    let fx = set(&mut s, r#"select(.level == "error")"#);
    settle(&mut s, fx);
    let fx = set(&mut s, "select(.level ==)");
    assert!(!fx.contains(&Effect::FilterStep));
    let line = s.filter.line.as_ref().expect("the line stays open");
    let err = line.error.as_ref().unwrap();
    assert_eq!(err.column, Some(17), "{err:?}");
    assert!(err.text.contains("character 17"), "{err:?}");
    let a = s.filter.active.as_ref().unwrap();
    assert_eq!(a.source, r#"select(.level == "error")"#);
    assert_eq!(shown_ids(&s), [0, 7, 14]);
    // Typing again drops the error.
    ch(&mut s, ' ');
    assert!(s.filter.line.as_ref().unwrap().error.is_none());
}

#[test]
fn run_time_errors_are_counted_and_do_not_stop_the_filter() {
    let mut s = new_state();
    open_json(&mut s, "mixed");
    s.focus = Pane::Tail;
    deliver(
        &mut s,
        batch(
            "a",
            "b",
            &[r#"{"n":1}"#, "[1]", r#"{"n":2}"#, "\"x\""],
            false,
        ),
    );
    let fx = set(&mut s, "select(.n > 1)");
    settle(&mut s, fx);
    let a = s.filter.active.as_ref().unwrap();
    assert_eq!(a.errors, 2);
    assert!(a.first_error.as_deref().unwrap().contains("jq error"));
    assert_eq!(a.shown.len(), 1);
    let fx = deliver(&mut s, batch("b", "c", &[r#"{"n":5}"#, "[2]"], false));
    settle(&mut s, fx);
    let a = s.filter.active.as_ref().unwrap();
    assert_eq!((a.errors, a.shown.len()), (3, 2));
}

#[test]
fn esc_clears_and_everything_shows_again_without_a_read() {
    let mut s = logs(20);
    let fx = set(&mut s, r#"select(.level == "error")"#);
    settle(&mut s, fx);
    press(&mut s, KeyCode::Up); // the error at 7
    let fx = press(&mut s, KeyCode::Esc);
    assert!(s.filter.active.is_none());
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::StartReader { .. })),
        "{fx:?}"
    );
    // Back in the whole tail at the message the cursor was on.
    assert!(!s.tail.follow);
    let raw = s.tail.current_message().unwrap();
    assert_eq!(raw, log(7, "error").as_bytes());
    // Esc in the filter line clears too.
    let fx = set(&mut s, "select(.id == 3)");
    settle(&mut s, fx);
    ch(&mut s, '|');
    press(&mut s, KeyCode::Esc);
    assert!(s.filter.active.is_none() && s.filter.line.is_none());
}

#[test]
fn bookmark_copy_and_detail_act_on_the_real_message_under_the_cursor() {
    let mut s = logs(30);
    let fx = set(&mut s, r#"select(.level == "error")"#);
    settle(&mut s, fx);
    // Following: the newest shown message (28) is the current one.
    assert_eq!(
        s.tail.current_message().unwrap(),
        log(28, "error").as_bytes()
    );
    press(&mut s, KeyCode::Up);
    press(&mut s, KeyCode::Up); // 14
    let fx = ch(&mut s, 'y');
    assert_eq!(fx, [Effect::Copy(log(14, "error"))]);
    let mark = s.tail.current_mark().unwrap();
    // Message 14 is the fifth of the batch read from o1.
    assert_eq!((mark.offset.as_str(), mark.skip), ("o1", 4));
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.overlay, Some(Overlay::Detail(_))));
    press(&mut s, KeyCode::Esc);
    // The projection's real message is what a copy takes.
    let fx = set(&mut s, "{status}");
    settle(&mut s, fx);
    press(&mut s, KeyCode::Home);
    assert_eq!(ch(&mut s, 'y'), [Effect::Copy(log(0, "error"))]);
}

#[test]
fn moving_in_the_filtered_view_and_new_below() {
    let mut s = logs(30);
    let fx = set(&mut s, r#"select(.level == "error")"#);
    settle(&mut s, fx);
    press(&mut s, KeyCode::Home);
    let a = s.filter.active.as_ref().unwrap();
    assert_eq!(a.selected, a.shown.front().map(|x| x.item));
    press(&mut s, KeyCode::Down);
    assert_eq!(
        s.tail.current_message().unwrap(),
        log(7, "error").as_bytes()
    );
    let msgs = [log(35, "error"), log(36, "error")];
    let fx = deliver(
        &mut s,
        batch(
            "o3",
            "o4",
            &msgs.iter().map(String::as_str).collect::<Vec<_>>(),
            false,
        ),
    );
    settle(&mut s, fx);
    assert_eq!(s.filter.active.as_ref().unwrap().new_below(), 2);
    ch(&mut s, 'f');
    let a = s.filter.active.as_ref().unwrap();
    assert_eq!((a.selected, a.new_below()), (None, 0));
    assert_eq!(
        s.tail.current_message().unwrap(),
        log(36, "error").as_bytes()
    );
}

#[test]
fn evicted_messages_leave_the_filtered_view() {
    let mut s = new_state();
    s.tail.limits = Limits {
        max_messages: 15,
        max_bytes: u64::MAX,
    };
    open_json(&mut s, "logs");
    s.focus = Pane::Tail;
    let fx = set(&mut s, "select(.level == \"error\")");
    settle(&mut s, fx);
    for b in 0..3u32 {
        let msgs: Vec<String> = (b * 10..(b + 1) * 10)
            .map(|i| log(i, if i % 7 == 0 { "error" } else { "info" }))
            .collect();
        let fx = deliver(
            &mut s,
            batch(
                "a",
                "b",
                &msgs.iter().map(String::as_str).collect::<Vec<_>>(),
                false,
            ),
        );
        settle(&mut s, fx);
    }
    // 15 buffered: ids 15..30; the errors among them: 21, 28.
    assert_eq!(s.tail.buffered_messages, 15);
    assert_eq!(shown_ids(&s), [21, 28]);
}

#[test]
fn history_is_kept_bounded_and_recalled_with_up_and_down() {
    let mut s = logs(5);
    let mut saved = Vec::new();
    for f in [".id", ".status", ".id"] {
        let fx = set(&mut s, f);
        saved.extend(fx.into_iter().filter_map(|e| match e {
            Effect::SaveFilterHistory(h) => Some(h),
            _ => None,
        }));
    }
    assert_eq!(s.filter.history, [".status", ".id"]);
    assert_eq!(saved.last().unwrap(), &[".status", ".id"]);
    ch(&mut s, '|');
    ctrl(&mut s, 'u');
    press(&mut s, KeyCode::Up);
    assert_eq!(s.filter.line.as_ref().unwrap().input.value, ".id");
    press(&mut s, KeyCode::Up);
    assert_eq!(s.filter.line.as_ref().unwrap().input.value, ".status");
    press(&mut s, KeyCode::Up);
    assert_eq!(s.filter.line.as_ref().unwrap().input.value, ".status");
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Down);
    assert_eq!(s.filter.line.as_ref().unwrap().input.value, "");
    for i in 0..150 {
        s.filter.remember(&format!(".f{i}"));
    }
    assert_eq!(s.filter.history.len(), 100);
    assert_eq!(s.filter.history.last().unwrap(), ".f149");
}

#[test]
fn text_streams_filter_lines_by_substring_or_regex() {
    let mut s = new_state();
    open_typed(&mut s, "app-log", "text/plain");
    s.focus = Pane::Tail;
    let text = "GET /a 200\nGET /b 500\nPOST /c 503\nGET /d 200\n";
    deliver(
        &mut s,
        Incoming {
            data: Bytes::from(text),
            ends: Vec::new(),
            ..batch("a", "b", &[] as &[&str], false)
        },
    );
    let fx = set(&mut s, "GET");
    settle(&mut s, fx);
    assert_eq!(s.filter.active.as_ref().unwrap().shown.len(), 3);
    ch(&mut s, '|');
    ctrl(&mut s, 'u');
    ctrl(&mut s, 'r');
    assert_eq!(s.filter.line.as_ref().unwrap().kind, LineKind::Regex);
    typ(&mut s, r" 5\d\d$");
    let fx = press(&mut s, KeyCode::Enter);
    settle(&mut s, fx);
    let a = s.filter.active.as_ref().unwrap();
    let lines: Vec<&[u8]> = a.iter_shown(&s.tail).map(|m| m.raw).collect();
    assert_eq!(lines, [&b"GET /b 500\n"[..], b"POST /c 503\n"]);
    // A bad regex keeps the filter applied.
    ch(&mut s, '|');
    ctrl(&mut s, 'u');
    typ(&mut s, "(");
    press(&mut s, KeyCode::Enter);
    assert!(s.filter.line.as_ref().unwrap().error.is_some());
    assert_eq!(s.filter.active.as_ref().unwrap().line, LineKind::Regex);
}

#[test]
fn opening_another_stream_drops_the_filter() {
    let mut s = logs(10);
    let fx = set(&mut s, ".id");
    settle(&mut s, fx);
    let mut fx = Vec::new();
    open_stream(&mut s, "other", &mut fx);
    assert!(s.filter.active.is_none());
}
