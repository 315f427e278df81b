//! The config file (TOML): tail limits, default headers, key overrides,
//! the theme and named server profiles.
//!
//! Unknown keys are errors so that a typo is reported instead of silently
//! ignored (`schema.rs` walks the file and reports every problem with its
//! line, column and key); the names in `[keys]` are the explorer's keymap's
//! to check (`Keymap::apply`).
//! `assets/config.toml` documents every key and must parse to
//! `Config::default()`.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod schema;
pub use schema::Problem;

/// The whole config file; every table is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub tail: TailLimits,
    /// Extra request headers, each `"Name: value"`.
    pub headers: Vec<String>,
    /// `[keys]`: the explorer's key overrides (`tail.bookmark = "M"`),
    /// read with their place in the file by [`Config::parse`]; the
    /// explorer's keymap checks the names (`Keymap::apply`).
    #[serde(skip)]
    pub keys: Vec<KeyOverride>,
    /// What serde sees of `[keys]`: nothing (the walk has read it).
    #[serde(rename = "keys")]
    #[doc(hidden)]
    pub keys_table: Ignored,
    /// `[theme]`: a built-in theme and per-colour overrides.
    pub theme: ThemeConfig,
    /// Named server profiles, `[servers.NAME]`.
    pub servers: BTreeMap<String, ServerProfile>,
    /// The profile used when neither `--profile`, `STREAM_PROFILE` nor a
    /// URL says otherwise.
    pub default_server: Option<String>,
    /// The explorer's protocol inspector.
    pub inspector: InspectorConfig,
}

/// `[inspector]`: how many requests the explorer's protocol inspector
/// keeps, and which headers it shows only as type and length.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InspectorConfig {
    /// Requests kept (the oldest go first); at least 1.
    pub max_requests: usize,
    /// Header names whose values are secret, besides `Authorization`,
    /// `Proxy-Authorization`, `Cookie` and `Set-Cookie`.
    pub secret_headers: Vec<String>,
}

impl Default for InspectorConfig {
    fn default() -> Self {
        InspectorConfig {
            max_requests: 10_000,
            secret_headers: Vec::new(),
        }
    }
}

/// One `[keys]` entry: `tail.bookmark = "M"` or
/// `global.quit = ["q", "ctrl-c"]` binds an action of a scope to keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOverride {
    /// Where it applies, dotted: `global`, `tail`, `dialog.bookmarks`, ...
    pub scope: String,
    /// The action's name, such as `bookmark` or `copy_message`.
    pub action: String,
    /// The keys as written: `"q"`, `"ctrl-c"`, `"enter"`, ...
    pub keys: Vec<String>,
    /// Where the entry is in the file (1-based).
    pub line: usize,
    pub column: usize,
}

impl KeyOverride {
    /// The dotted key as the file spells it (`keys.tail.bookmark`).
    pub fn key(&self) -> String {
        format!("keys.{}.{}", self.scope, self.action)
    }

    /// A problem with this entry, placed where it is in the file.
    pub fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            line: self.line,
            column: self.column,
            key: self.key(),
            message: message.into(),
        }
    }
}

/// The built-in themes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    /// For dark terminal backgrounds: the terminal's own ANSI colours.
    #[default]
    Dark,
    /// For light backgrounds: darker colours from the 256-colour palette.
    Light,
}

/// `[theme]`: `name = "dark" | "light"` and any of the colour roles, each
/// a colour name, `"#rrggbb"` or a 256-colour index (`"208"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThemeConfig {
    pub name: ThemeName,
    /// Keys in help and hints, the focused pane's border.
    pub accent: Option<String>,
    /// Secondary text: times, counts, hints.
    pub dim: Option<String>,
    /// Failures, error log lines.
    pub error: Option<String>,
    /// Dialog borders, warnings.
    pub warning: Option<String>,
    /// Success, live.
    pub ok: Option<String>,
    /// Offsets.
    pub offset: Option<String>,
    /// Informational log lines.
    pub info: Option<String>,
    /// Fatal log lines.
    pub alert: Option<String>,
    /// Bright text.
    pub text: Option<String>,
}

/// The colour roles of `[theme]`, in the order the file documents them.
pub const THEME_ROLES: [&str; 9] = [
    "accent", "dim", "error", "warning", "ok", "offset", "info", "alert",
    "text",
];

