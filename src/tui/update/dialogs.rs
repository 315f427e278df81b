//! Keys inside dialogs. A dialog keeps what was typed until it succeeds;
//! failures are shown inside it.

use crossterm::event::KeyEvent;

use crate::tui::action::Action;
use crate::tui::keymap::Scope;

use super::{
    begin_tail_at, jump_to, jump_to_mark, open_typed, send, wall_clock,
};
use crate::bookmarks::Bookmark;
use crate::tui::effect::{CreateSpec, Effect};
use crate::tui::state::dialog::{Confirm, CreateForm, DialogKind, LineInput};
use crate::tui::state::tail::Mark;
use crate::tui::state::{Dialog, Level, Overlay, State};

/// Starts naming a bookmark for the selected message (a header row: the
/// first message of its batch).
pub(super) fn start_bookmark(state: &mut State) {
    if state.tail.current_batch().is_none() {
        state.notify(Level::Error, "nothing to bookmark yet");
        return;
    }
    let Some(Mark { offset, skip }) = state.tail.current_mark() else {
        state.notify(
            Level::Error,
            "this message came in the first answer of a read from `now`, \
             which no offset names: bookmark a later message, or J -1",
        );
        return;
    };
    // A merged tail's message belongs to its own stream.
    let source = state.tail.current_batch().and_then(|b| b.source);
    if let Some(m) = &mut state.merge {
        m.bookmarking = m.url_of_source(source).map(str::to_owned);
    }
    // The default name is the time, to the second.
    let name = state
        .wall
        .get(..19)
        .unwrap_or(&state.wall)
        .replace('T', " ");
    state.overlay =
        Some(Overlay::Dialog(Dialog::new(DialogKind::BookmarkName {
            offset,
            skip,
            input: LineInput::new(&name),
        })));
}

pub(super) fn paste(dialog: &mut Dialog, text: &str) {
    match &mut dialog.kind {
        DialogKind::Open(i)
        | DialogKind::Jump(i)
        | DialogKind::BookmarkName { input: i, .. }
        | DialogKind::Delete { input: i, .. }
        | DialogKind::Bookmarks {
            renaming: Some(i), ..
        } => i.paste(text),
        DialogKind::Create(form) => {
            if let Some(i) = form.input_mut() {
                i.paste(text);
            }
        }
        DialogKind::Export(form) if !form.running() => form.file.paste(text),
        _ => {}
    }
}

fn close(state: &mut State) {
    state.overlay = None;
}

fn set_error(state: &mut State, text: impl Into<String>) {
    if let Some(d) = state.dialog_mut() {
        d.error = Some(text.into());
    }
}

fn save(state: &State, fx: &mut Vec<Effect>) {
    fx.push(Effect::SaveBookmarks(Box::new(state.bookmarks.clone())));
}

