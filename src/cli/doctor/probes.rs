//! The doctor's probes: the dsx client for what it can express (its
//! request observer records the evidence), raw reqwest without redirects
//! for what the client deliberately hides (CORS, `If-None-Match`,
//! compression, the `__ds` control prefix).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;

use super::{DoctorArgs, Latency, PREFIX, Report, Verdict};
use crate::cli::Context;
use crate::cli::exit::usage;
use crate::client::{
    AppendOptions, Client, CloseOptions, CreateOptions, DurableStream, Error,
    LiveMode, Offset, ProducerStamp, ReadOptions, RequestEvent, RetryPolicy,
    redact_url,
};

/// The bound on one probe's wait.
const WAIT: Duration = Duration::from_secs(5);
/// How far apart the timed appends are.
const SPACING: Duration = Duration::from_millis(80);
/// Events closer than this, for appends [`SPACING`] apart, came in a lump.
const LUMP: Duration = Duration::from_millis(20);
/// The doctor's text stream's content: enough for a server to compress.
const LINE: &str = "dsx doctor probe line, repeated to have a body\n";

/// The headers a CDN (or browser cache) acts on.
const CACHING: &[&str] = &[
    "cache-control",
    "cdn-cache-control",
    "surrogate-control",
    "expires",
    "age",
    "vary",
    "etag",
];

/// The requests the client made, as its observer saw them.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<RequestEvent>>>);

impl Recorder {
    fn take(&self) -> Vec<RequestEvent> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }

    /// The last request's evidence, of those `keep` selects.
    fn last(&self, keep: impl Fn(&RequestEvent) -> bool) -> String {
        self.take()
            .iter()
            .rev()
            .find(|e| keep(e))
            .map_or_else(|| "no request seen".to_owned(), event_evidence)
    }
}

fn event_evidence(e: &RequestEvent) -> String {
    let status = e
        .status
        .map_or_else(|| e.error.clone().unwrap_or_default(), |s| s.to_string());
    let mut text = format!("{} {} -> {status}", e.method, redact_url(&e.url));
    for (name, value) in &e.response_headers {
        let _ = write!(text, "; {name}: {value}");
    }
    text
}

fn any(_: &RequestEvent) -> bool {
    true
}

fn live(mode: &'static str) -> impl Fn(&RequestEvent) -> bool {
    move |e| e.method == "GET" && e.url.contains(&format!("live={mode}"))
}

/// Whether a refusal means "this server does not do that" rather than a
/// broken answer.
fn not_offered(err: &Error) -> bool {
    matches!(err.status(), Some(400 | 404 | 405 | 501))
}

fn verdict_of_error(err: &Error) -> Verdict {
    if not_offered(err) {
        Verdict::NotOffered
    } else {
        Verdict::Fail
    }
}

/// What the doctor runs on.
struct Probe {
    client: Client,
    rec: Recorder,
    raw: reqwest::Client,
    headers: Vec<(String, String)>,
    report: Report,
    created: Vec<DurableStream>,
    /// `{root}/dsx-doctor/{random id}`: where `--write` creates streams.
    dir: String,
}

