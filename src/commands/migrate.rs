use crate::cli::{Context, MigrateArgs, Outcome};

pub fn run(_ctx: &Context, _args: &MigrateArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("migrate"))
}
