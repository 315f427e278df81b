//! A stream's life in the explorer: start-up (`init`), opening, where its
//! tail starts (resume, `--from`, jumps), its reader's (re)starts, and
//! leaving (the resume point) and quitting.

#[allow(
    clippy::wildcard_imports,
    reason = "the parent's imports and siblings, as when this was one file"
)]
use super::*;

/// Starts a new reader from the last offset the UI received, skipping what
/// it already showed.
pub(super) fn restart_reader(state: &mut State, fx: &mut Vec<Effect>) {
    // A jump that has delivered nothing yet restarts where it was going.
    let tail = state.jump.as_deref_mut().unwrap_or(&mut state.tail);
    let Some(from) = tail.restart_point() else {
        return;
    };
    start_reader(state, from, fx);
}

pub(super) fn start_reader(
    state: &mut State,
    from: String,
    fx: &mut Vec<Effect>,
) {
    let Some(open) = &state.open else {
        return;
    };
    let url = open.url.clone();
    let id = state.readers.tag(&url);
    let reader = state.reader_mut();
    reader.retry_at = None;
    reader.connection = Connection::Connecting;
    let mode = reader.mode;
    fx.push(Effect::StartReader {
        reader: id,
        url,
        from,
        mode,
        kind: state.tail.kind,
    });
}

/// Reads from `from` (`-1`, `now` or an offset) into an empty tail. What
/// the tail holds stays on screen until the new reader delivers: a jump
/// the server refuses loses nothing (see `events::reader`).
pub(super) fn jump_to(state: &mut State, from: &str, fx: &mut Vec<Effect>) {
    let mark = Mark {
        offset: from.to_owned(),
        skip: 0,
    };
    jump_to_mark(state, &mark, fx);
}

/// Reads from the mark's offset into an empty tail, dropping what comes
/// before its message (a bookmark or a resume point). What the tail holds
/// stays on screen until the new reader delivers.
pub(super) fn jump_to_mark(
    state: &mut State,
    mark: &Mark,
    fx: &mut Vec<Effect>,
) {
    let mut fresh = Tail::new(state.tail.kind, state.tail.limits);
    fresh.reset_at(mark);
    state.meta.catch_up = crate::tui::state::meta::CatchUp::start(state.now);
    let reader = state.reader_mut();
    reader.reconnects = 0;
    reader.failed_at = None;
    if state.tail.batches.is_empty() {
        state.tail = fresh;
        state.jump = None;
    } else {
        state.jump = Some(Box::new(fresh));
    }
    restart_reader(state, fx);
    state.focus = Pane::Tail;
}

/// Why `from` cannot be an offset to read from, if it cannot: what can be
/// checked without asking the server (the protocol's sentinels, and the
/// characters no offset may hold). The value itself stays opaque.
pub fn offset_problem(from: &str) -> Option<&'static str> {
    if from.is_empty() {
        return Some("type -1 (beginning), now (tail) or an offset");
    }
    if from == "-1" || from == "now" {
        return None;
    }
    if from.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("an offset holds no spaces or control characters");
    }
    if from.contains([',', '&', '=', '?', '/']) {
        return Some("an offset never holds , & = ? or /");
    }
    None
}

/// The explorer's start, through the same seam as every later step: the
/// recent and bookmarked streams of this server go into the list (each
/// with a HEAD), the stream given on the command line opens (at `first`
/// when `--from` named where), and the registry is watched.
pub fn init(
    state: &mut State,
    open: Option<&str>,
    first: Option<Mark>,
) -> Vec<Effect> {
    let recent: Vec<String> = state
        .bookmarks
        .recent()
        .into_iter()
        .map(str::to_owned)
        .collect();
    for url in recent {
        if let Some(path) = state.path_of(&url) {
            state.streams.upsert(&path).sources.recent = true;
        }
    }
    let marked: Vec<String> =
        state.bookmarks.streams().map(str::to_owned).collect();
    for url in marked {
        if let Some(path) = state.path_of(&url) {
            state.streams.upsert(&path).sources.bookmarked = true;
        }
    }
    let mut fx: Vec<Effect> = state
        .streams
        .entries
        .iter()
        .map(|e| Effect::Head {
            url: state.url_of(&e.path),
        })
        .collect();
    if let Some(path) = open {
        state.streams.upsert(path).sources.command_line = true;
        open_stream_at(state, path, first, &mut fx);
        state.focus = Pane::Tail;
    }
    fx.push(Effect::WatchRegistry {
        base_url: state.base_url.clone(),
    });
    fx
}

/// Opens a stream by its path under the base URL (a name from the list,
/// the registry or the command line: never another origin, whatever it
/// looks like): the tail, metadata and composer follow it.
pub fn open_stream(state: &mut State, path: &str, fx: &mut Vec<Effect>) {
    let url = state.url_of(path);
    open_url(state, &url, fx);
}

/// Opens `path` reading from `start` (the command line's `--from`), or
/// where [`State::start_default`] says when `None`.
pub fn open_stream_at(
    state: &mut State,
    path: &str,
    start: Option<Mark>,
    fx: &mut Vec<Effect>,
) {
    let url = state.url_of(path);
    open_url_at(state, &url, start, fx);
}

/// Opens what the user typed in `o`: a path, or a full URL (which may be
/// on another server).
pub fn open_typed(state: &mut State, input: &str, fx: &mut Vec<Effect>) {
    let url = state.url_of_input(input);
    open_url(state, &url, fx);
}

