//! dsx: a terminal explorer, client and dev server for Durable Streams.

pub mod cli;
pub mod client;
pub mod jq;
pub mod server;
pub mod tui;