/// A key while a dialog is open.
pub(super) fn key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(Overlay::Dialog(dialog)) = &state.overlay else {
        return;
    };
    let action = state
        .keymap
        .lookup_in(Scope::Dialog(dialog.kind.form()), &key);
    if matches!(dialog.kind, DialogKind::Export(_)) {
        super::export::key(state, key, action, fx);
        return;
    }
    let Some(dialog) = state.dialog_mut() else {
        return;
    };
    if action == Some(Action::Leave) {
        // Leaving a rename goes back to the list; elsewhere it closes.
        if let DialogKind::Bookmarks { renaming, .. } = &mut dialog.kind
            && renaming.is_some()
        {
            *renaming = None;
            dialog.error = None;
            return;
        }
        close(state);
        return;
    }
    let submit = action == Some(Action::Submit);
    let kind = dialog.kind.clone();
    match kind {
        DialogKind::Open(mut input) => {
            if submit {
                let path = input.value.trim().to_owned();
                if path.is_empty() {
                    set_error(state, "type a stream path or URL");
                } else if path.contains('*') {
                    close(state);
                    super::open_glob(state, &path, fx);
                } else {
                    open_typed(state, &path, fx);
                }
            } else if input.handle(key) {
                set_kind(state, DialogKind::Open(input));
            }
        }
        DialogKind::Jump(mut input) => {
            if submit {
                let from = input.value.trim().to_owned();
                if let Some(problem) = super::offset_problem(&from) {
                    set_error(state, format!("{problem}; nothing changed"));
                } else {
                    close(state);
                    jump_to(state, &from, fx);
                }
            } else if input.handle(key) {
                set_kind(state, DialogKind::Jump(input));
            }
        }
        DialogKind::BookmarkName {
            offset,
            skip,
            mut input,
        } => {
            if submit {
                let mark = Mark { offset, skip };
                add_bookmark(state, &mark, input.value.trim(), fx);
            } else if input.handle(key) {
                set_kind(
                    state,
                    DialogKind::BookmarkName {
                        offset,
                        skip,
                        input,
                    },
                );
            }
        }
        DialogKind::Bookmarks { selected, renaming } => {
            bookmarks_key(state, key, action, selected, renaming, fx);
        }
        DialogKind::Create(form) => create_key(state, key, action, form, fx),
        DialogKind::Export(_) => {}
        DialogKind::Delete { path, mut input } => {
            if submit {
                if input.value == path {
                    let url = state.url_of(&path);
                    if let Some(d) = state.dialog_mut() {
                        d.busy = true;
                        d.error = None;
                    }
                    fx.push(Effect::Delete { path, url });
                } else {
                    set_error(
                        state,
                        "type the stream's name exactly to delete it",
                    );
                }
            } else if input.handle(key) {
                set_kind(state, DialogKind::Delete { path, input });
            }
        }
        DialogKind::Confirm(what) => {
            if submit {
                close(state);
                match what {
                    Confirm::AppendAndClose => send(state, true, fx),
                    Confirm::Close => {
                        if let Some(open) = &state.open {
                            fx.push(Effect::Close {
                                url: open.url.clone(),
                            });
                            state.composer.outcome = Some(
                                crate::tui::state::composer::Outcome::Sending(
                                    "closing…".into(),
                                ),
                            );
                        }
                    }
                }
            }
        }
        DialogKind::Resume { offset, skip, .. } => {
            let from = match action {
                Some(Action::Submit) => Mark { offset, skip },
                Some(Action::FromStart) => Mark {
                    offset: "-1".to_owned(),
                    skip: 0,
                },
                Some(Action::FromNow) => Mark {
                    offset: "now".to_owned(),
                    skip: 0,
                },
                _ => return,
            };
            close(state);
            begin_tail_at(state, from, fx);
        }
        DialogKind::AppendSettings {
            mut seq,
            mut producer,
            mut epoch,
            mut producer_seq,
            mut field,
        } => {
            match action {
                Some(Action::Submit) => {
                    let Ok(e) = epoch.value.trim().parse::<u64>() else {
                        set_error(state, "the epoch is a whole number");
                        return;
                    };
                    if producer.value.trim().is_empty() {
                        set_error(state, "the producer id cannot be empty");
                        return;
                    }
                    let Ok(pseq) = producer_seq.value.trim().parse::<u64>()
                    else {
                        set_error(state, "the producer seq is a whole number");
                        return;
                    };
                    let c = &mut state.composer;
                    let typed_seq = pseq != c.producer_seq;
                    if !typed_seq
                        && (c.epoch != e
                            || c.producer_id != producer.value.trim())
                    {
                        // A new producer or epoch starts its sequence at 0,
                        // unless a sequence was typed too.
                        c.producer_seq = 0;
                    } else {
                        c.producer_seq = pseq;
                    }
                    seq.value.trim().clone_into(&mut c.seq);
                    producer.value.trim().clone_into(&mut c.producer_id);
                    c.epoch = e;
                    close(state);
                    return;
                }
                Some(Action::NextField) => field = (field + 1) % 4,
                Some(Action::PrevField) => field = (field + 3) % 4,
                _ => {
                    let input = match field {
                        0 => &mut seq,
                        1 => &mut producer,
                        2 => &mut epoch,
                        _ => &mut producer_seq,
                    };
                    input.handle(key);
                }
            }
            set_kind(
                state,
                DialogKind::AppendSettings {
                    seq,
                    producer,
                    epoch,
                    producer_seq,
                    field,
                },
            );
        }
    }
}

/// A mark in words: the message's offset, and its place after it.
fn describe_mark(state: &State, mark: &Mark) -> String {
    if mark.skip == 0 {
        return format!("the message at {}", mark.offset);
    }
    let unit = if state.tail.kind == crate::tui::format::ContentKind::Json {
        "messages"
    } else {
        "bytes"
    };
    format!("the message {} {unit} after {}", mark.skip, mark.offset)
}

fn set_kind(state: &mut State, kind: DialogKind) {
    if let Some(d) = state.dialog_mut() {
        d.kind = kind;
        d.error = None;
    }
}

fn add_bookmark(
    state: &mut State,
    mark: &Mark,
    name: &str,
    fx: &mut Vec<Effect>,
) {
    let url = match &mut state.merge {
        Some(m) => m.bookmarking.take(),
        None => state.open.as_ref().map(|o| o.url.clone()),
    };
    let Some(url) = url else {
        close(state);
        return;
    };
    let bookmark = Bookmark {
        name: name.to_owned(),
        offset: mark.offset.clone(),
        position: mark.skip,
        created_at: wall_clock(state),
    };
    match state.bookmarks.add(&url, bookmark) {
        Ok(()) => {
            close(state);
            let what = describe_mark(state, mark);
            if state.bookmarks_broken {
                // Saving is off so that the unreadable file is kept.
                state.notify(
                    Level::Error,
                    format!(
                        "bookmarked {what} as {name:?} for this session \
                         only: the bookmarks file could not be read, so it \
                         will not be kept"
                    ),
                );
            } else {
                state.notify(
                    Level::Info,
                    format!("bookmarked {what} as {name:?}"),
                );
            }
            save(state, fx);
        }
        Err(e) => set_error(state, e.to_string()),
    }
}

