//! `dsx demo`.

use super::DemoArgs;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    todo!("{args:?}")
}
