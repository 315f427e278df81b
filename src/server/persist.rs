//! `--data-dir` storage: per stream a directory (hex-encoded name) holding
//! `meta.json` (configuration, written atomically) and `log`, an append-only
//! file of records, each written and fsynced before the request is
//! acknowledged. A torn last record (crash mid-write) was never acknowledged
//! and is cut off on load.
//!
//! Record: `u32 LE header length`, header JSON, `u64 LE data length`, data.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::store::{Store, now_ms};
use super::stream::{Config, Producer, Stream, Writer};

/// What one log record changes.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// JSON message ends (relative), empty for one message or raw bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub m: Vec<u32>,
    /// Producer `(id, epoch, seq)` accepted with this record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<(String, u64, u64)>,
    /// `Stream-Seq` accepted with this record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
    /// The stream closed with this record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub c: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    config: Config,
    soft_deleted: bool,
}

/// A stream read back from disk.
pub struct Loaded {
    pub config: Config,
    pub soft_deleted: bool,
    pub records: Vec<(Header, Bytes)>,
    pub log: Arc<File>,
}

pub struct Disk {
    root: PathBuf,
}

/// Directory name for a stream: its name in hex, so any name is a safe
/// file name; names too long for that keep a hex prefix plus an FNV-1a
/// hash of the whole name (the real name is in `meta.json`).
fn dir_name(name: &str) -> String {
    use std::fmt::Write as _;
    const PREFIX: usize = 80;
    let bytes = name.as_bytes();
    let shown = &bytes[..bytes.len().min(PREFIX)];
    let mut s = shown.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    if bytes.len() > PREFIX {
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let _ = write!(s, "-{hash:016x}-{}", bytes.len());
    }
    s
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

impl Disk {
    pub fn open(root: &Path) -> io::Result<Disk> {
        let root = root.join("streams");
        fs::create_dir_all(&root)?;
        Ok(Disk { root })
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.join(dir_name(name))
    }

    /// Creates the stream's directory, metadata and empty log.
    pub async fn create(&self, config: &Config) -> io::Result<Arc<File>> {
        let dir = self.dir(&config.name);
        let meta = serde_json::to_vec(&Meta {
            config: config.clone(),
            soft_deleted: false,
        })?;
        let root = self.root.clone();
        blocking(move || {
            if dir.exists() {
                fs::remove_dir_all(&dir)?;
            }
            fs::create_dir_all(&dir)?;
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("log"))?;
            log.sync_all()?;
            write_atomic(&dir.join("meta.json"), &meta)?;
            File::open(&root)?.sync_all()?;
            Ok(Arc::new(log))
        })
        .await
    }

    /// Rewrites the metadata (soft-delete flag).
    pub async fn set_soft_deleted(&self, config: &Config) -> io::Result<()> {
        let path = self.dir(&config.name).join("meta.json");
        let meta = serde_json::to_vec(&Meta {
            config: config.clone(),
            soft_deleted: true,
        })?;
        blocking(move || write_atomic(&path, &meta)).await
    }

    pub async fn remove(&self, name: &str) -> io::Result<()> {
        let dir = self.dir(name);
        blocking(move || match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await
    }

    /// Appends one record and fsyncs it.
    pub async fn append(
        log: &Arc<File>,
        header: &Header,
        data: &Bytes,
    ) -> io::Result<()> {
        let h = serde_json::to_vec(header)?;
        let mut rec = Vec::with_capacity(12 + h.len() + data.len());
        rec.extend_from_slice(
            &u32::try_from(h.len())
                .map_err(io::Error::other)?
                .to_le_bytes(),
        );
        rec.extend_from_slice(&h);
        rec.extend_from_slice(&(data.len() as u64).to_le_bytes());
        rec.extend_from_slice(data);
        let log = log.clone();
        blocking(move || {
            (&*log).write_all(&rec)?;
            log.sync_data()
        })
        .await
    }

    /// Reads every stream back (at startup).
    pub fn load_all(&self) -> io::Result<Vec<Loaded>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let dir = entry?.path();
            let Ok(meta) = fs::read(dir.join("meta.json")) else {
                // Never fully created: nothing in it was acknowledged.
                fs::remove_dir_all(&dir)?;
                continue;
            };
            let meta: Meta = serde_json::from_slice(&meta).map_err(|e| {
                io::Error::other(format!("{}: {e}", dir.display()))
            })?;
            let path = dir.join("log");
            let (records, good) = read_log(&path)?;
            let log = OpenOptions::new().append(true).open(&path)?;
            if log.metadata()?.len() != good {
                log.set_len(good)?;
                log.sync_all()?;
            }
            out.push(Loaded {
                config: meta.config,
                soft_deleted: meta.soft_deleted,
                records,
                log: Arc::new(log),
            });
        }
        Ok(out)
    }
}

