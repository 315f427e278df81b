//! Tail bookkeeping: items, eviction, and restarts that neither lose nor
//! repeat a message, for JSON, text and binary streams.

use super::*;

/// A JSON batch of `msgs` from `start` to `next`.
fn json(start: &str, next: &str, msgs: &[&str], partial: bool) -> Incoming {
    Incoming::json(start, next, msgs, partial)
}

/// A text or binary batch of raw bytes.
fn raw(start: &str, next: &str, data: &[u8], partial: bool) -> Incoming {
    Incoming {
        arrived: "12:00:00.000".into(),
        start_offset: start.into(),
        next_offset: next.into(),
        up_to_date: false,
        closed: false,
        partial,
        data: Bytes::copy_from_slice(data),
        ends: Vec::new(),
    }
}

fn started(kind: ContentKind) -> Tail {
    let mut t = Tail::new(kind, Limits::default());
    t.reset("-1");
    assert_eq!(t.restart_point().as_deref(), Some("-1"));
    t
}

/// Every buffered message, in order, as text.
fn shown(t: &Tail) -> Vec<String> {
    t.batches
        .iter()
        .flat_map(|b| {
            (0..b.len())
                .map(|i| String::from_utf8_lossy(b.message(i)).into_owned())
        })
        .collect()
}

/// Every buffered byte, in order.
fn bytes_shown(t: &Tail) -> Vec<u8> {
    t.batches.iter().flat_map(|b| b.data.to_vec()).collect()
}

#[test]
fn json_items_are_a_header_then_the_messages() {
    let mut t = started(ContentKind::Json);
    assert_eq!(t.push(json("-1", "a", &["1", "22"], false)), 2);
    assert_eq!(t.push(json("a", "b", &["333"], false)), 1);
    assert_eq!((t.first_item(), t.last_item()), (0, Some(4)));
    assert_eq!(t.locate(0), Some(Item::Header { batch: 0 }));
    assert_eq!(
        t.locate(2),
        Some(Item::Message {
            batch: 0,
            message: 1
        })
    );
    assert_eq!(t.locate(3), Some(Item::Header { batch: 1 }));
    assert_eq!(t.locate(5), None);
    assert_eq!(t.batches[1].received_before, 3);
    assert_eq!((t.total_messages, t.total_bytes), (3, 6));
    assert_eq!(t.resume_offset.as_deref(), Some("b"));
    // Following: the current item is the newest message.
    assert_eq!(t.current_message(), Some(&b"333"[..]));
    assert_eq!(t.current_batch().unwrap().start_offset, "a");
}

#[test]
fn an_empty_batch_moves_the_offset_but_adds_no_rows() {
    let mut t = started(ContentKind::Json);
    assert_eq!(t.push(json("-1", "a", &[], false)), 0);
    assert!(t.batches.is_empty());
    assert_eq!(t.last_offset.as_deref(), Some("a"));
    assert_eq!(t.resume_offset.as_deref(), Some("a"));
}

#[test]
fn text_is_cut_into_lines_at_newlines() {
    let mut t = started(ContentKind::Text);
    // Ends given for text are ignored: lines are what the user sees.
    let mut inc = raw("-1", "a", b"one\ntwo\nthree", true);
    inc.ends = vec![1];
    t.push(inc);
    // "three" waits for the rest of its line: more of the response follows.
    assert_eq!(shown(&t), ["one\n", "two\n"]);
    t.push(raw("a", "b", b"\n\nx", false));
    assert_eq!(shown(&t), ["one\n", "two\n", "three\n", "\n", "x"]);
    assert_eq!(t.total_bytes, 16);
}

#[test]
fn a_line_cut_by_a_partial_piece_shows_whole() {
    let mut t = started(ContentKind::Text);
    t.push(raw("-1", "p", b"ab", true));
    t.push(raw("-1", "p", b"cd", true));
    assert!(t.batches.is_empty());
    t.push(raw("-1", "p", b"ef\ngh", true));
    t.push(raw("-1", "c1", b"ij\n", false));
    assert_eq!(shown(&t), ["abcdef\n", "ghij\n"]);
    // A line a writer left open at a checkpoint shows as it is.
    t.push(raw("c1", "c2", b"open", false));
    assert_eq!(shown(&t).last().unwrap(), "open");
}

