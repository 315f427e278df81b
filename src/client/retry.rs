//! Backoff for 429 / 5xx / dropped connections, honouring Retry-After.
