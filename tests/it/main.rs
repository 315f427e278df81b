//! All integration tests, in one test binary so that `support` and the
//! crate's test build link once (on 2-core machines that is minutes of
//! every CI run). One module per area; TESTING.md says what each covers.
//! Run one area with `cargo test --test it cli_read::` (or any name part).

#[macro_use]
mod support;

mod architecture;
mod cli_admin;
mod cli_append;
mod cli_config;
mod cli_doctor;
mod cli_errors;
mod cli_export;
mod cli_follow;
mod cli_read;
mod cli_subs;
mod client_api;
mod client_auth;
mod client_content;
mod client_errors;
mod client_faults;
mod client_hostile;
mod client_large_read;
mod client_live;
mod client_options;
mod client_producer;
mod client_reads;
mod client_resume;
mod client_subscriptions;
mod fault_matrix;
mod secrets;
mod server_cli;
mod server_demo;
mod server_faults;
mod server_hardening;
mod server_protocol;
mod tui_bookmarks;
mod tui_flow;
mod tui_pty;
