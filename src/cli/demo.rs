//! `dsx demo`: the dev server in-process, with live demo streams.

use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::{DEMO_PORT, DemoArgs, shutdown_signal};
use crate::server::{self, ServerConfig, demo};

/// Starts the server on loopback, seeds the demo streams, prints them and
/// serves until Ctrl-C or SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let (handle, fallback) = start(args.port, DEMO_PORT).await?;
    if let Some(notice) = &fallback {
        // Said before the explorer takes the screen, and again in it.
        eprintln!("dsx demo: {notice}");
    }
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
            notices: fallback.into_iter().collect(),
            from: None,
            config: None,
            no_color: false,
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

/// Starts the server on `port`, or on `default` when none was asked for.
/// If `default` is taken a free port is used instead, with a notice that
/// says so (the demo's URLs, and the bookmarks keyed by them, then differ
/// from those of a demo on `default`). A port asked for must be free.
async fn start(
    port: Option<u16>,
    default: u16,
) -> anyhow::Result<(server::ServerHandle, Option<String>)> {
    let config = |port| ServerConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        ..ServerConfig::default()
    };
    let wanted = port.unwrap_or(default);
    match server::start(config(wanted)).await {
        Ok(handle) => Ok((handle, None)),
        Err(e)
            if port.is_none() && e.kind() == std::io::ErrorKind::AddrInUse =>
        {
            let handle = server::start(config(0))
                .await
                .context("starting the server on a free port")?;
            let notice = format!(
                "port {default} is in use, so the demo serves on {} instead; \
                 bookmarks made now belong to that address and will not \
                 show in a demo on port {default} (choose one with --port)",
                handle.url
            );
            Ok((handle, Some(notice)))
        }
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("starting the server on port {wanted}"))),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn port_of(url: &str) -> u16 {
        url.rsplit(':').next().unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn the_default_port_is_used_and_a_taken_one_is_replaced() {
        // A port known to be free a moment ago: the default is used.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let free = probe.local_addr().unwrap().port();
        drop(probe);
        let (handle, notice) = start(None, free).await.unwrap();
        assert_eq!(port_of(&handle.url), free);
        assert_eq!(notice, None);
        // Taken (by that server): another port, and a notice naming both.
        let (other, notice) = start(None, free).await.unwrap();
        assert_ne!(port_of(&other.url), free);
        let notice = notice.expect("a notice");
        assert!(
            notice.contains(&format!("port {free} is in use")),
            "{notice}"
        );
        assert!(notice.contains(&other.url), "{notice}");
        // A port asked for is not replaced.
        let Err(err) = start(Some(free), DEMO_PORT).await else {
            panic!("a port asked for was replaced");
        };
        assert!(
            format!("{err:#}").contains(&format!("port {free}")),
            "{err:#}"
        );
        other.shutdown().await;
        handle.shutdown().await;
    }
}
