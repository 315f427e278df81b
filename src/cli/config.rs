//! `dsx config path | init | check`: where the config file is, a commented
//! default to start from, and every problem of a file (with its line,
//! column and key) before the explorer or a command meets it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::exit::usage;
use crate::config::{Config, ConfigError};
use crate::tui::keymap::Keymap;

/// The commented default config, every key at its default value.
pub const DEFAULT: &str = include_str!("../../assets/config.toml");

/// `dsx config`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::doc_markdown, reason = "clap prints these as help text")]
pub enum ConfigAction {
    /// Print where dsx reads its config file ($DSX_CONFIG, else
    /// dsx/config.toml in the XDG config directory).
    Path,
    /// Write the commented default config there (refused if a file
    /// exists, unless --force).
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
        /// Write FILE instead of the default path.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Check a config file (default: the one dsx reads): print every
    /// problem with its file, line, column and key; exit 1 if any.
    Check {
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

pub fn run(args: &ConfigArgs) -> anyhow::Result<()> {
    match &args.action {
        ConfigAction::Path => {
            let path = default_path()?;
            println!("{}", path.display());
            if !path.exists() {
                eprintln!(
                    "dsx: no file there yet (the defaults are in use); \
                     `dsx config init` writes one"
                );
            }
            Ok(())
        }
        ConfigAction::Init { force, file } => {
            let path = match file {
                Some(file) => file.clone(),
                None => default_path()?,
            };
            init(&path, *force)?;
            println!("wrote {}", path.display());
            Ok(())
        }
        ConfigAction::Check { file } => {
            let (path, named) = match file {
                Some(file) => (file.clone(), true),
                None => (default_path()?, false),
            };
            check(&path, named)
        }
    }
}

fn default_path() -> anyhow::Result<PathBuf> {
    Config::default_path().ok_or_else(|| {
        usage("no home directory to put the config in; set DSX_CONFIG")
    })
}

/// Writes [`DEFAULT`] to `path`, making its directory; an existing file
/// is kept unless `force`.
fn init(path: &Path, force: bool) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // create_new: the check and the creation are one step.
        options.create_new(true);
    }
    let mut file = match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(usage(format!(
                "{} exists; it was left as it is (--force overwrites it)",
                path.display()
            )));
        }
        other => {
            other.with_context(|| format!("writing {}", path.display()))?
        }
    };
    file.write_all(DEFAULT.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Prints every problem of `path` on stderr; an error when there is any.
fn check(path: &Path, named: bool) -> anyhow::Result<()> {
    if !path.exists() {
        if named {
            return Err(usage(format!("{}: no such file", path.display())));
        }
        println!(
            "{}: no file (the defaults are in use; `dsx config init` \
             writes one)",
            path.display()
        );
        return Ok(());
    }
    match Config::load(path) {
        Ok(config) => {
            // The names in `[keys]` are the explorer's to know.
            let problems = Keymap::default().apply(&config.keys);
            if !problems.is_empty() {
                let text = crate::config::describe(path, &problems);
                for line in text.lines() {
                    eprintln!("{}", crate::sanitize::escape_line(line));
                }
                return Err(usage(format!(
                    "{} problem{} in {}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    path.display()
                )));
            }
            let profiles = config.servers.len();
            println!("{}: ok ({profiles} profiles)", path.display());
            Ok(())
        }
        Err(e) => {
            let count = match &e {
                ConfigError::Invalid { problems, .. } => problems.len(),
                _ => 1,
            };
            for line in e.to_string().lines() {
                eprintln!("{}", crate::sanitize::escape_line(line));
            }
            Err(usage(format!(
                "{count} problem{} in {}",
                if count == 1 { "" } else { "s" },
                path.display()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_refuses_to_overwrite_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        init(&path, false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT);
        std::fs::write(&path, "# mine\n").unwrap();
        let err = init(&path, false).unwrap_err().to_string();
        assert!(err.contains("--force"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
        init(&path, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT);
    }
}
