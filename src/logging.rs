//! Where dsx's log goes. `dsx serve` logs to stderr. The explorer and
//! `dsx demo` own the screen, so they log to a file, `dsx.log` in the data
//! directory (beside `bookmarks.json`; `$DSX_DATA_DIR` moves both), named
//! in `--help` and again after a panic. `DSX_LOG` sets the filter (for
//! example `debug` or `dsx=trace`); the default is `info`.
//!
//! What is logged never carries request headers, and every URL in it goes
//! through the client's `redact_url` first: secrets do not reach the log
//! (`tests/it/secrets.rs` greps the data directory for them).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::EnvFilter;

/// A log file this size or larger is started afresh when the explorer starts.
const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

static PATH: OnceLock<PathBuf> = OnceLock::new();

/// The log file the explorer writes: `$DSX_DATA_DIR/dsx.log`, else the
/// user's data directory's; `None` when no home directory is known.
pub fn default_path() -> Option<PathBuf> {
    crate::bookmarks::Bookmarks::default_path()
        .and_then(|p| p.parent().map(|dir| dir.join("dsx.log")))
}

/// The file this process logs to, once [`to_file`] has set it up.
pub fn path() -> Option<&'static Path> {
    PATH.get().map(PathBuf::as_path)
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("DSX_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Logs to stderr (for `dsx serve`).
pub fn to_stderr() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(io::stderr)
        .try_init();
}

/// Logs to [`default_path`] (created with its directory; one larger than
/// 8 MiB is started afresh). Returns the path, or why not: the explorer
/// then runs without a log, saying so.
pub fn to_file() -> Result<PathBuf, String> {
    let path = default_path().ok_or("no data directory is known")?;
    let file = open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|e| e.to_string())?;
    let _ = PATH.set(path.clone());
    Ok(path)
}

fn open(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let too_big =
        std::fs::metadata(path).is_ok_and(|m| m.len() >= MAX_LOG_BYTES);
    OpenOptions::new()
        .create(true)
        .write(true)
        .append(!too_big)
        .truncate(too_big)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_log_starts_afresh_a_small_one_grows() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("dsx.log");
        open(&path).unwrap().write_all(b"one\n").unwrap();
        open(&path).unwrap().write_all(b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        let big = vec![b'x'; usize::try_from(MAX_LOG_BYTES).unwrap()];
        std::fs::write(&path, big).unwrap();
        open(&path).unwrap().write_all(b"fresh\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "fresh\n");
    }
}
