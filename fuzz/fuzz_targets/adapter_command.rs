//! The conformance adapter's command parser: each input line is parsed as
//! the adapter's `main` does; commands that need no network (validate,
//! dynamic headers and params, unknown types, and every command before
//! `init`, which must fail without a server) are carried out, and every
//! reply must be a JSON object with `type` and `success`. `init` and
//! `benchmark` are skipped, so the fuzzer never makes the adapter connect
//! anywhere.
#![no_main]
#![allow(dead_code, reason = "the adapter's modules, not all of them used")]

#[path = "../../src/bin/conformance-adapter/bench.rs"]
mod bench;
#[path = "../../src/bin/conformance-adapter/command.rs"]
mod command;
#[path = "../../src/bin/conformance-adapter/dynamic.rs"]
mod dynamic;
#[path = "../../src/bin/conformance-adapter/ops.rs"]
mod ops;
#[path = "../../src/bin/conformance-adapter/producers.rs"]
mod producers;
#[path = "../../src/bin/conformance-adapter/read.rs"]
mod read;
#[path = "../../src/bin/conformance-adapter/reply.rs"]
mod reply;
#[path = "../../src/bin/conformance-adapter/state.rs"]
mod state;
#[path = "../../src/bin/conformance-adapter/validate.rs"]
mod validate;

use command::Line;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Commands that never reach the network, whatever their fields.
fn offline(kind: &str) -> bool {
    !matches!(
        kind,
        "init"
            | "benchmark"
            | "create"
            | "connect"
            | "append"
            | "read"
            | "head"
            | "delete"
            | "close"
            | "idempotent-append"
            | "idempotent-append-batch"
            | "idempotent-close"
            | "idempotent-detach"
    )
}

fn check(reply: reply::Reply) {
    let json = reply.into_json();
    assert!(json.get("type").is_some_and(Value::is_string), "{json}");
    assert!(json.get("success").is_some_and(Value::is_boolean), "{json}");
    serde_json::to_vec(&json).expect("a reply serialises");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut adapter = state::Adapter::default();
        for line in text.lines().take(64) {
            match command::parse(line) {
                Line::Blank => {}
                Line::Malformed(reply) => check(reply),
                Line::Command { kind, command } if offline(&kind) => {
                    check(adapter.handle(&kind, command).await);
                }
                Line::Command { .. } => {}
            }
        }
        adapter.shutdown().await;
    });
});
