//! The merged tail's life: marking streams, starting one reader per
//! stream (from `now`), taking each stream's batches into one view in
//! arrival order, and each stream's own reconnects, modes and retries.

use crate::client::LiveMode;
use crate::tui::effect::Effect;
use crate::tui::format::ContentKind;
use crate::tui::message::ReaderEvent;
use crate::tui::state::merge::{Merge, Source, glob_matches};
use crate::tui::state::tail::Tail;
use crate::tui::state::{Connection, Level, Pane, State};

use super::events::{CORRUPT_TRIES, backoff};
use super::remember_position;

/// Where each stream of a merged tail starts: what arrives from now on.
const START: &str = "now";

/// Where a stream the registry announces while a glob's tail runs starts:
/// it is new, so all of it arrived since.
const START_NEW: &str = "-1";

/// Space in the stream list: marks or unmarks the selected stream.
pub(super) fn toggle_mark(state: &mut State) {
    let Some(marked) = state.streams.toggle_mark() else {
        return;
    };
    let n = state.streams.marked.len();
    let text = if marked {
        format!("{n} marked: T tails them merged")
    } else if n == 0 {
        "no stream marked".to_owned()
    } else {
        format!("{n} marked")
    };
    state.notify(Level::Info, text);
}

/// `T` in the stream list: tails the marked streams merged (or the
/// selected one with nothing marked).
pub(super) fn tail_marked(state: &mut State, fx: &mut Vec<Effect>) {
    let mut paths: Vec<String> = state.streams.marked.iter().cloned().collect();
    if paths.is_empty()
        && let Some(path) = state.streams.selected_path()
    {
        paths.push(path);
    }
    if paths.is_empty() {
        state.notify(Level::Error, "mark streams with Space first");
        return;
    }
    state.streams.marked.clear();
    start(state, &paths, None, fx);
}

/// `o` with a glob (`orders/*`): tails every listed stream that matches,
/// and those the registry announces while it runs.
pub fn open_glob(state: &mut State, glob: &str, fx: &mut Vec<Effect>) {
    let paths: Vec<String> = state
        .streams
        .entries
        .iter()
        .filter(|e| glob_matches(glob, &e.path))
        .map(|e| e.path.clone())
        .collect();
    start(state, &paths, Some(glob.to_owned()), fx);
    if paths.is_empty() {
        state.notify(
            Level::Info,
            format!("no stream matches {glob} yet: new ones will join"),
        );
    }
}

/// Replaces what the tail shows with a merged tail of `paths`.
pub fn start(
    state: &mut State,
    paths: &[String],
    glob: Option<String>,
    fx: &mut Vec<Effect>,
) {
    remember_position(state, fx);
    fx.push(Effect::StopReader);
    state.readers.idle.mode = state.reader().mode;
    state.readers.clear();
    state.open = None;
    state.jump = None;
    state.overlay = None;
    state.notice = None;
    state.meta = crate::tui::state::Meta::default();
    state.meta.catch_up = crate::tui::state::meta::CatchUp::start(state.now);
    let kind = paths
        .iter()
        .find_map(|p| known_kind(state, p))
        .unwrap_or(ContentKind::Json);
    state.tail = Tail::new(kind, state.tail.limits);
    state.merge = Some(Merge {
        glob,
        ..Merge::default()
    });
    for path in paths {
        add(state, path, START, fx);
    }
    state.focus = Pane::Tail;
}

fn known_kind(state: &State, path: &str) -> Option<ContentKind> {
    let e = state.streams.entries.iter().find(|e| e.path == path)?;
    e.content_type.as_deref().map(|t| ContentKind::of(Some(t)))
}

/// Adds one stream to the merged tail and starts reading it (after a HEAD
/// when its content type is not known yet).
pub(super) fn add(
    state: &mut State,
    path: &str,
    from: &str,
    fx: &mut Vec<Effect>,
) {
    let Some(merge) = &state.merge else {
        return;
    };
    if merge.has_path(path) || merge.sources.len() >= usize::from(u16::MAX) {
        return;
    }
    let url = state.url_of(path);
    let kind = state.tail.kind;
    let source = Source::new(path, &url, kind);
    let known = known_kind(state, path);
    if let Some(merge) = &mut state.merge {
        merge.sources.push(source);
    }
    state.tail.tags.push(path.to_owned());
    match known {
        Some(k) if k == kind => begin(state, &url, from, fx),
        Some(_) => refuse(state, &url),
        None => {
            state.readers.entry(&url).pending_start = Some(from.into());
            fx.push(Effect::Head { url });
        }
    }
}

