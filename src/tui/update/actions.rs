//! Keymap actions carried out: navigation, modes, copies, bookmarks,
//! the composer's sends.

#[allow(
    clippy::wildcard_imports,
    reason = "the parent's imports and siblings, as when this was one file"
)]
use super::*;

/// Carries out a keymap action.
pub(super) fn act(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let height = tail_height(state);
    let shape = tail_shape(state);
    match action {
        Action::Quit => quit(state, fx),
        Action::Help => state.overlay = Some(Overlay::Help(Help::default())),
        Action::FocusNext | Action::FocusPrev => {
            let i = Pane::ALL
                .iter()
                .position(|p| *p == state.focus)
                .unwrap_or(0);
            let n = Pane::ALL.len();
            let next = if action == Action::FocusNext {
                i + 1
            } else {
                i + n - 1
            };
            state.focus = Pane::ALL[next % n];
        }
        Action::Zoom => state.zoomed = !state.zoomed,
        Action::ToggleSidePanes => {
            state.side_panes = !state.side_panes;
            if !state.side_panes
                && matches!(state.focus, Pane::Streams | Pane::Meta)
            {
                state.focus = Pane::Tail;
            }
            let text = if state.side_panes {
                "side panes shown (s hides them)"
            } else {
                "side panes hidden: the tail has the width (s or Tab shows them)"
            };
            state.notify(Level::Info, text);
        }
        Action::ModeSse => set_mode(state, LiveMode::Sse, fx),
        Action::ModeLongPoll => set_mode(state, LiveMode::LongPoll, fx),
        Action::ModeOff => set_mode(state, LiveMode::Off, fx),
        Action::ModeAuto => set_mode(state, LiveMode::Auto, fx),
        Action::RefreshHead => {
            if let Some(open) = &state.open {
                state.meta.loading = true;
                fx.push(Effect::Head {
                    url: open.url.clone(),
                });
            }
        }
        Action::RetryNow => {
            if matches!(
                state.reader().connection,
                Connection::Failed(_) | Connection::Reconnecting { .. }
            ) {
                events::retry_now(state, fx);
            } else {
                state.notify(
                    Level::Info,
                    "nothing to retry: the stream is not failing",
                );
            }
        }
        Action::CopyUrl => match &state.open {
            Some(open) => fx.push(Effect::Copy(open.url.clone())),
            None => state.notify(Level::Error, "no stream is open"),
        },
        Action::Compose => state.focus = Pane::Composer,
        Action::Inspector => state.overlay = Some(Overlay::Inspector),
        Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
            let down = matches!(action, Action::Down | Action::PageDown);
            let page = matches!(action, Action::PageUp | Action::PageDown);
            match state.focus {
                Pane::Streams => {
                    let by = if page { 10 } else { 1 };
                    if down {
                        state.streams.select_next(by);
                    } else {
                        state.streams.select_prev(by);
                    }
                }
                Pane::Tail if page => {
                    scroll::page(&mut state.tail, down, height, shape);
                }
                Pane::Tail => {
                    scroll::move_by(
                        &mut state.tail,
                        if down { 1 } else { -1 },
                        height,
                        shape,
                    );
                }
                _ => {}
            }
        }
        Action::Top => match state.focus {
            Pane::Streams => state.streams.selected = 0,
            _ => scroll::top(&mut state.tail, height, shape),
        },
        Action::Bottom => {
            state.streams.selected = usize::MAX;
            state.streams.clamp();
        }
        Action::Open => {
            if let Some(path) =
                state.streams.selected_entry().map(|e| e.path.clone())
            {
                let healthy =
                    !matches!(state.reader().connection, Connection::Failed(_));
                if healthy
                    && state.open.as_ref().is_some_and(|o| o.path == path)
                {
                    // Already open and reading: look at it rather than start
                    // over (J restarts on purpose).
                    state.focus = Pane::Tail;
                } else {
                    open_stream(state, &path, fx);
                }
            }
        }
        Action::Filter => state.streams.filtering = true,
        Action::OpenPath => {
            state.overlay = Some(Overlay::Dialog(Dialog::new(
                DialogKind::Open(LineInput::default()),
            )));
        }
        Action::Create => {
            let mut form = CreateForm::default();
            if !state.streams.filter.is_empty() {
                form.path = LineInput::new(&state.streams.filter);
            }
            state.overlay =
                Some(Overlay::Dialog(Dialog::new(DialogKind::Create(form))));
        }
        Action::Delete => {
            if let Some(e) = state.streams.selected_entry() {
                let path = e.path.clone();
                state.overlay =
                    Some(Overlay::Dialog(Dialog::new(DialogKind::Delete {
                        path,
                        input: LineInput::default(),
                    })));
            }
        }
        Action::Follow => state.tail.follow_live(),
        Action::PauseFollow => {
            if state.tail.follow {
                // What the view shows stays, and so does the current
                // item: following, it is the newest one.
                scroll::pause(&mut state.tail, height, shape);
            } else {
                state.tail.follow_live();
            }
        }
        Action::ToggleWrap => {
            let kind = state.tail.kind;
            let on = !state.tail_view.wraps(kind);
            if kind == ContentKind::Binary {
                state.notify(Level::Info, "hex rows do not wrap");
            } else {
                state.tail_view.wrap = Some(on);
                state.tail_view.hscroll = 0;
                state.notify(
                    Level::Info,
                    if on {
                        "wrap on: long lines take several rows"
                    } else {
                        "wrap off: ←/→ scroll long lines"
                    },
                );
                settle_view(state);
            }
        }
        Action::ScrollLeft | Action::ScrollRight => {
            let view = &mut state.tail_view;
            if action == Action::ScrollRight {
                if view.wraps(state.tail.kind) {
                    view.wrap = Some(false);
                    state.notify(
                        Level::Info,
                        "wrap off to scroll sideways (w wraps again)",
                    );
                }
                state.tail_view.hscroll += HSCROLL_STEP;
                settle_view(state);
            } else {
                view.hscroll = view.hscroll.saturating_sub(HSCROLL_STEP);
            }
        }
        Action::ToggleHeaders => {
            state.tail_view.headers = !state.tail_view.headers;
            if !state.tail_view.headers
                && let Some(sel) = state.tail.selected
                && matches!(
                    state.tail.locate(sel),
                    Some(crate::tui::state::tail::Item::Header { .. })
                )
            {
                state.tail.selected = Some(sel + 1);
            }
            settle_view(state);
        }
        Action::Detail => open_detail(state),
        Action::Search => search::open_line(state),
        Action::NextMatch => search::go(state, true),
        Action::PrevMatch => search::go(state, false),
        Action::ClearSearch => search::escape(state),
        Action::ToggleJsonStyle => {
            state.json_style = match state.json_style {
                JsonStyle::Pretty => JsonStyle::Compact,
                JsonStyle::Compact => JsonStyle::Pretty,
            };
            state.tail_view.style_pinned = true;
            state.tail_view.auto_compact = None;
            state.tail.anchor.line = 0;
            let shape = tail_shape(state);
            scroll::reveal(&mut state.tail, height, shape);
        }
        Action::Bookmark => dialogs::start_bookmark(state),
        Action::Bookmarks => {
            if state.open.is_some() {
                state.overlay =
                    Some(Overlay::Dialog(Dialog::new(DialogKind::Bookmarks {
                        selected: 0,
                        renaming: None,
                    })));
            }
        }
        Action::Jump => {
            if state.open.is_some() {
                state.overlay = Some(Overlay::Dialog(Dialog::new(
                    DialogKind::Jump(LineInput::new("-1")),
                )));
            }
        }
        Action::CopyMessage => match state.tail.current_message() {
            Some(raw) => {
                fx.push(Effect::Copy(
                    String::from_utf8_lossy(raw).into_owned(),
                ));
            }
            None => state.notify(Level::Error, "select a message first (↑/↓)"),
        },
        Action::CopyOffset => {
            let offset = if state.focus == Pane::Meta {
                state.meta.head.as_ref().map(|h| {
                    (
                        h.next_offset.as_str().to_owned(),
                        "the stream's next offset",
                    )
                })
            } else {
                state.tail.current_batch().map(|b| {
                    let what = if b.start_offset == "now" {
                        "the offset where this batch ends (it began at \
                         `now`), not the message's"
                    } else {
                        "the offset where this batch starts, not the \
                         message's (m bookmarks the message)"
                    };
                    (batch_offset(b), what)
                })
            };
            match offset {
                Some((text, what)) => fx.push(Effect::CopyNoted {
                    text,
                    note: what.to_owned(),
                }),
                None => state.notify(Level::Error, "no offset to copy yet"),
            }
        }
        Action::Send => send(state, false, fx),
        Action::SendAndClose => {
            if composer_ready(state) {
                state.overlay = Some(Overlay::Dialog(Dialog::new(
                    DialogKind::Confirm(Confirm::AppendAndClose),
                )));
            }
        }
        Action::CloseStream => {
            if state.open.is_some() {
                state.overlay = Some(Overlay::Dialog(Dialog::new(
                    DialogKind::Confirm(Confirm::Close),
                )));
            }
        }
        Action::CycleAppendMode => state.composer.cycle_way(),
        Action::ToggleNewline => {
            let c = &mut state.composer;
            c.newline = !c.newline;
        }
        Action::AppendSettings => {
            let c = &state.composer;
            state.overlay = Some(Overlay::Dialog(Dialog::new(
                DialogKind::AppendSettings {
                    seq: LineInput::new(&c.seq),
                    producer: LineInput::new(&c.producer_id),
                    epoch: LineInput::new(&c.epoch.to_string()),
                    producer_seq: LineInput::new(&c.producer_seq.to_string()),
                    field: 0,
                },
            )));
        }
        Action::Leave => state.focus = Pane::Tail,
        // The detail view's own (its scope is handled in `handle_key`).
        Action::ToggleFold
        | Action::Collapse
        | Action::Expand
        | Action::FoldAll
        | Action::UnfoldAll
        | Action::CopyPath
        | Action::CopyCurl
        | Action::CopyCurlSecrets
        // Dialogs and the filter line take these (`update/dialogs.rs`,
        // `input::filter_key`).
        | Action::Submit
        | Action::NextField
        | Action::PrevField
        | Action::ToggleField
        | Action::Rename
        | Action::DeleteItem
        | Action::FromStart
        | Action::FromNow
        // The search line's own (`update/search.rs`).
        | Action::ToggleRegex => {}
    }
}

