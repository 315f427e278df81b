//! Messages to styled lines: JSON with syntax colours, text, hex dumps.
//!
//! Only visible rows are formatted, every frame, so these borrow static text
//! for indentation and punctuation and allocate only for scalars.
//!
//! JSON strings are shown as JSON string literals (`"a\"b"`), except that
//! characters unsafe for the terminal are spelled the [`sanitize`] way: a
//! string holding ESC shows `\x1b` (`serde_json` would write `\u001b`), C1 and
//! bidi controls show `\u{9b}`. Escapes that stand for safe characters
//! (`\u00e9`) show decoded (`é`).

pub mod hex;
pub mod json;
pub mod wrap;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

pub use hex::{hex_line, hex_line_count, hex_lines};

use crate::sanitize;
use json::{Event, Invalid, Parser};

/// How a stream's messages are to be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentKind {
    Json,
    Text,
    Binary,
}

impl ContentKind {
    /// How a stream of `content_type` is shown. JSON mode as the protocol
    /// (and the client, server and `dsx read`) reads it; a `+json` type is
    /// bytes there, UTF-8 by its own rules, so it is shown as text, as
    /// ndjson is. No type: binary.
    pub fn of(content_type: Option<&str>) -> ContentKind {
        use crate::client::content_type::{essence, is_json, is_text};
        let Some(ct) = content_type else {
            return ContentKind::Binary;
        };
        let essence = essence(ct).to_ascii_lowercase();
        if is_json(ct) {
            ContentKind::Json
        } else if is_text(ct)
            || essence.ends_with("+json")
            || essence == "application/x-ndjson"
            || essence == "application/ndjson"
        {
            ContentKind::Text
        } else {
            ContentKind::Binary
        }
    }
}

/// JSON layout: indented like `serde_json::to_string_pretty`, or one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonStyle {
    Pretty,
    Compact,
}

/// Styles of every syntax class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub key: Style,
    pub string: Style,
    pub number: Style,
    pub boolean: Style,
    pub null: Style,
    pub punct: Style,
    /// Content that is not what it claims to be (invalid JSON).
    pub warning: Style,
    /// Secondary text such as fold summaries.
    pub dim: Style,
    pub hex_addr: Style,
    pub hex_ascii: Style,
    /// The cursor line.
    pub selection: Style,
    /// Log lines (and JSON `level` / `severity` values) by level.
    pub error: Style,
    pub warn: Style,
    pub info: Style,
    pub debug: Style,
}

impl Theme {
    /// The default theme, or with `no_color` one without colours (the
    /// `NO_COLOR` convention): only bold, dim and reverse remain.
    pub fn new(no_color: bool) -> Theme {
        if no_color {
            Theme::plain()
        } else {
            Theme::default()
        }
    }