/// A stream of another content type than the merged tail's.
fn refuse(state: &mut State, url: &str) {
    let kind = state.tail.kind;
    let text = format!("not merged: not a {kind:?} stream like the others");
    state.readers.entry(url).connection = Connection::Failed(text.clone());
    state.notify(Level::Error, text);
}

/// Starts the stream's reader from `from`.
fn begin(state: &mut State, url: &str, from: &str, fx: &mut Vec<Effect>) {
    let Some(i) = state.merge.as_ref().and_then(|m| m.index_of_url(url)) else {
        return;
    };
    if let Some(m) = &mut state.merge {
        m.sources[i].tail.reset(from);
    }
    restart(state, i, fx);
}

/// Starts a new reader of source `i` where its own tail got to.
fn restart(state: &mut State, i: usize, fx: &mut Vec<Effect>) {
    let Some(source) = state.merge.as_mut().and_then(|m| m.sources.get_mut(i))
    else {
        return;
    };
    let Some(from) = source.tail.restart_point() else {
        return;
    };
    let url = source.url.clone();
    let kind = source.tail.kind;
    let reader = state.readers.tag(&url);
    let r = state.readers.entry(&url);
    r.retry_at = None;
    r.pending_start = None;
    r.connection = Connection::Connecting;
    let mode = r.mode;
    fx.push(Effect::StartReader {
        reader,
        url,
        from,
        mode,
        kind,
    });
}

/// A HEAD answered: a stream that waited for its content type starts.
pub(super) fn head_answered(
    state: &mut State,
    url: &str,
    content_type: Option<&str>,
    fx: &mut Vec<Effect>,
) {
    let Some(from) = state
        .readers
        .get_mut(url)
        .and_then(|r| r.pending_start.take())
    else {
        return;
    };
    let kind = ContentKind::of(content_type);
    let first = state
        .merge
        .as_ref()
        .is_some_and(|m| m.sources.iter().all(|s| s.received == 0))
        && state.tail.total_messages == 0
        && state.readers.iter().all(|(_, r)| r.id == 0);
    if first {
        // Nothing read yet: the first type known is the merged tail's.
        state.tail.kind = kind;
        if let Some(m) = &mut state.merge {
            for s in &mut m.sources {
                s.tail.kind = kind;
            }
        }
    }
    if kind == state.tail.kind {
        begin(state, url, &from, fx);
    } else {
        refuse(state, url);
    }
}

/// A report of one of the merged tail's readers (stale ones are ignored).
pub(super) fn reader(
    state: &mut State,
    reader: u64,
    event: ReaderEvent,
    fx: &mut Vec<Effect>,
) {
    let Some(url) = state.readers.url_of(reader).map(str::to_owned) else {
        return;
    };
    let Some(i) = state.merge.as_ref().and_then(|m| m.index_of_url(&url))
    else {
        return;
    };
    match event {
        ReaderEvent::Batch { incoming, at, .. } => {
            state.now = state.now.max(at);
            let (closed, up_to_date) = (incoming.closed, incoming.up_to_date);
            let Some(m) = &mut state.merge else {
                return;
            };
            let source = &mut m.sources[i];
            let n = source.tail.push(incoming);
            source.received += n;
            let batch = if n > 0 {
                source.tail.take_newest()
            } else {
                None
            };
            if let Some(batch) = batch {
                let source = u16::try_from(i).unwrap_or(u16::MAX);
                state.tail.append(batch, source);
            }
            if state.meta.catch_up.record(n, at, up_to_date || closed) {
                state.meta.rate.record(n, at);
            } else {
                state.meta.rate.advance(at);
            }
            state.readers.entry(&url).delivered(closed, up_to_date);
        }
        ReaderEvent::Connection(c) => state.readers.entry(&url).connection = c,
        ReaderEvent::Retry(error) => {
            if progressed(state, i, &url) {
                restart(state, i, fx);
            } else {
                back_off(state, &url, error);
            }
        }
        ReaderEvent::Corrupt(error) => {
            if progressed(state, i, &url) {
                state.readers.entry(&url).reconnects = 0;
                restart(state, i, fx);
            } else if state.readers.entry(&url).reconnects >= CORRUPT_TRIES {
                state.readers.entry(&url).connection =
                    Connection::Failed(error);
            } else {
                back_off(state, &url, error);
            }
        }
        ReaderEvent::Failed(error) => {
            let path = state.path_of(&url).unwrap_or_default();
            state.notify(Level::Error, format!("{path}: {error}"));
            state.readers.entry(&url).connection = Connection::Failed(error);
        }
        ReaderEvent::Done => {
            state.readers.entry(&url).connection = Connection::CaughtUp;
        }
    }
}

