//! From what the user said to a [`Client`]: the connection options of the
//! command line (`-H`, `--auth`, `STREAM_AUTH`) and the config file's
//! `headers`, in one place for the explorer and every headless command
//! (so that both send the same headers), and the config itself as both load
//! it (a file that does not load is reported, and the defaults are used).

use anyhow::{Context as _, bail};

use crate::client::{Client, ClientBuilder};
use crate::config::Config;

/// The connection options of the explorer and of every command that talks
/// to a server (the official CLI's names). They are accepted before the
/// subcommand and after it, but not offered by `serve`, `demo` and
/// `completions`, which send no request with them.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct GlobalArgs {
    /// Extra request header, `Name: value` (repeatable).
    #[arg(
        short = 'H',
        long = "header",
        value_name = "NAME: VALUE",
        help_heading = "Connection options"
    )]
    pub headers: Vec<String>,
    /// Authorization header value (for example `Bearer abc`).
    #[arg(
        long,
        env = "STREAM_AUTH",
        hide_env_values = true,
        help_heading = "Connection options"
    )]
    pub auth: Option<String>,
}

impl GlobalArgs {
    /// The headers to send with every request, checked.
    pub fn header_pairs(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for raw in &self.headers {
            let Some((name, value)) = raw.split_once(':') else {
                bail!("-H {raw:?}: expected `Name: value`");
            };
            let name = name.trim();
            http::HeaderName::from_bytes(name.as_bytes())
                .with_context(|| format!("-H {raw:?}: bad header name"))?;
            let value = value.trim();
            http::HeaderValue::from_str(value)
                .with_context(|| format!("-H {raw:?}: bad header value"))?;
            out.push((name.to_owned(), value.to_owned()));
        }
        if let Some(auth) = &self.auth {
            http::HeaderValue::from_str(auth)
                .context("--auth: not a valid header value")?;
            out.push(("Authorization".to_owned(), auth.clone()));
        }
        Ok(out)
    }

    /// A client builder with these headers and `base_url`.
    pub fn client_builder(
        &self,
        base_url: &str,
    ) -> anyhow::Result<ClientBuilder> {
        let mut builder = Client::builder().base_url(base_url);
        for (name, value) in self.header_pairs()? {
            builder = builder.header(name, value);
        }
        Ok(builder)
    }
}

impl GlobalArgs {
    /// These options under the config file's: its headers first, so that
    /// the command line's come later and win (a later `Authorization` is
    /// the one servers see).
    #[must_use]
    pub fn with_config(&self, config: &Config) -> GlobalArgs {
        let mut headers = config.headers.clone();
        headers.extend(self.headers.iter().cloned());
        GlobalArgs {
            headers,
            auth: self.auth.clone(),
        }
    }
}

/// The config file (`$DSX_CONFIG`, else the user's config directory), or the
/// defaults with a line in `notices` saying why it was not loaded.
pub fn config_or_default(notices: &mut Vec<String>) -> Config {
    Config::load_default().unwrap_or_else(|e| {
        notices.push(format!("config not loaded, using defaults: {e}"));
        Config::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_headers_come_first_and_the_command_line_wins() {
        let config = Config {
            headers: vec!["X-Team: blue".into(), "Authorization: a".into()],
            ..Config::default()
        };
        let args = GlobalArgs {
            headers: vec!["X-Team: red".into()],
            auth: Some("b".into()),
        };
        let pairs = args.with_config(&config).header_pairs().unwrap();
        let names: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("X-Team", "blue"),
                ("Authorization", "a"),
                ("X-Team", "red"),
                ("Authorization", "b"),
            ]
        );
        assert!(
            GlobalArgs::default()
                .with_config(&Config::default())
                .header_pairs()
                .unwrap()
                .is_empty()
        );
    }
}
