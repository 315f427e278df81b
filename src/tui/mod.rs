//! The explorer: a terminal UI over the client (see DESIGN.md, "How a change
//! travels").

pub mod clipboard;
pub mod terminal;

use crate::cli::GlobalArgs;

/// What to open: a base URL (stream list) or one stream's URL.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    /// Base URL or stream URL, as the user gave it.
    pub url: String,
    pub global: GlobalArgs,
}

/// Runs the explorer on the real terminal until the user quits.
#[allow(clippy::unused_async, reason = "stub until the explorer lands")]
pub async fn explore(options: ExploreOptions) -> anyhow::Result<()> {
    let _ = options;
    anyhow::bail!("the explorer is being built")
}
