//! Standard output for the headless commands: one large buffer, flushed
//! when the caller says (after each live batch, or at the end), with
//! stream content escaped when it would reach a terminal.

use std::io::{self, BufWriter, IsTerminal, Write};

/// Capacity of the stdout buffer: large enough that a catch-up read makes
/// one `write(2)` per 256 KiB rather than one per message.
const BUFFER: usize = 256 * 1024;

/// Content at least this large skips the buffer (after flushing what it
/// holds, to keep the order): copying a catch-up read's large chunks into
/// the buffer first only costs time.
const DIRECT: usize = 64 * 1024;

/// Buffered standard output.
pub struct Out {
    writer: BufWriter<Box<dyn Write>>,
    /// Stdout is a terminal: control characters in stream content are
    /// escaped, so that a stream cannot drive the user's terminal.
    terminal: bool,
}

impl Out {
    /// Standard output, buffered.
    pub fn stdout() -> Out {
        let terminal = io::stdout().is_terminal();
        Out {
            writer: BufWriter::with_capacity(BUFFER, raw_stdout()),
            terminal,
        }
    }

    /// Whether stdout is a terminal.
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Writes stream content (escaped on a terminal).
    pub fn content(&mut self, data: &[u8]) -> io::Result<()> {
        if self.terminal {
            self.writer.write_all(&escape_controls(data))
        } else if data.len() >= DIRECT {
            self.writer.flush()?;
            self.writer.get_mut().write_all(data)
        } else {
            self.writer.write_all(data)
        }
    }

    /// Writes text dsx produced itself (already safe).
    pub fn text(&mut self, data: &[u8]) -> io::Result<()> {
        self.writer.write_all(data)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Stream content through `Write` (escaped on a terminal, as
/// [`Out::content`]).
impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.content(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Out::flush(self)
    }
}

/// Stdout without Rust's line buffering: a duplicate of descriptor 1 on
/// Unix, so that a big buffer becomes one write, not one per line.
#[cfg(unix)]
fn raw_stdout() -> Box<dyn Write> {
    use std::os::fd::AsFd;
    match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(io::stdout()),
    }
}

#[cfg(not(unix))]
fn raw_stdout() -> Box<dyn Write> {
    Box::new(io::stdout())
}

/// Resolves when the reader of stdout goes away while dsx is idle (a live
/// read waiting for data after `head` exited): the pipe's write end then
/// reports an error event. Never resolves for terminals, files or
/// `/dev/null` (they cannot be watched, or have no reader to lose).
pub async fn reader_gone() {
    // `with_interest` is deprecated because an arbitrary `AsRawFd` may close
    // or swap its descriptor under the reactor; an `OwnedFd` moved into the
    // `AsyncFd` cannot, which is the condition the unsafe replacement asks
    // for. This keeps the crate free of `unsafe`.
    #[cfg(unix)]
    #[allow(deprecated, reason = "sound for an OwnedFd; see above")]
    {
        use std::os::fd::AsFd;
        use tokio::io::Interest;
        use tokio::io::unix::AsyncFd;
        if !io::stdout().is_terminal()
            && let Ok(fd) = io::stdout().as_fd().try_clone_to_owned()
            && let Ok(watch) = AsyncFd::with_interest(fd, Interest::ERROR)
            && watch.ready(Interest::ERROR).await.is_ok()
        {
            return;
        }
    }
    std::future::pending::<()>().await;
}

/// Whether an I/O error means the reader went away (`dsx read | head`):
/// a clean stop, not a failure.
pub fn is_closed_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}

/// `data` with every control character except newline and tab shown as an
/// escape (`\x1b`, `\u{9b}`), and invalid UTF-8 bytes as `\xNN`.
pub fn escape_controls(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            let code = u32::from(c);
            // One notion of unsafe characters for the CLI and the explorer:
            // controls, bidi and invisible format characters.
            if c == '\n' || c == '\t' || !crate::sanitize::needs_escape(c) {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            } else if code < 0x80 {
                out.extend_from_slice(format!("\\x{code:02x}").as_bytes());
            } else {
                out.extend_from_slice(format!("\\u{{{code:x}}}").as_bytes());
            }
        }
        for byte in chunk.invalid() {
            out.extend_from_slice(format!("\\x{byte:02x}").as_bytes());
        }
    }
    out
}

/// The longest server-provided text (an error body, a header, an offset)
/// that a CLI message shows; the rest is cut and counted.
pub const SERVER_TEXT_MAX: usize = 300;

/// Text that came from a server (or from a stream), for a one-line CLI
/// message: every control character, newline and tab included, and every
/// bidi or invisible character escaped, and cut after
/// [`SERVER_TEXT_MAX`] characters with the rest counted.
pub fn server_text(text: &str) -> String {
    escape_line(text, SERVER_TEXT_MAX)
}

/// `text` as one escaped line (see [`server_text`]) of at most `max`
/// characters before the count of what was cut.
pub fn escape_line(text: &str, max: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut shown = 0;
    let mut cut = 0usize;
    for c in text.chars() {
        if shown >= max {
            cut += c.len_utf8();
            continue;
        }
        shown += 1;
        if c == '\n' || c == '\t' || crate::sanitize::needs_escape(c) {
            let code = u32::from(c);
            if code < 0x80 {
                let _ = write!(out, "\\x{code:02x}");
            } else {
                let _ = write!(out, "\\u{{{code:x}}}");
            }
        } else {
            out.push(c);
        }
    }
    if cut > 0 {
        let _ = write!(out, "... ({cut} more bytes)");
    }
    out
}

/// A URL for a message: userinfo and the values of secret-looking query
/// parameters replaced by `***`, then escaped as server text.
pub fn shown_url(url: &str) -> String {
    server_text(&crate::client::redact_url(url))
}

/// A short human size: `512 B`, `1.5 KiB`, `3.2 MiB`, `1.1 GiB`.
#[allow(clippy::cast_precision_loss, reason = "an approximate display")]
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_text_is_kept() {
        let got = escape_controls("a\x1b[31mb\n\tc\u{9b}é\x07".as_bytes());
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "a\\x1b[31mb\n\tc\\u{9b}é\\x07"
        );
        assert_eq!(escape_controls(b"x\xffy\r"), b"x\\xffy\\x0d");
        assert_eq!(escape_controls("a\u{202e}b".as_bytes()), b"a\\u{202e}b");
    }

    #[test]
    fn server_text_is_one_escaped_line_of_bounded_length() {
        let hostile =
            "\x1b[2J\x1b]0;title\x07\x1b]52;c;SGVsbG8=\x07\nnext\u{202e}";
        let shown = server_text(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(
            shown,
            "\\x1b[2J\\x1b]0;title\\x07\\x1b]52;c;SGVsbG8=\\x07\\x0anext\\u{202e}"
        );
        let long = "é".repeat(SERVER_TEXT_MAX + 10);
        let shown = server_text(&long);
        assert!(shown.starts_with(&"é".repeat(SERVER_TEXT_MAX)));
        assert!(shown.ends_with("... (20 more bytes)"), "{shown}");
        assert_eq!(server_text("plain 403"), "plain 403");
    }

    #[test]
    fn urls_lose_their_secrets() {
        // The client's redaction (its own tests cover the cases), escaped.
        assert_eq!(
            shown_url("http://user:pw@127.0.0.1:1/v1/s?token=abc&offset=1"),
            "http://***:***@127.0.0.1:1/v1/s?token=***&offset=1"
        );
        assert_eq!(shown_url("http://h/s"), "http://h/s");
        assert_eq!(shown_url("http://h/\x1b[2J"), "http://h/%1B[2J");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
