//! Subscriptions (PROTOCOL.md sections 6 and 7): the reserved
//! `/v1/stream/__ds/...` API, pull-wake wakes written to a wake stream,
//! webhook deliveries signed with Ed25519, claim / ack / release and
//! callbacks fenced by generation, leases that expire.
//!
//! State is in memory only (subscriptions do not survive a restart of the
//! dev server). Every change happens under one mutex; what must go over the
//! network or into a stream (wake events, webhook posts) is collected as
//! [`Effect`]s and carried out after the lock is dropped.

mod glob;
mod signing;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::offset;
use super::store::{Lookup, Store, now_ms};
use super::write::AppendRequest;

const DEFAULT_LEASE_MS: u64 = 30_000;
const MIN_LEASE_MS: u64 = 1_000;
const MAX_LEASE_MS: u64 = 600_000;
/// Webhook retries: 1 s doubling to 60 s, each ±20 %.
const RETRY_FIRST_MS: u64 = 1_000;
const RETRY_MAX_MS: u64 = 60_000;
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Old tokens remembered per subscription (to answer FENCED or
/// `TOKEN_EXPIRED` instead of `TOKEN_INVALID`).
const TOKENS_KEPT: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Webhook,
    PullWake,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::PullWake => "pull-wake",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LinkType {
    Glob,
    Explicit,
}

struct Link {
    glob: bool,
    explicit: bool,
    /// Position acked (inclusive: the next read starts here).
    acked: u64,
}

impl Link {
    fn link_type(&self) -> LinkType {
        if self.explicit {
            LinkType::Explicit
        } else {
            LinkType::Glob
        }
    }
}

struct Wake {
    id: String,
    /// Tail of each linked stream when the wake was issued.
    snapshot: BTreeMap<String, u64>,
    /// Pull-wake: the worker holding the claim.
    holder: Option<String>,
    token: Option<String>,
    lease_until: Option<Instant>,
}

struct Sub {
    id: String,
    kind: Kind,
    pattern: Option<String>,
    webhook_url: Option<String>,
    wake_stream: Option<String>,
    lease_ttl_ms: u64,
    description: Option<String>,
    config: String,
    created_at: String,
    /// `http://host/v1/stream`, from the request that created it.
    base: String,
    links: BTreeMap<String, Link>,
    generation: u64,
    wake: Option<Wake>,
    failed: bool,
    retry_count: u32,
    /// Issued tokens: (token, generation, lease expiry, ended by done or
    /// release). An ended token is fenced; one whose lease ran out has
    /// expired.
    tokens: VecDeque<(String, u64, Instant, bool)>,
}

impl Sub {
    fn tail(store: &Store, path: &str) -> u64 {
        match store.lookup(path) {
            Lookup::Live(s) => s.tail(),
            _ => 0,
        }
    }

    fn has_pending(&self, store: &Store) -> bool {
        self.links
            .iter()
            .any(|(path, link)| Self::tail(store, path) > link.acked)
    }

    fn stream_infos(
        &self,
        store: &Store,
        tails: Option<&BTreeMap<String, u64>>,
    ) -> Value {
        let items: Vec<Value> = self
            .links
            .iter()
            .map(|(path, link)| {
                let tail = tails
                    .and_then(|t| t.get(path).copied())
                    .unwrap_or_else(|| Self::tail(store, path));
                json!({
                    "path": path,
                    "link_type": link_type_str(link.link_type()),
                    "acked_offset": offset::format(link.acked),
                    "tail_offset": offset::format(tail),
                    "has_pending": tail > link.acked,
                })
            })
            .collect();
        Value::Array(items)
    }

    fn issue_token(&mut self) -> String {
        let token = random_id("tok_", 32);
        let until = Instant::now() + Duration::from_millis(self.lease_ttl_ms);
        self.tokens
            .push_back((token.clone(), self.generation, until, false));
        while self.tokens.len() > TOKENS_KEPT {
            self.tokens.pop_front();
        }
        token
    }

    /// Ends the current wake by done or release: its token is fenced
    /// from now on.
    fn end_wake(&mut self) -> Option<Wake> {
        let wake = self.wake.take()?;
        if let Some(tok) = &wake.token
            && let Some(entry) = self.tokens.iter_mut().find(|e| &e.0 == tok)
        {
            entry.3 = true;
        }
        Some(wake)
    }

    fn extend_lease(&mut self) {
        let until = Instant::now() + Duration::from_millis(self.lease_ttl_ms);
        if let Some(w) = &mut self.wake {
            w.lease_until = Some(until);
            if let Some(tok) = &w.token
                && let Some(entry) =
                    self.tokens.iter_mut().find(|(t, ..)| t == tok)
            {
                entry.2 = until;
            }
        }
    }
}

fn link_type_str(t: LinkType) -> &'static str {
    match t {
        LinkType::Glob => "glob",
        LinkType::Explicit => "explicit",
    }
}

