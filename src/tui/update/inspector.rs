//! Keys in the protocol inspector: the list, an opened request, and the
//! question before a copy with secrets.

use crossterm::event::{KeyCode, KeyEvent};

use super::quit;
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::keymap::Scope;
use crate::tui::state::inspector::{curl, detail_lines};
use crate::tui::state::{Level, State};

/// Rows of the list on screen: all but the status bar, the frame, the
/// summary's two lines and the column heads.
pub fn list_height(size: (u16, u16)) -> usize {
    usize::from(size.1.saturating_sub(7)).max(1)
}

pub(super) fn key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let inspector = &mut state.inspector;
    if inspector.confirm_secrets {
        inspector.confirm_secrets = false;
        match inspector.to_copy() {
            Some(e) if key.code == KeyCode::Char('y') => {
                fx.push(Effect::CopyNoted {
                    text: curl(&e, true, &inspector.secret_headers),
                    note: "a curl line WITH its secrets".into(),
                });
            }
            _ => state.notify(Level::Info, "not copied"),
        }
        return;
    }
    let page = list_height(state.size);
    let action = state.keymap.lookup_in(Scope::Inspector, &key);
    let inspector = &mut state.inspector;
    if let Some(opened) = &mut inspector.opened {
        let max = detail_lines(&opened.event)
            .len()
            .saturating_sub(page.saturating_add(3));
        let scroll = &mut opened.scroll;
        match action {
            Some(Action::Up) => *scroll = scroll.saturating_sub(1),
            Some(Action::Down) => *scroll = (*scroll + 1).min(max),
            Some(Action::PageUp) => *scroll = scroll.saturating_sub(page),
            Some(Action::PageDown) => *scroll = (*scroll + page).min(max),
            Some(Action::Top) => *scroll = 0,
            Some(Action::Follow) => *scroll = max,
            Some(Action::Leave) => inspector.opened = None,
            _ => {}
        }
    } else {
        let by = isize::try_from(page).unwrap_or(isize::MAX);
        match action {
            Some(Action::Up) => inspector.select_by(-1),
            Some(Action::Down) => inspector.select_by(1),
            Some(Action::PageUp) => inspector.select_by(-by),
            Some(Action::PageDown) => inspector.select_by(by),
            Some(Action::Top) => inspector.select_first(),
            Some(Action::Follow) => inspector.follow(),
            Some(Action::Detail) => inspector.open_current(),
            Some(Action::Leave) => state.overlay = None,
            _ => {}
        }
    }
    match action {
        Some(Action::Quit) => quit(state, fx),
        Some(Action::CopyCurl) => match state.inspector.to_copy() {
            Some(e) => fx.push(Effect::CopyNoted {
                text: curl(&e, false, &state.inspector.secret_headers),
                note: "a curl line, secrets redacted".into(),
            }),
            None => state.notify(Level::Info, "no request yet"),
        },
        Some(Action::CopyCurlSecrets) => {
            if state.inspector.to_copy().is_some() {
                state.inspector.confirm_secrets = true;
            } else {
                state.notify(Level::Info, "no request yet");
            }
        }
        _ => {}
    }
}
