//! Dynamic headers and query parameters (`set-dynamic-header`,
//! `set-dynamic-param`): computed once per append or read command, handed
//! to the client through its dynamic-value hooks, echoed in the reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use dsx::client::ClientBuilder;
use serde_json::{Map, Value};

/// How an entry's value is made.
#[derive(Clone, Debug)]
pub enum Kind {
    /// 1, 2, 3, ...: one step per command.
    Counter(u64),
    /// Milliseconds since the Unix epoch.
    Timestamp,
    /// A fixed value (a bearer token).
    Token(String),
}

impl Kind {
    /// Parses `valueType` / `initialValue`.
    pub fn parse(value_type: &str, initial: Option<&str>) -> Option<Kind> {
        match value_type {
            "counter" => Some(Kind::Counter(0)),
            "timestamp" => Some(Kind::Timestamp),
            "token" => {
                Some(Kind::Token(initial.unwrap_or_default().to_owned()))
            }
            _ => None,
        }
    }

    fn next(&mut self) -> String {
        match self {
            Kind::Counter(n) => {
                *n += 1;
                n.to_string()
            }
            Kind::Timestamp => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                .to_string(),
            Kind::Token(value) => value.clone(),
        }
    }
}

/// Whether an entry is a header or a query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    Header,
    Param,
}

/// The configured entries and the values of the current command.
#[derive(Debug, Default)]
pub struct Dynamic {
    entries: Vec<(Place, String, Kind)>,
    /// Read by the client's hooks (cloned into each).
    current: Arc<Mutex<HashMap<(Place, String), String>>>,
}

impl Dynamic {
    /// Adds or replaces an entry (a counter starts again from 0).
    pub fn set(&mut self, place: Place, name: &str, kind: Kind) {
        self.entries.retain(|(p, n, _)| !(*p == place && n == name));
        self.entries.push((place, name.to_owned(), kind));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.current.lock().expect("not poisoned").clear();
    }

    /// Computes the values for one command, returning `headersSent` and
    /// `paramsSent` (both `None` when nothing is configured).
    pub fn next_values(&mut self) -> Option<(Value, Value)> {
        if self.entries.is_empty() {
            return None;
        }
        let mut headers = Map::new();
        let mut params = Map::new();
        let mut current = self.current.lock().expect("not poisoned");
        for (place, name, kind) in &mut self.entries {
            let value = kind.next();
            current.insert((*place, name.clone()), value.clone());
            match place {
                Place::Header => headers.insert(name.clone(), value.into()),
                Place::Param => params.insert(name.clone(), value.into()),
            };
        }
        Some((Value::Object(headers), Value::Object(params)))
    }

    /// Registers every entry with the client being built: each hook hands
    /// out the value computed for the current command.
    pub fn install(&self, mut builder: ClientBuilder) -> ClientBuilder {
        for (place, name, _) in &self.entries {
            let key = (*place, name.clone());
            let current = Arc::clone(&self.current);
            let hook = move || {
                let value = current
                    .lock()
                    .expect("not poisoned")
                    .get(&key)
                    .cloned()
                    .unwrap_or_default();
                std::future::ready(Ok(value))
            };
            builder = match place {
                Place::Header => builder.dynamic_header(name.clone(), hook),
                Place::Param => builder.dynamic_param(name.clone(), hook),
            };
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_step_once_per_command_and_reset_when_set_again() {
        let mut d = Dynamic::default();
        assert!(d.next_values().is_none());
        d.set(Place::Header, "X-Request-Counter", Kind::Counter(0));
        d.set(Place::Param, "request_id", Kind::Counter(0));
        d.set(
            Place::Header,
            "Authorization",
            Kind::parse("token", Some("Bearer t1")).unwrap(),
        );
        let (h, p) = d.next_values().unwrap();
        assert_eq!(h["X-Request-Counter"], "1");
        assert_eq!(h["Authorization"], "Bearer t1");
        assert_eq!(p["request_id"], "1");
        let (h, _) = d.next_values().unwrap();
        assert_eq!(h["X-Request-Counter"], "2");
        d.set(Place::Header, "X-Request-Counter", Kind::Counter(0));
        let (h, p) = d.next_values().unwrap();
        assert_eq!(h["X-Request-Counter"], "1");
        assert_eq!(p["request_id"], "3");
        assert!(Kind::parse("nonsense", None).is_none());
    }
}
