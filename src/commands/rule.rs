use crate::cli::{GlobalArgs, Outcome, RuleArgs};

pub fn run(_args: &RuleArgs, _global: &GlobalArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("rule"))
}