fn random_id(prefix: &str, bytes: usize) -> String {
    use base64::Engine as _;
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

/// Work to do once the lock is released.
enum Effect {
    /// Append a wake event to a pull-wake subscription's wake stream.
    WakeEvent { wake_stream: String, event: Value },
    /// Post the current wake of a webhook subscription.
    Deliver { id: String, generation: u64 },
}

/// An error answer of the subscription API.
struct ApiError {
    status: StatusCode,
    body: Value,
}

fn err(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError {
        status,
        body: json!({ "error": { "code": code, "message": message } }),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The subscriptions of one server.
pub struct Subs {
    store: Arc<Store>,
    key: signing::Key,
    table: Mutex<HashMap<String, Sub>>,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    pattern: Option<String>,
    streams: Option<Vec<String>>,
    webhook: Option<WebhookBody>,
    wake_stream: Option<String>,
    lease_ttl_ms: Option<u64>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct WebhookBody {
    url: Option<String>,
}

#[derive(Deserialize)]
struct AckBody {
    wake_id: Option<String>,
    generation: Option<u64>,
    #[serde(default)]
    acks: Vec<AckItem>,
    #[serde(default)]
    done: bool,
}

#[derive(Deserialize)]
struct AckItem {
    stream: Option<String>,
    path: Option<String>,
    offset: String,
}

fn normalize(path: &str) -> String {
    path.trim_matches('/').to_owned()
}

/// Development exception of PROTOCOL.md 6.2 / 12.8: `https://` to a public
/// host, or `http://localhost` / `http://127.0.0.x`.
fn webhook_url_allowed(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    let Some(host) = url.host() else {
        return false;
    };
    let local_dev = match &host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.octets()[..3] == [127, 0, 0],
        url::Host::Ipv6(_) => false,
    };
    match url.scheme() {
        "http" => local_dev,
        "https" => {
            local_dev
                || match host {
                    url::Host::Domain(d) => {
                        !d.eq_ignore_ascii_case("metadata.google.internal")
                    }
                    url::Host::Ipv4(ip) => {
                        !(ip.is_private()
                            || ip.is_loopback()
                            || ip.is_link_local()
                            || ip.is_unspecified()
                            || ip.is_broadcast())
                    }
                    url::Host::Ipv6(ip) => {
                        !(ip.is_loopback()
                            || ip.is_unspecified()
                            || (ip.segments()[0] & 0xfe00) == 0xfc00
                            || (ip.segments()[0] & 0xffc0) == 0xfe80)
                    }
                }
        }
        _ => false,
    }
}

impl Subs {
    pub fn new(store: Arc<Store>, shutdown: CancellationToken) -> Arc<Subs> {
        Arc::new(Subs {
            store,
            key: signing::Key::generate(),
            table: Mutex::new(HashMap::new()),
            http: reqwest::Client::builder()
                .timeout(DELIVERY_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            shutdown,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Sub>> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers a request under `/v1/stream/__ds/` (`rest` is what follows).
    pub async fn handle(
        self: &Arc<Self>,
        method: &Method,
        rest: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Response {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1");
        let base = format!("http://{host}/v1/stream");
        if rest == "jwks.json" {
            if method != Method::GET {
                return method_not_allowed();
            }
            return (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/jwk-set+json"),
                    (header::CACHE_CONTROL, "public, max-age=300"),
                ],
                self.key.jwks().to_string(),
            )
                .into_response();
        }
        let Some(after) = rest.strip_prefix("subscriptions/") else {
            return err(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Unknown control path",
            )
            .into_response();
        };
        let (id, action) = match after.split_once('/') {
            Some((id, action)) => (id, Some(action)),
            None => (after, None),
        };
        if id.is_empty() {
            return err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "Subscription id is empty",
            )
            .into_response();
        }
        let token = bearer(headers);
        let result = match (method, action) {
            (&Method::PUT, None) => self.create(id, &base, body),
            (&Method::GET, None) => self.get(id, &base),
            (&Method::DELETE, None) => self.delete(id),
            (&Method::POST, Some("streams")) => self.add_streams(id, body),
            (&Method::DELETE, Some(a)) if a.starts_with("streams/") => {
                self.remove_stream(id, &a["streams/".len()..])
            }
            (&Method::POST, Some("claim")) => self.claim(id, body),
            (&Method::POST, Some("ack")) => {
                self.ack(id, token.as_deref(), body, Kind::PullWake)
            }
            (&Method::POST, Some("callback")) => {
                self.ack(id, token.as_deref(), body, Kind::Webhook)
            }
            (&Method::POST, Some("release")) => {
                self.release(id, token.as_deref(), body)
            }
            (
                _,
                None
                | Some("streams" | "claim" | "ack" | "callback" | "release"),
            ) => {
                return method_not_allowed();
            }
            _ => Err(err(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Unknown control path",
            )),
        };
        match result {
            Ok((status, body, effects)) => {
                self.run(effects).await;
                match body {
                    Some(b) => json_response(status, &b),
                    None => status.into_response(),
                }
            }
            Err(e) => e.into_response(),
        }
    }

    /// A stream was created or appended to through HTTP: link it where a
    /// pattern matches (at its start, so the data just written is pending)
    /// and wake the subscriptions that follow it.
    pub async fn on_write(self: &Arc<Self>, path: &str) {
        let effects = {
            let mut subs = self.lock();
            let mut effects = Vec::new();
            for sub in subs.values_mut() {
                if sub.wake_stream.as_deref() == Some(path) {
                    continue;
                }
                let matched = sub
                    .pattern
                    .as_deref()
                    .is_some_and(|p| glob::matches(p, path));
                if matched {
                    sub.links
                        .entry(path.to_owned())
                        .or_insert(Link {
                            glob: true,
                            explicit: false,
                            acked: 0,
                        })
                        .glob = true;
                }
                if sub.links.contains_key(path) {
                    self.kick(sub, &mut effects);
                }
            }
            effects
        };
        self.run(effects).await;
    }

    /// Ends leases that ran out and wakes again where work is pending.
    pub async fn sweep(self: &Arc<Self>) {
        let now = Instant::now();
        let effects = {
            let mut subs = self.lock();
            let mut effects = Vec::new();
            for sub in subs.values_mut() {
                let expired =
                    sub.wake.as_ref().is_some_and(|w| {
                        w.lease_until.is_some_and(|t| t <= now)
                    }) && !sub.failed;
                if expired {
                    sub.wake = None;
                    self.kick(sub, &mut effects);
                }
            }
            effects
        };
        self.run(effects).await;
    }

    /// Issues a new wake if `sub` is idle and has pending work.
    fn kick(&self, sub: &mut Sub, effects: &mut Vec<Effect>) -> bool {
        if sub.wake.is_some() || !sub.has_pending(&self.store) {
            return false;
        }
        self.new_wake(sub, effects);
        true
    }

    fn new_wake(&self, sub: &mut Sub, effects: &mut Vec<Effect>) {
        sub.generation += 1;
        let snapshot: BTreeMap<String, u64> = sub
            .links
            .keys()
            .map(|p| (p.clone(), Sub::tail(&self.store, p)))
            .collect();
        let first_pending = sub
            .links
            .iter()
            .find(|(p, l)| snapshot.get(*p).copied().unwrap_or(0) > l.acked)
            .map(|(p, _)| p.clone());
        let mut wake = Wake {
            id: random_id("w_", 12),
            snapshot,
            holder: None,
            token: None,
            lease_until: None,
        };
        match sub.kind {
            Kind::PullWake => {
                if let Some(wake_stream) = sub.wake_stream.clone() {
                    effects.push(Effect::WakeEvent {
                        wake_stream,
                        event: json!({
                            "type": "wake",
                            "subscription_id": sub.id,
                            "stream": first_pending,
                            "generation": sub.generation,
                            "ts": now_ms(),
                        }),
                    });
                }
            }
            Kind::Webhook => {
                wake.lease_until = Some(
                    Instant::now() + Duration::from_millis(sub.lease_ttl_ms),
                );
                sub.wake = Some(wake);
                let token = sub.issue_token();
                if let Some(w) = &mut sub.wake {
                    w.token = Some(token);
                }
                effects.push(Effect::Deliver {
                    id: sub.id.clone(),
                    generation: sub.generation,
                });
                return;
            }
        }
        sub.wake = Some(wake);
    }

    async fn run(self: &Arc<Self>, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::WakeEvent { wake_stream, event } => {
                    let req = AppendRequest {
                        content_type: Some("application/json".into()),
                        body: Bytes::from(event.to_string()),
                        close: false,
                        stream_seq: None,
                        producer: None,
                    };
                    if let Err(e) =
                        self.store.append_to(&wake_stream, req).await
                    {
                        tracing::warn!("wake event to {wake_stream}: {e:?}");
                    }
                }
                Effect::Deliver { id, generation } => {
                    let me = self.clone();
                    tokio::spawn(
                        async move { me.deliver(id, generation).await },
                    );
                }
            }
        }
    }

    /// Posts the wake `generation` of `id` until it is answered, retrying
    /// with backoff; stops when the wake is no longer current.
    fn deliver(
        self: Arc<Self>,
        id: String,
        generation: u64,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move { self.deliver_loop(id, generation).await })
    }

    async fn deliver_loop(self: Arc<Self>, id: String, generation: u64) {
        loop {
            let prepared = {
                let subs = self.lock();
                let Some(sub) = subs.get(&id) else { return };
                let Some(wake) = &sub.wake else { return };
                if sub.generation != generation {
                    return;
                }
                let body = json!({
                    "subscription_id": sub.id,
                    "wake_id": wake.id,
                    "generation": sub.generation,
                    "streams": sub.stream_infos(&self.store, Some(&wake.snapshot)),
                    "callback_url": format!("{}/__ds/subscriptions/{}/callback", sub.base, sub.id),
                    "callback_token": wake.token,
                });
                (
                    sub.webhook_url.clone().unwrap_or_default(),
                    body.to_string(),
                )
            };
            let (url, body) = prepared;
            let now_secs = now_ms() / 1000;
            let signature =
                self.key.signature_header(now_secs, body.as_bytes());
            let sent = self
                .http
                .post(&url)
                .header(header::CONTENT_TYPE, "application/json")
                .header("webhook-signature", signature)
                .body(body)
                .send();
            let answer = tokio::select! {
                a = sent => a,
                () = self.shutdown.cancelled() => return,
            };
            let outcome = match answer {
                Ok(r) if r.status().is_success() => {
                    let text = r.text().await.unwrap_or_default();
                    Ok(serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| v.get("done").and_then(Value::as_bool))
                        .unwrap_or(false))
                }
                Ok(r) => Err(format!("status {}", r.status())),
                Err(e) => Err(e.to_string()),
            };
            let (delay, effects) = {
                let mut subs = self.lock();
                let Some(sub) = subs.get_mut(&id) else { return };
                if sub.generation != generation || sub.wake.is_none() {
                    return;
                }
                match outcome {
                    Ok(done) => {
                        sub.failed = false;
                        sub.retry_count = 0;
                        let mut effects = Vec::new();
                        if done {
                            let snapshot = sub.end_wake().map(|w| w.snapshot);
                            for (path, tail) in snapshot.unwrap_or_default() {
                                if let Some(link) = sub.links.get_mut(&path) {
                                    link.acked = link.acked.max(tail);
                                }
                            }
                            self.kick(sub, &mut effects);
                        }
                        (None, effects)
                    }
                    Err(why) => {
                        tracing::debug!("webhook {id}: {why}");
                        sub.failed = true;
                        sub.retry_count += 1;
                        (Some(retry_delay(sub.retry_count)), Vec::new())
                    }
                }
            };
            self.run(effects).await;
            let Some(delay) = delay else { return };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.shutdown.cancelled() => return,
            }
        }
    }

    fn create(
        &self,
        id: &str,
        base: &str,
        body: &Bytes,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        let bad = |m: &str| err(StatusCode::BAD_REQUEST, "INVALID_REQUEST", m);
        let input: CreateBody = serde_json::from_slice(body)
            .map_err(|_| bad("Invalid JSON body"))?;
        let kind = match input.kind.as_deref() {
            Some("webhook") => Kind::Webhook,
            Some("pull-wake") => Kind::PullWake,
            _ => return Err(bad("type must be webhook or pull-wake")),
        };
        let pattern = input
            .pattern
            .map(|p| normalize(&p))
            .filter(|p| !p.is_empty());
        let streams: BTreeSet<String> = input
            .streams
            .unwrap_or_default()
            .iter()
            .map(|s| normalize(s))
            .filter(|s| !s.is_empty())
            .collect();
        if pattern.is_none() && streams.is_empty() {
            return Err(bad("pattern or streams is required"));
        }
        let lease_ttl_ms = input.lease_ttl_ms.unwrap_or(DEFAULT_LEASE_MS);
        if !(MIN_LEASE_MS..=MAX_LEASE_MS).contains(&lease_ttl_ms) {
            return Err(bad("lease_ttl_ms must be between 1000 and 600000"));
        }
        let (webhook_url, wake_stream) = match kind {
            Kind::Webhook => {
                let url = input
                    .webhook
                    .and_then(|w| w.url)
                    .ok_or_else(|| bad("webhook.url is required"))?;
                if !webhook_url_allowed(&url) {
                    return Err(err(
                        StatusCode::BAD_REQUEST,
                        "WEBHOOK_URL_REJECTED",
                        "Webhook URL must be https, or http to localhost / 127.0.0.x",
                    ));
                }
                (Some(url), None)
            }
            Kind::PullWake => {
                let ws = input
                    .wake_stream
                    .map(|w| normalize(&w))
                    .filter(|w| !w.is_empty())
                    .ok_or_else(|| bad("wake_stream is required"))?;
                (None, Some(ws))
            }
        };
        let config = json!({
            "type": kind.as_str(),
            "pattern": pattern,
            "streams": streams,
            "webhook": webhook_url,
            "wake_stream": wake_stream,
            "lease_ttl_ms": lease_ttl_ms,
            "description": input.description,
        })
        .to_string();
        let mut subs = self.lock();
        if let Some(existing) = subs.get(id) {
            if existing.config == config {
                let body = self.serialize(existing, base);
                return Ok((StatusCode::OK, Some(body), Vec::new()));
            }
            return Err(err(
                StatusCode::CONFLICT,
                "SUBSCRIPTION_ALREADY_EXISTS",
                "A subscription with this id has a different configuration",
            ));
        }
        let mut links = BTreeMap::new();
        if let Some(p) = &pattern {
            for name in self.store.names() {
                if glob::matches(p, &name)
                    && Some(&name) != wake_stream.as_ref()
                {
                    let acked = Sub::tail(&self.store, &name);
                    links.insert(
                        name,
                        Link {
                            glob: true,
                            explicit: false,
                            acked,
                        },
                    );
                }
            }
        }
        for s in &streams {
            let acked = Sub::tail(&self.store, s);
            links
                .entry(s.clone())
                .or_insert(Link {
                    glob: false,
                    explicit: true,
                    acked,
                })
                .explicit = true;
        }
        let created_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let sub = Sub {
            id: id.to_owned(),
            kind,
            pattern,
            webhook_url,
            wake_stream,
            lease_ttl_ms,
            description: input.description,
            config,
            created_at,
            base: base.to_owned(),
            links,
            generation: 0,
            wake: None,
            failed: false,
            retry_count: 0,
            tokens: VecDeque::new(),
        };
        let body = self.serialize(&sub, base);
        subs.insert(id.to_owned(), sub);
        Ok((StatusCode::CREATED, Some(body), Vec::new()))
    }

    fn serialize(&self, sub: &Sub, base: &str) -> Value {
        let streams: Vec<Value> = sub
            .links
            .iter()
            .map(|(path, link)| {
                json!({
                    "path": path,
                    "link_type": link_type_str(link.link_type()),
                    "acked_offset": offset::format(link.acked),
                })
            })
            .collect();
        let webhook = sub.webhook_url.as_ref().map(|url| {
            json!({
                "url": url,
                "signing": {
                    "alg": "ed25519",
                    "kid": self.key.kid(),
                    "jwks_url": format!("{base}/__ds/jwks.json"),
                },
            })
        });
        let wake = sub.wake.as_ref();
        json!({
            "id": sub.id,
            "subscription_id": sub.id,
            "type": sub.kind.as_str(),
            "pattern": sub.pattern,
            "streams": streams,
            "webhook": webhook,
            "wake_stream": sub.wake_stream,
            "lease_ttl_ms": sub.lease_ttl_ms,
            "created_at": sub.created_at,
            "status": if sub.failed { "failed" } else { "active" },
            "description": sub.description,
            "generation": sub.generation,
            "wake_id": wake.map(|w| w.id.clone()),
            "holder": wake.and_then(|w| w.holder.clone()),
        })
    }

    fn get(
        &self,
        id: &str,
        base: &str,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        let subs = self.lock();
        let sub = subs.get(id).ok_or_else(not_found)?;
        Ok((StatusCode::OK, Some(self.serialize(sub, base)), Vec::new()))
    }

    fn delete(
        &self,
        id: &str,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        let mut subs = self.lock();
        subs.remove(id).ok_or_else(not_found)?;
        Ok((StatusCode::NO_CONTENT, None, Vec::new()))
    }

    fn add_streams(
        &self,
        id: &str,
        body: &Bytes,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        #[derive(Deserialize)]
        struct Add {
            streams: Option<Vec<String>>,
        }
        let add: Add = serde_json::from_slice(body).map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "Invalid JSON body",
            )
        })?;
        let Some(streams) = add.streams else {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "streams must be an array of paths",
            ));
        };
        let mut subs = self.lock();
        let sub = subs.get_mut(id).ok_or_else(not_found)?;
        for s in streams
            .iter()
            .map(|s| normalize(s))
            .filter(|s| !s.is_empty())
        {
            let acked = Sub::tail(&self.store, &s);
            sub.links
                .entry(s)
                .or_insert(Link {
                    glob: false,
                    explicit: true,
                    acked,
                })
                .explicit = true;
        }
        Ok((StatusCode::NO_CONTENT, None, Vec::new()))
    }

    fn remove_stream(
        &self,
        id: &str,
        path: &str,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        let path = normalize(
            &percent_encoding::percent_decode_str(path).decode_utf8_lossy(),
        );
        let mut subs = self.lock();
        let sub = subs.get_mut(id).ok_or_else(not_found)?;
        let still_glob = sub
            .pattern
            .as_deref()
            .is_some_and(|p| glob::matches(p, &path));
        if let Some(link) = sub.links.get_mut(&path) {
            link.explicit = false;
            if !(link.glob && still_glob) {
                sub.links.remove(&path);
            }
        }
        Ok((StatusCode::NO_CONTENT, None, Vec::new()))
    }

    fn claim(
        &self,
        id: &str,
        body: &Bytes,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        let worker = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| {
                v.get("worker").and_then(Value::as_str).map(str::to_owned)
            })
            .filter(|w| !w.is_empty())
            .ok_or_else(|| {
                err(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "worker must be a non-empty string",
                )
            })?;
        let mut subs = self.lock();
        let sub = subs.get_mut(id).ok_or_else(not_found)?;
        if sub.kind != Kind::PullWake {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "Subscription is not pull-wake",
            ));
        }
        if let Some(holder) = sub.wake.as_ref().and_then(|w| w.holder.clone()) {
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                body: json!({ "error": {
                    "code": "ALREADY_CLAIMED",
                    "message": "Another worker holds the lease",
                    "current_holder": holder,
                    "generation": sub.generation,
                }}),
            });
        }
        if !sub.has_pending(&self.store) {
            return Err(err(
                StatusCode::CONFLICT,
                "NO_PENDING_WORK",
                "Subscription has no pending work",
            ));
        }
        let mut effects = Vec::new();
        if sub.wake.is_none() {
            self.new_wake(sub, &mut effects);
        }
        let token = sub.issue_token();
        let snapshot: BTreeMap<String, u64> = sub
            .links
            .keys()
            .map(|p| (p.clone(), Sub::tail(&self.store, p)))
            .collect();
        if let Some(w) = &mut sub.wake {
            w.holder = Some(worker);
            w.token = Some(token.clone());
            w.snapshot = snapshot;
        }
        sub.extend_lease();
        let wake = sub.wake.as_ref().expect("wake just set");
        let body = json!({
            "wake_id": wake.id,
            "generation": sub.generation,
            "token": token,
            "streams": sub.stream_infos(&self.store, Some(&wake.snapshot)),
            "lease_ttl_ms": sub.lease_ttl_ms,
        });
        Ok((StatusCode::OK, Some(body), effects))
    }

    /// Checks the bearer token, generation and wake id against the
    /// current wake (PROTOCOL.md 7.3).
    fn fence(
        sub: &Sub,
        token: Option<&str>,
        generation: Option<u64>,
        wake_id: Option<&str>,
    ) -> Result<(), ApiError> {
        let Some(token) = token else {
            return Err(err(
                StatusCode::UNAUTHORIZED,
                "TOKEN_INVALID",
                "Missing or malformed Authorization header",
            ));
        };
        let Some((_, token_gen, until, ended)) =
            sub.tokens.iter().find(|(t, ..)| t == token)
        else {
            return Err(err(
                StatusCode::UNAUTHORIZED,
                "TOKEN_INVALID",
                "Token invalid",
            ));
        };
        let current = sub.wake.as_ref();
        let is_current_token =
            current.and_then(|w| w.token.as_deref()) == Some(token);
        if !*ended && *until <= Instant::now() {
            return Err(err(
                StatusCode::UNAUTHORIZED,
                "TOKEN_EXPIRED",
                "Token expired (the lease ran out)",
            ));
        }
        if !is_current_token
            || *token_gen != sub.generation
            || generation != Some(sub.generation)
            || wake_id != current.map(|w| w.id.as_str())
        {
            return Err(err(
                StatusCode::CONFLICT,
                "FENCED",
                "Wake generation is stale",
            ));
        }
        Ok(())
    }

    fn ack(
        &self,
        id: &str,
        token: Option<&str>,
        body: &Bytes,
        kind: Kind,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        let req: AckBody = serde_json::from_slice(body).map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "Invalid JSON body",
            )
        })?;
        let mut subs = self.lock();
        let sub = subs.get_mut(id).ok_or_else(not_found)?;
        if sub.kind != kind {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                match kind {
                    Kind::PullWake => "Subscription is not pull-wake",
                    Kind::Webhook => "Subscription is not webhook",
                },
            ));
        }
        Self::fence(sub, token, req.generation, req.wake_id.as_deref())?;
        let invalid = |m: &str| err(StatusCode::CONFLICT, "INVALID_OFFSET", m);
        let mut updates = Vec::new();
        for ack in &req.acks {
            let path = normalize(
                ack.stream.as_deref().or(ack.path.as_deref()).unwrap_or(""),
            );
            let link = sub.links.get(&path).ok_or_else(|| {
                invalid("Ack references an unknown subscription stream")
            })?;
            let pos = offset::parse_position(&ack.offset).ok_or_else(|| {
                invalid("Ack offset is not an offset of this server")
            })?;
            if pos < link.acked {
                return Err(invalid(
                    "Ack offset regresses the committed cursor",
                ));
            }
            if pos > Sub::tail(&self.store, &path) {
                return Err(invalid("Ack offset is beyond stream tail"));
            }
            updates.push((path, pos));
        }
        for (path, pos) in updates {
            if let Some(link) = sub.links.get_mut(&path) {
                link.acked = pos;
            }
        }
        sub.extend_lease();
        let mut effects = Vec::new();
        let mut next_wake = false;
        if req.done {
            sub.end_wake();
            next_wake = self.kick(sub, &mut effects);
        }
        Ok((
            StatusCode::OK,
            Some(json!({ "ok": true, "next_wake": next_wake })),
            effects,
        ))
    }

    fn release(
        &self,
        id: &str,
        token: Option<&str>,
        body: &Bytes,
    ) -> Result<(StatusCode, Option<Value>, Vec<Effect>), ApiError> {
        let req: AckBody = serde_json::from_slice(body).map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "Invalid JSON body",
            )
        })?;
        let mut subs = self.lock();
        let sub = subs.get_mut(id).ok_or_else(not_found)?;
        if sub.kind != Kind::PullWake {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "Subscription is not pull-wake",
            ));
        }
        Self::fence(sub, token, req.generation, req.wake_id.as_deref())?;
        sub.end_wake();
        let mut effects = Vec::new();
        self.kick(sub, &mut effects);
        Ok((StatusCode::NO_CONTENT, None, effects))
    }
}

