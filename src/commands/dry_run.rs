//! `schemagate dry-run`: apply what is pending to a scratch copy of the database (or to an
//! empty database) and report each step. It keeps going past a failed step unless
//! `--fail-fast`.

use crate::cli::progress::Stepping;
use crate::cli::{Context, DryRunArgs, Outcome, Target};
use crate::config::TimeoutFlags;
use crate::dryrun::{self, Options, Source};
use crate::history::DatabaseHistory;
use crate::layout::Layout;
use crate::migration::Migration;
use crate::plan::Plan;
use crate::report::Report;

pub fn run(ctx: &Context, args: &DryRunArgs) -> anyhow::Result<Outcome> {
    let d = ctx.read_migrations()?;
    let target = ctx.database()?;
    let (history, source) = source_of(target, d.layout)?;
    let rows = history.rows;
    if let Some(t) = target {
        super::log_new_database(ctx, t, "dry-running every migration on an empty database");
    }
    let plan = Plan::new(&d, &rows);
    let pending: Vec<&Migration> = plan.pending().collect();
    super::require_python(ctx, pending.iter().copied())?;
    let opts = options(ctx, args.keep_scratch, false, args.fail_fast);
    let exec = crate::analysis::executor(&opts);
    let exec = Stepping::new(ctx, &exec, pending.len(), "dry run");
    let out = dryrun::run(source, &pending, &opts, &exec)?;
    if let Some(kept) = &out.kept {
        ctx.log(format!("scratch database kept at {}", kept.display()));
    }
    let mut report = Report::new("dry-run", &ctx.dir_display);
    report.set_layout(&d);
    report.database = target.map(super::database_info);
    report.set_migrations(&plan);
    // One report per statement and the layout's severity, as `check` gives them.
    let mut findings = crate::lint::rules::not_idempotent::settle(
        out.findings,
        &d,
        None,
        super::lint::layout(ctx, &d),
    );
    // What the dry run could not apply is part of what it says.
    crate::lint::rules::unsupported_migration::check(&d, &mut findings);
    // A database its tool marks as stopped half-way: the deploy would not even start.
    if let Some(t) = target {
        findings.extend(crate::lint::rules::dirty_database::check(
            &history.dirty,
            &t.display,
        ));
    }
    report.findings = crate::lint::apply_severities(findings, &ctx.config.rules);
    report.dry_run = Some(out.dry_run);
    report.finish(ctx.fail_on);
    crate::commands::lint::emit(ctx, &report, &d)?;
    Ok(Outcome::from_ok(report.summary.ok))
}

/// Dry-run settings from the config file and flags.
pub(crate) fn options(ctx: &Context, keep_scratch: bool, replay: bool, fail_fast: bool) -> Options {
    let timeouts = ctx.timeouts(TimeoutFlags::default());
    let env = match ctx.env_names.as_slice() {
        [one] => crate::pyrunner::env_for(one),
        _ => Vec::new(),
    };
    Options {
        migrations_dir: ctx.migrations_dir.clone(),
        python: ctx.python.clone(),
        env,
        busy_timeout: timeouts.busy,
        migration_timeout: timeouts.migration,
        slow_ms: ctx
            .config
            .lint
            .slow_migration_ms
            .unwrap_or(crate::config::defaults::SLOW_MIGRATION_MS),
        idempotency: true,
        keep_scratch,
        replay,
        fail_fast,
    }
}

/// The history of the database to dry-run on (none without one; in `layout`'s table: what
/// that tool would apply is what the dry run applies) and where its scratch copy comes
/// from. A missing database is [`super::REPLAYING`]'s call.
pub(crate) fn source_of(
    target: Option<&Target>,
    layout: Layout,
) -> anyhow::Result<(DatabaseHistory, Source<'_>)> {
    let Some(t) = target else {
        return Ok((DatabaseHistory::default(), Source::Empty));
    };
    let history = super::read_history(t, layout, super::REPLAYING)?;
    let source = if history.exists {
        Source::Copy(&t.path)
    } else {
        Source::Empty
    };
    Ok((history, source))
}
