//! The loop: take messages, update, run effects, draw when something
//! changed (at most 60 frames a second). Generic over the backend and the
//! input stream, so tests drive the real loop.

use std::io;
use std::time::{Duration, Instant};

use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use super::effect::Effect;
use super::executor::{self, Executor};
use super::message::Message;
use super::state::State;
use super::update::update;
use super::view;

/// Shortest gap between two frames.
const FRAME: Duration = Duration::from_millis(16);
/// Clock ticks: countdowns, rates, reconnect timers.
const TICK: Duration = Duration::from_millis(250);
/// Messages handled before the loop looks at input and the screen again,
/// so a flood of batches cannot starve the keyboard.
const DRAIN: usize = 512;

/// Runs until the user quits, the input ends, or `stop` completes.
/// Returns the final state.
pub async fn run<B, I>(
    terminal: &mut Terminal<B>,
    mut input: I,
    mut state: State,
    mut executor: Executor,
    mut rx: mpsc::Receiver<Message>,
    initial: Vec<Effect>,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<State>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    let mut pending: Vec<Message> = Vec::new();
    for effect in initial {
        pending.extend(executor.execute(effect));
    }
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    let mut last_frame: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        for message in std::mem::take(&mut pending) {
            for effect in update(&mut state, message) {
                pending.extend(executor.execute(effect));
            }
            dirty = true;
        }
        if state.quit {
            break;
        }
        let due = last_frame.map_or(Instant::now(), |t| t + FRAME);
        if dirty && Instant::now() >= due {
            terminal
                .draw(|frame| view::draw(frame, &state))
                .map_err(|e| anyhow::anyhow!("drawing: {e}"))?;
            last_frame = Some(Instant::now());
            dirty = false;
        }
        if !pending.is_empty() {
            continue;
        }
        // Not biased: input and client messages take turns, so neither a
        // burst of batches nor a key repeat can starve the other.
        let message = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
            event = input.next() => match event {
                Some(Ok(event)) => Message::Input(event),
                Some(Err(e)) => return Err(anyhow::anyhow!("reading the terminal: {e}")),
                None => break,
            },
            _ = ticker.tick() => Message::Tick { now: Instant::now(), wall: executor::wall() },
            () = &mut stop => break,
            () = tokio::time::sleep_until(due.into()), if dirty => continue,
        };
        pending.push(message);
        // Take what else is ready, up to a bound.
        while pending.len() < DRAIN {
            match rx.try_recv() {
                Ok(m) => pending.push(m),
                Err(_) => break,
            }
        }
    }
    // Effects of quitting (position saves) still run.
    executor.shutdown().await;
    Ok(state)
}
