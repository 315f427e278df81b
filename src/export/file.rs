//! An export into a file: written as `NAME.partial` and renamed to `NAME`
//! once complete, so that a cancelled or failed export never leaves a file
//! that looks whole. An existing `NAME` is replaced only when asked.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::{Counts, ExportError, Format, Range, Result, Written, export};
use crate::client::DurableStream;

/// The writer's buffer: one `write(2)` per 256 KiB.
const BUFFER: usize = 256 * 1024;

/// Where an export into `path` is written until it is complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Exports `range` into the file `path`; refuses an existing file unless
/// `replace`. On failure or cancel the data written so far stays in
/// [`partial_path`] (the error says so).
#[allow(clippy::too_many_arguments, reason = "one export, all its inputs")]
pub async fn to_file(
    stream: &DurableStream,
    json: bool,
    range: &Range,
    format: Format,
    path: &Path,
    replace: bool,
    cancel: &CancellationToken,
    progress: impl FnMut(Counts),
) -> Result<Written> {
    if !replace && path.exists() {
        return Err(exists(path));
    }
    let partial = partial_path(path);
    let file = File::create(&partial)?;
    let mut out = BufWriter::with_capacity(BUFFER, file);
    let written =
        export(stream, json, range, format, &mut out, cancel, progress).await;
    let written = match written {
        Ok(written) => written,
        Err(e) => {
            drop(out);
            return Err(e);
        }
    };
    let file = out
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    drop(file);
    // Asked again: the file may have appeared while the export ran.
    if !replace && path.exists() {
        return Err(exists(path));
    }
    fs::rename(&partial, path)?;
    Ok(written)
}

fn exists(path: &Path) -> ExportError {
    ExportError::Exists(path.to_owned())
}
