//! The merged tail as screens: each message tagged with its stream in the
//! stream's colour, each stream's state in the status bar.

use super::*;
use crate::tui::state::merge::tag_colour;

fn send(s: &mut State, reader: u64, incoming: Incoming) {
    let at = s.now;
    update(
        s,
        Message::Reader {
            reader,
            event: ReaderEvent::Batch {
                incoming,
                info: ReadInfo::default(),
                at,
            },
        },
    );
}

/// `demo/orders` and `demo/payments` merged, messages from both, and
/// payments reconnecting.
fn merged(size: (u16, u16)) -> State {
    let mut s = state(size);
    registry(&mut s, "demo/orders", "application/json");
    registry(&mut s, "demo/payments", "application/json");
    registry(&mut s, "demo/logs", "text/plain");
    s.focus = Pane::Streams;
    s.streams.select_path("demo/orders");
    ch(&mut s, ' ');
    key(&mut s, KeyCode::Down);
    ch(&mut s, ' ');
    let fx = ch(&mut s, 'T');
    let ids: Vec<u64> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::StartReader { reader, .. } => Some(*reader),
            _ => None,
        })
        .collect();
    let (orders, payments) = (ids[0], ids[1]);
    s.tail_view.headers = false;
    let o = |i: u32| format!(r#"{{"order":{i},"status":"paid"}}"#);
    let p = |i: u32| format!(r#"{{"payment":{i},"amount":12.5}}"#);
    send(
        &mut s,
        orders,
        incoming("now", "o1", o(1).as_bytes(), true, true),
    );
    send(
        &mut s,
        payments,
        incoming("now", "p1", p(1).as_bytes(), true, true),
    );
    send(
        &mut s,
        orders,
        incoming("o1", "o2", o(2).as_bytes(), true, true),
    );
    send(
        &mut s,
        payments,
        incoming("p1", "p2", p(2).as_bytes(), true, true),
    );
    ch(&mut s, 'p');
    update(
        &mut s,
        Message::Reader {
            reader: payments,
            event: ReaderEvent::Retry("connection refused".into()),
        },
    );
    let again = s.readers.get(&s.url_of("demo/payments")).unwrap().id;
    update(
        &mut s,
        Message::Reader {
            reader: again,
            event: ReaderEvent::Retry("connection refused".into()),
        },
    );
    s.notice = None;
    s
}

#[test]
fn the_merged_view_tags_each_message_with_its_stream() {
    for (s, t) in snap("merged_tail", merged) {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("merged: 2 streams"), "{text}");
        assert!(text.contains("[demo/orders] "), "{text}");
        assert!(text.contains("[demo/payments] "), "{text}");
        assert!(text.contains("merged 1/2 live"), "{text}");
        let buffer = t.backend().buffer();
        // The tag's colour is its stream's.
        let (x, y) = (0..buffer.area.height)
            .find_map(|y| {
                row(buffer, y).find("[demo/payments]").map(|i| {
                    let before = &row(buffer, y)[..i];
                    (u16::try_from(before.chars().count()).unwrap(), y)
                })
            })
            .expect("a payments tag");
        assert_eq!(buffer[(x + 1, y)].fg, tag_colour("demo/payments"));
        assert!(s.merge.is_some());
    }
}

#[test]
fn without_colours_the_tag_still_names_the_stream() {
    let mut s = merged((80, 24));
    s.colours = crate::tui::state::Colours::Off;
    let t = render(&s);
    let text = screen_text(t.backend().buffer());
    assert!(text.contains("[demo/orders] "), "{text}");
    assert!(text.contains("[demo/payments] "), "{text}");
}