fn bookmarks_key(
    state: &mut State,
    key: KeyEvent,
    action: Option<Action>,
    mut selected: usize,
    renaming: Option<LineInput>,
    fx: &mut Vec<Effect>,
) {
    let Some(url) = state.open.as_ref().map(|o| o.url.clone()) else {
        close(state);
        return;
    };
    let list = state.bookmarks.list(&url).to_vec();
    let current = list.get(selected).cloned();
    if let Some(mut input) = renaming {
        if action == Some(Action::Submit) {
            let Some(old) = current else {
                return;
            };
            match state.bookmarks.rename(&url, &old.name, input.value.trim()) {
                Ok(()) => {
                    save(state, fx);
                    set_kind(
                        state,
                        DialogKind::Bookmarks {
                            selected,
                            renaming: None,
                        },
                    );
                }
                Err(e) => set_error(state, e.to_string()),
            }
        } else if input.handle(key) {
            set_kind(
                state,
                DialogKind::Bookmarks {
                    selected,
                    renaming: Some(input),
                },
            );
        }
        return;
    }
    match action {
        Some(Action::Up) => {
            selected = selected.saturating_sub(1);
        }
        Some(Action::Down) => {
            selected = (selected + 1).min(list.len().saturating_sub(1));
        }
        Some(Action::Submit) => {
            if let Some(b) = current {
                close(state);
                state.notify(
                    Level::Info,
                    format!("jumped to bookmark {:?}", b.name),
                );
                let mark = Mark {
                    offset: b.offset,
                    skip: b.position,
                };
                jump_to_mark(state, &mark, fx);
            }
            return;
        }
        Some(Action::Rename) => {
            if let Some(b) = current {
                set_kind(
                    state,
                    DialogKind::Bookmarks {
                        selected,
                        renaming: Some(LineInput::new(&b.name)),
                    },
                );
            }
            return;
        }
        Some(Action::DeleteItem) => {
            if let Some(b) = current {
                if let Err(e) = state.bookmarks.remove(&url, &b.name) {
                    set_error(state, e.to_string());
                    return;
                }
                save(state, fx);
                selected = selected.min(list.len().saturating_sub(2));
            }
        }
        _ => return,
    }
    set_kind(
        state,
        DialogKind::Bookmarks {
            selected,
            renaming: None,
        },
    );
}

fn create_key(
    state: &mut State,
    key: KeyEvent,
    action: Option<Action>,
    mut form: CreateForm,
    fx: &mut Vec<Effect>,
) {
    // The toggle key is text in the text fields.
    let action = action
        .filter(|a| *a != Action::ToggleField || form.input_mut().is_none());
    match action {
        Some(Action::NextField) => {
            form.field = (form.field + 1) % CreateForm::FIELDS;
        }
        Some(Action::PrevField) => {
            form.field =
                (form.field + CreateForm::FIELDS - 1) % CreateForm::FIELDS;
        }
        Some(Action::ToggleField) => form.closed = !form.closed,
        Some(Action::Submit) => {
            match create_spec(&form) {
                Ok(spec) => {
                    let path = form
                        .path
                        .value
                        .trim()
                        .trim_start_matches('/')
                        .to_owned();
                    let url = state.url_of(&path);
                    if let Some(d) = state.dialog_mut() {
                        d.busy = true;
                        d.error = None;
                    }
                    fx.push(Effect::Create { path, url, spec });
                }
                Err(e) => set_error(state, e),
            }
            return;
        }
        _ => {
            if let Some(input) = form.input_mut() {
                input.handle(key);
            }
        }
    }
    set_kind(state, DialogKind::Create(form));
}

/// Checks the create form.
pub fn create_spec(form: &CreateForm) -> Result<CreateSpec, String> {
    let path = form.path.value.trim();
    if path.is_empty() {
        return Err("the path cannot be empty".into());
    }
    if path.contains(char::is_whitespace) {
        return Err("the path cannot contain spaces".into());
    }
    let content_type = form.content_type.value.trim();
    let content_type = if content_type.is_empty() {
        "application/octet-stream"
    } else {
        content_type
    };
    let ttl = form.ttl.value.trim();
    let ttl_secs =
        if ttl.is_empty() {
            None
        } else {
            Some(ttl.parse::<u64>().map_err(|_| {
                "the TTL is a whole number of seconds".to_owned()
            })?)
        };
    let expires = form.expires_at.value.trim();
    let expires_at = if expires.is_empty() {
        None
    } else {
        time::OffsetDateTime::parse(
            expires,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| {
            "expires-at is an RFC 3339 time, like 2030-01-01T00:00:00Z"
                .to_owned()
        })?;
        Some(expires.to_owned())
    };
    if ttl_secs.is_some() && expires_at.is_some() {
        return Err("give a TTL or an expiry time, not both".into());
    }
    Ok(CreateSpec {
        content_type: content_type.to_owned(),
        ttl_secs,
        expires_at,
        closed: form.closed,
    })
}
