//! The export dialog: the range, the format, the file, then the export's
//! progress bar (messages, bytes, rate) and how it ended.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::dialog::{field, hint, keys};
use super::safe;
use crate::export::Format;
use crate::tui::keymap::Form;
use crate::tui::state::State;
use crate::tui::state::export::{ExportForm, ExportRun};

/// Cells of the progress bar.
const BAR: usize = 40;

/// Title and lines of the export dialog.
pub fn content(
    state: &State,
    form: &ExportForm,
) -> (String, Vec<Line<'static>>) {
    let stream = state
        .open
        .as_ref()
        .map(|o| safe(&o.path))
        .unwrap_or_default();
    let label = Style::new().fg(Color::DarkGray);
    let choice = form
        .choices
        .get(form.selected)
        .map(|c| safe(&c.label))
        .unwrap_or_default();
    let format = match form.format {
        Format::Ndjson => "NDJSON (one message per line)",
        Format::Raw => "raw bytes",
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:>13} ", "range"), label),
            Span::styled(
                format!("‹ {choice} ›"),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("  {}/{}", form.selected + 1, form.choices.len()),
                label,
            ),
        ]),
        Line::from(vec![
            Span::styled(format!("{:>13} ", "format"), label),
            Span::raw(format),
        ]),
        field("file", &form.file, form.run.is_none()),
        hint(
            "read from the server, not the buffer; bookmark ranges include both bookmarked messages",
        ),
    ];
    match &form.run {
        None => lines.push(keys(state, Form::Export)),
        Some(run) => lines.extend(progress(run)),
    }
    (format!("Export {stream}"), lines)
}

fn progress(run: &ExportRun) -> Vec<Line<'static>> {
    let counts = run.counts;
    let filled = counts.expected.map(|total| {
        let done = if counts.messages > 0 {
            counts.messages
        } else {
            counts.bytes
        };
        if total == 0 {
            BAR
        } else {
            let part =
                u128::from(done.min(total)) * BAR as u128 / u128::from(total);
            usize::try_from(part).unwrap_or(BAR)
        }
    });
    let bar = match (filled, &run.outcome) {
        (_, Some(Ok(_))) => "█".repeat(BAR),
        (Some(n), _) => format!("{}{}", "█".repeat(n), "░".repeat(BAR - n)),
        (None, _) => "░".repeat(BAR),
    };
    let total = counts
        .expected
        .map_or_else(|| " (to the tail)".to_owned(), |n| format!(" of {n}"));
    let mut lines = vec![
        Line::styled(bar, Style::new().fg(Color::Cyan)),
        Line::raw(format!(
            "{} messages{total} · {} · {}/s",
            counts.messages,
            human(counts.bytes),
            human(rate(run)),
        )),
    ];
    match &run.outcome {
        None => lines.push(hint(
            "exporting… Esc cancels (the file stays as NAME.partial)",
        )),
        Some(Ok(range)) => {
            lines.push(Line::styled(
                format!("✓ wrote {}: {}", safe(&run.file), safe(range)),
                Style::new().fg(Color::Green),
            ));
            lines.push(hint("Esc: close · Enter: export again"));
        }
        Some(Err(why)) => {
            lines.push(Line::styled(
                format!("✗ {}", safe(why)),
                Style::new().fg(Color::Red),
            ));
            lines.push(hint("Esc: close · Enter: try again"));
        }
    }
    lines
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a rate shown"
)]
fn rate(run: &ExportRun) -> u64 {
    run.rate() as u64
}

/// `1.5 MiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    #[allow(clippy::cast_precision_loss, reason = "shown rounded")]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
