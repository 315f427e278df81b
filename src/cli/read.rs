//! `dsx read`: a stream to stdout, caught up or live, without holding it in
//! memory: each batch is written as it arrives and dropped.

use std::io;
use std::pin::Pin;

use anyhow::Context as _;
use futures::{Stream, StreamExt};

use super::exit::{Interrupted, NotFoundError, usage};
use super::output::{Out, escape_controls, is_closed_pipe, reader_gone};
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
(exit 130); a closed pipe (dsx read s | head) stops it quietly (exit 0).")]
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
    /// own line.
    #[arg(long, value_name = "FILTER", conflicts_with = "format")]
    pub jq: Option<String>,
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

/// Runs `dsx read`.
pub async fn run(ctx: &Context, args: ReadArgs) -> anyhow::Result<()> {
    let plan = Plan::of(&args)?;
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
        let meta = match stream.head().await {
            Ok(meta) => meta,
            Err(e) => return Err(with_body(&stream, e).await.into()),
        };
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
    let options = ReadOptions {
        offset,
        live: plan.live,
        ..ReadOptions::default()
    };
    let mut out = Out::stdout();
    let progress = Progress::new("read", !out.is_terminal());
    let mut reader = Reader {
        plan,
        out: &mut out,
        progress,
    };
    if let Some(filter) = filter {
        let mut jq = Jq::new(filter);
        let items = skip_messages(stream.read_json_raw(options), json_skip);
        reader
            .pump(items, |b, out| jq.batch(b, out), count_json)
            .await?;
        if jq.failures > 0 {
            anyhow::bail!("the jq filter failed on {} message(s)", jq.failures);
        }
        return Ok(());
    }
    match (format, json) {
        (Format::Raw, _) => {
            let items = skip_bytes(stream.read_bytes(options), byte_skip);
            reader.progress = reader.progress.bytes_only();
            reader.pump(items, print::raw, count_bytes).await
        }
        (Format::Ndjson, _) => {
            let items = skip_messages(stream.read_json_raw(options), json_skip);
            reader.pump(items, print::ndjson, count_json).await
        }
        (Format::Batches, true) => {
            let mut batches = Batches::default();
            let items = skip_messages(stream.read_json_raw(options), json_skip);
            reader
                .pump(items, |b, out| batches.json(b, out), count_json)
                .await
        }
        (Format::Batches, false) => {
            let mut batches = Batches::default();
            let items = skip_bytes(stream.read_bytes(options), byte_skip);
            reader
                .pump(items, |c, out| batches.bytes(c, out), count_bytes)
                .await
        }
    }
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
/// stream's URL.
fn bookmark_offset(
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
    let known: Vec<&str> = bookmarks
        .list(url)
        .iter()
        .map(|b| b.name.as_str())
        .collect();
    let known = if known.is_empty() {
        "it has none".to_owned()
    } else {
        format!("known: {}", known.join(", "))
    };
    let message = format!("no bookmark named {name:?} for {url}; {known}");
    let message = escape_controls(message.as_bytes());
    Err(NotFoundError(String::from_utf8_lossy(&message).into_owned()).into())
}

/// One read item: its metadata, and what it adds to the progress counts.
trait Item {
    fn meta(&self) -> &ReadMeta;
}

impl Item for ByteChunk {
    fn meta(&self) -> &ReadMeta {
        &self.meta
    }
}

impl Item for RawJsonBatch {
    fn meta(&self) -> &ReadMeta {
        &self.meta
    }
}

fn count_bytes(chunk: &ByteChunk) -> (u64, u64) {
    (0, chunk.data.len() as u64)
}

fn count_json(batch: &RawJsonBatch) -> (u64, u64) {
    (batch.len() as u64, batch.data.len() as u64)
}

/// Drives one read session into stdout.
struct Reader<'a> {
    plan: Plan,
    out: &'a mut Out,
    progress: Progress,
}

impl Reader<'_> {
    /// Writes each item with `write` until the session ends, the stop
    /// condition holds, stdout is closed, or a signal arrives.
    async fn pump<T: Item>(
        &mut self,
        mut items: Pin<Box<dyn Stream<Item = client::Result<T>> + Send>>,
        mut write: impl FnMut(&T, &mut Out) -> io::Result<()>,
        count: fn(&T) -> (u64, u64),
    ) -> anyhow::Result<()> {
        let live = self.plan.live != LiveMode::Off;
        let signal = super::shutdown_signal();
        tokio::pin!(signal);
        let gone = reader_gone();
        tokio::pin!(gone);
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
                    self.progress.finish();
                    // What arrived before the failure is still printed.
                    let _ = self.out.flush();
                    return Err(e.into());
                }
            };
            if let Err(e) = write(&item, self.out) {
                return self.stopped_by(e);
            }
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
        }
    }

    fn plan(live: Option<Live>, follow: bool, until: Option<Until>) -> Plan {
        Plan::of(&args(live, follow, until)).unwrap()
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
