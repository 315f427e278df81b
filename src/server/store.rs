//! The set of streams: lookup with expiry, create (including forks),
//! delete with soft-delete and cascading clean-up, the memory budget and
//! the `__registry__` change events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::json;
use super::offset;
use super::persist::{Disk, Header};
use super::stream::{Config, Kind, Stream, media_type};

/// Name of the JSON stream that records creates and deletes.
pub const REGISTRY: &str = "__registry__";

/// Server-wide limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest accepted request body (413 beyond).
    pub max_body_bytes: u64,
    /// Largest catch-up response body; bigger reads are split.
    pub max_chunk_bytes: u64,
    /// Total stream bytes held in memory (507 beyond).
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 256 << 20,
            max_chunk_bytes: 4 << 20,
            max_memory_bytes: 1 << 30,
        }
    }
}

/// A refused operation; `http` turns these into responses.
#[derive(Debug)]
pub enum Error {
    NotFound(&'static str),
    Gone,
    BadRequest(String),
    Conflict(String),
    /// Append to a closed stream: 409 with `Stream-Closed` and the tail.
    Closed {
        tail: u64,
    },
    StaleEpoch {
        epoch: u64,
    },
    SeqGap {
        expected: u64,
        received: u64,
    },
    TooLarge(String),
    Storage(String),
    Io(String),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(format!("storage error: {e}"))
    }
}

pub enum Lookup {
    Missing,
    Gone,
    Live(Arc<Stream>),
}

/// A parsed create request (`PUT`).
#[derive(Debug, Default)]
pub struct CreateRequest {
    /// Valid `Content-Type`, if one was sent.
    pub content_type: Option<String>,
    pub ttl: Option<u64>,
    pub expires_at: Option<String>,
    pub closed: bool,
    pub forked_from: Option<String>,
    pub fork_offset: Option<String>,
    pub fork_sub_offset: Option<u64>,
    pub body: Bytes,
}

