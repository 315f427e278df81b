//! `dsx delete`: delete a stream.

use super::Context;
use super::output::shown_url;

/// `dsx delete`: delete a stream and its data.
#[derive(Clone, Debug, clap::Args)]
pub struct DeleteArgs {
    /// Stream path (relative to the base URL) or full URL.
    pub stream: String,
}

/// Runs `dsx delete`.
pub async fn run(ctx: &Context, args: DeleteArgs) -> anyhow::Result<()> {
    let stream = ctx.stream(&args.stream)?;
    stream.delete().await?;
    eprintln!("dsx: {} deleted", shown_url(stream.url().as_str()));
    Ok(())
}
