//! `dsx head`: a stream's metadata, for people or as JSON.

use std::fmt::Write as _;
use std::io::Write;

use super::Context;
use super::output::escape_controls;
use crate::client::StreamMetadata;

/// `dsx head`: show a stream's metadata.
#[derive(Clone, Debug, clap::Args)]
pub struct HeadArgs {
    /// Stream path (relative to the base URL) or full URL.
    pub stream: String,
    /// Print one JSON object instead of `key: value` lines.
    #[arg(long)]
    pub json: bool,
}

/// Runs `dsx head`.
pub async fn run(ctx: &Context, args: HeadArgs) -> anyhow::Result<()> {
    let stream = ctx.stream(&args.stream)?;
    let meta = stream.head().await?;
    let text = if args.json {
        json(&super::output::shown_url(stream.url().as_str()), &meta)
    } else {
        human(&super::output::shown_url(stream.url().as_str()), &meta)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn json(url: &str, meta: &StreamMetadata) -> String {
    let value = serde_json::json!({
        "url": url,
        "content_type": meta.content_type,
        "next_offset": meta.next_offset.as_str(),
        "closed": meta.closed,
        "ttl": meta.ttl,
        "expires_at": meta.expires_at,
        "etag": meta.etag,
        "cache_control": meta.cache_control,
    });
    format!("{value}\n")
}

/// Aligned `key: value` lines; absent values are `-`. Header values are
/// escaped: they come from the server.
fn human(url: &str, meta: &StreamMetadata) -> String {
    let none = || "-".to_owned();
    let rows = [
        ("url", url.to_owned()),
        (
            "content type",
            meta.content_type.clone().unwrap_or_else(none),
        ),
        ("next offset", meta.next_offset.as_str().to_owned()),
        ("closed", if meta.closed { "yes" } else { "no" }.to_owned()),
        ("ttl", meta.ttl.map_or_else(none, |t| format!("{t}s"))),
        ("expires at", meta.expires_at.clone().unwrap_or_else(none)),
        ("etag", meta.etag.clone().unwrap_or_else(none)),
        (
            "cache-control",
            meta.cache_control.clone().unwrap_or_else(none),
        ),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let mut text = String::new();
    for (key, value) in rows {
        let value = escape_controls(value.as_bytes());
        let key = format!("{key}:");
        let _ =
            writeln!(text, "{key:<width$} {}", String::from_utf8_lossy(&value));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> StreamMetadata {
        StreamMetadata {
            content_type: Some("text/plain".into()),
            next_offset: "0_5".into(),
            closed: true,
            ttl: Some(60),
            expires_at: None,
            etag: Some("\"e\"".into()),
            cache_control: None,
        }
    }

    #[test]
    fn human_lines_are_aligned() {
        let text = human("http://h/s", &meta());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "url:           http://h/s");
        assert_eq!(lines[1], "content type:  text/plain");
        assert_eq!(lines[3], "closed:        yes");
        assert_eq!(lines[4], "ttl:           60s");
        assert_eq!(lines[5], "expires at:    -");
        assert_eq!(lines.len(), 8);
    }

    #[test]
    fn json_has_every_field() {
        let v: serde_json::Value =
            serde_json::from_str(&json("http://h/s", &meta())).unwrap();
        assert_eq!(v["next_offset"], "0_5");
        assert_eq!(v["closed"], true);
        assert_eq!(v["ttl"], 60);
        assert!(v["expires_at"].is_null());
        assert_eq!(v["etag"], "\"e\"");
    }
}
