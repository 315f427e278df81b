//! Dialogs: forms, confirmations, the bookmark list.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{centered, safe};
use crate::tui::keymap::{Form, Scope, keys_label};
use crate::tui::state::dialog::{Confirm, DialogKind, LineInput};
use crate::tui::state::{Dialog, State};

pub(super) fn field<'a>(
    label: &str,
    input: &LineInput,
    active: bool,
) -> Line<'a> {
    let label_style = if active {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let value = safe(&input.value);
    let mut spans = vec![Span::styled(format!("{label:>13} "), label_style)];
    if active {
        let (before, after): (String, String) = {
            let chars: Vec<char> = value.chars().collect();
            let at = input.cursor.min(chars.len());
            (chars[..at].iter().collect(), chars[at..].iter().collect())
        };
        spans.push(Span::raw(before));
        spans.push(Span::styled("▏", Style::new().fg(Color::Cyan)));
        spans.push(Span::raw(after));
    } else {
        spans.push(Span::raw(value));
    }
    Line::from(spans)
}

/// An offset and what to skip after it, escaped: `o + 12 msgs`.
fn at(state: &State, offset: &str, skip: u64) -> String {
    if skip == 0 {
        return safe(offset);
    }
    let unit = if state.tail.kind == crate::tui::format::ContentKind::Json {
        "msg"
    } else {
        "byte"
    };
    let plural = if skip == 1 { "" } else { "s" };
    format!("{} + {skip} {unit}{plural}", safe(offset))
}

/// The keys of a dialog, from the keymap: `Enter: open · Esc: cancel`.
pub(super) fn keys(state: &State, form: Form) -> Line<'static> {
    let text = state
        .keymap
        .in_scope(Scope::Dialog(form))
        .filter_map(|b| Some(format!("{}: {}", keys_label(b), b.hint?)))
        .collect::<Vec<_>>()
        .join(" · ");
    hint(&text)
}

pub(super) fn hint(text: &str) -> Line<'static> {
    Line::styled(text.to_owned(), Style::new().fg(Color::DarkGray))
}