/// Whether source `i` got further since its reader last failed.
fn progressed(state: &mut State, i: usize, url: &str) -> bool {
    let last = state
        .merge
        .as_ref()
        .and_then(|m| m.sources[i].tail.last_offset.clone());
    let r = state.readers.entry(url);
    let progressed = r.failed_at != last;
    r.failed_at = last;
    progressed
}

fn back_off(state: &mut State, url: &str, error: String) {
    let now = state.now;
    let r = state.readers.entry(url);
    r.reconnects += 1;
    let next_at = now + backoff(r.reconnects);
    r.connection = Connection::Reconnecting {
        attempt: r.reconnects,
        next_at,
        error,
    };
    r.retry_at = Some(next_at);
}

/// The clock: each stream whose backoff is over reconnects.
pub(super) fn tick(state: &mut State, fx: &mut Vec<Effect>) {
    let now = state.now;
    let due: Vec<usize> = merged_urls(state)
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            state
                .readers
                .get(u)
                .and_then(|r| r.retry_at)
                .is_some_and(|at| at <= now)
        })
        .map(|(i, _)| i)
        .collect();
    for i in due {
        restart(state, i, fx);
    }
}

fn merged_urls(state: &State) -> Vec<String> {
    state.merge.as_ref().map_or_else(Vec::new, |m| {
        m.sources.iter().map(|s| s.url.clone()).collect()
    })
}

/// `1`-`4`: every stream switches mode and restarts where it is.
pub(super) fn set_mode(
    state: &mut State,
    mode: LiveMode,
    fx: &mut Vec<Effect>,
) {
    state.readers.idle.mode = mode;
    for (i, url) in merged_urls(state).iter().enumerate() {
        let r = state.readers.entry(url);
        r.mode = mode;
        if r.id != 0 && !matches!(r.connection, Connection::Failed(_)) {
            restart(state, i, fx);
        }
    }
    state.notify(Level::Info, format!("live mode: {mode} (every stream)"));
}

/// `R`: every failing or reconnecting stream tries again now.
pub(super) fn retry_now(state: &mut State, fx: &mut Vec<Effect>) {
    let mut any = false;
    for (i, url) in merged_urls(state).iter().enumerate() {
        let failing = state.readers.get(url).is_some_and(|r| {
            matches!(
                r.connection,
                Connection::Failed(_) | Connection::Reconnecting { .. }
            ) && r.pending_start.is_none()
        });
        if failing {
            any = true;
            restart(state, i, fx);
        }
    }
    if !any {
        state.notify(Level::Info, "nothing to retry: no stream is failing");
    }
}

/// The registry announced a stream: it joins a glob's merged tail if it
/// matches.
pub(super) fn registry_created(
    state: &mut State,
    path: &str,
    fx: &mut Vec<Effect>,
) {
    let joins = state.merge.as_ref().is_some_and(|m| {
        m.glob.as_deref().is_some_and(|g| glob_matches(g, path))
            && !m.has_path(path)
    });
    if joins {
        // Before the registry caught up, its records are streams that
        // already existed: read from now, as the ones listed at the start.
        let from = if state.streams.registry
            == crate::tui::state::streams::Registry::Live
        {
            START_NEW
        } else {
            START
        };
        add(state, path, from, fx);
        state.notify(Level::Info, format!("{path} joined the merged tail"));
    }
}
