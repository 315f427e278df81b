//! The explorer: a terminal UI over the client (see ARCHITECTURE.md, "How
//! a key press and a batch travel"): input and client reports become
//! `Message`s, `update` turns them into state changes and `Effect`s, the
//! executor carries the effects out, `view` draws the state.
//!
//! Public for the integration tests and benchmarks, not as a library API:
//! `run_explorer` and `Setup` (the real loop on any backend), `state`,
//! `update`, `view`, `message`, `format`, `layout`, `clipboard` (a memory
//! clipboard), and the types their signatures name (`effect`, `action`,
//! `keymap`, `pane`). The loop, the executor, help's content and the
//! terminal guard are crate-private.

pub mod action;
pub(crate) mod app;
pub mod clipboard;
pub mod effect;
pub(crate) mod executor;
pub mod format;
pub(crate) mod help;
pub mod keymap;
pub mod layout;
pub mod message;
pub mod palette;
pub mod pane;
pub mod state;
pub(crate) mod terminal;
#[cfg(test)]
pub(crate) mod testkit;
pub mod update;
pub mod view;

use std::io;
use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::Event;
use futures::Stream;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::bookmarks::Bookmarks;
use crate::client::{Client, RetryPolicy};
use crate::config::{Config, TailStart};
use crate::connect::{GlobalArgs, config_or_default};
use clipboard::{Clipboard, SystemClipboard};
use state::tail::{Limits, Mark, Tail};
use state::{Level, State};

/// What to open: a base URL (stream list) or one stream's URL.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    /// Base URL or stream URL, as the user gave it.
    pub url: String,
    pub global: GlobalArgs,
    /// Said in the status bar at start (say, the port `dsx demo` fell
    /// back to).
    pub notices: Vec<String>,
    /// `--from`: where the stream given starts reading.
    pub from: Option<StartAt>,
    /// The config file as already loaded (its problems already in
    /// `notices`); `None`: load it here.
    pub config: Option<Config>,
    /// `--no-color`: no colours (as `NO_COLOR`).
    pub no_color: bool,
}

/// Splits what the user gave into the server's base URL and, if it names
/// one, a stream path under it. A URL with `/v1/stream/<path>` names a
/// stream; a URL with no path gets the protocol's `/v1/stream`.
pub fn split_target(url: &str) -> anyhow::Result<(String, Option<String>)> {
    const MARK: &str = "/v1/stream";
    let parsed = url::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        anyhow::bail!("{url:?}: only http and https URLs can be opened");
    }
    let url = url.trim_end_matches('/');
    if let Some(i) = url.find(&format!("{MARK}/")) {
        let base = &url[..i + MARK.len()];
        let path = &url[i + MARK.len() + 1..];
        return Ok((
            base.to_owned(),
            (!path.is_empty()).then(|| path.to_owned()),
        ));
    }
    if parsed.path() == "/" || parsed.path().is_empty() {
        return Ok((format!("{url}{MARK}"), None));
    }
    Ok((url.to_owned(), None))
}

/// Splits a query off what the user gave: the URL without it, and its
/// pairs (decoded), to go with every request. The protocol's own read
/// parameters (`offset`, `live`, `cursor`, as in a URL copied from a read)
/// are left out: the explorer sets those itself, and `--from` says where
/// to start. Not a URL: given back as it was, for `split_target` to refuse.
pub fn split_query(url: &str) -> (String, Vec<(String, String)>) {
    const PROTOCOL: [&str; 3] = ["offset", "live", "cursor"];
    let Ok(mut parsed) = url::Url::parse(url) else {
        return (url.to_owned(), Vec::new());
    };
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !PROTOCOL.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if parsed.query().is_none() {
        return (url.to_owned(), pairs);
    }
    parsed.set_query(None);
    parsed.set_fragment(None);
    (parsed.to_string(), pairs)
}

