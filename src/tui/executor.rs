//! Carries out effects: client tasks (each cancellable; one tail reader
//! per stream), the bookmarks file, the clipboard. Results come back to the loop as `Message`s.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{Mutex, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::clipboard::{Clipboard, CopiedVia};
use super::effect::{CreateSpec, Effect};
use super::format::ContentKind;
use super::message::{
    Message, ReaderEvent, RegistryEvent, WriteKind, Written, explain,
};
use super::state::Connection;
use super::state::composer::AppendMode;
use super::state::meta::ReadInfo;
use super::state::tail::Incoming;
use crate::bookmarks::Bookmarks;
use crate::client::{
    AppendOptions, Client, CloseOptions, CreateOptions, Error, LiveMode,
    Offset, ProducerStamp, ReadMeta, ReadOptions, RequestEvent,
    RequestObserver,
};

/// HEADs in flight at once (a registry of many streams asks for many).
const HEADS_AT_ONCE: usize = 4;

/// Request events waiting for the UI; past this the observer drops them
/// (and counts them) rather than hold up an HTTP task.
const OBSERVED_QUEUE: usize = 4096;

/// Request events handed to the loop in one message at most.
const OBSERVED_BATCH: usize = 512;

/// A std mutex's guard, also after a panic elsewhere (the data stays
/// usable: a set of URLs, a snapshot).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Owns the client and every task the explorer started.
pub struct Executor {
    client: Client,
    /// Same as `client` but without retries: the tail shows its own
    /// reconnect attempts.
    tail_client: Client,
    tx: mpsc::Sender<Message>,
    /// The tail's reader tasks, one per stream URL: a new reader of a
    /// stream replaces its old one, and leaves the others reading.
    readers: HashMap<String, CancellationToken>,
    /// Cancels everything on quit.
    all: CancellationToken,
    clipboard: Box<dyn Clipboard>,
    bookmarks_path: Option<PathBuf>,
    saves: Arc<Mutex<()>>,
    /// The newest bookmarks snapshot not yet written: a save that finds it
    /// taken by a later one writes nothing (only the newest pending save
    /// runs).
    newest_save: Arc<std::sync::Mutex<Option<Bookmarks>>>,
    heads: Arc<Semaphore>,
    /// URLs whose HEAD is queued and not started: another request for one
    /// of them is already answered by the queued HEAD.
    queued_heads: Arc<std::sync::Mutex<HashSet<String>>>,
    /// Bookmark saves still running (awaited on quit).
    pending: JoinSet<()>,
}

impl Executor {
    pub fn new(
        client: Client,
        tail_client: Client,
        tx: mpsc::Sender<Message>,
        clipboard: Box<dyn Clipboard>,
        bookmarks_path: Option<PathBuf>,
    ) -> Self {
        let all = CancellationToken::new();
        let observer = observe_requests(tx.clone(), all.child_token());
        let client = client.with_observer(observer.clone());
        let tail_client = tail_client.with_observer(observer);
        Executor {
            client,
            tail_client,
            tx,
            readers: HashMap::new(),
            all,
            clipboard,
            bookmarks_path,
            saves: Arc::new(Mutex::new(())),
            newest_save: Arc::new(std::sync::Mutex::new(None)),
            heads: Arc::new(Semaphore::new(HEADS_AT_ONCE)),
            queued_heads: Arc::new(std::sync::Mutex::new(HashSet::new())),
            pending: JoinSet::new(),
        }
    }

