//! Incremental SSE parser: bytes in, events out.
//!
//! Lines end at CRLF, LF or CR (a CRLF split across two network chunks is
//! still one line end); U+0085, U+2028 and U+2029 are data. A field value
//! loses exactly one leading space. `data:` lines are joined with `\n`.
//! Comments, `id:`, `retry:` and unknown fields are ignored.
//!
//! The payload of an `event: data` event can be as large as the whole stream
//! (a server may send a catch-up as one event, on one line), so once the
//! event type `data` is known its payload is *streamed* out as it arrives
//! instead of being buffered; other events (control, unknown) are buffered
//! up to a limit. The parser works on whole runs of bytes between line ends,
//! so the cost per byte is a scan and at most one copy.

use bytes::{Bytes, BytesMut};

/// The event whose payload is streamed rather than buffered.
const STREAMED_EVENT: &[u8] = b"data";

/// Largest buffered (non-streamed) event payload.
const DEFAULT_MAX_BUFFERED: usize = 16 * 1024 * 1024;

/// Longest field name or `event:` value kept; the rest is ignored.
const MAX_FIELD: usize = 256;

/// One complete event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` type; `message` when absent.
    pub event: String,
    /// The joined `data:` lines, unless the payload was streamed.
    pub data: Bytes,
    /// The payload came before as [`SseOutput::Data`].
    pub streamed: bool,
}

/// What feeding bytes produces, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SseOutput {
    /// More payload of the current (streamed) `data` event.
    Data(Bytes),
    /// An event ended (at its blank line).
    Event(SseEvent),
}

