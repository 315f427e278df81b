//! Offset bookmarks, resume positions and recently opened streams, kept per
//! stream URL in one JSON file in the XDG data directory.
//!
//! Everything here is plain data except [`Bookmarks::load`] and
//! [`Bookmarks::save`]; the explorer calls `save` from an effect task, never
//! from its update function. Offsets are opaque strings: stored and handed
//! back, never parsed.
//!
//! Several dsx instances may share the file. `save` replaces it atomically
//! (temp file in the same directory, fsync, rename, fsync of the directory),
//! so a reader never sees a torn file; concurrent writers do not merge, the
//! last one to rename wins.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The file format version this build writes and reads.
const FORMAT_VERSION: u32 = 1;

/// How many streams the "recently opened" list keeps.
pub const RECENT_CAP: usize = 50;

/// A named message in one stream: the server-given offset of the response
/// that carried it and its place in that response. Reading from `offset`
/// and skipping `position` messages (JSON streams) or bytes (text and
/// binary) brings back exactly that message; `offset` alone is the start
/// of its batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    pub name: String,
    /// Opaque offset as the server gave it.
    pub offset: String,
    /// Messages (JSON) or bytes (others) after `offset`; files written
    /// before it existed have none: 0, the start of the batch.
    #[serde(default)]
    pub position: u64,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// Where the user last was in a stream, to offer resuming there; the
/// same pair as a [`Bookmark`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Opaque offset as the server gave it.
    pub offset: String,
    /// Messages (JSON) or bytes (others) to skip after `offset`.
    #[serde(default)]
    pub position: u64,
    /// RFC 3339 UTC.
    pub saved_at: String,
}

/// Why a bookmark edit was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookmarkError {
    #[error("a bookmark named {0:?} already exists in this stream")]
    Duplicate(String),
    #[error("no bookmark named {0:?} in this stream")]
    NotFound(String),
    #[error("a bookmark name cannot be empty")]
    EmptyName,
}

/// What is remembered about one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct StreamMarks {
    bookmarks: Vec<Bookmark>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_position: Option<Position>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_opened: Option<String>,
}

impl StreamMarks {
    fn is_empty(&self) -> bool {
        self.bookmarks.is_empty()
            && self.last_position.is_none()
            && self.last_opened.is_none()
    }
}

/// All bookmarks, positions and the recent list; see the module docs.
#[derive(Default, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "FileV1", try_from = "FileV1")]
pub struct Bookmarks {
    streams: BTreeMap<String, StreamMarks>,
    /// Stream URLs, most recently opened first, at most [`RECENT_CAP`].
    recent: Vec<String>,
}

/// The on-disk shape. Unknown fields are ignored so that an older dsx can
/// still read a file a newer one added optional fields to; a higher
/// `version` means an incompatible change and is refused.
#[derive(Clone, Serialize, Deserialize)]
struct FileV1 {
    version: u32,
    #[serde(default)]
    streams: BTreeMap<String, StreamMarks>,
    #[serde(default)]
    recent: Vec<String>,
}

impl From<Bookmarks> for FileV1 {
    fn from(b: Bookmarks) -> Self {
        FileV1 {
            version: FORMAT_VERSION,
            streams: b.streams,
            recent: b.recent,
        }
    }
}

impl TryFrom<FileV1> for Bookmarks {
    type Error = String;

    fn try_from(f: FileV1) -> Result<Self, String> {
        if f.version != FORMAT_VERSION {
            return Err(format!(
                "unsupported bookmarks file version {} (this dsx reads {})",
                f.version, FORMAT_VERSION
            ));
        }
        // Files written before keys were stripped may hold userinfo or a
        // query (a token) in their URLs: they are read under the stripped
        // key (merged when two collapse into one) and the next save drops
        // them.
        let mut streams: BTreeMap<String, StreamMarks> = BTreeMap::new();
        for (url, marks) in f.streams {
            let into = streams.entry(stream_key(&url)).or_default();
            for b in marks.bookmarks {
                if !into.bookmarks.iter().any(|m| m.name == b.name) {
                    into.bookmarks.push(b);
                }
            }
            if into.last_position.is_none() {
                into.last_position = marks.last_position;
            }
            if into.last_opened.is_none() {
                into.last_opened = marks.last_opened;
            }
        }
        let mut recent: Vec<String> = Vec::new();
        for url in f.recent {
            let key = stream_key(&url);
            if !recent.contains(&key) {
                recent.push(key);
            }
        }
        Ok(Bookmarks { streams, recent })
    }
}