impl ThemeConfig {
    /// The overrides given, as `(role, colour)`.
    pub fn overrides(&self) -> Vec<(&'static str, Colour)> {
        let given = [
            &self.accent,
            &self.dim,
            &self.error,
            &self.warning,
            &self.ok,
            &self.offset,
            &self.info,
            &self.alert,
            &self.text,
        ];
        THEME_ROLES
            .into_iter()
            .zip(given)
            .filter_map(|(role, v)| {
                Some((role, Colour::parse(v.as_deref()?).ok()?))
            })
            .collect()
    }
}

/// A colour as the config writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    /// One of the 16 ANSI colours, by its index (0 black … 15 white).
    Ansi(u8),
    /// An index into the 256-colour palette.
    Indexed(u8),
    Rgb(u8, u8, u8),
    /// The terminal's default.
    Default,
}

/// The 16 ANSI colour names, by index.
const ANSI_NAMES: [&str; 16] = [
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "dark_gray",
    "light_red",
    "light_green",
    "light_yellow",
    "light_blue",
    "light_magenta",
    "light_cyan",
    "white",
];

impl Colour {
    /// `"red"`, `"dark_gray"`, `"default"`, `"#ff8800"` or `"208"`.
    pub fn parse(text: &str) -> Result<Colour, String> {
        let lower = text.trim().to_ascii_lowercase().replace('-', "_");
        if let Some(i) = ANSI_NAMES.iter().position(|n| *n == lower) {
            return Ok(Colour::Ansi(u8::try_from(i).unwrap_or(0)));
        }
        if lower == "default" || lower == "reset" {
            return Ok(Colour::Default);
        }
        if let Some(hex) = lower.strip_prefix('#')
            && hex.len() == 6
            && let Ok(v) = u32::from_str_radix(hex, 16)
        {
            let [_, r, g, b] = v.to_be_bytes();
            return Ok(Colour::Rgb(r, g, b));
        }
        if let Ok(i) = lower.parse::<u8>() {
            return Ok(Colour::Indexed(i));
        }
        Err(format!(
            "{text:?} is not a colour; write a name ({}, default), \
             \"#rrggbb\" or a 256-colour index such as \"208\"",
            ANSI_NAMES.join(", ")
        ))
    }
}

/// A table serde skips (its content is read elsewhere).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ignored;

impl<'de> Deserialize<'de> for Ignored {
    fn deserialize<D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Ignored)
    }
}

/// Problems of `path`, one line each, as every command and the explorer
/// say them: `config PATH:LINE:COLUMN: KEY: MESSAGE`.
pub fn describe(path: &Path, problems: &[Problem]) -> String {
    show_problems(path, problems)
}

/// Bounds of the explorer's tail buffer; past either, the oldest messages
/// are evicted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TailLimits {
    pub max_messages: usize,
    pub max_bytes: u64,
    /// Where the explorer starts reading a stream it opens (the command
    /// line's `--from` overrides it for the stream given there).
    pub start: TailStart,
    /// Whether the tail starts with a header row before every batch (`b`
    /// toggles it).
    pub batch_headers: bool,
}

impl Default for TailLimits {
    fn default() -> Self {
        TailLimits {
            max_messages: 1_000_000,
            max_bytes: 192 * 1024 * 1024,
            start: TailStart::default(),
            batch_headers: true,
        }
    }
}

/// `tail.start`: where the explorer starts reading a stream it opens.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TailStart {
    /// Offer to resume where the stream was left, else the beginning.
    #[default]
    Resume,
    /// Always the beginning (`-1`): the whole stream is read first.
    #[serde(alias = "-1")]
    Beginning,
    /// Only what arrives from now on: nothing old is loaded.
    Now,
}

/// A named server: its base URL and what to send with every request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerProfile {
    pub url: String,
    /// Extra request headers, each `"Name: value"`.
    #[serde(default)]
    pub headers: Vec<String>,
    /// Value of the `Authorization` header, as `--auth` takes it (written
    /// in the file: prefer `auth_env` or `auth_command`).
    #[serde(default)]
    pub auth: Option<String>,
    /// An environment variable holding the token (read at start).
    #[serde(default)]
    pub auth_env: Option<String>,
    /// A command printing the token on stdout: run at the first request,
    /// and again once after a 401.
    #[serde(default)]
    pub auth_command: Option<Vec<String>>,
}

/// Why the config file could not be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `line` and `column` are 1-based; 0 when toml gave no position.
    #[error("config {path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Keys that are unknown or hold a value of the wrong kind: all of
    /// them, one line each.
    #[error("{}", show_problems(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn show_problems(path: &Path, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "config {}:{}:{}: {}: {}",
                path.display(),
                p.line,
                p.column,
                p.key,
                p.message
            )
        })
        .collect();
    lines.join("\n")
}