/// Title and lines of a dialog.
pub fn content(state: &State, dialog: &Dialog) -> (String, Vec<Line<'static>>) {
    let stream = state
        .open
        .as_ref()
        .map(|o| safe(&o.path))
        .unwrap_or_default();
    let (title, mut lines) = match &dialog.kind {
        DialogKind::Open(i) => (
            "Open a stream".to_owned(),
            vec![
                field("path or URL", i, true),
                hint("a path under the server's base URL, or a full URL"),
                keys(state, Form::Open),
            ],
        ),
        DialogKind::Jump(i) => (
            format!("Restart {stream} from"),
            vec![
                field("offset", i, true),
                hint(
                    "-1 = the beginning · now = only new messages · or an offset",
                ),
                keys(state, Form::Jump),
            ],
        ),
        DialogKind::BookmarkName {
            offset,
            skip,
            input,
        } => (
            "Bookmark".to_owned(),
            vec![
                Line::from(vec![
                    Span::styled(
                        "       offset ",
                        Style::new().fg(Color::DarkGray),
                    ),
                    Span::raw(at(state, offset, *skip)),
                ]),
                field("name", input, true),
                keys(state, Form::BookmarkName),
            ],
        ),
        DialogKind::Bookmarks { selected, renaming } => {
            let list = state
                .open
                .as_ref()
                .map(|o| state.bookmarks.list(&o.url).to_vec())
                .unwrap_or_default();
            let mut lines = Vec::new();
            if list.is_empty() {
                lines.push(hint(
                    "no bookmarks for this stream yet: m in the tail adds one",
                ));
            }
            for (i, b) in list.iter().enumerate() {
                let sel = i == *selected;
                if sel && let Some(input) = renaming {
                    lines.push(field("rename", input, true));
                    continue;
                }
                let style = if sel {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!(" {:<20}", safe(&b.name)), style),
                    Span::styled(
                        // `+N`: messages (bytes) after the offset, short
                        // enough to keep the row on one line at 80 columns.
                        if b.position == 0 {
                            format!(" {} ", safe(&b.offset))
                        } else {
                            format!(" {}+{} ", safe(&b.offset), b.position)
                        },
                        style.fg(Color::Magenta),
                    ),
                    // `MM-DD HH:MM` of the RFC 3339 time keeps a row on
                    // one line at 80 columns.
                    Span::styled(
                        safe(b.created_at.get(5..16).unwrap_or(&b.created_at))
                            .replace('T', " "),
                        Style::new().fg(Color::DarkGray),
                    ),
                ]));
            }
            lines.push(keys(state, dialog.kind.form()));
            (format!("Bookmarks of {stream}"), lines)
        }
        DialogKind::Create(form) => (
            "Create a stream".to_owned(),
            vec![
                field("path", &form.path, form.field == 0),
                field("content type", &form.content_type, form.field == 1),
                field("TTL (s)", &form.ttl, form.field == 2),
                field("expires at", &form.expires_at, form.field == 3),
                Line::from(vec![
                    Span::styled(
                        format!("{:>13} ", "closed"),
                        if form.field == 4 {
                            Style::new()
                                .fg(Color::Cyan)
                                .add_modifier(Modifier::BOLD)
                        } else {
                            Style::new().fg(Color::DarkGray)
                        },
                    ),
                    Span::raw(if form.closed { "[x] yes" } else { "[ ] no" }),
                    Span::styled(
                        "  (Space toggles)",
                        Style::new().fg(Color::DarkGray),
                    ),
                ]),
                keys(state, Form::Create),
            ],
        ),
        DialogKind::Delete { path, input } => (
            "Delete a stream".to_owned(),
            vec![
                Line::from(vec![
                    Span::raw("This deletes "),
                    Span::styled(
                        safe(path),
                        Style::new()
                            .fg(Color::Red)
                            .add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(" and all its data."),
                ]),
                field("type its name", input, true),
                keys(state, Form::Delete),
            ],
        ),
        DialogKind::Confirm(Confirm::AppendAndClose) => (
            "Append and close".to_owned(),
            vec![
                Line::raw(format!(
                    "Append the composer's text to {stream} and close the stream?"
                )),
                Line::raw("A closed stream takes no more appends."),
                keys(state, Form::Confirm),
            ],
        ),
        DialogKind::Confirm(Confirm::Close) => (
            "Close the stream".to_owned(),
            vec![
                Line::raw(format!(
                    "Close {stream}? It takes no more appends afterwards."
                )),
                keys(state, Form::Confirm),
            ],
        ),
        DialogKind::Resume {
            offset,
            skip,
            saved_at,
        } => (
            format!("Reopen {stream}"),
            vec![
                Line::from(vec![
                    Span::raw("You left this stream at "),
                    Span::styled(
                        at(state, offset, *skip),
                        Style::new().fg(Color::Magenta),
                    ),
                    Span::styled(
                        format!(" ({})", safe(saved_at)),
                        Style::new().fg(Color::DarkGray),
                    ),
                ]),
                keys(state, Form::Resume),
            ],
        ),
        DialogKind::Export(form) => super::export::content(state, form),
        DialogKind::AppendSettings {
            seq,
            producer,
            epoch,
            producer_seq,
            field: f,
        } => (
            "Append settings".to_owned(),
            vec![
                field("Stream-Seq", seq, *f == 0),
                field("producer id", producer, *f == 1),
                field("epoch", epoch, *f == 2),
                field("producer seq", producer_seq, *f == 3),
                hint(
                    "Ctrl-P in the composer picks plain / Stream-Seq / producer",
                ),
                keys(state, Form::AppendSettings),
            ],
        ),
    };
    if dialog.busy {
        lines.push(hint("working…"));
    }
    if let Some(e) = &dialog.error {
        lines.push(Line::styled(
            format!("✗ {}", safe(e)),
            Style::new().fg(Color::Red),
        ));
    }
    (title, lines)
}

/// Draws a dialog centred over the panes.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, dialog: &Dialog) {
    let (title, lines) = content(state, dialog);
    let width = area.width.min(76);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    // As tall as the wrapped text needs, plus the borders. (Counted
    // without the block: with one, the count wraps at the outer width and
    // came a row short on narrow terminals, cutting the last words.)
    let rows = paragraph.line_count(width.saturating_sub(2)) + 2;
    let paragraph = paragraph.block(
        Block::new()
            .borders(Borders::ALL)
            .border_style(Style::new().fg(Color::Yellow))
            .title(format!(" {title} ")),
    );
    let r = centered(area, width, u16::try_from(rows).unwrap_or(u16::MAX));
    frame.render_widget(Clear, r);
    frame.render_widget(paragraph, r);
}
