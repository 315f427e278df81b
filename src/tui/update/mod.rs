//! `update(&mut State, Message) -> Vec<Effect>`: every state change, with
//! no I/O and no clock reads (times come in messages).

mod dialogs;
mod events;

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton,
    MouseEvent, MouseEventKind,
};
use ratatui::layout::Position;

use super::action::Action;
use super::effect::Effect;
use super::format::{ContentKind, JsonStyle};
use super::keymap::Scope;
use super::layout::{self, tail_height, tail_shape};
use super::message::Message;
use super::state::composer::validate_json;
use super::state::dialog::{Confirm, CreateForm, DialogKind, LineInput};
use super::state::streams::Entry;
use super::state::tail::scroll;
use super::state::tail::{Mark, Tail};
use super::state::{
    Connection, Dialog, Help, Level, OpenStream, Overlay, Pane, State,
};
use crate::client::LiveMode;
use crate::config::TailStart;

/// The wall-clock time of the latest tick (RFC 3339 UTC).
pub fn wall_clock(state: &State) -> String {
    state.wall.clone()
}

/// Applies one message.
pub fn update(state: &mut State, message: Message) -> Vec<Effect> {
    let mut fx = Vec::new();
    match message {
        Message::Input(event) => input(state, event, &mut fx),
        Message::Tick { now, wall } => {
            events::tick(state, now, wall, &mut fx);
        }
        Message::Registry(event) => events::registry(state, event, &mut fx),
        Message::Reader { reader, event } => {
            events::reader(state, reader, event, &mut fx);
        }
        Message::Head { url, at, result } => {
            events::head(state, &url, at, result, &mut fx);
        }
        Message::Written { url, kind, result } => {
            events::written(state, &url, kind, result, &mut fx);
        }
        Message::Saved(Ok(())) => {}
        Message::Saved(Err(e)) => {
            state.notify(Level::Error, format!("bookmarks not saved: {e}"));
        }
        Message::Copied(Ok(what)) => state.notify(Level::Info, what),
        Message::Copied(Err(e)) => {
            state.notify(Level::Error, format!("copy failed: {e}"));
        }
    }
    fx
}

#[cfg(test)]
fn screen(state: &State) -> ratatui::layout::Rect {
    ratatui::layout::Rect::new(0, 0, state.size.0, state.size.1)
}

