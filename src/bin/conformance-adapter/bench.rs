//! The `benchmark` command (`--bench` mode): each operation timed with a
//! monotonic clock around the client calls alone.

use std::time::{Duration, Instant};

use bytes::Bytes;
use dsx::client::{
    AppendOptions, CreateOptions, DurableStream, IdempotentProducer, LiveMode,
    Offset, ProducerOptions, ReadOptions,
};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ops::is_json;
use crate::reply::Reply;
use crate::state::{Adapter, fields};

const KIND: &str = "benchmark";

/// The longest a roundtrip waits for its data to come back.
const ROUNDTRIP_LIMIT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bench {
    iteration_id: String,
    operation: Value,
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Append {
        path: String,
        size: usize,
    },
    Read {
        path: String,
        offset: Option<String>,
    },
    Roundtrip {
        path: String,
        size: usize,
        live: Option<String>,
        #[serde(rename = "contentType")]
        content_type: Option<String>,
    },
    Create {
        path: String,
        #[serde(rename = "contentType")]
        content_type: Option<String>,
    },
    ThroughputAppend {
        path: String,
        count: usize,
        size: usize,
        concurrency: Option<usize>,
    },
    ThroughputRead {
        path: String,
    },
}

/// What an operation moved, for the reply's metrics.
#[derive(Default)]
struct Moved {
    bytes: usize,
    messages: usize,
}

fn failed(e: &dsx::client::Error) -> Reply {
    Reply::from_error(KIND, e)
}

/// `size` bytes of payload; a JSON string of that size on JSON streams.
fn payload(json: bool, size: usize) -> Bytes {
    if json {
        let inner = size.saturating_sub(2);
        format!("\"{}\"", "x".repeat(inner)).into()
    } else {
        Bytes::from(vec![b'x'; size.max(1)])
    }
}

impl Adapter {
    pub async fn benchmark(&mut self, command: Value) -> Result<Reply, Reply> {
        let b: Bench = fields(KIND, command)?;
        let op: Op = serde_json::from_value(b.operation).map_err(|e| {
            Reply::error(KIND, "NOT_SUPPORTED", None, format!("operation: {e}"))
        })?;
        let (elapsed, moved) = self.run(op).await?;
        let secs = elapsed.as_secs_f64().max(1e-9);
        #[allow(clippy::cast_precision_loss, reason = "rates are approximate")]
        let metrics = json!({
            "bytesTransferred": moved.bytes,
            "messagesProcessed": moved.messages,
            "opsPerSecond": moved.messages as f64 / secs,
            "bytesPerSecond": moved.bytes as f64 / secs,
        });
        Ok(Reply::ok(KIND)
            .with("iterationId", b.iteration_id)
            .with("durationNs", elapsed.as_nanos().to_string())
            .with("metrics", metrics))
    }

