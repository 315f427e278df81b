//! dsx: a terminal explorer, client and dev server for Durable Streams.

pub mod bookmarks;
pub mod cli;
pub mod client;
pub mod config;
pub mod connect;
pub mod errors;
pub mod export;
pub mod jq;
pub mod logging;
pub mod sanitize;
pub mod server;
pub mod tui;
