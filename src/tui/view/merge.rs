//! What the merged tail adds to the screen: each stream's reader state in
//! the status bar and the tail's footer, in the stream's colour.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use super::safe;
use crate::tui::state::merge::{Merge, tag_colour};
use crate::tui::state::{Connection, State};

/// A stream's connection in a word or two.
pub fn short(c: &Connection) -> String {
    match c {
        Connection::Idle => "idle".into(),
        Connection::Connecting => "connecting".into(),
        Connection::CatchingUp => "catching up".into(),
        Connection::Live => "live".into(),
        Connection::CaughtUp => "caught up".into(),
        Connection::Reconnecting { attempt, .. } => {
            format!("reconnecting #{attempt}")
        }
        Connection::Closed => "closed".into(),
        Connection::Failed(_) => "failed".into(),
    }
}

/// The status bar's first row for a merged tail: how many streams, the
/// mode, then each stream's name (in its colour), state and count.
pub fn status_spans(state: &State, merge: &Merge) -> Vec<Span<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    let live = merge
        .sources
        .iter()
        .filter(|s| {
            state
                .readers
                .get(&s.url)
                .is_some_and(|r| r.connection == Connection::Live)
        })
        .count();
    let colour = if live == merge.sources.len() && live > 0 {
        Color::Green
    } else {
        Color::Yellow
    };
    let mut spans = vec![
        Span::styled(
            format!(" ● merged {live}/{} live ", merge.sources.len()),
            Style::new()
                .fg(Color::Black)
                .bg(colour)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
        Span::styled(
            state.readers.idle.mode.to_string(),
            Style::new().fg(Color::Cyan),
        ),
    ];
    for s in &merge.sources {
        let (mode, conn) = state.readers.get(&s.url).map_or_else(
            || (String::new(), "idle".to_owned()),
            |r| (r.mode.to_string(), short(&r.connection)),
        );
        spans.push(Span::styled(" · ", dim));
        spans.push(Span::styled(
            safe(&s.path),
            Style::new().fg(tag_colour(&s.path)),
        ));
        let mode = if mode == state.readers.idle.mode.to_string() {
            String::new()
        } else {
            format!(" {mode}")
        };
        spans.push(Span::raw(format!(
            ": {conn}{mode}, {}",
            super::count(s.received)
        )));
    }
    spans
}

/// The tail's footer for a merged tail: the wordiest first.
pub fn footer_text(state: &State, merge: &Merge) -> (Vec<String>, Style) {
    let mut by: Vec<(String, usize)> = Vec::new();
    for s in &merge.sources {
        let c = state
            .readers
            .get(&s.url)
            .map_or_else(|| "idle".to_owned(), |r| short(&r.connection));
        match by.iter_mut().find(|(k, _)| *k == c) {
            Some((_, n)) => *n += 1,
            None => by.push((c, 1)),
        }
    }
    if by.is_empty() {
        return (
            vec!["no stream yet".into()],
            Style::new().fg(Color::DarkGray),
        );
    }
    let all_live = by.len() == 1 && by[0].0 == "live";
    let parts: Vec<String> =
        by.iter().map(|(c, n)| format!("{n} {c}")).collect();
    let style = if all_live {
        Style::new().fg(Color::Green)
    } else {
        Style::new().fg(Color::Yellow)
    };
    let all = parts.join(" · ");
    (
        vec![
            format!("merged · {all} · R retries failed ones"),
            format!("merged · {all}"),
            "merged".to_owned(),
        ],
        style,
    )
}