#[test]
fn a_restart_brings_held_back_text_again() {
    let mut t = started(ContentKind::Text);
    t.push(raw("-1", "c1", b"a\n", false));
    t.push(raw("c1", "p", b"b\nhal", true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    t.push(raw("c1", "c2", b"b\nhalf\n", false));
    assert_eq!(bytes_shown(&t), b"a\nb\nhalf\n");
}

#[test]
fn binary_is_cut_into_256_byte_items() {
    let mut t = started(ContentKind::Binary);
    let data: Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(t.push(raw("-1", "a", &data, false)), 3);
    let b = &t.batches[0];
    assert_eq!(b.ends, [256, 512, 600]);
    assert_eq!(b.message(2), &data[512..]);
    assert_eq!(b.message_position(1), 256);
    t.push(raw("a", "b", &[1, 2], false));
    assert_eq!(t.batches[1].message_position(0), 600);
}

#[test]
fn eviction_keeps_the_newest_and_a_valid_selection() {
    let limits = Limits {
        max_messages: 4,
        max_bytes: u64::MAX,
    };
    let mut t = Tail::new(ContentKind::Json, limits);
    t.reset("-1");
    t.push(json("-1", "a", &["1", "2"], false));
    t.pause(Anchor::default());
    t.selected = Some(1);
    for i in 0..5 {
        let (s, n) = (format!("o{i}"), format!("o{}", i + 1));
        t.push(json(&s, &n, &["x", "y"], false));
    }
    assert!(t.buffered_messages <= 4);
    assert_eq!(t.total_messages, 12);
    assert_eq!(t.evicted_messages, 12 - t.buffered_messages as u64);
    let first = t.first_item();
    assert!(t.selected.unwrap() >= first);
    assert!(t.locate(t.selected.unwrap()).is_some());
    assert!(t.anchor.item >= first);
    assert_eq!(t.locate(1), None);
    // Paused at 2 messages: 10 arrived since.
    assert_eq!(t.new_below(), 10);
    t.follow_live();
    assert_eq!(t.new_below(), 0);
}

#[test]
fn eviction_by_bytes_keeps_at_least_one_batch() {
    let limits = Limits {
        max_messages: usize::MAX,
        max_bytes: 4,
    };
    let mut t = Tail::new(ContentKind::Json, limits);
    t.reset("-1");
    t.push(json("-1", "a", &["12345678"], false));
    assert_eq!(t.batches.len(), 1);
    t.push(json("a", "b", &["abcdefgh"], false));
    assert_eq!(t.batches.len(), 1);
    assert_eq!(shown(&t), ["abcdefgh"]);
    assert_eq!((t.evicted_messages, t.evicted_bytes), (1, 8));
}

/// `max_messages = 50` kept a whole catch-up response of 1,637 messages:
/// the limit counts messages, evicting within a batch.
#[test]
fn eviction_counts_messages_within_one_large_batch() {
    let limits = Limits {
        max_messages: 50,
        max_bytes: u64::MAX,
    };
    let mut t = Tail::new(ContentKind::Json, limits);
    t.reset("-1");
    let msgs: Vec<String> = (0..1637).map(|n| format!("{n}")).collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    t.push(json("-1", "a", &refs, false));
    assert_eq!(t.buffered_messages, 50);
    assert_eq!(t.evicted_messages, 1587);
    let kept = shown(&t);
    assert_eq!(kept.first().map(String::as_str), Some("1587"));
    assert_eq!(kept.last().map(String::as_str), Some("1636"));
    assert_eq!(
        t.buffered_bytes,
        kept.iter().map(String::len).sum::<usize>() as u64
    );
    // Item ids of the messages kept did not change: message 1587 is
    // still item 1 + 1587, and its mark still names it in its response.
    assert_eq!(
        t.locate(1588),
        Some(Item::Message {
            batch: 0,
            message: 0
        })
    );
    assert_eq!(t.locate(1587), Some(Item::Header { batch: 0 }));
    assert_eq!(t.locate(1586), None);
    assert_eq!(
        t.batches[0].mark(0, ContentKind::Json),
        Some(Mark {
            offset: "-1".into(),
            skip: 1587
        })
    );
    // A later batch evicts from the front again, one message at a time.
    t.push(json("a", "b", &["x", "y"], false));
    assert_eq!(t.buffered_messages, 50);
    assert_eq!(shown(&t)[0], "1589");
    assert_eq!(t.batches[0].mark(0, ContentKind::Json).unwrap().skip, 1589);
}

#[test]
fn eviction_within_a_text_batch_keeps_byte_marks() {
    let limits = Limits {
        max_messages: 2,
        max_bytes: u64::MAX,
    };
    let mut t = Tail::new(ContentKind::Text, limits);
    t.reset("-1");
    t.push(raw("-1", "a", b"one\ntwo\nthree\n", false));
    assert_eq!(shown(&t), ["two\n", "three\n"]);
    assert_eq!(t.batches[0].message_position(0), 4);
    assert_eq!(
        t.batches[0].mark(1, ContentKind::Text),
        Some(Mark {
            offset: "-1".into(),
            skip: 8
        })
    );
}

#[test]
fn eviction_by_bytes_within_a_batch_keeps_the_newest_message() {
    let limits = Limits {
        max_messages: usize::MAX,
        max_bytes: 5,
    };
    let mut t = Tail::new(ContentKind::Json, limits);
    t.reset("-1");
    t.push(json("-1", "a", &["11", "22", "33", "44"], false));
    assert_eq!(shown(&t), ["33", "44"]);
    assert_eq!((t.evicted_messages, t.evicted_bytes), (2, 4));
    t.push(json("a", "b", &["123456"], false));
    assert_eq!(shown(&t), ["123456"]);
}

#[test]
fn restart_in_a_partial_sequence_skips_what_was_shown() {
    let mut t = started(ContentKind::Json);
    t.push(json("-1", "c1", &["m1", "m2"], false));
    t.push(json("c1", "p1", &["m3"], true));
    t.push(json("p1", "p2", &["m4", "m5"], true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    // The replay from c1 repeats m3..m5 and brings m6.
    t.push(json("c1", "c2", &["m3", "m4", "m5", "m6"], false));
    assert_eq!(shown(&t), ["m1", "m2", "m3", "m4", "m5", "m6"]);
    assert_eq!(t.resume_offset.as_deref(), Some("c2"));
    // Nothing is left to skip.
    t.push(json("c2", "c3", &["m7"], false));
    assert_eq!(shown(&t).last().unwrap(), "m7");
}

#[test]
fn two_restarts_before_any_checkpoint() {
    let mut t = started(ContentKind::Json);
    t.push(json("-1", "c1", &["m1"], false));
    t.push(json("c1", "p1", &["m2", "m3"], true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    t.push(json("c1", "c2", &["m2", "m3", "m4"], false));
    assert_eq!(shown(&t), ["m1", "m2", "m3", "m4"]);
}

#[test]
fn a_restart_while_the_replay_is_still_being_skipped() {
    let mut t = started(ContentKind::Json);
    t.push(json("-1", "c1", &["m1"], false));
    t.push(json("c1", "p1", &["m2", "m3", "m4"], true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    // The new reader repeats m2 (partial), then is replaced too.
    t.push(json("c1", "p9", &["m2"], true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    t.push(json("c1", "c2", &["m2", "m3", "m4", "m5"], false));
    assert_eq!(shown(&t), ["m1", "m2", "m3", "m4", "m5"]);
}

#[test]
fn a_replay_in_differently_sized_batches() {
    let mut t = started(ContentKind::Json);
    t.push(json("-1", "c1", &["m1"], false));
    t.push(json("c1", "p1", &["m2"], true));
    t.push(json("p1", "p2", &["m3", "m4"], true));
    t.push(json("p2", "p3", &["m5"], true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    // Cut differently: 3 then a checkpoint in the middle of what was
    // shown, then the rest.
    t.push(json("c1", "x1", &["m2", "m3", "m4"], true));
    t.push(json("x1", "c2", &["m5", "m6"], false));
    t.push(json("c2", "c3", &["m7"], false));
    assert_eq!(shown(&t), ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    // A checkpoint while still skipping: a restart from it skips the rest.
    let mut t = started(ContentKind::Json);
    t.push(json("-1", "c1", &["m1"], false));
    t.push(json("c1", "p1", &["m2", "m3", "m4"], true));
    t.restart_point();
    t.push(json("c1", "c2", &["m2"], false));
    assert_eq!(t.restart_point().as_deref(), Some("c2"));
    t.push(json("c2", "c3", &["m3", "m4", "m5"], false));
    assert_eq!(shown(&t), ["m1", "m2", "m3", "m4", "m5"]);
}

#[test]
fn text_restart_skips_bytes_across_batches() {
    let mut t = started(ContentKind::Text);
    t.push(raw("-1", "c1", b"a\nb\n", false));
    t.push(raw("c1", "p1", b"cc\nd", true));
    t.push(raw("p1", "p2", b"d\n", true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    t.push(raw("c1", "x1", b"cc", true));
    t.push(raw("x1", "x2", b"\ndd", true));
    assert_eq!(t.restart_point().as_deref(), Some("c1"));
    t.push(raw("c1", "c2", b"cc\ndd\ne\n", false));
    assert_eq!(bytes_shown(&t), b"a\nb\ncc\ndd\ne\n");
}

#[test]
fn binary_restart_skips_bytes() {
    let mut t = started(ContentKind::Binary);
    let data: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
    t.push(raw("-1", "c1", &data[..100], false));
    t.push(raw("c1", "p1", &data[100..300], true));
    t.restart_point();
    t.push(raw("c1", "c2", &data[100..400], false));
    t.restart_point();
    t.push(raw("c2", "c3", &data[400..], false));
    assert_eq!(bytes_shown(&t), data);
    assert_eq!(t.total_bytes, 512);
}

#[test]
fn reset_forgets_everything_but_kind_and_limits() {
    let limits = Limits {
        max_messages: 9,
        max_bytes: 99,
    };
    let mut t = Tail::new(ContentKind::Text, limits);
    t.reset("-1");
    t.push(raw("-1", "p", b"x\ny", true));
    t.pause(Anchor::default());
    t.reset("now");
    assert!(t.batches.is_empty());
    assert!(t.follow);
    assert_eq!((t.kind, t.limits), (ContentKind::Text, limits));
    assert_eq!(t.restart_point().as_deref(), Some("now"));
    // Nothing from before is skipped.
    t.push(raw("now", "z", b"x\n", false));
    assert_eq!(bytes_shown(&t), b"x\n");
}

#[test]
fn pause_remembers_where_and_counts_new_messages() {
    let mut t = started(ContentKind::Json);
    t.push(json("-1", "a", &["1", "2"], false));
    t.pause(Anchor { item: 1, line: 0 });
    assert!(!t.follow);
    assert_eq!(t.selected, Some(2));
    assert_eq!(t.current(), Some(2));
    t.push(json("a", "b", &["3", "4", "5"], false));
    assert_eq!(t.new_below(), 3);
    // The selection stays put while paused.
    assert_eq!(t.current(), Some(2));
    // A second pause keeps the first position.
    t.pause(Anchor::default());
    assert_eq!(t.anchor, Anchor { item: 1, line: 0 });
    t.follow_live();
    assert_eq!(t.current(), Some(6));
}

/// A JSON batch of numbered messages.
fn ids(start: &str, next: &str, partial: bool, ids: &[u32]) -> Incoming {
    let msgs: Vec<String> = ids.iter().map(u32::to_string).collect();
    json(
        start,
        next,
        &msgs.iter().map(String::as_str).collect::<Vec<_>>(),
        partial,
    )
}

#[test]
fn a_reader_failing_while_skipping_does_not_repeat_messages() {
    let mut t = started(ContentKind::Json);
    t.push(ids("-1", "a", false, &[1, 2]));
    // Part of the next event, then the connection fails.
    t.push(ids("a", "a", true, &[3, 4, 5]));
    assert_eq!(t.restart_point().as_deref(), Some("a"));
    // The second reader gets part of it again (skipped), then fails too.
    t.push(ids("a", "a", true, &[3, 4]));
    assert_eq!(t.restart_point().as_deref(), Some("a"));
    // The third gets the whole event and more.
    t.push(ids("a", "b", false, &[3, 4, 5, 6]));
    t.push(ids("b", "c", false, &[7]));
    assert_eq!(shown(&t), ["1", "2", "3", "4", "5", "6", "7"]);
    assert_eq!(t.total_messages, 7);
}

#[test]
fn a_checkpoint_inside_what_was_shown_keeps_the_rest_skipped() {
    let mut t = started(ContentKind::Json);
    t.push(ids("-1", "-1", true, &[1, 2, 3, 4]));
    assert_eq!(t.restart_point().as_deref(), Some("-1"));
    // The server now ends the event earlier: a checkpoint after 2.
    t.push(ids("-1", "x", false, &[1, 2]));
    t.push(ids("x", "x", true, &[3]));
    assert_eq!(t.restart_point().as_deref(), Some("x"));
    t.push(ids("x", "y", false, &[3, 4, 5]));
    assert_eq!(shown(&t), ["1", "2", "3", "4", "5"]);
}

#[test]
fn binary_restarts_skip_the_bytes_already_shown() {
    let mut t = started(ContentKind::Binary);
    t.push(raw("-1", "-1", b"abc", true));
    t.restart_point();
    t.push(raw("-1", "-1", b"ab", true));
    t.restart_point();
    t.push(raw("-1", "z", b"abcdef", false));
    assert_eq!(t.total_bytes, 6);
    assert_eq!(bytes_shown(&t), b"abcdef");
}

/// A toy server for marks: `total` numbered messages, offsets `o{k}`
/// after message k (`-1` before the first). A read from an offset answers
/// with responses of up to `chunk` messages, each cut into partial pieces
/// of up to `piece`; only a response's last piece is a checkpoint.
fn serve(from: &str, total: u32, chunk: u32, piece: u32) -> Vec<Incoming> {
    let mut at: u32 = if from == "-1" {
        0
    } else {
        from.trim_start_matches('o').parse().unwrap()
    };
    let mut out = Vec::new();
    while at < total {
        let start = if at == 0 {
            "-1".to_owned()
        } else {
            format!("o{at}")
        };
        let end = (at + chunk).min(total);
        let mut p = at;
        while p < end {
            let q = (p + piece).min(end);
            let last = q == end;
            let next = if last {
                format!("o{end}")
            } else {
                start.clone()
            };
            out.push(ids(
                &start,
                &next,
                !last,
                &(p + 1..=q).collect::<Vec<_>>(),
            ));
            p = q;
        }
        at = end;
    }
    out
}

#[test]
fn a_mark_brings_back_exactly_its_message_whatever_the_batching() {
    // Marked while reading with one batching, replayed with others (a
    // server restarted with another chunk size, or one response for all).
    for (chunk, piece) in [(7, 3), (50, 50), (1000, 4)] {
        let mut t = started(ContentKind::Json);
        for b in serve("-1", 60, chunk, piece) {
            t.push(b);
        }
        let mut marks = Vec::new();
        for (bi, b) in t.batches.iter().enumerate() {
            for i in 0..b.len() {
                let n: u32 =
                    String::from_utf8_lossy(b.message(i)).parse().unwrap();
                marks.push((n, bi, b.mark(i, ContentKind::Json).unwrap()));
            }
        }
        assert_eq!(marks.len(), 60);
        for (n, _, mark) in &marks {
            for (c2, p2) in [(5, 2), (1000, 1000)] {
                let mut r = Tail::new(ContentKind::Json, Limits::default());
                r.reset_at(mark);
                let from = r.restart_point().unwrap();
                assert_eq!(&from, &mark.offset);
                for b in serve(&from, 60, c2, p2) {
                    r.push(b);
                }
                let first = shown(&r).first().cloned();
                assert_eq!(first, Some(n.to_string()), "{mark:?} {c2}/{p2}");
                assert_eq!(r.total_messages, u64::from(61 - n));
            }
        }
    }
}

#[test]
fn a_mark_survives_a_restart_in_the_middle_of_a_response() {
    let mut t = started(ContentKind::Json);
    let mut pieces = serve("-1", 20, 20, 4).into_iter();
    t.push(pieces.next().unwrap());
    t.push(pieces.next().unwrap());
    // The reader fails mid-response and restarts, skipping 1..=8.
    let from = t.restart_point().unwrap();
    for b in serve(&from, 20, 20, 3) {
        t.push(b);
    }
    assert_eq!(
        shown(&t),
        (1..=20).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    // Message 11 is in a batch of the second reader.
    let (bi, i) = t
        .batches
        .iter()
        .enumerate()
        .find_map(|(bi, b)| {
            (0..b.len())
                .find(|&i| b.message(i) == b"11")
                .map(|i| (bi, i))
        })
        .unwrap();
    let mark = t.batches[bi].mark(i, ContentKind::Json).unwrap();
    assert_eq!(
        mark,
        Mark {
            offset: "-1".into(),
            skip: 10
        }
    );
}

#[test]
fn text_marks_count_bytes_and_survive_held_lines() {
    let mut t = started(ContentKind::Text);
    // One response in three pieces; a line is cut between the first two.
    t.push(raw("-1", "-1", b"aa\nbb", true));
    t.push(raw("-1", "-1", b"b\ncc\n", true));
    t.push(raw("-1", "o1", b"dd\n", false));
    t.push(raw("o1", "o2", b"ee\nff\n", false));
    let lines: Vec<(String, Mark)> = t
        .batches
        .iter()
        .flat_map(|b| {
            (0..b.len()).map(move |i| {
                (
                    String::from_utf8_lossy(b.message(i)).into_owned(),
                    b.mark(i, ContentKind::Text).unwrap(),
                )
            })
        })
        .collect();
    let m = |o: &str, skip| Mark {
        offset: o.into(),
        skip,
    };
    assert_eq!(
        lines,
        [
            ("aa\n".to_owned(), m("-1", 0)),
            ("bbb\n".to_owned(), m("-1", 3)),
            ("cc\n".to_owned(), m("-1", 7)),
            ("dd\n".to_owned(), m("-1", 10)),
            ("ee\n".to_owned(), m("o1", 0)),
            ("ff\n".to_owned(), m("o1", 3)),
        ]
    );
    // Resuming at "cc" from one response for everything.
    let mut r = Tail::new(ContentKind::Text, Limits::default());
    r.reset_at(&m("-1", 7));
    r.restart_point();
    r.push(raw("-1", "o2", b"aa\nbbb\ncc\ndd\nee\nff\n", false));
    assert_eq!(bytes_shown(&r), b"cc\ndd\nee\nff\n");
}

#[test]
fn the_end_mark_is_where_a_restart_would_begin() {
    let mut t = started(ContentKind::Json);
    t.push(ids("-1", "a", false, &[1, 2]));
    t.push(ids("a", "a", true, &[3, 4]));
    assert_eq!(
        t.end_mark(),
        Some(Mark {
            offset: "a".into(),
            skip: 2
        })
    );
    // A read from now has no offset for what it shows before a checkpoint.
    let mut n = Tail::new(ContentKind::Json, Limits::default());
    n.reset("now");
    assert_eq!(
        n.end_mark(),
        Some(Mark {
            offset: "now".into(),
            skip: 0
        })
    );
    n.push(ids("now", "now", true, &[9]));
    assert_eq!(n.end_mark(), None);
    assert_eq!(n.current_mark(), None);
}
