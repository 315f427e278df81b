//! The doctor's probes that write: each on its own `dsx-doctor/` stream,
//! and the timed appends behind the latency and buffering figures.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;

use super::probes::{
    LINE, LUMP, Probe, SPACING, WAIT, any, event_evidence, live, read_until,
    verdict_of_error,
};
use super::{Latency, Verdict};
use crate::client::{
    AppendOptions, CloseOptions, CreateOptions, DurableStream, Error, LiveMode,
    Offset, ProducerStamp, ReadOptions,
};

impl Probe {
    /// The probes that write: each on its own `dsx-doctor/` stream.
    pub(super) async fn writes(&mut self, own: &DurableStream, samples: u32) {
        let at = |name: &str| {
            self.client.stream(&format!("{}/{name}", self.dir)).ok()
        };
        let (bin, json, fork, ttl, live) =
            (at("bin"), at("json"), at("fork"), at("ttl"), at("live"));
        let appended = own.append(LINE, AppendOptions::default()).await;
        let evidence = self.rec.last(any);
        match appended {
            Ok(r) if !r.next_offset.as_str().is_empty() => {
                self.report.check("append", Verdict::Pass, evidence);
            }
            Ok(_) => self.report.check(
                "append",
                Verdict::Fail,
                format!("no Stream-Next-Offset; {evidence}"),
            ),
            Err(_) => self.report.check("append", Verdict::Fail, evidence),
        }
        if let Some(bin) = bin {
            self.base64(&bin).await;
        }
        if let Some(json) = json {
            self.json_mode(&json).await;
        }
        if let Some(fork) = fork {
            self.fork(&fork, own).await;
        }
        if let Some(ttl) = ttl {
            self.ttl(&ttl).await;
        }
        self.producers(own).await;
        if let Some(live) = live {
            self.latency(&live, samples).await;
        }
        self.closure(own).await;
    }

    async fn create(
        &mut self,
        s: &DurableStream,
        options: CreateOptions,
    ) -> Result<(), Error> {
        let result = s.create(options).await;
        if result.is_ok() {
            self.report.created.push(s.url().to_string());
            self.created.push(s.clone());
        }
        result
    }