impl Config {
    /// `$DSX_CONFIG` if set, else the XDG config dir's `dsx/config.toml`;
    /// `None` when no home directory is known.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("DSX_CONFIG")
            && !path.is_empty()
        {
            return Some(PathBuf::from(path));
        }
        directories::ProjectDirs::from("", "", "dsx")
            .map(|p| p.config_dir().join("config.toml"))
    }

    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match fs::read_to_string(path) {
            Ok(text) => Config::parse(path, &text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// [`Config::load`] on [`Config::default_path`], or the defaults when
    /// there is no path.
    pub fn load_default() -> Result<Config, ConfigError> {
        match Config::default_path() {
            Some(path) => Config::load(&path),
            None => Ok(Config::default()),
        }
    }

    /// Parses config text; `path` only names the file in errors. Every
    /// unknown key and wrong value is reported, not just the first.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let syntax = |e: toml::de::Error| {
            let (line, column) = e
                .span()
                .map_or((0, 0), |span| line_column(text, span.start));
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim_end().to_owned(),
            }
        };
        let doc = toml::de::DeTable::parse(text).map_err(syntax)?;
        let problems = schema::check(text, doc.get_ref());
        if !problems.is_empty() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            });
        }
        // The walk above accepts only what this can read.
        let mut config: Config = toml::from_str(text).map_err(syntax)?;
        config.keys = schema::key_overrides(text, doc.get_ref());
        Ok(config)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/cfg/config.toml"), text)
    }

    #[test]
    fn batch_headers_can_be_hidden_from_the_start() {
        let config = parse("[tail]\nbatch_headers = false\n").unwrap();
        assert!(!config.tail.batch_headers);
        assert!(Config::default().tail.batch_headers);
    }

    #[test]
    fn shipped_default_config_parses_to_the_defaults() {
        let text = include_str!("../../assets/config.toml");
        assert_eq!(parse(text).unwrap(), Config::default());
    }

    /// The shipped file with every commented example line (`# key = ...`,
    /// `# [table]`) uncommented.
    fn uncommented_examples(text: &str) -> String {
        let mut out = String::new();
        for line in text.lines() {
            let example = line.strip_prefix("# ").filter(|rest| {
                let table = rest.starts_with('[') && rest.ends_with(']');
                let key = rest.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty()
                        && k.chars().all(|c| {
                            c.is_ascii_lowercase() || c == '_' || c == '.'
                        })
                });
                table || key
            });
            out.push_str(example.unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// Every key the shipped file shows, the commented examples included,
    /// is one dsx knows: the walk finds no problem and the `Config` struct
    /// (which refuses unknown fields) reads each one.
    #[test]
    fn every_key_of_the_shipped_config_is_known() {
        let text = include_str!("../../assets/config.toml");
        let all = uncommented_examples(text);
        assert_ne!(all, text, "the file has examples");
        let config = parse(&all).unwrap_or_else(|e| panic!("{e}\n{all}"));
        assert_eq!(config.default_server.as_deref(), Some("local"));
        let names: Vec<&str> =
            config.servers.keys().map(String::as_str).collect();
        assert_eq!(names, ["local", "prod"]);
        assert!(config.servers["local"].auth_env.is_some());
        assert!(config.servers["prod"].auth_command.is_some());
        assert!(!config.keys.is_empty());
        assert_eq!(config.theme.overrides().len(), 2);
        assert!(
            config.keys.iter().any(|k| k.scope == "global"
                && k.action == "quit"
                && k.keys == ["q", "ctrl-c"]),
            "{:?}",
            config.keys
        );
        // And the walk knows no key the struct lacks: a file that sets every
        // key the walk accepts reads into the struct.
        let every = r##"
headers = ["A: b"]
default_server = "p"
[tail]
max_messages = 1
max_bytes = 1
start = "now"
[keys]
tail.bookmark = "M"
global.quit = ["q", "ctrl-c"]
[keys.dialog.bookmarks]
rename = "R"
[theme]
name = "light"
accent = "blue"
dim = "244"
error = "#cc0000"
warning = "yellow"
ok = "green"
offset = "magenta"
info = "default"
alert = "light_red"
text = "black"
[servers.p]
url = "http://127.0.0.1:1"
headers = []
auth = "x"
[servers.q]
url = "http://127.0.0.1:1"
auth_env = "X"
[servers.r]
url = "http://127.0.0.1:1"
auth_command = ["x"]
[inspector]
max_requests = 5
secret_headers = ["X-Api-Key"]
"##;
        assert!(toml::from_str::<Config>(every).is_ok());
        parse(every).unwrap();
    }

    #[test]
    fn theme_colours_are_checked_where_they_are() {
        let err =
            parse("[theme]\nname = \"sepia\"\nok = \"#12345\"\n").unwrap_err();
        let ConfigError::Invalid { problems, .. } = &err else {
            panic!("{err}");
        };
        let said: Vec<_> =
            problems.iter().map(|p| (p.line, p.key.as_str())).collect();
        assert_eq!(said, [(2, "theme.name"), (3, "theme.ok")], "{err}");
        assert!(problems[1].message.contains("#rrggbb"), "{err}");
        assert_eq!(Colour::parse("Dark-Gray"), Ok(Colour::Ansi(8)));
        assert_eq!(Colour::parse("208"), Ok(Colour::Indexed(208)));
        assert_eq!(Colour::parse("#FF8800"), Ok(Colour::Rgb(255, 136, 0)));
        assert!(Colour::parse("256").is_err());
    }

    #[test]
    fn inspector_settings_are_read_and_checked() {
        let config = parse(
            "[inspector]\nmax_requests = 20\nsecret_headers = [\"X-Api-Key\"]\n",
        )
        .unwrap();
        assert_eq!(config.inspector.max_requests, 20);
        assert_eq!(config.inspector.secret_headers, ["X-Api-Key"]);
        assert_eq!(Config::default().inspector.max_requests, 10_000);
        let err = parse("[inspector]\nmax_requests = 0\n").unwrap_err();
        assert_eq!(only_problem(&err).key, "inspector.max_requests");
        let err = parse("[inspector]\nsecret_headers = [1]\n").unwrap_err();
        assert_eq!(only_problem(&err).key, "inspector.secret_headers");
    }

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(&dir.path().join("nope.toml")).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn values_are_read() {
        let config = parse(
            r##"
headers = ["X-Team: blue"]
[tail]
max_messages = 10
[keys]
tail.bookmark = "M"
[keys.dialog]
open.submit = ["enter", "ctrl-o"]
[theme]
name = "light"
offset = "#aa00aa"
[servers.prod]
url = "http://127.0.0.1:4437"
auth = "Bearer t"
"##,
        )
        .unwrap();
        assert_eq!(config.tail.max_messages, 10);
        assert_eq!(config.tail.max_bytes, TailLimits::default().max_bytes);
        assert_eq!(config.headers, ["X-Team: blue"]);
        let keys: Vec<_> = config
            .keys
            .iter()
            .map(|k| (k.key(), k.keys.clone(), k.line))
            .collect();
        assert_eq!(
            keys,
            [
                ("keys.tail.bookmark".to_owned(), vec!["M".to_owned()], 6),
                (
                    "keys.dialog.open.submit".to_owned(),
                    vec!["enter".to_owned(), "ctrl-o".to_owned()],
                    8
                ),
            ]
        );
        assert_eq!(config.theme.name, ThemeName::Light);
        assert_eq!(
            config.theme.overrides(),
            [("offset", Colour::Rgb(0xaa, 0, 0xaa))]
        );
        let prod = &config.servers["prod"];
        assert_eq!(prod.auth.as_deref(), Some("Bearer t"));
        assert!(prod.headers.is_empty());
    }

    /// The one problem of an `Invalid` error.
    fn only_problem(err: &ConfigError) -> &Problem {
        let ConfigError::Invalid { problems, .. } = err else {
            panic!("{err:?}");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        &problems[0]
    }

    #[test]
    fn unknown_key_names_it_with_line_and_column() {
        let err = parse("[tail]\nmax_mesages = 3\n").unwrap_err();
        let problem = only_problem(&err);
        assert_eq!((problem.line, problem.column), (2, 1));
        assert_eq!(problem.key, "tail.max_mesages");
        let shown = err.to_string();
        assert!(shown.contains("/cfg/config.toml:2:1"), "{shown}");
        assert!(shown.contains("max_mesages"), "{shown}");
        // What is accepted there is said too.
        assert!(shown.contains("max_messages, max_bytes, start"), "{shown}");
    }

    #[test]
    fn syntax_and_type_errors_have_positions() {
        let err = parse("headers = [\"a: b\"]\n[tail]\nmax_bytes = \"x\"\n")
            .unwrap_err();
        let problem = only_problem(&err);
        assert_eq!((problem.line, problem.column), (3, 13), "{problem:?}");
        assert_eq!(problem.key, "tail.max_bytes");
        assert!(
            problem.message.contains("an integer of at least 1"),
            "{problem:?}"
        );
        let err = parse("[tail\n").unwrap_err();
        assert!(matches!(err, ConfigError::Parse { line: 1, .. }), "{err:?}");
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let text = "\
bogus = 1
headers = \"X: y\"
default_server = \"nope\"
[tail]
max_messages = 0
start = 3
[servers.prod]
url = \"ftp://x\"
auth = \"a\"
auth_env = \"T\"
auth_command = []
[servers.bare]
headers = []
";
        let err = parse(text).unwrap_err();
        let ConfigError::Invalid { problems, .. } = &err else {
            panic!("{err:?}");
        };
        let got: Vec<(usize, usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.column, p.key.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (1, 1, "bogus"),
                (2, 11, "headers"),
                (3, 18, "default_server"),
                (5, 16, "tail.max_messages"),
                (6, 9, "tail.start"),
                (7, 10, "servers.prod"),
                (8, 7, "servers.prod.url"),
                (11, 16, "servers.prod.auth_command"),
                (12, 10, "servers.bare"),
            ],
            "{err}"
        );
        let shown = err.to_string();
        assert_eq!(shown.lines().count(), 9, "{shown}");
        for expected in [
            "config /cfg/config.toml:1:1: bogus: unknown key; accepted at \
             the top level: headers, default_server, tail, keys, theme, \
             servers, inspector",
            "headers: expected a list of \"Name: value\" strings, found \
             string",
            "default_server: no [servers.nope] table",
            "tail.max_messages: must be at least 1, not 0",
            "tail.start: expected one of \"resume\", \"beginning\", \"-1\", \
             \"now\", found integer",
            "servers.prod: auth and auth_env and auth_command given",
            "servers.prod.url: \"ftp://x\" is not an http(s) URL",
            "servers.bare: no url",
        ] {
            assert!(shown.contains(expected), "{expected}\n{shown}");
        }
    }

    #[test]
    fn bad_header_and_server_are_invalid() {
        let err = parse("headers = [\"no colon\"]").unwrap_err();
        assert!(only_problem(&err).message.contains("no colon"), "{err}");
        let err = parse("[servers.x]\nheaders = []\n").unwrap_err();
        assert!(err.to_string().contains("url"), "{err}");
        let err = parse("[servers.x]\nurl = \" \"\n").unwrap_err();
        assert!(err.to_string().contains("servers.x.url"), "{err}");
    }

    #[test]
    fn tail_start_values() {
        for (text, start) in [
            ("resume", TailStart::Resume),
            ("beginning", TailStart::Beginning),
            ("-1", TailStart::Beginning),
            ("now", TailStart::Now),
        ] {
            let config = parse(&format!("[tail]\nstart = {text:?}\n")).unwrap();
            assert_eq!(config.tail.start, start, "{text}");
        }
        assert_eq!(TailLimits::default().start, TailStart::Resume);
        let err = parse("[tail]\nstart = \"later\"\n").unwrap_err();
        assert_eq!(only_problem(&err).line, 2);
        assert!(err.to_string().contains("now"), "{err}");
    }

    #[test]
    fn tail_limits_of_zero_are_refused() {
        for key in ["max_messages", "max_bytes"] {
            let err = parse(&format!("[tail]\n{key} = 0\n")).unwrap_err();
            assert_eq!(only_problem(&err).key, format!("tail.{key}"));
            assert!(err.to_string().contains(&format!("tail.{key}")), "{err}");
        }
        let err = parse("[tail]\nmax_messages = -5\n").unwrap_err();
        assert!(only_problem(&err).message.contains("-5"), "{err}");
    }

    #[test]
    fn profiles_read_their_auth_sources() {
        let config = parse(
            r#"
default_server = "prod"
[servers.prod]
url = "https://ds.example.com/v1/stream"
auth_command = ["pass", "show", "ds/prod"]
[servers.staging]
url = "http://127.0.0.1:4437"
auth_env = "STAGING_TOKEN"
"#,
        )
        .unwrap();
        assert_eq!(config.default_server.as_deref(), Some("prod"));
        assert_eq!(
            config.servers["prod"].auth_command.as_deref(),
            Some(&["pass".to_owned(), "show".into(), "ds/prod".into()][..])
        );
        assert_eq!(
            config.servers["staging"].auth_env.as_deref(),
            Some("STAGING_TOKEN")
        );
    }

    #[test]
    fn unreadable_path_is_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::load(dir.path()).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
    }
}
