//! What client tasks and the clock report: reader batches and failures,
//! HEAD answers, write results, registry changes, ticks.

use std::time::{Duration, Instant};

use super::{filter, jump_to_mark, restart_reader};
use crate::client::{Error, StreamMetadata};
use crate::tui::effect::Effect;
use crate::tui::format::ContentKind;
use crate::tui::message::{
    ReaderEvent, RegistryEvent, WriteKind, Written, explain,
};
use crate::tui::state::composer::Outcome;
use crate::tui::state::streams::Registry;
use crate::tui::state::tail::Mark;
use crate::tui::state::{Connection, Level, Overlay, State};

/// Backoff before reconnect attempt `n` (1-based): 0.5 s doubling to 8 s.
pub fn backoff(attempt: u32) -> Duration {
    crate::tui::state::TAIL_RECONNECT.backoff(attempt)
}

pub(super) fn tick(
    state: &mut State,
    now: Instant,
    wall: String,
    fx: &mut Vec<Effect>,
) {
    // `fx` receives the reader restart when a reconnect is due.
    state.now = state.now.max(now);
    state.wall = wall;
    state.meta.rate.advance(now);
    choose_layout(state);
    if state.notice.as_ref().is_some_and(|n| n.until <= now) {
        state.notice = None;
    }
    if state.merge.is_some() {
        super::merge::tick(state, fx);
    }
    if state.reader().retry_at.is_some_and(|at| at <= now) {
        retry_now(state, fx);
    }
}

/// Pretty JSON cannot be read at a high live rate: above
/// [`COMPACT_ABOVE`] messages in the last second the layout turns compact
/// by itself and says so, unless the user chose one with `p`.
fn choose_layout(state: &mut State) {
    use crate::tui::format::{ContentKind, JsonStyle};
    use crate::tui::state::tail::view::COMPACT_ABOVE;
    if state.tail_view.style_pinned
        || state.json_style == JsonStyle::Compact
        || state.tail.kind != ContentKind::Json
    {
        return;
    }
    let Some(&rate) = state.meta.rate.history.last() else {
        return;
    };
    if rate > COMPACT_ABOVE {
        state.json_style = JsonStyle::Compact;
        state.tail_view.auto_compact = Some(rate);
        state.tail.anchor.line = 0;
        state.notify(
            Level::Info,
            format!(
                "compact JSON: {rate} msgs/s is too fast to read pretty \
                 (p: pretty)"
            ),
        );
    }
}

/// Tries again at once what failed or waits for its backoff: the HEAD of a
/// stream being opened (its answer starts the tail), else the reader from
/// the last offset the UI received.
pub(super) fn retry_now(state: &mut State, fx: &mut Vec<Effect>) {
    state.reader_mut().retry_at = None;
    let Some(open) = &state.open else {
        return;
    };
    if state.reader().pending_start.is_some() {
        let url = open.url.clone();
        state.meta.loading = true;
        state.reader_mut().connection = Connection::Connecting;
        fx.push(Effect::Head { url });
    } else {
        restart_reader(state, fx);
    }
}

/// Counts a failure that made no progress and schedules the next attempt.
fn back_off(state: &mut State, error: String) {
    let now = state.now;
    let reader = state.reader_mut();
    reader.reconnects += 1;
    let next_at = now + backoff(reader.reconnects);
    reader.connection = Connection::Reconnecting {
        attempt: reader.reconnects,
        next_at,
        error,
    };
    reader.retry_at = Some(next_at);
}

/// Reads in a row that met a response that did not decode, with no
/// progress between them, before the reader is given up as failed.
pub(super) const CORRUPT_TRIES: u32 = 3;

/// Whether the tail got further since the reader last failed (then a
/// failure is not a failure in a row); records where it is now.
fn progressed_since_last_failure(state: &mut State) -> bool {
    let last = state
        .jump
        .as_ref()
        .map_or(&state.tail.last_offset, |t| &t.last_offset)
        .clone();
    let reader = state.reader_mut();
    let progressed = reader.failed_at != last;
    reader.failed_at = last;
    progressed
}

