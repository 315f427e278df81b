//! The `dsx` binary: the explorer and its headless subcommands.

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use dsx::cli::append::AppendArgs;
use dsx::cli::close::CloseArgs;
use dsx::cli::completions::CompletionsArgs;
use dsx::cli::config::ConfigArgs;
use dsx::cli::create::CreateArgs;
use dsx::cli::delete::DeleteArgs;
use dsx::cli::doctor::DoctorArgs;
use dsx::cli::exit;
use dsx::cli::fork::ForkArgs;
use dsx::cli::head::HeadArgs;
use dsx::cli::read::ReadArgs;
use dsx::cli::{Context, DEFAULT_BASE_URL, DemoArgs, GlobalArgs, ServeArgs};

/// dsx: explore, tail, append to and serve Durable Streams.
#[derive(Debug, Parser)]
#[command(
    name = "dsx",
    version,
    about,
    long_about = None,
    after_help = exit::HELP
)]
#[allow(clippy::doc_markdown, reason = "clap prints these as help text")]
struct Cli {
    /// Server base URL, or a stream URL to open in the explorer; stream
    /// paths of the subcommands resolve against it.
    #[arg(env = "STREAM_URL")]
    url: Option<String>,
    /// Explorer: where the stream in URL starts reading: now (only what
    /// arrives), -1 (the beginning), an offset, or @NAME (a bookmark).
    /// Without it, the config's tail.start (default: offer to resume).
    /// With a server URL, now and -1 apply to every stream opened.
    #[arg(
        long,
        value_name = "now|-1|OFFSET|@NAME",
        allow_hyphen_values = true,
        value_parser = dsx::tui::StartAt::parse
    )]
    from: Option<dsx::tui::StartAt>,
    /// Explorer: no colours (as NO_COLOR=1); the focus and the selection
    /// still show, in bold and reverse video.
    #[arg(long)]
    no_color: bool,
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The subcommands. Those that talk to a server take the connection
/// options (`-H`, `--auth`) after their name too; `serve`, `demo` and
/// `completions` do not, so their help does not offer them.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print a stream to stdout (catch up, or follow it live).
    Read {
        #[command(flatten)]
        args: ReadArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Append to a stream from an argument, stdin, or line by line.
    Append {
        #[command(flatten)]
        args: AppendArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Create a stream.
    Create {
        #[command(flatten)]
        args: CreateArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Close a stream, optionally with a final message.
    Close {
        #[command(flatten)]
        args: CloseArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Delete a stream.
    Delete {
        #[command(flatten)]
        args: DeleteArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Show a stream's metadata.
    Head {
        #[command(flatten)]
        args: HeadArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Create a stream as a fork of another.
    Fork {
        #[command(flatten)]
        args: ForkArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Subscriptions: list, show, create, delete; claim, ack, release.
    Sub {
        #[command(flatten)]
        args: dsx::cli::sub::SubArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Probe which protocol features a server or stream answers.
    Doctor {
        #[command(flatten)]
        args: DoctorArgs,
        #[command(flatten)]
        conn: GlobalArgs,
    },
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Find, write or check the config file.
    Config(ConfigArgs),
    /// Run the embedded Durable Streams dev server until Ctrl-C.
    Serve(ServeArgs),
    /// Start the dev server in-process with live demo streams.
    Demo(DemoArgs),
}

impl Command {
    /// The connection options given after the subcommand's name, if it
    /// takes them.
    fn conn(&self) -> Option<&GlobalArgs> {
        match self {
            Command::Read { conn, .. }
            | Command::Append { conn, .. }
            | Command::Create { conn, .. }
            | Command::Close { conn, .. }
            | Command::Delete { conn, .. }
            | Command::Head { conn, .. }
            | Command::Fork { conn, .. }
            | Command::Sub { conn, .. }
            | Command::Doctor { conn, .. } => Some(conn),
            Command::Completions(_)
            | Command::Config(_)
            | Command::Serve(_)
            | Command::Demo(_) => None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Command::Read { .. } => "read",
            Command::Append { .. } => "append",
            Command::Create { .. } => "create",
            Command::Close { .. } => "close",
            Command::Delete { .. } => "delete",
            Command::Head { .. } => "head",
            Command::Fork { .. } => "fork",
            Command::Sub { .. } => "sub",
            Command::Doctor { .. } => "doctor",
            Command::Completions(_) => "completions",
            Command::Config(_) => "config",
            Command::Serve(_) => "serve",
            Command::Demo(_) => "demo",
        }
    }
}

/// The connection options in force: those before the subcommand, then
/// those after it (headers add up; an `--auth` after it wins).
/// `serve`, `demo` and `completions` send no request with them: given on
/// the command line before one of those, they are a usage error rather
/// than silently ignored (`STREAM_AUTH` in the environment is fine).
fn connection(cli: &Cli, matches: &ArgMatches) -> Result<GlobalArgs, String> {
    let mut global = cli.global.clone();
    let Some(command) = &cli.command else {
        return Ok(global);
    };
    if let Some(conn) = command.conn() {
        global.headers.extend(conn.headers.iter().cloned());
        if conn.auth.is_some() {
            global.auth.clone_from(&conn.auth);
        }
        if conn.profile.is_some() {
            global.profile.clone_from(&conn.profile);
        }
        return Ok(global);
    }
    let given = |id| matches.value_source(id) == Some(ValueSource::CommandLine);
    if given("headers") || given("auth") || given("profile") {
        return Err(format!(
            "-H/--auth/--profile have no effect on `dsx {}`: it sends no \
             request",
            command.name()
        ));
    }
    Ok(GlobalArgs::default())
}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; any usage error exits 1
            // (clap's own default is 2, which dsx uses for "not found").
            return if e.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let (Some(command), Some(_)) = (&cli.command, &cli.from) {
        eprintln!(
            "dsx: --from before a command is the explorer's; give it after \
             `{}`",
            command.name()
        );
        return ExitCode::from(exit::USAGE);
    }
    let global = match connection(&cli, &matches) {
        Ok(global) => global,
        Err(message) => {
            eprintln!("dsx: {message}");
            return ExitCode::from(exit::USAGE);
        }
    };
    if let Some(Command::Completions(args)) = &cli.command {
        dsx::cli::completions::run(Cli::command(), args);
        return ExitCode::SUCCESS;
    }
    // `dsx read` is one sequential session: on a single thread the socket
    // reads, decoding and stdout writes need no wake-ups across threads,
    // which made a 256 MiB catch-up about 1.7x slower on the 2-core bench
    // machine (bench/RESULTS.md). Everything else keeps the multi-thread
    // runtime (the producer pipelines, the server and explorer multitask).
    let runtime = if matches!(cli.command, Some(Command::Read { .. })) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Runtime::new()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dsx: cannot start the async runtime: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    // The explorer and the stream commands read the config file: its
    // headers, and the profile chosen. A file that does not load is said
    // (on stderr, or in the explorer's status bar) and the defaults used.
    let connects = !matches!(
        cli.command,
        Some(
            Command::Serve(_)
                | Command::Demo(_)
                | Command::Completions(_)
                | Command::Config(_)
        )
    );
    // What the explorer shows in its status bar at start.
    let mut notices = Vec::new();
    let config = if connects {
        dsx::connect::config_or_default(&mut notices)
    } else {
        dsx::config::Config::default()
    };
    if cli.command.is_some() {
        // One line per problem of the file.
        for notice in notices.drain(..) {
            for line in notice.lines() {
                let line = anyhow::Error::msg(line.to_owned());
                eprintln!("dsx: {}", exit::describe(&line));
            }
        }
    } else {
        // The status bar has one line: the first problem, and how to see
        // the rest.
        for notice in &mut notices {
            let more = notice.lines().count().saturating_sub(1);
            if more > 0 {
                let first = notice.lines().next().unwrap_or("").to_owned();
                *notice = format!("{first} (+{more} more: dsx config check)");
            }
        }
    }
    let (url, global) = if connects {
        let url_given =
            matches.value_source("url") == Some(ValueSource::CommandLine);
        match global.with_profile(&config, cli.url.as_deref(), url_given) {
            Ok(chosen) => chosen,
            Err(e) => {
                eprintln!("dsx: {e:#}");
                return ExitCode::from(exit::USAGE);
            }
        }
    } else {
        (cli.url.clone(), global)
    };
    let ctx = Context {
        base_url: url.clone().unwrap_or_else(|| DEFAULT_BASE_URL.into()),
        global: global.with_config(&config),
    };
    match &cli.command {
        Some(Command::Serve(_)) => dsx::logging::to_stderr(),
        None | Some(Command::Demo(_)) => {
            if let Err(why) = dsx::logging::to_file() {
                notices.push(format!("no log file: {why}"));
            }
        }
        _ => {}
    }
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Read { args, .. }) => {
                dsx::cli::read::run(&ctx, args).await
            }
            Some(Command::Append { args, .. }) => {
                dsx::cli::append::run(&ctx, args).await
            }
            Some(Command::Create { args, .. }) => {
                dsx::cli::create::run(&ctx, args).await
            }
            Some(Command::Close { args, .. }) => {
                dsx::cli::close::run(&ctx, args).await
            }
            Some(Command::Delete { args, .. }) => {
                dsx::cli::delete::run(&ctx, args).await
            }
            Some(Command::Head { args, .. }) => {
                dsx::cli::head::run(&ctx, args).await
            }
            Some(Command::Fork { args, .. }) => {
                dsx::cli::fork::run(&ctx, args).await
            }
            Some(Command::Sub { args, .. }) => {
                dsx::cli::sub::run(&ctx, args).await
            }
            Some(Command::Doctor { args, .. }) => {
                dsx::cli::doctor::run(&ctx, args).await
            }
            Some(Command::Completions(_)) => Ok(()),
            Some(Command::Config(args)) => dsx::cli::config::run(&args),
            Some(Command::Serve(args)) => dsx::cli::serve::run(args).await,
            Some(Command::Demo(args)) => dsx::cli::demo::run(args).await,
            None => {
                dsx::tui::explore(dsx::tui::ExploreOptions {
                    url: url.unwrap_or_else(|| DEFAULT_BASE_URL.into()),
                    global,
                    notices,
                    from: cli.from,
                    config: Some(config),
                    no_color: cli.no_color,
                })
                .await
            }
        }
    });
    // A read may leave a blocking stdin reader behind; do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !exit::is_silent(&e) {
                eprintln!("dsx: {}", exit::describe(&e));
            }
            ExitCode::from(exit::code_for(&e))
        }
    }
}
