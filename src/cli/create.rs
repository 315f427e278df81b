//! `dsx create`: create a stream (`PUT`), optionally with initial data.

use std::time::Duration;

use bytes::Bytes;

use super::Context;
use super::exit::usage;
use super::output::shown_url;
use crate::client::CreateOptions;

/// `dsx create`: create a stream.
#[derive(Clone, Debug, clap::Args)]
pub struct CreateArgs {
    /// Stream path (relative to the base URL) or full URL.
    pub stream: String,
    /// Initial content.
    pub data: Option<String>,
    /// Content type (the server's default is application/octet-stream).
    #[arg(long, value_name = "TYPE", conflicts_with = "json")]
    pub content_type: Option<String>,
    /// Shorthand for --content-type application/json.
    #[arg(long)]
    pub json: bool,
    /// Time to live, in seconds.
    #[arg(long, value_name = "SECS", conflicts_with = "expires_at")]
    pub ttl: Option<u64>,
    /// Absolute expiry time (RFC 3339, e.g. 2030-01-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub expires_at: Option<String>,
    /// Create the stream already closed.
    #[arg(long)]
    pub closed: bool,
}

/// Runs `dsx create`; says on stderr whether the stream is new.
pub async fn run(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    if let Some(at) = &args.expires_at {
        time::OffsetDateTime::parse(
            at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|e| {
            usage(format!("--expires-at {at:?}: not RFC 3339: {e}"))
        })?;
    }
    let stream = ctx.stream(&args.stream)?;
    let content_type = if args.json {
        Some("application/json".to_owned())
    } else {
        args.content_type.clone()
    };
    let result = stream
        .create_detailed(CreateOptions {
            content_type,
            ttl: args.ttl.map(Duration::from_secs),
            expires_at: args.expires_at.clone(),
            closed: args.closed,
            data: args.data.clone().map(|d| Bytes::from(d.into_bytes())),
            headers: Vec::new(),
        })
        .await?;
    let what = if result.created {
        "created"
    } else {
        "already exists (same configuration)"
    };
    eprintln!("dsx: {} {what}", shown_url(stream.url().as_str()));
    Ok(())
}
