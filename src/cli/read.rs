//! `dsx read`: a stream to stdout, caught up or live, without holding it in
//! memory: each batch is written as it arrives and dropped.

use std::io;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::{Stream, StreamExt};

use super::exit::{Interrupted, NotFoundError, describe, usage};
use super::output::{
    Out, escape_controls, is_closed_pipe, reader_gone, shown_url,
};
use super::print::{self, Batches, Jq};
use super::progress::Progress;
use super::{Context, is_json};
use crate::bookmarks::Bookmarks;
use crate::client::{
    self, ByteChunk, ByteStream, DurableStream, LiveMode, Offset, RawJsonBatch,
    RawJsonStream, ReadMeta, ReadOptions,
};
use crate::jq::Filter;

/// `--live`: how to wait for new data once caught up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Live {
    /// Catch up and stop.
    Off,
    /// SSE for JSON and text streams, long-poll otherwise.
    Auto,
    LongPoll,
    Sse,
}

/// `--until`: when a read stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Until {
    /// After the first batch that reaches the tail.
    UpToDate,
    /// When the stream is closed (or on Ctrl-C).
    Closed,
}

/// `--format`: how the stream is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The bytes as stored (a JSON stream's batches as JSON arrays).
    Raw,
    /// One JSON message per line (JSON streams).
    Ndjson,
    /// One JSON object per batch: its offset, up-to-date and closed flags
    /// and its messages (or its data, for other streams).
    Batches,
}

/// `dsx read`: print a stream to stdout.
#[derive(Clone, Debug, clap::Args)]
#[command(after_help = "\
Without --format, JSON streams print as ndjson and others as raw bytes. \
Without --live, the read catches up and stops (--until closed, or -f, \
follow it live instead). Ctrl-C stops a read after flushing what arrived \
(exit 130); a closed pipe (dsx read s | head) stops it quietly (exit 0).

A live read (-f, --live, --until closed) rides out outages: when the \
server cannot be reached or answers 5xx/429 (after the client's own quick \
retries), it says so on stderr and reconnects after 0.5 s, 1 s, 2 s, ... \
up to 10 s between tries, resuming after the last message it printed (none \
is printed twice or skipped). It gives up, exit 4 or 5, once the outage \
has lasted --retry-for (default 15m; forever never gives up; 0 gives up at \
the first failure). A catch-up read fails at once.")]
pub struct ReadArgs {
    /// Stream path (relative to the base URL) or full URL.
    pub stream: String,
    /// Where to start: -1 (the beginning, default), now (the tail), or an
    /// offset from an earlier read.
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Start at a bookmark saved in the explorer for this stream.
    #[arg(long, value_name = "NAME", conflicts_with = "from")]
    pub from_bookmark: Option<String>,
    /// Wait for new data once caught up (default: off).
    #[arg(long, value_enum)]
    pub live: Option<Live>,
    /// Follow the stream live (same as --live auto).
    #[arg(short = 'f', long, conflicts_with = "live")]
    pub follow: bool,
    /// When to stop (default: up-to-date with --live off, else closed).
    #[arg(long, value_enum)]
    pub until: Option<Until>,
    /// Output format (default: ndjson for JSON streams, else raw).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Apply a jq filter to each JSON message; print each result on its
    /// own line (--format ndjson, the default), or with --format batches
    /// the results of each batch in its "messages" (raw does not combine
    /// with it). A message the filter fails on is skipped and reported
    /// (the first five; the rest are counted), and the read exits 5.
    #[arg(long, value_name = "FILTER")]
    pub jq: Option<String>,
    /// Live reads: how long an outage may last before the read gives up
    /// (for example 30s, 10m, 2h, forever; default 15m).
    #[arg(long, value_name = "DURATION|forever", value_parser = parse_retry_for)]
    pub retry_for: Option<RetryFor>,
    /// Where a catch-up read stops (`--until-offset`, `--until-bookmark`):
    /// the same range `dsx export` writes to a file.
    #[command(flatten)]
    pub end: super::export::UntilArgs,
}

/// `--retry-for`: how long a live read keeps reconnecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryFor {
    For(Duration),
    Forever,
}