/// Columns `→` / `←` move long lines by.
pub const HSCROLL_STEP: usize = 8;

/// After the rows changed height (wrap, headers): the view starts at the
/// top of an item and shows the selection.
pub(super) fn settle_view(state: &mut State) {
    state.tail.anchor.line = 0;
    let (height, shape) = (tail_height(state), tail_shape(state));
    scroll::reveal(&mut state.tail, height, shape);
}

/// The offset a bookmark or copy of a batch means: where the batch's data
/// starts, which reading from reproduces it (the end of the batch when the
/// start was the `now` sentinel).
pub fn batch_offset(batch: &crate::tui::state::tail::Batch) -> String {
    if batch.start_offset == "now" {
        batch.next_offset.clone()
    } else {
        batch.start_offset.clone()
    }
}

pub(super) fn open_detail(state: &mut State) {
    let Some(raw) = state.tail.current_message() else {
        state.notify(Level::Error, "select a message first (↑/↓)");
        return;
    };
    let title = state
        .tail
        .current_batch()
        .map(|b| format!("message at {}", batch_offset(b)))
        .unwrap_or_default();
    let detail = crate::tui::state::DetailState::new(
        bytes::Bytes::copy_from_slice(raw),
        state.tail.kind,
        title,
    );
    state.overlay = Some(Overlay::Detail(Box::new(detail)));
}

