//! The search's state alone: queries, the scan in steps, matches by id
//! across eviction, n / N positions.

use super::*;
use crate::tui::format::ContentKind;
use crate::tui::state::tail::{Incoming, Limits};

fn query(text: &str, regex: bool) -> Query {
    Query {
        text: text.into(),
        regex,
    }
}

fn tail(limits: Limits) -> Tail {
    let mut t = Tail::new(ContentKind::Json, limits);
    t.reset("-1");
    t
}

fn push(t: &mut Tail, msgs: &[&str]) {
    let next = format!("o{}", t.total_messages + msgs.len() as u64);
    t.push(Incoming::json("x", &next, msgs, false));
}

/// Keeps `q` as the search (as Enter in the search line does).
fn search(s: &mut Search, t: &Tail, q: Query) -> bool {
    s.line = Some(SearchLine {
        query: q,
        error: None,
    });
    s.keep(t)
}

/// Runs steps until the scan is current; returns how many ran.
fn run(s: &mut Search, t: &Tail) -> usize {
    let mut steps = 0;
    let mut more = s.send_step().is_some();
    while more && steps < 1_000 {
        let g = s.active.as_ref().unwrap().generation;
        more = s.step(g, t);
        steps += 1;
    }
    steps
}

/// The text of each match, oldest first.
fn found(s: &Search, t: &Tail) -> Vec<String> {
    let a = s.active.as_ref().unwrap();
    messages_from(t, 0)
        .filter(|(id, _)| a.is_match(*id))
        .map(|(_, raw)| String::from_utf8_lossy(raw).into_owned())
        .collect()
}

#[test]
fn an_all_lowercase_query_matches_any_case_a_capital_only_itself() {
    let m = query("error", false).compile().unwrap();
    assert!(m.is_match(b"disk ERROR"));
    assert!(m.is_match(b"Error: disk"));
    let m = query("Error", false).compile().unwrap();
    assert!(m.is_match(b"Error: disk"));
    assert!(!m.is_match(b"disk error"));
    assert!(!m.is_match(b"disk ERROR"));
    // The same rule for a regex.
    let m = query("err.r", true).compile().unwrap();
    assert!(m.is_match(b"ERROR"));
    let m = query("E.R", true).compile().unwrap();
    assert!(!m.is_match(b"err"));
}

#[test]
fn plain_text_is_literal_and_the_toggle_makes_it_a_regex() {
    let plain = query("a.c (x)", false).compile().unwrap();
    assert!(plain.is_match(b"--a.c (x)--"));
    assert!(!plain.is_match(b"abc x"));
    let regex = query(r"a.c \(x\)", true).compile().unwrap();
    assert!(regex.is_match(b"abc (x)"));
    assert!(!regex.is_match(b"ac (x)"));
}

#[test]
fn a_bad_regex_shows_its_error_and_keeps_the_search_before() {
    let mut t = tail(Limits::default());
    push(&mut t, &["a(b", "ab"]);
    let mut s = Search::default();
    assert!(search(&mut s, &t, query("a(b", false)));
    run(&mut s, &t);
    assert_eq!(found(&s, &t), ["a(b"]);
    // The same text as a regex does not compile.
    s.open_line();
    s.line.as_mut().unwrap().query.regex = true;
    assert!(!s.keep(&t));
    let line = s.line.as_ref().expect("the line stays open");
    let error = line.error.as_deref().unwrap();
    assert!(error.starts_with("bad regex: "), "{error}");
    assert!(error.contains("unclosed group"), "{error}");
    assert!(!error.contains('\n'), "{error}");
    // The search before stays, matches and all.
    let a = s.active.as_ref().unwrap();
    assert_eq!(a.query, query("a(b", false));
    assert_eq!(found(&s, &t), ["a(b"]);
}

#[test]
fn n_and_shift_n_wrap_around_the_matches() {
    let mut t = tail(Limits::default());
    // Items: header 0, then 1..=5.
    push(&mut t, &["x", "hit 1", "y", "hit 2", "hit 3"]);
    let mut s = Search::default();
    search(&mut s, &t, query("hit", false));
    run(&mut s, &t);
    let a = s.active.as_ref().unwrap();
    assert_eq!(a.count(), 3);
    // From the live end: n wraps to the oldest, N is the newest.
    assert_eq!(a.next_after(None), Some((2, true)));
    assert_eq!(a.prev_before(None), Some((5, false)));
    assert_eq!(a.next_after(Some(2)), Some((4, false)));
    assert_eq!(a.next_after(Some(3)), Some((4, false)));
    assert_eq!(a.next_after(Some(5)), Some((2, true)));
    assert_eq!(a.prev_before(Some(4)), Some((2, false)));
    assert_eq!(a.prev_before(Some(2)), Some((5, true)));
    assert_eq!(a.prev_before(Some(0)), Some((5, true)));
}

#[test]
fn a_large_buffer_is_scanned_in_bounded_steps() {
    let mut t = tail(Limits::default());
    let total = STEP_MESSAGES * 2 + 10;
    let msgs: Vec<String> = (0..total)
        .map(|i| {
            if i % 1000 == 7 {
                format!("{{\"i\":{i},\"level\":\"error\"}}")
            } else {
                format!("{{\"i\":{i},\"level\":\"info\"}}")
            }
        })
        .collect();
    t.push(Incoming::json("-1", "o1", &msgs, false));
    let mut s = Search::default();
    search(&mut s, &t, query("error", false));
    // One step looks at no more than its budget.
    let g = s.send_step().unwrap();
    assert!(s.step(g, &t));
    let a = s.active.as_ref().unwrap();
    assert_eq!(a.scan, Scan::Running);
    assert_eq!(a.count(), STEP_MESSAGES / 1000);
    let percent = a.progress(&t);
    assert!((30..60).contains(&percent), "{percent}%");
    assert_eq!(run(&mut s, &t), 2);
    let a = s.active.as_ref().unwrap();
    assert_eq!(a.scan, Scan::Current);
    assert_eq!(a.count(), (total - 7).div_ceil(1000));
    assert_eq!(a.progress(&t), 100);
}

