use crate::cli::{CheckArgs, Context, Outcome};

pub fn run(_ctx: &Context, _args: &CheckArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("check"))
}