/// Whether the composer's text can be sent; says why not in place.
pub(super) fn composer_ready(state: &mut State) -> bool {
    use crate::tui::state::composer::Outcome;
    if state.open.is_none() {
        state.composer.outcome =
            Some(Outcome::Failed("open a stream first".into()));
        return false;
    }
    if state.composer.busy {
        state.composer.outcome =
            Some(Outcome::Failed("the last append is still in flight".into()));
        return false;
    }
    if state.stream_closed() {
        state.composer.outcome = Some(Outcome::Failed(
            "the stream is closed: nothing can be appended".into(),
        ));
        return false;
    }
    let text = state.composer.text();
    if text.is_empty() {
        state.composer.outcome =
            Some(Outcome::Failed("nothing to send".into()));
        return false;
    }
    if state.tail.kind == ContentKind::Json
        && let Err(p) = validate_json(&text)
    {
        state.composer.outcome = Some(Outcome::Failed(format!(
            "invalid JSON: {} — nothing was sent",
            p.message
        )));
        return false;
    }
    true
}

/// Sends the composer's text (and closes the stream after it if asked).
pub(super) fn send(state: &mut State, close: bool, fx: &mut Vec<Effect>) {
    use crate::tui::state::composer::Outcome;
    if !composer_ready(state) {
        return;
    }
    let Some(open) = &state.open else {
        return;
    };
    let text = state.composer.text();
    let body = state.composer.body(&text, state.tail.kind);
    let mode = state.composer.mode();
    state.composer.outcome =
        Some(Outcome::Sending(format!("sending ({})…", mode.label())));
    state.composer.busy = true;
    state.composer.in_flight = Some(text.clone());
    fx.push(Effect::Append {
        url: open.url.clone(),
        body: bytes::Bytes::from(body),
        content_type: open.content_type.clone(),
        mode,
        close,
    });
}

/// Switches the live mode; the reader restarts where the UI is.
pub(super) fn set_mode(
    state: &mut State,
    mode: LiveMode,
    fx: &mut Vec<Effect>,
) {
    state.reader_mut().mode = mode;
    state.readers.idle.mode = mode;
    state.notify(Level::Info, format!("live mode: {mode}"));
    if state.open.is_some() && state.tail.resume_offset.is_some() {
        restart_reader(state, fx);
    }
}
