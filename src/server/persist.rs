//! `--data-dir` storage: per stream a directory (hex-encoded name) holding
//! `meta.json` (configuration, written atomically) and `log`, an append-only
//! file of records, each written and fsynced before the request is
//! acknowledged. A torn last record (crash mid-write) was never acknowledged
//! and is cut off on load.
//!
//! Record (version 2, written since checksums came in): the magic bytes
//! `DSX\xff`, `u32 LE header length`, `u64 LE data length`, `u32 LE CRC-32`
//! (IEEE) of those two lengths, `u32 LE CRC-32` of the header and data,
//! then the header JSON and the data. A record whose checksum does not
//! match is corruption, not a torn write: the server refuses to start and
//! names the file and byte, rather than serve or silently drop what was
//! acknowledged. Only a record whose lengths check out and which runs past
//! the end of the file (or a log ending inside a record's first 24 bytes)
//! is a torn write, cut off as before; the lengths' own checksum keeps a
//! flipped length from passing for one.
//!
//! Version 1 records (`u32 LE header length`, header JSON, `u64 LE data
//! length`, data; no checksum) are still read, so logs written before keep
//! working and new records are appended to them in version 2. The magic
//! read as a version 1 header length would be a 4 GiB header, which no
//! version 1 record has. Version 1 records carry no checksum: a flipped
//! byte in them is found only when it breaks the framing, and then, as
//! before, the rest of that log is taken for a torn tail.

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
        let rec = encode(header, data)?;
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

/// Starts every version 2 record.
const MAGIC: [u8; 4] = *b"DSX\xff";
/// Magic, header length, data length, their checksum, the body's.
const V2_HEAD: usize = 4 + 4 + 8 + 4 + 4;

/// One version 2 record.
fn encode(header: &Header, data: &[u8]) -> io::Result<Vec<u8>> {
    let h = serde_json::to_vec(header)?;
    let hlen = u32::try_from(h.len())
        .map_err(io::Error::other)?
        .to_le_bytes();
    let dlen = (data.len() as u64).to_le_bytes();
    let head_crc = Crc32::new().update(&hlen).update(&dlen).finish();
    let crc = Crc32::new().update(&h).update(data).finish();
    let mut rec = Vec::with_capacity(V2_HEAD + h.len() + data.len());
    rec.extend_from_slice(&MAGIC);
    rec.extend_from_slice(&hlen);
    rec.extend_from_slice(&dlen);
    rec.extend_from_slice(&head_crc.to_le_bytes());
    rec.extend_from_slice(&crc.to_le_bytes());
    rec.extend_from_slice(&h);
    rec.extend_from_slice(data);
    Ok(rec)
}

/// CRC-32 (IEEE 802.3, reflected, the zlib one), table-driven.
struct Crc32(u32);

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        #[allow(clippy::cast_possible_truncation, reason = "i < 256")]
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

impl Crc32 {
    fn new() -> Self {
        Crc32(0xffff_ffff)
    }

    fn update(mut self, bytes: &[u8]) -> Self {
        for &b in bytes {
            self.0 = CRC_TABLE[((self.0 ^ u32::from(b)) & 0xff) as usize]
                ^ (self.0 >> 8);
        }
        self
    }

    fn finish(self) -> u32 {
        !self.0
    }
}

/// How one record at a position read.
enum Step {
    /// A whole record, and where the next one starts.
    Record(Header, Bytes, usize),
    /// The log ends in an incomplete record: a write that a crash cut off,
    /// never acknowledged.
    Torn,
    /// A whole record that is not what was written.
    Corrupt(String),
}