pub(super) fn reader(
    state: &mut State,
    reader: u64,
    event: ReaderEvent,
    fx: &mut Vec<Effect>,
) {
    if state.merge.is_some() {
        super::merge::reader(state, reader, event, fx);
        return;
    }
    // Reports from a reader that was replaced are stale.
    if state.open.is_none() || state.reader().id != reader {
        return;
    }
    // The jump's reader answered: its tail replaces the one kept.
    if matches!(event, ReaderEvent::Batch { .. } | ReaderEvent::Done)
        && let Some(fresh) = state.jump.take()
    {
        state.tail = *fresh;
        super::search::tail_replaced(state, fx);
        filter::restart(state, fx);
    }
    match event {
        ReaderEvent::Batch { incoming, info, at } => {
            state.now = state.now.max(at);
            let closed = incoming.closed;
            let up_to_date = incoming.up_to_date;
            // An up-to-date checkpoint ends at the stream's tail: the
            // metadata's next offset follows every batch, no HEAD needed.
            if (up_to_date || closed)
                && !incoming.partial
                && let Some(head) = &mut state.meta.head
            {
                head.next_offset =
                    crate::client::Offset::new(incoming.next_offset.clone());
                head.closed |= closed;
            }
            let n = state.tail.push(incoming);
            super::search::arrived(state, fx);
            filter::on_batch(state, fx);
            // Catch-up is counted apart: it is not the live rate.
            if state.meta.catch_up.record(n, at, up_to_date || closed) {
                state.meta.rate.record(n, at);
            } else {
                state.meta.rate.advance(at);
            }
            choose_layout(state);
            state.meta.read = info;
            state.reader_mut().delivered(closed, up_to_date);
            if closed {
                let mark_closed = |state: &mut State| {
                    let path = state.open.as_ref()?.path.clone();
                    state.streams.get_mut(&path)?.closed = Some(true);
                    Some(())
                };
                mark_closed(state);
                if let Some(open) = &state.open {
                    // The final offset and closed flag, from the server.
                    fx.push(Effect::Head {
                        url: open.url.clone(),
                    });
                }
            }
        }
        ReaderEvent::Connection(c) => state.reader_mut().connection = c,
        ReaderEvent::Retry(error) => {
            state.inspector.note_reconnect();
            // A connection that ends after delivering data (a server
            // closing a long SSE response early, a proxy timeout) is
            // resumed at once: waiting would only put the tail behind.
            // Backoff is for failures that make no progress.
            let progressed = progressed_since_last_failure(state);
            if progressed {
                restart_reader(state, fx);
                return;
            }
            back_off(state, error);
        }
        ReaderEvent::Corrupt(error) => {
            state.inspector.note_reconnect();
            // Reading the same offset again is safe (a GET), and a proxy
            // that cut or mangled one response will likely not do it
            // twice; a stream whose data is bad stays bad, so the tries
            // without progress are few.
            let progressed = progressed_since_last_failure(state);
            if progressed {
                state.reader_mut().reconnects = 0;
                restart_reader(state, fx);
                return;
            }
            if state.reader().reconnects >= CORRUPT_TRIES {
                state.notify(Level::Error, error.clone());
                state.reader_mut().connection = Connection::Failed(error);
                return;
            }
            back_off(state, error);
        }
        ReaderEvent::Failed(error) => {
            if let Some(jump) = state.jump.take() {
                // The server refused the jump: the tail shown stays, and
                // reading goes on where it was.
                let to = jump.last_offset.unwrap_or_default();
                state.notify(
                    Level::Error,
                    format!("jump to {to} failed: {error}; the tail is kept"),
                );
                restart_reader(state, fx);
                return;
            }
            state.notify(Level::Error, error.clone());
            state.reader_mut().connection = Connection::Failed(error);
        }
        ReaderEvent::Done => {
            state.meta.catch_up.record(0, state.now, true);
            state.reader_mut().connection = Connection::CaughtUp;
        }
    }
}