/// Parses records; returns them and the length of the intact prefix.
fn read_log(path: &Path) -> io::Result<(Vec<(Header, Bytes)>, u64)> {
    let mut raw = Vec::new();
    File::open(path)?.read_to_end(&mut raw)?;
    let raw = Bytes::from(raw);
    let mut records = Vec::new();
    let mut i = 0usize;
    while let Some(hlen) = raw.get(i..i + 4) {
        let hlen =
            u32::from_le_bytes(hlen.try_into().expect("4 bytes")) as usize;
        let Some(h) = raw.get(i + 4..i + 4 + hlen) else {
            break;
        };
        let Ok(header) = serde_json::from_slice::<Header>(h) else {
            break;
        };
        let at = i + 4 + hlen;
        let Some(dlen) = raw.get(at..at + 8) else {
            break;
        };
        let dlen = u64::from_le_bytes(dlen.try_into().expect("8 bytes"));
        let Ok(dlen) = usize::try_from(dlen) else {
            break;
        };
        let Some(end) = (at + 8).checked_add(dlen) else {
            break;
        };
        if end > raw.len() {
            break;
        }
        records.push((header, raw.slice(at + 8..end)));
        i = end;
    }
    Ok((records, i as u64))
}

impl Store {
    /// Rebuilds streams read from disk, sources before forks.
    pub(super) fn restore(&self, loaded: Vec<Loaded>) {
        let mut pending: HashMap<String, Loaded> = loaded
            .into_iter()
            .map(|l| (l.config.name.clone(), l))
            .collect();
        let now = now_ms();
        while !pending.is_empty() {
            let ready: Vec<String> = pending
                .values()
                .filter(|l| {
                    l.config
                        .forked_from
                        .as_ref()
                        .is_none_or(|src| !pending.contains_key(src))
                })
                .map(|l| l.config.name.clone())
                .collect();
            for name in ready {
                let l = pending.remove(&name).expect("pending");
                let source = match &l.config.forked_from {
                    Some(src) => {
                        let found = self.map().get(src).cloned();
                        if found.is_none() {
                            tracing::warn!(
                                "{name}: fork source {src} missing; skipped"
                            );
                            continue;
                        }
                        found
                    }
                    None => None,
                };
                let stream =
                    Arc::new(Stream::new(l.config, source.clone(), now));
                let mut w = Writer::from_records(&stream, &l.records);
                w.log = Some(l.log);
                self.used.fetch_add(stream.own_bytes(), Ordering::Relaxed);
                *stream.writer.try_lock().expect("fresh stream") = w;
                stream.soft_deleted.store(l.soft_deleted, Ordering::Relaxed);
                if let Some(src) = source {
                    src.refs.fetch_add(1, Ordering::Relaxed);
                }
                self.map().insert(name, stream);
            }
        }
    }
}

impl Writer {
    /// Replays log records into `stream`, returning the writer state.
    fn from_records(stream: &Stream, records: &[(Header, Bytes)]) -> Writer {
        let mut w = Writer::default();
        for (h, data) in records {
            if let Some((id, epoch, seq)) = &h.p {
                w.producers.insert(
                    id.clone(),
                    Producer {
                        epoch: *epoch,
                        last_seq: *seq,
                    },
                );
                if h.c {
                    w.closed_by = Some((id.clone(), *epoch, *seq));
                }
            }
            if let Some(s) = &h.s {
                w.stream_seq = Some(s.clone());
            }
            stream.push(data.clone(), h.m.clone().into_boxed_slice(), h.c);
        }
        w
    }
}
