//! `dsx fork`: create a stream as a fork of another at an offset.

use super::Context;
use crate::client::{CreateOptions, Offset};

/// `dsx fork`: create NEW holding SOURCE's data up to an offset.
#[derive(Clone, Debug, clap::Args)]
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
    let stream = ctx.stream(&args.new)?;
    stream
        .fork_detailed(
            &args.source,
            args.offset.map(Offset::new),
            CreateOptions::default(),
        )
        .await?;
    eprintln!(
        "dsx: {} forked from {}",
        super::output::shown_url(stream.url().as_str()),
        super::output::shown_url(&args.source)
    );
    Ok(())
}
