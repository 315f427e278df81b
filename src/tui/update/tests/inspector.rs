//! The protocol inspector's keys: open and close, selection and follow,
//! an opened request, `y` and the confirmed `Y`.

use super::*;
use crate::tui::testkit::{TOKEN, requests};

fn inspecting() -> State {
    let mut s = new_state();
    update(
        &mut s,
        Message::Requests {
            events: requests(),
            dropped: 0,
        },
    );
    ch(&mut s, 'i');
    s
}

fn copied(fx: &[Effect]) -> Option<String> {
    fx.iter().find_map(|e| match e {
        Effect::CopyNoted { text, .. } | Effect::Copy(text) => {
            Some(text.clone())
        }
        _ => None,
    })
}

#[test]
fn i_opens_the_inspector_and_esc_or_i_closes_it() {
    let mut s = inspecting();
    assert!(matches!(s.overlay, Some(Overlay::Inspector)));
    press(&mut s, KeyCode::Esc);
    assert!(s.overlay.is_none());
    ch(&mut s, 'i');
    ch(&mut s, 'i');
    assert!(s.overlay.is_none());
    // In the composer, `i` is text.
    ch(&mut s, 'a');
    ch(&mut s, 'i');
    assert!(s.overlay.is_none());
    assert_eq!(s.composer.text(), "i");
}

#[test]
fn moving_stops_following_and_g_follows_again() {
    let mut s = inspecting();
    assert_eq!(s.inspector.selected, None);
    assert_eq!(s.inspector.current(), Some(7));
    ch(&mut s, 'k');
    ch(&mut s, 'k');
    assert_eq!(s.inspector.current(), Some(5));
    // New requests arrive: the selection stays where it is.
    update(
        &mut s,
        Message::Requests {
            events: vec![crate::tui::testkit::request(
                9,
                "HEAD",
                "x",
                Some(200),
                1,
            )],
            dropped: 3,
        },
    );
    assert_eq!(s.inspector.current(), Some(5));
    assert_eq!(s.inspector.dropped, 3);
    ch(&mut s, 'g');
    assert_eq!(s.inspector.current(), Some(0));
    ch(&mut s, 'G');
    assert_eq!(
        (s.inspector.selected, s.inspector.current()),
        (None, Some(8))
    );
}

#[test]
fn enter_opens_a_request_and_esc_goes_back_to_the_list() {
    let mut s = inspecting();
    ch(&mut s, 'g');
    ch(&mut s, 'j');
    press(&mut s, KeyCode::Enter);
    let opened = s.inspector.opened.as_ref().expect("opened");
    assert_eq!(opened.event.id, 2);
    ch(&mut s, 'j');
    assert!(s.inspector.opened.as_ref().unwrap().scroll <= 1);
    press(&mut s, KeyCode::Esc);
    assert!(s.inspector.opened.is_none());
    assert!(matches!(s.overlay, Some(Overlay::Inspector)));
}

#[test]
fn y_copies_a_redacted_curl_line_and_big_y_asks_first() {
    let mut s = inspecting();
    ch(&mut s, 'g');
    let line = copied(&ch(&mut s, 'y')).expect("a copy");
    assert!(line.starts_with("curl --head "), "{line}");
    assert!(line.contains("Bearer *** (23 chars)"), "{line}");
    assert!(!line.contains(TOKEN), "{line}");
    // Y asks; anything but y copies nothing.
    assert!(copied(&ch(&mut s, 'Y')).is_none());
    assert!(s.inspector.confirm_secrets);
    assert!(copied(&ch(&mut s, 'n')).is_none());
    assert!(!s.inspector.confirm_secrets);
    assert!(
        matches!(s.overlay, Some(Overlay::Inspector)),
        "n did nothing else"
    );
    ch(&mut s, 'Y');
    let line = copied(&ch(&mut s, 'y')).expect("copied after yes");
    assert!(line.contains(&format!("Bearer {TOKEN}")), "{line}");
    // A control row copies as its SSE request.
    ch(&mut s, 'G');
    ch(&mut s, 'k');
    ch(&mut s, 'k');
    ch(&mut s, 'k');
    let line = copied(&ch(&mut s, 'y')).expect("a copy");
    assert!(line.starts_with("curl -N '"), "{line}");
    assert!(line.contains("live=sse"), "{line}");
}

#[test]
fn a_tail_reconnect_is_counted() {
    let mut s = new_state();
    let mut fx = Vec::new();
    open_stream(&mut s, "demo/orders", &mut fx);
    let reader = s.reader().id;
    update(
        &mut s,
        Message::Reader {
            reader,
            event: ReaderEvent::Retry("connection reset".into()),
        },
    );
    assert_eq!(s.inspector.summary.reconnects, 1);
}
