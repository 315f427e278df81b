//! Subscriptions (PROTOCOL.md sections 6 and 7): create, read and delete a
//! subscription, explicit stream links, claim / ack / release for pull-wake
//! workers, the webhook callback, and a verifier for signed webhook
//! deliveries that a receiver can call with the server's JWKS.
//!
//! The protocol has no call that lists subscriptions: a subscription is
//! known by its id, so [`Subscriptions::get_many`] reads the ids a caller
//! names.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dsx::client::SubscriptionError> {
//! use dsx::client::{Client, SubscriptionKind, SubscriptionSpec};
//! let client = Client::new();
//! let subs = client.subscriptions("http://127.0.0.1:4437/v1/stream")?;
//! subs.create("orders", &SubscriptionSpec {
//!     pattern: Some("orders/*".into()),
//!     ..SubscriptionSpec::new(SubscriptionKind::PullWake {
//!         wake_stream: "wake/orders".into(),
//!     })
//! }).await?;
//! if let Some(claim) = subs.claim("orders", "worker-1").await? {
//!     let acks = claim.tails();
//!     subs.ack("orders", &claim, &acks, true).await?;
//! }
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::{self, Op, Phase, Request};
use super::{Client, Error, Offset};

/// Largest subscription answer read, in bytes.
const MAX_BODY: usize = 4 << 20;

/// How a subscription is delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// Signed POSTs to `url`.
    Webhook { url: String },
    /// Wake events appended to `wake_stream` (stream-root-relative).
    PullWake { wake_stream: String },
}

/// What to create (PROTOCOL.md 6.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionSpec {
    pub kind: SubscriptionKind,
    /// Glob over stream paths: `*` one segment, `**` any number.
    pub pattern: Option<String>,
    /// Explicit stream paths, in addition to the pattern.
    pub streams: Vec<String>,
    /// 1 s to 10 min; the server's default (30 s) when `None`.
    pub lease_ttl_ms: Option<u64>,
    pub description: Option<String>,
}

impl SubscriptionSpec {
    pub fn new(kind: SubscriptionKind) -> Self {
        SubscriptionSpec {
            kind,
            pattern: None,
            streams: Vec::new(),
            lease_ttl_ms: None,
            description: None,
        }
    }

    fn to_json(&self) -> Value {
        let mut body = serde_json::Map::new();
        match &self.kind {
            SubscriptionKind::Webhook { url } => {
                body.insert("type".into(), "webhook".into());
                body.insert("webhook".into(), json!({ "url": url }));
            }
            SubscriptionKind::PullWake { wake_stream } => {
                body.insert("type".into(), "pull-wake".into());
                body.insert("wake_stream".into(), wake_stream.clone().into());
            }
        }
        if let Some(p) = &self.pattern {
            body.insert("pattern".into(), p.clone().into());
        }
        if !self.streams.is_empty() {
            body.insert("streams".into(), json!(self.streams));
        }
        if let Some(ms) = self.lease_ttl_ms {
            body.insert("lease_ttl_ms".into(), ms.into());
        }
        if let Some(d) = &self.description {
            body.insert("description".into(), d.clone().into());
        }
        Value::Object(body)
    }
}

/// One linked stream and its cursor.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct StreamLink {
    pub path: String,
    /// `glob` or `explicit`.
    pub link_type: String,
    /// Last processed offset (inclusive).
    pub acked_offset: Offset,
    /// In wakes and claims: the tail when the wake was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail_offset: Option<Offset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_pending: Option<bool>,
}

/// How a webhook subscription's deliveries are signed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Signing {
    pub alg: String,
    pub kid: String,
    pub jwks_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Webhook {
    pub url: String,
    #[serde(default)]
    pub signing: Option<Signing>,
}

/// A subscription as the server describes it (PROTOCOL.md 6.3).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Subscription {
    pub id: String,
    /// `webhook` or `pull-wake`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub streams: Vec<StreamLink>,
    #[serde(default)]
    pub webhook: Option<Webhook>,
    #[serde(default)]
    pub wake_stream: Option<String>,
    #[serde(default)]
    pub lease_ttl_ms: Option<u64>,
    #[serde(default)]
    pub created_at: Option<String>,
    /// `active`, or `failed` while a webhook retry is scheduled.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Current wake generation, where the server tells (the dev server
    /// does; the protocol does not require it).
    #[serde(default)]
    pub generation: Option<u64>,
    /// The worker holding the lease, where the server tells.
    #[serde(default)]
    pub holder: Option<String>,
}