/// `--from` on the explorer's command line: where the stream it names
/// starts reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// `-1`: the beginning.
    Beginning,
    /// `now`: only what arrives from now on.
    Now,
    /// An offset from an earlier read (opaque, sent as it is).
    Offset(String),
    /// `@NAME`: a bookmark of that stream (its offset and position).
    Bookmark(String),
}

impl StartAt {
    /// `now`, `-1`, `@NAME` or an offset.
    pub fn parse(text: &str) -> Result<StartAt, String> {
        let text = text.trim();
        Ok(match text {
            "" => return Err("--from needs now, -1, an offset or @NAME".into()),
            "-1" => StartAt::Beginning,
            "now" => StartAt::Now,
            _ => match text.strip_prefix('@') {
                Some("") => return Err("--from @: name a bookmark".into()),
                Some(name) => StartAt::Bookmark(name.to_owned()),
                None => StartAt::Offset(text.to_owned()),
            },
        })
    }

    /// Where to read from in `url`'s stream; a bookmark is looked up.
    fn mark(&self, bookmarks: &Bookmarks, url: &str) -> anyhow::Result<Mark> {
        let at = |offset: &str, skip| Mark {
            offset: offset.to_owned(),
            skip,
        };
        let name = match self {
            StartAt::Beginning => return Ok(at("-1", 0)),
            StartAt::Now => return Ok(at("now", 0)),
            StartAt::Offset(offset) => return Ok(at(offset, 0)),
            StartAt::Bookmark(name) => name,
        };
        if let Some(b) = bookmarks.find(url, name) {
            return Ok(at(&b.offset, b.position));
        }
        let known = bookmarks.known_names(url);
        let key = crate::bookmarks::stream_key(url);
        Err(crate::errors::NotFoundError(format!(
            "--from @{name}: no bookmark of that name for {key}; {known}"
        ))
        .into())
    }
}

/// Where streams start reading: the one on the command line, and every
/// stream opened (the config's `tail.start`).
#[derive(Clone, Debug, Default)]
pub struct Start {
    /// `--from`, for the stream given on the command line.
    pub first: Option<StartAt>,
    pub default: TailStart,
}

/// Everything the explorer needs, built by `explore` or by a test.
pub struct Setup {
    pub base_url: String,
    /// A stream to open at start.
    pub open: Option<String>,
    pub client: Client,
    /// The client for tail reads (no retries of its own).
    pub tail_client: Client,
    pub clipboard: Box<dyn Clipboard>,
    /// Where bookmarks live; `None` keeps them in memory.
    pub bookmarks_path: Option<PathBuf>,
    pub limits: Limits,
    /// Whether batch headers show from the start (`[tail] batch_headers`).
    pub batch_headers: bool,
    /// Problems to show in the status bar at start (a bad config file).
    pub notices: Vec<String>,
    /// Where the tail starts reading.
    pub start: Start,
    /// The protocol inspector's bound and secret headers.
    pub inspector: crate::config::InspectorConfig,
    /// What every key does: the defaults with the config's `[keys]`.
    pub keymap: keymap::Keymap,
    /// The colours of the config's `[theme]`.
    pub palette: palette::Palette,
    /// `--no-color`: no colours at all (as with `NO_COLOR`).
    pub no_color: bool,
}

impl Setup {
    /// The explorer on `base_url` with no options, its clients as
    /// `explore` builds them (the tail client does not retry by itself:
    /// the explorer reconnects with its own visible backoff). Tests and
    /// benches start from this and change what they need
    /// (`Setup { limits, ..Setup::plain(...) }`).
    pub fn plain(
        base_url: &str,
        open: Option<&str>,
        clipboard: Box<dyn Clipboard>,
        bookmarks_path: Option<PathBuf>,
    ) -> anyhow::Result<Setup> {
        let client = Client::builder().base_url(base_url).build()?;
        let tail_client = Client::builder()
            .base_url(base_url)
            .retry(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            })
            .build()?;
        Ok(Setup {
            base_url: base_url.to_owned(),
            open: open.map(str::to_owned),
            client,
            tail_client,
            clipboard,
            bookmarks_path,
            limits: Limits::default(),
            batch_headers: true,
            notices: Vec::new(),
            start: Start::default(),
            inspector: crate::config::InspectorConfig::default(),
            keymap: keymap::Keymap::default(),
            palette: palette::Palette::default(),
            no_color: false,
        })
    }
}

