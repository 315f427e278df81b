//! Demo streams for `dsx demo` and `dsx serve --demo`.
//!
//! [`seed`] creates the streams over plain HTTP against a running server
//! (any Durable Streams server, not only ours) and [`spawn_live`] keeps
//! some of them moving. Seeding is idempotent: a stream that already
//! exists (say, a restart on the same `--data-dir`) is left as it is, and
//! the live writers carry on from the events already stored.
//!
//! | path | content type | what it is |
//! |---|---|---|
//! | `demo/orders` | `application/json` | live order events, 2-4 a second |
//! | `demo/orders-fork` | `application/json` | fork of `demo/orders` two thirds into its history, plus two fork-only refunds |
//! | `demo/app-log` | `text/plain` | live application log, 1-3 lines a second |
//! | `demo/app-events` | `application/json` | the same log as JSON events with a `level` (for `select(.level == "error")`) |
//! | `demo/session-ttl` | `application/json` | sliding `Stream-TTL: 60`, kept alive by a heartbeat every 5 s |
//! | `demo/build-2291` | `text/plain` | a CI build log, closed |
//! | `demo/thumbnail.png` | `image/png` | a 48×48 PNG (binary) |

mod logs;
mod orders;

use std::time::Duration;

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use logs::LogGen;
use orders::OrderSim;

const PNG: &[u8] = include_bytes!("../../assets/demo/thumbnail.png");

const ORDERS: &str = "demo/orders";
const ORDERS_FORK: &str = "demo/orders-fork";
const APP_LOG: &str = "demo/app-log";
const APP_EVENTS: &str = "demo/app-events";
const SESSION: &str = "demo/session-ttl";
const BUILD: &str = "demo/build-2291";
const THUMBNAIL: &str = "demo/thumbnail.png";

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
/// Sliding TTL of `demo/session-ttl`, in seconds.
pub const SESSION_TTL_SECS: u64 = 60;
/// How often the live writer touches `demo/session-ttl`.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Order events written when `demo/orders` is created.
const ORDER_HISTORY: usize = 150;
/// The fork diverges after this many of them.
const FORK_AT: usize = 100;
/// Log lines written when `demo/app-log` is created.
const LOG_HISTORY: usize = 60;

/// One demo stream, as seeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoStream {
    /// Name under the stream base, e.g. `demo/orders`.
    pub path: String,
    /// Full URL of the stream.
    pub url: String,
    pub content_type: String,
    /// One line for humans.
    pub description: String,
    /// Whether [`spawn_live`] keeps appending to it.
    pub live: bool,
    pub closed: bool,
    /// Sliding TTL in seconds, if any.
    pub ttl_secs: Option<u64>,
    /// Source stream name if this is a fork.
    pub forked_from: Option<String>,
}

/// Streams live under `{base_url}/v1/stream/`.
fn stream_url(base_url: &str, path: &str) -> String {
    format!("{}/v1/stream/{path}", base_url.trim_end_matches('/'))
}

/// Creates the demo streams on the server at `base_url` (e.g.
/// `http://127.0.0.1:4437`, streams under `/v1/stream/`) and describes them.
pub async fn seed(base_url: &str) -> anyhow::Result<Vec<DemoStream>> {
    let http = http_client()?;
    let api = Api {
        http: &http,
        base: base_url,
    };
    let mut rng = StdRng::seed_from_u64(rand::random());

    let fork_offset = seed_orders(&api).await?;
    seed_fork(&api, fork_offset.as_deref()).await?;
    seed_app_log(&api, &mut rng).await?;
    seed_session(&api).await?;
    seed_build(&api).await?;
    if !api.exists(THUMBNAIL).await? {
        api.create(THUMBNAIL, "image/png", &[], PNG).await?;
    }
    Ok(describe(base_url))
}