/// A successful pull-wake claim: the lease and what to process.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Claim {
    pub wake_id: String,
    pub generation: u64,
    /// The claim token, sent back with ack and release.
    pub token: String,
    pub streams: Vec<StreamLink>,
    #[serde(default)]
    pub lease_ttl_ms: Option<u64>,
}

impl Claim {
    /// Acks for every stream up to the tail this claim saw.
    pub fn tails(&self) -> Vec<StreamAck> {
        self.streams
            .iter()
            .filter_map(|s| {
                s.tail_offset.clone().map(|offset| StreamAck {
                    stream: s.path.clone(),
                    offset,
                })
            })
            .collect()
    }
}

/// "Processed `stream` up to and including `offset`."
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct StreamAck {
    pub stream: String,
    pub offset: Offset,
}

/// The answer to an ack or callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct AckOutcome {
    /// Pending work remains and a new wake was issued.
    pub next_wake: bool,
}

/// A subscription call that failed.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    /// 409 `FENCED`: the wake id or generation is no longer current (a
    /// newer wake replaced it); the work must not be acked.
    #[error("fenced (409): subscription {id} has moved past this wake")]
    Fenced { id: String },
    /// 401 `TOKEN_EXPIRED`: the lease ran out before this call.
    #[error("lease expired (401) on subscription {id}: claim again")]
    LeaseExpired { id: String },
    /// 401 `TOKEN_INVALID`: no token, or one this server did not issue.
    #[error("token refused (401) on subscription {id}")]
    TokenInvalid { id: String },
    /// 409 `ALREADY_CLAIMED`: another worker holds the lease.
    #[error(
        "already claimed (409) on subscription {id}{}",
        holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default()
    )]
    AlreadyClaimed {
        id: String,
        holder: Option<String>,
        generation: Option<u64>,
    },
    /// 404: no such subscription.
    #[error("subscription {id} not found (404)")]
    NotFound { id: String },
    /// 409 `SUBSCRIPTION_ALREADY_EXISTS`: same id, other configuration.
    #[error("subscription {id} exists with another configuration (409)")]
    AlreadyExists { id: String },
    /// Any other refusal, with the server's code and message.
    #[error("HTTP {status} {code} on subscription {id}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Refused {
        id: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The request did not get a subscription answer (network, timeout,
    /// a non-JSON answer).
    #[error(transparent)]
    Client(#[from] Error),
}

impl SubscriptionError {
    /// The protocol's error code, where the server gave one.
    pub fn code(&self) -> Option<&str> {
        Some(match self {
            SubscriptionError::Fenced { .. } => "FENCED",
            SubscriptionError::LeaseExpired { .. } => "TOKEN_EXPIRED",
            SubscriptionError::TokenInvalid { .. } => "TOKEN_INVALID",
            SubscriptionError::AlreadyClaimed { .. } => "ALREADY_CLAIMED",
            SubscriptionError::NotFound { .. } => "SUBSCRIPTION_NOT_FOUND",
            SubscriptionError::AlreadyExists { .. } => {
                "SUBSCRIPTION_ALREADY_EXISTS"
            }
            SubscriptionError::Refused { code, .. } => code,
            SubscriptionError::Client(_) => return None,
        })
    }
}

/// Maps a refused request (the client's typed error, whose message is the
/// server's JSON body) to a subscription error.
fn refusal(id: &str, error: Error) -> SubscriptionError {
    let (status, message) = match &error {
        Error::NotFound { .. } => {
            return SubscriptionError::NotFound { id: id.to_owned() };
        }
        Error::BadRequest { message, .. } => (400, message.clone()),
        Error::Conflict { message, .. }
        | Error::AlreadyExists { message, .. }
        | Error::SequenceConflict { message, .. } => (409, message.clone()),
        Error::Status {
            status, message, ..
        } => (*status, message.clone()),
        _ => return SubscriptionError::Client(error),
    };
    let body: Value = serde_json::from_str(&message).unwrap_or(Value::Null);
    let err = &body["error"];
    let code = err["code"].as_str().unwrap_or("").to_owned();
    let text = err["message"].as_str().unwrap_or("").to_owned();
    let id = id.to_owned();
    match code.as_str() {
        "FENCED" => SubscriptionError::Fenced { id },
        "TOKEN_EXPIRED" => SubscriptionError::LeaseExpired { id },
        "TOKEN_INVALID" => SubscriptionError::TokenInvalid { id },
        "ALREADY_CLAIMED" => SubscriptionError::AlreadyClaimed {
            id,
            holder: err["current_holder"].as_str().map(str::to_owned),
            generation: err["generation"].as_u64(),
        },
        "SUBSCRIPTION_NOT_FOUND" => SubscriptionError::NotFound { id },
        "SUBSCRIPTION_ALREADY_EXISTS" => {
            SubscriptionError::AlreadyExists { id }
        }
        _ if code.is_empty() && status == 409 && message.is_empty() => {
            SubscriptionError::AlreadyExists { id }
        }
        _ => SubscriptionError::Refused {
            id,
            status,
            code,
            message: if text.is_empty() { message } else { text },
        },
    }
}

/// The subscription API of one stream root (`http://host/v1/stream`).
#[derive(Clone)]
pub struct Subscriptions {
    client: Client,
    root: url::Url,
}

const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

impl Client {
    /// The subscription API under `stream_root` (a URL, or a path relative
    /// to the base URL; `""` is the base URL itself).
    pub fn subscriptions(
        &self,
        stream_root: &str,
    ) -> Result<Subscriptions, Error> {
        let root = if stream_root.is_empty() {
            self.base_url().cloned().ok_or_else(|| {
                Error::InvalidArgument("no stream root and no base URL".into())
            })?
        } else {
            self.resolve(stream_root)?
        };
        Ok(Subscriptions {
            client: self.clone(),
            root,
        })
    }
}

impl Subscriptions {
    /// `{root}/__ds/{tail}` (`tail` already encoded).
    fn url(&self, tail: &str) -> Result<url::Url, Error> {
        let base = self.root.as_str().trim_end_matches('/');
        url::Url::parse(&format!("{base}/__ds/{tail}"))
            .map_err(|e| Error::InvalidArgument(format!("bad URL: {e}")))
    }

    fn sub_url(&self, id: &str, action: &str) -> Result<url::Url, Error> {
        if id.is_empty() {
            return Err(Error::InvalidArgument("empty subscription id".into()));
        }
        let id = percent_encoding::utf8_percent_encode(id, PATH_SEGMENT);
        self.url(&format!("subscriptions/{id}{action}"))
    }

    /// The JWKS URL of this root (`{root}/__ds/jwks.json`).
    pub fn jwks_url(&self) -> Result<url::Url, Error> {
        self.url("jwks.json")
    }

    async fn call(
        &self,
        id: &str,
        method: Method,
        url: url::Url,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Result<(u16, Option<Value>), SubscriptionError> {
        let op = Op::begin(&self.client).await?;
        let mut req = Request::new(method, &url, Phase::CatchUp);
        if let Some(body) = body {
            req.header("content-type", "application/json")?;
            req.body = Some(Bytes::from(body.to_string()));
        }
        if let Some(token) = token {
            req.header("authorization", &format!("Bearer {token}"))?;
        }
        let reply = http::send(&op, &req).await.map_err(|e| refusal(id, e))?;
        let status = reply.status.as_u16();
        let Some(response) = reply.response else {
            return Ok((status, None));
        };
        let timeout = self.client.timeout().unwrap_or(Duration::from_secs(30));
        let bytes = tokio::time::timeout(timeout, response.bytes())
            .await
            .map_err(|_| Error::Timeout {
                url: url.to_string(),
            })?
            .map_err(|e| Error::Decode {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        if bytes.is_empty() {
            return Ok((status, None));
        }
        if bytes.len() > MAX_BODY {
            return Err(Error::Decode {
                url: url.to_string(),
                message: format!("answer larger than {MAX_BODY} bytes"),
            }
            .into());
        }
        let value =
            serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                url: url.to_string(),
                message: super::describe_json_error(&e),
            })?;
        Ok((status, Some(value)))
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        value: Option<Value>,
    ) -> Result<T, SubscriptionError> {
        let value = value.unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| {
            SubscriptionError::Client(Error::Decode {
                url: self.root.to_string(),
                message: format!("{what}: {e}"),
            })
        })
    }

    /// Creates the subscription, or re-confirms an identical one. The
    /// `bool` is `true` when it was created (201), `false` when it already
    /// existed with this configuration (200).
    pub async fn create(
        &self,
        id: &str,
        spec: &SubscriptionSpec,
    ) -> Result<(Subscription, bool), SubscriptionError> {
        let url = self.sub_url(id, "")?;
        let (status, body) = self
            .call(id, Method::PUT, url, Some(spec.to_json()), None)
            .await?;
        Ok((self.decode("subscription", body)?, status == 201))
    }

    pub async fn get(
        &self,
        id: &str,
    ) -> Result<Subscription, SubscriptionError> {
        let url = self.sub_url(id, "")?;
        let (_, body) = self.call(id, Method::GET, url, None, None).await?;
        self.decode("subscription", body)
    }

    /// Reads each of `ids` (the protocol lists no subscriptions; callers
    /// name them). A missing one is `Err(NotFound)` in its place.
    pub async fn get_many(
        &self,
        ids: &[String],
    ) -> Vec<Result<Subscription, SubscriptionError>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.get(id).await);
        }
        out
    }

    pub async fn delete(&self, id: &str) -> Result<(), SubscriptionError> {
        let url = self.sub_url(id, "")?;
        self.call(id, Method::DELETE, url, None, None).await?;
        Ok(())
    }

    /// Links `streams` explicitly (at their current tails).
    pub async fn add_streams(
        &self,
        id: &str,
        streams: &[String],
    ) -> Result<(), SubscriptionError> {
        let url = self.sub_url(id, "/streams")?;
        let body = json!({ "streams": streams });
        self.call(id, Method::POST, url, Some(body), None).await?;
        Ok(())
    }

    /// Removes the explicit link to `path` (a glob link stays).
    pub async fn remove_stream(
        &self,
        id: &str,
        path: &str,
    ) -> Result<(), SubscriptionError> {
        let encoded = percent_encoding::utf8_percent_encode(path, PATH_SEGMENT);
        let url = self.sub_url(id, &format!("/streams/{encoded}"))?;
        self.call(id, Method::DELETE, url, None, None).await?;
        Ok(())
    }

    /// Claims a pull-wake subscription for `worker`. `Ok(None)` when there
    /// is nothing to do (409 `NO_PENDING_WORK`).
    pub async fn claim(
        &self,
        id: &str,
        worker: &str,
    ) -> Result<Option<Claim>, SubscriptionError> {
        let url = self.sub_url(id, "/claim")?;
        let body = json!({ "worker": worker });
        match self.call(id, Method::POST, url, Some(body), None).await {
            Ok((_, body)) => Ok(Some(self.decode("claim", body)?)),
            Err(SubscriptionError::Refused { code, .. })
                if code == "NO_PENDING_WORK" =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Acks `acks` under `claim`; `done` also releases the lease, without
    /// it the call is a heartbeat that extends the lease.
    pub async fn ack(
        &self,
        id: &str,
        claim: &Claim,
        acks: &[StreamAck],
        done: bool,
    ) -> Result<AckOutcome, SubscriptionError> {
        let url = self.sub_url(id, "/ack")?;
        self.acknowledge(
            id,
            url,
            &claim.token,
            &claim.wake_id,
            claim.generation,
            acks,
            done,
        )
        .await
    }

    /// Gives the lease back without acking.
    pub async fn release(
        &self,
        id: &str,
        claim: &Claim,
    ) -> Result<(), SubscriptionError> {
        let url = self.sub_url(id, "/release")?;
        let body =
            json!({ "wake_id": claim.wake_id, "generation": claim.generation });
        self.call(id, Method::POST, url, Some(body), Some(&claim.token))
            .await?;
        Ok(())
    }

    /// A webhook receiver's asynchronous answer to `wake` (POST to its
    /// `callback_url` with its `callback_token`).
    pub async fn callback(
        &self,
        wake: &WebhookWake,
        acks: &[StreamAck],
        done: bool,
    ) -> Result<AckOutcome, SubscriptionError> {
        let url = url::Url::parse(&wake.callback_url).map_err(|e| {
            Error::InvalidArgument(format!("bad callback_url: {e}"))
        })?;
        self.acknowledge(
            &wake.subscription_id,
            url,
            &wake.callback_token,
            &wake.wake_id,
            wake.generation,
            acks,
            done,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn acknowledge(
        &self,
        id: &str,
        url: url::Url,
        token: &str,
        wake_id: &str,
        generation: u64,
        acks: &[StreamAck],
        done: bool,
    ) -> Result<AckOutcome, SubscriptionError> {
        let body = json!({
            "wake_id": wake_id,
            "generation": generation,
            "acks": acks,
            "done": done,
        });
        let (_, body) = self
            .call(id, Method::POST, url, Some(body), Some(token))
            .await?;
        self.decode("ack answer", body)
    }

    /// The server's webhook signing keys.
    pub async fn jwks(&self) -> Result<Jwks, SubscriptionError> {
        let url = self.jwks_url()?;
        let (_, body) = self.call("jwks", Method::GET, url, None, None).await?;
        self.decode("JWKS", body)
    }
}

/// The body of a webhook delivery (PROTOCOL.md 7.1).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct WebhookWake {
    pub subscription_id: String,
    pub wake_id: String,
    pub generation: u64,
    pub streams: Vec<StreamLink>,
    pub callback_url: String,
    pub callback_token: String,
}

impl WebhookWake {
    /// Acks for every stream up to the tail this wake saw.
    pub fn tails(&self) -> Vec<StreamAck> {
        self.streams
            .iter()
            .filter_map(|s| {
                s.tail_offset.clone().map(|offset| StreamAck {
                    stream: s.path.clone(),
                    offset,
                })
            })
            .collect()
    }
}

/// A JSON Web Key Set (only what Ed25519 verification reads).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
}

/// Why a webhook signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Webhook-Signature is not t=<secs>,kid=<id>,ed25519=<sig>")]
    Malformed,
    #[error("no Ed25519 key {0:?} in the JWKS")]
    UnknownKey(String),
    #[error("timestamp {timestamp} is outside the replay window")]
    Stale { timestamp: u64 },
    #[error("the signature does not match the body")]
    Mismatch,
}