    /// No colours at all.
    pub fn plain() -> Theme {
        let none = Style::new();
        Theme {
            key: none,
            string: none,
            number: none,
            boolean: none,
            null: none,
            punct: none,
            warning: Style::new().add_modifier(Modifier::BOLD),
            dim: none,
            hex_addr: none,
            hex_ascii: none,
            selection: Style::new().add_modifier(Modifier::REVERSED),
            error: Style::new().add_modifier(Modifier::BOLD),
            warn: none,
            info: none,
            debug: Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// The style of a level.
    pub fn level(&self, level: LogLevel) -> Style {
        match level {
            LogLevel::Error => self.error,
            LogLevel::Warn => self.warn,
            LogLevel::Info => self.info,
            LogLevel::Debug => self.debug,
        }
    }
}

impl Default for Theme {
    /// Basic ANSI colours only, so 16-colour terminals show it too.
    fn default() -> Self {
        Self {
            key: Style::new().fg(Color::Cyan),
            string: Style::new().fg(Color::Green),
            number: Style::new().fg(Color::Yellow),
            boolean: Style::new().fg(Color::Magenta),
            null: Style::new().fg(Color::Red),
            punct: Style::new(),
            warning: Style::new().fg(Color::LightRed),
            dim: Style::new().fg(Color::DarkGray),
            hex_addr: Style::new().fg(Color::DarkGray),
            hex_ascii: Style::new().fg(Color::Cyan),
            selection: Style::new().add_modifier(Modifier::REVERSED),
            error: Style::new().fg(Color::LightRed),
            warn: Style::new().fg(Color::Yellow),
            // Most lines are INFO: they keep the terminal's colour.
            info: Style::new(),
            // Dim rather than dark grey: the tail's selection is a dark
            // grey background, on which dark grey text would vanish.
            debug: Style::new().add_modifier(Modifier::DIM),
        }
    }
}

/// How serious a log line says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    /// The level a word names (`ERROR`, `warning`, `E`...), any case.
    pub fn from_word(word: &str) -> Option<LogLevel> {
        Some(match word.to_ascii_uppercase().as_str() {
            "ERROR" | "ERR" | "FATAL" | "CRITICAL" | "CRIT" | "PANIC"
            | "ALERT" | "EMERG" | "EMERGENCY" | "SEVERE" => LogLevel::Error,
            "WARN" | "WARNING" => LogLevel::Warn,
            "INFO" | "NOTICE" => LogLevel::Info,
            "DEBUG" | "TRACE" | "FINE" | "VERBOSE" => LogLevel::Debug,
            _ => return None,
        })
    }

    /// The level of a text log line: the first upper-case level word
    /// (`ERROR`, `[WARN]`, `level=error` in any case) among its first
    /// words. Prose that happens to say "error" later is not a level.
    pub fn of_line(line: &[u8]) -> Option<LogLevel> {
        const LOOK: usize = 160;
        let head = &line[..line.len().min(LOOK)];
        let head = String::from_utf8_lossy(head);
        let mut after_level_key = false;
        for word in head
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .take(12)
        {
            let upper = word.bytes().all(|b| !b.is_ascii_lowercase());
            if (upper || after_level_key)
                && let Some(level) = LogLevel::from_word(word)
            {
                return Some(level);
            }
            after_level_key = word.eq_ignore_ascii_case("level")
                || word.eq_ignore_ascii_case("severity")
                || word.eq_ignore_ascii_case("lvl");
        }
        None
    }
}

/// Indentation is borrowed from here; deeper nesting than this allows is
/// rejected by the parser anyway.
const SPACES: &str = {
    const BYTES: [u8; 2 * json::MAX_DEPTH] = [b' '; 2 * json::MAX_DEPTH];
    match std::str::from_utf8(&BYTES) {
        Ok(s) => s,
        Err(_) => panic!("spaces are UTF-8"),
    }
};

/// Indentation for `depth` levels, two spaces each.
pub fn indent(depth: usize) -> Span<'static> {
    Span::raw(&SPACES[..(2 * depth).min(SPACES.len())])
}

/// A JSON string literal (contents `raw` as sent, validated) for display.
pub fn string_span(raw: &str, style: Style) -> Span<'static> {
    if !raw.contains(|c| c == '\\' || sanitize::needs_escape(c)) {
        let mut out = String::with_capacity(raw.len() + 2);
        out.push('"');
        out.push_str(raw);
        out.push('"');
        return Span::styled(out, style);
    }
    let decoded = json::decode_string(raw);
    let mut out = String::with_capacity(decoded.len() + 8);
    out.push('"');
    for c in decoded.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => sanitize::push_char(&mut out, c),
        }
    }
    out.push('"');
    Span::styled(out, style)
}

