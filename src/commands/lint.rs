use crate::cli::{Context, LintArgs, Outcome};

pub fn run(_ctx: &Context, _args: &LintArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("lint"))
}
