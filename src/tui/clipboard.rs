//! Copying text to the clipboard: the system clipboard through arboard, or
//! OSC 52 (the terminal sets the clipboard) where there is no display
//! server, e.g. over ssh. Failures are errors for the status bar, never
//! panics. [`MemoryClipboard`] is the fake for tests.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

/// Largest text sent through OSC 52. Many terminals drop longer sequences
/// silently, so a clear error is better than a copy that did not happen.
pub const OSC52_MAX_BYTES: usize = 100 * 1024;

/// Something text can be copied to.
pub trait Clipboard: Send {
    fn copy(&mut self, text: &str) -> Result<CopiedVia, ClipboardError>;
}

/// Which way the text went, for the status bar message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopiedVia {
    /// The system clipboard (arboard).
    System,
    /// An OSC 52 sequence to the terminal, which may or may not honour it.
    Osc52,
}

/// Why nothing was copied.
#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    #[error(
        "too big to copy through the terminal ({size} bytes, limit {limit})"
    )]
    TooLarge { size: usize, limit: usize },
    #[error("could not write to the terminal: {0}")]
    Terminal(#[from] io::Error),
}

/// The system clipboard, falling back to OSC 52.
pub struct SystemClipboard {
    /// Created on first use and kept: on X11 the copied text is served by
    /// arboard's clipboard owner, which must outlive the copy.
    system: Option<arboard::Clipboard>,
    /// Set once arboard failed to start, so later copies go straight to
    /// OSC 52 instead of retrying a display connection each time.
    system_unavailable: bool,
    terminal: Box<dyn Write + Send>,
}

impl SystemClipboard {
    /// Writes OSC 52 to stdout (the terminal the explorer draws on). The
    /// system clipboard is tried only when a display server is announced
    /// (`DISPLAY` or `WAYLAND_DISPLAY` on Linux/BSD).
    pub fn new() -> Self {
        Self::with_terminal(Box::new(io::stdout()), display_available())
    }

    /// As [`SystemClipboard::new`], with the OSC 52 writer and the display
    /// check given, so tests need not touch the process environment.
    pub fn with_terminal(
        terminal: Box<dyn Write + Send>,
        display_available: bool,
    ) -> Self {
        SystemClipboard {
            system: None,
            system_unavailable: !display_available,
            terminal,
        }
    }

    fn copy_system(&mut self, text: &str) -> bool {
        if self.system_unavailable {
            return false;
        }
        if self.system.is_none() {
            match arboard::Clipboard::new() {
                Ok(c) => self.system = Some(c),
                Err(e) => {
                    tracing::debug!("system clipboard unavailable: {e}");
                    self.system_unavailable = true;
                    return false;
                }
            }
        }
        let Some(system) = self.system.as_mut() else {
            return false;
        };
        match system.set_text(text) {
            Ok(()) => true,
            Err(e) => {
                // A set can fail transiently (another owner); keep trying
                // arboard next time but use OSC 52 for this copy.
                tracing::debug!("system clipboard refused the text: {e}");
                false
            }
        }
    }
}

impl Default for SystemClipboard {
    fn default() -> Self {
        Self::new()
    }
}

impl Clipboard for SystemClipboard {
    fn copy(&mut self, text: &str) -> Result<CopiedVia, ClipboardError> {
        if self.copy_system(text) {
            return Ok(CopiedVia::System);
        }
        write_osc52(&mut self.terminal, text)?;
        Ok(CopiedVia::Osc52)
    }
}

/// Whether a display server is announced. Elsewhere than X11/Wayland
/// systems the platform clipboard needs none.
fn display_available() -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Writes `ESC ] 52 ; c ; <base64> BEL` and flushes. The payload is base64,
/// so untrusted text cannot inject other escape sequences.
pub fn write_osc52(
    out: &mut dyn Write,
    text: &str,
) -> Result<(), ClipboardError> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    if encoded.len() > OSC52_MAX_BYTES {
        return Err(ClipboardError::TooLarge {
            size: text.len(),
            limit: OSC52_MAX_BYTES / 4 * 3,
        });
    }
    let mut sequence = Vec::with_capacity(encoded.len() + 8);
    sequence.extend_from_slice(b"\x1b]52;c;");
    sequence.extend_from_slice(encoded.as_bytes());
    sequence.push(0x07);
    // One write so the sequence is not interleaved with a frame.
    out.write_all(&sequence)?;
    out.flush()?;
    Ok(())
}

/// Records copies instead of touching any clipboard.
#[derive(Clone, Debug, Default)]
pub struct MemoryClipboard {
    pub copied: Arc<Mutex<Vec<String>>>,
}

impl Clipboard for MemoryClipboard {
    fn copy(&mut self, text: &str) -> Result<CopiedVia, ClipboardError> {
        self.copied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(text.to_owned());
        Ok(CopiedVia::System)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes the test can read after the clipboard took it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn memory_clipboard_records_copies() {
        let mut clip = MemoryClipboard::default();
        let seen = clip.copied.clone();
        assert_eq!(clip.copy("one").unwrap(), CopiedVia::System);
        clip.copy("two").unwrap();
        assert_eq!(*seen.lock().unwrap(), ["one", "two"]);
    }

    #[test]
    fn osc52_encodes_text_as_base64() {
        let mut out = Vec::new();
        write_osc52(&mut out, "hi\x1b[2J").unwrap();
        assert_eq!(out, b"\x1b]52;c;aGkbWzJK\x07");
    }

    #[test]
    fn osc52_refuses_oversized_text() {
        let mut out = Vec::new();
        let text = "x".repeat(OSC52_MAX_BYTES);
        let err = write_osc52(&mut out, &text).unwrap_err();
        assert!(matches!(err, ClipboardError::TooLarge { .. }), "{err:?}");
        assert!(err.to_string().contains("too big"));
        assert!(out.is_empty());
        // Just under the limit still goes through.
        write_osc52(&mut out, &"x".repeat(OSC52_MAX_BYTES / 4 * 3)).unwrap();
        assert!(!out.is_empty());
    }

    #[test]
    fn without_display_falls_back_to_osc52() {
        let out = Shared::default();
        let mut clip =
            SystemClipboard::with_terminal(Box::new(out.clone()), false);
        assert_eq!(clip.copy("offset-1").unwrap(), CopiedVia::Osc52);
        assert_eq!(clip.copy("b").unwrap(), CopiedVia::Osc52);
        assert_eq!(
            *out.0.lock().unwrap(),
            b"\x1b]52;c;b2Zmc2V0LTE=\x07\x1b]52;c;Yg==\x07"
        );
        assert!(clip.system.is_none());
    }

    #[test]
    fn terminal_write_failure_is_an_error_not_a_panic() {
        let mut clip = SystemClipboard::with_terminal(Box::new(Broken), false);
        let err = clip.copy("x").unwrap_err();
        assert!(matches!(err, ClipboardError::Terminal(_)), "{err:?}");
    }
}