    /// Starts following the registry stream under `base_url`.
    pub fn watch_registry(&self, base_url: &str) {
        let url = format!("{}/__registry__", base_url.trim_end_matches('/'));
        let client = self.tail_client.clone();
        let tx = self.tx.clone();
        let cancel = self.all.child_token();
        tokio::spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = registry_task(client, url, tx) => {}
            }
        });
    }

    /// Carries out one effect. Quick ones answer at once.
    pub fn execute(&mut self, effect: Effect) -> Option<Message> {
        match effect {
            Effect::StartReader {
                reader,
                url,
                from,
                mode,
                kind,
            } => {
                let cancel = self.all.child_token();
                if let Some(old) =
                    self.readers.insert(url.clone(), cancel.clone())
                {
                    old.cancel();
                }
                let client = self.tail_client.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let task =
                        tail_task(client, url, from, mode, kind, reader, tx);
                    tokio::select! {
                        () = cancel.cancelled() => {}
                        () = task => {}
                    }
                });
            }
            Effect::StopReader => self.stop_readers(),
            Effect::WatchRegistry { base_url } => {
                self.watch_registry(&base_url);
            }
            Effect::Head { url } => {
                if !lock(&self.queued_heads).insert(url.clone()) {
                    // One is queued already; it has not asked yet, so its
                    // answer is as fresh as this one's would be.
                    return None;
                }
                let client = self.client.clone();
                let tx = self.tx.clone();
                let heads = self.heads.clone();
                let queued = self.queued_heads.clone();
                self.spawn(async move {
                    let _permit = heads.acquire_owned().await;
                    lock(&queued).remove(&url);
                    let result = match client.stream(&url) {
                        Ok(s) => s.head().await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = &result {
                        let url = crate::client::redact_url(&url);
                        tracing::info!("HEAD {url}: {}", explain(e));
                    }
                    let at = Instant::now();
                    let _ = tx.send(Message::Head { url, at, result }).await;
                });
            }
            Effect::Append {
                url,
                body,
                content_type,
                mode,
                close,
            } => {
                self.write(
                    url,
                    WriteKind::Append { close },
                    move |c, url| async move {
                        append(&c, &url, body, content_type, &mode, close).await
                    },
                );
            }
            Effect::Close { url } => {
                self.write(url, WriteKind::Close, |c, url| async move {
                    let r =
                        c.stream(&url)?.close(CloseOptions::default()).await?;
                    Ok(Written::Closed {
                        final_offset: Some(r.final_offset.as_str().to_owned()),
                    })
                });
            }
            Effect::Create { path, url, spec } => {
                self.write(
                    url,
                    WriteKind::Create { path },
                    |c, url| async move { create(&c, &url, spec).await },
                );
            }
            Effect::Delete { path, url } => {
                self.write(
                    url,
                    WriteKind::Delete { path },
                    |c, url| async move {
                        c.stream(&url)?.delete().await?;
                        Ok(Written::Deleted)
                    },
                );
            }
            Effect::SaveBookmarks(bookmarks) => self.save(*bookmarks),
            Effect::Copy(text) => return Some(self.copy(&text, None)),
            Effect::CopyNoted { text, note } => {
                return Some(self.copy(&text, Some(&note)));
            }
            Effect::SearchStep { generation } => {
                // Through the channel, not answered at once: the loop takes
                // input and client messages in turn with it, so a long
                // search neither starves the keyboard (Esc stops it) nor
                // the reader.
                let message = Message::SearchStep { generation };
                if let Err(mpsc::error::TrySendError::Full(message)) =
                    self.tx.try_send(message)
                {
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(message).await;
                    });
                }
            }
        }
        None
    }

    fn copy(&mut self, text: &str, note: Option<&str>) -> Message {
        let chars = text.chars().count();
        let what = note.map_or_else(
            || format!("{chars} characters"),
            |n| format!("{n} ({chars} characters)"),
        );
        Message::Copied(match self.clipboard.copy(text) {
            Ok(CopiedVia::System) => Ok(format!("copied {what}")),
            Ok(CopiedVia::Osc52) => {
                Ok(format!("copied {what} via the terminal (OSC 52)"))
            }
            Err(e) => Err(e.to_string()),
        })
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let cancel = self.all.child_token();
        tokio::spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// Stops every tail reader.
    fn stop_readers(&mut self) {
        for (_, c) in self.readers.drain() {
            c.cancel();
        }
    }

    fn save(&mut self, bookmarks: Bookmarks) {
        let Some(path) = self.bookmarks_path.clone() else {
            return;
        };
        let order = self.saves.clone();
        let newest = self.newest_save.clone();
        *lock(&newest) = Some(bookmarks);
        let tx = self.tx.clone();
        // Saves run one at a time; each writes the newest snapshot not yet
        // written, so a burst of saves writes the file once or twice and
        // the newest snapshot is the one left on disk.
        self.pending.spawn(async move {
            let _guard = order.lock().await;
            let Some(bookmarks) = lock(&newest).take() else {
                return;
            };
            let result =
                tokio::task::spawn_blocking(move || bookmarks.save(&path))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()));
            let _ = tx.try_send(Message::Saved(result));
        });
    }

    /// Runs one write (`op` with a clone of the client and the URL) as a
    /// task, logs a failure, and reports the result as `Message::Written`.
    fn write<F, Fut>(&mut self, url: String, kind: WriteKind, op: F)
    where
        F: FnOnce(Client, String) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Written, Error>> + Send + 'static,
    {
        let client = self.client.clone();
        let tx = self.tx.clone();
        self.spawn(async move {
            let result = op(client, url.clone()).await;
            if let Err(e) = &result {
                tracing::warn!(
                    "{kind:?} {}: {}",
                    crate::client::redact_url(&url),
                    explain(e)
                );
            }
            let _ = tx.send(Message::Written { url, kind, result }).await;
        });
    }

    /// Cancels every task and waits (briefly) for bookmark saves.
    pub async fn shutdown(mut self) {
        self.all.cancel();
        let wait = async { while self.pending.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(Duration::from_secs(3), wait).await;
    }
}

