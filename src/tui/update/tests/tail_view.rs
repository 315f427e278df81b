//! How the tail is shown (issue 10, "The explorer in use"): Space pauses
//! where the view is, `k` from follow lands on a message, headers can
//! hide, long lines wrap or scroll, and a fast stream turns compact.

use super::*;
use crate::tui::layout::tail_width;
use crate::tui::state::tail::Item;
use crate::tui::state::tail::scroll::bottom_anchor;

/// Per-message batches, as a server that answers every append alone
/// delivers them: header, message, header, message...
fn one_per_batch(count: u32) -> State {
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    s.json_style = JsonStyle::Compact;
    for i in 0..count {
        let (from, to) = (format!("o{i}"), format!("o{}", i + 1));
        deliver(&mut s, batch(&from, &to, &[&n(i)], false));
    }
    s
}

fn is_message(s: &State, id: u64) -> bool {
    matches!(s.tail.locate(id), Some(Item::Message { .. }))
}

#[test]
fn k_from_follow_lands_on_the_previous_message_not_a_header() {
    let mut s = one_per_batch(6);
    ch(&mut s, 'k');
    let sel = s.tail.selected.unwrap();
    assert!(is_message(&s, sel), "{:?}", s.tail.locate(sel));
    assert_eq!(s.tail.current_message(), Some(n(4).as_bytes()));
    // Once paused, k moves row by row again (headers included).
    ch(&mut s, 'k');
    assert!(!is_message(&s, s.tail.selected.unwrap()));
}

#[test]
fn space_pauses_and_resumes_without_moving_the_selection() {
    let mut s = one_per_batch(30);
    let height = tail_height(&s);
    let shape = tail_shape(&s);
    let current = s.tail.current();
    let shown_at = bottom_anchor(&s.tail, height, shape);
    ch(&mut s, ' ');
    assert!(!s.tail.follow);
    assert_eq!(s.tail.current(), current, "the selection did not move");
    assert_eq!(s.tail.anchor, shown_at, "the view did not move");
    deliver(&mut s, batch("o30", "o31", &[&n(30)], false));
    assert_eq!(s.tail.current(), current);
    assert_eq!(s.tail.new_below(), 1);
    ch(&mut s, ' ');
    assert!(s.tail.follow);
    assert_eq!(s.tail.current(), s.tail.last_item());
}

#[test]
fn hidden_headers_take_no_row_and_are_never_selected() {
    let mut s = one_per_batch(10);
    ch(&mut s, 'b');
    assert!(!s.tail_view.headers);
    let shape = tail_shape(&s);
    assert_eq!(scroll::item_height(&s.tail, 0, shape), 0);
    ch(&mut s, 'g');
    assert!(is_message(&s, s.tail.selected.unwrap()));
    for _ in 0..12 {
        ch(&mut s, 'j');
        assert!(is_message(&s, s.tail.selected.unwrap()));
    }
    for _ in 0..12 {
        ch(&mut s, 'k');
        assert!(is_message(&s, s.tail.selected.unwrap()));
    }
    assert_eq!(s.tail.current_message(), Some(n(0).as_bytes()));
    press(&mut s, KeyCode::PageDown);
    assert!(is_message(&s, s.tail.selected.unwrap()));
    ch(&mut s, 'b');
    assert!(s.tail_view.headers);
}

#[test]
fn wrap_is_on_for_text_and_json_and_w_toggles_it() {
    let mut s = one_per_batch(1);
    let long = format!("{{\"msg\":\"{}\"}}", "x".repeat(400));
    deliver(&mut s, batch("o1", "o2", &[&long], false));
    let id = s.tail.last_item().unwrap();
    let width = tail_width(&s);
    assert!(tail_shape(&s).wrap.is_some());
    let rows = scroll::item_height(&s.tail, id, tail_shape(&s));
    assert_eq!(rows, long.len().div_ceil(width));
    ch(&mut s, 'w');
    assert_eq!(tail_shape(&s).wrap, None);
    assert_eq!(scroll::item_height(&s.tail, id, tail_shape(&s)), 1);
    // Sideways scrolling turns wrap off and moves by a step; ← goes back.
    ch(&mut s, 'w');
    press(&mut s, KeyCode::Right);
    assert_eq!(tail_shape(&s).wrap, None);
    assert_eq!(s.tail_view.hscroll, HSCROLL_STEP);
    ch(&mut s, 'l');
    ch(&mut s, 'h');
    press(&mut s, KeyCode::Left);
    press(&mut s, KeyCode::Left);
    assert_eq!(s.tail_view.hscroll, 0);
}

