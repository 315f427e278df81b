//! The explorer in use: recovery states, true numbers, layout and
//! usability, as screens.

use super::*;

#[test]
fn an_unreachable_server_is_said_in_the_stream_list() {
    let snaps = snap("streams_unreachable", |size| {
        let mut s = State::new(BASE, Instant::now());
        s.size = size;
        update(
            &mut s,
            Message::Registry(RegistryEvent::Failed(
                "server unreachable: connection refused \u{1b}[31m".into(),
            )),
        );
        s
    });
    for (_, t) in snaps {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("cannot list the streams"), "{text}");
        assert!(text.contains("http://127.0.0.1"), "{text}");
        assert!(text.contains("server unreachable"), "{text}");
        assert!(!text.contains("no streams yet"), "{text}");
    }
}
