//! Client-conformance adapter: speaks the official runner's JSON-lines
//! protocol on stdin/stdout and carries out every command through the public
//! `dsx::client` API (it never speaks HTTP itself).
//!
//! One command per line in, exactly one reply line out, in order. Replies
//! leave optional fields out rather than writing `null`. All logging goes
//! to stderr, since any stray line on stdout would be taken as a reply.

#[path = "conformance_adapter/bench.rs"]
mod bench;
#[path = "conformance_adapter/dynamic.rs"]
mod dynamic;
#[path = "conformance_adapter/ops.rs"]
mod ops;
#[path = "conformance_adapter/producers.rs"]
mod producers;
#[path = "conformance_adapter/read.rs"]
mod read;
#[path = "conformance_adapter/reply.rs"]
mod reply;
#[path = "conformance_adapter/state.rs"]
mod state;
#[path = "conformance_adapter/validate.rs"]
mod validate;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use reply::Reply;
use state::Adapter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let mut adapter = Adapter::default();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let (reply, stop) = match serde_json::from_str::<Value>(&line) {
            Ok(command) => {
                let kind = command
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_owned();
                let stop = kind == "shutdown";
                (adapter.handle(&kind, command).await, stop)
            }
            Err(e) => (
                Reply::error(
                    "unknown",
                    "PARSE_ERROR",
                    None,
                    format!("malformed command line: {e}"),
                ),
                false,
            ),
        };
        let mut out = serde_json::to_vec(&reply.into_json())
            .expect("a JSON value serialises");
        out.push(b'\n');
        stdout.write_all(&out).await?;
        stdout.flush().await?;
        if stop {
            break;
        }
    }
    adapter.shutdown().await;
    Ok(())
}