#[test]
fn a_fast_json_stream_turns_compact_and_says_why_until_p() {
    let mut s = new_state();
    open_json(&mut s, "s");
    s.focus = Pane::Tail;
    let t0 = s.now;
    deliver(&mut s, batch("-1", "o0", &[&n(0)], false));
    assert_eq!(s.json_style, JsonStyle::Pretty);
    // A second of 200 live messages.
    let msgs: Vec<String> = (1..=200).map(n).collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    s.now = t0 + Duration::from_millis(1500);
    deliver(&mut s, batch("o0", "o1", &refs, false));
    tick(&mut s, t0 + Duration::from_millis(2600));
    assert_eq!(s.json_style, JsonStyle::Compact);
    assert_eq!(s.tail_view.auto_compact, Some(200));
    let notice = s.notice.as_ref().map(|n| n.text.clone()).unwrap();
    assert!(
        notice.contains("200 msgs/s") && notice.contains("p: pretty"),
        "{notice}"
    );
    // p goes back to pretty and stays there, however fast.
    ch(&mut s, 'p');
    assert_eq!(s.json_style, JsonStyle::Pretty);
    s.now = t0 + Duration::from_millis(3200);
    deliver(&mut s, batch("o1", "o2", &refs, false));
    tick(&mut s, t0 + Duration::from_millis(4500));
    assert_eq!(s.json_style, JsonStyle::Pretty);
}

#[test]
fn a_slow_json_stream_stays_pretty() {
    let mut s = new_state();
    open_json(&mut s, "s");
    let t0 = s.now;
    deliver(&mut s, batch("-1", "o0", &[&n(0)], false));
    for i in 1..5u32 {
        s.now = t0 + Duration::from_secs(u64::from(i));
        let (from, to) = (format!("o{}", i - 1), format!("o{i}"));
        deliver(&mut s, batch(&from, &to, &[&n(i), &n(i + 100)], false));
        let later = s.now + Duration::from_millis(10);
        tick(&mut s, later);
    }
    assert_eq!(s.json_style, JsonStyle::Pretty);
    assert_eq!(s.tail_view.auto_compact, None);
}

#[test]
fn the_detail_view_wraps_with_w_and_scrolls_with_angle_brackets() {
    let mut s = one_per_batch(2);
    ch(&mut s, 'k');
    press(&mut s, KeyCode::Enter);
    let detail = |s: &State| match &s.overlay {
        Some(Overlay::Detail(d)) => (d.wrap, d.hscroll),
        other => panic!("{other:?}"),
    };
    assert_eq!(detail(&s), (true, 0));
    ch(&mut s, '>');
    assert_eq!(detail(&s), (false, HSCROLL_STEP));
    ch(&mut s, '<');
    assert_eq!(detail(&s), (false, 0));
    ch(&mut s, 'w');
    assert_eq!(detail(&s), (true, 0));
    // h and l still fold there.
    ch(&mut s, 'l');
    assert_eq!(detail(&s), (true, 0));
}

#[test]
fn the_detail_view_reads_its_keys_from_the_keymap_in_state() {
    use crate::tui::keymap::{Key, Scope};
    let mut s = one_per_batch(3);
    s.keymap
        .rebind(
            Scope::Detail,
            Action::ToggleWrap,
            vec![Key {
                code: KeyCode::Char('W'),
                ctrl: false,
            }],
        )
        .unwrap();
    s.focus = Pane::Tail;
    press(&mut s, KeyCode::Enter);
    let wraps = |s: &State| match &s.overlay {
        Some(Overlay::Detail(d)) => d.wrap,
        other => panic!("not in the detail view: {other:?}"),
    };
    let before = wraps(&s);
    ch(&mut s, 'w');
    assert_eq!(wraps(&s), before, "w is no longer wrap");
    ch(&mut s, 'W');
    assert_ne!(wraps(&s), before, "W is");
}
