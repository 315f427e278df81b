//! `auth_command`: a profile's token printed by a program (a password
//! manager, a cloud CLI), so that no secret is written in the config file.
//! The program runs at the first request and again after a 401; its
//! output is never logged or shown.

use std::process::Stdio;
use std::time::Duration;

use crate::client::Error;

/// How long the program may take before it is killed and the request
/// fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A profile's `auth_command`, and the profile it is from (for errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthCommand {
    pub profile: String,
    pub argv: Vec<String>,
}

impl AuthCommand {
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
        AuthCommand {
            profile: "prod".into(),
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
        }
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
