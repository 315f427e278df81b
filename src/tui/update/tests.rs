#[allow(unused_imports)]
use super::*;

use std::time::Instant;

use crate::client::{Offset, StreamMetadata};

#[test]
fn resuming_after_the_head_answered_reads_with_the_streams_kind() {
    let now = Instant::now();
    let mut state = State::new("http://127.0.0.1:1/v1/stream", now);
    let url = state.url_of("s");
    state.bookmarks.set_last_position(
        &url,
        "0000_0010",
        "2026-01-01T00:00:00Z",
    );
    let mut fx = Vec::new();
    open_stream(&mut state, "s", &mut fx);
    assert!(state.dialog_mut().is_some(), "the Resume dialog is open");
    let head = StreamMetadata {
        content_type: Some("application/json".into()),
        next_offset: Offset::new("0000_0020"),
        ..StreamMetadata::default()
    };
    update(
        &mut state,
        Message::Head {
            url,
            at: now,
            result: Ok(head),
        },
    );
    let key = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE);
    let fx = update(&mut state, Message::Input(Event::Key(key)));
    assert_eq!(state.tail.kind, ContentKind::Json);
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::StartReader {
                kind: ContentKind::Json,
                ..
            }
        )),
        "{fx:?}"
    );
}