/// The observer the executor gives its clients: every event goes on a
/// bounded queue without waiting (a full queue drops it and counts it, so
/// an HTTP task is never held up), and a task hands the queue to the loop
/// in batches as `Message::Requests`.
fn observe_requests(
    tx: mpsc::Sender<Message>,
    cancel: CancellationToken,
) -> RequestObserver {
    let (queue, mut events) = mpsc::channel::<RequestEvent>(OBSERVED_QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let lost = dropped.clone();
    tokio::spawn(async move {
        let forward = async {
            while let Some(first) = events.recv().await {
                let mut batch = vec![first];
                while batch.len() < OBSERVED_BATCH {
                    match events.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                let dropped = lost.swap(0, Ordering::Relaxed);
                let message = Message::Requests {
                    events: batch,
                    dropped,
                };
                if tx.send(message).await.is_err() {
                    return;
                }
            }
        };
        tokio::select! {
            () = cancel.cancelled() => {}
            () = forward => {}
        }
    });
    Arc::new(move |e: &RequestEvent| {
        if queue.try_send(e.clone()).is_err() {
            dropped.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// The composer's mode as the client's options: a `Stream-Seq`, or a
/// producer stamp.
fn stamps(mode: &AppendMode) -> (Option<String>, Option<ProducerStamp>) {
    match mode {
        AppendMode::Plain => (None, None),
        AppendMode::Seq { seq } => (Some(seq.clone()), None),
        AppendMode::Producer { id, epoch, seq } => (
            None,
            Some(ProducerStamp {
                id: id.clone(),
                epoch: *epoch,
                seq: *seq,
            }),
        ),
    }
}

async fn append(
    client: &Client,
    url: &str,
    body: bytes::Bytes,
    content_type: Option<String>,
    mode: &AppendMode,
    close: bool,
) -> Result<Written, Error> {
    let stream = client.stream(url)?;
    let (seq, producer) = stamps(mode);
    if close {
        // The append-and-close carries the mode's stamp as an append
        // would (`CloseOptions` has no `seq`: a header then).
        let headers = seq
            .map(|seq| vec![("Stream-Seq".to_owned(), seq)])
            .unwrap_or_default();
        let r = stream
            .close(CloseOptions {
                data: Some(body),
                content_type,
                producer,
                headers,
            })
            .await?;
        return Ok(Written::Appended {
            next_offset: r.final_offset.as_str().to_owned(),
            duplicate: false,
            closed: true,
        });
    }
    let r = stream
        .append(
            body,
            AppendOptions {
                seq,
                content_type,
                producer,
                headers: Vec::new(),
            },
        )
        .await?;
    Ok(Written::Appended {
        next_offset: r.next_offset.as_str().to_owned(),
        duplicate: r.duplicate,
        closed: false,
    })
}

async fn create(
    client: &Client,
    url: &str,
    spec: CreateSpec,
) -> Result<Written, Error> {
    let r = client
        .stream(url)?
        .create_detailed(CreateOptions {
            content_type: Some(spec.content_type),
            ttl: spec.ttl_secs.map(Duration::from_secs),
            expires_at: spec.expires_at,
            closed: spec.closed,
            data: None,
            headers: Vec::new(),
        })
        .await?;
    Ok(Written::Created {
        status: r.status,
        content_type: r.content_type,
    })
}

/// `HH:MM:SS.mmm` UTC, for batch headers.
pub fn clock() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// The wall clock as RFC 3339 UTC, to the second.
pub fn wall() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn read_info(meta: &ReadMeta) -> ReadInfo {
    ReadInfo {
        cursor: meta.cursor.clone(),
        etag: meta.etag.clone(),
        cache_control: meta.cache_control.clone(),
        status: meta.status,
        up_to_date: meta.up_to_date,
    }
}

fn incoming(meta: &ReadMeta, data: bytes::Bytes, ends: Vec<u32>) -> Incoming {
    Incoming {
        arrived: clock(),
        start_offset: meta.start_offset.as_str().to_owned(),
        next_offset: meta.offset.as_str().to_owned(),
        up_to_date: meta.up_to_date,
        closed: meta.stream_closed,
        partial: meta.partial,
        data,
        ends,
    }
}

/// Reads one stream and reports every item; ends on close, on catch-up
/// completion, on failure (the UI decides about retrying) or when
/// cancelled (by dropping this future).
async fn tail_task(
    client: Client,
    url: String,
    from: String,
    mode: LiveMode,
    kind: ContentKind,
    reader: u64,
    tx: mpsc::Sender<Message>,
) {
    let send = |event| {
        let tx = tx.clone();
        async move { tx.send(Message::Reader { reader, event }).await.is_ok() }
    };
    let stream = match client.stream(&url) {
        Ok(s) => s,
        Err(e) => {
            send(ReaderEvent::Failed(explain(&e))).await;
            return;
        }
    };
    let options = ReadOptions {
        offset: Offset::new(from),
        live: mode,
        ..ReadOptions::default()
    };
    send(ReaderEvent::Connection(Connection::CatchingUp)).await;
    let mut items: futures::stream::BoxStream<
        'static,
        Result<(Incoming, ReadInfo), Error>,
    > = if kind == ContentKind::Json {
        stream
            .read_json_raw(options)
            .map(|r| {
                r.map(|b| {
                    (incoming(&b.meta, b.data, b.ends), read_info(&b.meta))
                })
            })
            .boxed()
    } else {
        stream
            .read_bytes(options)
            .map(|r| {
                r.map(|c| {
                    (incoming(&c.meta, c.data, Vec::new()), read_info(&c.meta))
                })
            })
            .boxed()
    };
    while let Some(item) = items.next().await {
        match item {
            Ok((incoming, info)) => {
                let closed = incoming.closed;
                let event = ReaderEvent::Batch {
                    incoming,
                    info,
                    at: Instant::now(),
                };
                if !send(event).await || closed {
                    return;
                }
            }
            Err(e) => {
                let text = explain(&e);
                tracing::info!(
                    "read {}: {text}",
                    crate::client::redact_url(&url)
                );
                let event = if e.is_retryable() {
                    ReaderEvent::Retry(text)
                } else if e.is_decode() {
                    ReaderEvent::Corrupt(text)
                } else {
                    ReaderEvent::Failed(text)
                };
                send(event).await;
                return;
            }
        }
    }
    send(ReaderEvent::Done).await;
}

/// Follows `__registry__`: creates and deletes, live.
async fn registry_task(client: Client, url: String, tx: mpsc::Sender<Message>) {
    let send = |event| {
        let tx = tx.clone();
        async move { tx.send(Message::Registry(event)).await.is_ok() }
    };
    let Ok(stream) = client.stream(&url) else {
        send(RegistryEvent::Failed("bad registry URL".into())).await;
        return;
    };
    let mut from = Offset::START;
    let mut attempt = 0u32;
    loop {
        let mut reads = stream.read_json::<serde_json::Value>(ReadOptions {
            offset: from.clone(),
            live: LiveMode::Auto,
            ..ReadOptions::default()
        });
        let mut live_said = false;
        let failure = loop {
            match reads.next().await {
                None => break None,
                Some(Err(e)) => break Some(e),
                Some(Ok(batch)) => {
                    attempt = 0;
                    for event in batch.items.iter().filter_map(registry_event) {
                        if !send(event).await {
                            return;
                        }
                    }
                    if batch.meta.is_resumable() {
                        from = batch.meta.offset.clone();
                    }
                    if batch.meta.up_to_date && !live_said {
                        live_said = true;
                        if !send(RegistryEvent::Live).await {
                            return;
                        }
                    }
                }
            }
        };
        match failure {
            Some(e) if e.is_not_found() => {
                send(RegistryEvent::Absent).await;
                return;
            }
            Some(e) => {
                let text = if e.is_network() || e.is_timeout() {
                    format!("server unreachable: {}", explain(&e))
                } else {
                    explain(&e)
                };
                send(RegistryEvent::Failed(text)).await;
            }
            None => {}
        }
        attempt += 1;
        let wait = crate::tui::state::REGISTRY_WATCH.backoff(attempt);
        tokio::time::sleep(wait).await;
    }
}

/// One registry record as an event (the Node server's shape:
/// `{"type":"stream","key":path,"value":{"contentType":..},"headers":{"operation":"insert"|"delete"}}`).
fn registry_event(v: &serde_json::Value) -> Option<RegistryEvent> {
    let path = v
        .get("key")
        .and_then(|k| k.as_str())
        .or_else(|| v.pointer("/value/path").and_then(|p| p.as_str()))?
        .to_owned();
    let op = v
        .pointer("/headers/operation")
        .and_then(|o| o.as_str())
        .unwrap_or("insert");
    Some(match op {
        "delete" => RegistryEvent::Deleted { path },
        _ => RegistryEvent::Created {
            path,
            content_type: v
                .pointer("/value/contentType")
                .and_then(|c| c.as_str())
                .map(str::to_owned),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executor(
        bookmarks: Option<PathBuf>,
    ) -> (Executor, mpsc::Receiver<Message>) {
        let client = Client::builder()
            .base_url("http://127.0.0.1:1/v1/stream")
            .build()
            .unwrap();
        let (tx, rx) = mpsc::channel(1024);
        let clipboard = Box::new(crate::tui::clipboard::MemoryClipboard {
            copied: Arc::new(std::sync::Mutex::new(Vec::new())),
        });
        let e = Executor::new(client.clone(), client, tx, clipboard, bookmarks);
        (e, rx)
    }

    #[tokio::test]
    async fn a_queued_head_answers_every_request_for_its_url() {
        let (mut e, mut rx) = executor(None);
        // Every permit taken: the HEADs queue.
        let held = e.heads.clone().acquire_many_owned(4).await.unwrap();
        for _ in 0..20 {
            for url in [
                "http://127.0.0.1:1/v1/stream/a",
                "http://127.0.0.1:1/v1/stream/b",
            ] {
                e.execute(Effect::Head { url: url.into() });
            }
        }
        drop(held);
        let mut answered = Vec::new();
        while let Ok(Some(m)) =
            tokio::time::timeout(Duration::from_secs(2), rx.recv()).await
        {
            if let Message::Head { url, .. } = m {
                answered.push(url);
            }
        }
        answered.sort();
        assert_eq!(
            answered,
            [
                "http://127.0.0.1:1/v1/stream/a",
                "http://127.0.0.1:1/v1/stream/b"
            ]
        );
        // Once started, a new request asks again.
        e.execute(Effect::Head {
            url: "http://127.0.0.1:1/v1/stream/a".into(),
        });
        // (The inspector's reports of the requests come too: skipped.)
        let next = async {
            loop {
                match rx.recv().await {
                    Some(Message::Requests { .. }) => {}
                    other => return other,
                }
            }
        };
        let again = tokio::time::timeout(Duration::from_secs(5), next).await;
        assert!(matches!(again, Ok(Some(Message::Head { .. }))), "{again:?}");
        e.shutdown().await;
    }

    #[tokio::test]
    async fn each_stream_has_a_reader_of_its_own() {
        let (mut e, _rx) = executor(None);
        let (a, b) = (
            "http://127.0.0.1:1/v1/stream/a",
            "http://127.0.0.1:1/v1/stream/b",
        );
        let start = |url: &str, reader| Effect::StartReader {
            reader,
            url: url.into(),
            from: "-1".into(),
            mode: LiveMode::Off,
            kind: ContentKind::Json,
        };
        e.execute(start(a, 1));
        let first_a = e.readers[a].clone();
        e.execute(start(b, 2));
        assert!(!first_a.is_cancelled(), "another stream's reader leaves it");
        e.execute(start(a, 3));
        assert!(first_a.is_cancelled(), "a new reader of a replaces its old");
        let (second_a, b_reader) = (e.readers[a].clone(), e.readers[b].clone());
        assert!(!second_a.is_cancelled() && !b_reader.is_cancelled());
        e.execute(Effect::StopReader);
        assert!(second_a.is_cancelled() && b_reader.is_cancelled());
        assert!(e.readers.is_empty());
        e.shutdown().await;
    }

    #[tokio::test]
    async fn a_burst_of_saves_writes_the_newest_and_fewer_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        let (mut e, mut rx) = executor(Some(path.clone()));
        let order = e.saves.clone();
        let guard = order.lock().await;
        for n in 0..30 {
            let mut b = Bookmarks::default();
            b.touch_recent(
                &format!("http://h/v1/stream/s{n}"),
                "2026-12-03T00:00:00Z",
            );
            e.execute(Effect::SaveBookmarks(Box::new(b)));
        }
        drop(guard);
        e.shutdown().await;
        let mut saved = 0;
        while let Ok(m) = rx.try_recv() {
            if matches!(m, Message::Saved(Ok(()))) {
                saved += 1;
            }
        }
        assert_eq!(saved, 1, "one write for the whole burst");
        let on_disk = Bookmarks::load(&path).unwrap();
        assert_eq!(on_disk.recent(), ["http://h/v1/stream/s29"]);
    }

    /// A loop that reads nothing: the observer still returns at once, and
    /// what could not wait is counted, not lost silently.
    #[tokio::test]
    async fn the_observer_never_waits_for_the_ui_and_counts_what_it_drops() {
        const SENT: u64 = 10_000;
        let client = Client::builder()
            .base_url("http://127.0.0.1:1/v1/stream")
            .build()
            .unwrap();
        let (tx, mut rx) = mpsc::channel(1);
        let clipboard = Box::new(crate::tui::clipboard::MemoryClipboard {
            copied: Arc::new(std::sync::Mutex::new(Vec::new())),
        });
        let e = Executor::new(client.clone(), client, tx, clipboard, None);
        let observer = e.tail_client.inner.observer.clone().unwrap();
        let event = crate::tui::testkit::request(1, "GET", "s", Some(200), 1);
        let started = Instant::now();
        for _ in 0..SENT {
            observer(&event);
        }
        assert!(started.elapsed() < Duration::from_secs(2), "it waited");
        let (mut told, mut dropped) = (0u64, 0u64);
        let deadline = Instant::now() + Duration::from_secs(5);
        while told + dropped < SENT && Instant::now() < deadline {
            let next = tokio::time::timeout(Duration::from_secs(1), rx.recv());
            if let Ok(Some(Message::Requests { events, dropped: d })) =
                next.await
            {
                told += events.len() as u64;
                dropped += d;
            }
        }
        assert_eq!(told + dropped, SENT, "every event told or counted");
        assert!(dropped > 0, "the queue is bounded");
        assert!(told >= OBSERVED_QUEUE as u64, "{told} told");
        e.shutdown().await;
    }

    #[test]
    fn registry_records_become_events() {
        let insert = serde_json::json!({"type":"stream","key":"a/b","value":{"path":"a/b","contentType":"text/plain","createdAt":1},"headers":{"operation":"insert"}});
        assert_eq!(
            registry_event(&insert),
            Some(RegistryEvent::Created {
                path: "a/b".into(),
                content_type: Some("text/plain".into())
            })
        );
        let delete = serde_json::json!({"type":"stream","key":"a/b","headers":{"operation":"delete"}});
        assert_eq!(
            registry_event(&delete),
            Some(RegistryEvent::Deleted { path: "a/b".into() })
        );
        assert_eq!(registry_event(&serde_json::json!(42)), None);
    }

    #[test]
    fn producer_modes_carry_their_headers() {
        let (seq, stamp) = stamps(&AppendMode::Producer {
            id: "p".into(),
            epoch: 2,
            seq: 7,
        });
        assert_eq!(seq, None);
        assert_eq!(stamp.map(|s| s.seq), Some(7));
        assert_eq!(stamps(&AppendMode::Plain), (None, None));
        let (seq, stamp) = stamps(&AppendMode::Seq { seq: "a".into() });
        assert_eq!((seq.as_deref(), stamp), (Some("a"), None));
    }
}
