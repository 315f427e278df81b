//! The tail's search through keys and messages: the search line, `n` /
//! `N`, Esc, steps, live arrivals, a new buffer.

use super::*;

/// An open JSON stream, tail focused, one batch of `msgs`.
fn tail_of(msgs: &[&str]) -> State {
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    s.json_style = JsonStyle::Compact;
    deliver(&mut s, batch("o0", "o1", msgs, false));
    s
}

/// The search steps among effects.
fn steps(fx: &[Effect]) -> Vec<u64> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SearchStep { generation } => Some(*generation),
            _ => None,
        })
        .collect()
}

/// Runs the steps asked for, as the executor would send them back, until
/// none is asked for (bounded); returns how many ran.
fn run_steps(s: &mut State, fx: &[Effect]) -> usize {
    let mut queue = steps(fx);
    let mut ran = 0;
    while let Some(generation) = queue.pop() {
        assert!(ran < 1_000, "the scan does not end");
        queue.extend(steps(&update(s, Message::SearchStep { generation })));
        ran += 1;
    }
    ran
}

/// `/`, the query, Enter, then the scan to its end.
fn search_for(s: &mut State, text: &str) {
    ch(s, '/');
    typ(s, text);
    let fx = press(s, KeyCode::Enter);
    run_steps(s, &fx);
}

fn selected_text(s: &State) -> String {
    String::from_utf8_lossy(s.tail.current_message().unwrap()).into_owned()
}

fn count(s: &State) -> usize {
    s.search
        .active
        .as_ref()
        .map_or(0, crate::tui::state::search::Active::count)
}

#[test]
fn slash_in_the_tail_searches_and_in_the_list_filters() {
    let mut s = tail_of(&["a", "quit now", "b"]);
    ch(&mut s, '/');
    assert!(s.search.line.is_some());
    assert!(!s.streams.filtering);
    // q is text in the search line.
    typ(&mut s, "quit");
    assert!(!s.quit);
    assert_eq!(s.search.line.as_ref().unwrap().query.text, "quit");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(steps(&fx).len(), 1);
    assert!(s.search.line.is_none());
    run_steps(&mut s, &fx);
    assert_eq!(count(&s), 1);
    // In the stream list, / is still the filter.
    s.focus = Pane::Streams;
    ch(&mut s, '/');
    assert!(s.streams.filtering);
}

#[test]
fn ctrl_r_makes_the_query_a_regex_and_a_bad_one_keeps_the_old_search() {
    let mut s = tail_of(&["id 12", "id x", "id 7"]);
    search_for(&mut s, "id 1");
    assert_eq!(count(&s), 1);
    ch(&mut s, '/');
    // The line opens with the query kept; replace it with a regex.
    for _ in 0..4 {
        press(&mut s, KeyCode::Backspace);
    }
    typ(&mut s, r"id \d+");
    ctrl(&mut s, 'r');
    let fx = press(&mut s, KeyCode::Enter);
    run_steps(&mut s, &fx);
    assert!(s.search.active.as_ref().unwrap().query.regex);
    assert_eq!(count(&s), 2);
    // A bad regex: the error shows in the line, the search stays.
    ch(&mut s, '/');
    typ(&mut s, "(");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(steps(&fx).is_empty());
    let line = s.search.line.as_ref().expect("the line stays open");
    assert!(line.error.as_deref().unwrap().contains("bad regex"));
    assert_eq!(s.search.active.as_ref().unwrap().query.text, r"id \d+");
    assert_eq!(count(&s), 2);
    // Typing clears the error; Ctrl-R back to plain text finds "(".
    ctrl(&mut s, 'r');
    assert_eq!(s.search.line.as_ref().unwrap().error, None);
}

