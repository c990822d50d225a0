//! `mark-applied`, `forget`, `rekey`: arguments in, [`crate::ops::repair`] does the work,
//! its result printed as text or JSON.

use crate::cli::{Context, ForgetArgs, Format, MarkAppliedArgs, Outcome, RekeyArgs, ResolveArgs};
use crate::config::{TimeoutFlags, Timeouts};
use crate::ops::repair::{self, Change, Reason, Repaired, Resolution};

/// The timeouts of a repair (it has only `--lock-timeout`).
pub(crate) fn timeouts(ctx: &Context, lock_timeout: Option<u64>) -> Timeouts {
    ctx.timeouts(TimeoutFlags {
        lock: lock_timeout,
        ..TimeoutFlags::default()
    })
}

pub fn mark_applied(ctx: &Context, args: &MarkAppliedArgs) -> anyhow::Result<Outcome> {
    crate::history::refuse_foreign_writes(ctx.read_migrations()?.layout, "mark-applied")?;
    let reason = Reason::required(&args.reason, "mark-applied")?;
    let discovery = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    let done = repair::mark_applied(
        target.database(),
        &timeouts(ctx, args.lock.lock_timeout),
        &discovery,
        &ctx.dir_display,
        &args.version,
        &reason,
    )?;
    report(ctx, &done)
}

pub fn forget(ctx: &Context, args: &ForgetArgs) -> anyhow::Result<Outcome> {
    crate::history::refuse_foreign_writes(ctx.read_migrations()?.layout, "forget")?;
    let reason = Reason::required(&args.reason, "forget")?;
    let target = ctx.require_database()?;
    let done = repair::forget(
        target.database(),
        &timeouts(ctx, args.lock.lock_timeout),
        &args.version,
        &reason,
    )?;
    report(ctx, &done)
}

pub fn resolve(ctx: &Context, args: &ResolveArgs) -> anyhow::Result<Outcome> {
    let reason = Reason::required(&args.reason, "resolve")?;
    let discovery = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    let resolution = if args.applied {
        Resolution::Applied
    } else {
        Resolution::RolledBack
    };
    let done = repair::resolve(
        target.database(),
        &timeouts(ctx, args.lock.lock_timeout),
        &discovery,
        &ctx.dir_display,
        &args.version,
        resolution,
        &reason,
    )?;
    report(ctx, &done)
}

pub fn rekey(ctx: &Context, args: &RekeyArgs) -> anyhow::Result<Outcome> {
    crate::history::refuse_foreign_writes(ctx.read_migrations()?.layout, "rekey")?;
    let discovery = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    let done = repair::rekey(
        target.database(),
        &timeouts(ctx, args.lock.lock_timeout),
        &discovery,
        &ctx.dir_display,
        &args.old,
        &args.new,
        args.reason.as_deref(),
    )?;
    report(ctx, &done)
}

/// Prints what a repair did, as text or JSON.
fn report(ctx: &Context, done: &Repaired) -> anyhow::Result<Outcome> {
    match ctx.format {
        Format::Json => ctx.emit(&format!("{}\n", serde_json::to_string_pretty(done)?))?,
        _ => ctx.emit(&format!("{}\n", text(done)))?,
    }
    Ok(Outcome::Clean)
}

fn text(done: &Repaired) -> String {
    let db = &done.database;
    let marker = |cleared: &bool| {
        if *cleared {
            " and cleared the marker its unfinished no-transaction run left"
        } else {
            ""
        }
    };
    match &done.change {
        Change::MarkedApplied {
            file,
            checksum,
            cleared_marker,
        } => format!(
            "marked {file} as applied in {db} without running it (checksum {checksum}){}; recorded in the audit table",
            marker(cleared_marker)
        ),
        Change::Forgotten {
            version,
            cleared_marker,
        } => format!(
            "forgot version {version} in {db} (its history row was removed{}; the migration will be pending again); recorded in the audit table",
            marker(cleared_marker)
        ),
        Change::Resolved {
            version,
            resolution: Resolution::Applied,
            file,
        } => format!(
            "resolved version {version} in {db} as applied: its marker is cleared{}; recorded in the audit table",
            file.as_deref()
                .map(|f| format!(" and {f} is recorded with its checksum"))
                .unwrap_or_default()
        ),
        Change::Resolved {
            version,
            resolution: Resolution::RolledBack,
            ..
        } => format!(
            "resolved version {version} in {db} as rolled back: its marker is cleared and it is pending again (the next `schemagate migrate` runs it); recorded in the audit table"
        ),
        Change::Rekeyed { from, to, file } => format!(
            "moved the history row of version {from} to {to} ({file} has the recorded content); recorded in the audit table"
        ),
    }
}
