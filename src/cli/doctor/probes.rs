//! The doctor's probes: the dsx client for what it can express (its
//! request observer records the evidence), raw reqwest without redirects
//! for what the client deliberately hides (CORS, `If-None-Match`,
//! compression, the `__ds` control prefix).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;

use super::{DoctorArgs, PREFIX, Report, Verdict};
use crate::cli::Context;
use crate::cli::exit::usage;
use crate::client::{
    Client, CreateOptions, DurableStream, Error, LiveMode, Offset, ReadOptions,
    RequestEvent, RetryPolicy, redact_header, redact_url,
};

/// The bound on one probe's wait.
pub(super) const WAIT: Duration = Duration::from_secs(5);
/// How far apart the timed appends are.
pub(super) const SPACING: Duration = Duration::from_millis(80);
/// Events closer than this, for appends [`SPACING`] apart, came in a lump.
pub(super) const LUMP: Duration = Duration::from_millis(20);
/// The doctor's text stream's content: enough for a server to compress.
pub(super) const LINE: &str =
    "dsx doctor probe line, repeated to have a body\n";

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
pub(super) struct Recorder(Arc<Mutex<Vec<RequestEvent>>>);

impl Recorder {
    pub(super) fn take(&self) -> Vec<RequestEvent> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }

    /// The last request's evidence, of those `keep` selects.
    pub(super) fn last(&self, keep: impl Fn(&RequestEvent) -> bool) -> String {
        self.take()
            .iter()
            .rev()
            .find(|e| keep(e))
            .map_or_else(|| "no request seen".to_owned(), event_evidence)
    }
}

pub(super) fn event_evidence(e: &RequestEvent) -> String {
    let status = e
        .status
        .map_or_else(|| e.error.clone().unwrap_or_default(), |s| s.to_string());
    let mut text = format!("{} {} -> {status}", e.method, redact_url(&e.url));
    for (name, value) in e.protocol_headers() {
        let value = redact_header(name, value, &[]);
        let _ = write!(text, "; {name}: {value}");
    }
    text
}

pub(super) fn any(_: &RequestEvent) -> bool {
    true
}

pub(super) fn live(mode: &'static str) -> impl Fn(&RequestEvent) -> bool {
    move |e| e.method == "GET" && e.url.contains(&format!("live={mode}"))
}

/// Whether a refusal means "this server does not do that" rather than a
/// broken answer.
fn not_offered(err: &Error) -> bool {
    matches!(err.status(), Some(400 | 404 | 405 | 501))
}

pub(super) fn verdict_of_error(err: &Error) -> Verdict {
    if not_offered(err) {
        Verdict::NotOffered
    } else {
        Verdict::Fail
    }
}

/// What the doctor runs on.
pub(super) struct Probe {
    pub(super) client: Client,
    pub(super) rec: Recorder,
    pub(super) raw: reqwest::Client,
    pub(super) headers: Vec<(String, String)>,
    pub(super) report: Report,
    pub(super) created: Vec<DurableStream>,
    /// `{root}/dsx-doctor/{random id}`: where `--write` creates streams.
    pub(super) dir: String,
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
pub(super) async fn read_until(
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

    pub(super) fn verdict(
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

    async fn cleanup(&mut self) {
        for s in std::mem::take(&mut self.created) {
            if s.delete().await.is_err() {
                self.report.leftovers.push(s.url().to_string());
            }
        }
    }
}

fn live_none(e: &RequestEvent) -> bool {
    e.method == "GET" && !e.url.contains("live=")
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
