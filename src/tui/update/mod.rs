//! `update(&mut State, Message) -> Vec<Effect>`: every state change, with
//! no I/O and no clock reads (times come in messages).

mod actions;
mod dialogs;
mod events;
mod input;
pub mod inspector;
mod lifecycle;
mod search;

pub use actions::*;
use input::input;
pub use lifecycle::*;

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
        Message::Requests { events, dropped } => {
            state.inspector.record(events, dropped);
        }
        Message::Copied(Ok(what)) => state.notify(Level::Info, what),
        Message::Copied(Err(e)) => {
            state.notify(Level::Error, format!("copy failed: {e}"));
        }
        Message::SearchStep { generation } => {
            search::step(state, generation, &mut fx);
        }
    }
    fx
}

#[cfg(test)]
fn screen(state: &State) -> ratatui::layout::Rect {
    ratatui::layout::Rect::new(0, 0, state.size.0, state.size.1)
}

#[cfg(test)]
mod tests;
