//! The explorer: a terminal UI over the client (see DESIGN.md, "How a change
//! travels"): input and client reports become `Message`s, `update` turns
//! them into state changes and `Effect`s, `view` draws the state.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod effect;
pub mod format;
pub mod keymap;
pub mod message;
pub mod runner;
pub mod sanitize;
pub mod state;
pub mod terminal;
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
use crate::cli::GlobalArgs;
use crate::client::{Client, RetryPolicy};
use crate::config::Config;
use clipboard::{Clipboard, SystemClipboard};
use effect::Effect;
use state::tail::{Limits, Tail};
use state::{Level, State};

/// What to open: a base URL (stream list) or one stream's URL.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    /// Base URL or stream URL, as the user gave it.
    pub url: String,
    pub global: GlobalArgs,
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
    state.wall = runner::wall();
    state.tail = Tail::new(state.tail.kind, setup.limits);
    state.tail_view.headers = setup.batch_headers;
    // https://no-color.org: set and not empty.
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        state.colours = state::Colours::Off;
    }
    if let Ok(size) = terminal.size() {
        state.size = (size.width, size.height);
    }
    let mut bookmarks_path = setup.bookmarks_path;
    if let Some(path) = &bookmarks_path {
        match Bookmarks::load(path) {
            Ok(b) => state.bookmarks = b,
            Err(e) => {
                // Keep the file as it is: saving would overwrite it.
                state.bookmarks_broken = true;
                bookmarks_path = None;
                state.notify(
                    Level::Error,
                    format!("bookmarks not loaded (saving is off): {e}"),
                );
            }
        }
    }
    for notice in setup.notices {
        state.notify(Level::Error, notice);
    }
    // Recent and bookmarked streams of this server are in the list from
    // the start.
    let recent: Vec<String> = state
        .bookmarks
        .recent()
        .into_iter()
        .map(str::to_owned)
        .collect();
    for url in recent {
        if let Some(path) = state.path_of(&url) {
            state.streams.upsert(&path).sources.recent = true;
        }
    }
    let marked: Vec<String> =
        state.bookmarks.streams().map(str::to_owned).collect();
    for url in marked {
        if let Some(path) = state.path_of(&url) {
            state.streams.upsert(&path).sources.bookmarked = true;
        }
    }
    let mut initial: Vec<Effect> = state
        .streams
        .entries
        .iter()
        .map(|e| Effect::Head {
            url: state.url_of(&e.path),
        })
        .collect();
    if let Some(path) = &setup.open {
        state.streams.upsert(path).sources.command_line = true;
        update::open_stream(&mut state, path, &mut initial);
        state.focus = state::Pane::Tail;
    }
    let (tx, rx) = mpsc::channel(1024);
    let runner = runner::Runner::new(
        setup.client,
        setup.tail_client,
        tx,
        setup.clipboard,
        bookmarks_path,
    );
    runner.watch_registry(&setup.base_url);
    app::run(terminal, input, state, runner, rx, initial, stop).await
}

/// Runs the explorer on the real terminal until the user quits.
pub async fn explore(options: ExploreOptions) -> anyhow::Result<()> {
    let (base_url, open) = split_target(&options.url)?;
    let mut notices = Vec::new();
    let config = Config::load_default().unwrap_or_else(|e| {
        notices.push(format!("config not loaded, using defaults: {e}"));
        Config::default()
    });
    let mut global = options.global.clone();
    // Config headers first, so command-line ones come later and win.
    let mut headers = config.headers.clone();
    headers.append(&mut global.headers);
    global.headers = headers;
    let client = global.client_builder(&base_url)?.build()?;
    let tail_client = global
        .client_builder(&base_url)?
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
    use super::split_target;

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
        assert!(split_target("not a url").is_err());
    }
}
