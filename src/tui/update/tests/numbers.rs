//! Numbers that must be true: catch-up apart from the live rate, the
//! metadata's next offset, the buffer's limits.

use super::*;

#[test]
fn catch_up_is_counted_apart_from_the_live_rate() {
    let mut s = new_state();
    let t0 = s.now;
    open_json(&mut s, "demo/orders");
    let many: Vec<String> = (0..500).map(n).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    s.now = t0 + Duration::from_millis(100);
    deliver(&mut s, batch("-1", "c1", &many[..300], true));
    s.now = t0 + Duration::from_millis(400);
    deliver(&mut s, batch("c1", "c2", &many[300..], false));
    assert_eq!(s.meta.catch_up.messages, 500);
    assert_eq!(s.meta.catch_up.took, Some(Duration::from_millis(400)));
    // The second closes with no live arrival in it.
    tick(&mut s, t0 + Duration::from_millis(1100));
    assert_eq!(s.meta.rate.per_second(), 0);
    // Live arrivals are the rate.
    s.now = t0 + Duration::from_millis(1200);
    deliver(&mut s, batch("c2", "c3", &[&n(1), &n(2)], false));
    tick(&mut s, t0 + Duration::from_millis(2200));
    assert_eq!(s.meta.rate.per_second(), 2);
    assert_eq!(s.meta.catch_up.messages, 500);
}

#[test]
fn the_metadata_next_offset_follows_every_up_to_date_batch() {
    let mut s = new_state();
    open_json(&mut s, "demo/orders");
    let url = format!("{BASE}/demo/orders");
    head(&mut s, url, Ok(metadata(Some("application/json"), None)));
    // Catching up: not the stream's tail yet, the HEAD's value stays.
    deliver(&mut s, batch("-1", "c1", &[&n(1)], true));
    let next = |s: &State| {
        s.meta
            .head
            .as_ref()
            .unwrap()
            .next_offset
            .as_str()
            .to_owned()
    };
    assert_eq!(next(&s), "0000_0042");
    let fx = deliver(&mut s, batch("c1", "c9", &[&n(2)], false));
    assert_eq!(next(&s), "c9");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Head { .. })));
    deliver(&mut s, batch("c9", "d1", &[&n(3)], false));
    assert_eq!(next(&s), "d1");
}
