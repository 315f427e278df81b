//! `dsx serve`: the embedded dev server until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::exit::usage;
use super::{ServeArgs, shutdown_signal};
use crate::server::{self, Limits, ServerConfig, demo};

/// Validates the flags, starts the server, prints its URL first on stdout,
/// and serves until a signal arrives.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = config(&args)?;
    if !config.addr.ip().is_loopback() {
        eprintln!(
            "dsx serve: WARNING: listening on {} with NO authentication; \
             anyone who can reach this address can read, write and delete \
             every stream",
            config.addr.ip()
        );
    }
    let handle = server::start(config.clone()).await.with_context(|| {
        format!("starting the dev server on {}", config.addr)
    })?;
    {
        let mut out = std::io::stdout().lock();
        // The first `http://` token is the URL; scripts parse this line.
        let _ = writeln!(
            out,
            "dsx dev server listening on {} (streams under {}/<name>)",
            handle.url,
            handle.stream_base()
        );
        let storage = match &config.data_dir {
            Some(dir) => format!("data in {}", dir.display()),
            None => "data in memory only".to_owned(),
        };
        let _ = writeln!(
            out,
            "{storage}; stream list at {}/__registry__; Ctrl-C to stop",
            handle.stream_base()
        );
        let _ = out.flush();
    }
    let cancel = CancellationToken::new();
    let live = if args.demo {
        match demo::seed(&handle.url).await {
            Ok(streams) => {
                println!("demo streams: {}", names(&streams));
                Some(demo::spawn_live(&handle.url, cancel.clone()))
            }
            Err(e) => {
                handle.shutdown().await;
                return Err(e.context("seeding the demo streams"));
            }
        }
    } else {
        None
    };
    let why = shutdown_signal().await;
    cancel.cancel();
    if let Some(live) = live {
        let _ = tokio::time::timeout(Duration::from_secs(5), live).await;
    }
    handle.shutdown().await;
    eprintln!("dsx serve: stopped ({why})");
    Ok(())
}

fn names(streams: &[demo::DemoStream]) -> String {
    streams
        .iter()
        .map(|s| s.path.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns the flags into a server configuration. Every refusal is a usage
/// error (exit 1): nothing was started.
pub fn config(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let host = args.host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host == "localhost" {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse().map_err(|_| {
            usage(format!("--host {host:?} is not an IP address"))
        })?
    };
    if !ip.is_loopback() && !args.allow_remote {
        return Err(usage(format!(
            "refusing to listen on {ip}: the dev server has no \
             authentication. Use a loopback address (the default \
             127.0.0.1), or pass --allow-remote to expose it anyway"
        )));
    }
    Ok(ServerConfig {
        addr: SocketAddr::new(ip, args.port),
        data_dir: args.data_dir.clone(),
        long_poll_timeout: Duration::from_millis(
            args.long_poll_timeout_ms.max(1),
        ),
        test_hooks: args.test_hooks,
        limits: Limits {
            max_body_bytes: scaled("--max-body-mb", args.max_body_mb, 20)?,
            max_chunk_bytes: scaled("--max-chunk-kb", args.max_chunk_kb, 10)?,
            max_memory_bytes: scaled(
                "--max-memory-mb",
                args.max_memory_mb,
                20,
            )?,
        },
        registry: !args.no_registry,
        require_auth: args.require_auth.clone(),
        ..ServerConfig::default()
    })
}

/// Largest size any limit may have, in bytes (1 PiB): far above what a dev
/// server can hold, far below where byte counts overflow.
const MAX_LIMIT_BYTES: u64 = 1 << 50;

/// `value` units of `1 << shift` bytes, refused (usage error) when zero or
/// when it would not fit: a shift that overflowed would wrap to a tiny or
/// zero limit.
fn scaled(flag: &str, value: u64, shift: u32) -> anyhow::Result<u64> {
    let max = MAX_LIMIT_BYTES >> shift;
    if value == 0 || value > max {
        return Err(usage(format!("{flag} must be between 1 and {max}")));
    }
    Ok(value << shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::exit::{USAGE, code_for};

    #[test]
    fn limits_are_scaled_and_overflow_is_refused() {
        assert_eq!(scaled("--max-body-mb", 1, 20).unwrap(), 1 << 20);
        assert_eq!(scaled("--max-chunk-kb", 4096, 10).unwrap(), 4 << 20);
        assert_eq!(
            scaled("--max-body-mb", 1 << 30, 20).unwrap(),
            MAX_LIMIT_BYTES
        );
        // 2^44 MiB is 2^64 bytes: this used to wrap to a 0-byte limit.
        for bad in [0, (1 << 30) + 1, 17_592_186_044_416, u64::MAX] {
            let err = scaled("--max-body-mb", bad, 20).unwrap_err();
            assert_eq!(code_for(&err), USAGE, "{bad}");
            assert!(err.to_string().contains("--max-body-mb"), "{err}");
        }
    }
}
