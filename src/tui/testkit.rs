//! Test helpers shared by the `update` and `view` tests: a state on a fixed
//! base URL and wall clock, and key presses through the real `update`.

use std::time::Instant;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

use crate::tui::effect::Effect;
use crate::tui::message::Message;
use crate::tui::state::State;
use crate::tui::update::update;

/// The server every test state points at (nothing listens there).
pub const BASE: &str = "http://127.0.0.1:1/v1/stream";

/// A state on [`BASE`] with a fixed wall-clock time.
pub fn new_state() -> State {
    let mut s = State::new(BASE, Instant::now());
    s.wall = "2026-11-28T12:00:00.000Z".into();
    s
}

pub fn press_with(
    s: &mut State,
    code: KeyCode,
    modifiers: KeyModifiers,
) -> Vec<Effect> {
    update(
        s,
        Message::Input(Event::Key(KeyEvent::new(code, modifiers))),
    )
}

pub fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    press_with(s, code, KeyModifiers::NONE)
}

pub fn ch(s: &mut State, c: char) -> Vec<Effect> {
    press(s, KeyCode::Char(c))
}

pub fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
    press_with(s, KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types text key by key; returns every effect.
pub fn typ(s: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| ch(s, c)).collect()
}