/// The default `--retry-for`.
const RETRY_FOR: Duration = Duration::from_mins(15);
/// The pause before each reconnect: 0.5 s doubling up to 10 s.
const RECONNECT: client::RetryPolicy = client::RetryPolicy::doubling(
    Duration::from_millis(500),
    Duration::from_secs(10),
);

/// `forever`, or a number with an optional unit: ms, s (default), m, h.
fn parse_retry_for(text: &str) -> Result<RetryFor, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("forever") {
        return Ok(RetryFor::Forever);
    }
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| {
        format!(
            "{text:?}: expected a duration such as 30s, 10m, 2h, or forever"
        )
    })?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(number),
        "" | "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    Ok(RetryFor::For(duration))
}

/// A live read's reconnects: the pause before each, and when to give up.
struct Reconnects {
    limit: RetryFor,
    /// When the current outage began, and the tries so far.
    outage: Option<(Instant, u32)>,
}

impl Reconnects {
    fn new(limit: RetryFor) -> Reconnects {
        Reconnects {
            limit,
            outage: None,
        }
    }

    /// Whether `err` is worth another connection: the server could not be
    /// reached, timed out, was overloaded or failed (5xx), or sent a body
    /// that could not be decoded.
    fn may_retry(err: &client::Error) -> bool {
        err.is_retryable() || err.is_decode()
    }

    /// The pause before the next try after `err`, or `None` to give up.
    fn next(&mut self, err: &client::Error) -> Option<(u32, Duration)> {
        if !Self::may_retry(err) {
            return None;
        }
        let now = Instant::now();
        let (since, tries) = self.outage.get_or_insert((now, 0));
        if let RetryFor::For(limit) = self.limit
            && now.duration_since(*since) >= limit
        {
            return None;
        }
        *tries += 1;
        Some((*tries, RECONNECT.backoff(*tries)))
    }

    /// Data arrived: the outage, if any, is over. Returns its tries.
    fn recovered(&mut self) -> Option<u32> {
        self.outage.take().map(|(_, tries)| tries)
    }
}

/// The live mode and stop condition a read runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    live: LiveMode,
    until: Until,
}

impl Plan {
    fn of(args: &ReadArgs) -> anyhow::Result<Plan> {
        let live = args.live.or(args.follow.then_some(Live::Auto));
        let live = match (live, args.until) {
            (Some(Live::Off), Some(Until::Closed)) => {
                return Err(usage(
                    "--until closed needs a live mode: --live auto, \
                     long-poll or sse",
                ));
            }
            (Some(live), _) => live,
            (None, Some(Until::Closed)) => Live::Auto,
            (None, _) => Live::Off,
        };
        let live = match live {
            Live::Off => LiveMode::Off,
            Live::Auto => LiveMode::Auto,
            Live::LongPoll => LiveMode::LongPoll,
            Live::Sse => LiveMode::Sse,
        };
        let until = args.until.unwrap_or(if live == LiveMode::Off {
            Until::UpToDate
        } else {
            Until::Closed
        });
        Ok(Plan { live, until })
    }
}