pub(super) fn open_url(state: &mut State, url: &str, fx: &mut Vec<Effect>) {
    open_url_at(state, url, None, fx);
}

pub(super) fn open_url_at(
    state: &mut State,
    url: &str,
    start: Option<Mark>,
    fx: &mut Vec<Effect>,
) {
    remember_position(state, fx);
    // What the status bar and the composer said was about the stream left
    // behind (an append still in flight reports when it lands).
    state.notice = None;
    if !state.composer.busy {
        state.composer.outcome = None;
    }
    let under_base = state.path_of(url);
    // Another server's URL is shown without its credentials.
    let path = under_base
        .clone()
        .unwrap_or_else(|| crate::bookmarks::stream_key(url));
    let content_type = state
        .streams
        .entries
        .iter()
        .find(|e| e.path == path)
        .and_then(|e| e.content_type.clone());
    if under_base.is_some() {
        let e: &mut Entry = state.streams.upsert(&path);
        e.sources.recent = true;
        state.streams.select_path(&path);
    }
    fx.push(Effect::StopReader);
    // One stream open: its reader is the only one, in the mode last
    // chosen (a reader it had before starts over).
    state.readers.idle.mode = state.reader().mode;
    state.readers.clear();
    state.open = Some(OpenStream {
        path,
        url: url.to_owned(),
        content_type: content_type.clone(),
    });
    state.tail =
        Tail::new(ContentKind::of(content_type.as_deref()), state.tail.limits);
    state.meta = crate::tui::state::Meta::default();
    state.meta.loading = true;
    state.reader_mut().connection = Connection::Connecting;
    state.jump = None;
    state.overlay = None;
    let now = wall_clock(state);
    state.bookmarks.touch_recent(url, &now);
    fx.push(Effect::SaveBookmarks(Box::new(state.bookmarks.clone())));
    fx.push(Effect::Head {
        url: url.to_owned(),
    });
    // Asked once per stream per session: coming back to a stream opened
    // earlier resumes where it was left, without asking again.
    let first_time = state.opened.insert(url.to_owned());
    if let Some(mark) = start {
        begin_tail_at(state, mark, fx);
        return;
    }
    let from = match state.start_default {
        TailStart::Now => "now",
        TailStart::Beginning => "-1",
        TailStart::Resume => {
            let Some(pos) = state.bookmarks.last_position(url) else {
                begin_tail(state, "-1".to_owned(), fx);
                return;
            };
            if first_time {
                state.overlay =
                    Some(Overlay::Dialog(Dialog::new(DialogKind::Resume {
                        offset: pos.offset.clone(),
                        skip: pos.position,
                        saved_at: pos.saved_at.clone(),
                    })));
                return;
            }
            let mark = Mark {
                offset: pos.offset.clone(),
                skip: pos.position,
            };
            state.notify(
                Level::Info,
                "back where you left it (J jumps elsewhere)",
            );
            begin_tail_at(state, mark, fx);
            return;
        }
    };
    begin_tail(state, from.to_owned(), fx);
}

/// Starts tailing at `from` once the content type is known (else after
/// the HEAD answers).
pub(super) fn begin_tail(
    state: &mut State,
    from: String,
    fx: &mut Vec<Effect>,
) {
    begin_tail_at(
        state,
        Mark {
            offset: from,
            skip: 0,
        },
        fx,
    );
}

/// [`begin_tail`] at a mark: its skip counts messages or bytes, so it
/// waits for the content type like the start does.
pub(super) fn begin_tail_at(
    state: &mut State,
    mark: Mark,
    fx: &mut Vec<Effect>,
) {
    state.reader_mut().pending_skip = mark.skip;
    let from = mark.offset;
    let known = state.open.as_ref().and_then(|o| o.content_type.clone());
    // A HEAD that answered without a type will not say more: start anyway
    // (the bytes are shown as binary).
    if known.is_some() || state.meta.head.is_some() {
        // The HEAD may have answered while the Resume dialog was open, when
        // nothing was pending to set the kind from it.
        state.tail.kind = ContentKind::of(known.as_deref());
        let mark = Mark {
            offset: from,
            skip: std::mem::take(&mut state.reader_mut().pending_skip),
        };
        jump_to_mark(state, &mark, fx);
    } else {
        state.reader_mut().pending_start = Some(from);
        // The HEAD failed while a dialog was open: nothing would answer.
        if state.meta.head_error.is_some()
            && !state.meta.loading
            && let Some(open) = &state.open
        {
            let url = open.url.clone();
            state.meta.loading = true;
            state.reader_mut().connection = Connection::Connecting;
            fx.push(Effect::Head { url });
        }
    }
}

/// Keeps where the open stream's tail is, to offer resuming there: the
/// selected message when the view is paused on one, else just after the
/// last message received.
pub(super) fn remember_position(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(open) = &state.open else {
        return;
    };
    let selected = if state.tail.follow {
        None
    } else {
        state.tail.current_mark()
    };
    let Some(Mark { offset, skip }) =
        selected.or_else(|| state.tail.end_mark())
    else {
        return;
    };
    if state.tail.total_messages == 0 && offset == "-1" {
        return;
    }
    let now = wall_clock(state);
    state
        .bookmarks
        .set_last_position(&open.url, &offset, skip, &now);
    fx.push(Effect::SaveBookmarks(Box::new(state.bookmarks.clone())));
}

pub(super) fn quit(state: &mut State, fx: &mut Vec<Effect>) {
    remember_position(state, fx);
    fx.push(Effect::StopReader);
    state.quit = true;
}