/// What [`seed`] creates, without touching the server.
pub fn describe(base_url: &str) -> Vec<DemoStream> {
    let stream =
        |path: &str, content_type: &str, description: &str| DemoStream {
            path: path.to_owned(),
            url: stream_url(base_url, path),
            content_type: content_type.to_owned(),
            description: description.to_owned(),
            live: false,
            closed: false,
            ttl_secs: None,
            forked_from: None,
        };
    vec![
        DemoStream {
            live: true,
            ..stream(ORDERS, JSON, "live order events, 2-4 a second")
        },
        DemoStream {
            forked_from: Some(ORDERS.to_owned()),
            ..stream(
                ORDERS_FORK,
                JSON,
                "fork of demo/orders (Stream-Forked-From) with what-if refunds",
            )
        },
        DemoStream {
            live: true,
            ..stream(APP_LOG, TEXT, "live application log, 1-3 lines a second")
        },
        DemoStream {
            live: true,
            ..stream(
                APP_EVENTS,
                JSON,
                "the same log as JSON events with a level (try | select(.level == \"error\"))",
            )
        },
        DemoStream {
            live: true,
            ttl_secs: Some(SESSION_TTL_SECS),
            ..stream(
                SESSION,
                JSON,
                "session heartbeats; sliding TTL 60 s kept alive every 5 s",
            )
        },
        DemoStream {
            closed: true,
            ..stream(BUILD, TEXT, "finished CI build log (closed)")
        },
        stream(THUMBNAIL, "image/png", "a 48x48 PNG image (binary)"),
    ]
}

/// Keeps the live demo streams moving until `cancel` fires.
///
/// Errors (a stopped server, a deleted stream) are logged and retried on
/// the next tick, so the task ends only on cancellation.
pub fn spawn_live(base_url: &str, cancel: CancellationToken) -> JoinHandle<()> {
    let base = base_url.to_owned();
    tokio::spawn(async move {
        let Ok(http) = http_client() else {
            tracing::warn!("demo: cannot build an HTTP client");
            return;
        };
        let api = Api {
            http: &http,
            base: &base,
        };
        let orders = std::sync::Mutex::new(Vec::<String>::new());
        tokio::join!(
            live_orders(&api, &cancel, &orders),
            live_log(&api, &cancel, &orders),
            live_session(&api, &cancel),
        );
    })
}

async fn seed_orders(api: &Api<'_>) -> anyhow::Result<Option<String>> {
    if api.exists(ORDERS).await? || !api.create(ORDERS, JSON, &[], b"").await? {
        return Ok(None);
    }
    let mut sim = OrderSim::new(rand::random());
    let now = OffsetDateTime::now_utc();
    let events: Vec<_> = (0..ORDER_HISTORY)
        .map(|i| {
            let back =
                f64::from(u32::try_from(ORDER_HISTORY - i).unwrap_or(0)) * 2.4;
            sim.next_event(&timestamp(now - Duration::from_secs_f64(back)))
        })
        .collect();
    let mut fork_offset = None;
    for (i, batch) in events.chunks(25).enumerate() {
        let offset = api.append(ORDERS, JSON, &json_body(batch)?).await?;
        if (i + 1) * 25 == FORK_AT {
            fork_offset = Some(offset);
        }
    }
    Ok(fork_offset)
}

/// Forks `demo/orders` at `offset` (its tail when `None`).
async fn seed_fork(api: &Api<'_>, offset: Option<&str>) -> anyhow::Result<()> {
    let source = format!("/v1/stream/{ORDERS}");
    let mut headers = vec![("Stream-Forked-From", source.as_str())];
    if let Some(offset) = offset {
        headers.push(("Stream-Fork-Offset", offset));
    }
    // A fork made on an earlier run has its own offset: leave it be.
    if api.exists(ORDERS_FORK).await?
        || !api.create(ORDERS_FORK, JSON, &headers, b"").await?
    {
        return Ok(());
    }
    let inherited = api.read_json(ORDERS_FORK).await?;
    let refunds = OrderSim::what_if_refunds(&inherited, &now_ts());
    if !refunds.is_empty() {
        api.append(ORDERS_FORK, JSON, &json_body(&refunds)?).await?;
    }
    Ok(())
}

