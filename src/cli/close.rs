//! `dsx close`: close a stream, optionally appending a last message.

use bytes::Bytes;

use super::Context;
use super::output::{server_text, shown_url};
use crate::client::CloseOptions;

/// `dsx close`: close a stream (idempotent).
#[derive(Clone, Debug, clap::Args)]
pub struct CloseArgs {
    /// Stream path (relative to the base URL) or full URL.
    pub stream: String,
    /// A final message, appended atomically with the close.
    pub data: Option<String>,
}

/// Runs `dsx close`; prints the final offset on stderr.
pub async fn run(ctx: &Context, args: CloseArgs) -> anyhow::Result<()> {
    let stream = ctx.stream(&args.stream)?;
    let result = stream
        .close(CloseOptions {
            data: args.data.map(|d| Bytes::from(d.into_bytes())),
            ..CloseOptions::default()
        })
        .await?;
    eprintln!(
        "dsx: {} closed at offset {}",
        shown_url(stream.url().as_str()),
        server_text(result.final_offset.as_str()),
    );
    Ok(())
}
