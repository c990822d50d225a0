use crate::cli::{Context, Outcome, RekeyArgs, RepairArgs};

pub fn mark_applied(_ctx: &Context, _args: &RepairArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("mark-applied"))
}

pub fn forget(_ctx: &Context, _args: &RepairArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("forget"))
}

pub fn rekey(_ctx: &Context, _args: &RekeyArgs) -> anyhow::Result<Outcome> {
    Err(super::not_yet("rekey"))
}
