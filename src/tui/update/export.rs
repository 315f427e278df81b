//! The export dialog's keys and the export task's reports: choose a range
//! and a format, edit the file name, start, cancel, and see it end.

use crossterm::event::KeyEvent;

use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::message::ExportEvent;
use crate::tui::state::dialog::{Dialog, DialogKind};
use crate::tui::state::export::{ExportForm, ExportRun};
use crate::tui::state::{Overlay, State};

/// `E` in the tail: the dialog for the open stream.
pub(super) fn open(state: &mut State) {
    let Some(open) = &state.open else {
        return;
    };
    let json = open
        .content_type
        .as_deref()
        .is_some_and(crate::client::content_type::is_json);
    let form =
        ExportForm::new(state.bookmarks.list(&open.url), json, &open.path);
    state.overlay = Some(Overlay::Dialog(Dialog::new(DialogKind::Export(
        Box::new(form),
    ))));
}

fn form_mut(
    state: &mut State,
) -> Option<(&mut ExportForm, &mut Option<String>)> {
    match &mut state.overlay {
        Some(Overlay::Dialog(Dialog {
            kind: DialogKind::Export(form),
            error,
            ..
        })) => Some((form, error)),
        _ => None,
    }
}

/// A key in the dialog (`action` from its keymap scope). Esc is handled
/// here too: while an export runs it cancels it, the dialog stays.
pub(super) fn key(
    state: &mut State,
    key: KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) {
    let url = state.open.as_ref().map(|o| o.url.clone());
    let now = state.now;
    let Some((form, error)) = form_mut(state) else {
        return;
    };
    if form.running() {
        if action == Some(Action::Leave) {
            fx.push(Effect::CancelExport);
        }
        return;
    }
    match action {
        Some(Action::Leave) => state.overlay = None,
        Some(Action::Down) => {
            let up = key.code == crossterm::event::KeyCode::Up;
            form.step(if up { -1 } else { 1 });
            *error = None;
        }
        Some(Action::ToggleField) => {
            form.toggle_format();
            *error = None;
        }
        Some(Action::Submit) => {
            let file = form.file.value.trim().to_owned();
            let Some(url) = url else { return };
            if file.is_empty() {
                *error = Some("type a file name".into());
                return;
            }
            let id = form.run.as_ref().map_or(1, |r| r.id + 1);
            form.run = Some(ExportRun {
                id,
                file: file.clone(),
                counts: crate::export::Counts::default(),
                started: now,
                at: now,
                outcome: None,
            });
            *error = None;
            fx.push(Effect::Export {
                id,
                url,
                json: form.json,
                range: form.range().clone(),
                format: form.format,
                file: file.into(),
                replace: form.replace,
            });
        }
        _ => {
            if form.file.handle(key) {
                form.replace = false;
                *error = None;
            }
        }
    }
}

/// A report of the export task.
pub(super) fn event(state: &mut State, id: u64, event: ExportEvent) {
    let now = state.now;
    let Some((form, error)) = form_mut(state) else {
        return;
    };
    let Some(run) = form.run.as_mut().filter(|r| r.id == id) else {
        return;
    };
    match event {
        ExportEvent::Progress(counts) => {
            run.counts = counts;
            run.at = now;
        }
        ExportEvent::Done(written) => {
            run.counts = written.counts;
            run.at = now;
            let from = spot(&written.from);
            let to = spot(&written.to);
            run.outcome = Some(Ok(format!("offsets {from} to {to}")));
        }
        ExportEvent::Failed { why, exists } => {
            run.at = now;
            if exists {
                // Nothing was written: the run is forgotten, the next
                // Enter replaces the file.
                form.run = None;
                form.replace = true;
                *error = Some(format!("{why} — Enter again replaces it"));
            } else {
                run.outcome = Some(Err(why));
            }
        }
    }
}

fn spot(spot: &crate::export::Spot) -> String {
    match spot.units {
        0 => spot.offset.as_str().to_owned(),
        n => format!("{} +{n}", spot.offset.as_str()),
    }
}