impl Bookmarks {
    /// `$DSX_DATA_DIR/bookmarks.json`, else the XDG data dir's
    /// `bookmarks.json`; `None` when no home directory is known.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("DSX_DATA_DIR")
            && !dir.is_empty()
        {
            return Some(PathBuf::from(dir).join("bookmarks.json"));
        }
        directories::ProjectDirs::from("", "", "dsx")
            .map(|p| p.data_dir().join("bookmarks.json"))
    }

    /// Reads the file; a missing file is empty. A corrupt file is an
    /// `InvalidData` error naming the path, for the caller to show: it is
    /// never silently replaced.
    pub fn load(path: &Path) -> io::Result<Bookmarks> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Bookmarks::default());
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("reading {}: {e}", path.display()),
                ));
            }
        };
        serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("corrupt bookmarks file {}: {e}", path.display()),
            )
        })
    }

    /// Writes the file atomically; see the module docs. A read-only file
    /// is refused, not replaced (a rename would replace it regardless of
    /// its mode); every error names the path.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().readonly()
        {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is read-only: it was left as it is (make it \
                     writable to keep bookmarks)",
                    path.display()
                ),
            ));
        }
        write_atomically(path, &json).map_err(|e| {
            let dir = path.parent().unwrap_or(Path::new("."));
            io::Error::new(
                e.kind(),
                format!(
                    "writing {} (in {}): {e}",
                    path.display(),
                    dir.display()
                ),
            )
        })
    }

    /// The stream's bookmarks, in the order they were added.
    pub fn list(&self, stream_url: &str) -> &[Bookmark] {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        self.streams
            .get(stream_url)
            .map_or(&[], |s| s.bookmarks.as_slice())
    }

    /// The names of `stream_url`'s bookmarks for a message about a missing
    /// one: `known: a, b`, or `it has none`.
    pub fn known_names(&self, stream_url: &str) -> String {
        let known: Vec<&str> = self
            .list(stream_url)
            .iter()
            .map(|b| b.name.as_str())
            .collect();
        if known.is_empty() {
            "it has none".to_owned()
        } else {
            format!("known: {}", known.join(", "))
        }
    }

    pub fn find(&self, stream_url: &str, name: &str) -> Option<&Bookmark> {
        self.list(stream_url).iter().find(|b| b.name == name)
    }

    /// Adds at the end; a name already used in this stream is refused.
    pub fn add(
        &mut self,
        stream_url: &str,
        bookmark: Bookmark,
    ) -> Result<(), BookmarkError> {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        if bookmark.name.is_empty() {
            return Err(BookmarkError::EmptyName);
        }
        if self.find(stream_url, &bookmark.name).is_some() {
            return Err(BookmarkError::Duplicate(bookmark.name));
        }
        self.entry(stream_url).bookmarks.push(bookmark);
        Ok(())
    }

    /// Renames in place (the order is kept). Renaming to the same name is
    /// a no-op; to another existing name is refused.
    pub fn rename(
        &mut self,
        stream_url: &str,
        old: &str,
        new: &str,
    ) -> Result<(), BookmarkError> {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        if new.is_empty() {
            return Err(BookmarkError::EmptyName);
        }
        let marks = self
            .streams
            .get_mut(stream_url)
            .ok_or_else(|| BookmarkError::NotFound(old.to_owned()))?;
        let index = marks
            .bookmarks
            .iter()
            .position(|b| b.name == old)
            .ok_or_else(|| BookmarkError::NotFound(old.to_owned()))?;
        if old == new {
            return Ok(());
        }
        if marks.bookmarks.iter().any(|b| b.name == new) {
            return Err(BookmarkError::Duplicate(new.to_owned()));
        }
        new.clone_into(&mut marks.bookmarks[index].name);
        Ok(())
    }

    /// Removes and returns the bookmark.
    pub fn remove(
        &mut self,
        stream_url: &str,
        name: &str,
    ) -> Result<Bookmark, BookmarkError> {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        let marks = self
            .streams
            .get_mut(stream_url)
            .ok_or_else(|| BookmarkError::NotFound(name.to_owned()))?;
        let index = marks
            .bookmarks
            .iter()
            .position(|b| b.name == name)
            .ok_or_else(|| BookmarkError::NotFound(name.to_owned()))?;
        let removed = marks.bookmarks.remove(index);
        self.prune(stream_url);
        Ok(removed)
    }

    pub fn last_position(&self, stream_url: &str) -> Option<&Position> {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        self.streams.get(stream_url)?.last_position.as_ref()
    }

    /// Remembers where the user is: `position` messages or bytes after
    /// `offset`; `now` is RFC 3339 UTC.
    pub fn set_last_position(
        &mut self,
        stream_url: &str,
        offset: &str,
        position: u64,
        now: &str,
    ) {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        self.entry(stream_url).last_position = Some(Position {
            offset: offset.to_owned(),
            position,
            saved_at: now.to_owned(),
        });
    }

    /// Moves the stream to the front of the recent list, dropping the
    /// oldest past [`RECENT_CAP`].
    pub fn touch_recent(&mut self, stream_url: &str, now: &str) {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        self.recent.retain(|u| u != stream_url);
        self.recent.insert(0, stream_url.to_owned());
        self.entry(stream_url).last_opened = Some(now.to_owned());
        let evicted: Vec<String> = self
            .recent
            .drain(RECENT_CAP.min(self.recent.len())..)
            .collect();
        for url in evicted {
            if let Some(marks) = self.streams.get_mut(&url) {
                marks.last_opened = None;
            }
            self.prune(&url);
        }
    }

    /// Stream URLs, most recently opened first.
    pub fn recent(&self) -> Vec<&str> {
        self.recent.iter().map(String::as_str).collect()
    }

    /// When the stream was last opened (RFC 3339), if it is in the recent
    /// list.
    pub fn last_opened(&self, stream_url: &str) -> Option<&str> {
        let key = stream_key(stream_url);
        let stream_url = key.as_str();
        self.streams.get(stream_url)?.last_opened.as_deref()
    }

    /// Every stream URL that has at least one bookmark, sorted.
    pub fn streams(&self) -> impl Iterator<Item = &str> {
        self.streams
            .iter()
            .filter(|(_, s)| !s.bookmarks.is_empty())
            .map(|(url, _)| url.as_str())
    }

    fn entry(&mut self, stream_url: &str) -> &mut StreamMarks {
        self.streams.entry(stream_url.to_owned()).or_default()
    }

    /// Drops a stream's entry once nothing is left in it, so the file does
    /// not grow with every stream ever opened.
    fn prune(&mut self, stream_url: &str) {
        if self
            .streams
            .get(stream_url)
            .is_some_and(StreamMarks::is_empty)
        {
            self.streams.remove(stream_url);
        }
    }
}

