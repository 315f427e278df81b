//! `dsx sub`: subscriptions (PROTOCOL.md sections 6 and 7) under the base
//! URL's stream root: show, create, delete, and the pull-wake claim / ack /
//! release by hand (to unstick a consumer during an incident).
//!
//! Everything the server sends is printed escaped: `show` and `list` go
//! through `server_text`, and `--json` output escapes every control and
//! bidi character as `\uXXXX`.

use std::fmt::Write as _;
use std::io::Write as _;

use super::Context;
use super::exit::usage;
use super::output::server_text;
use crate::client::{
    Claim, Offset, StreamAck, Subscription, SubscriptionError,
    SubscriptionKind, SubscriptionSpec, Subscriptions,
};

/// `dsx sub`: subscriptions of the server at the base URL.
#[derive(Clone, Debug, clap::Args)]
pub struct SubArgs {
    #[command(subcommand)]
    pub command: SubCommand,
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum SubCommand {
    /// Show the named subscriptions, one line each (the protocol has no
    /// call that lists them all, so name the ids).
    List {
        #[arg(required = true)]
        ids: Vec<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one subscription: its streams, acked offsets, lease.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Create a subscription (an identical one is re-confirmed).
    Create {
        id: String,
        /// Deliver by webhook to this URL (https, or http to localhost).
        #[arg(
            long,
            conflicts_with = "wake_stream",
            required_unless_present = "wake_stream"
        )]
        webhook: Option<String>,
        /// Pull-wake: write wake events to this stream (it must exist).
        #[arg(long)]
        wake_stream: Option<String>,
        /// Glob over stream paths: `*` one segment, `**` any number.
        #[arg(long)]
        pattern: Option<String>,
        /// An explicit stream path (repeatable).
        #[arg(long = "stream")]
        streams: Vec<String>,
        /// Lease in milliseconds (1000 to 600000; server default 30000).
        #[arg(long)]
        lease_ms: Option<u64>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a subscription.
    Delete { id: String },
    /// Claim a pull-wake subscription; prints the claim as JSON (its
    /// `wake_id`, `generation` and `token` are what ack and release take).
    Claim {
        id: String,
        /// The worker name the server records as the lease holder.
        #[arg(long, default_value = "dsx")]
        worker: String,
    },
    /// Ack offsets under a claim; without --done it only extends the lease.
    Ack {
        id: String,
        #[command(flatten)]
        claim: ClaimArgs,
        /// `STREAM=OFFSET` (split at the first `=`; repeatable).
        #[arg(long = "ack")]
        acks: Vec<String>,
        /// Also end the claim (release the lease).
        #[arg(long)]
        done: bool,
    },
    /// Give a claim back without acking.
    Release {
        id: String,
        #[command(flatten)]
        claim: ClaimArgs,
    },
}

/// The claim an ack or release answers.
#[derive(Clone, Debug, clap::Args)]
pub struct ClaimArgs {
    #[arg(long)]
    pub wake_id: String,
    #[arg(long)]
    pub generation: u64,
    /// The claim token (or set `DSX_SUB_TOKEN`, which keeps it out of the
    /// process list).
    #[arg(long, env = "DSX_SUB_TOKEN", hide_env_values = true)]
    pub token: String,
}

impl ClaimArgs {
    fn claim(&self) -> Claim {
        Claim {
            wake_id: self.wake_id.clone(),
            generation: self.generation,
            token: self.token.clone(),
            streams: Vec::new(),
            lease_ttl_ms: None,
        }
    }
}

/// Runs `dsx sub ...`.
pub async fn run(ctx: &Context, args: SubArgs) -> anyhow::Result<()> {
    let subs = ctx
        .client()?
        .subscriptions("")
        .map_err(|e| usage(format!("{e}")))?;
    let text = match args.command {
        SubCommand::List { ids, json } => return list(&subs, &ids, json).await,
        SubCommand::Show { id, json } => {
            let sub = subs.get(&id).await?;
            if json { json_line(&sub) } else { human(&sub) }
        }
        SubCommand::Create {
            id,
            webhook,
            wake_stream,
            pattern,
            streams,
            lease_ms,
            description,
            json,
        } => {
            let kind = match (webhook, wake_stream) {
                (Some(url), None) => SubscriptionKind::Webhook { url },
                (None, Some(wake_stream)) => {
                    SubscriptionKind::PullWake { wake_stream }
                }
                _ => {
                    return Err(usage(
                        "give one of --webhook and --wake-stream",
                    ));
                }
            };
            if pattern.is_none() && streams.is_empty() {
                return Err(usage("give --pattern, --stream, or both"));
            }
            let spec = SubscriptionSpec {
                kind,
                pattern,
                streams,
                lease_ttl_ms: lease_ms,
                description,
            };
            let (sub, created) = subs.create(&id, &spec).await?;
            eprintln!(
                "dsx: subscription {} {}",
                server_text(&id),
                if created {
                    "created"
                } else {
                    "already exists with this configuration"
                }
            );
            if json { json_line(&sub) } else { human(&sub) }
        }
        SubCommand::Delete { id } => {
            subs.delete(&id).await?;
            eprintln!("dsx: subscription {} deleted", server_text(&id));
            String::new()
        }
        SubCommand::Claim { id, worker } => {
            if let Some(claim) = subs.claim(&id, &worker).await? {
                json_line(&claim)
            } else {
                eprintln!(
                    "dsx: subscription {} has no pending work",
                    server_text(&id)
                );
                String::new()
            }
        }
        SubCommand::Ack {
            id,
            claim,
            acks,
            done,
        } => {
            let acks = acks
                .iter()
                .map(|a| {
                    a.split_once('=')
                        .filter(|(s, o)| !s.is_empty() && !o.is_empty())
                        .map(|(stream, offset)| StreamAck {
                            stream: stream.to_owned(),
                            offset: Offset::new(offset),
                        })
                        .ok_or_else(|| {
                            usage(format!(
                                "--ack {a:?}: expected STREAM=OFFSET"
                            ))
                        })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let outcome = subs.ack(&id, &claim.claim(), &acks, done).await?;
            json_line(
                &serde_json::json!({ "ok": true, "next_wake": outcome.next_wake }),
            )
        }
        SubCommand::Release { id, claim } => {
            subs.release(&id, &claim.claim()).await?;
            eprintln!("dsx: subscription {} released", server_text(&id));
            String::new()
        }
    };
    print(&text)
}

async fn list(
    subs: &Subscriptions,
    ids: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let mut text = String::new();
    let mut missing = None;
    for got in subs.get_many(ids).await {
        match got {
            Ok(sub) if json => text.push_str(&json_line(&sub)),
            Ok(sub) => {
                let _ = writeln!(
                    text,
                    "{}  {}  {}  {}  {} stream(s)",
                    server_text(&sub.id),
                    server_text(&sub.kind),
                    server_text(sub.status.as_deref().unwrap_or("-")),
                    server_text(sub.pattern.as_deref().unwrap_or("-")),
                    sub.streams.len()
                );
            }
            Err(e @ SubscriptionError::NotFound { .. }) => {
                eprintln!("dsx: {}", server_text(&e.to_string()));
                missing.get_or_insert(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    print(&text)?;
    match missing {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// One JSON line with control and bidi characters as `\uXXXX` (serde
/// escapes only those below U+0020).
fn json_line(value: &impl serde::Serialize) -> String {
    let raw = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(raw.len() + 1);
    for c in raw.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

/// Aligned `key: value` lines, then one line per linked stream.
fn human(sub: &Subscription) -> String {
    let dash = || "-".to_owned();
    let rows = [
        ("id", sub.id.clone()),
        ("type", sub.kind.clone()),
        ("pattern", sub.pattern.clone().unwrap_or_else(dash)),
        ("wake stream", sub.wake_stream.clone().unwrap_or_else(dash)),
        (
            "webhook",
            sub.webhook.as_ref().map_or_else(dash, |w| w.url.clone()),
        ),
        (
            "signing key",
            sub.webhook
                .as_ref()
                .and_then(|w| w.signing.as_ref())
                .map_or_else(dash, |s| format!("{} ({})", s.kid, s.jwks_url)),
        ),
        (
            "lease",
            sub.lease_ttl_ms.map_or_else(dash, |ms| format!("{ms} ms")),
        ),
        ("status", sub.status.clone().unwrap_or_else(dash)),
        (
            "generation",
            sub.generation.map_or_else(dash, |g| g.to_string()),
        ),
        ("holder", sub.holder.clone().unwrap_or_else(dash)),
        ("created at", sub.created_at.clone().unwrap_or_else(dash)),
        ("description", sub.description.clone().unwrap_or_else(dash)),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let mut text = String::new();
    for (key, value) in rows {
        let key = format!("{key}:");
        let _ = writeln!(text, "{key:<width$} {}", server_text(&value));
    }
    let _ = writeln!(text, "streams: {}", sub.streams.len());
    for link in &sub.streams {
        let _ = writeln!(
            text,
            "  {}  {}  acked {}",
            server_text(&link.path),
            server_text(&link.link_type),
            server_text(link.acked_offset.as_str())
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_escape_what_a_terminal_would_obey() {
        let line =
            json_line(&serde_json::json!({ "d": "a\u{1b}[2J\u{9b}\u{202e}z" }));
        assert_eq!(line, "{\"d\":\"a\\u001b[2J\\u009b\\u202ez\"}\n");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["d"], "a\u{1b}[2J\u{9b}\u{202e}z");
    }
}