/// The parser's state between calls.
#[derive(Debug)]
pub(crate) struct SseParser {
    state: LineState,
    /// Last byte seen was CR: a following LF belongs to the same line end.
    after_cr: bool,
    /// The field name being read, then the value of a kept small field.
    field: Vec<u8>,
    /// Event type of the current event, if an `event:` line was seen.
    event_type: Option<Vec<u8>>,
    /// Any field of the current event was seen (decides dispatch).
    has_fields: bool,
    data_lines: usize,
    mode: DataMode,
    /// Buffered payload of a non-streamed event.
    data: BytesMut,
    /// Streamed payload not yet handed out.
    streamed: BytesMut,
    max_buffered: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineState {
    /// Reading the field name (into `field`).
    Field,
    /// Reading a value; `at_start` until the optional space is dropped.
    Value { target: Target, at_start: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Event,
    DataBuffered,
    DataStreamed,
    Ignored,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataMode {
    Undecided,
    Buffered,
    Streamed,
}

/// The event payload outgrew the buffer limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseTooLarge(pub usize);

impl Default for SseParser {
    fn default() -> Self {
        SseParser::new()
    }
}

impl SseParser {
    pub fn new() -> Self {
        SseParser::with_limit(DEFAULT_MAX_BUFFERED)
    }

    pub fn with_limit(max_buffered: usize) -> Self {
        SseParser {
            state: LineState::Field,
            after_cr: false,
            field: Vec::new(),
            event_type: None,
            has_fields: false,
            data_lines: 0,
            mode: DataMode::Undecided,
            data: BytesMut::new(),
            streamed: BytesMut::new(),
            max_buffered,
        }
    }

    /// Parses `input`, appending what it completes to `out`.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<SseOutput>,
    ) -> Result<(), SseTooLarge> {
        if self.after_cr && input.first() == Some(&b'\n') {
            input = &input[1..];
        }
        self.after_cr = false;
        while !input.is_empty() {
            let Some(end) =
                input.iter().position(|&b| b == b'\n' || b == b'\r')
            else {
                self.segment(input)?;
                break;
            };
            self.segment(&input[..end])?;
            self.end_line(out)?;
            let cr = input[end] == b'\r';
            input = &input[end + 1..];
            if cr {
                match input.first() {
                    Some(b'\n') => input = &input[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.flush_streamed(out);
        Ok(())
    }

    /// Bytes of one line, without line ends.
    fn segment(&mut self, mut seg: &[u8]) -> Result<(), SseTooLarge> {
        while !seg.is_empty() {
            match self.state {
                LineState::Field => {
                    let Some(colon) = seg.iter().position(|&b| b == b':')
                    else {
                        self.push_field(seg);
                        return Ok(());
                    };
                    self.push_field(&seg[..colon]);
                    self.start_value()?;
                    seg = &seg[colon + 1..];
                }
                LineState::Value { target, at_start } => {
                    if at_start {
                        if seg[0] == b' ' {
                            seg = &seg[1..];
                        }
                        self.state = LineState::Value {
                            target,
                            at_start: false,
                        };
                        continue;
                    }
                    self.push_value(target, seg)?;
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn push_field(&mut self, bytes: &[u8]) {
        let room = MAX_FIELD.saturating_sub(self.field.len());
        self.field
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// The field name is complete (a colon was seen).
    fn start_value(&mut self) -> Result<(), SseTooLarge> {
        let target = self.begin_field()?;
        self.field.clear();
        self.state = LineState::Value {
            target,
            at_start: true,
        };
        Ok(())
    }

    /// Registers the field in `self.field` and says where its value goes.
    /// The `\n` joining buffered data lines counts against the limit too:
    /// an event of nothing but empty `data` lines must not grow unbounded.
    fn begin_field(&mut self) -> Result<Target, SseTooLarge> {
        match self.field.as_slice() {
            // An empty name is a comment; `id`, `retry` and unknown
            // fields are ignored too (see the wildcard arm).
            b"event" => {
                self.has_fields = true;
                Ok(Target::Event)
            }
            b"data" => {
                self.has_fields = true;
                if self.mode == DataMode::Undecided {
                    let streamed =
                        self.event_type.as_deref() == Some(STREAMED_EVENT);
                    self.mode = if streamed {
                        DataMode::Streamed
                    } else {
                        DataMode::Buffered
                    };
                }
                let first = self.data_lines == 0;
                self.data_lines += 1;
                if self.mode == DataMode::Streamed {
                    if !first {
                        self.streamed.extend_from_slice(b"\n");
                    }
                    Ok(Target::DataStreamed)
                } else {
                    if !first {
                        if self.data.len() >= self.max_buffered {
                            return Err(SseTooLarge(self.max_buffered));
                        }
                        self.data.extend_from_slice(b"\n");
                    }
                    Ok(Target::DataBuffered)
                }
            }
            _ => Ok(Target::Ignored),
        }
    }

    fn push_value(
        &mut self,
        target: Target,
        seg: &[u8],
    ) -> Result<(), SseTooLarge> {
        match target {
            Target::Event => {
                let room = MAX_FIELD.saturating_sub(self.field.len());
                self.field.extend_from_slice(&seg[..seg.len().min(room)]);
            }
            Target::DataStreamed => self.streamed.extend_from_slice(seg),
            Target::DataBuffered => {
                if self.data.len() + seg.len() > self.max_buffered {
                    return Err(SseTooLarge(self.max_buffered));
                }
                self.data.extend_from_slice(seg);
            }
            Target::Ignored => {}
        }
        Ok(())
    }

    fn end_line(
        &mut self,
        out: &mut Vec<SseOutput>,
    ) -> Result<(), SseTooLarge> {
        match self.state {
            LineState::Field if self.field.is_empty() => self.dispatch(out),
            LineState::Field => {
                // A field with no colon: the whole line is the name and the
                // value is empty.
                let target = self.begin_field()?;
                if target == Target::Event {
                    self.event_type = Some(Vec::new());
                }
            }
            LineState::Value { target, .. } => {
                if target == Target::Event {
                    self.event_type = Some(std::mem::take(&mut self.field));
                }
            }
        }
        self.field.clear();
        self.state = LineState::Field;
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseOutput>) {
        if self.has_fields {
            self.flush_streamed(out);
            let event = match self.event_type.take() {
                Some(t) => String::from_utf8_lossy(&t).into_owned(),
                None => "message".to_owned(),
            };
            out.push(SseOutput::Event(SseEvent {
                event,
                data: self.data.split().freeze(),
                streamed: self.mode == DataMode::Streamed,
            }));
        }
        self.event_type = None;
        self.has_fields = false;
        self.data_lines = 0;
        self.mode = DataMode::Undecided;
        self.data.clear();
    }

    fn flush_streamed(&mut self, out: &mut Vec<SseOutput>) {
        if !self.streamed.is_empty() {
            out.push(SseOutput::Data(self.streamed.split().freeze()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in the given pieces and merges adjacent data outputs,
    /// so that results compare independently of the split.
    fn parse_pieces(pieces: &[&[u8]]) -> Vec<SseOutput> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for piece in pieces {
            parser.feed(piece, &mut out).unwrap();
        }
        merge(out)
    }

    fn merge(out: Vec<SseOutput>) -> Vec<SseOutput> {
        let mut merged: Vec<SseOutput> = Vec::new();
        for item in out {
            if let (Some(SseOutput::Data(prev)), SseOutput::Data(next)) =
                (merged.last_mut(), &item)
            {
                let mut joined = prev.to_vec();
                joined.extend_from_slice(next);
                *prev = Bytes::from(joined);
                continue;
            }
            merged.push(item);
        }
        merged
    }

    fn event(kind: &str, data: &str) -> SseOutput {
        SseOutput::Event(SseEvent {
            event: kind.into(),
            data: Bytes::copy_from_slice(data.as_bytes()),
            streamed: false,
        })
    }

    fn streamed(data: &str) -> Vec<SseOutput> {
        vec![
            SseOutput::Data(Bytes::copy_from_slice(data.as_bytes())),
            SseOutput::Event(SseEvent {
                event: "data".into(),
                data: Bytes::new(),
                streamed: true,
            }),
        ]
    }

    const SAMPLE: &str = "event: data\ndata:[\ndata: {\"k\":\"v\"},\r\ndata:  two\rdata\n\n\
        : a comment\nid: 7\nretry: 10\nevent: control\ndata: {\"streamNextOffset\":\"1_2\"}\r\n\r\n\
        event: mystery\ndata: x\n\n";

    fn sample_expected() -> Vec<SseOutput> {
        let mut want = streamed("[\n{\"k\":\"v\"},\n two\n");
        want.push(event("control", "{\"streamNextOffset\":\"1_2\"}"));
        want.push(event("mystery", "x"));
        want
    }

    #[test]
    fn parses_whole_input() {
        assert_eq!(parse_pieces(&[SAMPLE.as_bytes()]), sample_expected());
    }

    #[test]
    fn split_at_every_boundary() {
        let bytes = SAMPLE.as_bytes();
        for cut in 0..=bytes.len() {
            let got = parse_pieces(&[&bytes[..cut], &bytes[cut..]]);
            assert_eq!(got, sample_expected(), "cut at {cut}");
        }
    }

    #[test]
    fn byte_by_byte() {
        let pieces: Vec<&[u8]> = SAMPLE.as_bytes().chunks(1).collect();
        assert_eq!(parse_pieces(&pieces), sample_expected());
    }

    #[test]
    fn line_end_variants() {
        for text in [
            "event:control\ndata:a\ndata:b\n\n",
            "event:control\r\ndata:a\r\ndata:b\r\n\r\n",
            "event:control\rdata:a\rdata:b\r\r",
        ] {
            let bytes = text.as_bytes();
            for cut in 0..=bytes.len() {
                assert_eq!(
                    parse_pieces(&[&bytes[..cut], &bytes[cut..]]),
                    vec![event("control", "a\nb")],
                    "{text:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn one_leading_space_only() {
        assert_eq!(
            parse_pieces(&[b"event: control\ndata:  two spaces\n\n"]),
            vec![event("control", " two spaces")]
        );
        assert_eq!(
            parse_pieces(&[b"event: data\ndata:", b"  two\n\n"]),
            streamed(" two")
        );
    }

    #[test]
    fn unicode_separators_are_data() {
        let text = "event: data\ndata: a\u{2028}b\u{85}c\u{2029}\n\n";
        assert_eq!(
            parse_pieces(&[text.as_bytes()]),
            streamed("a\u{2028}b\u{85}c\u{2029}")
        );
    }

    #[test]
    fn empty_control_is_dispatched() {
        assert_eq!(
            parse_pieces(&[b"event: control\ndata: \n\n"]),
            vec![event("control", "")]
        );
        assert_eq!(
            parse_pieces(&[b"event: control\n\n"]),
            vec![event("control", "")]
        );
        // Blank lines alone dispatch nothing.
        assert_eq!(parse_pieces(&[b"\n\n\r\n: hi\n\n"]), vec![]);
    }

    #[test]
    fn data_before_event_type_is_buffered() {
        assert_eq!(
            parse_pieces(&[b"data: x\nevent: data\ndata: y\n\n"]),
            vec![event("data", "x\ny")]
        );
        assert_eq!(
            parse_pieces(&[b"data: m\n\n"]),
            vec![event("message", "m")]
        );
    }

    #[test]
    fn base64_lines_join() {
        assert_eq!(
            parse_pieces(&[b"event: data\ndata: AQIDBAUG\ndata: BwgJCg==\n\n"]),
            streamed("AQIDBAUG\nBwgJCg==")
        );
    }

    #[test]
    fn buffered_limit() {
        let mut parser = SseParser::with_limit(4);
        let mut out = Vec::new();
        assert!(
            parser
                .feed(b"event: control\ndata: 12345\n\n", &mut out)
                .is_err()
        );
        // Streamed data has no limit.
        let mut parser = SseParser::with_limit(4);
        assert!(
            parser
                .feed(b"event: data\ndata: 12345\n\n", &mut out)
                .is_ok()
        );
    }

    #[test]
    fn empty_data_lines_count_against_the_buffer_limit() {
        // Found by the `sse` fuzz target: the `\n` joining data lines was
        // added unchecked, so an event of empty `data` lines grew past any
        // limit.
        let mut parser = SseParser::with_limit(8);
        let mut out = Vec::new();
        let lines = b"data\n".repeat(20);
        assert_eq!(parser.feed(&lines, &mut out), Err(SseTooLarge(8)));
        let mut parser = SseParser::with_limit(8);
        assert_eq!(parser.feed(b"data\ndata\n\n", &mut out), Ok(()));
        assert!(matches!(
            out.as_slice(),
            [SseOutput::Event(e)] if e.data.as_ref() == b"\n"
        ));
    }
}
