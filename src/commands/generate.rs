use crate::cli::{Context, GenerateArgs, Outcome};

pub fn run(_ctx: &Context, _args: &GenerateArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("generate"))
}
