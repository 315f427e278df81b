//! `dsx append`: one body from the argument or stdin, or (`--lines`) every
//! input line as its own message through the idempotent producer.

use std::io::IsTerminal;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;

use super::exit::{ConflictError, Interrupted, usage};
use super::output::{human_bytes, server_text, shown_url};
use super::progress::Progress;
use super::{Context, is_json};
use crate::client::{
    AppendOptions, CloseOptions, Delivery, DurableStream, Headers,
    IdempotentProducer, Offset, ProducerOptions, ProducerStamp,
};

/// How much stdin is read at a time for `--lines`.
const READ_CHUNK: usize = 256 * 1024;

/// `dsx append`: append to a stream.
#[derive(Clone, Debug, clap::Args)]
#[command(after_help = "\
--lines sends each line as one message (on a JSON stream, or with --json, \
each line must be one JSON value; blank lines are skipped; on other streams \
a message keeps its newline). An invalid line stops the command with exit \
1, naming the line: the lines before it are sent, none after it.

The summary counts only what the server confirmed. Each --lines run takes \
a fresh producer epoch (the current time in milliseconds, or past the \
server's if that is higher), so a rerun with the same --producer-id never \
has its batches dropped as duplicates of an earlier run's. With an \
explicit --epoch, batches the server answers 204 (it already had that \
epoch and seq, from a run whose batches may have held other lines) are \
counted as dropped, and the command exits 3.

If a run fails or is interrupted, it prints the last input line N that \
the server confirmed (with every line before it) and the offset after it. \
To recover, resend the input from line N+1:
  tail -n +$((N+1)) FILE | dsx append STREAM --lines
Lines after N that were in flight when the run stopped may have been \
stored; the summary says how many, and those are appended again.")]
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
    /// Producer epoch (default 0; --lines: a fresh one per run, see
    /// below).
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
    let producer = producer_stamp(&args)?;
    if args.close {
        stream
            .close(CloseOptions {
                data,
                content_type,
                producer,
                headers: Headers::new(),
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
                producer,
                headers: Headers::new(),
            },
        )
        .await?;
    if result.duplicate {
        eprintln!("dsx: duplicate: the server already had this append");
    }
    Ok(())
}

/// The producer stamp of a single append with `--producer-id`.
fn producer_stamp(args: &AppendArgs) -> anyhow::Result<Option<ProducerStamp>> {
    let Some(id) = &args.producer_id else {
        return Ok(None);
    };
    let seq = match &args.seq {
        None => 0,
        Some(seq) => seq.parse::<u64>().map_err(|_| {
            usage(format!(
                "--seq {seq:?}: a producer's sequence is a whole number"
            ))
        })?,
    };
    Ok(Some(ProducerStamp {
        id: id.clone(),
        epoch: args.epoch.unwrap_or(0),
        seq,
    }))
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
    // An explicit --epoch is the user resuming on purpose; otherwise the
    // run takes an epoch no earlier run of this id can have used, so that
    // the server never drops one of its batches as an earlier run's
    // duplicate (batch boundaries differ between runs).
    let (epoch, auto_claim) = match args.epoch {
        Some(epoch) => (epoch, false),
        None => (fresh_epoch(), true),
    };
    let producer = IdempotentProducer::new(
        stream.clone(),
        producer_id,
        ProducerOptions {
            epoch,
            auto_claim,
            max_in_flight: 8,
            ..ProducerOptions::default()
        },
    );
    if args.data.is_none() && std::io::stdin().is_terminal() {
        eprintln!("dsx: reading lines from the terminal; end with Ctrl-D");
    }
    let mut input = LineReader::new(args.data.as_deref());
    let mut progress = Progress::new("sent", true);
    let signal = super::shutdown_signal();
    tokio::pin!(signal);
    let mut lines = LineNumbers::default();
    let mut interrupted = None;
    let mut invalid = None;
    let mut failure: Option<anyhow::Error> = None;
    loop {
        let line = tokio::select! {
            biased;
            why = &mut signal => {
                interrupted = Some(why);
                break;
            }
            line = input.next_line() => line,
        };
        let line = match line {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                failure = Some(anyhow::Error::new(e).context("reading stdin"));
                break;
            }
        };
        let line_no = lines.next_line();
        let message = if json {
            let text = trim_line_end(&line);
            if text.trim_ascii().is_empty() {
                lines.skip(line_no);
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
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        }
    }
    let stopped_early =
        interrupted.is_some() || invalid.is_some() || failure.is_some();
    let ending = if args.close && !stopped_early {
        producer.close().await.map(|done| Some(done.final_offset))
    } else {
        producer.flush().await.map(|()| None)
    };
    progress.finish();
    let delivery = producer.delivery();
    let final_offset = match &ending {
        Ok(Some(offset)) => Some(offset.clone()),
        _ => None,
    };
    let failure = failure.or_else(|| ending.err().map(anyhow::Error::new));
    let summary = Summary {
        url: stream.url().as_str(),
        sent: progress.messages(),
        bytes: progress.bytes(),
        delivery,
        lines,
        explicit_epoch: args.epoch.is_some(),
    };
    if interrupted.is_none() && invalid.is_none() && failure.is_none() {
        let (what, offset) = match final_offset {
            Some(offset) => ("final", offset),
            None => ("tail", summary.tail_offset(&stream).await?),
        };
        eprintln!("{}", summary.done(what, &offset));
        if let Some(dropped) = summary.dropped(producer.producer_id()) {
            return Err(ConflictError(dropped).into());
        }
        return Ok(());
    }
    for line in summary.stopped(invalid.is_none()) {
        eprintln!("{line}");
    }
    if let Some(why) = interrupted {
        return Err(Interrupted(why).into());
    }
    if let Some(message) = invalid {
        return Err(usage(message));
    }
    Err(failure.unwrap_or_else(|| anyhow::anyhow!("append stopped")))
}

/// A producer epoch no earlier run can have taken: the time in
/// milliseconds (at most 2^53 - 1, as the protocol allows). Should the
/// clock have gone back, the server answers 403 with its epoch and the
/// producer claims the one after it.
fn fresh_epoch() -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    millis.min((1 << 53) - 1)
}

