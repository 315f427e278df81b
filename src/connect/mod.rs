//! From what the user said to a [`Client`]: the connection options of the
//! command line (`-H`, `--auth`, `STREAM_AUTH`) and the config file's
//! `headers`, in one place for the explorer and every headless command
//! (so that both send the same headers), and the config itself as both load
//! it (a file that does not load is reported, and the defaults are used),
//! and the `[servers.NAME]` profile chosen (`--profile`, `STREAM_PROFILE`,
//! a profile's name where a URL goes, or `default_server`).

mod command;

use anyhow::{Context as _, bail};

use crate::client::{Client, ClientBuilder};
use crate::config::Config;
pub use command::{
    AuthCommand, TIMEOUT as AUTH_COMMAND_TIMEOUT, authorization,
};

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
    /// A `[servers.NAME]` profile of the config file: its URL (unless a
    /// URL is given on the command line), headers and auth.
    #[arg(
        long,
        env = "STREAM_PROFILE",
        value_name = "NAME",
        help_heading = "Connection options"
    )]
    pub profile: Option<String>,
    /// The chosen profile's `auth_command`, run for the `Authorization`
    /// header (set by [`GlobalArgs::with_profile`]).
    #[arg(skip)]
    pub auth_command: Option<AuthCommand>,
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
        let pairs = self.header_pairs()?;
        let has_auth = pairs
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        for (name, value) in pairs {
            builder = builder.header(name, value);
        }
        // An `Authorization` given outright wins over the command's.
        if let Some(command) = self.auth_command.clone()
            && !has_auth
        {
            builder =
                builder.refreshing_header("Authorization", command.fetcher());
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
            ..self.clone()
        }
    }

    /// The profile these options choose, applied: the URL to use (`None`:
    /// the caller's default) and these options with the profile's headers
    /// and auth before the command line's. `url` is the URL argument (or
    /// `STREAM_URL`); `url_given` says it was on the command line, where it
    /// wins over the profile's URL (the profile's headers still apply).
    /// A `url` that is a profile's name (no `://`) chooses that profile.
    /// Without `--profile`, `STREAM_PROFILE` or a URL, the config's
    /// `default_server` is used.
    pub fn with_profile(
        &self,
        config: &Config,
        url: Option<&str>,
        url_given: bool,
    ) -> anyhow::Result<(Option<String>, GlobalArgs)> {
        let bare = url.filter(|u| !u.contains("://"));
        let named = match (bare, &self.profile) {
            (Some(name), Some(profile)) if name != profile => bail!(
                "{name:?} is not a URL, and --profile {profile} names another \
                 profile: give one of them"
            ),
            (Some(name), _) if config.servers.contains_key(name) => Some(name),
            (Some(name), _) => bail!(
                "{name:?} is neither a URL (http://...) nor a profile; {}",
                known_profiles(config)
            ),
            (None, Some(profile)) => Some(profile.as_str()),
            (None, None) if url.is_none() => config.default_server.as_deref(),
            (None, None) => None,
        };
        let Some(name) = named else {
            return Ok((url.map(str::to_owned), self.clone()));
        };
        let Some(profile) = config.servers.get(name) else {
            bail!("no profile {name:?}; {}", known_profiles(config));
        };
        let url = if url_given && bare.is_none() {
            url.map(str::to_owned)
        } else {
            Some(profile.url.clone())
        };
        let mut headers = profile.headers.clone();
        if let Some(auth) = &profile.auth {
            headers.push(format!("Authorization: {auth}"));
        }
        if let Some(var) = &profile.auth_env {
            let secret = std::env::var(var).unwrap_or_default();
            if secret.trim().is_empty() {
                bail!(
                    "profile {name:?}: environment variable {var} (its \
                     auth_env) is not set"
                );
            }
            headers.push(format!("Authorization: {}", authorization(&secret)));
        }
        headers.extend(self.headers.iter().cloned());
        let auth_command = profile
            .auth_command
            .as_ref()
            .map(|argv| AuthCommand::new(name, argv.clone()));
        Ok((
            url,
            GlobalArgs {
                headers,
                auth: self.auth.clone(),
                profile: Some(name.to_owned()),
                auth_command,
            },
        ))
    }
}

