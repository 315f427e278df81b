//! Client integration tests: the idempotent producer (batching, pipelining,
//! close, stale epochs with and without auto-claim) and the producer
//! headers' answers (duplicate 204, sequence gap, stale epoch) on append.

use crate::support;

use std::time::Duration;

use dsx::client::{AppendOptions, Error, IdempotentProducer, ProducerOptions};
use support::{
    Body, Fault, Recorder, TestServer, WAIT, create, header, numbers_of,
    try_append, within,
};

/// Appends `range` through `producer` one message at a time.
async fn produce(
    producer: &IdempotentProducer,
    body: Body,
    range: std::ops::Range<u32>,
) {
    for n in range {
        within(WAIT, "producer append", producer.append(body.message(n)))
            .await
            .unwrap_or_else(|e| panic!("queueing message {n}: {e}"));
    }
}

/// Many small messages: batched into far fewer requests, each batch with
/// the next `Producer-Seq`, all delivered once. (Whether batches overlap
/// depends on how fast the server answers; `producer_pipelines` checks
/// that with slowed-down requests.)
async fn batching(server: TestServer, body: Body) {
    const TOTAL: u32 = 3000;
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let stream = create(&server, &client, body, "producer").await;
    let producer = IdempotentProducer::new(
        stream.clone(),
        support::unique_name("writer"),
        ProducerOptions {
            max_batch_bytes: 2048,
            linger: Duration::from_millis(5),
            max_in_flight: 5,
            ..ProducerOptions::default()
        },
    );
    produce(&producer, body, 0..TOTAL).await;
    within(Duration::from_secs(30), "flush", producer.flush())
        .await
        .expect("flush");

    let got = body.read_all(&stream).await.ok();
    assert_eq!(
        got.numbers,
        numbers_of(0..TOTAL),
        "each message once, in order"
    );

    let posts = recorder.with_method("POST");
    let batches = posts.len();
    assert!(
        batches > 1 && batches < usize::try_from(TOTAL / 4).expect("fits"),
        "{TOTAL} messages went out in {batches} requests"
    );
    let mut seqs: Vec<u64> = posts
        .iter()
        .filter(|e| e.status == Some(200))
        .map(|e| {
            header(e, "producer-seq")
                .expect("200 carries Producer-Seq")
                .parse()
                .expect("numeric Producer-Seq")
        })
        .collect();
    seqs.sort_unstable();
    let expected: Vec<u64> =
        (0..u64::try_from(seqs.len()).expect("fits")).collect();
    assert_eq!(seqs, expected, "one Producer-Seq per batch, no gaps");
    // Pipelined requests may overtake each other on separate connections:
    // the server answers the later seq 409 (gap) and the producer resends
    // it. Nothing else is expected, and no batch is accepted twice (the
    // accepted seqs above are distinct).
    let other: Vec<Option<u16>> = posts
        .iter()
        .map(|e| e.status)
        .filter(|s| *s != Some(200))
        .collect();
    assert!(
        other.iter().all(|s| *s == Some(409)),
        "only accepted batches and overtaken ones: {other:?}"
    );
}

async fn batching_json(server: TestServer) {
    batching(server, Body::Json).await;
}

async fn batching_binary(server: TestServer) {
    batching(server, Body::Binary).await;
}

/// close flushes pending messages, then closes with producer headers.
async fn producer_close(server: TestServer) {
    let client = server.client();
    let body = Body::Json;
    let stream = create(&server, &client, body, "producer-close").await;
    let producer = IdempotentProducer::new(
        stream.clone(),
        "closer",
        ProducerOptions::default(),
    );
    produce(&producer, body, 0..25).await;
    let closed = within(WAIT, "producer close", producer.close())
        .await
        .expect("close");
    let meta = within(WAIT, "head", stream.head()).await.expect("head");
    assert!(meta.closed);
    assert_eq!(closed.final_offset, meta.next_offset);
    let got = body.read_all(&stream).await.ok();
    assert_eq!(got.numbers, numbers_of(0..25));
    assert!(got.last().stream_closed);
    let late = try_append(&stream, body.message(99)).await;
    assert!(matches!(late, Err(Error::Closed { .. })), "{late:?}");
}

