use super::*;

fn json(start: &str, next: &str, partial: bool, ids: &[u32]) -> Incoming {
    let mut data = Vec::new();
    let mut ends = Vec::new();
    for id in ids {
        data.extend_from_slice(id.to_string().as_bytes());
        ends.push(u32::try_from(data.len()).unwrap());
    }
    Incoming {
        arrived: "t".into(),
        start_offset: start.into(),
        next_offset: next.into(),
        up_to_date: false,
        closed: false,
        partial,
        data: Bytes::from(data),
        ends,
    }
}

/// Every message the tail holds, in order.
fn shown(tail: &Tail) -> Vec<String> {
    tail.batches
        .iter()
        .flat_map(|b| {
            (0..b.len())
                .map(|i| String::from_utf8_lossy(b.message(i)).into_owned())
        })
        .collect()
}

#[test]
fn a_reader_failing_while_skipping_does_not_repeat_messages() {
    let mut t = Tail::new(ContentKind::Json, Limits::default());
    t.reset("-1");
    t.push(json("-1", "a", false, &[1, 2]));
    // Part of the next event, then the connection fails.
    t.push(json("a", "a", true, &[3, 4, 5]));
    assert_eq!(t.restart_point().as_deref(), Some("a"));
    // The second reader gets part of it again (skipped), then fails too.
    t.push(json("a", "a", true, &[3, 4]));
    assert_eq!(t.restart_point().as_deref(), Some("a"));
    // The third gets the whole event and more.
    t.push(json("a", "b", false, &[3, 4, 5, 6]));
    t.push(json("b", "c", false, &[7]));
    assert_eq!(shown(&t), ["1", "2", "3", "4", "5", "6", "7"]);
    assert_eq!(t.total_messages, 7);
}

#[test]
fn a_checkpoint_inside_what_was_shown_keeps_the_rest_skipped() {
    let mut t = Tail::new(ContentKind::Json, Limits::default());
    t.reset("-1");
    t.push(json("-1", "-1", true, &[1, 2, 3, 4]));
    assert_eq!(t.restart_point().as_deref(), Some("-1"));
    // The server now ends the event earlier: a checkpoint after 2.
    t.push(json("-1", "x", false, &[1, 2]));
    t.push(json("x", "x", true, &[3]));
    assert_eq!(t.restart_point().as_deref(), Some("x"));
    t.push(json("x", "y", false, &[3, 4, 5]));
    assert_eq!(shown(&t), ["1", "2", "3", "4", "5"]);
}

#[test]
fn binary_restarts_skip_the_bytes_already_shown() {
    let mut t = Tail::new(ContentKind::Binary, Limits::default());
    t.reset("-1");
    let bytes =
        |start: &str, next: &str, partial, data: &'static [u8]| Incoming {
            arrived: "t".into(),
            start_offset: start.into(),
            next_offset: next.into(),
            up_to_date: false,
            closed: false,
            partial,
            data: Bytes::from_static(data),
            ends: Vec::new(),
        };
    t.push(bytes("-1", "-1", true, b"abc"));
    t.restart_point();
    t.push(bytes("-1", "-1", true, b"ab"));
    t.restart_point();
    t.push(bytes("-1", "z", false, b"abcdef"));
    assert_eq!(t.total_bytes, 6);
    assert_eq!(shown(&t).concat(), "abcdef");
}
