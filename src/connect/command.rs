//! `auth_command`: a profile's token printed by a program (a password
//! manager, a cloud CLI), so that no secret is written in the config file.
//! The program runs at the first request and again after a 401; its
//! output is never logged or shown.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Mutex;

use crate::client::Error;

/// How long the program may take before it is killed and the request
/// fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A profile's `auth_command`, and the profile it is from (for errors).
/// Clones share the last token, so that the explorer's two clients run the
/// program once per start, not once each.
#[derive(Clone, Debug)]
pub struct AuthCommand {
    pub profile: String,
    pub argv: Vec<String>,
    /// How many times the program ran, and its last token.
    shared: Arc<Mutex<(u64, Option<String>)>>,
}

impl PartialEq for AuthCommand {
    fn eq(&self, other: &Self) -> bool {
        self.profile == other.profile && self.argv == other.argv
    }
}

impl AuthCommand {
    pub fn new(profile: &str, argv: Vec<String>) -> AuthCommand {
        AuthCommand {
            profile: profile.to_owned(),
            argv,
            shared: Arc::default(),
        }
    }

    /// A fetch for one client: the token another client already got, if
    /// this one has not used it yet; else the program runs again (a first
    /// use, or a renewal after a 401).
    pub fn fetcher(
        &self,
    ) -> impl Fn() -> BoxFuture<'static, Result<String, Error>> + Send + Sync + 'static
    {
        let command = self.clone();
        let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
        move || {
            let command = command.clone();
            let seen = Arc::clone(&seen);
            Box::pin(async move {
                use std::sync::atomic::Ordering;
                let mut shared = command.shared.lock().await;
                if let (runs, Some(token)) = &*shared
                    && *runs > seen.load(Ordering::SeqCst)
                {
                    seen.store(*runs, Ordering::SeqCst);
                    return Ok(token.clone());
                }
                let token = command.run(TIMEOUT).await?;
                let runs = shared.0 + 1;
                *shared = (runs, Some(token.clone()));
                seen.store(runs, Ordering::SeqCst);
                Ok(token)
            })
        }
    }

    /// Runs the program; its first line of output is the token, sent as
    /// [`authorization`] makes it. Fails, naming the profile and the
    /// program, when it cannot start, times out, exits non-zero or prints
    /// nothing.
    pub async fn run(&self, timeout: Duration) -> Result<String, Error> {
        let fail = |why: String| {
            Error::InvalidArgument(format!(
                "auth_command of profile {:?} ({}) {why}",
                self.profile,
                self.shown()
            ))
        };
        let Some((program, args)) = self.argv.split_first() else {
            return Err(fail("is empty".into()));
        };
        let child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(format!("could not start: {e}")))?;
        let output = tokio::time::timeout(timeout, child.wait_with_output())
            .await
            .map_err(|_| fail(format!("did not finish within {timeout:?}")))?
            .map_err(|e| fail(format!("failed: {e}")))?;
        if !output.status.success() {
            // stderr, not stdout: a program that failed may still have
            // printed a secret on stdout.
            let said = String::from_utf8_lossy(&output.stderr);
            let first = said.lines().next().unwrap_or("").trim();
            let first: String = first.chars().take(200).collect();
            let first = crate::sanitize::escape_line(&first).into_owned();
            let said = if first.is_empty() {
                String::new()
            } else {
                format!(": {first}")
            };
            return Err(fail(format!("failed ({}){said}", output.status)));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let token = stdout.lines().next().unwrap_or("").trim();
        if token.is_empty() {
            return Err(fail("printed no token".into()));
        }
        Ok(authorization(token))
    }

    /// The program and its arguments as the user wrote them.
    fn shown(&self) -> String {
        crate::sanitize::escape_line(&self.argv.join(" ")).into_owned()
    }
}

/// The `Authorization` value for a secret from the environment or a
/// command: a bare token gets `Bearer ` before it; a value with a space in
/// it (`Basic abc`, `Bearer abc`) is sent as it is.
#[must_use]
pub fn authorization(secret: &str) -> String {
    let secret = secret.trim();
    if secret.contains(' ') {
        secret.to_owned()
    } else {
        format!("Bearer {secret}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(argv: &[&str]) -> AuthCommand {
        AuthCommand::new("prod", argv.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Two clients' fetchers share one run; a renewal by either runs the
    /// program again, and the other then takes that token without a run.
    #[tokio::test]
    async fn clients_share_the_token_and_each_renewal_runs_once() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        let script = format!(
            "echo x >> '{0}'; echo t$(wc -l < '{0}' | tr -d ' ')",
            runs.display()
        );
        let command = command(&["sh", "-c", &script]);
        let (a, b) = (command.fetcher(), command.clone().fetcher());
        assert_eq!(a().await.unwrap(), "Bearer t1");
        assert_eq!(b().await.unwrap(), "Bearer t1", "shared, no run");
        assert_eq!(b().await.unwrap(), "Bearer t2", "b renews: a run");
        assert_eq!(a().await.unwrap(), "Bearer t2", "a takes it: no run");
        let count = std::fs::read_to_string(&runs).unwrap().lines().count();
        assert_eq!(count, 2);
    }

    #[test]
    fn bare_tokens_become_bearer() {
        assert_eq!(authorization("abc\n"), "Bearer abc");
        assert_eq!(authorization("Basic xyz"), "Basic xyz");
        assert_eq!(authorization("Bearer t"), "Bearer t");
    }

    #[tokio::test]
    async fn the_first_line_of_output_is_the_token() {
        let got = command(&["sh", "-c", "printf 'tok1\\nmeta: x\\n'"])
            .run(TIMEOUT)
            .await
            .unwrap();
        assert_eq!(got, "Bearer tok1");
    }

    #[tokio::test]
    async fn failures_name_the_profile_and_program_not_the_output() {
        let err =
            command(&["sh", "-c", "printf 'se%s' cret; echo nope >&2; exit 3"])
                .run(TIMEOUT)
                .await
                .unwrap_err()
                .to_string();
        assert!(err.contains("profile \"prod\""), "{err}");
        assert!(err.contains("sh -c"), "{err}");
        assert!(err.contains("nope"), "{err}");
        assert!(err.contains('3'), "{err}");
        assert!(!err.contains("secret"), "{err}");

        let err = command(&["sh", "-c", "true"]).run(TIMEOUT).await;
        assert!(err.unwrap_err().to_string().contains("printed no token"));
        let err = command(&["/nonexistent/dsx-pass"]).run(TIMEOUT).await;
        assert!(err.unwrap_err().to_string().contains("could not start"));
        let started = std::time::Instant::now();
        let err = command(&["sleep", "5"])
            .run(Duration::from_millis(200))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(4));
    }
}
