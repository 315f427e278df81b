//! Unit tests of the producer's batching, numbering and bookkeeping (no
//! network: nothing is ever sent).

use super::engine::*;
use super::*;
use crate::client::{AppendResult, Client, Offset};

fn producer(options: ProducerOptions) -> IdempotentProducer {
    // No I/O happens until the first append.
    let stream = Client::new()
        .stream("http://127.0.0.1:9/never-contacted")
        .expect("stream handle");
    IdempotentProducer::new(stream, "unit", options)
}

/// A 200 answer with `Stream-Next-Offset: offset`.
fn stored(offset: &str) -> AppendResult {
    AppendResult {
        next_offset: Offset::new(offset),
        duplicate: false,
    }
}

fn sealed_bodies(state: &State) -> Vec<&[u8]> {
    state.sealed.iter().map(|b| b.body.as_ref()).collect()
}

#[test]
fn json_batches_are_one_array_of_the_messages() {
    let p = producer(ProducerOptions::default());
    let mut state = p.shared.lock();
    state.open.push(true, br#"{"a":1}"#, 7, 1024);
    state.open.push(true, b"[1,2]", 5, 1024);
    state.open.push(true, b"\"x\"", 3, 1024);
    assert!(state.open.since.is_some(), "the linger clock started");
    state.seal(true);
    assert_eq!(sealed_bodies(&state), [&br#"[{"a":1},[1,2],"x"]"#[..]]);
    assert_eq!(state.sealed[0].permits, 15);
    assert!(state.open.body.is_empty() && state.open.since.is_none());
    // Sealing an empty batch queues nothing.
    state.seal(true);
    assert_eq!(state.sealed.len(), 1);
}

#[test]
fn byte_batches_are_the_messages_concatenated() {
    let p = producer(ProducerOptions::default());
    let mut state = p.shared.lock();
    state.open.push(false, b"ab", 2, 1024);
    state.open.push(false, b"cd\n", 3, 1024);
    state.seal(false);
    assert_eq!(sealed_bodies(&state), [&b"abcd\n"[..]]);
}

#[test]
fn messages_are_checked_before_queueing() {
    assert!(check_message(false, b"").is_err());
    assert!(check_message(true, b"").is_err());
    assert!(check_message(false, b"not json {").is_ok());
    for good in [&b"1"[..], b"\"s\"", b"[]", b"[1,[2]]", b" {\"k\":null} "] {
        assert!(check_message(true, good).is_ok(), "{good:?}");
    }
    for bad in [&b"{"[..], b"1 2", b"[1,]", b"nul", b"{\"a\":1}{}"] {
        let err = check_message(true, bad).expect_err("invalid JSON");
        assert!(err.is_invalid_argument(), "{bad:?}: {err}");
    }
    assert_eq!(wrap_one(b"[1]").as_ref(), b"[[1]]");
}

#[test]
fn claims_move_past_both_epochs() {
    assert_eq!(next_epoch(0, Some(5)), 6);
    assert_eq!(next_epoch(7, Some(5)), 8);
    assert_eq!(next_epoch(3, None), 4);
    assert_eq!(next_epoch(u64::MAX, None), u64::MAX);
}

#[test]
fn pacing_grows_with_the_body() {
    assert_eq!(pace_after(0), PACE_BASE);
    assert_eq!(
        pace_after(1024 * 1024),
        PACE_BASE + Duration::from_micros(1048)
    );
}

#[test]
fn the_budget_holds_several_batches_and_fits_a_semaphore() {
    let default = budget_for(&ProducerOptions::default());
    assert_eq!(default as usize, 7 * 1024 * 1024);
    let tiny = budget_for(&ProducerOptions {
        max_batch_bytes: 1,
        ..ProducerOptions::default()
    });
    assert_eq!(tiny, 1024 * 1024, "never below 1 MiB");
    let huge = budget_for(&ProducerOptions {
        max_batch_bytes: usize::MAX,
        ..ProducerOptions::default()
    });
    assert!(huge as usize <= Semaphore::MAX_PERMITS);
    let p = producer(ProducerOptions::default());
    assert_eq!(p.shared.permits_for(0), 1);
    assert_eq!(p.shared.permits_for(10), 10);
    assert_eq!(p.shared.permits_for(usize::MAX), default);
}

#[test]
fn acknowledgements_advance_the_contiguous_mark() {
    let p = producer(ProducerOptions::default());
    let shared = &p.shared;
    let mut state = shared.lock();
    shared.ack(&mut state, 1);
    shared.ack(&mut state, 3);
    assert_eq!(shared.progress.borrow().acked_below, 0);
    shared.ack(&mut state, 0);
    assert_eq!(shared.progress.borrow().acked_below, 2);
    shared.ack(&mut state, 2);
    assert_eq!(shared.progress.borrow().acked_below, 4);
    assert!(state.acked.is_empty());
    shared.ack(&mut state, 1);
    assert_eq!(shared.progress.borrow().acked_below, 4, "old seqs");
}

#[test]
fn dispatch_follows_the_window_and_numbers_batches() {
    let p = producer(ProducerOptions {
        epoch: 3,
        max_in_flight: 2,
        ..ProducerOptions::default()
    });
    let shared = &p.shared;
    let mut state = shared.lock();
    for body in [&b"a"[..], b"b", b"c"] {
        state.open.push(false, body, 1, 1024);
        state.seal(false);
    }
    let mut linger = None;
    let first = shared.next_dispatch(&mut state, &mut linger).unwrap();
    assert_eq!((first.epoch, first.seq), (3, 0));
    assert!(
        shared.next_dispatch(&mut state, &mut linger).is_none(),
        "the window starts at one request"
    );
    drop(state);
    shared.settle(Outcome::Acked(first, stored("1")));
    let mut state = shared.lock();
    assert_eq!(state.window, 2);
    // Pacing holds the next request back while one is in flight.
    let second = shared.next_dispatch(&mut state, &mut linger).unwrap();
    assert_eq!(second.seq, 1);
    let mut paced = None;
    assert!(shared.next_dispatch(&mut state, &mut paced).is_none());
    assert!(paced.is_some(), "told when to try again");
    state.last_dispatch = None;
    let third = shared.next_dispatch(&mut state, &mut linger).unwrap();
    assert_eq!(third.seq, 2);
    assert_eq!(state.in_flight, 2);
}

#[test]
fn auto_claim_resends_unacknowledged_batches_in_a_new_epoch() {
    let p = producer(ProducerOptions {
        auto_claim: true,
        max_in_flight: 3,
        ..ProducerOptions::default()
    });
    let shared = &p.shared;
    let mut state = shared.lock();
    state.window = 3;
    for body in [&b"a"[..], b"b", b"c"] {
        state.open.push(false, body, 1, 1024);
        state.seal(false);
    }
    let mut sent = Vec::new();
    for _ in 0..3 {
        state.last_dispatch = None;
        sent.push(shared.next_dispatch(&mut state, &mut None).unwrap());
    }
    drop(state);
    let fenced = |d| {
        Outcome::Failed(
            d,
            Error::StaleEpoch {
                url: String::new(),
                server_epoch: Some(4),
            },
        )
    };
    let (c, b, a) = (sent.pop(), sent.pop(), sent.pop());
    shared.settle(Outcome::Acked(a.unwrap(), stored("1")));
    shared.settle(fenced(c.unwrap()));
    assert!(shared.lock().reclaim.is_some(), "waits for b to settle");
    shared.settle(fenced(b.unwrap()));
    let state = shared.lock();
    assert!(state.reclaim.is_none() && state.failure.is_none());
    assert_eq!((state.epoch, state.next_seq, state.window), (5, 0, 1));
    assert_eq!(sealed_bodies(&state), [&b"b"[..], b"c"], "in order");
}

#[test]
fn a_failure_stops_the_producer_and_frees_its_budget() {
    let p = producer(ProducerOptions::default());
    let shared = &p.shared;
    let before = shared.budget.available_permits();
    shared.budget.forget_permits(3);
    let mut state = shared.lock();
    state.open.push(false, b"ab", 2, 1024);
    state.seal(false);
    state.open.push(false, b"c", 1, 1024);
    let d = shared.next_dispatch(&mut state, &mut None).unwrap();
    drop(state);
    shared.settle(Outcome::Failed(
        d,
        Error::StaleEpoch {
            url: "u".into(),
            server_epoch: Some(9),
        },
    ));
    assert_eq!(shared.budget.available_permits(), before);
    let state = shared.lock();
    assert!(state.idle());
    let refused = state.refusal(&shared.stream).expect_err("stopped");
    assert!(matches!(
        refused,
        Error::StaleEpoch {
            server_epoch: Some(9),
            ..
        }
    ));
}

#[test]
fn delivery_counts_messages_and_the_confirmed_prefix() {
    let p = producer(ProducerOptions {
        max_in_flight: 3,
        ..ProducerOptions::default()
    });
    let shared = &p.shared;
    let mut state = shared.lock();
    state.window = 3;
    // Batches of 2, 1 and 3 messages.
    for batch in [&[&b"a"[..], b"b"][..], &[b"c"], &[b"d", b"e", b"f"]] {
        for m in batch {
            state.open.push(false, m, 1, 1024);
        }
        state.seal(false);
    }
    let mut sent = Vec::new();
    for _ in 0..3 {
        state.last_dispatch = None;
        sent.push(shared.next_dispatch(&mut state, &mut None).unwrap());
    }
    drop(state);
    let (third, second, first) = (sent.pop(), sent.pop(), sent.pop());
    // The last batch is answered first: nothing is confirmed in order yet.
    shared.settle(Outcome::Acked(third.unwrap(), stored("6")));
    assert_eq!(p.delivery().confirmed, 0);
    assert_eq!(p.delivery().appended, 3);
    shared.settle(Outcome::Acked(first.unwrap(), stored("2")));
    let d = p.delivery();
    assert_eq!((d.confirmed, d.offset), (2, Some((2, Offset::new("2")))));
    // A 204 counts as a duplicate, not as appended; it closes the gap.
    let dup = AppendResult {
        next_offset: Offset::new(""),
        duplicate: true,
    };
    shared.settle(Outcome::Acked(second.unwrap(), dup));
    let d = p.delivery();
    assert_eq!((d.appended, d.duplicates, d.confirmed), (5, 1, 6));
    assert_eq!(d.offset, Some((6, Offset::new("6"))));
}
