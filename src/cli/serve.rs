//! `dsx serve`.

use super::ServeArgs;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    todo!("{args:?}")
}
