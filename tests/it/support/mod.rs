//! Shared support for the integration tests.
//!
//! Client tests: servers to run against (`server`), fault injection
//! (`faults`, and `cutter` for a connection cut mid-body), a scripted
//! misbehaving server that records what reached it (`hostile`), read
//! helpers (`reads`), stream helpers (`streams`: create, append, read
//! options) and the test macros, bounded waits and request recorder (`harness`,
//! re-exported here). Server tests: the real `dsx` binary as a child
//! process (`process`); headless command tests: `cli`.
//!
//! Compiled once, for the one integration-test binary (`tests/it/main.rs`).

pub mod cli;
pub mod cutter;
pub mod faults;
#[macro_use]
pub mod harness;
#[allow(
    dead_code,
    reason = "the hostile server's whole toolkit (trickled, truncated and hung \
              bodies, what it received) stays, for tests of the cases to come"
)]
pub mod hostile;
pub mod process;
pub mod pty;
pub mod reads;
pub mod screen;
pub mod server;
pub mod streams;

pub use cli::{Output, Running, dead_port, dsx, dsx_stdin};
pub use cutter::CutRelay;
pub use faults::Fault;
pub use harness::*;
pub use hostile::{Hostile, Received, Reply};
pub use process::*;
pub use reads::{Body, numbers_of};
pub use server::{Kind, TestServer};
pub use streams::{
    append, create, create_at, create_opts, read_opts, try_append,
};
