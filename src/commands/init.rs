use crate::cli::{GlobalArgs, InitArgs, Outcome};

pub fn run(_args: &InitArgs, _global: &GlobalArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("init"))
}
