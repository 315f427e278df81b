//! A header whose value is fetched on first use, kept, and fetched again
//! once when the server answers 401 (a token from a command that may
//! expire: `auth_command` in a config profile).

use http::{HeaderName, HeaderValue};
use tokio::sync::Mutex;

use super::{DynamicValue, Error, Result};

/// The header, its current value and how many times it was fetched.
pub(crate) struct Credential {
    pub name: HeaderName,
    fetch: DynamicValue,
    /// `(generation, value)`; the generation lets concurrent requests that
    /// all saw the same stale value share one refetch.
    current: Mutex<Option<(u64, HeaderValue)>>,
}

impl Credential {
    pub fn new(name: &str, fetch: DynamicValue) -> Result<Credential> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::InvalidArgument(format!("invalid header name {name:?}"))
        })?;
        Ok(Credential {
            name,
            fetch,
            current: Mutex::new(None),
        })
    }

    /// The value in use, fetched if there is none yet.
    pub async fn current(&self) -> Result<(u64, HeaderValue)> {
        let mut current = self.current.lock().await;
        if let Some(held) = &*current {
            return Ok(held.clone());
        }
        let held = (1, self.fetch_value().await?);
        *current = Some(held.clone());
        Ok(held)
    }

    /// A new value after generation `seen` was refused; when another
    /// request already renewed it, that newer value without a fetch.
    pub async fn renew(&self, seen: u64) -> Result<(u64, HeaderValue)> {
        let mut current = self.current.lock().await;
        if let Some(held) = &*current
            && held.0 != seen
        {
            return Ok(held.clone());
        }
        let held = (seen + 1, self.fetch_value().await?);
        *current = Some(held.clone());
        Ok(held)
    }

    async fn fetch_value(&self) -> Result<HeaderValue> {
        let value = (self.fetch)().await?;
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::InvalidArgument(format!(
                "invalid value for header {}",
                self.name
            ))
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}
