//! The tail's search as `update` carries it out: the search line's keys,
//! `n` / `N`, Esc, the scan's steps, and what a new batch or a new buffer
//! means for the matches (the state itself is `state/search.rs`).

#[allow(
    clippy::wildcard_imports,
    reason = "the parent's imports and siblings, as the other parts do"
)]
use super::*;
use crate::tui::state::search::{Scan, plural};

/// `/` in the tail: the search line opens with the query kept, to edit.
pub(super) fn open_line(state: &mut State) {
    state.search.open_line();
}

/// Asks for the next step of the active search.
fn send_step(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(generation) = state.search.send_step() {
        fx.push(Effect::SearchStep { generation });
    }
}

/// A key while the search line is open: its keymap scope first, then the
/// query's editing (typed characters, Backspace).
pub(super) fn line_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    match state.keymap.lookup_in(Scope::SearchLine, &key) {
        Some(Action::Submit) => {
            if state.search.keep(&state.tail) {
                send_step(state, fx);
            }
            return;
        }
        Some(Action::Leave) => {
            state.search.line = None;
            state.search.active = None;
            return;
        }
        Some(Action::ToggleRegex) => {
            if let Some(line) = &mut state.search.line {
                line.query.regex = !line.query.regex;
                line.error = None;
            }
            return;
        }
        _ => {}
    }
    let Some(line) = &mut state.search.line else {
        return;
    };
    match key.code {
        KeyCode::Backspace => {
            line.query.text.pop();
            line.error = None;
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            line.query.text.push(c);
            line.error = None;
        }
        _ => {}
    }
}

/// Pasted text goes into the open search line (control characters
/// dropped: a query is one line).
pub(super) fn paste(state: &mut State, text: &str) -> bool {
    let Some(line) = &mut state.search.line else {
        return false;
    };
    line.query
        .text
        .extend(text.chars().filter(|c| !c.is_control()));
    line.error = None;
    true
}

/// `n` (`forward`) and `N`: the selection moves to the next or previous
/// match, wrapping around the buffer; the tail stops following.
pub(super) fn go(state: &mut State, forward: bool) {
    let Some(a) = &state.search.active else {
        state.notify(Level::Info, "no search: / searches the tail");
        return;
    };
    let at = if state.tail.follow {
        None
    } else {
        state.tail.selected
    };
    let found = if forward {
        a.next_after(at)
    } else {
        a.prev_before(at)
    };
    let Some((id, wrapped)) = found else {
        let text = if a.scan == Scan::Running {
            format!("no match yet (searching {}%)", a.progress(&state.tail))
        } else {
            "no match in the buffered messages".to_owned()
        };
        state.notify(Level::Info, text);
        return;
    };
    let (height, shape) = (tail_height(state), tail_shape(state));
    scroll::pause(&mut state.tail, height, shape);
    state.tail.selected = Some(id);
    scroll::reveal(&mut state.tail, height, shape);
    if let Some(a) = &mut state.search.active {
        a.current = Some(id);
    }
    // Passing the live end is only "wrapped" when the view was somewhere.
    if wrapped && at.is_some() {
        let text = if forward {
            "search wrapped to the oldest match"
        } else {
            "search wrapped to the newest match"
        };
        state.notify(Level::Info, text);
    }
}

/// Esc in the tail: a search under way stops; a finished one is cleared.
pub(super) fn escape(state: &mut State) {
    let Some(a) = &state.search.active else {
        // No search: Esc clears the tail's filter, if one is set.
        super::filter::clear(state);
        return;
    };
    let text = if a.scan == Scan::Running {
        format!(
            "search stopped at {}%: {} so far (Esc again clears it)",
            a.progress(&state.tail),
            plural(a.count())
        )
    } else {
        "search cleared".to_owned()
    };
    state.search.escape();
    state.notify(Level::Info, text);
}

/// One step of the scan; asks for the next while there is more to look
/// at.
pub(super) fn step(state: &mut State, generation: u64, fx: &mut Vec<Effect>) {
    if state.search.step(generation, &state.tail) {
        fx.push(Effect::SearchStep { generation });
    }
}

/// A batch arrived (and maybe evicted older ones): evicted matches go, and
/// the new messages are looked at by the next step.
pub(super) fn arrived(state: &mut State, fx: &mut Vec<Effect>) {
    if state.search.arrived(&state.tail) {
        send_step(state, fx);
    }
}

/// The tail was replaced (another stream, a jump's new buffer): the search
/// starts over there with the same query.
pub(super) fn tail_replaced(state: &mut State, fx: &mut Vec<Effect>) {
    state.search.line = None;
    if state.search.restart(&state.tail) {
        send_step(state, fx);
    }
}
