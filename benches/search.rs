//! The tail's search over a full buffer: one million ~100-byte JSON
//! messages, searched as the explorer does (bounded steps through
//! `update`, a frame drawn at 160x48 after every step, as the loop may).
//! Reports the time to the first highlighted match on screen, the time to
//! the full count, and the longest step and frame; targets 50 ms, 500 ms,
//! 16 ms (issue 12). Not a timed test: run with `cargo bench --bench
//! search`; figures go in `bench/RESULTS.md`.

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use dsx::client::bench_api::event_100;
use dsx::tui::effect::Effect;
use dsx::tui::message::{Message, ReaderEvent};
use dsx::tui::state::meta::ReadInfo;
use dsx::tui::state::search::Scan;
use dsx::tui::state::tail::Incoming;
use dsx::tui::state::{Connection, OpenStream, Pane, State};
use dsx::tui::update::update;
use dsx::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

const MESSAGES: usize = 1_000_000;
const PER_BATCH: usize = 1000;
const SIZE: (u16, u16) = (160, 48);
const RUNS: usize = 5;

fn full_state() -> State {
    let mut state = State::new("http://127.0.0.1:1/v1/stream", Instant::now());
    state.size = SIZE;
    state.focus = Pane::Tail;
    state.open = Some(OpenStream {
        path: "bench".into(),
        url: "http://127.0.0.1:1/v1/stream/bench".into(),
        content_type: Some("application/json".into()),
    });
    state.tail.reset("-1");
    state.reader_mut().id = 1;
    state.reader_mut().connection = Connection::Live;
    for b in 0..MESSAGES / PER_BATCH {
        let messages: Vec<String> = (0..PER_BATCH)
            .map(|m| event_100((b * PER_BATCH + m) as u64))
            .collect();
        let incoming = Incoming::json(
            &format!("{:016}", b * PER_BATCH * 100),
            &format!("{:016}", (b + 1) * PER_BATCH * 100),
            &messages,
            false,
        );
        let event = ReaderEvent::Batch {
            incoming,
            info: ReadInfo::default(),
            at: Instant::now(),
        };
        update(&mut state, Message::Reader { reader: 1, event });
    }
    assert_eq!(state.tail.buffered_messages, MESSAGES);
    state
}

fn key(state: &mut State, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    update(state, Message::Input(Event::Key(KeyEvent::new(code, mods))))
}

fn step_of(fx: &[Effect]) -> Option<u64> {
    fx.iter().find_map(|e| match e {
        Effect::SearchStep { generation } => Some(*generation),
        _ => None,
    })
}

fn highlighted(t: &Terminal<TestBackend>) -> bool {
    t.backend()
        .buffer()
        .content()
        .iter()
        .any(|c| c.bg == Color::LightYellow)
}

struct Run {
    first: Duration,
    full: Duration,
    longest_step: Duration,
    longest_frame: Duration,
    steps: usize,
    count: usize,
}

/// One search for `query` (`regex` toggled), from Enter to the full count.
fn run(state: &mut State, query: &str, regex: bool) -> Run {
    let mut t = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).unwrap();
    key(state, KeyCode::Char('/'), KeyModifiers::NONE);
    for c in query.chars() {
        key(state, KeyCode::Char(c), KeyModifiers::NONE);
    }
    if regex {
        key(state, KeyCode::Char('r'), KeyModifiers::CONTROL);
    }
    let start = Instant::now();
    let mut fx = key(state, KeyCode::Enter, KeyModifiers::NONE);
    let (mut first, mut longest_step, mut longest_frame) =
        (None, Duration::ZERO, Duration::ZERO);
    let mut steps = 0;
    loop {
        let f = Instant::now();
        t.draw(|frame| view::draw(frame, state)).unwrap();
        longest_frame = longest_frame.max(f.elapsed());
        if first.is_none() && highlighted(&t) {
            first = Some(start.elapsed());
        }
        let Some(generation) = step_of(&fx) else {
            break;
        };
        let s = Instant::now();
        fx = update(state, Message::SearchStep { generation });
        longest_step = longest_step.max(s.elapsed());
        steps += 1;
    }
    let full = start.elapsed();
    let a = state.search.active.as_ref().expect("a search");
    assert_eq!(a.scan, Scan::Current);
    let count = a.count();
    // The first match on screen: the newest one (N from the live end),
    // if the newest rows had none.
    if first.is_none() && count > 0 {
        key(state, KeyCode::Char('N'), KeyModifiers::NONE);
        t.draw(|frame| view::draw(frame, state)).unwrap();
        assert!(highlighted(&t), "the newest match is highlighted");
        first = Some(start.elapsed());
    }
    // Clear for the next run.
    key(state, KeyCode::Char('f'), KeyModifiers::NONE);
    key(state, KeyCode::Esc, KeyModifiers::NONE);
    assert!(state.search.active.is_none());
    Run {
        first: first.unwrap_or(full),
        full,
        longest_step,
        longest_frame,
        steps,
        count,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: do nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mut state = full_state();
    for (query, regex, what) in [
        ("order.created", false, "every message matches (plain)"),
        ("u_00ff", false, "1 in 65,536 matches (plain)"),
        (r"total.:\s?49\d\.", true, "1 in 500 matches (regex)"),
        ("NOT-THERE", false, "no match (plain, case-sensitive)"),
    ] {
        let runs: Vec<Run> =
            (0..RUNS).map(|_| run(&mut state, query, regex)).collect();
        let counts: Vec<usize> = runs.iter().map(|r| r.count).collect();
        assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
        println!(
            "search {what} /{query}/: {} matches in {} steps; medians of {RUNS}: first match on screen {:.1} ms, full count {:.1} ms, longest step {:.2} ms, longest frame {:.2} ms (max of runs: step {:.2} ms, frame {:.2} ms)",
            counts[0],
            runs[0].steps,
            median(runs.iter().map(|r| ms(r.first)).collect()),
            median(runs.iter().map(|r| ms(r.full)).collect()),
            median(runs.iter().map(|r| ms(r.longest_step)).collect()),
            median(runs.iter().map(|r| ms(r.longest_frame)).collect()),
            runs.iter().map(|r| ms(r.longest_step)).fold(0.0, f64::max),
            runs.iter().map(|r| ms(r.longest_frame)).fold(0.0, f64::max),
        );
    }
}