/// The key a stream is remembered under: its URL without userinfo, query
/// or fragment, where credentials (`user:password@`, `?token=`) live, so
/// that none is written to the file or shown from it. Bookmarks stay per
/// server and stream.
pub fn stream_key(url: &str) -> String {
    // By hand rather than through `url::Url`, which would also normalise
    // (percent-encode) the path: keys of existing files must not change.
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Distinguishes temp files of concurrent saves within one process; the pid
/// distinguishes processes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `bytes` so that readers see the old or the new file,
/// never a mix, even across a crash.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let file_name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_and_rename(&temp, path, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result?;
    // The rename is durable only once the directory entry is on disk.
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn write_and_rename(temp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    // Stream URLs may carry tokens: keep the file private.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S1: &str = "http://127.0.0.1:1/v1/stream/a";
    const S2: &str = "http://127.0.0.1:1/v1/stream/b";

    fn mark(name: &str, offset: &str) -> Bookmark {
        Bookmark {
            name: name.into(),
            offset: offset.into(),
            position: 0,
            created_at: "2026-01-02T03:04:05Z".into(),
        }
    }

    fn dir_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn round_trip_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        let mut b = Bookmarks::default();
        b.add(S1, mark("start", "0000_0001")).unwrap();
        b.add(S1, mark("later", "0000_0099")).unwrap();
        b.set_last_position(S2, "abc", 3, "2026-01-02T00:00:00Z");
        b.touch_recent(S2, "2026-01-02T00:00:01Z");
        b.save(&path).unwrap();
        let loaded = Bookmarks::load(&path).unwrap();
        assert_eq!(loaded, b);
        assert_eq!(loaded.list(S1)[1].offset, "0000_0099");
        assert_eq!(loaded.last_position(S2).unwrap().offset, "abc");
        assert_eq!(loaded.last_position(S2).unwrap().position, 3);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
    }

    #[test]
    fn save_creates_dirs_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("x/y");
        let path = nested.join("bookmarks.json");
        let mut b = Bookmarks::default();
        b.add(S1, mark("one", "1")).unwrap();
        b.save(&path).unwrap();
        b.add(S1, mark("two", "2")).unwrap();
        b.save(&path).unwrap();
        assert_eq!(dir_names(&nested), vec!["bookmarks.json".to_owned()]);
        assert_eq!(Bookmarks::load(&path).unwrap().list(S1).len(), 2);
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let b = Bookmarks::load(&dir.path().join("none.json")).unwrap();
        assert_eq!(b, Bookmarks::default());
    }

    #[test]
    fn corrupt_file_is_an_error_naming_the_path_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        fs::write(&path, "{ not json").unwrap();
        let err = Bookmarks::load(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains(&path.display().to_string()));
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ not json");
    }

    #[test]
    fn newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        fs::write(&path, r#"{"version": 2, "streams": {}}"#).unwrap();
        let err = Bookmarks::load(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("version 2"), "{err}");
    }

    #[test]
    fn duplicate_rename_and_remove_errors() {
        let mut b = Bookmarks::default();
        b.add(S1, mark("a", "1")).unwrap();
        b.add(S1, mark("b", "2")).unwrap();
        assert_eq!(
            b.add(S1, mark("a", "3")),
            Err(BookmarkError::Duplicate("a".into()))
        );
        assert_eq!(b.add(S1, mark("", "3")), Err(BookmarkError::EmptyName));
        assert_eq!(
            b.rename(S1, "a", "b"),
            Err(BookmarkError::Duplicate("b".into()))
        );
        assert_eq!(
            b.rename(S1, "zz", "c"),
            Err(BookmarkError::NotFound("zz".into()))
        );
        assert_eq!(b.rename(S1, "a", ""), Err(BookmarkError::EmptyName));
        b.rename(S1, "a", "a").unwrap();
        b.rename(S1, "a", "first").unwrap();
        let names: Vec<&str> =
            b.list(S1).iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["first", "b"]);
        assert_eq!(b.remove(S1, "b").unwrap().offset, "2");
        assert_eq!(b.remove(S1, "b"), Err(BookmarkError::NotFound("b".into())));
        assert_eq!(
            b.remove(S2, "first"),
            Err(BookmarkError::NotFound("first".into()))
        );
        assert_eq!(b.find(S1, "first").unwrap().offset, "1");
    }

    #[test]
    fn streams_are_isolated() {
        let mut b = Bookmarks::default();
        b.add(S1, mark("a", "1")).unwrap();
        b.add(S2, mark("a", "2")).unwrap();
        b.set_last_position(S1, "p1", 0, "t");
        assert_eq!(b.find(S1, "a").unwrap().offset, "1");
        assert_eq!(b.find(S2, "a").unwrap().offset, "2");
        assert!(b.last_position(S2).is_none());
        b.remove(S2, "a").unwrap();
        assert_eq!(b.list(S1).len(), 1);
        assert_eq!(b.streams().collect::<Vec<_>>(), [S1]);
    }

    #[test]
    fn recent_is_most_recent_first_and_capped() {
        let mut b = Bookmarks::default();
        for i in 0..(RECENT_CAP + 10) {
            b.touch_recent(&format!("s{i}"), &format!("t{i}"));
        }
        b.add("s0", mark("kept", "1")).unwrap();
        b.touch_recent("s55", "t-again");
        let recent = b.recent();
        assert_eq!(recent.len(), RECENT_CAP);
        assert_eq!(recent[0], "s55");
        assert_eq!(recent[1], "s59");
        assert!(!recent.contains(&"s9"));
        assert!(recent.contains(&"s10"));
        assert_eq!(b.last_opened("s55"), Some("t-again"));
        assert_eq!(b.last_opened("s0"), None);
        // Evicted streams without bookmarks leave nothing behind.
        assert_eq!(b.streams.len(), RECENT_CAP + 1);
        assert_eq!(b.list("s0").len(), 1);
    }

    #[test]
    fn a_file_from_before_positions_reads_as_the_start_of_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        fs::write(
            &path,
            format!(
                r#"{{"version": 1, "streams": {{"{S1}": {{
                    "bookmarks": [{{"name": "old", "offset": "0_5",
                        "created_at": "2026-01-01T00:00:00Z"}}],
                    "last_position": {{"offset": "0_9",
                        "saved_at": "2026-01-01T00:00:00Z"}}}}}}}}"#
            ),
        )
        .unwrap();
        let b = Bookmarks::load(&path).unwrap();
        assert_eq!(b.find(S1, "old").unwrap().position, 0);
        assert_eq!(b.find(S1, "old").unwrap().offset, "0_5");
        assert_eq!(b.last_position(S1).unwrap().position, 0);
    }

    #[test]
    fn positions_are_kept_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        let mut b = Bookmarks::default();
        let mut m = mark("m", "0_5");
        m.position = 56_394;
        b.add(S1, m).unwrap();
        b.save(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"position\": 56394"), "{text}");
        let loaded = Bookmarks::load(&path).unwrap();
        assert_eq!(loaded.find(S1, "m").unwrap().position, 56_394);
    }

    #[test]
    fn keys_hold_no_userinfo_or_query() {
        assert_eq!(
            stream_key("http://u:secret@127.0.0.1:1/v1/stream/a?token=t#f"),
            "http://127.0.0.1:1/v1/stream/a"
        );
        assert_eq!(stream_key(S1), S1);
        // The path is kept exactly (no normalising).
        assert_eq!(
            stream_key("http://h/v1/stream/a b/%41@x"),
            "http://h/v1/stream/a b/%41@x"
        );
        let mut b = Bookmarks::default();
        let secret = "http://u:pw@127.0.0.1:1/v1/stream/a?token=t0k3n";
        b.add(secret, mark("m", "1")).unwrap();
        b.set_last_position(secret, "2", 0, "t");
        b.touch_recent(secret, "t");
        // Found under either spelling: the same server and stream.
        assert_eq!(b.find(S1, "m").unwrap().offset, "1");
        assert_eq!(b.find(secret, "m").unwrap().offset, "1");
        assert_eq!(b.recent(), [S1]);
        let json = serde_json::to_string(&b).unwrap();
        assert!(!json.contains("pw") && !json.contains("t0k3n"), "{json}");
    }

    #[test]
    fn an_old_file_with_secrets_in_its_keys_reads_stripped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        let secret = "http://u:pw@127.0.0.1:1/v1/stream/a?token=t0k3n";
        fs::write(
            &path,
            format!(
                r#"{{"version": 1, "recent": ["{secret}", "{S1}"],
                "streams": {{
                  "{secret}": {{"bookmarks": [{{"name": "x", "offset": "1",
                    "created_at": "t"}}]}},
                  "{S1}": {{"bookmarks": [{{"name": "y", "offset": "2",
                    "created_at": "t"}}]}}}}}}"#
            ),
        )
        .unwrap();
        let b = Bookmarks::load(&path).unwrap();
        let names: Vec<&str> =
            b.list(S1).iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"x") && names.contains(&"y"));
        assert_eq!(b.recent(), [S1]);
        b.save(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("pw") && !text.contains("t0k3n"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_file_is_refused_not_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.json");
        let before = r#"{"version": 1, "streams": {}}"#;
        fs::write(&path, before).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        let mut b = Bookmarks::default();
        b.add(S1, mark("m", "1")).unwrap();
        let err = b.save(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("read-only"), "{text}");
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn an_unwritable_directory_is_named_in_the_error() {
        // A directory that cannot be made (a file is in the way) fails
        // for every user, root included.
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "x").unwrap();
        let path = blocker.join("bookmarks.json");
        let mut b = Bookmarks::default();
        b.add(S1, mark("m", "1")).unwrap();
        let text = b.save(&path).unwrap_err().to_string();
        assert!(text.contains(&blocker.display().to_string()), "{text}");
    }
}
