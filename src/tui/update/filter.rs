//! The tail's live filter (`|`): the filter line's keys, applying and
//! clearing a filter, evaluating it in steps, and moving through what it
//! shows. The tail's own selection follows the filter's cursor, so that
//! bookmarks, copies and the detail view act on the real message (with its
//! real offset) under the cursor.

#[allow(
    clippy::wildcard_imports,
    reason = "the parent's imports and siblings, as when this was one file"
)]
use super::*;

use crate::tui::format::Theme;
use crate::tui::state::filter::{self as f, Active, LineKind, Program};

/// Opens the filter line (`|`), with the applied filter to edit.
pub(super) fn open_line(state: &mut State) {
    if state.open.is_none() {
        state.notify(Level::Error, "open a stream first");
        return;
    }
    if state.tail.kind == ContentKind::Binary {
        state.notify(Level::Error, "binary streams have no filter");
        return;
    }
    let (value, kind) = state
        .filter
        .active
        .as_ref()
        .map_or((String::new(), LineKind::default()), |a| {
            (a.source.clone(), a.line)
        });
    state.filter.line = Some(f::Line {
        input: LineInput::new(&value),
        kind,
        error: None,
        recall: None,
    });
    state.focus = Pane::Tail;
}

/// A key while the filter line is open.
pub(super) fn line_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    match state.keymap.lookup_in(Scope::TailFilterLine, &key) {
        Some(Action::Leave) => {
            state.filter.line = None;
            clear(state);
        }
        Some(Action::Submit) => apply(state, fx),
        Some(Action::Up) => state.filter.recall(true),
        Some(Action::Down) => state.filter.recall(false),
        Some(Action::ToggleRegex) => {
            if state.tail.kind != ContentKind::Json
                && let Some(line) = &mut state.filter.line
            {
                line.kind = match line.kind {
                    LineKind::Substring => LineKind::Regex,
                    LineKind::Regex => LineKind::Substring,
                };
                line.error = None;
            }
        }
        _ => {
            if let Some(line) = &mut state.filter.line
                && line.input.handle(key)
            {
                line.error = None;
                line.recall = None;
            }
        }
    }
}

/// Text pasted into the open filter line.
pub(super) fn paste(state: &mut State, text: &str) {
    if let Some(line) = &mut state.filter.line {
        let one: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        for c in one.chars() {
            line.input
                .handle(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }
}

/// Enter in the filter line: compiles what was typed and applies it; a
/// filter that does not compile leaves the one applied as it is and says
/// why (and where) in the line. An empty line clears the filter.
pub(super) fn apply(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(line) = &mut state.filter.line else {
        return;
    };
    let source = line.input.value.trim().to_owned();
    if source.is_empty() {
        state.filter.line = None;
        clear(state);
        return;
    }
    match Program::compile(&source, state.tail.kind, line.kind) {
        Err(e) => line.error = Some(e),
        Ok(program) => {
            let kind = line.kind;
            state.filter.line = None;
            let keep = state.filter.active.take();
            state.filter.active = Some(Active::new(&source, kind, program));
            if keep.is_none() {
                // What the tail showed is where clearing comes back to.
                state.tail.paused_at = state.tail.total_messages;
            }
            if state.filter.remember(&source) {
                fx.push(Effect::SaveFilterHistory(
                    state.filter.history.clone(),
                ));
            }
            step(state, fx);
        }
    }
}

/// Clears the filter: the whole tail shows again (nothing is re-read),
/// at the message the filter's cursor was on if it was paused.
pub(super) fn clear(state: &mut State) {
    let Some(active) = state.filter.active.take() else {
        return;
    };
    match active.selected {
        Some(id) if state.tail.locate(id).is_some() => {
            state.tail.follow = false;
            state.tail.selected = Some(id);
            let (height, shape) = (tail_height(state), tail_shape(state));
            scroll::reveal(&mut state.tail, height, shape);
        }
        _ => state.tail.follow_live(),
    }
}

/// Evaluates the next step; queues another while messages are left.
pub(super) fn step(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(active) = &mut state.filter.active else {
        return;
    };
    active.step_pending = false;
    if !active.advance(&state.tail, f::STEP) {
        active.step_pending = true;
        fx.push(Effect::FilterStep);
    }
    sync(state);
}

/// A batch arrived: evaluate it now unless a step is queued (which will).
pub(super) fn on_batch(state: &mut State, fx: &mut Vec<Effect>) {
    if state
        .filter
        .active
        .as_ref()
        .is_some_and(|a| !a.step_pending)
    {
        step(state, fx);
    } else if let Some(active) = &mut state.filter.active {
        active.prune(&state.tail);
        sync(state);
    }
}

/// The tail was replaced (a jump): the filter starts over on it.
pub(super) fn restart(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(active) = &mut state.filter.active {
        let pending = active.step_pending;
        active.restart();
        active.step_pending = pending;
        if !pending {
            step(state, fx);
        }
    }
}

/// The tail's selection is the filter's cursor.
fn sync(state: &mut State) {
    if let Some(active) = &state.filter.active
        && let Some(id) = active.current()
    {
        state.tail.follow = false;
        state.tail.selected = Some(id);
    }
}

/// Rows a shown message takes in `shape`.
fn rows_of(tail: &Tail, shown: &f::Shown, shape: scroll::Shape) -> usize {
    f::shown_rows(tail, shown, shape, &Theme::default())
        .len()
        .max(1)
}

/// Keymap actions while a filter is applied and the tail has focus;
/// returns whether the action was the filter's to carry out.
pub(super) fn act(state: &mut State, action: Action) -> bool {
    let (height, shape) = (tail_height(state), tail_shape(state));
    let tail = &state.tail;
    let Some(active) = &mut state.filter.active else {
        return false;
    };
    match action {
        Action::Up | Action::Down => {
            active.move_by(if action == Action::Down { 1 } else { -1 });
        }
        Action::PageUp | Action::PageDown => {
            let down = action == Action::PageDown;
            let mut rows = 0;
            while rows < height.saturating_sub(1).max(1) {
                let before = active.current();
                active.move_by(if down { 1 } else { -1 });
                if active.current() == before {
                    break;
                }
                let Some(cur) = active.current() else { break };
                let Ok(i) = active.shown.binary_search_by_key(&cur, |s| s.item)
                else {
                    break;
                };
                rows += rows_of(tail, &active.shown[i], shape);
            }
        }
        Action::Top => active.to_top(),
        Action::Follow => active.follow(),
        Action::PauseFollow => active.toggle_pause(),
        Action::CopyMessage | Action::Detail | Action::Bookmark
            if active.current().is_none() =>
        {
            state.notify(Level::Error, "the filter shows no message yet");
            return true;
        }
        _ => return false,
    }
    active.reveal(height, |s| rows_of(tail, s, shape));
    sync(state);
    true
}

/// Mouse wheel over the filtered tail.
pub(super) fn wheel(state: &mut State, up: bool) {
    for _ in 0..3 {
        act(state, if up { Action::Up } else { Action::Down });
    }
}