/// `close_with` appends a final message atomically with the close; a
/// second close returns the first result without sending anything; the
/// producer then refuses appends. An invalid JSON message is refused at
/// `append` without harming the producer.
async fn producer_close_with_final(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let body = Body::Json;
    let stream = create(&server, &client, body, "close-with").await;
    let producer = IdempotentProducer::new(
        stream.clone(),
        "final",
        ProducerOptions::default(),
    );
    produce(&producer, body, 0..3).await;
    let refused = within(WAIT, "append", producer.append("{oops")).await;
    assert!(
        matches!(refused, Err(Error::InvalidArgument(_))),
        "invalid JSON is refused at append: {refused:?}"
    );
    produce(&producer, body, 3..5).await;
    let closed = within(
        WAIT,
        "close_with",
        producer.close_with(Some(body.message(5))),
    )
    .await
    .expect("close with a final message");
    let posts = recorder.with_method("POST").len();
    let again = within(WAIT, "close", producer.close())
        .await
        .expect("a second close");
    assert_eq!(again, closed);
    assert_eq!(recorder.with_method("POST").len(), posts, "nothing sent");
    let late = within(WAIT, "append", producer.append(body.message(6))).await;
    assert!(late.is_err(), "append after close: {late:?}");

    let got = body.read_all(&stream).await.ok();
    assert_eq!(got.numbers, numbers_of(0..6));
    assert!(got.last().stream_closed);
    assert_eq!(got.last().offset, closed.final_offset);
}

/// `detach` flushes and leaves the stream open for the next producer.
async fn producer_detach(server: TestServer) {
    let client = server.client();
    let body = Body::Text;
    let stream = create(&server, &client, body, "detach").await;
    let first = IdempotentProducer::new(
        stream.clone(),
        "shift",
        ProducerOptions::default(),
    );
    produce(&first, body, 0..10).await;
    within(WAIT, "detach", first.detach())
        .await
        .expect("detach");
    let meta = within(WAIT, "head", stream.head()).await.expect("head");
    assert!(!meta.closed, "detach does not close");
    // The next session of the same producer id bumps its epoch.
    let second = IdempotentProducer::new(
        stream.clone(),
        "shift",
        ProducerOptions {
            epoch: 1,
            ..ProducerOptions::default()
        },
    );
    produce(&second, body, 10..20).await;
    within(WAIT, "flush", second.flush()).await.expect("flush");
    assert_eq!(body.read_all(&stream).await.ok().numbers, numbers_of(0..20));
}

/// A newer epoch fences an older one (`StaleEpoch` with the server's
/// epoch); auto-claim takes over with the server's epoch + 1.
async fn producer_epochs(server: TestServer) {
    let client = server.client();
    let body = Body::Binary;
    let stream = create(&server, &client, body, "epochs").await;
    let id = support::unique_name("pid");
    let owner = IdempotentProducer::new(
        stream.clone(),
        id.clone(),
        ProducerOptions {
            epoch: 1,
            ..ProducerOptions::default()
        },
    );
    produce(&owner, body, 0..3).await;
    within(WAIT, "flush", owner.flush())
        .await
        .expect("epoch 1 flush");

    let zombie = IdempotentProducer::new(
        stream.clone(),
        id.clone(),
        ProducerOptions {
            epoch: 0,
            ..ProducerOptions::default()
        },
    );
    // The failure surfaces from append (if the batch already failed) or
    // from flush.
    let queued = within(WAIT, "append", zombie.append(body.message(50))).await;
    let result = match queued {
        Ok(()) => within(WAIT, "flush", zombie.flush()).await,
        Err(e) => Err(e),
    };
    match result {
        Err(Error::StaleEpoch { server_epoch, .. }) => {
            assert_eq!(server_epoch, Some(1));
        }
        other => panic!("epoch 0 after epoch 1: {other:?}"),
    }

    let claimer = IdempotentProducer::new(
        stream.clone(),
        id.clone(),
        ProducerOptions {
            epoch: 0,
            auto_claim: true,
            ..ProducerOptions::default()
        },
    );
    produce(&claimer, body, 3..6).await;
    within(WAIT, "flush", claimer.flush())
        .await
        .expect("auto-claim takes over the producer id");
    assert_eq!(claimer.epoch(), 2, "claimed with the server's epoch + 1");
    assert_eq!(claimer.producer_id(), id);
    assert_eq!(owner.epoch(), 1);

    produce(&owner, body, 90..91).await;
    let fenced = within(WAIT, "flush", owner.flush()).await;
    match fenced {
        Err(Error::StaleEpoch { server_epoch, .. }) => {
            assert_eq!(server_epoch, Some(2), "claimed with epoch 1 + 1");
        }
        other => panic!("old owner after the claim: {other:?}"),
    }
    let got = body.read_all(&stream).await.ok();
    assert_eq!(got.numbers, numbers_of(0..6), "fenced batches are absent");
}

