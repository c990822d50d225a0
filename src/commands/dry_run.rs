use crate::cli::{Context, DryRunArgs, Outcome};

pub fn run(_ctx: &Context, _args: &DryRunArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("dry-run"))
}
