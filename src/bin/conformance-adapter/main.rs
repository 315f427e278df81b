//! Client-conformance adapter: speaks the official runner's JSON-lines
//! protocol on stdin/stdout and carries out every command through the public
//! `dsx::client` API (it never speaks HTTP itself).
//!
//! One command per line in, exactly one reply line out, in order. Replies
//! leave optional fields out rather than writing `null`. All logging goes
//! to stderr, since any stray line on stdout would be taken as a reply.

mod bench;
mod command;
mod dynamic;
mod ops;
mod producers;
mod read;
mod reply;
mod state;
mod validate;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use command::Line;
use state::Adapter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let mut adapter = Adapter::default();
    while let Some(line) = lines.next_line().await? {
        let (reply, stop) = match command::parse(&line) {
            Line::Blank => continue,
            Line::Command { kind, command } => {
                let stop = kind == "shutdown";
                (adapter.handle(&kind, command).await, stop)
            }
            Line::Malformed(reply) => (reply, false),
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
