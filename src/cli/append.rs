//! `dsx append`: one body from the argument or stdin, or (`--lines`) every
//! input line as its own message through the idempotent producer.

use std::io::IsTerminal;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;

use super::exit::{Interrupted, usage};
use super::output::{escape_controls, human_bytes};
use super::progress::Progress;
use super::{Context, is_json};
use crate::client::{
    AppendOptions, CloseOptions, DurableStream, Headers, IdempotentProducer,
    ProducerOptions,
};

/// How much stdin is read at a time for `--lines`.
const READ_CHUNK: usize = 256 * 1024;

/// `dsx append`: append to a stream.
#[derive(Clone, Debug, clap::Args)]
#[command(after_help = "\
--lines sends each line as one message (on a JSON stream, or with --json, \
each line must be one JSON value; blank lines are skipped; on other streams \
a message keeps its newline). An invalid line stops the command with exit \
1, naming the line: the lines before it are sent, none after it. With the \
same --producer-id and --epoch as an earlier run, batches the server already \
has are dropped as duplicates; use a higher --epoch for new data.")]
#[allow(clippy::struct_excessive_bools, reason = "independent CLI flags")]
pub struct AppendArgs {
    /// Stream path (relative to the base URL) or full URL.
    pub stream: String,
    /// The body; read from stdin when absent.
    pub data: Option<String>,
    /// The body is JSON: checked before sending, stored as one message
    /// (an array too), sent as application/json.
    #[arg(long)]
    pub json: bool,
    /// Send each input line as one message (idempotent producer, batched
    /// and pipelined); prints a summary on stderr.
    #[arg(long)]
    pub lines: bool,
    /// Producer id for exactly-once appends (--lines: default random).
    #[arg(long, value_name = "ID")]
    pub producer_id: Option<String>,
    /// Producer epoch (default 0).
    #[arg(long, value_name = "N")]
    pub epoch: Option<u64>,
    /// With --producer-id: its Producer-Seq (default 0); without: a
    /// Stream-Seq writer sequence (opaque, must increase).
    #[arg(long, value_name = "SEQ", conflicts_with = "lines")]
    pub seq: Option<String>,
    /// Close the stream after the last message.
    #[arg(long)]
    pub close: bool,
}

/// Runs `dsx append`.
pub async fn run(ctx: &Context, args: AppendArgs) -> anyhow::Result<()> {
    if args.epoch.is_some() && args.producer_id.is_none() && !args.lines {
        return Err(usage("--epoch needs --producer-id"));
    }
    let stream = ctx.stream(&args.stream)?;
    if args.lines {
        return lines(stream, &args).await;
    }
    let data = match &args.data {
        Some(data) => Bytes::from(data.clone().into_bytes()),
        None => read_stdin().await?,
    };
    let (data, content_type) = if args.json {
        (
            Some(one_json_message(&data)?),
            Some("application/json".into()),
        )
    } else {
        ((!data.is_empty()).then_some(data), None)
    };
    let headers = producer_headers(&args)?;
    if args.close {
        stream
            .close(CloseOptions {
                data,
                content_type,
                headers,
            })
            .await?;
        return Ok(());
    }
    let Some(data) = data else {
        return Err(usage("nothing to append: give DATA or pipe it to stdin"));
    };
    let seq = if args.producer_id.is_none() {
        args.seq.clone()
    } else {
        None
    };
    let result = stream
        .append(
            data,
            AppendOptions {
                seq,
                content_type,
                headers,
            },
        )
        .await?;
    if result.duplicate {
        eprintln!("dsx: duplicate: the server already had this append");
    }
    Ok(())
}

/// `Producer-*` headers for a single append with `--producer-id`.
fn producer_headers(args: &AppendArgs) -> anyhow::Result<Headers> {
    let Some(id) = &args.producer_id else {
        return Ok(Headers::new());
    };
    let seq = match &args.seq {
        None => 0,
        Some(seq) => seq.parse::<u64>().map_err(|_| {
            usage(format!(
                "--seq {seq:?}: a producer's sequence is a whole number"
            ))
        })?,
    };
    Ok(vec![
        ("Producer-Id".into(), id.clone()),
        ("Producer-Epoch".into(), args.epoch.unwrap_or(0).to_string()),
        ("Producer-Seq".into(), seq.to_string()),
    ])
}

/// `[value]`: `data` checked as one JSON value and wrapped so that it is
/// stored as one message, an array included.
fn one_json_message(data: &[u8]) -> anyhow::Result<Bytes> {
    let trimmed = data.trim_ascii();
    serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).map_err(|e| {
        usage(format!("--json: the body is not one JSON value: {e}"))
    })?;
    let mut body = Vec::with_capacity(trimmed.len() + 2);
    body.push(b'[');
    body.extend_from_slice(trimmed);
    body.push(b']');
    Ok(body.into())
}