/// A verified delivery: which key signed it, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub kid: String,
    pub timestamp: u64,
}

/// The replay window the protocol suggests.
pub const REPLAY_WINDOW: Duration = Duration::from_mins(5);

/// Checks a webhook delivery: `header` is its `Webhook-Signature`, `body`
/// the exact request body, `now_unix` the receiver's clock in seconds.
/// The key is chosen by the header's `kid`; a timestamp further than
/// `window` from `now_unix` is refused.
pub fn verify_webhook(
    jwks: &Jwks,
    header: &str,
    body: &[u8],
    now_unix: u64,
    window: Duration,
) -> Result<Verified, SignatureError> {
    let mut t = None;
    let mut kid = None;
    let mut sig = None;
    for part in header.trim().split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("kid", v)) => kid = Some(v),
            Some(("ed25519", v)) => sig = Some(v),
            _ => return Err(SignatureError::Malformed),
        }
    }
    let (Some(t), Some(kid), Some(sig)) = (t, kid, sig) else {
        return Err(SignatureError::Malformed);
    };
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed);
    }
    let timestamp: u64 = t.parse().map_err(|_| SignatureError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .ok()
        .and_then(|s| ed25519_dalek::Signature::from_slice(&s).ok())
        .ok_or(SignatureError::Malformed)?;
    let key = jwks
        .keys
        .iter()
        .find(|k| {
            k.kid.as_deref() == Some(kid)
                && k.kty == "OKP"
                && k.crv.as_deref() == Some("Ed25519")
        })
        .and_then(|k| k.x.as_deref())
        .and_then(|x| URL_SAFE_NO_PAD.decode(x).ok())
        .and_then(|x| <[u8; 32]>::try_from(x).ok())
        .and_then(|x| ed25519_dalek::VerifyingKey::from_bytes(&x).ok())
        .ok_or_else(|| SignatureError::UnknownKey(kid.to_owned()))?;
    if now_unix.abs_diff(timestamp) > window.as_secs() {
        return Err(SignatureError::Stale { timestamp });
    }
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    key.verify_strict(&signed, &sig)
        .map_err(|_| SignatureError::Mismatch)?;
    Ok(Verified {
        kid: kid.to_owned(),
        timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn keyset(key: &SigningKey, kid: &str) -> Jwks {
        Jwks {
            keys: vec![Jwk {
                kty: "OKP".into(),
                crv: Some("Ed25519".into()),
                kid: Some(kid.into()),
                alg: Some("EdDSA".into()),
                x: Some(URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())),
            }],
        }
    }

    fn header(key: &SigningKey, kid: &str, t: u64, body: &[u8]) -> String {
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(body);
        let sig = key.sign(&signed);
        format!(
            "t={t},kid={kid},ed25519={}",
            URL_SAFE_NO_PAD.encode(sig.to_bytes())
        )
    }

    #[test]
    fn verifies_and_refuses() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let jwks = keyset(&key, "ds_a");
        let body = br#"{"wake_id":"w"}"#;
        let h = header(&key, "ds_a", 1000, body);
        assert_eq!(
            verify_webhook(&jwks, &h, body, 1010, REPLAY_WINDOW),
            Ok(Verified {
                kid: "ds_a".into(),
                timestamp: 1000
            })
        );
        assert_eq!(
            verify_webhook(&jwks, &h, b"{}", 1010, REPLAY_WINDOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_webhook(&jwks, &h, body, 1000 + 301, REPLAY_WINDOW),
            Err(SignatureError::Stale { timestamp: 1000 })
        );
        let other = header(&key, "ds_b", 1000, body);
        assert_eq!(
            verify_webhook(&jwks, &other, body, 1000, REPLAY_WINDOW),
            Err(SignatureError::UnknownKey("ds_b".into()))
        );
        for bad in ["", "t=1,kid=ds_a", "t=x,kid=ds_a,ed25519=AA", "v1=abc"] {
            assert_eq!(
                verify_webhook(&jwks, bad, body, 1, REPLAY_WINDOW),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        let wrong_key = SigningKey::from_bytes(&[4; 32]);
        let forged = header(&wrong_key, "ds_a", 1000, body);
        assert_eq!(
            verify_webhook(&jwks, &forged, body, 1000, REPLAY_WINDOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refusals_map_to_typed_errors() {
        let conflict = |body: &str| Error::Conflict {
            url: "u".into(),
            message: body.into(),
        };
        assert!(matches!(
            refusal("s", conflict(r#"{"error":{"code":"FENCED"}}"#)),
            SubscriptionError::Fenced { .. }
        ));
        let expired = Error::Status {
            url: "u".into(),
            status: 401,
            message: r#"{"error":{"code":"TOKEN_EXPIRED","message":"x"}}"#
                .into(),
        };
        assert!(matches!(
            refusal("s", expired),
            SubscriptionError::LeaseExpired { .. }
        ));
        match refusal(
            "s",
            conflict(
                r#"{"error":{"code":"ALREADY_CLAIMED","current_holder":"w2","generation":3}}"#,
            ),
        ) {
            SubscriptionError::AlreadyClaimed {
                holder, generation, ..
            } => {
                assert_eq!(holder.as_deref(), Some("w2"));
                assert_eq!(generation, Some(3));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            refusal("s", Error::NotFound { url: "u".into() }),
            SubscriptionError::NotFound { .. }
        ));
        let rejected = refusal(
            "s",
            Error::BadRequest {
                url: "u".into(),
                message: r#"{"error":{"code":"WEBHOOK_URL_REJECTED","message":"no"}}"#.into(),
            },
        );
        assert_eq!(rejected.code(), Some("WEBHOOK_URL_REJECTED"));
    }
}
