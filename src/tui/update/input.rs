//! Input routing: keys (overlays, the filter line, the keymap, the
//! composer's editor), paste and the mouse, each to what handles it.

#[allow(
    clippy::wildcard_imports,
    reason = "the parent's imports and siblings, as when this was one file"
)]
use super::*;

pub(super) fn input(state: &mut State, event: Event, fx: &mut Vec<Effect>) {
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

pub(super) fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c')
        && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// What a status-bar notice is about: the open stream, the focused pane
/// and what is drawn over the panes.
pub(super) fn context(state: &State) -> (Option<String>, Pane, u8) {
    let overlay = match &state.overlay {
        None => 0,
        Some(Overlay::Help(_)) => 1,
        Some(Overlay::Detail(_)) => 2,
        Some(Overlay::Dialog(_)) => 3,
        Some(Overlay::Inspector) => 4,
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
pub(super) fn key_input(
    state: &mut State,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) {
    let before = context(state);
    let notice = state.notice.clone();
    handle_key(state, key, fx);
    if context(state) != before && state.notice == notice {
        state.notice = None;
    }
}

pub(super) fn handle_key(
    state: &mut State,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) {
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
        Some(Overlay::Inspector) => {
            inspector::key(state, key, fx);
            return;
        }
        None => {}
    }
    if state.focus == Pane::Streams && state.streams.filtering {
        filter_key(state, key, fx);
        return;
    }
    if state.focus == Pane::Tail && state.search.line.is_some() {
        search::line_key(state, key, fx);
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

pub(super) fn composer_key(state: &mut State, key: KeyEvent) {
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

pub(super) fn filter_key(
    state: &mut State,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) {
    let action = state.keymap.lookup_in(Scope::FilterLine, &key);
    let s = &mut state.streams;
    match action {
        Some(Action::Leave) => {
            s.set_filter(String::new());
            s.filtering = false;
        }
        Some(Action::Submit) => {
            s.filtering = false;
            if s.visible().len() == 1 {
                act(state, Action::Open, fx);
            }
        }
        Some(Action::Up) => s.select_prev(1),
        Some(Action::Down) => s.select_next(1),
        _ => filter_text(s, key),
    }
    state.streams.clamp();
}

/// A key that is not a command types into the filter.
fn filter_text(s: &mut crate::tui::state::streams::Streams, key: KeyEvent) {
    match key.code {
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
}

pub(super) fn paste(state: &mut State, text: &str) {
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
    } else if state.focus == Pane::Tail && search::paste(state, text) {
    } else if state.focus == Pane::Streams && state.streams.filtering {
        let mut f = state.streams.filter.clone();
        f.extend(text.chars().filter(|c| !c.is_control()));
        state.streams.set_filter(f);
    }
}

pub(super) fn mouse_input(
    state: &mut State,
    mouse: MouseEvent,
    fx: &mut Vec<Effect>,
) {
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
