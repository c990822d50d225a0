//! `schemagate dry-run`: apply what is pending to a scratch copy of the database (or to an
//! empty database) and report each step.

use crate::cli::progress::Stepping;
use crate::cli::{Context, DryRunArgs, Outcome, Target};
use crate::config::TimeoutFlags;
use crate::dryrun::{self, ApplyExecutor, Options, Source};
use crate::migration::Migration;
use crate::plan::{HistoryRow, Plan};
use crate::report::Report;

pub fn run(ctx: &Context, args: &DryRunArgs) -> anyhow::Result<Outcome> {
    let d = ctx.read_migrations()?;
    let target = ctx.database()?;
    let (rows, source) = source_of(target)?;
    let plan = Plan::new(&d, &rows);
    let pending: Vec<&Migration> = plan.pending().collect();
    let opts = options(ctx, args.keep_scratch, false);
    let exec = executor(&opts);
    let exec = Stepping::new(ctx, &exec, pending.len(), "dry run");
    let out = dryrun::run(source, &pending, &opts, &exec)?;
    if let Some(kept) = &out.kept {
        ctx.log(format!("scratch database kept at {}", kept.display()));
    }
    let mut report = Report::new("dry-run", &ctx.dir_display);
    report.database = target.map(super::database_info);
    report.set_migrations(&plan);
    report.findings = crate::lint::apply_severities(out.findings, &ctx.config.rules);
    report.dry_run = Some(out.dry_run);
    report.finish(ctx.fail_on);
    crate::commands::lint::emit(ctx, &report, &d)?;
    Ok(Outcome::from_ok(report.summary.ok))
}

/// Dry-run settings from the config file and flags.
pub(crate) fn options(ctx: &Context, keep_scratch: bool, replay: bool) -> Options {
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
    }
}

pub(crate) fn executor(opts: &Options) -> ApplyExecutor {
    ApplyExecutor {
        python: opts.python.clone(),
        env: opts.env.clone(),
        busy_timeout: opts.busy_timeout,
        migration_timeout: opts.migration_timeout,
    }
}

/// The history of the database to dry-run on (none without one) and where its scratch copy
/// comes from. A missing database is [`super::REPLAYING`]'s call.
pub(crate) fn source_of(target: Option<&Target>) -> anyhow::Result<(Vec<HistoryRow>, Source<'_>)> {
    let Some(t) = target else {
        return Ok((Vec::new(), Source::Empty));
    };
    let history = super::read_history(t, super::REPLAYING)?;
    let source = if history.exists {
        Source::Copy(&t.path)
    } else {
        Source::Empty
    };
    Ok((history.rows, source))
}