async fn read_stdin() -> anyhow::Result<Bytes> {
    if std::io::stdin().is_terminal() {
        eprintln!(
            "dsx: reading the body from the terminal; end it with Ctrl-D"
        );
    }
    let mut data = Vec::new();
    tokio::io::stdin().read_to_end(&mut data).await?;
    Ok(data.into())
}

/// `--lines`: every line through one producer.
async fn lines(stream: DurableStream, args: &AppendArgs) -> anyhow::Result<()> {
    let json = if args.json {
        stream.set_content_type("application/json");
        true
    } else {
        let meta = stream.head().await?;
        meta.content_type.as_deref().is_some_and(is_json)
    };
    let producer_id = args
        .producer_id
        .clone()
        .unwrap_or_else(|| format!("dsx-{:016x}", rand::random::<u64>()));
    let producer = IdempotentProducer::new(
        stream.clone(),
        producer_id,
        ProducerOptions {
            epoch: args.epoch.unwrap_or(0),
            max_in_flight: 8,
            ..ProducerOptions::default()
        },
    );
    if args.data.is_none() && std::io::stdin().is_terminal() {
        eprintln!("dsx: reading lines from the terminal; end with Ctrl-D");
    }
    let mut input = LineReader::new(args.data.as_deref());
    let mut progress = Progress::new("appended", true);
    let signal = super::shutdown_signal();
    tokio::pin!(signal);
    let mut line_no = 0u64;
    let mut interrupted = None;
    let mut invalid = None;
    loop {
        let line = tokio::select! {
            biased;
            why = &mut signal => {
                interrupted = Some(why);
                break;
            }
            line = input.next_line() => line?,
        };
        let Some(line) = line else { break };
        line_no += 1;
        let message = if json {
            let text = trim_line_end(&line);
            if text.trim_ascii().is_empty() {
                continue;
            }
            line.slice(..text.len())
        } else {
            line
        };
        let len = message.len() as u64;
        match producer.append(message).await {
            Ok(()) => progress.add(1, len),
            Err(e) if e.is_invalid_argument() => {
                invalid = Some(format!("line {line_no}: {e}"));
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let final_offset =
        if args.close && interrupted.is_none() && invalid.is_none() {
            producer.close().await?.final_offset
        } else {
            producer.flush().await?;
            stream.head().await?.next_offset
        };
    progress.finish();
    eprintln!(
        "dsx: appended {} messages ({}) to {}; {} offset {}",
        progress.messages(),
        human_bytes(progress.bytes()),
        stream.url(),
        if args.close && interrupted.is_none() && invalid.is_none() {
            "final"
        } else {
            "tail"
        },
        String::from_utf8_lossy(&escape_controls(
            final_offset.as_str().as_bytes()
        )),
    );
    if let Some(why) = interrupted {
        return Err(Interrupted(why).into());
    }
    if let Some(message) = invalid {
        return Err(usage(message));
    }
    Ok(())
}

/// `line` without its `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Lines (each with its newline, if it had one) from the argument or from
/// stdin, read in large chunks and split without copying.
struct LineReader {
    stdin: Option<tokio::io::Stdin>,
    buf: BytesMut,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
}

impl LineReader {
    fn new(arg: Option<&str>) -> LineReader {
        match arg {
            Some(text) => LineReader {
                stdin: None,
                buf: BytesMut::from(text.as_bytes()),
                scanned: 0,
            },
            None => LineReader {
                stdin: Some(tokio::io::stdin()),
                buf: BytesMut::with_capacity(READ_CHUNK),
                scanned: 0,
            },
        }
    }

    async fn next_line(&mut self) -> std::io::Result<Option<Bytes>> {
        loop {
            if let Some(at) =
                self.buf[self.scanned..].iter().position(|&b| b == b'\n')
            {
                let end = self.scanned + at + 1;
                self.scanned = 0;
                return Ok(Some(self.buf.split_to(end).freeze()));
            }
            self.scanned = self.buf.len();
            let read = match &mut self.stdin {
                Some(stdin) => {
                    self.buf.reserve(READ_CHUNK);
                    stdin.read_buf(&mut self.buf).await?
                }
                None => 0,
            };
            if read == 0 {
                self.stdin = None;
                self.scanned = 0;
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.buf.split().freeze()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_split_with_their_newlines() {
        let mut reader = LineReader::new(Some("a\r\nb\n\nlast"));
        let mut got = Vec::new();
        while let Some(line) = reader.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["a\r\n", "b\n", "\n", "last"]);
        assert_eq!(trim_line_end(b"a\r\n"), b"a");
        assert_eq!(trim_line_end(b"last"), b"last");
    }

    #[test]
    fn json_bodies_become_one_message() {
        assert_eq!(&one_json_message(b" [1,2]\n").unwrap()[..], b"[[1,2]]");
        assert_eq!(
            &one_json_message(br#"{"a":1}"#).unwrap()[..],
            br#"[{"a":1}]"#
        );
        assert!(one_json_message(b"{").is_err());
        assert!(one_json_message(b"").is_err());
    }
}