/// "profiles in the config file: a, b", or that there is none.
fn known_profiles(config: &Config) -> String {
    if config.servers.is_empty() {
        return "the config file defines no [servers.NAME] profile (see \
                `dsx config path`)"
            .to_owned();
    }
    let names: Vec<&str> = config.servers.keys().map(String::as_str).collect();
    format!("profiles in the config file: {}", names.join(", "))
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
            ..GlobalArgs::default()
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

    fn profiles() -> Config {
        Config::parse(
            std::path::Path::new("/cfg/config.toml"),
            r#"
headers = ["X-All: 1"]
default_server = "local"
[servers.local]
url = "http://127.0.0.1:4437/v1/stream"
headers = ["X-Team: blue"]
auth = "Bearer written"
[servers.prod]
url = "https://ds.example.com/v1/stream"
auth_env = "DSX_TEST_CONNECT_UNSET_VAR"
[servers.cmd]
url = "https://cmd.example.com/v1/stream"
auth_command = ["pass", "show", "ds/cmd"]
"#,
        )
        .unwrap()
    }

    fn pick(
        args: &GlobalArgs,
        url: Option<&str>,
        given: bool,
    ) -> anyhow::Result<(Option<String>, GlobalArgs)> {
        args.with_profile(&profiles(), url, given)
    }

    #[test]
    fn a_profile_gives_url_headers_and_auth_before_the_command_line() {
        let args = GlobalArgs {
            headers: vec!["X-Cli: 2".into()],
            profile: Some("local".into()),
            ..GlobalArgs::default()
        };
        let (url, got) = pick(&args, None, false).unwrap();
        assert_eq!(url.as_deref(), Some("http://127.0.0.1:4437/v1/stream"));
        assert_eq!(
            got.headers,
            ["X-Team: blue", "Authorization: Bearer written", "X-Cli: 2"]
        );
        assert_eq!(got.profile.as_deref(), Some("local"));
        // The config's own headers come first, once more, as before.
        let all = got.with_config(&profiles()).headers;
        assert_eq!(all[0], "X-All: 1");
    }

    #[test]
    fn a_bare_name_where_the_url_goes_is_that_profile() {
        let (url, got) =
            pick(&GlobalArgs::default(), Some("cmd"), true).unwrap();
        assert_eq!(url.as_deref(), Some("https://cmd.example.com/v1/stream"));
        assert_eq!(
            got.auth_command,
            Some(AuthCommand::new(
                "cmd",
                vec!["pass".into(), "show".into(), "ds/cmd".into()],
            ))
        );
        let err = pick(&GlobalArgs::default(), Some("lokal"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("neither a URL"), "{err}");
        assert!(err.contains("cmd, local, prod"), "{err}");
        let other = GlobalArgs {
            profile: Some("local".into()),
            ..GlobalArgs::default()
        };
        let err = pick(&other, Some("cmd"), true).unwrap_err().to_string();
        assert!(err.contains("give one of them"), "{err}");
    }

    #[test]
    fn the_default_profile_applies_only_without_a_url() {
        let (url, got) = pick(&GlobalArgs::default(), None, false).unwrap();
        assert_eq!(url.as_deref(), Some("http://127.0.0.1:4437/v1/stream"));
        assert_eq!(got.profile.as_deref(), Some("local"));
        let (url, got) =
            pick(&GlobalArgs::default(), Some("http://h:1/v1/stream"), true)
                .unwrap();
        assert_eq!(url.as_deref(), Some("http://h:1/v1/stream"));
        assert!(got.profile.is_none() && got.headers.is_empty());
        // --profile with a URL on the command line: the URL, the
        // profile's headers.
        let args = GlobalArgs {
            profile: Some("local".into()),
            ..GlobalArgs::default()
        };
        let (url, got) =
            pick(&args, Some("http://h:1/v1/stream/x"), true).unwrap();
        assert_eq!(url.as_deref(), Some("http://h:1/v1/stream/x"));
        assert_eq!(got.headers[0], "X-Team: blue");
        // ... but a URL from STREAM_URL gives way to the profile's.
        let (url, _) =
            pick(&args, Some("http://h:1/v1/stream"), false).unwrap();
        assert_eq!(url.as_deref(), Some("http://127.0.0.1:4437/v1/stream"));
    }

    #[test]
    fn unknown_profiles_and_unset_variables_are_explained() {
        let args = GlobalArgs {
            profile: Some("nope".into()),
            ..GlobalArgs::default()
        };
        let err = pick(&args, None, false).unwrap_err().to_string();
        assert!(err.contains("no profile \"nope\""), "{err}");
        let args = GlobalArgs {
            profile: Some("prod".into()),
            ..GlobalArgs::default()
        };
        let err = pick(&args, None, false).unwrap_err().to_string();
        assert!(err.contains("DSX_TEST_CONNECT_UNSET_VAR"), "{err}");
        assert!(err.contains("not set"), "{err}");
        let err = GlobalArgs::default()
            .with_profile(&Config::default(), Some("local"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("defines no [servers.NAME]"), "{err}");
    }
}
