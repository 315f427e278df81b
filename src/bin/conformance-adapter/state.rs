//! The adapter's state between commands, and the dispatch of each command
//! to its handler.

use std::collections::HashMap;
use std::time::Duration;

use dsx::client::{Client, DurableStream, IdempotentProducer};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::dynamic::{Dynamic, Kind, Place};
use crate::reply::Reply;

/// The request timeout of the client: long enough for the runner's
/// injected delays (over a second), short enough that a command and its
/// retries finish inside the runner's 30 s deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A producer is kept per stream path, producer id and requested epoch.
pub type ProducerKey = (String, String, u64);

/// Everything that survives from one command to the next.
#[derive(Default)]
pub struct Adapter {
    pub server_url: String,
    client: Option<Client>,
    pub dynamic: Dynamic,
    /// Stream handles by path (they remember the stream's content type).
    streams: HashMap<String, DurableStream>,
    /// Content types learnt from create, connect and head, by path.
    pub content_types: HashMap<String, String>,
    pub producers: HashMap<ProducerKey, IdempotentProducer>,
}

/// A command's fields, or the error reply for a malformed command.
pub fn fields<T: DeserializeOwned>(
    kind: &str,
    command: Value,
) -> Result<T, Reply> {
    serde_json::from_value(command).map_err(|e| {
        Reply::error(
            kind,
            "PARSE_ERROR",
            None,
            format!("bad {kind} command: {e}"),
        )
    })
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Init {
    server_url: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetDynamic {
    name: String,
    value_type: String,
    initial_value: Option<String>,
}

impl Adapter {
    /// Carries out one command.
    pub async fn handle(&mut self, kind: &str, command: Value) -> Reply {
        let outcome = match kind {
            "init" => self.init(command).await,
            "create" => self.create(command).await,
            "connect" => self.connect(command).await,
            "append" => self.append(command).await,
            "read" => self.read(command).await,
            "head" => self.head(command).await,
            "delete" => self.delete(command).await,
            "close" => self.close(command).await,
            "idempotent-append" => self.idempotent_append(command).await,
            "idempotent-append-batch" => {
                self.idempotent_append_batch(command).await
            }
            "idempotent-close" => self.idempotent_close(command).await,
            "idempotent-detach" => self.idempotent_detach(command).await,
            "set-dynamic-header" => {
                self.set_dynamic(kind, Place::Header, command)
            }
            "set-dynamic-param" => {
                self.set_dynamic(kind, Place::Param, command)
            }
            "clear-dynamic" => {
                self.dynamic.clear();
                self.rebuild();
                Ok(Reply::ok(kind))
            }
            "validate" => crate::validate::validate(&command),
            "benchmark" => self.benchmark(command).await,
            "shutdown" => Ok(Reply::ok(kind)),
            other => Err(Reply::error(
                other,
                "NOT_SUPPORTED",
                None,
                format!("unknown command type {other:?}"),
            )),
        };
        outcome.unwrap_or_else(|reply| reply)
    }

    async fn init(&mut self, command: Value) -> Result<Reply, Reply> {
        let init: Init = fields("init", command)?;
        self.shutdown().await;
        *self = Adapter {
            server_url: init.server_url.trim_end_matches('/').to_owned(),
            ..Adapter::default()
        };
        self.client()?;
        let features = serde_json::json!({
            "batching": true,
            "sse": true,
            "longPoll": true,
            "auto": true,
            "streaming": true,
            "dynamicHeaders": true,
            "retryOptions": true,
            "batchItems": true,
            "strictZeroValidation": true,
        });
        Ok(Reply::ok("init")
            .with("clientName", "dsx")
            .with("clientVersion", env!("CARGO_PKG_VERSION"))
            .with("features", features))
    }

    fn set_dynamic(
        &mut self,
        kind: &str,
        place: Place,
        command: Value,
    ) -> Result<Reply, Reply> {
        let set: SetDynamic = fields(kind, command)?;
        let value = Kind::parse(&set.value_type, set.initial_value.as_deref())
            .ok_or_else(|| {
                Reply::error(
                    kind,
                    "INVALID_ARGUMENT",
                    None,
                    format!("unknown valueType {:?}", set.value_type),
                )
            })?;
        self.dynamic.set(place, &set.name, value);
        self.rebuild();
        Ok(Reply::ok(kind))
    }

    /// Drops the client so that the next command builds one with the
    /// current dynamic entries. Handles belong to a client, so they go too.
    fn rebuild(&mut self) {
        self.client = None;
        self.streams.clear();
    }

    /// The client, built on first use.
    pub fn client(&mut self) -> Result<&Client, Reply> {
        if self.client.is_none() {
            // The runner's `append-with-connection-drop` destroys the socket
            // before any response and expects the plain append to be sent
            // again (adapter protocol: dropped connections must be retried,
            // for POST as for GET). The client leaves that off by default,
            // since a server may have stored an append whose answer was
            // lost and a resend would store it twice; the adapter opts in,
            // as the runner requires of every client it tests.
            let builder = Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .retry_appends_after_drop(true);
            let client =
                self.dynamic.install(builder).build().map_err(|e| {
                    Reply::error("init", "INTERNAL_ERROR", None, e.to_string())
                })?;
            self.client = Some(client);
        }
        Ok(self.client.as_ref().expect("just built"))
    }

    /// The handle for a stream path (cached).
    pub fn stream(
        &mut self,
        kind: &str,
        path: &str,
    ) -> Result<DurableStream, Reply> {
        if let Some(stream) = self.streams.get(path) {
            return Ok(stream.clone());
        }
        let url = format!("{}{}", self.server_url, path);
        let mut stream = self
            .client()?
            .stream(&url)
            .map_err(|e| Reply::from_error(kind, &e))?;
        // A handle rebuilt after `set-dynamic-*` starts out knowing nothing;
        // tell it the type already learnt, so that it never sends a HEAD of
        // its own to find out (a HEAD would use up a fault the runner
        // injected for the next request).
        if let Some(ct) = self.content_types.get(path) {
            stream = stream.with_content_type(ct);
        }
        self.streams.insert(path.to_owned(), stream.clone());
        Ok(stream)
    }

    /// Forgets everything about a deleted stream.
    pub fn forget(&mut self, path: &str) {
        self.streams.remove(path);
        self.content_types.remove(path);
        self.producers.retain(|(p, _, _), _| p != path);
    }

    /// The stream's content type as far as the adapter knows.
    pub fn content_type(&self, path: &str) -> Option<String> {
        self.content_types.get(path).cloned()
    }

    /// Lets go of every producer (flushing what each has queued).
    pub async fn shutdown(&mut self) {
        for (_, producer) in self.producers.drain() {
            if let Err(e) = producer.detach().await {
                eprintln!("conformance-adapter: producer at shutdown: {e}");
            }
        }
    }
}