pub(super) async fn run(
    ctx: &Context,
    args: &DoctorArgs,
) -> anyhow::Result<Report> {
    let rec = Recorder::default();
    let sink = rec.clone();
    let client = ctx
        .global
        .client_builder(&ctx.base_url)
        .map_err(|e| usage(format!("{e:#}")))?
        .timeout(WAIT)
        .retry(RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        })
        .observer(Arc::new(move |e: &RequestEvent| {
            sink.0.lock().expect("not poisoned").push(e.clone());
        }))
        .build()
        .map_err(|e| usage(format!("{e}")))?;
    // Never follow a redirect: the doctor reports it instead, and a raw
    // request must not carry the headers to another origin.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(WAIT)
        .build()?;
    let target = args.url.clone().unwrap_or_else(|| ctx.base_url.clone());
    let target_url =
        client.resolve(&target).map_err(|e| usage(e.to_string()))?;
    let mut probe = Probe {
        headers: ctx.global.header_pairs()?,
        client,
        rec,
        raw,
        report: Report {
            url: target_url.to_string(),
            ..Report::default()
        },
        created: Vec::new(),
        dir: String::new(),
    };
    let given = probe.client.stream(target_url.as_str())?;
    let is_stream = match given.head().await {
        Ok(_) => true,
        Err(e) if e.is_network() || e.is_timeout() => return Err(e.into()),
        Err(_) => false,
    };
    probe.report.is_stream = is_stream;
    let head_evidence = probe.rec.last(any);
    let root = if is_stream {
        ctx.base_url.clone()
    } else {
        target_url.to_string()
    };
    let own = if args.write {
        probe.setup(&root).await
    } else {
        None
    };
    let subject = if is_stream { Some(given) } else { own.clone() };
    match &subject {
        Some(s) if is_stream => {
            probe.report.check("head", Verdict::Pass, head_evidence);
            probe.reads(s).await;
        }
        Some(s) => {
            let verdict = match s.head().await {
                Ok(_) => Verdict::Pass,
                Err(_) => Verdict::Fail,
            };
            let evidence = probe.rec.last(any);
            probe.report.check("head", verdict, evidence);
            probe.reads(s).await;
        }
        None => {
            let why = if args.write {
                "the doctor's stream could not be created"
            } else {
                "URL is not a stream: give one, or --write"
            };
            for name in [
                "head",
                "catch-up",
                "offset-now",
                "long-poll",
                "sse",
                "etag-304",
                "compression",
            ] {
                probe.report.check(name, Verdict::Skipped, why);
            }
        }
    }
    probe
        .cors(subject.as_ref().map_or(root.as_str(), |s| s.url().as_str()))
        .await;
    probe.subscriptions(&root).await;
    if let Some(own) = own {
        probe.writes(&own, args.samples).await;
    } else {
        let why = if args.write {
            "the doctor's stream could not be created"
        } else {
            "needs --write"
        };
        for name in [
            "sse-base64",
            "json-mode",
            "append",
            "forks",
            "ttl",
            "producers",
            "closure",
        ] {
            probe.report.check(name, Verdict::Skipped, why);
        }
    }
    probe.cleanup().await;
    Ok(probe.report)
}

/// Reads a session to its first item that `done` accepts, bounded.
async fn read_until(
    stream: &DurableStream,
    options: ReadOptions,
    done: impl Fn(&crate::client::ByteChunk) -> bool,
) -> Result<(crate::client::ByteChunk, usize), String> {
    let mut read = stream.read_bytes(options);
    let mut bytes = 0;
    let deadline = Instant::now() + WAIT;
    for _ in 0..10_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, read.next()).await {
            Err(_) => return Err(format!("no answer within {WAIT:?}")),
            Ok(None) => return Err("the read ended early".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(chunk))) => {
                bytes += chunk.data.len();
                if done(&chunk) {
                    return Ok((chunk, bytes));
                }
            }
        }
    }
    Err("too many pieces".into())
}

impl Probe {
    /// Creates the doctor's text stream (with a body to compress).
    async fn setup(&mut self, root: &str) -> Option<DurableStream> {
        let id = format!("{:012x}", rand::random::<u64>() >> 16);
        self.dir = format!("{}/{PREFIX}{id}", root.trim_end_matches('/'));
        let stream = self.client.stream(&format!("{}/text", self.dir)).ok()?;
        let created = stream
            .create(CreateOptions {
                content_type: Some("text/plain".into()),
                data: Some(Bytes::from(LINE.repeat(200))),
                ..CreateOptions::default()
            })
            .await;
        let evidence = self.rec.last(any);
        if created.is_err() {
            self.report.check("create", Verdict::Fail, evidence);
            return None;
        }
        self.created.push(stream.clone());
        self.report.created.push(stream.url().to_string());
        self.report.check("create", Verdict::Pass, evidence);
        Some(stream)
    }