pub struct Store {
    streams: Mutex<HashMap<String, Arc<Stream>>>,
    /// Serialises creates, deletes and expiry so registry events stay in
    /// order and a path is never half-created.
    lifecycle: tokio::sync::Mutex<()>,
    pub limits: Limits,
    pub(super) used: AtomicU64,
    pub(crate) disk: Option<Disk>,
    pub(super) registry: bool,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Store {
    /// Opens the store, loading `data_dir` if given, and makes sure the
    /// registry stream exists when `registry` is set.
    pub async fn open(
        limits: Limits,
        data_dir: Option<&std::path::Path>,
        registry: bool,
    ) -> std::io::Result<Arc<Store>> {
        let disk = data_dir.map(Disk::open).transpose()?;
        let store = Arc::new(Store {
            streams: Mutex::new(HashMap::new()),
            lifecycle: tokio::sync::Mutex::new(()),
            limits,
            used: AtomicU64::new(0),
            disk,
            registry,
        });
        if let Some(disk) = &store.disk {
            let loaded = disk.load_all()?;
            store.restore(loaded);
        }
        if registry {
            let _guard = store.lifecycle.lock().await;
            store
                .ensure_registry()
                .await
                .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        }
        Ok(store)
    }

    pub(super) fn map(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Stream>>> {
        self.streams.lock().expect("store lock")
    }

    /// Current stream names (live ones only).
    pub fn names(&self) -> Vec<String> {
        let now = now_ms();
        let mut v: Vec<String> = self
            .map()
            .values()
            .filter(|s| {
                !s.soft_deleted.load(Ordering::Relaxed) && !s.is_expired(now)
            })
            .map(|s| s.name().to_owned())
            .collect();
        v.sort();
        v
    }

    pub fn lookup(&self, name: &str) -> Lookup {
        let Some(s) = self.map().get(name).cloned() else {
            return Lookup::Missing;
        };
        if s.soft_deleted.load(Ordering::Relaxed) {
            return Lookup::Gone;
        }
        if s.is_expired(now_ms()) {
            return if s.refs.load(Ordering::Relaxed) > 0 {
                Lookup::Gone
            } else {
                Lookup::Missing
            };
        }
        Lookup::Live(s)
    }

    pub fn memory_used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    fn no_room(&self, cur: u64, len: u64) -> Error {
        #[allow(clippy::cast_precision_loss, reason = "display only")]
        let mib = |n: u64| n as f64 / f64::from(1u32 << 20);
        Error::Storage(format!(
            "dsx dev server memory budget exhausted: {:.1} MiB in use of \
             {:.1} MiB, this write needs {len} more bytes. Delete streams you \
             no longer need, or restart `dsx serve` with a larger \
             --max-memory-mb.\n",
            mib(cur),
            mib(self.limits.max_memory_bytes),
        ))
    }

    /// Whether `len` more bytes would fit (without reserving them).
    pub fn check_room(&self, len: u64) -> Result<(), Error> {
        let cur = self.memory_used();
        if cur.saturating_add(len) > self.limits.max_memory_bytes {
            return Err(self.no_room(cur, len));
        }
        Ok(())
    }

    /// Reserves room for `len` more bytes or explains the 507.
    pub fn reserve(&self, len: u64) -> Result<(), Error> {
        let max = self.limits.max_memory_bytes;
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            if cur.saturating_add(len) > max {
                return Err(self.no_room(cur, len));
            }
            match self.used.compare_exchange(
                cur,
                cur + len,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    pub fn release(&self, len: u64) {
        self.used
            .fetch_sub(len.min(self.memory_used()), Ordering::Relaxed);
    }

    /// Creates a stream (`PUT`). Returns the stream and whether it is new.
    pub async fn create(
        &self,
        name: &str,
        req: CreateRequest,
    ) -> Result<(Arc<Stream>, bool), Error> {
        let _guard = self.lifecycle.lock().await;
        self.create_locked(name, req).await
    }

    pub(super) async fn create_locked(
        &self,
        name: &str,
        req: CreateRequest,
    ) -> Result<(Arc<Stream>, bool), Error> {
        self.purge_expired(name).await?;
        let existing = self.map().get(name).cloned();
        if let Some(s) = existing {
            if s.soft_deleted.load(Ordering::Relaxed) {
                return Err(Error::Conflict(
                    "Stream was deleted but still has active forks; the \
                     path cannot be reused until they are gone\n"
                        .into(),
                ));
            }
            return if same_config(&s, &req) {
                Ok((s, false))
            } else {
                Err(Error::Conflict(
                    "Stream already exists with different configuration\n"
                        .into(),
                ))
            };
        }
        let now = now_ms();
        let mut config = Config {
            name: name.to_owned(),
            content_type: String::new(),
            ttl: req.ttl,
            expires_at: req.expires_at.clone(),
            req_ttl: req.ttl,
            req_expires_at: req.expires_at.clone(),
            forked_from: None,
            req_fork_offset: req.fork_offset.clone(),
            fork_sub_offset: req.fork_sub_offset.unwrap_or(0),
            base: 0,
            created_at: now,
            incarnation: rand::random::<u64>() >> 11,
        };
        let source = if let Some(from) = &req.forked_from {
            Some(self.resolve_fork(&req, from, &mut config)?)
        } else {
            config.content_type = req
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            None
        };
        let (data, ends) = if Kind::of(&config.content_type) == Kind::Json {
            if req.body.is_empty() {
                (Bytes::new(), Vec::new())
            } else {
                let m = json::split(&req.body, true).map_err(json_error)?;
                (m.data, m.ends)
            }
        } else {
            (req.body.clone(), Vec::new())
        };
        self.reserve(data.len() as u64)?;
        let stream = Arc::new(Stream::new(config, source.clone(), now));
        let ends = compact_ends(ends);
        let persisted =
            self.persist_create(&stream, &data, &ends, req.closed).await;
        if let Err(e) = persisted {
            self.release(data.len() as u64);
            return Err(e);
        }
        stream.push(data, ends, req.closed);
        if let Some(src) = &source {
            src.refs.fetch_add(1, Ordering::Relaxed);
        }
        self.map().insert(name.to_owned(), stream.clone());
        if name != REGISTRY {
            self.registry_event(name, Some(&stream)).await;
        }
        Ok((stream, true))
    }

    async fn persist_create(
        &self,
        stream: &Stream,
        data: &Bytes,
        ends: &[u32],
        closed: bool,
    ) -> Result<(), Error> {
        let Some(disk) = &self.disk else {
            return Ok(());
        };
        let log = disk.create(&stream.config).await?;
        if !data.is_empty() || closed {
            let header = Header {
                m: ends.to_vec(),
                c: closed,
                ..Header::default()
            };
            Disk::append(&log, &header, data).await?;
        }
        stream.writer.lock().await.log = Some(log);
        Ok(())
    }

    /// Validates a fork request and fills in the fork's configuration.
    fn resolve_fork(
        &self,
        req: &CreateRequest,
        from: &str,
        config: &mut Config,
    ) -> Result<Arc<Stream>, Error> {
        let src_name = from
            .trim_start_matches('/')
            .trim_start_matches("v1/stream/")
            .to_owned();
        let src = match self.lookup(&src_name) {
            Lookup::Live(s) => s,
            Lookup::Missing => {
                return Err(Error::NotFound("Source stream not found\n"));
            }
            Lookup::Gone => {
                return Err(Error::Conflict(
                    "Source stream was deleted but still has active forks\n"
                        .into(),
                ));
            }
        };
        if let Some(ct) = &req.content_type
            && media_type(ct) != media_type(&src.config.content_type)
        {
            return Err(Error::Conflict(
                "Content type mismatch with source stream\n".into(),
            ));
        }
        config.content_type = req
            .content_type
            .clone()
            .unwrap_or_else(|| src.config.content_type.clone());
        let tail = src.tail();
        let anchor = match &req.fork_offset {
            Some(o) => offset::parse_position(o).ok_or_else(|| {
                Error::BadRequest("Invalid Stream-Fork-Offset\n".into())
            })?,
            None => tail,
        };
        if anchor > tail {
            return Err(Error::BadRequest(
                "Fork offset beyond source stream length\n".into(),
            ));
        }
        if !src.is_boundary(anchor) {
            return Err(Error::BadRequest(
                "Fork offset is not a message boundary\n".into(),
            ));
        }
        let sub = req.fork_sub_offset.unwrap_or(0);
        let point = if sub == 0 {
            anchor
        } else {
            let bad = || Error::BadRequest("Invalid fork sub-offset\n".into());
            let unit = src.unit_at(anchor).ok_or_else(bad)?;
            if src.kind == Kind::Json {
                let ends: Vec<u64> =
                    unit.msg_ends.into_iter().filter(|&e| e > anchor).collect();
                let k = usize::try_from(sub).map_err(|_| bad())?;
                *ends.get(k - 1).ok_or_else(bad)?
            } else {
                let p = anchor.checked_add(sub).ok_or_else(bad)?;
                if p > unit.end {
                    return Err(bad());
                }
                p
            }
        };
        config.forked_from = Some(src_name);
        config.base = point;
        if req.ttl.is_none() && req.expires_at.is_none() {
            config.ttl = src.config.ttl;
            config.expires_at.clone_from(&src.config.expires_at);
        }
        Ok(src)
    }

    /// Deletes a stream (`DELETE`): soft-delete while forks read through it.
    pub async fn delete(&self, name: &str) -> Result<(), Error> {
        let _guard = self.lifecycle.lock().await;
        match self.lookup(name) {
            Lookup::Missing => {
                self.purge_expired(name).await?;
                Err(Error::NotFound("Stream not found\n"))
            }
            Lookup::Gone => Err(Error::Gone),
            Lookup::Live(s) => {
                self.retire(&s).await?;
                self.registry_event(name, None).await;
                Ok(())
            }
        }
    }

    /// Soft-deletes `s` if forks depend on it, else removes it.
    async fn retire(&self, s: &Arc<Stream>) -> Result<(), Error> {
        if s.refs.load(Ordering::Relaxed) > 0 {
            s.soft_deleted.store(true, Ordering::Relaxed);
            if let Some(disk) = &self.disk {
                disk.set_soft_deleted(&s.config).await?;
            }
            s.notify.notify_waiters();
            Ok(())
        } else {
            self.remove(s.clone()).await
        }
    }

    /// Removes a stream and, up the fork chain, sources nobody needs.
    async fn remove(&self, mut s: Arc<Stream>) -> Result<(), Error> {
        loop {
            {
                let mut map = self.map();
                if map.get(s.name()).is_some_and(|cur| Arc::ptr_eq(cur, &s)) {
                    map.remove(s.name());
                }
            }
            s.gone.store(true, Ordering::Relaxed);
            s.notify.notify_waiters();
            self.release(s.own_bytes());
            if let Some(disk) = &self.disk {
                disk.remove(s.name()).await?;
            }
            let Some(src) = s.source.clone() else {
                return Ok(());
            };
            let left =
                src.refs.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
            let src_dead = src.soft_deleted.load(Ordering::Relaxed)
                || src.is_expired(now_ms());
            if left > 0 || !src_dead || src.gone.load(Ordering::Relaxed) {
                return Ok(());
            }
            s = src;
        }
    }

    /// Removes `name` if it has expired (emitting the registry event).
    async fn purge_expired(&self, name: &str) -> Result<(), Error> {
        let Some(s) = self.map().get(name).cloned() else {
            return Ok(());
        };
        if s.soft_deleted.load(Ordering::Relaxed) || !s.is_expired(now_ms()) {
            return Ok(());
        }
        self.retire(&s).await?;
        self.registry_event(name, None).await;
        Ok(())
    }

    /// Expires every stream whose TTL or Expires-At has passed.
    pub async fn sweep(&self) {
        let now = now_ms();
        let expired: Vec<String> = self
            .map()
            .values()
            .filter(|s| {
                !s.soft_deleted.load(Ordering::Relaxed) && s.is_expired(now)
            })
            .map(|s| s.name().to_owned())
            .collect();
        if expired.is_empty() {
            return;
        }
        let _guard = self.lifecycle.lock().await;
        for name in expired {
            if let Err(e) = self.purge_expired(&name).await {
                tracing::warn!("expiring {name}: {e:?}");
            }
        }
    }
}

/// Message ends as stored: none for a single message.
pub fn compact_ends(ends: Vec<u32>) -> Box<[u32]> {
    if ends.len() <= 1 {
        Box::default()
    } else {
        ends.into_boxed_slice()
    }
}

#[allow(clippy::needless_pass_by_value, reason = "used with map_err")]
pub fn json_error(e: json::JsonError) -> Error {
    match e {
        json::JsonError::Invalid => Error::BadRequest("Invalid JSON\n".into()),
        json::JsonError::EmptyArray => {
            Error::BadRequest("Empty arrays are not allowed\n".into())
        }
    }
}

fn same_config(s: &Stream, req: &CreateRequest) -> bool {
    let c = &s.config;
    let ct = match &req.content_type {
        Some(ct) => media_type(ct) == media_type(&c.content_type),
        None => {
            req.forked_from.is_some()
                || media_type(&c.content_type) == "application/octet-stream"
        }
    };
    let from = req
        .forked_from
        .as_deref()
        .map(|f| f.trim_start_matches('/').trim_start_matches("v1/stream/"));
    ct && c.req_ttl == req.ttl
        && c.req_expires_at == req.expires_at
        && s.is_closed() == req.closed
        && c.forked_from.as_deref() == from
        && (req.fork_offset.is_none() || c.req_fork_offset == req.fork_offset)
        && c.fork_sub_offset == req.fork_sub_offset.unwrap_or(0)
}
