//! Frame cost with a full buffer: one million ~100-byte JSON messages in
//! the tail, drawn at 160x48 while following and while paused in the
//! middle, pretty and compact; and formatting a screenful of rows alone.
//! The target is a frame in under 2 ms: drawing must not depend on how
//! much is buffered.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use dsx::client::bench_api::event_100;
use dsx::tui::format::{JsonStyle, Theme};
use dsx::tui::layout::tail_height;
use dsx::tui::message::{Message, ReaderEvent};
use dsx::tui::state::meta::ReadInfo;
use dsx::tui::state::tail::{Anchor, Incoming};
use dsx::tui::state::{Connection, OpenStream, Pane, State};
use dsx::tui::update::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const MESSAGES: usize = 1_000_000;
const PER_BATCH: usize = 1000;
const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

/// A state with `MESSAGES` messages delivered as a reader would: batches
/// through `update`.
fn full_state() -> State {
    let mut state = State::new("http://127.0.0.1:1/v1/stream", Instant::now());
    state.size = (WIDTH, HEIGHT);
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
    assert_eq!(state.tail.total_messages, MESSAGES as u64);
    assert_eq!(state.tail.buffered_messages, MESSAGES);
    state
}

fn key(state: &mut State, code: KeyCode) {
    let event = Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    update(state, Message::Input(event));
}

/// Paused with the view in the middle of the buffer.
fn pause_in_middle(state: &mut State) {
    key(state, KeyCode::Up);
    key(state, KeyCode::PageUp);
    assert!(!state.tail.follow, "Up pauses following");
    let middle = state.tail.first_item()
        + (state.tail.last_item().unwrap_or(0) - state.tail.first_item()) / 2;
    state.tail.selected = Some(middle + 5);
    state.tail.anchor = Anchor {
        item: middle,
        line: 0,
    };
}

/// What the buffer holds beyond the struct itself, from its parts.
fn buffered_bytes(state: &State) -> (usize, usize) {
    let data = state.tail.batches.iter().map(|b| b.data.len()).sum();
    let ends = state
        .tail
        .batches
        .iter()
        .map(|b| b.ends.capacity() * 4)
        .sum();
    (data, ends)
}

fn bench(c: &mut Criterion) {
    let started = Instant::now();
    let mut state = full_state();
    let built = started.elapsed();
    let (data, ends) = buffered_bytes(&state);
    eprintln!(
        "1M messages through update in {built:.2?}; data {:.1} MiB + ends \
         {:.1} MiB",
        mib(data),
        mib(ends)
    );
    // `State` is not `Clone`; the tail is (its data is shared `Bytes`).
    let following = state.tail.clone();
    pause_in_middle(&mut state);
    let paused = state.tail.clone();
    let theme = Theme::default();
    let mut group = c.benchmark_group("render_1m");
    for (name, tail) in [("following", &following), ("paused", &paused)] {
        for style in [JsonStyle::Pretty, JsonStyle::Compact] {
            state.tail = tail.clone();
            state.json_style = style;
            let mut terminal =
                Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
            group.bench_function(format!("frame_{name}_{style:?}"), |b| {
                b.iter(|| {
                    terminal
                        .draw(|f| dsx::tui::view::draw(f, black_box(&state)))
                        .unwrap();
                });
            });
        }
    }
    // Formatting alone: the rows of one screen, from the middle.
    state.tail = paused;
    let rows = tail_height(&state);
    for style in [JsonStyle::Pretty, JsonStyle::Compact] {
        group.bench_function(format!("item_lines_screen_{style:?}"), |b| {
            b.iter(|| {
                let mut lines = 0;
                let mut id = state.tail.anchor.item;
                while lines < rows {
                    lines += dsx::tui::view::tail::item_lines(
                        &state.tail,
                        black_box(id),
                        dsx::tui::state::tail::scroll::Shape::plain(style),
                        120,
                        &theme,
                    )
                    .len();
                    id += 1;
                }
                lines
            });
        });
    }
    group.finish();
}

#[allow(clippy::cast_precision_loss, reason = "display only")]
fn mib(n: usize) -> f64 {
    n as f64 / 1024.0 / 1024.0
}

criterion_group! {
    name = benches;
    // Short runs: a quick signal on a shared 2-core machine, not a study.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