    async fn base64(&mut self, s: &DurableStream) {
        let data: Vec<u8> = (0..=255u8).collect();
        let made = self
            .create(
                s,
                CreateOptions {
                    content_type: Some("application/octet-stream".into()),
                    data: Some(Bytes::from(data.clone())),
                    ..CreateOptions::default()
                },
            )
            .await;
        if let Err(e) = made {
            let evidence = self.rec.last(any);
            self.report.check(
                "sse-base64",
                Verdict::Fail,
                format!("{e}; {evidence}"),
            );
            return;
        }
        self.rec.take();
        let read = read_until(
            s,
            ReadOptions {
                live: LiveMode::Sse,
                ..ReadOptions::default()
            },
            |c| !c.meta.partial && !c.data.is_empty(),
        )
        .await;
        let events = self.rec.take();
        let get = events.iter().rev().find(|e| live("sse")(e));
        let evidence =
            get.map_or_else(|| "no SSE request".into(), event_evidence);
        let encoded = get.is_some_and(|e| {
            e.response_headers.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case("stream-sse-data-encoding")
                    && v.eq_ignore_ascii_case("base64")
            })
        });
        let outcome = match read {
            Ok((c, _)) if c.data.as_ref() == data.as_slice() && encoded => {
                Ok(())
            }
            Ok(_) if !encoded => {
                Err("no stream-sse-data-encoding: base64".to_owned())
            }
            Ok(_) => Err("the bytes read differ from those written".into()),
            Err(why) => Err(why),
        };
        self.verdict("sse-base64", outcome, evidence);
    }

    async fn json_mode(&mut self, s: &DurableStream) {
        let made = self
            .create(
                s,
                CreateOptions {
                    content_type: Some("application/json".into()),
                    ..CreateOptions::default()
                },
            )
            .await;
        let appended = match made {
            Ok(()) => s
                .append(r#"[{"n":1},{"n":2}]"#, AppendOptions::default())
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        let evidence = self.rec.last(any);
        if let Err(e) = appended {
            self.report.check(
                "json-mode",
                Verdict::Fail,
                format!("{e}; {evidence}"),
            );
            return;
        }
        let mut read = s.read_json_raw(ReadOptions {
            live: LiveMode::Off,
            ..ReadOptions::default()
        });
        let mut messages = 0;
        let outcome = loop {
            match tokio::time::timeout(WAIT, read.next()).await {
                Ok(Some(Ok(batch))) => {
                    messages += batch.len();
                    if batch.meta.up_to_date && !batch.meta.partial {
                        break Ok(());
                    }
                }
                Ok(Some(Err(e))) => break Err(e.to_string()),
                Ok(None) => break Ok(()),
                Err(_) => break Err(format!("no answer within {WAIT:?}")),
            }
        };
        let evidence = self.rec.last(any);
        let outcome = outcome.and_then(|()| {
            if messages == 2 {
                Ok(())
            } else {
                Err(format!("a 2-element array append read as {messages}"))
            }
        });
        self.verdict("json-mode", outcome, evidence);
    }

    async fn fork(&mut self, fork: &DurableStream, source: &DurableStream) {
        let result = fork
            .fork_detailed(
                source.url().as_str(),
                None,
                CreateOptions {
                    content_type: Some("text/plain".into()),
                    ..CreateOptions::default()
                },
            )
            .await;
        let evidence = self.rec.last(any);
        match result {
            Ok(_) => {
                self.created.insert(0, fork.clone());
                self.report.created.push(fork.url().to_string());
                let read = read_until(
                    fork,
                    ReadOptions {
                        live: LiveMode::Off,
                        ..ReadOptions::default()
                    },
                    |c| c.meta.up_to_date && !c.meta.partial,
                )
                .await;
                match read {
                    Ok((_, n)) if n > 0 => {
                        self.report.check("forks", Verdict::Pass, evidence);
                    }
                    Ok(_) => self.report.check(
                        "forks",
                        Verdict::NotOffered,
                        format!("the fork is empty: fork headers ignored; {evidence}"),
                    ),
                    Err(why) => self.report.check(
                        "forks",
                        Verdict::Fail,
                        format!("{why}; {evidence}"),
                    ),
                }
            }
            Err(e) => {
                let verdict = verdict_of_error(&e);
                self.report
                    .check("forks", verdict, format!("{e}; {evidence}"));
            }
        }
    }

    async fn ttl(&mut self, s: &DurableStream) {
        let made = self
            .create(
                s,
                CreateOptions {
                    content_type: Some("text/plain".into()),
                    ttl: Some(Duration::from_hours(1)),
                    ..CreateOptions::default()
                },
            )
            .await;
        if let Err(e) = made {
            let evidence = self.rec.last(any);
            let verdict = verdict_of_error(&e);
            self.report
                .check("ttl", verdict, format!("{e}; {evidence}"));
            return;
        }
        self.rec.take();
        let head = s.head().await;
        let evidence = self.rec.last(any);
        match head {
            Ok(meta) if meta.ttl.is_some() || meta.expires_at.is_some() => {
                self.report.check("ttl", Verdict::Pass, evidence);
            }
            Ok(_) => self.report.check(
                "ttl",
                Verdict::Fail,
                format!(
                    "created with Stream-TTL, HEAD reports none; {evidence}"
                ),
            ),
            Err(e) => {
                self.report.check(
                    "ttl",
                    Verdict::Fail,
                    format!("{e}; {evidence}"),
                );
            }
        }
    }

    async fn producers(&mut self, s: &DurableStream) {
        let stamp = ProducerStamp {
            id: "dsx-doctor".into(),
            epoch: 0,
            seq: 0,
        };
        let send = || {
            s.append(
                "producer line\n",
                AppendOptions {
                    producer: Some(stamp.clone()),
                    ..AppendOptions::default()
                },
            )
        };
        let first = send().await;
        let second = match first {
            Ok(_) => send().await.map(Some),
            Err(e) => Err(e),
        };
        let evidence = self.rec.last(any);
        match second {
            Ok(Some(r)) if r.duplicate => {
                self.report.check("producers", Verdict::Pass, evidence);
            }
            Ok(_) => self.report.check(
                "producers",
                Verdict::NotOffered,
                format!(
                    "a repeated (id, epoch, seq) was appended again; {evidence}"
                ),
            ),
            Err(e) => {
                let verdict = verdict_of_error(&e);
                self.report.check(
                    "producers",
                    verdict,
                    format!("{e}; {evidence}"),
                );
            }
        }
    }

    async fn closure(&mut self, s: &DurableStream) {
        let closed = s.close(CloseOptions::default()).await;
        let close_evidence = self.rec.last(any);
        if let Err(e) = closed {
            let verdict = verdict_of_error(&e);
            self.report.check(
                "closure",
                verdict,
                format!("{e}; {close_evidence}"),
            );
            return;
        }
        let head = s.head().await;
        let after = s.append("late\n", AppendOptions::default()).await;
        let evidence = self.rec.last(any);
        let outcome = match (head, after) {
            (Ok(meta), Err(e)) if meta.closed && e.is_closed() => Ok(()),
            (Ok(meta), _) if !meta.closed => {
                Err("HEAD after close has no Stream-Closed: true".to_owned())
            }
            (_, Ok(_)) => Err("an append after close was accepted".into()),
            (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
        };
        self.verdict(
            "closure",
            outcome,
            format!("{close_evidence}; {evidence}"),
        );
    }

    /// Times appends to data received, for long-poll and SSE, and looks
    /// for SSE events arriving in lumps.
    async fn latency(&mut self, s: &DurableStream, samples: u32) {
        let made = self
            .create(
                s,
                CreateOptions {
                    content_type: Some("text/plain".into()),
                    ..CreateOptions::default()
                },
            )
            .await;
        if made.is_err() {
            return;
        }
        let Ok(meta) = s.head().await else { return };
        if let Some((lat, _)) =
            timed(s, LiveMode::LongPoll, &meta.next_offset, samples).await
        {
            self.report.long_poll = Some(lat);
        }
        let Ok(meta) = s.head().await else { return };
        if let Some((lat, arrivals)) =
            timed(s, LiveMode::Sse, &meta.next_offset, samples).await
        {
            let (buffered, why) = lumps(samples, &arrivals);
            self.report.sse_buffered = Some((buffered, why));
            self.report.sse = Some(lat);
        }
        self.rec.take();
    }
}

/// Whether `arrivals` of `samples` appends [`SPACING`] apart came in lumps
/// (a proxy that buffers SSE): at least half of them merged into other
/// events, or at least half of the gaps between them under [`LUMP`].
pub(super) fn lumps(samples: u32, arrivals: &[Instant]) -> (bool, String) {
    let gaps: Vec<Duration> =
        arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    let lumped = gaps.iter().filter(|g| **g < LUMP).count();
    let merged = (samples as usize).saturating_sub(arrivals.len());
    let buffered = merged * 2 >= samples as usize
        || (!gaps.is_empty() && lumped * 2 >= gaps.len());
    let why = format!(
        "{samples} appends {SPACING:?} apart arrived as {} events, \
         {lumped} of {} gaps under {LUMP:?}",
        arrivals.len(),
        gaps.len()
    );
    (buffered, why)
}

/// `samples` appends [`SPACING`] apart to `s` while one live session of
/// `mode` reads from `from`: each append's latency (to the matching
/// arrival) and the arrival times.
async fn timed(
    s: &DurableStream,
    mode: LiveMode,
    from: &Offset,
    samples: u32,
) -> Option<(Latency, Vec<Instant>)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut read = s.read_bytes(ReadOptions {
        offset: from.clone(),
        live: mode,
        ..ReadOptions::default()
    });
    let reader = tokio::spawn(async move {
        while let Some(Ok(chunk)) = read.next().await {
            if !chunk.data.is_empty() && chunk.meta.ends_unit {
                let _ = tx.send(Instant::now());
            }
        }
    });
    // Let the first live request reach the server before the first append.
    tokio::time::sleep(SPACING).await;
    let mut sent = Vec::new();
    for i in 0..samples {
        let at = Instant::now();
        if s.append(format!("{i}\n"), AppendOptions::default())
            .await
            .is_err()
        {
            break;
        }
        sent.push(at);
        tokio::time::sleep(SPACING).await;
    }
    let mut arrivals = Vec::new();
    let deadline = Instant::now() + WAIT;
    while arrivals.len() < sent.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(at)) => arrivals.push(at),
            _ => break,
        }
    }
    reader.abort();
    if arrivals.is_empty() {
        return None;
    }
    let latencies = sent
        .iter()
        .zip(&arrivals)
        .map(|(s, a)| a.saturating_duration_since(*s))
        .collect();
    Some((Latency { samples: latencies }, arrivals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: &[u64]) -> Vec<Instant> {
        ms.iter()
            .map(|m| base + Duration::from_millis(*m))
            .collect()
    }

    #[test]
    fn events_one_by_one_are_not_lumps() {
        let base = Instant::now();
        let (buffered, why) = lumps(4, &at(base, &[3, 83, 164, 243]));
        assert!(!buffered, "{why}");
        assert!(why.contains("as 4 events, 0 of 3 gaps"), "{why}");
    }

    #[test]
    fn events_flushed_together_are_lumps() {
        let base = Instant::now();
        // A proxy held the first three and let them go at once.
        let (buffered, why) = lumps(4, &at(base, &[250, 251, 251, 330]));
        assert!(buffered, "{why}");
        // Or merged them into one event.
        let (buffered, why) = lumps(4, &at(base, &[250, 330]));
        assert!(buffered, "{why}");
    }
}
