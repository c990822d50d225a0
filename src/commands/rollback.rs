use crate::cli::{Context, Outcome, RollbackArgs};

pub fn run(_ctx: &Context, _args: &RollbackArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("rollback"))
}
