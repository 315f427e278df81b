//! The protocol inspector: the list with its summary, and one request with
//! every header, secrets as type and length only.

use super::*;
use crate::tui::testkit::{TOKEN, requests};

fn inspecting(size: (u16, u16)) -> State {
    let mut s = orders(size);
    update(
        &mut s,
        Message::Requests {
            events: requests(),
            dropped: 0,
        },
    );
    key(&mut s, KeyCode::Char('i'));
    s
}

#[test]
fn the_inspector_lists_every_request_with_a_summary() {
    let snaps = snap("inspector_list", |size| {
        let mut s = inspecting(size);
        // The append that was retried is selected.
        for _ in 0..2 {
            key(&mut s, KeyCode::Char('k'));
        }
        s
    });
    for (s, t) in snaps {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("6 requests · 2 controls"), "{text}");
        assert!(text.contains("errors 503×1 network×1"), "{text}");
        assert!(text.contains("retries 1 · reconnects 1"), "{text}");
        assert!(text.contains("p50 5 ms · p99 40 ms"), "{text}");
        assert!(text.contains("cache: 304×0 age×1 hit×1 miss×0"), "{text}");
        // The protocol headers start within 80 columns too.
        assert!(text.contains("demo/orders next="), "{text}");
        assert!(text.contains("retry-after=1"), "{text}");
        if s.size.0 >= 160 {
            let next = "next=0000000000000000_0000000000001100 cursor";
            assert!(text.contains(next), "{text}");
            assert!(text.contains("attempt=2"), "{text}");
            // The escape in the error text is shown, not sent.
            assert!(text.contains("refused \\x1b[31m"), "{text}");
        }
        assert!(text.contains("HEAD"), "{text}");
        assert!(text.contains("control"), "{text}");
        assert!(text.contains("at 6 of 8"), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
    }
}

#[test]
fn one_request_shows_all_its_headers_with_secrets_redacted() {
    let snaps = snap("inspector_request", |size| {
        let mut s = inspecting(size);
        key(&mut s, KeyCode::Char('g'));
        key(&mut s, KeyCode::Char('j'));
        key(&mut s, KeyCode::Enter);
        s
    });
    for (_, t) in snaps {
        let text = screen_text(t.backend().buffer());
        assert!(
            text.contains("authorization: Bearer *** (23 chars)"),
            "{text}"
        );
        assert!(text.contains("set-cookie: *** (23 chars)"), "{text}");
        assert!(text.contains("x-cache: HIT"), "{text}");
        assert!(text.contains("Response headers (7)"), "{text}");
        assert!(
            !text.contains(TOKEN) && !text.contains("abcdef0123"),
            "{text}"
        );
    }
}

#[test]
fn big_y_asks_before_copying_secrets() {
    let mut s = inspecting((80, 24));
    key(&mut s, KeyCode::Char('Y'));
    let text = screen_text(render(&s).backend().buffer());
    assert!(text.contains("copy WITH its secrets"), "{text}");
    assert!(text.contains("y copy with secrets"), "{text}");
}