fn read_v2(raw: &Bytes, i: usize) -> Step {
    let Some(head) = raw.get(i..i + V2_HEAD) else {
        return Step::Torn;
    };
    let hlen_b = &head[4..8];
    let dlen_b = &head[8..16];
    let head_crc =
        u32::from_le_bytes(head[16..20].try_into().expect("4 bytes"));
    let crc = u32::from_le_bytes(head[20..24].try_into().expect("4 bytes"));
    let sum = Crc32::new().update(hlen_b).update(dlen_b).finish();
    if sum != head_crc {
        return Step::Corrupt(format!(
            "record lengths' checksum mismatch (stored {head_crc:08x}, \
             computed {sum:08x})"
        ));
    }
    let hlen = u32::from_le_bytes(hlen_b.try_into().expect("4 bytes")) as usize;
    let dlen = u64::from_le_bytes(dlen_b.try_into().expect("8 bytes"));
    let end = usize::try_from(dlen)
        .ok()
        .and_then(|d| (i + V2_HEAD).checked_add(hlen)?.checked_add(d));
    let Some(end) = end.filter(|&end| end <= raw.len()) else {
        return Step::Torn;
    };
    let h = &raw[i + V2_HEAD..i + V2_HEAD + hlen];
    let data = raw.slice(i + V2_HEAD + hlen..end);
    let sum = Crc32::new().update(h).update(&data).finish();
    if sum != crc {
        return Step::Corrupt(format!(
            "checksum mismatch (stored {crc:08x}, computed {sum:08x})"
        ));
    }
    match serde_json::from_slice::<Header>(h) {
        Ok(header) => Step::Record(header, data, end),
        Err(e) => Step::Corrupt(format!("unreadable record header: {e}")),
    }
}

/// A version 1 record (no checksum): any framing error is taken for a torn
/// tail, as before version 2.
fn read_v1(raw: &Bytes, i: usize) -> Step {
    let Some(hlen) = raw.get(i..i + 4) else {
        return Step::Torn;
    };
    let hlen = u32::from_le_bytes(hlen.try_into().expect("4 bytes")) as usize;
    let Some(h) = raw.get(i + 4..i + 4 + hlen) else {
        return Step::Torn;
    };
    let Ok(header) = serde_json::from_slice::<Header>(h) else {
        return Step::Torn;
    };
    let at = i + 4 + hlen;
    let Some(dlen) = raw.get(at..at + 8) else {
        return Step::Torn;
    };
    let dlen = u64::from_le_bytes(dlen.try_into().expect("8 bytes"));
    let end = usize::try_from(dlen)
        .ok()
        .and_then(|d| (at + 8).checked_add(d));
    match end {
        Some(end) if end <= raw.len() => {
            Step::Record(header, raw.slice(at + 8..end), end)
        }
        _ => Step::Torn,
    }
}

/// `rest` starts with the magic but for one byte (no version 1 header is
/// that long).
fn near_magic(rest: &[u8]) -> bool {
    rest.len() >= MAGIC.len()
        && rest.iter().zip(MAGIC).filter(|(a, b)| *a == b).count() == 3
}

fn contains_magic(rest: &[u8]) -> bool {
    rest.windows(MAGIC.len()).any(|w| w == MAGIC)
}

