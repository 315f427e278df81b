//! Export: a range of a stream, read from the server, written to a file or
//! any writer in bounded memory. The explorer's export dialog, `dsx export`
//! and `dsx read --until-offset` / `--until-bookmark` all run this code.
//!
//! A range starts and ends at a [`Spot`]: an opaque offset the server gave
//! and a count of units (JSON messages, or bytes for other streams) after
//! it, the pair a bookmark holds. Offsets are only ever compared for
//! equality, so the end of a range is found by counting (`locate`): the
//! units between the start offset and the end offset are those a read from
//! the start holds up to a common offset, less those a read from the end
//! offset holds up to the same one.

mod file;
mod locate;

use std::io::{self, Write};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::client::{
    self, ByteChunk, DurableStream, LiveMode, Offset, RawJsonBatch, ReadMeta,
    ReadOptions,
};

pub use file::{partial_path, to_file};

/// A place in a stream: a server offset and the units after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spot {
    pub offset: Offset,
    /// Messages (JSON streams) or bytes (others) after `offset`.
    pub units: u64,
}

impl Spot {
    /// The spot at `offset` itself.
    pub fn at(offset: Offset) -> Spot {
        Spot { offset, units: 0 }
    }

    /// The spot just after a bookmarked message (or byte): a range that
    /// ends at a bookmark includes the bookmarked message.
    pub fn after_bookmark(offset: Offset, position: u64) -> Spot {
        Spot {
            offset,
            units: position.saturating_add(1),
        }
    }
}

/// Where a range stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// At the tail as the read finds it (up to date).
    Now,
    /// Just before this spot.
    At(Spot),
}

/// A range to export: from a spot (included) to an end (excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: Spot,
    pub end: End,
}

impl Range {
    /// The whole stream as it is now.
    pub fn whole() -> Range {
        Range {
            from: Spot::at(Offset::START),
            end: End::Now,
        }
    }
}

/// How messages are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON message per line (JSON streams only).
    Ndjson,
    /// The bytes as the server sends them.
    Raw,
}

impl Format {
    /// The file name extension that goes with the format.
    pub fn extension(self, json: bool) -> &'static str {
        match (self, json) {
            (Format::Ndjson, _) => "ndjson",
            (Format::Raw, true) => "json",
            (Format::Raw, false) => "bin",
        }
    }
}

/// What was written so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub messages: u64,
    /// Content bytes read (before any line joining).
    pub bytes: u64,
    /// Units (messages, or bytes) the range holds, once known (a range
    /// to the tail does not know).
    pub expected: Option<u64>,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub counts: Counts,
    /// Where the range started.
    pub from: Spot,
    /// Where it ended: the end spot, or the tail offset reached.
    pub to: Spot,
}

/// Why an export stopped short.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Read(#[from] client::Error),
    #[error("writing the export: {0}")]
    Write(#[from] io::Error),
    #[error("the export was cancelled")]
    Cancelled,
    /// The file exists and replacing it was not asked for.
    #[error("{} already exists", .0.display())]
    Exists(std::path::PathBuf),
    /// The range cannot be exported as asked (reversed, past the tail, a
    /// format that cannot cut it).
    #[error("{0}")]
    Range(String),
}

pub type Result<T> = std::result::Result<T, ExportError>;

/// Exports `range` of `stream` (`json`: whether it is a JSON stream) to
/// `out`. `progress` is called after each piece written (the caller
/// throttles what it shows). Stops early when `cancel` fires.
pub async fn export(
    stream: &DurableStream,
    json: bool,
    range: &Range,
    format: Format,
    out: &mut impl Write,
    cancel: &CancellationToken,
    mut progress: impl FnMut(Counts),
) -> Result<Written> {
    check(json, range, format)?;
    let limit = match &range.end {
        End::Now => None,
        End::At(end) => {
            let before = if end.offset == range.from.offset {
                0
            } else {
                locate::units_between(
                    stream,
                    json,
                    &range.from.offset,
                    &end.offset,
                    cancel,
                )
                .await?
            };
            let total = before.checked_add(end.units).ok_or_else(reversed)?;
            Some(total.checked_sub(range.from.units).ok_or_else(reversed)?)
        }
    };
    let options = ReadOptions {
        offset: range.from.offset.clone(),
        live: LiveMode::Off,
        ..ReadOptions::default()
    };
    let mut copy = Copy {
        skip: range.from.units,
        left: limit,
        counts: Counts {
            expected: limit,
            ..Counts::default()
        },
        last: range.from.offset.clone(),
    };
    if json && format == Format::Ndjson {
        let mut items = stream.read_json_raw(options);
        while copy.left != Some(0) {
            let Some(batch) = next(&mut items, cancel).await? else {
                break;
            };
            let batch = batch?;
            copy.json(&batch, out)?;
            progress(copy.counts);
            if copy.done(&batch.meta) {
                break;
            }
        }
    } else {
        let mut items = stream.read_bytes(options);
        while copy.left != Some(0) {
            let Some(chunk) = next(&mut items, cancel).await? else {
                break;
            };
            let chunk = chunk?;
            copy.bytes(&chunk, out)?;
            progress(copy.counts);
            if copy.done(&chunk.meta) {
                break;
            }
        }
    }
    out.flush()?;
    let to = match (&range.end, copy.left) {
        (End::At(end), Some(0)) => end.clone(),
        (End::At(_), _) => {
            return Err(ExportError::Range(
                "the stream ends before the end of the range".into(),
            ));
        }
        (End::Now, _) => Spot::at(copy.last),
    };
    Ok(Written {
        counts: copy.counts,
        from: range.from.clone(),
        to,
    })
}

