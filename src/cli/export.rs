//! `dsx export`: a range of a stream into a file, by the code the
//! explorer's export dialog runs; and the range options `dsx read` shares
//! (`--until-offset`, `--until-bookmark`).

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::exit::{Interrupted, usage};
use super::output::{Out, escape_line, server_text, shown_url};
use super::progress::Progress;
use super::{Context, is_json};
use crate::client::{DurableStream, Offset};
use crate::export::{self, End, ExportError, Format, Range, Spot};

/// `--format` of `dsx export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON message per line (JSON streams; the default for them).
    Ndjson,
    /// The bytes as the server sends them (the default for other streams).
    Raw,
}

/// `dsx export`: write a range of a stream into a file.
#[derive(Clone, Debug, clap::Args)]
#[command(after_help = "\
The range runs from --from / --from-bookmark (default: the start) to \
--until-offset / --until-bookmark (default: the tail as the read finds \
it). A range that ends at a bookmark includes the bookmarked message; one \
that ends at an offset stops just before it. The file is written as \
FILE.partial and renamed once complete; on failure or Ctrl-C what was \
written stays in FILE.partial. An existing FILE is kept unless --force.")]
pub struct ExportArgs {
    /// Stream path (relative to the base URL) or full URL.
    pub stream: String,
    /// The file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Output format (default: ndjson for JSON streams, else raw).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Where a range starts and ends (`dsx export`; `dsx read` has its own
/// `--from` and `--from-bookmark` and shares the end options).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RangeArgs {
    /// Where to start: -1 (the beginning, default) or an offset from an
    /// earlier read.
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Start at a bookmark saved in the explorer for this stream.
    #[arg(long, value_name = "NAME", conflicts_with = "from")]
    pub from_bookmark: Option<String>,
    #[command(flatten)]
    pub until: UntilArgs,
}

/// Where a range ends.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct UntilArgs {
    /// Stop just before this offset (one a read or HEAD gave).
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub until_offset: Option<String>,
    /// Stop after the message a bookmark of this stream names.
    #[arg(long, value_name = "NAME", conflicts_with = "until_offset")]
    pub until_bookmark: Option<String>,
}

impl UntilArgs {
    /// Whether an end is given.
    pub fn is_set(&self) -> bool {
        self.until_offset.is_some() || self.until_bookmark.is_some()
    }

    /// The end of the range.
    pub fn end(&self, stream: &DurableStream) -> anyhow::Result<End> {
        if let Some(offset) = &self.until_offset {
            return Ok(End::At(Spot::at(Offset::new(offset.clone()))));
        }
        if let Some(name) = &self.until_bookmark {
            let (offset, position) =
                super::read::bookmark_offset(stream, name)?;
            return Ok(End::At(Spot::after_bookmark(offset, position)));
        }
        Ok(End::Now)
    }
}

/// The start of a range.
pub fn start(
    stream: &DurableStream,
    from: Option<&str>,
    from_bookmark: Option<&str>,
) -> anyhow::Result<Spot> {
    if let Some(name) = from_bookmark {
        let (offset, position) = super::read::bookmark_offset(stream, name)?;
        return Ok(Spot {
            offset,
            units: position,
        });
    }
    Ok(Spot::at(from.map_or(Offset::START, Offset::new)))
}

/// An export's failure as the commands report it.
fn failed(e: ExportError, partial: Option<&std::path::Path>) -> anyhow::Error {
    let kept = partial
        .filter(|p| p.exists())
        .map(|p| format!(" (what was written is in {})", p.display()))
        .unwrap_or_default();
    match e {
        ExportError::Read(e) => {
            anyhow::Error::new(e).context(format!("export stopped{kept}"))
        }
        ExportError::Cancelled => Interrupted("interrupted").into(),
        ExportError::Range(text) => usage(format!("{text}{kept}")),
        ExportError::Exists(path) => usage(format!(
            "{} already exists (--force replaces it)",
            escape_line(&path.display().to_string(), 1000)
        )),
        e @ ExportError::Write(_) => anyhow::anyhow!("{e}{kept}"),
    }
}

/// Whether the stream is JSON (a HEAD, which also finds a missing one).
async fn json(stream: &DurableStream) -> anyhow::Result<bool> {
    let meta = stream.head().await?;
    Ok(meta.content_type.as_deref().is_some_and(is_json))
}

/// Cancels `cancel` on Ctrl-C or SIGTERM.
fn cancel_on_signal() -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        super::shutdown_signal().await;
        token.cancel();
    });
    cancel
}

/// Runs `dsx export`.
pub async fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<()> {
    let stream = ctx.stream(&args.stream)?;
    let from = start(
        &stream,
        args.range.from.as_deref(),
        args.range.from_bookmark.as_deref(),
    )?;
    let end = args.range.until.end(&stream)?;
    let json = json(&stream).await?;
    let format = match args.format {
        Some(ExportFormat::Ndjson) => Format::Ndjson,
        None if json => Format::Ndjson,
        Some(ExportFormat::Raw) | None => Format::Raw,
    };
    let range = Range { from, end };
    let cancel = cancel_on_signal();
    let mut progress = Progress::new("exported", true);
    let mut seen = export::Counts::default();
    let written = export::to_file(
        &stream,
        json,
        &range,
        format,
        &args.output,
        args.force,
        &cancel,
        |counts| {
            progress.add(
                counts.messages - seen.messages,
                counts.bytes - seen.bytes,
            );
            seen = counts;
        },
    )
    .await;
    progress.finish();
    let partial = export::partial_path(&args.output);
    let written = written.map_err(|e| failed(e, Some(&partial)))?;
    eprintln!(
        "dsx: exported {} message(s), {} byte(s) of {} to {}: {}",
        written.counts.messages,
        written.counts.bytes,
        shown_url(stream.url().as_str()),
        escape_line(&args.output.display().to_string(), 1000),
        describe_range(&written),
    );
    Ok(())
}

/// `from OFFSET (+N) to OFFSET (+N)`, escaped.
pub fn describe_range(written: &export::Written) -> String {
    format!("from {} to {}", spot(&written.from), spot(&written.to))
}

fn spot(spot: &Spot) -> String {
    let at = server_text(spot.offset.as_str());
    match spot.units {
        0 => at,
        n => format!("{at} +{n}"),
    }
}

/// `dsx read` with an end: the range written to stdout.
pub async fn read_range(
    stream: &DurableStream,
    from: Spot,
    end: End,
    raw: Option<bool>,
) -> anyhow::Result<()> {
    let json = json(stream).await?;
    let format = match raw {
        Some(false) => Format::Ndjson,
        None if json => Format::Ndjson,
        Some(true) | None => Format::Raw,
    };
    let cancel = cancel_on_signal();
    let mut out = Out::stdout();
    let range = Range { from, end };
    match export::export(
        stream,
        json,
        &range,
        format,
        &mut out,
        &cancel,
        |_| {},
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(ExportError::Write(e)) if super::output::is_closed_pipe(&e) => {
            Ok(())
        }
        Err(e) => Err(failed(e, None)),
    }
}