    async fn run(&mut self, op: Op) -> Result<(Duration, Moved), Reply> {
        match op {
            Op::Append { path, size } => {
                let stream = self.stream(KIND, &path)?;
                let content_type = self.content_type(&path);
                let body = payload(is_json(content_type.as_deref()), size);
                let started = Instant::now();
                stream
                    .append(
                        body,
                        AppendOptions {
                            content_type,
                            ..AppendOptions::default()
                        },
                    )
                    .await
                    .map_err(|e| failed(&e))?;
                let moved = Moved {
                    bytes: size,
                    messages: 1,
                };
                Ok((started.elapsed(), moved))
            }
            Op::Read { path, offset } => {
                let stream = self.stream(KIND, &path)?;
                let started = Instant::now();
                let moved = catch_up(&stream, offset).await?;
                Ok((started.elapsed(), moved))
            }
            Op::Create { path, content_type } => {
                let stream = self.stream(KIND, &path)?;
                let started = Instant::now();
                create(&stream, content_type.clone()).await?;
                let elapsed = started.elapsed();
                self.remember(&path, content_type);
                Ok((elapsed, Moved::default()))
            }
            Op::Roundtrip {
                path,
                size,
                live,
                content_type,
            } => {
                let stream = self.stream(KIND, &path)?;
                let mode = match live.as_deref() {
                    Some("sse") => LiveMode::Sse,
                    _ => LiveMode::LongPoll,
                };
                let content_type = content_type.or_else(|| {
                    (mode == LiveMode::Sse).then(|| "application/json".into())
                });
                let started = Instant::now();
                roundtrip(&stream, content_type.clone(), mode, size).await?;
                let elapsed = started.elapsed();
                self.remember(&path, content_type);
                Ok((
                    elapsed,
                    Moved {
                        bytes: size,
                        messages: 1,
                    },
                ))
            }
            Op::ThroughputAppend {
                path,
                count,
                size,
                concurrency,
            } => {
                let stream = self.stream(KIND, &path)?;
                if self.content_type(&path).is_none() {
                    create(&stream, None).await?;
                    self.remember(&path, None);
                }
                let json = is_json(self.content_type(&path).as_deref());
                let message = payload(json, size);
                let started = Instant::now();
                let producer = IdempotentProducer::new(
                    stream,
                    format!("bench-{}", std::process::id()),
                    ProducerOptions {
                        max_in_flight: concurrency.unwrap_or(5).max(1),
                        ..ProducerOptions::default()
                    },
                );
                for _ in 0..count {
                    producer
                        .append(message.clone())
                        .await
                        .map_err(|e| failed(&e))?;
                }
                producer.detach().await.map_err(|e| failed(&e))?;
                let moved = Moved {
                    bytes: count * size,
                    messages: count,
                };
                Ok((started.elapsed(), moved))
            }
            Op::ThroughputRead { path } => {
                let stream = self.stream(KIND, &path)?;
                let started = Instant::now();
                let mut reads =
                    stream.read_json::<serde::de::IgnoredAny>(ReadOptions {
                        live: LiveMode::Off,
                        ..ReadOptions::default()
                    });
                let mut moved = Moved::default();
                while let Some(batch) = reads.next().await {
                    let batch = batch.map_err(|e| failed(&e))?;
                    moved.messages += batch.items.len();
                }
                Ok((started.elapsed(), moved))
            }
        }
    }

    fn remember(&mut self, path: &str, content_type: Option<String>) {
        self.content_types.insert(
            path.to_owned(),
            content_type.unwrap_or_else(|| "application/octet-stream".into()),
        );
    }
}

async fn create(
    stream: &DurableStream,
    content_type: Option<String>,
) -> Result<(), Reply> {
    stream
        .create(CreateOptions {
            content_type: Some(
                content_type
                    .unwrap_or_else(|| "application/octet-stream".into()),
            ),
            ..CreateOptions::default()
        })
        .await
        .map_err(|e| failed(&e))
}

/// One catch-up read of the whole stream.
async fn catch_up(
    stream: &DurableStream,
    offset: Option<String>,
) -> Result<Moved, Reply> {
    let mut reads = stream.read_bytes(ReadOptions {
        offset: offset.map_or(Offset::START, Offset::new),
        live: LiveMode::Off,
        ..ReadOptions::default()
    });
    let mut moved = Moved::default();
    while let Some(chunk) = reads.next().await {
        let chunk = chunk.map_err(|e| failed(&e))?;
        moved.bytes += chunk.data.len();
        if !chunk.meta.partial && !chunk.data.is_empty() {
            moved.messages += 1;
        }
    }
    Ok(moved)
}

/// Creates the stream, starts a live read, appends, and waits for the
/// data to arrive.
async fn roundtrip(
    stream: &DurableStream,
    content_type: Option<String>,
    mode: LiveMode,
    size: usize,
) -> Result<(), Reply> {
    create(stream, content_type.clone()).await?;
    let mut reads = stream.read_bytes(ReadOptions {
        offset: Offset::START,
        live: mode,
        ..ReadOptions::default()
    });
    let body = payload(is_json(content_type.as_deref()), size);
    let append = stream.append(
        body,
        AppendOptions {
            content_type,
            ..AppendOptions::default()
        },
    );
    let arrived = async {
        while let Some(chunk) = reads.next().await {
            let chunk = chunk.map_err(|e| failed(&e))?;
            if !chunk.data.is_empty() {
                return Ok(());
            }
        }
        Err(Reply::error(
            KIND,
            "INTERNAL_ERROR",
            None,
            "read ended early",
        ))
    };
    let both = async {
        let (appended, arrived) = tokio::join!(append, arrived);
        appended.map_err(|e| failed(&e))?;
        arrived
    };
    tokio::time::timeout(ROUNDTRIP_LIMIT, both)
        .await
        .map_err(|_| {
            Reply::error(KIND, "TIMEOUT", None, "data never arrived")
        })?
}
