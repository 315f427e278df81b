//! Where an end offset lies, by counting and equality only: how many units
//! (JSON messages, or bytes) a read from `start` holds before `end`.
//!
//! A read from `start` may pass `end` inside one of its responses (the
//! server cuts responses where it likes), so equality alone does not find
//! it. But the data from `end` on is the tail of the data from `start` on:
//! when a read from `start` and a read from `end` both stop at the same
//! offset, the units between `start` and `end` are the difference of their
//! counts. Each round reads one side up to the offset the other reached
//! (or to the tail); a stream that keeps growing may need a few rounds.

use tokio_util::sync::CancellationToken;

use super::{ExportError, Result, next};
use crate::client::{DurableStream, LiveMode, Offset, ReadMeta, ReadOptions};

/// Rounds before giving up on a stream that grows faster than it is read.
const ROUNDS: usize = 6;

/// Units between `start` and `end` (`start != end`).
pub(super) async fn units_between(
    stream: &DurableStream,
    json: bool,
    start: &Offset,
    end: &Offset,
    cancel: &CancellationToken,
) -> Result<u64> {
    // From `start`: stop at `end` itself (the count is the answer), or at
    // the tail.
    let mut from_start =
        count(stream, json, start, std::slice::from_ref(end), cancel).await?;
    if from_start.hit == Some(0) {
        return Ok(from_start.units);
    }
    for _ in 0..ROUNDS {
        // From `end` up to where the read from `start` stopped.
        let from_end =
            count(stream, json, end, &[from_start.last.clone()], cancel)
                .await?;
        if from_end.hit == Some(0) {
            return difference(from_start.units, from_end.units);
        }
        // The read from `end` went further (the stream grew): read from
        // `start` again, up to `end` or where that read stopped.
        from_start = count(
            stream,
            json,
            start,
            &[end.clone(), from_end.last.clone()],
            cancel,
        )
        .await?;
        match from_start.hit {
            Some(0) => return Ok(from_start.units),
            Some(_) => return difference(from_start.units, from_end.units),
            None => {}
        }
    }
    Err(ExportError::Range(
        "the stream grows too fast to find where the range ends; export to \
         now instead"
            .into(),
    ))
}

fn difference(from_start: u64, from_end: u64) -> Result<u64> {
    from_start.checked_sub(from_end).ok_or_else(super::reversed)
}

/// A counting read's result.
struct Count {
    units: u64,
    /// Which stop offset it reached, if any.
    hit: Option<usize>,
    /// The last resumable offset (the tail, when no stop was hit).
    last: Offset,
}

/// Counts units from `from` until a resumable offset equals one of
/// `stops`, or the read is up to date.
async fn count(
    stream: &DurableStream,
    json: bool,
    from: &Offset,
    stops: &[Offset],
    cancel: &CancellationToken,
) -> Result<Count> {
    let options = ReadOptions {
        offset: from.clone(),
        live: LiveMode::Off,
        ..ReadOptions::default()
    };
    let mut tally = Tally {
        units: 0,
        last: from.clone(),
    };
    if json {
        let mut items = stream.read_json_raw(options);
        while let Some(item) = next(&mut items, cancel).await? {
            let batch = item?;
            if let Some(done) =
                tally.add(batch.len() as u64, &batch.meta, stops)
            {
                return Ok(done);
            }
        }
    } else {
        let mut items = stream.read_bytes(options);
        while let Some(item) = next(&mut items, cancel).await? {
            let chunk = item?;
            let units = chunk.data.len() as u64;
            if let Some(done) = tally.add(units, &chunk.meta, stops) {
                return Ok(done);
            }
        }
    }
    Ok(Count {
        units: tally.units,
        hit: None,
        last: tally.last,
    })
}

struct Tally {
    units: u64,
    last: Offset,
}

impl Tally {
    /// Adds an item; the result once a stop or the tail is reached.
    fn add(
        &mut self,
        units: u64,
        meta: &ReadMeta,
        stops: &[Offset],
    ) -> Option<Count> {
        self.units += units;
        if !meta.is_resumable() {
            return None;
        }
        self.last = meta.offset.clone();
        let hit = stops.iter().position(|stop| *stop == meta.offset);
        if hit.is_some() || meta.up_to_date || meta.stream_closed {
            return Some(Count {
                units: self.units,
                hit,
                last: self.last.clone(),
            });
        }
        None
    }
}
