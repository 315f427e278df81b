//! `dsx fork`: create a stream as a fork of another at an offset.

use anyhow::Context as _;

use super::Context;
use super::output::{server_text, shown_url};
use crate::client::{self, CreateOptions, Offset};

/// `dsx fork`: create NEW holding SOURCE's data up to an offset.
#[derive(Clone, Debug, clap::Args)]
#[command(after_help = "\
Without --offset the fork starts at SOURCE's tail as a HEAD finds it just \
before the fork, and that offset is sent, so a rerun onto an existing NEW \
is accepted only when NEW is this same fork (it then says nothing changed, \
exit 0); a NEW that exists otherwise, say forked at another offset, is a \
conflict (exit 3). A missing SOURCE is named in the not-found error (exit 2).")]
pub struct ForkArgs {
    /// The stream to fork (path or URL on the same server).
    pub source: String,
    /// The new stream (path or URL).
    pub new: String,
    /// Fork at this offset of SOURCE (default: its tail).
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub offset: Option<String>,
}

/// Runs `dsx fork`.
pub async fn run(ctx: &Context, args: ForkArgs) -> anyhow::Result<()> {
    let source = ctx.stream(&args.source)?;
    let stream = ctx.stream(&args.new)?;
    // The source is looked at first: a missing one is named as such (the
    // PUT's 404 would name the new stream), and its tail becomes the fork
    // offset, so that the server compares it with an existing stream's.
    let meta = source.head().await.context("fork source")?;
    let offset = args.offset.map_or(meta.next_offset, Offset::new);
    let result = stream
        .fork_detailed(
            &args.source,
            Some(offset.clone()),
            CreateOptions::default(),
        )
        .await
        .map_err(|e| explain_conflict(e, &args.new, &args.source, &offset))?;
    let at = server_text(offset.as_str());
    let new = shown_url(stream.url().as_str());
    let from = shown_url(source.url().as_str());
    if result.created {
        eprintln!("dsx: {new} forked from {from} at {at}");
    } else {
        eprintln!(
            "dsx: {new} already exists as the fork of {from} at {at}; \
             nothing changed"
        );
    }
    Ok(())
}

/// A 409 says that NEW exists otherwise; say what was asked.
fn explain_conflict(
    err: client::Error,
    new: &str,
    source: &str,
    offset: &Offset,
) -> anyhow::Error {
    let conflict = matches!(
        err,
        client::Error::AlreadyExists { .. } | client::Error::Conflict { .. }
    );
    if !conflict {
        return err.into();
    }
    let message = format!(
        "{new} already exists and is not a fork of {source} at {}; nothing \
         was changed (delete it first, or fork under another name)",
        offset.as_str()
    );
    anyhow::Error::new(err).context(message)
}