fn not_found() -> ApiError {
    err(
        StatusCode::NOT_FOUND,
        "SUBSCRIPTION_NOT_FOUND",
        "Subscription not found",
    )
}

fn method_not_allowed() -> Response {
    err(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "Method not allowed",
    )
    .into_response()
}

fn bearer(h: &HeaderMap) -> Option<String> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

/// `n`-th retry: 1 s doubling up to 60 s, ±20 % jitter.
fn retry_delay(n: u32) -> Duration {
    let base = RETRY_FIRST_MS
        .saturating_mul(1u64 << n.saturating_sub(1).min(16))
        .min(RETRY_MAX_MS);
    let jitter = rand::random_range(-0.2f64..=0.2);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let ms = (base as f64 * (1.0 + jitter)).max(0.0) as u64;
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_follow_the_ssrf_rules() {
        for ok in [
            "http://localhost:9000/hook",
            "http://127.0.0.1:4000/webhook",
            "https://worker.example/hooks",
        ] {
            assert!(webhook_url_allowed(ok), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/hook",
            "http://worker.example/hook",
            "https://192.168.1.2/hook",
            "https://169.254.169.254/latest",
            "https://127.0.1.1/x",
            "ftp://localhost/x",
            "not a url",
        ] {
            assert!(!webhook_url_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn retries_back_off_from_one_to_sixty_seconds() {
        for _ in 0..20 {
            let first = retry_delay(1).as_millis();
            assert!((800..=1200).contains(&first), "{first}");
            let fourth = retry_delay(4).as_millis();
            assert!((6400..=9600).contains(&fourth), "{fourth}");
            let late = retry_delay(30).as_millis();
            assert!((48_000..=72_000).contains(&late), "{late}");
        }
    }
}