    /// Catch-up, `offset=now`, long-poll, SSE, ETag/304, compression and
    /// the caching headers, all read-only.
    async fn reads(&mut self, s: &DurableStream) {
        let catch_up = read_until(
            s,
            ReadOptions {
                live: LiveMode::Off,
                ..ReadOptions::default()
            },
            |c| c.meta.up_to_date && !c.meta.partial,
        )
        .await;
        let evidence = self.rec.last(live_none);
        let has_data = matches!(catch_up, Ok((_, n)) if n > 0);
        self.verdict("catch-up", catch_up.map(|_| ()), evidence);
        let now = read_until(
            s,
            ReadOptions {
                offset: Offset::NOW,
                live: LiveMode::Off,
                ..ReadOptions::default()
            },
            |c| !c.meta.partial,
        )
        .await;
        let evidence = self.rec.last(live_none);
        let now = now.and_then(|(c, n)| {
            if c.meta.offset.is_now() || c.meta.offset.as_str().is_empty() {
                Err("no real offset for offset=now".into())
            } else if n > 0 {
                Err(format!("offset=now returned {n} bytes of history"))
            } else if !c.meta.up_to_date {
                Err("offset=now is not up to date".into())
            } else {
                Ok(())
            }
        });
        self.verdict("offset-now", now, evidence);
        let poll = read_until(
            s,
            ReadOptions {
                live: LiveMode::LongPoll,
                ..ReadOptions::default()
            },
            |c| !c.meta.partial,
        )
        .await;
        let evidence = self.rec.last(live("long-poll"));
        let poll = match poll {
            // An empty stream holds a long-poll open: that is the feature.
            Err(why) if !has_data && why.starts_with("no answer") => Ok(()),
            other => other.map(|_| ()),
        };
        self.verdict("long-poll", poll, evidence);
        let sse = read_until(
            s,
            ReadOptions {
                live: LiveMode::Sse,
                ..ReadOptions::default()
            },
            |c| !c.meta.partial,
        )
        .await;
        let evidence = self.rec.last(live("sse"));
        self.verdict("sse", sse.map(|_| ()), evidence);
        self.etag(s.url().as_str()).await;
        self.compression(s.url().as_str()).await;
        let now_url = format!("{}?offset=now", s.url());
        if let Ok(resp) = self.raw_get(&now_url, &[]).await {
            self.caching("offset=now", &resp);
        }
    }

    fn verdict(
        &mut self,
        name: &'static str,
        outcome: Result<(), String>,
        evidence: String,
    ) {
        match outcome {
            Ok(()) => self.report.check(name, Verdict::Pass, evidence),
            Err(why) => {
                self.report.check(
                    name,
                    Verdict::Fail,
                    format!("{why}; {evidence}"),
                );
            }
        }
    }

    async fn raw_get(
        &self,
        url: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        self.raw_request(reqwest::Method::GET, url, extra).await
    }

    async fn raw_request(
        &self,
        method: reqwest::Method,
        url: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        let mut req = self.raw.request(method, url);
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        for (name, value) in extra {
            req = req.header(*name, *value);
        }
        req.send().await
    }

    /// Records the caching headers of `resp` a CDN would act on.
    fn caching(&mut self, what: &str, resp: &reqwest::Response) {
        let found: Vec<String> = CACHING
            .iter()
            .filter_map(|n| header(resp, n).map(|v| format!("{n}: {v}")))
            .collect();
        let text = if found.is_empty() {
            "no caching headers".to_owned()
        } else {
            found.join("; ")
        };
        self.report.caching.push((what.to_owned(), text));
    }

    async fn etag(&mut self, url: &str) {
        let url = format!("{url}?offset=-1");
        let first = match self.raw_get(&url, &[]).await {
            Ok(r) => r,
            Err(e) => {
                self.report.check("etag-304", Verdict::Fail, e.to_string());
                return;
            }
        };
        self.caching("catch-up", &first);
        let Some(etag) = header(&first, "etag") else {
            let evidence = raw_evidence("GET", &first, CACHING);
            self.report.check(
                "etag-304",
                Verdict::Fail,
                format!("no ETag on a catch-up; {evidence}"),
            );
            return;
        };
        let again = self.raw_get(&url, &[("if-none-match", &etag)]).await;
        match again {
            Ok(r) => {
                let evidence = format!(
                    "If-None-Match {etag}: {}",
                    raw_evidence("GET", &r, CACHING)
                );
                let verdict = if r.status().as_u16() == 304 {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                };
                self.report.check("etag-304", verdict, evidence);
            }
            Err(e) => {
                self.report.check("etag-304", Verdict::Fail, e.to_string());
            }
        }
    }