/// Producer headers on a plain append: 200 accepted, 204 duplicate,
/// 409 gap (`SequenceConflict` with expected/received), 403 stale epoch
/// (`StaleEpoch` with the server's epoch), 400 new epoch not at seq 0.
async fn producer_headers_on_append(server: TestServer) {
    let client = server.client();
    let body = Body::Text;
    let stream = create(&server, &client, body, "raw-producer").await;
    let id = support::unique_name("raw");
    let send = |epoch: u64, seq: u64, n: u32| {
        let stream = stream.clone();
        let options = AppendOptions {
            headers: vec![
                ("Producer-Id".to_owned(), id.clone()),
                ("Producer-Epoch".to_owned(), epoch.to_string()),
                ("Producer-Seq".to_owned(), seq.to_string()),
            ],
            ..AppendOptions::default()
        };
        async move {
            within(WAIT, "append", stream.append(body.message(n), options))
                .await
        }
    };
    let first = send(0, 0, 0).await.expect("seq 0");
    assert!(!first.duplicate);
    let dup = send(0, 0, 0).await.expect("a duplicate is a success");
    assert!(dup.duplicate, "204 to producer headers is a duplicate");
    send(0, 1, 1).await.expect("seq 1");

    match send(0, 3, 3).await {
        Err(Error::SequenceConflict {
            expected_seq,
            received_seq,
            ..
        }) => {
            assert_eq!(expected_seq, Some(2));
            assert_eq!(received_seq, Some(3));
        }
        other => panic!("sequence gap: {other:?}"),
    }
    let bad = send(1, 5, 5).await;
    assert!(
        matches!(bad, Err(Error::BadRequest { .. })),
        "a new epoch must start at seq 0: {bad:?}"
    );
    send(1, 0, 2).await.expect("epoch 1 seq 0");
    match send(0, 2, 9).await {
        Err(Error::StaleEpoch { server_epoch, .. }) => {
            assert_eq!(server_epoch, Some(1));
        }
        other => panic!("stale epoch: {other:?}"),
    }
    let got = body.read_all(&stream).await.ok();
    assert_eq!(got.numbers, numbers_of(0..3));
}

server_tests!(
    batching_json,
    batching_binary,
    producer_close,
    producer_close_with_final,
    producer_detach,
    producer_epochs,
    producer_headers_on_append,
);

/// With every request held 150 ms by the server, a producer allowed 4
/// requests in flight keeps several going at once, and never more than 4.
/// (Pipelined requests can overtake each other; the server answers those
/// 409 and the producer resends them, so only the bounds are checked.)
async fn producer_pipelines(server: TestServer) {
    let recorder = Recorder::default();
    let client = recorder.builder().build().expect("client");
    let body = Body::Binary;
    let stream = create(&server, &client, body, "pipelined").await;
    let url = stream.url().to_string();
    server
        .inject(&url, Fault::delay_ms(150).count(60).method("POST"))
        .await;
    let producer = IdempotentProducer::new(
        stream.clone(),
        support::unique_name("pipe"),
        ProducerOptions {
            max_batch_bytes: 64,
            linger: Duration::from_millis(1),
            max_in_flight: 4,
            ..ProducerOptions::default()
        },
    );
    // 8 messages of 8 bytes per batch: 20 batches.
    produce(&producer, body, 0..160).await;
    within(Duration::from_secs(30), "flush", producer.flush())
        .await
        .expect("flush");
    let got = body.read_all(&stream).await.ok();
    assert_eq!(
        got.numbers,
        numbers_of(0..160),
        "each message once, in order"
    );

    let concurrency = max_concurrency(&recorder.spans("POST"));
    assert!(
        (2..=4).contains(&concurrency),
        "with max_in_flight 4, {concurrency} requests were in flight at once"
    );
}

/// The largest number of `(start, end)` spans open at one instant.
fn max_concurrency(
    spans: &[(std::time::Instant, std::time::Instant)],
) -> usize {
    let mut edges: Vec<(std::time::Instant, i32)> = spans
        .iter()
        .flat_map(|(start, end)| [(*start, 1), (*end, -1)])
        .collect();
    // Ends sort before starts at the same instant: touching is not overlap.
    edges.sort();
    let (mut open, mut most) = (0i32, 0i32);
    for (_, delta) in edges {
        open += delta;
        most = most.max(open);
    }
    usize::try_from(most).expect("non-negative")
}

// Slowing requests down needs the fault hook: embedded and Node only.
fault_tests!(producer_pipelines);
