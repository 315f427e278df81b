//! The `dsx` binary: the explorer and its headless subcommands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dsx::cli::{DEFAULT_BASE_URL, DemoArgs, GlobalArgs, ServeArgs};

/// dsx: explore, tail, append to and serve Durable Streams.
#[derive(Debug, Parser)]
#[command(name = "dsx", version, about, long_about = None)]
struct Cli {
    /// Server base URL or stream URL to open in the explorer.
    #[arg(env = "STREAM_URL")]
    url: Option<String>,
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded Durable Streams dev server until Ctrl-C.
    Serve(ServeArgs),
    /// Start the dev server in-process with live demo streams.
    Demo(DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dsx: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Serve(args)) => dsx::cli::serve::run(args).await,
            Some(Command::Demo(args)) => dsx::cli::demo::run(args).await,
            None => {
                dsx::tui::explore(dsx::tui::ExploreOptions {
                    url: cli.url.unwrap_or_else(|| DEFAULT_BASE_URL.into()),
                    global: cli.global,
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dsx: {e:#}");
            ExitCode::FAILURE
        }
    }
}