#[test]
fn messages_arriving_during_a_search_are_counted_as_they_come() {
    let mut t = tail(Limits::default());
    push(&mut t, &["error 1", "ok"]);
    let mut s = Search::default();
    search(&mut s, &t, query("error", false));
    run(&mut s, &t);
    assert_eq!(s.active.as_ref().unwrap().count(), 1);
    for i in 2..=4 {
        push(&mut t, &["ok", &format!("error {i}")]);
        assert!(s.arrived(&t), "a step is asked for");
        // A second batch before the step: no second step.
        assert!(!s.arrived(&t));
        let g = s.active.as_ref().unwrap().generation;
        assert!(!s.step(g, &t), "one step takes a small batch");
        let a = s.active.as_ref().unwrap();
        assert_eq!(a.count(), i);
        assert_eq!(a.scan, Scan::Current);
    }
    assert_eq!(found(&s, &t), ["error 1", "error 2", "error 3", "error 4"]);
}

#[test]
fn eviction_keeps_the_matches_of_what_stays_on_the_right_messages() {
    let mut t = tail(Limits {
        max_messages: 5,
        max_bytes: u64::MAX,
    });
    push(&mut t, &["e1", "x", "e2"]);
    let mut s = Search::default();
    search(&mut s, &t, query("e", false));
    run(&mut s, &t);
    {
        let a = s.active.as_mut().unwrap();
        a.current = a.next_after(None).map(|(id, _)| id);
        assert_eq!(a.current_place(), Some(1));
    }
    // Four more: the first batch's two oldest go (part of a batch), then
    // more whole batches.
    push(&mut t, &["x", "e3", "x", "e4"]);
    s.arrived(&t);
    let g = s.active.as_ref().unwrap().generation;
    s.step(g, &t);
    assert_eq!(t.buffered_messages, 5);
    assert_eq!(found(&s, &t), ["e2", "e3", "e4"]);
    let a = s.active.as_ref().unwrap();
    assert_eq!(a.count(), 3);
    // The current match was evicted: there is none.
    assert_eq!(a.current, None);
    // Every match id still names a message with an "e".
    for (id, raw) in messages_from(&t, 0) {
        assert_eq!(a.is_match(id), raw.starts_with(b"e"), "{id}");
    }
    push(&mut t, &["e5", "x", "x", "x", "x"]);
    s.arrived(&t);
    let g = s.active.as_ref().unwrap().generation;
    s.step(g, &t);
    assert_eq!(found(&s, &t), ["e5"]);
    assert_eq!(s.active.as_ref().unwrap().count(), 1);
}

#[test]
fn esc_stops_a_running_scan_and_a_second_esc_clears_it() {
    let mut t = tail(Limits::default());
    let msgs: Vec<String> =
        (0..STEP_MESSAGES * 3).map(|i| format!("m{i}")).collect();
    t.push(Incoming::json("-1", "o1", &msgs, false));
    let mut s = Search::default();
    search(&mut s, &t, query("m1", false));
    let g = s.send_step().unwrap();
    assert!(s.step(g, &t));
    let before = s.active.as_ref().unwrap().count();
    s.escape();
    let a = s.active.as_ref().unwrap();
    assert_eq!(a.scan, Scan::Stopped);
    // The step already on its way does nothing, nor do arrivals.
    assert!(!s.step(g, &t));
    push(&mut t, &["m1 late"]);
    assert!(!s.arrived(&t));
    assert_eq!(s.active.as_ref().unwrap().count(), before);
    s.escape();
    assert!(s.active.is_none());
}

#[test]
fn a_step_of_a_replaced_search_is_stale() {
    let mut t = tail(Limits::default());
    push(&mut t, &["a", "b"]);
    let mut s = Search::default();
    search(&mut s, &t, query("a", false));
    let old = s.send_step().unwrap();
    search(&mut s, &t, query("b", false));
    let new = s.send_step().unwrap();
    assert_ne!(old, new);
    assert!(!s.step(old, &t));
    assert_eq!(s.active.as_ref().unwrap().count(), 0);
    s.step(new, &t);
    assert_eq!(found(&s, &t), ["b"]);
    // The same query again keeps the search as it is.
    assert!(!search(&mut s, &t, query("b", false)));
    assert_eq!(s.active.as_ref().unwrap().generation, new);
    // An empty query clears it.
    search(&mut s, &t, query("", false));
    assert!(s.active.is_none());
}

#[test]
fn messages_from_starts_at_any_item_and_skips_headers() {
    let mut t = tail(Limits::default());
    push(&mut t, &["a", "b"]); // items 0 (header), 1, 2
    push(&mut t, &["c"]); // items 3 (header), 4
    let ids = |from| {
        messages_from(&t, from)
            .map(|(id, raw)| (id, raw.to_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(0),
        [(1, b"a".to_vec()), (2, b"b".to_vec()), (4, b"c".to_vec())]
    );
    assert_eq!(ids(2), [(2, b"b".to_vec()), (4, b"c".to_vec())]);
    assert_eq!(ids(3), [(4, b"c".to_vec())]);
    assert!(ids(5).is_empty());
}