/// The HEAD before a read. A live read waits for a server that is down or
/// restarting as it would mid-read (the same backoff and `--retry-for`,
/// each try said on stderr); a catch-up read, or an answer that cannot
/// change (404, 401, ...), fails at once.
async fn first_head(
    stream: &DurableStream,
    live: bool,
    retry_for: RetryFor,
) -> anyhow::Result<client::StreamMetadata> {
    let mut reconnects = Reconnects::new(retry_for);
    loop {
        match stream.head().await {
            Ok(meta) => {
                if let Some(tries) = reconnects.recovered() {
                    eprintln!(
                        "dsx: reached {} after {tries} attempt(s)",
                        shown_url(stream.url().as_str())
                    );
                }
                return Ok(meta);
            }
            Err(e) => {
                let retry = if live { reconnects.next(&e) } else { None };
                let Some((attempt, pause)) = retry else {
                    return Err(with_body(stream, e).await.into());
                };
                eprintln!(
                    "dsx: cannot reach {}: {}; trying again (attempt \
                     {attempt}) in {:.1}s",
                    shown_url(stream.url().as_str()),
                    describe(&anyhow::Error::new(e)),
                    pause.as_secs_f64(),
                );
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// Runs `dsx read`.
pub async fn run(ctx: &Context, args: ReadArgs) -> anyhow::Result<()> {
    if args.end.is_set() {
        return read_range(ctx, &args).await;
    }
    let plan = Plan::of(&args)?;
    if args.jq.is_some() && args.format == Some(Format::Raw) {
        return Err(usage(
            "--jq cannot be used with --format raw: it prints JSON, each \
             result on its own line (--format ndjson, the default) or in its \
             batch (--format batches)",
        ));
    }
    let filter = match &args.jq {
        Some(src) => Some(
            Filter::compile(src)
                .map_err(|e| usage(format!("--jq {src:?}: {e}")))?,
        ),
        None => None,
    };
    let stream = ctx.stream(&args.stream)?;
    let (offset, skip) = start_offset(&args, &stream)?;
    // Raw output needs no content type (unless a bookmark's position must
    // be counted); every other format depends on whether the stream is
    // JSON (and the HEAD finds a missing stream before any output).
    let json = if args.format == Some(Format::Raw) && skip == 0 {
        false
    } else {
        let retry_for = args.retry_for.unwrap_or(RetryFor::For(RETRY_FOR));
        let live = plan.live != LiveMode::Off;
        let meta = first_head(&stream, live, retry_for).await?;
        meta.content_type.as_deref().is_some_and(is_json)
    };
    if skip > 0 && json && args.format == Some(Format::Raw) {
        return Err(usage(format!(
            "the bookmark is message {} of its batch and --format raw \
             prints whole batches: use --format ndjson (the default) or \
             batches",
            skip + 1
        )));
    }
    let json_skip = if json { skip } else { 0 };
    let byte_skip = if json { 0 } else { skip };
    let format =
        args.format
            .unwrap_or(if json { Format::Ndjson } else { Format::Raw });
    if (filter.is_some() || format == Format::Ndjson) && !json {
        let what = if filter.is_some() {
            "--jq"
        } else {
            "--format ndjson"
        };
        return Err(usage(format!(
            "{what} needs a JSON stream; {} is not (use --format raw)",
            stream.url()
        )));
    }
    let at = |offset: Offset| ReadOptions {
        offset,
        live: plan.live,
        ..ReadOptions::default()
    };
    // A bookmark's position is skipped by the first session only: a
    // reconnect resumes after what was printed.
    let json_skip = std::cell::Cell::new(json_skip);
    let byte_skip = std::cell::Cell::new(byte_skip);
    let json_at = |offset| {
        skip_messages(stream.read_json_raw(at(offset)), json_skip.take())
    };
    let bytes_at =
        |offset| skip_bytes(stream.read_bytes(at(offset)), byte_skip.take());
    let mut out = Out::stdout();
    let progress = Progress::new("read", !out.is_terminal());
    let mut reader = Reader {
        plan,
        out: &mut out,
        progress,
        start: offset,
        reconnects: Reconnects::new(
            args.retry_for.unwrap_or(RetryFor::For(RETRY_FOR)),
        ),
        url: shown_url(stream.url().as_str()),
    };
    if let Some(filter) = filter {
        let mut jq = Jq::new(filter);
        if args.format == Some(Format::Batches) {
            let mut batches = Batches::default();
            reader
                .pump(json_at, |b, out| batches.jq(&mut jq, b, out), count_json)
                .await?;
        } else {
            reader
                .pump(json_at, |b, out| jq.batch(b, out), count_json)
                .await?;
        }
        if jq.failures > 0 {
            let unshown = match jq.unshown() {
                0 => String::new(),
                n => format!(" ({n} of them not shown above)"),
            };
            anyhow::bail!(
                "the jq filter failed on {} message(s){unshown}; the other \
                 messages were printed",
                jq.failures
            );
        }
        return Ok(());
    }
    match (format, json) {
        (Format::Raw, _) => {
            reader.progress = reader.progress.bytes_only();
            reader.pump(bytes_at, print::raw, count_bytes).await
        }
        (Format::Ndjson, _) => {
            reader.pump(json_at, print::ndjson, count_json).await
        }
        (Format::Batches, true) => {
            let mut batches = Batches::default();
            reader
                .pump(json_at, |b, out| batches.json(b, out), count_json)
                .await
        }
        (Format::Batches, false) => {
            let mut batches = Batches::default();
            reader
                .pump(bytes_at, |c, out| batches.bytes(c, out), count_bytes)
                .await
        }
    }
}

/// `dsx read` up to an offset or a bookmark: a catch-up read of a range,
/// by the export's code.
async fn read_range(ctx: &Context, args: &ReadArgs) -> anyhow::Result<()> {
    let live = args.live.is_some_and(|l| l != Live::Off);
    if live || args.follow || args.until.is_some() || args.jq.is_some() {
        return Err(usage(
            "--until-offset and --until-bookmark read a fixed range: they \
             do not combine with --live, -f, --until or --jq",
        ));
    }
    let raw = match args.format {
        None => None,
        Some(Format::Raw) => Some(true),
        Some(Format::Ndjson) => Some(false),
        Some(Format::Batches) => {
            return Err(usage(
                "--format batches does not combine with --until-offset or \
                 --until-bookmark (use ndjson or raw)",
            ));
        }
    };
    let stream = ctx.stream(&args.stream)?;
    let from = super::export::start(
        &stream,
        args.from.as_deref(),
        args.from_bookmark.as_deref(),
    )?;
    let end = args.end.end(&stream)?;
    super::export::read_range(&stream, from, end, raw).await
}

/// A HEAD's failure with the server's explanation: a HEAD answer has no
/// body, so a refused one (`HTTP 403 on URL` and nothing else) is asked
/// again as a catch-up GET, whose error carries the body.
async fn with_body(
    stream: &DurableStream,
    head: client::Error,
) -> client::Error {
    let client::Error::Status { message, .. } = &head else {
        return head;
    };
    if !message.trim().is_empty() {
        return head;
    }
    let mut read = stream.read_bytes(ReadOptions {
        offset: Offset::START,
        live: LiveMode::Off,
        ..ReadOptions::default()
    });
    match read.next().await {
        Some(Err(
            e @ (client::Error::Status { .. }
            | client::Error::BadRequest { .. }),
        )) => e,
        _ => head,
    }
}

/// Where to read from, and how many messages (JSON) or bytes (others) to
/// drop after it: a bookmark names its message by the offset of the
/// response that carried it and its place in that response.
fn start_offset(
    args: &ReadArgs,
    stream: &DurableStream,
) -> anyhow::Result<(Offset, u64)> {
    match &args.from_bookmark {
        Some(name) => bookmark_offset(stream, name),
        None => {
            Ok((args.from.as_deref().map_or(Offset::START, Offset::new), 0))
        }
    }
}

/// Drops the first `n` messages of a JSON read, across as many batches
/// (and responses) as they span.
fn skip_messages(items: RawJsonStream, n: u64) -> RawJsonStream {
    if n == 0 {
        return items;
    }
    let mut left = n;
    Box::pin(items.map(move |item| {
        item.map(|mut batch| {
            if left == 0 || batch.ends.is_empty() {
                return batch;
            }
            let k = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(batch.ends.len());
            left -= k as u64;
            let cut = batch.ends[k - 1];
            batch.data = batch.data.slice(cut as usize..);
            batch.ends.drain(..k);
            for end in &mut batch.ends {
                *end -= cut;
            }
            batch
        })
    }))
}

/// Drops the first `n` bytes of a read.
fn skip_bytes(items: ByteStream, n: u64) -> ByteStream {
    if n == 0 {
        return items;
    }
    let mut left = n;
    Box::pin(items.map(move |item| {
        item.map(|mut chunk| {
            let k = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(chunk.data.len());
            left -= k as u64;
            chunk.data = chunk.data.slice(k..);
            chunk
        })
    }))
}

/// The offset and position of the bookmark `name` saved for this
/// stream's URL (`dsx read` and `dsx export`).
pub(super) fn bookmark_offset(
    stream: &DurableStream,
    name: &str,
) -> anyhow::Result<(Offset, u64)> {
    let path = Bookmarks::default_path().ok_or_else(|| {
        usage("no data directory for bookmarks is known (set DSX_DATA_DIR)")
    })?;
    let bookmarks = Bookmarks::load(&path)?;
    let url = stream.url().as_str();
    if let Some(bookmark) = bookmarks.find(url, name) {
        return Ok((Offset::new(bookmark.offset.clone()), bookmark.position));
    }
    let known = bookmarks.known_names(url);
    let message = format!("no bookmark named {name:?} for {url}; {known}");
    let message = escape_controls(message.as_bytes());
    Err(NotFoundError(String::from_utf8_lossy(&message).into_owned()).into())
}

/// One read item: its metadata, and the units (bytes or messages) a
/// resumed read skips.
trait Item: Sized {
    fn meta(&self) -> &ReadMeta;
    /// Bytes (raw) or messages (JSON) in the item.
    fn units(&self) -> u64;
    /// The item without its first `n` units (`n < units()`).
    fn without_first(&self, n: u64) -> Self;
}

impl Item for ByteChunk {
    fn meta(&self) -> &ReadMeta {
        &self.meta
    }

    fn units(&self) -> u64 {
        self.data.len() as u64
    }

    fn without_first(&self, n: u64) -> Self {
        let n = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        ByteChunk {
            data: self.data.slice(n..),
            meta: self.meta.clone(),
        }
    }
}

impl Item for RawJsonBatch {
    fn meta(&self) -> &ReadMeta {
        &self.meta
    }

    fn units(&self) -> u64 {
        self.len() as u64
    }

    fn without_first(&self, n: u64) -> Self {
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(self.len());
        let cut = if n == 0 { 0 } else { self.ends[n - 1] };
        RawJsonBatch {
            data: self.data.slice(cut as usize..),
            ends: self.ends[n..].iter().map(|end| end - cut).collect(),
            meta: self.meta.clone(),
        }
    }
}

fn count_bytes(chunk: &ByteChunk) -> (u64, u64) {
    (0, chunk.data.len() as u64)
}

fn count_json(batch: &RawJsonBatch) -> (u64, u64) {
    (batch.len() as u64, batch.data.len() as u64)
}

/// Drives one read into stdout, across reconnects in live modes.
struct Reader<'a> {
    plan: Plan,
    out: &'a mut Out,
    progress: Progress,
    /// Where the read starts.
    start: Offset,
    reconnects: Reconnects,
    /// The stream's URL for messages (redacted, escaped).
    url: String,
}

/// How far output has got: the last resumable offset printed through, and
/// the units printed after it (from pieces of a response not yet ended).
struct Position {
    offset: Offset,
    after: u64,
}

impl Position {
    fn printed<T: Item>(&mut self, item: &T) {
        let meta = item.meta();
        if meta.is_resumable() {
            self.offset = meta.offset.clone();
            self.after = 0;
        } else {
            self.after += item.units();
        }
    }
}

type Items<T> = Pin<Box<dyn Stream<Item = client::Result<T>> + Send>>;

impl Reader<'_> {
    /// Writes each item with `write` until the read ends, the stop
    /// condition holds, stdout is closed, or a signal arrives. In live
    /// modes a failure that may pass is followed by a new read (`open`)
    /// from the last offset printed, skipping what was printed after it.
    async fn pump<T: Item>(
        &mut self,
        open: impl Fn(Offset) -> Items<T>,
        mut write: impl FnMut(&T, &mut Out) -> io::Result<()>,
        count: fn(&T) -> (u64, u64),
    ) -> anyhow::Result<()> {
        let live = self.plan.live != LiveMode::Off;
        let signal = super::shutdown_signal();
        tokio::pin!(signal);
        let gone = reader_gone();
        tokio::pin!(gone);
        let mut position = Position {
            offset: self.start.clone(),
            after: 0,
        };
        // Units a resumed read must drop: they were printed already.
        let mut skip = 0u64;
        let mut items = open(position.offset.clone());
        loop {
            // The signal is polled first so that a busy read still stops
            // promptly on Ctrl-C.
            let next = tokio::select! {
                biased;
                why = &mut signal => {
                    self.progress.finish();
                    let _ = self.out.flush();
                    return Err(Interrupted(why).into());
                }
                () = &mut gone => {
                    self.progress.finish();
                    return Ok(());
                }
                next = items.next() => next,
            };
            let Some(item) = next else { break };
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    // What arrived before the failure is still printed.
                    let _ = self.out.flush();
                    let retry =
                        if live { self.reconnects.next(&e) } else { None };
                    let Some((attempt, pause)) = retry else {
                        self.progress.finish();
                        return Err(e.into());
                    };
                    self.progress.finish();
                    eprintln!(
                        "dsx: connection to {} lost: {}; reconnecting \
                         (attempt {attempt}) in {:.1}s",
                        self.url,
                        describe(&anyhow::Error::new(e)),
                        pause.as_secs_f64(),
                    );
                    tokio::select! {
                        biased;
                        why = &mut signal => {
                            return Err(Interrupted(why).into());
                        }
                        () = &mut gone => return Ok(()),
                        () = tokio::time::sleep(pause) => {}
                    }
                    skip = position.after;
                    items = open(position.offset.clone());
                    continue;
                }
            };
            if let Some(tries) = self.reconnects.recovered() {
                eprintln!(
                    "dsx: reconnected to {} after {tries} attempt(s)",
                    self.url
                );
            }
            let item = if skip > 0 {
                let units = item.units();
                if units <= skip {
                    // Printed before the reconnect: only its position counts.
                    skip -= units;
                    position.printed(&item);
                    continue;
                }
                let rest = item.without_first(skip);
                skip = 0;
                rest
            } else {
                item
            };
            if let Err(e) = write(&item, self.out) {
                return self.stopped_by(e);
            }
            position.printed(&item);
            let (messages, bytes) = count(&item);
            self.progress.add(messages, bytes);
            let meta = item.meta();
            if meta.partial {
                continue;
            }
            // In live modes a batch must reach the pipe as soon as it
            // arrives; while catching up, the buffer fills up first.
            if (live || meta.up_to_date)
                && let Err(e) = self.out.flush()
            {
                return self.stopped_by(e);
            }
            if meta.stream_closed
                || (self.plan.until == Until::UpToDate && meta.up_to_date)
            {
                break;
            }
        }
        self.progress.finish();
        match self.out.flush() {
            Err(e) => self.stopped_by(e),
            Ok(()) => Ok(()),
        }
    }

    /// A failed write: a closed pipe is a clean stop, anything else an
    /// error.
    fn stopped_by(&mut self, e: io::Error) -> anyhow::Result<()> {
        self.progress.finish();
        if is_closed_pipe(&e) {
            Ok(())
        } else {
            Err(e).context("writing to stdout")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        live: Option<Live>,
        follow: bool,
        until: Option<Until>,
    ) -> ReadArgs {
        ReadArgs {
            stream: "s".into(),
            from: None,
            from_bookmark: None,
            live,
            follow,
            until,
            format: None,
            jq: None,
            retry_for: None,
            end: super::super::export::UntilArgs::default(),
        }
    }

    fn plan(live: Option<Live>, follow: bool, until: Option<Until>) -> Plan {
        Plan::of(&args(live, follow, until)).unwrap()
    }

    #[test]
    fn retry_for_durations() {
        let d = |secs| Ok(RetryFor::For(Duration::from_secs(secs)));
        assert_eq!(parse_retry_for("30"), d(30));
        assert_eq!(parse_retry_for("30s"), d(30));
        assert_eq!(parse_retry_for("10m"), d(600));
        assert_eq!(parse_retry_for("2h"), d(7200));
        assert_eq!(parse_retry_for("0"), d(0));
        assert_eq!(
            parse_retry_for("250ms"),
            Ok(RetryFor::For(Duration::from_millis(250)))
        );
        assert_eq!(parse_retry_for("Forever"), Ok(RetryFor::Forever));
        for bad in ["", "s", "10 days", "-1", "1.5m"] {
            assert!(parse_retry_for(bad).is_err(), "{bad:?}");
        }
    }

    fn network() -> client::Error {
        client::Error::Network {
            url: "http://127.0.0.1:1/s".into(),
            cause: std::sync::Arc::new(io::Error::other("refused")),
        }
    }

    #[test]
    fn reconnects_back_off_and_give_up() {
        let mut r = Reconnects::new(RetryFor::Forever);
        let pauses: Vec<f64> = (0..7)
            .map(|_| r.next(&network()).unwrap().1.as_secs_f64())
            .collect();
        assert_eq!(pauses, [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]);
        assert_eq!(r.recovered(), Some(7));
        assert_eq!(
            r.next(&network()).unwrap(),
            (1, Duration::from_millis(500))
        );
        // What cannot pass is not retried.
        let missing = client::Error::NotFound { url: "u".into() };
        assert!(r.next(&missing).is_none());
        // A zero budget gives up at the first failure.
        let mut r = Reconnects::new(RetryFor::For(Duration::ZERO));
        assert!(r.next(&network()).is_none());
    }

    #[test]
    fn items_lose_their_first_units() {
        let meta = ReadMeta {
            start_offset: "-1".into(),
            offset: "9".into(),
            up_to_date: false,
            cursor: None,
            stream_closed: false,
            partial: false,
            ends_unit: true,
            etag: None,
            cache_control: None,
            status: 200,
        };
        let batch = RawJsonBatch {
            data: bytes::Bytes::from_static(b"1{\"a\":2}[3]"),
            ends: vec![1, 8, 11],
            meta: meta.clone(),
        };
        let rest = batch.without_first(1);
        let items: Vec<&[u8]> = rest.items().collect();
        assert_eq!(items, [&b"{\"a\":2}"[..], b"[3]"]);
        assert_eq!(batch.without_first(0), batch);
        assert_eq!(batch.units(), 3);
        let chunk = ByteChunk {
            data: bytes::Bytes::from_static(b"hello"),
            meta,
        };
        assert_eq!(&chunk.without_first(2).data[..], b"llo");
    }

    #[test]
    fn plans() {
        let catch_up = Plan {
            live: LiveMode::Off,
            until: Until::UpToDate,
        };
        assert_eq!(plan(None, false, None), catch_up);
        assert_eq!(plan(Some(Live::Off), false, None), catch_up);
        assert_eq!(
            plan(None, true, None),
            Plan {
                live: LiveMode::Auto,
                until: Until::Closed
            }
        );
        assert_eq!(
            plan(None, false, Some(Until::Closed)),
            Plan {
                live: LiveMode::Auto,
                until: Until::Closed
            }
        );
        assert_eq!(
            plan(Some(Live::Sse), false, Some(Until::UpToDate)),
            Plan {
                live: LiveMode::Sse,
                until: Until::UpToDate
            }
        );
        assert!(
            Plan::of(&args(Some(Live::Off), false, Some(Until::Closed)))
                .is_err()
        );
    }
}