fn input(state: &mut State, event: Event, fx: &mut Vec<Effect>) {
    match event {
        Event::Key(key)
            if matches!(
                key.kind,
                KeyEventKind::Press | KeyEventKind::Repeat
            ) =>
        {
            key_input(state, key, fx);
        }
        Event::Mouse(mouse) => {
            let before = context(state);
            let notice = state.notice.clone();
            mouse_input(state, mouse, fx);
            if context(state) != before && state.notice == notice {
                state.notice = None;
            }
        }
        Event::Resize(w, h) => state.size = (w, h),
        Event::Paste(text) => paste(state, &text),
        _ => {}
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c')
        && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// What a status-bar notice is about: the open stream, the focused pane
/// and what is drawn over the panes.
fn context(state: &State) -> (Option<String>, Pane, u8) {
    let overlay = match &state.overlay {
        None => 0,
        Some(Overlay::Help(_)) => 1,
        Some(Overlay::Detail(_)) => 2,
        Some(Overlay::Dialog(_)) => 3,
    };
    (
        state.open.as_ref().map(|o| o.path.clone()),
        state.focus,
        overlay,
    )
}

/// Handles a key; a notice from before it is dropped when the key changed
/// the context (another stream, pane or view), since it would describe
/// what is no longer on screen. One the key itself gave stays.
fn key_input(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let before = context(state);
    let notice = state.notice.clone();
    handle_key(state, key, fx);
    if context(state) != before && state.notice == notice {
        state.notice = None;
    }
}

fn handle_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    if is_ctrl_c(&key) {
        quit(state, fx);
        return;
    }
    match &mut state.overlay {
        Some(Overlay::Help(help)) => {
            let max = crate::tui::help::max_scroll(
                &state.keymap,
                state.size,
                state.focus,
                help.detail.is_some(),
            );
            let page = usize::from(state.size.1.saturating_sub(4)).max(1);
            match state.keymap.lookup_in(Scope::Help, &key) {
                Some(Action::Leave) => {
                    // Back to the detail view help was opened from.
                    state.overlay = help.detail.take().map(Overlay::Detail);
                }
                Some(Action::Quit) => quit(state, fx),
                Some(Action::Up) => help.scroll = help.scroll.saturating_sub(1),
                Some(Action::Down) => help.scroll = (help.scroll + 1).min(max),
                Some(Action::PageUp) => {
                    help.scroll = help.scroll.saturating_sub(page);
                }
                Some(Action::PageDown) => {
                    help.scroll = (help.scroll + page).min(max);
                }
                Some(Action::Top) => help.scroll = 0,
                Some(Action::Bottom) => help.scroll = max,
                _ => {}
            }
            return;
        }
        Some(Overlay::Detail(detail)) => {
            let height = usize::from(state.size.1.saturating_sub(2)).max(1);
            detail.set_viewport_height(height);
            match state.keymap.lookup_in(Scope::Detail, &key) {
                Some(Action::Leave) => state.overlay = None,
                Some(Action::Quit) => quit(state, fx),
                Some(Action::Help) => {
                    if let Some(Overlay::Detail(d)) = state.overlay.take() {
                        state.overlay = Some(Overlay::Help(Help {
                            scroll: 0,
                            detail: Some(d),
                        }));
                    }
                }
                Some(Action::Up) => detail.up(),
                Some(Action::Down) => detail.down(),
                Some(Action::PageUp) => detail.page_up(height),
                Some(Action::PageDown) => detail.page_down(height),
                Some(Action::Top) => detail.home(),
                Some(Action::Bottom) => detail.end(),
                Some(Action::ToggleFold) => detail.toggle(),
                Some(Action::Collapse) => detail.collapse_or_parent(),
                Some(Action::Expand) => detail.expand(),
                Some(Action::ToggleWrap) => detail.toggle_wrap(),
                Some(Action::ScrollRight) => detail.scroll_right(HSCROLL_STEP),
                Some(Action::ScrollLeft) => detail.scroll_left(HSCROLL_STEP),
                Some(Action::FoldAll) => detail.fold_all(),
                Some(Action::UnfoldAll) => detail.unfold_all(),
                Some(Action::CopyMessage) => {
                    fx.push(Effect::Copy(detail.selected_value_text()));
                }
                Some(Action::CopyPath) => {
                    fx.push(Effect::Copy(detail.cursor_path()));
                }
                _ => {}
            }
            return;
        }
        Some(Overlay::Dialog(_)) => {
            dialogs::key(state, key, fx);
            return;
        }
        None => {}
    }
    if state.focus == Pane::Streams && state.streams.filtering {
        filter_key(state, key, fx);
        return;
    }
    let editing = state.focus == Pane::Composer;
    if let Some(action) = state.keymap.lookup(&key, state.focus, editing) {
        act(state, action, fx);
        return;
    }
    if editing {
        composer_key(state, key);
    }
}

fn composer_key(state: &mut State, key: KeyEvent) {
    let c = &mut state.composer;
    let plain = key.modifiers.is_empty();
    if plain && key.code == KeyCode::Up && (c.is_empty() || c.recall.is_some())
    {
        c.recall_prev();
        return;
    }
    if plain && key.code == KeyCode::Down && c.recall.is_some() {
        c.recall_next();
        return;
    }
    if c.editor.input(key) {
        c.recall = None;
    }
}

fn filter_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let s = &mut state.streams;
    match key.code {
        KeyCode::Esc => {
            s.set_filter(String::new());
            s.filtering = false;
        }
        KeyCode::Enter => {
            s.filtering = false;
            if s.visible().len() == 1 {
                act(state, Action::Open, fx);
            }
        }
        KeyCode::Up => s.select_prev(1),
        KeyCode::Down => s.select_next(1),
        KeyCode::Backspace => {
            let mut f = s.filter.clone();
            f.pop();
            s.set_filter(f);
        }
        KeyCode::Char(ch) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            let mut f = s.filter.clone();
            f.push(ch);
            s.set_filter(f);
        }
        _ => {}
    }
    state.streams.clamp();
}

fn paste(state: &mut State, text: &str) {
    if let Some(d) = state.dialog_mut() {
        dialogs::paste(d, text);
    } else if state.focus == Pane::Composer {
        // Pasted control characters would reach the terminal through the
        // editor; keep newlines and tabs only.
        let clean: String = text
            .replace("\r\n", "\n")
            .chars()
            .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
            .collect();
        state.composer.editor.insert_str(clean);
    } else if state.focus == Pane::Streams && state.streams.filtering {
        let mut f = state.streams.filter.clone();
        f.extend(text.chars().filter(|c| !c.is_control()));
        state.streams.set_filter(f);
    }
}

fn mouse_input(state: &mut State, mouse: MouseEvent, fx: &mut Vec<Effect>) {
    if state.overlay.is_some() {
        return;
    }
    let areas = layout::of_state(state);
    let at = Position::new(mouse.column, mouse.row);
    let pane = Pane::ALL
        .into_iter()
        .find(|p| areas.of(*p).is_some_and(|r| r.contains(at)));
    let Some(pane) = pane else {
        return;
    };
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            state.focus = pane;
            if pane == Pane::Streams {
                let area = areas.streams;
                let list_top = area.y + 1;
                let rows = usize::from(area.height.saturating_sub(2));
                if mouse.row >= list_top && rows > 0 {
                    let start = layout::list_window(
                        state.streams.selected,
                        state.streams.visible().len(),
                        rows,
                    );
                    let row = usize::from(mouse.row - list_top) + start;
                    if row < state.streams.visible().len() {
                        state.streams.selected = row;
                        act(state, Action::Open, fx);
                    }
                }
            }
        }
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let up = mouse.kind == MouseEventKind::ScrollUp;
            match pane {
                Pane::Tail => {
                    let (h, shape) = (tail_height(state), tail_shape(state));
                    scroll::move_by(
                        &mut state.tail,
                        if up { -3 } else { 3 },
                        h,
                        shape,
                    );
                }
                Pane::Streams if up => state.streams.select_prev(3),
                Pane::Streams => state.streams.select_next(3),
                _ => {}
            }
        }
        _ => {}
    }
}

