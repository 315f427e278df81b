//! The tail with a live filter: only the matching messages, the title's
//! "N of M shown", projections, and the filter line with a compile error.

use super::*;

/// A JSON log stream, tail focused, compact: 40 messages, every ninth an
/// error.
fn logs(size: (u16, u16)) -> State {
    let mut s = state(size);
    registry(&mut s, "demo/logs", "application/json");
    open(&mut s, "demo/logs");
    head(
        &mut s,
        "demo/logs",
        Ok(metadata("application/json", false, None)),
    );
    let mut offset = "-1".to_owned();
    for b in 0..4u32 {
        let msgs: Vec<String> = (0..10)
            .map(|i| {
                let id = b * 10 + i;
                let level = if id % 9 == 4 { "error" } else { "info" };
                format!(
                    r#"{{"id":{id},"level":"{level}","msg":"request {id}","order":{{"id":"o-{id}"}}}}"#
                )
            })
            .collect();
        let next = format!("0000000000000000_{:016}", (b + 1) * 1000);
        deliver(
            &mut s,
            incoming(&offset, &next, msgs.join("\x1e").as_bytes(), true, true),
        );
        offset = next;
    }
    s.focus = Pane::Tail;
    ch(&mut s, 'p');
    s
}

fn filter(s: &mut State, text: &str) {
    ch(s, '|');
    ctrl(s, 'u');
    typ(s, text);
    key(s, KeyCode::Enter);
}

#[test]
fn a_filtered_tail() {
    let shots = snap("tail_filtered", |size| {
        let mut s = logs(size);
        filter(&mut s, r#"select(.level == "error")"#);
        s
    });
    for (_, t) in shots {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("4 of 40 shown"), "{text}");
        assert_eq!(text.matches(r#""level":"error""#).count(), 4, "{text}");
        assert!(!text.contains(r#""level":"info""#), "{text}");
    }
}

#[test]
fn a_projection_and_a_bad_filter_in_the_line() {
    snap("tail_projected", |size| {
        let mut s = logs(size);
        filter(&mut s, "{id: .order.id, level}");
        s
    });
    let shots = snap("tail_filter_error", |size| {
        let mut s = logs(size);
        filter(&mut s, r#"select(.level == "error")"#);
        filter(&mut s, "select(.level ==)");
        s
    });
    for (_, t) in shots {
        let text = screen_text(t.backend().buffer());
        assert!(text.contains("character 17"), "{text}");
        // The filter applied before stays.
        assert!(text.contains("4 of 40 shown"), "{text}");
    }
}
