use crate::cli::{Context, Outcome, RestoreArgs};

pub fn run(_ctx: &Context, _args: &RestoreArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("restore"))
}