async fn seed_app_log(api: &Api<'_>, rng: &mut StdRng) -> anyhow::Result<()> {
    let log = !api.exists(APP_LOG).await?
        && api.create(APP_LOG, TEXT, &[], b"").await?;
    let events = !api.exists(APP_EVENTS).await?
        && api.create(APP_EVENTS, JSON, &[], b"").await?;
    if !log && !events {
        return Ok(());
    }
    let orders = api.read_json(ORDERS).await.unwrap_or_default();
    let sim = OrderSim::resume(0, &orders);
    let sim_ids = sim.recent_order_ids();
    let customers = sim.customer_ids();
    let mut log_gen = LogGen::new();
    let now = OffsetDateTime::now_utc();
    for i in 0..LOG_HISTORY {
        let back = f64::from(u32::try_from(LOG_HISTORY - i).unwrap_or(0)) * 2.0;
        let ts = timestamp(now - Duration::from_secs_f64(back));
        let entry = log_gen.entry(rng, &sim_ids, &customers);
        if log {
            api.append(APP_LOG, TEXT, entry.line(&ts).as_bytes())
                .await?;
        }
        if events {
            let body = json_body(&[entry.event(&ts)])?;
            api.append(APP_EVENTS, JSON, &body).await?;
        }
    }
    Ok(())
}

async fn seed_session(api: &Api<'_>) -> anyhow::Result<()> {
    let ttl = SESSION_TTL_SECS.to_string();
    let headers = [("Stream-TTL", ttl.as_str())];
    if !api.exists(SESSION).await?
        && api.create(SESSION, JSON, &headers, b"").await?
    {
        let started = SessionEvent {
            kind: "session.started",
            beat: None,
            page: Some("/"),
            ..SessionEvent::new()
        };
        api.append(SESSION, JSON, &json_body(&[started])?).await?;
    }
    Ok(())
}

async fn seed_build(api: &Api<'_>) -> anyhow::Result<()> {
    if api.exists(BUILD).await? {
        return Ok(());
    }
    api.create(BUILD, TEXT, &[], b"").await?;
    for chunk in logs::build_log_chunks() {
        api.append(BUILD, TEXT, chunk.as_bytes()).await?;
    }
    api.close(BUILD, TEXT, logs::BUILD_LAST_LINE.as_bytes())
        .await
}

async fn live_orders(
    api: &Api<'_>,
    cancel: &CancellationToken,
    recent: &std::sync::Mutex<Vec<String>>,
) {
    let history = api.read_json(ORDERS).await.unwrap_or_default();
    let mut sim = OrderSim::resume(rand::random(), &history);
    let mut rng = StdRng::seed_from_u64(rand::random());
    loop {
        let pause = Duration::from_millis(rng.random_range(250..500));
        if sleep_or_cancel(cancel, pause).await {
            return;
        }
        let event = sim.next_event(&now_ts());
        *recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            sim.recent_order_ids();
        let body = json_body(&[event]).unwrap_or_default();
        if let Err(e) = api.append(ORDERS, JSON, &body).await {
            recover(api, ORDERS, &e).await;
        }
    }
}

async fn live_log(
    api: &Api<'_>,
    cancel: &CancellationToken,
    recent: &std::sync::Mutex<Vec<String>>,
) {
    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut log_gen = LogGen::new();
    let customers = OrderSim::new(0).customer_ids();
    loop {
        let pause = Duration::from_millis(rng.random_range(330..1000));
        if sleep_or_cancel(cancel, pause).await {
            return;
        }
        let orders = recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let entry = log_gen.entry(&mut rng, &orders, &customers);
        let ts = now_ts();
        if let Err(e) =
            api.append(APP_LOG, TEXT, entry.line(&ts).as_bytes()).await
        {
            recover(api, APP_LOG, &e).await;
        }
        let body = json_body(&[entry.event(&ts)]).unwrap_or_default();
        if let Err(e) = api.append(APP_EVENTS, JSON, &body).await {
            recover(api, APP_EVENTS, &e).await;
        }
    }
}

async fn live_session(api: &Api<'_>, cancel: &CancellationToken) {
    let mut beat: u64 = 0;
    let pages = ["/", "/search?q=monitor", "/p/MON-27Q", "/cart", "/checkout"];
    loop {
        if sleep_or_cancel(cancel, HEARTBEAT).await {
            return;
        }
        beat += 1;
        let page = pages[usize::try_from(beat / 3).unwrap_or(0) % pages.len()];
        let event = SessionEvent {
            beat: Some(beat),
            page: Some(page),
            ..SessionEvent::new()
        };
        let body = json_body(&[event]).unwrap_or_default();
        if let Err(e) = api.append(SESSION, JSON, &body).await {
            recover(api, SESSION, &e).await;
        }
    }
}

