use crate::cli::{Context, Outcome, StatusArgs};

pub fn run(_ctx: &Context, _args: &StatusArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("status"))
}