/// Input line numbers of the messages: every line is a message except the
/// blank lines skipped on JSON streams, which are remembered.
#[derive(Debug, Default)]
struct LineNumbers {
    lines: u64,
    skipped: Vec<u64>,
}

impl LineNumbers {
    /// Counts one more input line; returns its number (from 1).
    fn next_line(&mut self) -> u64 {
        self.lines += 1;
        self.lines
    }

    /// Line `line` carried no message.
    fn skip(&mut self, line: u64) {
        self.skipped.push(line);
    }

    /// The input line of the `n`th message (from 1); 0 for `n == 0`.
    fn line_of(&self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut line = n;
        for &skipped in &self.skipped {
            if skipped <= line {
                line += 1;
            } else {
                break;
            }
        }
        line
    }
}

/// What an `--lines` run says at its end, from what the server confirmed.
struct Summary<'a> {
    url: &'a str,
    /// Messages handed to the producer.
    sent: u64,
    bytes: u64,
    delivery: Delivery,
    lines: LineNumbers,
    /// The epoch was the user's (`--epoch`), not a fresh one.
    explicit_epoch: bool,
}

impl Summary<'_> {
    /// Messages known to be in the stream. A 204 in a fresh epoch can only
    /// answer this run's own retried request, so it counts as stored;
    /// with an explicit epoch it may be an earlier run's batch.
    fn appended(&self) -> u64 {
        if self.explicit_epoch {
            self.delivery.appended
        } else {
            self.delivery.appended + self.delivery.duplicates
        }
    }

    /// The offset after the last message, as the server reported it with
    /// that message's batch; a HEAD when it sent none.
    async fn tail_offset(
        &self,
        stream: &DurableStream,
    ) -> anyhow::Result<Offset> {
        match &self.delivery.offset {
            Some((at, offset)) if *at == self.delivery.confirmed => {
                Ok(offset.clone())
            }
            _ => Ok(stream.head().await?.next_offset),
        }
    }

    fn done(&self, what: &str, offset: &Offset) -> String {
        format!(
            "dsx: appended {} messages ({}) to {}; {what} offset {}",
            self.appended(),
            human_bytes(self.bytes),
            shown_url(self.url),
            server_text(offset.as_str()),
        )
    }

    /// The message for messages dropped as duplicates, if any were.
    fn dropped(&self, producer_id: &str) -> Option<String> {
        let dropped = self.delivery.duplicates;
        (self.explicit_epoch && dropped > 0).then(|| {
            format!(
                "{dropped} of {} messages were NOT appended: the server \
                 answered 204 (duplicate) because producer {} already sent \
                 those sequence numbers in this epoch, in batches that may \
                 have held other lines; rerun without --epoch to append \
                 them as new data",
                self.sent,
                server_text(producer_id),
            )
        })
    }

    /// The lines for a run that stopped before its end: what is confirmed
    /// and, when `resumable`, how to send the rest.
    fn stopped(&self, resumable: bool) -> Vec<String> {
        let confirmed = self.delivery.confirmed;
        let last_line = self.lines.line_of(confirmed);
        let mut out = vec![format!(
            "dsx: stopped after appending {} messages to {}",
            self.appended(),
            shown_url(self.url),
        )];
        out.push(if confirmed == 0 {
            "dsx: confirmed by the server: no input line".to_owned()
        } else {
            let offset = match &self.delivery.offset {
                Some((at, offset)) if *at == confirmed => {
                    format!(", tail offset {}", server_text(offset.as_str()))
                }
                Some((at, offset)) => format!(
                    ", tail offset {} after line {}",
                    server_text(offset.as_str()),
                    self.lines.line_of(*at),
                ),
                None => String::new(),
            };
            format!(
                "dsx: confirmed by the server: input lines 1-{last_line}{offset}"
            )
        });
        if self.explicit_epoch && self.delivery.duplicates > 0 {
            out.push(format!(
                "dsx: of those, {} messages were dropped as duplicates \
                 (HTTP 204) of an earlier run with this epoch",
                self.delivery.duplicates
            ));
        }
        let unconfirmed = self.sent.saturating_sub(confirmed);
        if unconfirmed > 0 {
            out.push(format!(
                "dsx: not confirmed: {unconfirmed} messages after line \
                 {last_line} (any still in flight may have been stored)"
            ));
        }
        if resumable {
            out.push(format!(
                "dsx: to send the rest, resend the input from line {}, \
                 e.g. tail -n +{} FILE | dsx append STREAM --lines",
                last_line + 1,
                last_line + 1,
            ));
        }
        out
    }
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
