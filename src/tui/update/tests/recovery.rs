//! Recovery: opening while the server is down, retrying now, a failed
//! jump that keeps the buffer, rows of streams that do not exist.

use super::*;

fn refused(url: &str) -> Error {
    Error::Network {
        url: url.into(),
        source: std::sync::Arc::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        )),
    }
}

fn heads(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Head { .. }))
        .count()
}

#[test]
fn opening_while_the_server_is_down_retries_with_backoff() {
    let mut s = new_state();
    let t0 = s.now;
    let mut fx = Vec::new();
    open_stream(&mut s, "logs", &mut fx);
    let url = format!("{BASE}/logs");
    head(&mut s, url.clone(), Err(refused(&url)));
    // Not failed for good: reconnecting, with the reason.
    let Connection::Reconnecting { attempt, error, .. } = &s.connection else {
        panic!("{:?}", s.connection);
    };
    assert_eq!(*attempt, 1);
    assert!(error.contains("Connection refused"), "{error}");
    assert!(s.retry_at.is_some());
    // Nothing before the backoff ends; then the HEAD again.
    assert_eq!(heads(&tick(&mut s, t0 + Duration::from_millis(100))), 0);
    let fx = tick(&mut s, t0 + Duration::from_secs(1));
    assert_eq!(heads(&fx), 1);
    assert_eq!(s.connection, Connection::Connecting);
    // Down again: a longer wait, attempt 2.
    head(&mut s, url.clone(), Err(refused(&url)));
    assert!(matches!(
        s.connection,
        Connection::Reconnecting { attempt: 2, .. }
    ));
    // The server came up: the answer starts the tail.
    let fx = tick(&mut s, t0 + Duration::from_secs(3));
    assert_eq!(heads(&fx), 1);
    let fx = head(&mut s, url, Ok(metadata(Some("text/plain"), None)));
    assert_eq!(
        starts(&fx),
        [(1, "-1".into(), LiveMode::Sse, ContentKind::Text)]
    );
}

#[test]
fn r_retries_now_when_failed_or_reconnecting() {
    let mut s = new_state();
    let mut fx = Vec::new();
    open_stream(&mut s, "nope", &mut fx);
    let url = format!("{BASE}/nope");
    head(
        &mut s,
        url.clone(),
        Err(Error::NotFound { url: url.clone() }),
    );
    assert!(matches!(s.connection, Connection::Failed(_)));
    // A 404 is not retried by itself, but R asks again.
    let fx = ch(&mut s, 'R');
    assert_eq!(heads(&fx), 1);
    // Created meanwhile: the answer starts the tail.
    let fx = head(&mut s, url, Ok(metadata(Some("application/json"), None)));
    assert_eq!(starts(&fx).len(), 1);

    // A reader waiting for its backoff restarts at once on R.
    deliver(&mut s, batch("-1", "c1", &[&n(1)], false));
    let reader = s.open.as_ref().unwrap().reader;
    for _ in 0..2 {
        let reader = s.open.as_ref().unwrap().reader;
        let event = ReaderEvent::Retry("connection reset".into());
        update(&mut s, Message::Reader { reader, event });
    }
    assert!(matches!(s.connection, Connection::Reconnecting { .. }));
    let fx = ch(&mut s, 'R');
    let started = starts(&fx);
    assert_eq!(started.len(), 1);
    assert!(started[0].0 > reader);
    assert_eq!(started[0].1, "c1");
    assert_eq!(s.retry_at, None);
    // Nothing to retry while live: a notice says so, nothing starts.
    deliver(&mut s, batch("c1", "c2", &[&n(2)], false));
    assert!(starts(&ch(&mut s, 'R')).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("nothing to retry"));
}

#[test]
fn a_head_that_failed_under_the_resume_dialog_is_asked_again() {
    let mut s = new_state();
    let url = format!("{BASE}/logs");
    s.bookmarks
        .set_last_position(&url, "c9", 0, "2026-11-28T12:00:00Z");
    let mut fx = Vec::new();
    open_stream(&mut s, "logs", &mut fx);
    assert!(matches!(s.overlay, Some(Overlay::Dialog(_))));
    head(&mut s, url.clone(), Err(refused(&url)));
    // Resume: the HEAD is asked again instead of waiting forever.
    let mut fx = Vec::new();
    begin_tail(&mut s, "c9".into(), &mut fx);
    assert_eq!(heads(&fx), 1);
    let fx = head(&mut s, url, Ok(metadata(Some("text/plain"), None)));
    assert_eq!(starts(&fx)[0].1, "c9");
}