fn reversed() -> ExportError {
    ExportError::Range("the end of the range comes before its start".into())
}

/// Refuses what a format cannot cut: a JSON stream's raw bytes are whole
/// server responses (JSON arrays), so they can only be exported from a
/// response's start to the tail.
fn check(json: bool, range: &Range, format: Format) -> Result<()> {
    match format {
        Format::Ndjson if !json => Err(ExportError::Range(
            "NDJSON needs a JSON stream; export raw bytes instead".into(),
        )),
        Format::Raw
            if json && (range.from.units > 0 || range.end != End::Now) =>
        {
            Err(ExportError::Range(
                "a JSON stream's raw bytes come in whole batches: export \
                 a range that starts or ends at a bookmark as NDJSON"
                    .into(),
            ))
        }
        _ => Ok(()),
    }
}

/// The next item of a read, or `Cancelled`.
async fn next<T>(
    items: &mut (impl futures::Stream<Item = T> + Unpin),
    cancel: &CancellationToken,
) -> Result<Option<T>> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(ExportError::Cancelled),
        item = items.next() => Ok(item),
    }
}

/// The copy of one read into the writer: units still to skip and to write.
struct Copy {
    skip: u64,
    /// Units still to write (`None`: to the tail).
    left: Option<u64>,
    counts: Counts,
    /// The last resumable offset read through.
    last: Offset,
}

impl Copy {
    /// How many of `units` to skip and to write.
    fn take(&mut self, units: u64) -> (u64, u64) {
        let skipped = self.skip.min(units);
        self.skip -= skipped;
        let rest = units - skipped;
        let write = self.left.map_or(rest, |left| left.min(rest));
        if let Some(left) = &mut self.left {
            *left -= write;
        }
        (skipped, write)
    }

    fn json(
        &mut self,
        batch: &RawJsonBatch,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let (skipped, write) = self.take(batch.len() as u64);
        #[allow(clippy::cast_possible_truncation, reason = "bounded by len")]
        let (from, count) = (skipped as usize, write as usize);
        for item in batch.items().skip(from).take(count) {
            if has_line_break(item) {
                out.write_all(&one_line(item))?;
            } else {
                out.write_all(item)?;
            }
            out.write_all(b"\n")?;
            self.counts.bytes += item.len() as u64;
        }
        self.counts.messages += write;
        Ok(())
    }

    fn bytes(
        &mut self,
        chunk: &ByteChunk,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let (skipped, write) = self.take(chunk.data.len() as u64);
        #[allow(clippy::cast_possible_truncation, reason = "bounded by len")]
        let (from, count) = (skipped as usize, write as usize);
        out.write_all(&chunk.data[from..from + count])?;
        self.counts.bytes += write;
        Ok(())
    }

    /// Notes the item's position; whether the read is over.
    fn done(&mut self, meta: &ReadMeta) -> bool {
        if meta.is_resumable() {
            self.last = meta.offset.clone();
        }
        !meta.partial && (meta.up_to_date || meta.stream_closed)
    }
}

/// `message` without its `\n` and `\r` bytes. In valid JSON those can only
/// be whitespace between tokens (inside strings they must be escaped), so
/// dropping them keeps the value, its key order and its numbers exactly.
pub fn one_line(message: &[u8]) -> Vec<u8> {
    message
        .iter()
        .copied()
        .filter(|&b| b != b'\n' && b != b'\r')
        .collect()
}

/// Whether `data` holds a line break.
pub fn has_line_break(data: &[u8]) -> bool {
    data.iter().any(|&b| b == b'\n' || b == b'\r')
}

#[cfg(test)]
mod tests;
