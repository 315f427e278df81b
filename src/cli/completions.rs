//! `dsx completions`: shell completion scripts.

use clap_complete::Shell;

/// `dsx completions`: print a completion script for SHELL.
#[derive(Clone, Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `command` to stdout.
pub fn run(mut command: clap::Command, args: &CompletionsArgs) {
    let name = command.get_name().to_owned();
    clap_complete::generate(
        args.shell,
        &mut command,
        name,
        &mut std::io::stdout(),
    );
}