/// Runs the explorer on any backend and input stream until quit; returns
/// the final state.
pub async fn run_explorer<B, I>(
    terminal: &mut Terminal<B>,
    input: I,
    setup: Setup,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<State>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    let mut state = State::new(&setup.base_url, Instant::now());
    state.wall = executor::wall();
    state.tail = Tail::new(state.tail.kind, setup.limits);
    state.tail_view.headers = setup.batch_headers;
    state.keymap = setup.keymap;
    state.palette = setup.palette;
    // https://no-color.org: set and not empty; or --no-color.
    if setup.no_color
        || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    {
        state.colours = state::Colours::Off;
    }
    if let Ok(size) = terminal.size() {
        state.size = (size.width, size.height);
    }
    // Problems found at start are shown once the start-up has run (opening
    // the stream given clears what the status bar said before).
    let mut problems = setup.notices;
    let mut bookmarks_path = setup.bookmarks_path;
    if let Some(path) = &bookmarks_path {
        match Bookmarks::load(path) {
            Ok(b) => state.bookmarks = b,
            Err(e) => {
                // Keep the file as it is: saving would overwrite it.
                state.bookmarks_broken = true;
                bookmarks_path = None;
                problems
                    .push(format!("bookmarks not loaded (saving is off): {e}"));
            }
        }
    }
    state.start_default = setup.start.default;
    state.inspector = state::inspector::Inspector::new(
        setup.inspector.max_requests,
        setup.inspector.secret_headers,
    );
    // `--from` names where the stream given starts; without one, `now`
    // and `-1` apply to every stream opened this session.
    let first = match (&setup.open, setup.start.first) {
        (_, None) => None,
        (Some(path), Some(at)) => {
            Some(at.mark(&state.bookmarks, &state.url_of(path))?)
        }
        (None, Some(StartAt::Now)) => {
            state.start_default = TailStart::Now;
            None
        }
        (None, Some(StartAt::Beginning)) => {
            state.start_default = TailStart::Beginning;
            None
        }
        (None, Some(_)) => {
            return Err(crate::errors::usage(
                "--from with an offset or @bookmark needs a stream URL \
                 (http://host/v1/stream/PATH)",
            ));
        }
    };
    let initial = update::init(&mut state, setup.open.as_deref(), first);
    for problem in problems {
        state.notify(Level::Error, problem);
    }
    let (tx, rx) = mpsc::channel(1024);
    let executor = executor::Executor::new(
        setup.client,
        setup.tail_client,
        tx,
        setup.clipboard,
        bookmarks_path,
    );
    app::run(terminal, input, state, executor, rx, initial, stop).await
}

/// The keymap of `config`'s `[keys]`; what it could not apply goes into
/// `notices` as one line (`dsx config check` lists every problem).
pub fn keymap_of(config: &Config, notices: &mut Vec<String>) -> keymap::Keymap {
    let mut keymap = keymap::Keymap::default();
    let problems = keymap.apply(&config.keys);
    if let Some(first) = problems.first() {
        let path = Config::default_path().unwrap_or_default();
        let more = match problems.len() {
            1 => String::new(),
            n => format!(" (and {} more: dsx config check lists them)", n - 1),
        };
        notices.push(format!(
            "{}{more}; those keys keep their defaults",
            crate::config::describe(&path, std::slice::from_ref(first))
        ));
    }
    keymap
}

