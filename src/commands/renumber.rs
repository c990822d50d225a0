use crate::cli::{Context, Outcome, RenumberArgs};

pub fn run(_ctx: &Context, _args: &RenumberArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("renumber"))
}
