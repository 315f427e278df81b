//! `dsx demo`: the dev server in-process, with live demo streams.

use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::{DemoArgs, shutdown_signal};
use crate::server::{self, ServerConfig, demo};

/// Starts the server on loopback, seeds the demo streams, prints them and
/// serves until Ctrl-C or SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let config = ServerConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        ..ServerConfig::default()
    };
    let handle = server::start(config).await.with_context(|| {
        format!("starting the server on port {}", args.port)
    })?;
    let streams = match demo::seed(&handle.url).await {
        Ok(streams) => streams,
        Err(e) => {
            handle.shutdown().await;
            return Err(e.context("seeding the demo streams"));
        }
    };
    let cancel = CancellationToken::new();
    let live = demo::spawn_live(&handle.url, cancel.clone());

    let ui = !args.no_ui
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal();
    let stopped = if ui {
        let explored = crate::tui::explore(crate::tui::ExploreOptions {
            // Open on the live orders stream, so messages arrive at once.
            url: format!("{}/demo/orders", handle.stream_base()),
            global: super::GlobalArgs::default(),
        })
        .await;
        if let Err(e) = explored {
            cancel.cancel();
            handle.shutdown().await;
            return Err(e);
        }
        "explorer closed"
    } else {
        print_banner(&handle.url, &handle.stream_base(), &streams);
        shutdown_signal().await
    };

    cancel.cancel();
    // The writers only sleep or make short requests; do not wait forever.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), live).await;
    handle.shutdown().await;
    if !ui {
        eprintln!("dsx demo: stopped ({stopped})");
    }
    Ok(())
}

fn print_banner(url: &str, stream_base: &str, streams: &[demo::DemoStream]) {
    let mut out = std::io::stdout().lock();
    let width = streams.iter().map(|s| s.path.len()).max().unwrap_or(0);
    let ct_width = streams
        .iter()
        .map(|s| s.content_type.len())
        .max()
        .unwrap_or(0);
    // Ignore write errors: a closed stdout must not stop the server.
    let _ = writeln!(out, "dsx demo: Durable Streams dev server at {url}");
    let _ = writeln!(out, "streams under {stream_base}/:");
    for s in streams {
        let _ = writeln!(
            out,
            "  {:<width$}  {:<ct_width$}  {}",
            s.path, s.content_type, s.description
        );
    }
    let _ = writeln!(
        out,
        "stream list (create/delete events): {stream_base}/__registry__"
    );
    let _ = writeln!(
        out,
        "tail one: curl -N '{stream_base}/demo/app-log?offset=-1&live=sse'"
    );
    let _ = writeln!(out, "press Ctrl-C to stop");
    let _ = out.flush();
}