/// Carries out a keymap action.
fn act(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
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
                state.reader.connection,
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
                    !matches!(state.reader.connection, Connection::Failed(_));
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
                    Some(super::state::tail::Item::Header { .. })
                )
            {
                state.tail.selected = Some(sel + 1);
            }
            settle_view(state);
        }
        Action::Detail => open_detail(state),
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
        | Action::CopyPath => {}
    }
}

/// Columns `→` / `←` move long lines by.
pub const HSCROLL_STEP: usize = 8;

/// After the rows changed height (wrap, headers): the view starts at the
/// top of an item and shows the selection.
fn settle_view(state: &mut State) {
    state.tail.anchor.line = 0;
    let (height, shape) = (tail_height(state), tail_shape(state));
    scroll::reveal(&mut state.tail, height, shape);
}

/// The offset a bookmark or copy of a batch means: where the batch's data
/// starts, which reading from reproduces it (the end of the batch when the
/// start was the `now` sentinel).
pub fn batch_offset(batch: &super::state::tail::Batch) -> String {
    if batch.start_offset == "now" {
        batch.next_offset.clone()
    } else {
        batch.start_offset.clone()
    }
}

fn open_detail(state: &mut State) {
    let Some(raw) = state.tail.current_message() else {
        state.notify(Level::Error, "select a message first (↑/↓)");
        return;
    };
    let title = state
        .tail
        .current_batch()
        .map(|b| format!("message at {}", batch_offset(b)))
        .unwrap_or_default();
    let detail = super::state::DetailState::new(
        bytes::Bytes::copy_from_slice(raw),
        state.tail.kind,
        title,
    );
    state.overlay = Some(Overlay::Detail(Box::new(detail)));
}

/// Whether the composer's text can be sent; says why not in place.
fn composer_ready(state: &mut State) -> bool {
    use super::state::composer::Outcome;
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
    use super::state::composer::Outcome;
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
fn set_mode(state: &mut State, mode: LiveMode, fx: &mut Vec<Effect>) {
    state.reader.mode = mode;
    state.notify(Level::Info, format!("live mode: {mode}"));
    if state.open.is_some() && state.tail.resume_offset.is_some() {
        restart_reader(state, fx);
    }
}

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

fn start_reader(state: &mut State, from: String, fx: &mut Vec<Effect>) {
    let Some(open) = &mut state.open else {
        return;
    };
    open.reader = state.reader.next_id;
    state.reader.next_id += 1;
    state.reader.retry_at = None;
    state.reader.connection = Connection::Connecting;
    fx.push(Effect::StartReader {
        reader: open.reader,
        url: open.url.clone(),
        from,
        mode: state.reader.mode,
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
    state.meta.catch_up = super::state::meta::CatchUp::start(state.now);
    state.reader.reconnects = 0;
    state.reader.failed_at = None;
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

fn open_url(state: &mut State, url: &str, fx: &mut Vec<Effect>) {
    open_url_at(state, url, None, fx);
}

fn open_url_at(
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
    state.open = Some(OpenStream {
        path,
        url: url.to_owned(),
        content_type: content_type.clone(),
        reader: 0,
    });
    state.tail =
        Tail::new(ContentKind::of(content_type.as_deref()), state.tail.limits);
    state.meta = super::state::Meta::default();
    state.meta.loading = true;
    state.reader.connection = Connection::Connecting;
    state.reader.reconnects = 0;
    state.reader.retry_at = None;
    state.reader.pending_start = None;
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
    state.reader.pending_skip = mark.skip;
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
            skip: std::mem::take(&mut state.reader.pending_skip),
        };
        jump_to_mark(state, &mark, fx);
    } else {
        state.reader.pending_start = Some(from);
        // The HEAD failed while a dialog was open: nothing would answer.
        if state.meta.head_error.is_some()
            && !state.meta.loading
            && let Some(open) = &state.open
        {
            state.meta.loading = true;
            state.reader.connection = Connection::Connecting;
            fx.push(Effect::Head {
                url: open.url.clone(),
            });
        }
    }
}

/// Keeps where the open stream's tail is, to offer resuming there: the
/// selected message when the view is paused on one, else just after the
/// last message received.
fn remember_position(state: &mut State, fx: &mut Vec<Effect>) {
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

fn quit(state: &mut State, fx: &mut Vec<Effect>) {
    remember_position(state, fx);
    fx.push(Effect::StopReader);
    state.quit = true;
}

#[cfg(test)]
mod tests;