/// The span of a scalar event (string value, number, bool, null); `None`
/// for keys and brackets.
pub fn scalar_span(event: Event<'_>, theme: &Theme) -> Option<Span<'static>> {
    Some(match event {
        Event::Str(raw) => string_span(raw, theme.string),
        // Validated numbers are plain ASCII digits and signs.
        Event::Num(text) => Span::styled(text.to_owned(), theme.number),
        Event::Bool(true) => Span::styled("true", theme.boolean),
        Event::Bool(false) => Span::styled("false", theme.boolean),
        Event::Null => Span::styled("null", theme.null),
        _ => return None,
    })
}

/// Receives the printer's output: either lines of spans or just a count.
trait Sink {
    fn span(&mut self, make: impl FnOnce() -> Span<'static>);
    fn newline(&mut self, depth: usize);
}

struct LineSink {
    lines: Vec<Line<'static>>,
    current: Vec<Span<'static>>,
}

impl Sink for LineSink {
    fn span(&mut self, make: impl FnOnce() -> Span<'static>) {
        self.current.push(make());
    }

    fn newline(&mut self, depth: usize) {
        let spans = std::mem::replace(&mut self.current, vec![indent(depth)]);
        self.lines.push(Line::from(spans));
    }
}

struct CountSink(usize);

impl Sink for CountSink {
    fn span(&mut self, _make: impl FnOnce() -> Span<'static>) {}

    fn newline(&mut self, _depth: usize) {
        self.0 += 1;
    }
}

/// Prints one JSON document into `sink`, failing on malformed input.
fn print(
    src: &str,
    style: JsonStyle,
    theme: &Theme,
    sink: &mut impl Sink,
) -> Result<(), Invalid> {
    let pretty = style == JsonStyle::Pretty;
    let mut parser = Parser::new(src);
    let mut depth = 0usize;
    // The top-level `level` / `severity` value shows in its level's style.
    let mut level_value = false;
    while let Some(item) = parser.next_item()? {
        let level_key = std::mem::take(&mut level_value);
        let closes_value = match item.event {
            Event::Key(raw) => {
                level_value = depth == 1
                    && matches!(
                        raw,
                        "level" | "severity" | "lvl" | "levelname"
                    );
                sink.span(|| string_span(raw, theme.key));
                sink.span(|| {
                    Span::styled(if pretty { ": " } else { ":" }, theme.punct)
                });
                false
            }
            Event::StartObject | Event::StartArray => {
                let object = item.event == Event::StartObject;
                let next = parser.peek()?.map(|i| i.event);
                if matches!(next, Some(Event::EndObject | Event::EndArray)) {
                    parser.next_item()?;
                    let empty = if object { "{}" } else { "[]" };
                    sink.span(|| Span::styled(empty, theme.punct));
                    true
                } else {
                    let open = if object { "{" } else { "[" };
                    sink.span(|| Span::styled(open, theme.punct));
                    depth += 1;
                    if pretty {
                        sink.newline(depth);
                    }
                    false
                }
            }
            Event::EndObject | Event::EndArray => {
                depth -= 1;
                let close = if item.event == Event::EndObject {
                    "}"
                } else {
                    "]"
                };
                sink.span(|| Span::styled(close, theme.punct));
                true
            }
            Event::Str(raw)
                if level_key && LogLevel::from_word(raw).is_some() =>
            {
                let level = LogLevel::from_word(raw).unwrap_or(LogLevel::Info);
                let style = theme.string.patch(theme.level(level));
                sink.span(|| string_span(raw, style));
                true
            }
            scalar => {
                sink.span(|| scalar_span(scalar, theme).unwrap_or_default());
                true
            }
        };
        if !closes_value {
            continue;
        }
        // What follows a finished value decides its comma and line break.
        match parser.peek()?.map(|i| i.event) {
            Some(Event::EndObject | Event::EndArray) if pretty => {
                sink.newline(depth - 1);
            }
            None | Some(Event::EndObject | Event::EndArray) => {}
            Some(_) => {
                sink.span(|| Span::styled(",", theme.punct));
                if pretty {
                    sink.newline(depth);
                }
            }
        }
    }
    Ok(())
}

/// One JSON message as styled lines, key order and number text as sent.
/// Anything that is not one valid JSON value is shown as text in the
/// warning style instead.
pub fn json_lines(
    raw: &[u8],
    style: JsonStyle,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if let Ok(src) = std::str::from_utf8(raw) {
        let mut sink = LineSink {
            lines: Vec::new(),
            current: Vec::with_capacity(8),
        };
        if print(src, style, theme, &mut sink).is_ok() {
            sink.lines.push(Line::from(sink.current));
            return sink.lines;
        }
    }
    sanitize::text_lines(raw)
        .into_iter()
        .map(|line| Line::styled(line, theme.warning))
        .collect()
}

/// How many lines [`json_lines`] gives for `raw`, without building them.
pub fn json_line_count(raw: &[u8], style: JsonStyle) -> usize {
    if let Ok(src) = std::str::from_utf8(raw) {
        let mut sink = CountSink(1);
        if print(src, style, &Theme::default(), &mut sink).is_ok() {
            return sink.0;
        }
    }
    sanitize::text_line_count(raw)
}

/// A text stream's message as lines (see [`sanitize::text_lines`]).
/// The line takes the style of the level it names, if it names one.
pub fn text_message_lines(raw: &[u8], theme: &Theme) -> Vec<Line<'static>> {
    let style = LogLevel::of_line(raw).map_or(Style::new(), |l| theme.level(l));
    sanitize::text_lines(raw)
        .into_iter()
        .map(|text| Line::styled(text, style))
        .collect()
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
