//! Entering and restoring the terminal. It is restored on every way out: the
//! guard's `Drop` (quit and `?` errors), a panic hook installed before raw
//! mode, and [`restore`] after [`termination_signal`] (SIGTERM, SIGHUP).

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste,
    EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether the terminal is in the explorer's mode and needs restoring. A
/// process-wide flag because the panic hook and signal path have no guard
/// to consult; swapping it makes restoring happen once.
static ENTERED: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Installs (once per process) a panic hook that restores the terminal and
/// then runs the previous hook, so the panic message lands on the normal
/// screen instead of being wiped with the alternate one.
pub fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
            tracing::error!("panic: {info}");
            if let Some(log) = crate::logging::path() {
                eprintln!("dsx: the log is {}", log.display());
            }
        }));
    });
}

/// Restores the terminal if it was entered:
/// disables mouse capture and bracketed paste, leaves the alternate screen,
/// shows the cursor, disables raw mode. Errors are ignored (there is nothing
/// better to do on the way out) and a second call is a no-op.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Owns the explorer's terminal mode; dropping it restores the terminal.
#[derive(Debug)]
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Installs the panic hook first, then enables raw mode, the alternate
    /// screen, mouse capture and bracketed paste. On failure part-way the
    /// terminal is restored before the error is returned.
    pub fn enter()
    -> io::Result<(TerminalGuard, Terminal<CrosstermBackend<Stdout>>)> {
        install_panic_hook();
        // Not a terminal: fail before anything would need restoring, so no
        // escape sequences go to a pipe.
        enable_raw_mode()?;
        // Set before the next change so that a failure or panic part-way
        // still restores what was done (the guard drops on `?`).
        ENTERED.store(true, Ordering::SeqCst);
        let guard = TerminalGuard { _private: () };
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        terminal.clear()?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Completes on SIGTERM or SIGHUP; the explorer selects on it, then
/// restores the terminal and exits. Ctrl-C is not here: in raw mode it
/// arrives as a key event. If the handlers cannot be installed this never
/// completes (the default actions then still end the process).
pub async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("cannot watch for SIGTERM/SIGHUP: {e}");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[test]
    fn restore_without_enter_is_a_harmless_no_op() {
        restore();
        restore();
        assert!(!ENTERED.load(Ordering::SeqCst));
    }

    #[test]
    fn panic_hook_chains_to_the_previous_hook_once() {
        static SEEN: AtomicUsize = AtomicUsize::new(0);
        let previous = std::panic::take_hook();
        let this_test = std::thread::current().id();
        std::panic::set_hook(Box::new(move |info| {
            // Other tests may panic concurrently; count only ours.
            if std::thread::current().id() == this_test {
                SEEN.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
        install_panic_hook();
        install_panic_hook();
        let result = std::panic::catch_unwind(|| panic!("expected in test"));
        assert!(result.is_err());
        assert_eq!(SEEN.load(Ordering::SeqCst), 1);
        assert!(!ENTERED.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn termination_signal_completes_on_sighup() {
        let mut signal = Box::pin(termination_signal());
        // The first poll installs the handlers; only then is it safe to
        // send the signal to ourselves.
        let early =
            tokio::time::timeout(Duration::from_millis(50), &mut signal).await;
        assert!(early.is_err(), "completed without a signal");
        let status = std::process::Command::new("kill")
            .args(["-HUP", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(5), signal)
            .await
            .expect("SIGHUP was not seen within 5 s");
    }
}
