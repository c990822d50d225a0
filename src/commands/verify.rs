use crate::cli::{Context, Outcome};

pub fn run(_ctx: &Context) -> anyhow::Result<Outcome> {
    Err(super::not_yet("verify"))
}
