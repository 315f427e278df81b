//! Backoff for 429 / 5xx / dropped connections, honouring Retry-After.
//!
//! What is retried (see `http.rs` for where it is applied):
//! - a response with 429 or a 5xx other than 501, for every method;
//! - a connection that could not be established (nothing was sent);
//! - a connection that dropped after the request was sent, only when the
//!   request is safe to replay: GET/HEAD/PUT/DELETE, a close-only POST, and
//!   a POST carrying `Producer-*` headers or `Stream-Seq` (the server
//!   deduplicates or refuses the replay). A plain append is NOT replayed
//!   after a drop, since the server may already have stored it, unless the
//!   client was built with `retry_appends_after_drop(true)`.
//! - Timeouts are not retried: the caller chose how long to wait.

use std::time::Duration;

use http::HeaderMap;
use rand::Rng;

use super::{Error, Result, RetryPolicy};

/// Whether a response status is worth another attempt.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status) && status != 501
}

/// `Retry-After` as a delay: delta-seconds, or an HTTP date.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs));
    }
    let when = time::OffsetDateTime::parse(
        value,
        &time::format_description::well_known::Rfc2822,
    )
    .ok()?;
    let now = time::OffsetDateTime::now_utc();
    let delta = when - now;
    Some(Duration::try_from(delta).unwrap_or(Duration::ZERO))
}

impl RetryPolicy {
    /// Refuses settings that make no sense: no attempt at all, a zero
    /// initial backoff, a maximum below the initial backoff, or a multiplier
    /// below 1.
    pub fn validate(&self) -> Result<()> {
        if self.max_attempts == 0 {
            return Err(Error::InvalidArgument(
                "retry max_attempts must be at least 1".into(),
            ));
        }
        if self.initial_backoff.is_zero() {
            return Err(Error::InvalidArgument(
                "retry initial_backoff must be positive".into(),
            ));
        }
        if self.max_backoff < self.initial_backoff {
            return Err(Error::InvalidArgument(
                "retry max_backoff must not be below initial_backoff".into(),
            ));
        }
        if !self.multiplier.is_finite() || self.multiplier < 1.0 {
            return Err(Error::InvalidArgument(
                "retry multiplier must be a finite number >= 1.0".into(),
            ));
        }
        Ok(())
    }

    /// The deterministic backoff before retry number `retry` (1 = the first
    /// retry): `initial * multiplier^(retry-1)`, capped at `max_backoff`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs =
            self.initial_backoff.as_secs_f64() * self.multiplier.powi(exp);
        let max = self.max_backoff.as_secs_f64();
        if !secs.is_finite() || secs >= max {
            self.max_backoff
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// The wait before retry number `retry`: the server's `Retry-After` when
    /// given (never less than the backoff, capped at `max_backoff` so that a
    /// retry sequence always ends in bounded time), otherwise the backoff
    /// with up to 20% random jitter taken off.
    pub(crate) fn delay(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
    ) -> Duration {
        let base = self.backoff(retry);
        if let Some(server) = retry_after {
            server.max(base).min(self.max_backoff)
        } else {
            let factor = rand::rng().random_range(0.8..=1.0);
            base.mul_f64(factor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    #[test]
    fn backoff_grows_and_caps() {
        let p = policy();
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(400));
        assert_eq!(p.backoff(7), Duration::from_secs(5));
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn default_policy_ends_well_under_30s() {
        let p = policy();
        let worst: Duration = (1..p.max_attempts)
            .map(|n| p.delay(n, Some(Duration::from_hours(1))))
            .sum();
        assert!(worst <= Duration::from_secs(20), "{worst:?}");
        let plain: Duration =
            (1..p.max_attempts).map(|n| p.delay(n, None)).sum();
        assert!(plain <= Duration::from_millis(1500), "{plain:?}");
    }

    #[test]
    fn jitter_stays_in_range() {
        let p = policy();
        for _ in 0..100 {
            let d = p.delay(2, None);
            assert!(
                d >= Duration::from_millis(160)
                    && d <= Duration::from_millis(200)
            );
        }
    }

    #[test]
    fn retry_after_is_honoured() {
        let p = policy();
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        // Never shorter than the backoff.
        assert_eq!(
            p.delay(3, Some(Duration::ZERO)),
            Duration::from_millis(400)
        );
        // Capped.
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(99))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn parses_retry_after() {
        let mut h = HeaderMap::new();
        assert_eq!(parse_retry_after(&h), None);
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", "0.5".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(500)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(parse_retry_after(&h), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [400, 403, 404, 409, 410, 501] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn validation() {
        assert!(policy().validate().is_ok());
        let bad = [
            RetryPolicy {
                max_attempts: 0,
                ..policy()
            },
            RetryPolicy {
                initial_backoff: Duration::ZERO,
                ..policy()
            },
            RetryPolicy {
                max_backoff: Duration::from_millis(10),
                ..policy()
            },
            RetryPolicy {
                multiplier: 0.5,
                ..policy()
            },
            RetryPolicy {
                multiplier: f64::NAN,
                ..policy()
            },
        ];
        for p in bad {
            assert!(p.validate().unwrap_err().is_invalid_argument(), "{p:?}");
        }
    }
}