pub(super) fn head(
    state: &mut State,
    url: &str,
    at: Instant,
    result: Result<StreamMetadata, Error>,
    fx: &mut Vec<Effect>,
) {
    let is_open = state.open.as_ref().is_some_and(|o| o.url == url);
    let path = state.path_of(url);
    match result {
        Ok(meta) => {
            if is_open
                && let Some(path) = &path
                && state.streams.get_mut(path).is_none()
            {
                // Its row went when it was missing; it exists now.
                state.streams.upsert(path).sources.recent = true;
            }
            if let Some(path) = &path
                && let Some(e) = state.streams.get_mut(path)
            {
                e.content_type.clone_from(&meta.content_type);
                e.closed = Some(meta.closed);
                e.missing = None;
            }
            if state.merge.is_some() {
                super::merge::head_answered(
                    state,
                    url,
                    meta.content_type.as_deref(),
                    fx,
                );
            }
            if is_open {
                if let Some(open) = &mut state.open {
                    open.content_type.clone_from(&meta.content_type);
                }
                if let Some(from) = state.reader_mut().pending_start.take() {
                    state.tail.kind =
                        ContentKind::of(meta.content_type.as_deref());
                    // The HEAD answered: start even when it named no type
                    // (the bytes are shown as binary), or it never would.
                    let mark = Mark {
                        offset: from,
                        skip: std::mem::take(
                            &mut state.reader_mut().pending_skip,
                        ),
                    };
                    jump_to_mark(state, &mark, fx);
                }
                state.meta.head = Some(meta);
                state.meta.head_at = Some(at);
                state.meta.head_error = None;
                state.meta.loading = false;
            }
        }
        Err(e) => {
            if let Some(path) = &path
                && let Some(entry) = state.streams.get_mut(path)
            {
                entry.missing = e.status();
                if let Some(status @ (404 | 410)) = e.status() {
                    // Opened by mistake, or deleted since: not kept
                    // unless bookmarked or listed by the registry.
                    state.streams.forget_missing(path, status);
                }
            }
            if state.merge.is_some()
                && let Some(r) = state.readers.get_mut(url)
                && r.pending_start.is_some()
            {
                r.connection = Connection::Failed(explain(&e));
            }
            if is_open {
                let text = explain(&e);
                state.meta.head_error = Some(text.clone());
                state.meta.loading = false;
                if state.reader().pending_start.is_some() {
                    state.now = state.now.max(at);
                    if e.is_retryable() {
                        // The server may be down or restarting: opening
                        // keeps trying, as a reader that lost it does.
                        back_off(state, text);
                    } else {
                        // `pending_start` stays: a HEAD that answers later
                        // (R, r, or the stream being created) starts it.
                        state.reader_mut().connection =
                            Connection::Failed(text.clone());
                        state.notify(Level::Error, text);
                    }
                }
            }
        }
    }
}

pub(super) fn written(
    state: &mut State,
    url: &str,
    kind: WriteKind,
    result: Result<Written, Error>,
    fx: &mut Vec<Effect>,
) {
    let is_open = state.open.as_ref().is_some_and(|o| o.url == url);
    match kind {
        WriteKind::Append { .. } | WriteKind::Close => {
            composer_result(state, result);
            if is_open {
                state.meta.loading = true;
                fx.push(Effect::Head {
                    url: url.to_owned(),
                });
            }
        }
        WriteKind::Create { path } => match result {
            Ok(Written::Created {
                status,
                content_type,
            }) => {
                close_dialog(state);
                let e = state.streams.upsert(&path);
                e.content_type = content_type;
                e.missing = None;
                state.streams.select_path(&path);
                let what = if status == 200 {
                    "exists already with these settings (200)"
                } else {
                    "created (201)"
                };
                state.notify(Level::Info, format!("{path}: {what}"));
                fx.push(Effect::Head {
                    url: url.to_owned(),
                });
            }
            Ok(_) => {}
            Err(e) => dialog_error(state, &e),
        },
        WriteKind::Delete { path } => match result {
            Ok(_) => {
                close_dialog(state);
                state.streams.remove_from_registry(&path);
                state.notify(Level::Info, format!("{path}: deleted"));
                if is_open {
                    fx.push(Effect::StopReader);
                    state.reader_mut().connection =
                        Connection::Failed("the stream was deleted".into());
                }
            }
            Err(e) => dialog_error(state, &e),
        },
    }
}