    async fn compression(&mut self, url: &str) {
        let url = format!("{url}?offset=-1");
        let resp = self
            .raw_get(&url, &[("accept-encoding", "gzip, deflate, br, zstd")])
            .await;
        match resp {
            Ok(r) => {
                let evidence = raw_evidence(
                    "GET",
                    &r,
                    &["content-encoding", "content-length", "vary"],
                );
                let verdict = if header(&r, "content-encoding").is_some() {
                    Verdict::Pass
                } else {
                    Verdict::NotOffered
                };
                self.report.check("compression", verdict, evidence);
            }
            Err(e) => {
                self.report
                    .check("compression", Verdict::Fail, e.to_string());
            }
        }
    }

    /// A CORS preflight for an append, and the exposed headers on a read.
    async fn cors(&mut self, url: &str) {
        let origin = "https://dsx-doctor.invalid";
        let pre = self
            .raw_request(
                reqwest::Method::OPTIONS,
                url,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", "content-type"),
                ],
            )
            .await;
        let pre = match pre {
            Ok(r) => r,
            Err(e) => {
                self.report.check("cors", Verdict::Fail, e.to_string());
                return;
            }
        };
        let evidence = raw_evidence("OPTIONS", &pre, &["access-control-"]);
        if header(&pre, "access-control-allow-origin").is_none() {
            self.report.check("cors", Verdict::NotOffered, evidence);
            return;
        }
        let read = format!("{url}?offset=-1");
        let exposed = match self.raw_get(&read, &[("origin", origin)]).await {
            Ok(r) => header(&r, "access-control-expose-headers"),
            Err(_) => None,
        };
        let offset_exposed = exposed.as_deref().is_some_and(|v| {
            v.to_ascii_lowercase().contains("stream-next-offset")
        });
        let evidence = format!(
            "{evidence}; GET exposes: {}",
            exposed.as_deref().unwrap_or("nothing")
        );
        let verdict = if offset_exposed {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        self.report.check("cors", verdict, evidence);
    }

    /// Subscriptions: the JWKS document under the reserved `__ds` prefix.
    async fn subscriptions(&mut self, root: &str) {
        let url = format!("{}/__ds/jwks.json", root.trim_end_matches('/'));
        match self.raw_get(&url, &[]).await {
            Ok(r) => {
                let status = r.status().as_u16();
                let evidence =
                    raw_evidence("GET", &r, &["content-type", "cache-control"]);
                let verdict = match status {
                    200 => {
                        let body = r.bytes().await.unwrap_or_default();
                        let keys =
                            serde_json::from_slice::<serde_json::Value>(&body)
                                .ok()
                                .is_some_and(|v| v["keys"].is_array());
                        if keys { Verdict::Pass } else { Verdict::Fail }
                    }
                    400..=499 => Verdict::NotOffered,
                    _ => Verdict::Fail,
                };
                self.report.check("subscriptions", verdict, evidence);
            }
            Err(e) => {
                self.report.check(
                    "subscriptions",
                    Verdict::Fail,
                    e.to_string(),
                );
            }
        }
    }

    /// The probes that write: each on its own `dsx-doctor/` stream.
    async fn writes(&mut self, own: &DurableStream, samples: u32) {
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

    async fn cleanup(&mut self) {
        for s in std::mem::take(&mut self.created) {
            if s.delete().await.is_err() {
                self.report.leftovers.push(s.url().to_string());
            }
        }
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

fn live_none(e: &RequestEvent) -> bool {
    e.method == "GET" && !e.url.contains("live=")
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

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The status and the headers of a raw response whose names start with
/// one of `shown` (the evidence a probe is about).
fn raw_evidence(
    method: &str,
    resp: &reqwest::Response,
    shown: &[&str],
) -> String {
    let mut text = format!(
        "{method} {} -> {}",
        redact_url(resp.url().as_str()),
        resp.status().as_u16()
    );
    for (name, value) in resp.headers() {
        if !shown.iter().any(|p| name.as_str().starts_with(p)) {
            continue;
        }
        let _ = write!(
            text,
            "; {name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        );
    }
    text
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