#[test]
fn n_and_shift_n_move_through_the_matches_and_wrap() {
    let mut s = tail_of(&["err 1", "ok", "err 2", "ok", "err 3"]);
    search_for(&mut s, "err");
    assert!(s.tail.follow, "a search does not move the view");
    ch(&mut s, 'n');
    assert!(!s.tail.follow);
    assert_eq!(selected_text(&s), "err 1");
    let place = |s: &State| s.search.active.as_ref().unwrap().current_place();
    assert_eq!(place(&s), Some(1));
    ch(&mut s, 'n');
    assert_eq!(selected_text(&s), "err 2");
    ch(&mut s, 'n');
    assert_eq!(selected_text(&s), "err 3");
    assert_eq!(place(&s), Some(3));
    s.notice = None;
    ch(&mut s, 'n');
    assert_eq!(selected_text(&s), "err 1");
    assert!(s.notice.as_ref().unwrap().text.contains("wrapped"));
    ch(&mut s, 'N');
    assert_eq!(selected_text(&s), "err 3");
    ch(&mut s, 'N');
    assert_eq!(selected_text(&s), "err 2");
    // From the live end, N is the newest match.
    ch(&mut s, 'f');
    ch(&mut s, 'N');
    assert_eq!(selected_text(&s), "err 3");
}

#[test]
fn matches_arriving_live_are_counted_and_reachable() {
    let mut s = tail_of(&["err 1", "ok"]);
    search_for(&mut s, "err");
    assert_eq!(count(&s), 1);
    for i in 2..=5u32 {
        let (from, to) = (format!("o{i}"), format!("o{}", i + 1));
        let msg = format!("err {i}");
        let fx = deliver(&mut s, batch(&from, &to, &["ok", &msg], false));
        assert_eq!(steps(&fx).len(), 1, "a step for the new messages");
        run_steps(&mut s, &fx);
        assert_eq!(count(&s), i as usize);
    }
    ch(&mut s, 'N');
    assert_eq!(selected_text(&s), "err 5");
}

#[test]
fn esc_stops_a_long_search_then_clears_it() {
    let msgs: Vec<String> = (0..60_000).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    let mut s = tail_of(&refs);
    ch(&mut s, '/');
    typ(&mut s, "m1");
    let fx = press(&mut s, KeyCode::Enter);
    let g = steps(&fx)[0];
    let fx = update(&mut s, Message::SearchStep { generation: g });
    assert_eq!(steps(&fx), [g], "more to scan");
    press(&mut s, KeyCode::Esc);
    let a = s.search.active.as_ref().unwrap();
    assert_eq!(a.scan, crate::tui::state::search::Scan::Stopped);
    let text = &s.notice.as_ref().unwrap().text;
    assert!(text.contains("search stopped at"), "{text}");
    // The step on its way does nothing more.
    let before = count(&s);
    assert!(
        steps(&update(&mut s, Message::SearchStep { generation: g }))
            .is_empty()
    );
    assert_eq!(count(&s), before);
    press(&mut s, KeyCode::Esc);
    assert!(s.search.active.is_none());
    // Esc in the search line clears at once.
    search_for(&mut s, "m2");
    ch(&mut s, '/');
    press(&mut s, KeyCode::Esc);
    assert!(s.search.line.is_none() && s.search.active.is_none());
}

#[test]
fn another_stream_is_searched_again_with_the_same_query() {
    let mut s = tail_of(&["err a", "err b"]);
    search_for(&mut s, "err");
    assert_eq!(count(&s), 2);
    let fx = open_json(&mut s, "other");
    assert_eq!(count(&s), 0);
    // (A step per new buffer; those of a buffer replaced since are stale.)
    assert!(!steps(&fx).is_empty());
    run_steps(&mut s, &fx);
    s.focus = Pane::Tail;
    let fx = deliver(&mut s, batch("-1", "p1", &["ok", "err c"], false));
    assert_eq!(shown(&s), ["ok", "err c"]);
    run_steps(&mut s, &fx);
    assert_eq!(count(&s), 1);
    ch(&mut s, 'N');
    assert_eq!(selected_text(&s), "err c");
}