fn composer_result(state: &mut State, result: Result<Written, Error>) {
    let c = &mut state.composer;
    c.busy = false;
    let sent = c.in_flight.take();
    match result {
        Ok(Written::Appended {
            next_offset,
            duplicate,
            closed,
        }) => {
            let mode = c.mode();
            c.landed(&mode);
            if let Some(text) = sent {
                c.sent(&text);
            }
            let mut text = if duplicate {
                "duplicate (204): the server already had this producer \
                 sequence; nothing new was stored"
                    .to_owned()
            } else {
                format!("appended; next offset {next_offset}")
            };
            if closed {
                text.push_str("; stream closed");
            }
            c.outcome = Some(Outcome::Done(text));
        }
        Ok(Written::Closed { final_offset }) => {
            c.outcome = Some(Outcome::Done(match final_offset {
                Some(o) => format!("stream closed at {o}"),
                None => "stream closed".into(),
            }));
        }
        Ok(_) => {}
        Err(e) => {
            c.outcome = Some(Outcome::Failed(format!(
                "{} — the text is kept",
                explain(&e)
            )));
        }
    }
}

fn close_dialog(state: &mut State) {
    if matches!(state.overlay, Some(Overlay::Dialog(_))) {
        state.overlay = None;
    }
}

fn dialog_error(state: &mut State, e: &Error) {
    let text = explain(e);
    match state.dialog_mut() {
        Some(d) => {
            d.busy = false;
            d.error = Some(text);
        }
        None => state.notify(Level::Error, text),
    }
}

pub(super) fn registry(
    state: &mut State,
    event: RegistryEvent,
    fx: &mut Vec<Effect>,
) {
    match event {
        RegistryEvent::Live => state.streams.registry = Registry::Live,
        RegistryEvent::Absent => state.streams.registry = Registry::Absent,
        RegistryEvent::Failed(e) => {
            state.streams.registry = Registry::Failed(e);
        }
        RegistryEvent::Created { path, content_type } => {
            if path.starts_with("__") {
                return;
            }
            let e = state.streams.upsert(&path);
            // Recent, bookmarked and command-line rows had a HEAD at start.
            let asked = e.closed.is_some()
                || e.sources.recent
                || e.sources.bookmarked
                || e.sources.command_line;
            e.sources.registry = true;
            e.missing = None;
            if content_type.is_some() {
                e.content_type = content_type;
            }
            if !asked {
                let url = state.url_of(&path);
                fx.push(Effect::Head { url });
            }
            super::merge::registry_created(state, &path, fx);
        }
        RegistryEvent::Deleted { path } => {
            state.streams.remove_from_registry(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::message::Message;
    use crate::tui::state::meta::ReadInfo;
    use crate::tui::state::tail::Incoming;
    use crate::tui::update::{open_stream, update};

    fn batch(state: &mut State, next: &str) -> Vec<Effect> {
        let reader = state.reader().id;
        let incoming = Incoming {
            arrived: "t".into(),
            start_offset: "a".into(),
            next_offset: next.into(),
            up_to_date: false,
            closed: false,
            partial: false,
            data: bytes::Bytes::from_static(b"1"),
            ends: vec![1],
        };
        let event = ReaderEvent::Batch {
            incoming,
            info: ReadInfo::default(),
            at: state.now,
        };
        update(state, Message::Reader { reader, event })
    }

    fn retry(state: &mut State) -> Vec<Effect> {
        let reader = state.reader().id;
        let event = ReaderEvent::Retry("connection closed".into());
        update(state, Message::Reader { reader, event })
    }

    fn starts(fx: &[Effect]) -> Vec<String> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::StartReader { from, .. } => Some(from.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_failure_after_progress_reconnects_at_once_then_backs_off() {
        let mut state =
            State::new("http://127.0.0.1:1/v1/stream", Instant::now());
        let mut fx = Vec::new();
        open_stream(&mut state, "s", &mut fx);
        state.open.as_mut().unwrap().content_type =
            Some("application/json".into());
        state.tail.reset("-1");
        state.reader_mut().id = 7;
        batch(&mut state, "o1");
        // Data arrived since the last failure: no waiting.
        assert_eq!(starts(&retry(&mut state)), vec!["o1".to_owned()]);
        assert_eq!(state.reader().connection, Connection::Connecting);
        assert_eq!(state.reader().retry_at, None);
        // The restarted reader fails again without progress: backoff.
        let fx = retry(&mut state);
        assert!(starts(&fx).is_empty());
        assert!(matches!(
            state.reader().connection,
            Connection::Reconnecting { attempt: 1, .. }
        ));
        assert!(state.reader().retry_at.is_some());
        // Progress again: at once again.
        batch(&mut state, "o2");
        assert_eq!(starts(&retry(&mut state)), vec!["o2".to_owned()]);
    }
}