/// Parses records; returns them and the length of the intact prefix, or an
/// `InvalidData` error naming the file and byte of a corrupt record.
fn read_log(path: &Path) -> io::Result<(Vec<(Header, Bytes)>, u64)> {
    let mut raw = Vec::new();
    File::open(path)?.read_to_end(&mut raw)?;
    let raw = Bytes::from(raw);
    let mut records = Vec::new();
    let mut seen_v2 = false;
    let mut i = 0usize;
    while i < raw.len() {
        let rest = &raw[i..];
        let step = if rest.starts_with(&MAGIC) {
            seen_v2 = true;
            read_v2(&raw, i)
        } else if !seen_v2 {
            match read_v1(&raw, i) {
                // Not a version 1 record after all, but a version 2 one
                // whose magic was hit, or one before more version 2 ones.
                Step::Torn
                    if near_magic(rest) || contains_magic(&rest[1..]) =>
                {
                    Step::Corrupt("no record starts here".to_owned())
                }
                step => step,
            }
        } else if MAGIC.starts_with(rest) || rest.iter().all(|&b| b == 0) {
            // Only the start of the magic, or space the file system gave
            // a write that never landed.
            Step::Torn
        } else {
            // Version 2 records are only ever followed by version 2 ones.
            Step::Corrupt("no record starts here".to_owned())
        };
        match step {
            Step::Record(header, data, end) => {
                records.push((header, data));
                i = end;
            }
            Step::Torn => break,
            Step::Corrupt(why) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "corrupt record in {} at byte {i}: {why}. The dev \
                         server will not serve it; move that stream's \
                         directory out of the data directory (or truncate \
                         the log to {i} bytes, dropping this record and \
                         every later one) and start again",
                        path.display()
                    ),
                ));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header(c: bool) -> Header {
        Header {
            c,
            ..Header::default()
        }
    }

    /// A version 1 record, as logs written before checksums hold them.
    fn v1(header: &Header, data: &[u8]) -> Vec<u8> {
        let h = serde_json::to_vec(header).unwrap();
        let mut rec = u32::try_from(h.len()).unwrap().to_le_bytes().to_vec();
        rec.extend_from_slice(&h);
        rec.extend_from_slice(&(data.len() as u64).to_le_bytes());
        rec.extend_from_slice(data);
        rec
    }

    fn log_of(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn datas(records: &[(Header, Bytes)]) -> Vec<&[u8]> {
        records.iter().map(|(_, d)| d.as_ref()).collect()
    }

    fn three_records() -> Vec<u8> {
        let mut log = encode(&header(false), b"first").unwrap();
        log.extend(encode(&header(false), b"second").unwrap());
        log.extend(encode(&header(true), b"third").unwrap());
        log
    }

    #[test]
    fn crc32_is_the_ieee_one() {
        assert_eq!(Crc32::new().update(b"123456789").finish(), 0xcbf4_3926);
        assert_eq!(Crc32::new().finish(), 0);
    }

    #[test]
    fn records_read_back_and_a_torn_tail_is_cut() {
        let mut log = three_records();
        let whole = log.len() as u64;
        let (_d, path) = log_of(&log);
        let (records, good) = read_log(&path).unwrap();
        assert_eq!(datas(&records), [&b"first"[..], b"second", b"third"]);
        assert!(records[2].0.c);
        assert_eq!(good, whole);
        // Every cut inside a fourth record is a torn write, never an error.
        let fourth = encode(&header(false), b"fourth").unwrap();
        for cut in 1..fourth.len() {
            log.truncate(usize::try_from(whole).unwrap());
            log.extend_from_slice(&fourth[..cut]);
            let (_d, path) = log_of(&log);
            let (records, good) = read_log(&path).unwrap();
            assert_eq!(records.len(), 3, "cut {cut}");
            assert_eq!(good, whole, "cut {cut}");
        }
        // Zeros the file system left after the last write, likewise.
        log.truncate(usize::try_from(whole).unwrap());
        log.extend_from_slice(&[0; 64]);
        let (_d, path) = log_of(&log);
        assert_eq!(read_log(&path).unwrap().1, whole);
    }

    #[test]
    fn a_flipped_byte_anywhere_in_a_record_is_reported() {
        let log = three_records();
        for at in 0..log.len() {
            let mut bad = log.clone();
            bad[at] ^= 0x20;
            let (_d, path) = log_of(&bad);
            let e = read_log(&path).expect_err(&format!("byte {at} flipped"));
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            let msg = e.to_string();
            assert!(msg.contains("corrupt record"), "{msg}");
            assert!(msg.contains(&path.display().to_string()));
        }
    }

    #[test]
    fn a_single_record_with_a_hit_magic_is_not_taken_for_a_torn_write() {
        let log = encode(&header(false), b"only").unwrap();
        for at in 0..MAGIC.len() {
            let mut bad = log.clone();
            bad[at] ^= 0x01;
            let (_d, path) = log_of(&bad);
            assert!(read_log(&path).is_err(), "magic byte {at}");
        }
    }

    #[test]
    fn version_1_logs_still_load_and_take_version_2_appends() {
        let mut log = v1(&header(false), b"old one");
        log.extend(v1(&Header::default(), b"old two"));
        log.extend(encode(&header(true), b"new").unwrap());
        let (_d, path) = log_of(&log);
        let (records, good) = read_log(&path).unwrap();
        assert_eq!(datas(&records), [&b"old one"[..], b"old two", b"new"]);
        assert_eq!(good, log.len() as u64);
        // A torn version 1 tail is cut, as before.
        let mut torn = v1(&header(false), b"old");
        let keep = torn.len() as u64;
        torn.extend_from_slice(&[40, 0, 0, 0, b'{']);
        let (_d, path) = log_of(&torn);
        assert_eq!(read_log(&path).unwrap().1, keep);
    }
}