/// Runs the explorer on the real terminal until the user quits.
pub async fn explore(options: ExploreOptions) -> anyhow::Result<()> {
    let (target, params) = split_query(&options.url);
    let (base_url, open) = split_target(&target)?;
    let mut notices = options.notices.clone();
    let config = match options.config.clone() {
        Some(config) => config,
        None => config_or_default(&mut notices),
    };
    let keymap = keymap_of(&config, &mut notices);
    let global = options.global.with_config(&config);
    // A query on the URL given (`?token=...`) goes with every request, not
    // into the stream's name, its title or its bookmarks.
    let builder = || -> anyhow::Result<_> {
        let mut b = global.client_builder(&base_url)?;
        for (key, value) in &params {
            let value = value.clone();
            b = b.dynamic_param(key.clone(), move || {
                std::future::ready(Ok(value.clone()))
            });
        }
        Ok(b)
    };
    let client = builder()?.build()?;
    let tail_client = builder()?
        .retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .build()?;
    let setup = Setup {
        base_url,
        open,
        client,
        tail_client,
        clipboard: Box::new(SystemClipboard::new()),
        bookmarks_path: Bookmarks::default_path(),
        limits: Limits {
            max_messages: config.tail.max_messages,
            max_bytes: config.tail.max_bytes,
        },
        batch_headers: config.tail.batch_headers,
        notices,
        start: Start {
            first: options.from.clone(),
            default: config.tail.start,
        },
        inspector: config.inspector.clone(),
        keymap,
        palette: palette::Palette::from_config(&config.theme),
        no_color: options.no_color,
    };
    let (guard, mut terminal) = terminal::TerminalGuard::enter()
        .map_err(|e| anyhow::anyhow!("the explorer needs a terminal: {e}"))?;
    let input = crossterm::event::EventStream::new();
    let result = run_explorer(
        &mut terminal,
        input,
        setup,
        terminal::termination_signal(),
    )
    .await;
    drop(terminal);
    drop(guard);
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::{StartAt, split_target};

    #[test]
    fn from_values() {
        let p = |t: &str| StartAt::parse(t);
        assert_eq!(p("now"), Ok(StartAt::Now));
        assert_eq!(p("-1"), Ok(StartAt::Beginning));
        assert_eq!(p("@incident"), Ok(StartAt::Bookmark("incident".into())));
        assert_eq!(
            p("0000000000000000_0000000000000016"),
            Ok(StartAt::Offset("0000000000000000_0000000000000016".into()))
        );
        assert!(p("").is_err());
        assert!(p("@").is_err());
    }

    #[test]
    fn a_url_names_a_server_or_one_of_its_streams() {
        let s = |u: &str| split_target(u).unwrap();
        assert_eq!(
            s("http://127.0.0.1:4437/v1/stream"),
            ("http://127.0.0.1:4437/v1/stream".into(), None)
        );
        assert_eq!(
            s("http://h:1/v1/stream/demo/orders/"),
            ("http://h:1/v1/stream".into(), Some("demo/orders".into()))
        );
        assert_eq!(s("http://h:1"), ("http://h:1/v1/stream".into(), None));
        assert_eq!(s("https://h/api/ds"), ("https://h/api/ds".into(), None));
        assert!(split_target("ftp://h/x").is_err());
        let (url, params) =
            super::split_query("http://u:p@h:1/v1/stream/a/b?token=t%20x&k");
        assert_eq!(url, "http://u:p@h:1/v1/stream/a/b");
        assert_eq!(
            params,
            [("token".into(), "t x".into()), ("k".into(), String::new())]
        );
        assert_eq!(super::split_query("http://h/s").0, "http://h/s");
        // A URL copied from a read: its protocol parameters are not sent
        // twice with every request.
        let (url, params) =
            super::split_query("http://h/v1/stream/s?offset=-1&live=sse&k=v");
        assert_eq!(url, "http://h/v1/stream/s");
        assert_eq!(params, [("k".into(), "v".into())]);
        assert!(split_target("not a url").is_err());
    }
}