/// After a failed live append: logs it and, if the stream is gone (deleted
/// by a user, or expired while the writer was stalled), creates it again.
async fn recover(api: &Api<'_>, path: &str, error: &anyhow::Error) {
    tracing::warn!("demo: appending to {path}: {error:#}");
    if !matches!(api.exists(path).await, Ok(false)) {
        return;
    }
    let result = match path {
        SESSION => seed_session(api).await,
        APP_LOG => api.create(APP_LOG, TEXT, &[], b"").await.map(drop),
        _ => api.create(path, JSON, &[], b"").await.map(drop),
    };
    if let Err(e) = result {
        tracing::warn!("demo: recreating {path}: {e:#}");
    }
}

/// One event of `demo/session-ttl`; fields serialise in this order.
#[derive(serde::Serialize)]
struct SessionEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    session_id: &'static str,
    customer_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    beat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'static str>,
    ts: String,
}

impl SessionEvent {
    fn new() -> Self {
        SessionEvent {
            kind: "session.heartbeat",
            session_id: "sess_7f3a9c",
            customer_id: "cus_0104",
            beat: None,
            page: None,
            ts: now_ts(),
        }
    }
}

/// Sleeps for `pause`; true if `cancel` fired first.
async fn sleep_or_cancel(cancel: &CancellationToken, pause: Duration) -> bool {
    tokio::select! {
        () = cancel.cancelled() => true,
        () = tokio::time::sleep(pause) => false,
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    // The demo talks to a loopback server: never through a proxy.
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the demo HTTP client")
}

/// The few protocol calls the demo needs.
struct Api<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
}

impl Api<'_> {
    /// PUT; true if the stream was created, false if it already existed.
    async fn create(
        &self,
        path: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<bool> {
        let mut req = self
            .http
            .put(stream_url(self.base, path))
            .header("content-type", content_type)
            .body(body.to_vec());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().await.with_context(|| format!("PUT {path}"))?;
        match resp.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::OK => Ok(false),
            status => bail!("PUT {path}: {status}: {}", text_of(resp).await),
        }
    }

    async fn exists(&self, path: &str) -> anyhow::Result<bool> {
        let resp = self
            .http
            .head(stream_url(self.base, path))
            .send()
            .await
            .with_context(|| format!("HEAD {path}"))?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(false),
            status => bail!("HEAD {path}: {status}"),
        }
    }

    /// POST; returns the new tail offset.
    async fn append(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> anyhow::Result<String> {
        self.post(path, content_type, body, false).await
    }

    async fn close(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> anyhow::Result<()> {
        self.post(path, content_type, body, true).await.map(drop)
    }

    async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        close: bool,
    ) -> anyhow::Result<String> {
        let mut req = self
            .http
            .post(stream_url(self.base, path))
            .header("content-type", content_type)
            .body(body.to_vec());
        if close {
            req = req.header("Stream-Closed", "true");
        }
        let resp = req.send().await.with_context(|| format!("POST {path}"))?;
        if !resp.status().is_success() {
            let status = resp.status();
            bail!("POST {path}: {status}: {}", text_of(resp).await);
        }
        Ok(resp
            .headers()
            .get("stream-next-offset")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }

    /// Every message of a JSON stream.
    async fn read_json(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let resp = self
            .http
            .get(format!("{}?offset=-1", stream_url(self.base, path)))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        if !resp.status().is_success() {
            bail!("GET {path}: {}", resp.status());
        }
        let body = resp.bytes().await.with_context(|| format!("GET {path}"))?;
        let messages: Vec<Value> = serde_json::from_slice(&body)
            .with_context(|| format!("GET {path}: not a JSON array"))?;
        Ok(messages)
    }
}

async fn text_of(resp: reqwest::Response) -> String {
    resp.text().await.unwrap_or_default()
}

fn json_body(messages: &[impl serde::Serialize]) -> anyhow::Result<Vec<u8>> {
    serde_json::to_vec(messages).context("encoding demo events")
}

fn now_ts() -> String {
    timestamp(OffsetDateTime::now_utc())
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-01-31T09:15:02.120Z`.
fn timestamp(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}
