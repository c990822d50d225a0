//! `schemagate migrate`: the deploy step (see `crate::apply::migrate`).

use std::fmt::Write as _;

use crate::apply::{self, BackupPolicy, Event, MigrateOptions, MigrateResult, MigrateStatus};
use crate::cli::progress::Progress;
use crate::cli::{Allow, Context, Format, MigrateArgs, Outcome};
use crate::config::TimeoutFlags;
use crate::lint::rules::migration_failed;
use crate::migration::Discovery;
use crate::report::Finding;

pub fn run(ctx: &Context, args: &MigrateArgs) -> anyhow::Result<Outcome> {
    let target = ctx.require_database()?;
    let json = ctx.format == Format::Json;
    let opts = MigrateOptions {
        create: true,
        timeouts: ctx.timeouts(TimeoutFlags {
            lock: args.lock.lock_timeout,
            busy: args.busy_timeout,
            migration: args.migration_timeout,
        }),
        backup: if args.no_backup {
            BackupPolicy::Skip
        } else {
            BackupPolicy::Into {
                dir: target.backup_dir.clone(),
                keep: target.keep_backups,
            }
        },
        overrides: apply::Overrides {
            drift: args.allow.contains(&Allow::Drift),
            duplicates: args.allow.contains(&Allow::Duplicates),
            renamed_applied: args.allow.contains(&Allow::RenamedApplied),
        },
        python: ctx.python.clone(),
        env: target
            .env
            .as_deref()
            .map(crate::pyrunner::env_for)
            .unwrap_or_default(),
        rules: ctx.config.rules.clone(),
        accepted: ctx.config.accept_checksum.clone(),
    };
    // A spinner while the backup is written, a bar while migrations are applied (on a
    // terminal only; see cli::progress). Log lines go above it.
    let mut progress = Progress::none();
    let mut on_event = |ev: Event<'_>| match ev {
        Event::Created(p) => ctx.log(format!(
            "database {} does not exist: created a new, empty database",
            p.display()
        )),
        Event::Waiting(holder) => ctx.log(format!(
            "waiting for another migration to finish ({holder})"
        )),
        Event::BackingUp(dir) => {
            progress = Progress::spinner(ctx, format!("backing up into {}", dir.display()));
        }
        Event::BackedUp(p) => {
            progress.finish();
            ctx.log(format!("backup: {}", p.display()));
        }
        Event::Pruned(p) => ctx.debug(format!("removed old backup {}", p.display())),
        Event::Pending(n) => progress = Progress::steps(ctx, n, "migrating"),
        Event::Applying(m) => {
            progress.set_message(m.path.clone());
            progress.suspend(|| ctx.debug(format!("applying {}", m.path)));
        }
        Event::Applied(m, step) => progress.suspend(|| {
            progress.inc();
            ctx.log(format!(
                "applied {} ({:.1} ms{})",
                m.path,
                step.duration.as_secs_f64() * 1000.0,
                if step.statements > 0 {
                    format!(", {} statements", step.statements)
                } else {
                    String::new()
                }
            ));
            for w in &step.warnings {
                ctx.log(format!("  warning: {w}"));
            }
            if !step.output.trim().is_empty() {
                ctx.debug(step.output.trim_end());
            }
        }),
        Event::Skipped(m, why) => {
            progress.inc();
            progress.suspend(|| ctx.log(format!("skipped {}: {why}", m.path)));
        }
    };
    apply::stop_on_signals();
    // An unchanged folder comes from the cache; otherwise it is read while the database is
    // opened (see apply::migrate_reading).
    let first = match ctx.migrations_for_deploy() {
        Ok(first) => first,
        Err(e) => return fail(ctx, json, e),
    };
    let read_again = || {
        ctx.debug("migrations folder: read in full (a cached folder only ever concludes that there is nothing to do or report)");
        ctx.read_migrations()
    };
    let (mut result, discovery) = match apply::migrate_reading(
        &target.path,
        &ctx.migrations_dir,
        first,
        read_again,
        &opts,
        &mut on_event,
    ) {
        Ok(r) => r,
        Err(e) => return fail(ctx, json, e),
    };
    for f in &mut result.findings {
        if let Some(help) = &f.help {
            f.help = Some(ctx.selection.complete(help));
        }
    }
    progress.finish();
    if json {
        ctx.emit(&format!("{}\n", serde_json::to_string_pretty(&result)?))?;
    } else {
        ctx.emit(&render_text(
            ctx,
            &target.display,
            discovery.as_ref(),
            &result,
        ))?;
    }
    if matches!(
        result.failure,
        Some(apply::StepErrorKind::Environment | apply::StepErrorKind::Interrupted)
    ) {
        // The environment stopped the run (exit 2); the result above already says where.
        anyhow::bail!(
            "{}",
            result
                .error
                .as_ref()
                .map(|e| e.message.as_str())
                .unwrap_or("the migration run was stopped")
        );
    }
    Ok(Outcome::from_ok(result.status != MigrateStatus::Error))
}

/// An environment error (exit 2); with `--format json` the result is printed as well, so a
/// deploy script reading stdout always gets a result.
fn fail(ctx: &Context, json: bool, e: anyhow::Error) -> anyhow::Result<Outcome> {
    if json {
        let r = MigrateResult::failed(format!("{e:#}"));
        ctx.emit(&format!("{}\n", serde_json::to_string_pretty(&r)?))?;
    }
    Err(e)
}

/// `d`: the folder, when it was read (not when the memo of the last "current" answered).
fn render_text(ctx: &Context, db: &str, d: Option<&Discovery>, r: &MigrateResult) -> String {
    let style = ctx.text_style();
    let sources = |p: &str| {
        d?.migrations
            .iter()
            .find(|m| m.path == p)
            .map(|m| m.text.as_str())
    };
    let mut out = String::new();
    if r.created {
        let _ = writeln!(out, "{db} did not exist: created a new database");
    }
    for f in &r.findings {
        crate::report::text::render_finding(&mut out, f, &sources, &style);
        out.push('\n');
    }
    match r.status {
        MigrateStatus::Current => {
            let _ = writeln!(out, "{db}: current, nothing to apply");
        }
        MigrateStatus::Migrated => {
            let _ = writeln!(
                out,
                "{db}: migrated, applied {} migration{} ({}){}",
                r.count,
                if r.count == 1 { "" } else { "s" },
                version_list(&r.applied),
                r.backup
                    .as_deref()
                    .map(|b| format!("; backup {b}"))
                    .unwrap_or_default()
            );
        }
        MigrateStatus::Error => {
            if let Some(e) = &r.error {
                if e.path.is_some() {
                    let mut f = Finding::of(&migration_failed::RULE, e.message.clone());
                    f.path = e.path.clone();
                    f.line = e.line;
                    f.column = e.column;
                    f.help = Some(ctx.selection.complete(&failure_help(
                        r.failure,
                        e.path.as_deref(),
                        d,
                    )));
                    crate::report::text::render_finding(&mut out, &f, &sources, &style);
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "error: {}", e.message);
                }
            }
            let _ = writeln!(
                out,
                "{db}: migration stopped; applied {} before it ({}){}",
                r.count,
                if r.applied.is_empty() {
                    "none".to_string()
                } else {
                    version_list(&r.applied)
                },
                r.backup
                    .as_deref()
                    .map(|b| format!("; backup {b}"))
                    .unwrap_or_default()
            );
        }
    }
    out
}

/// What a failure left behind and what to do, by its kind: only a transactional failure
/// was "rolled back".
fn failure_help(
    kind: Option<apply::StepErrorKind>,
    path: Option<&str>,
    d: Option<&Discovery>,
) -> String {
    use apply::StepErrorKind as K;
    let version = path
        .zip(d)
        .and_then(|(p, d)| d.migrations.iter().find(|m| m.path == p))
        .map_or_else(|| "VERSION".to_string(), |m| m.version.to_string());
    match kind {
        // The busy timeout or a failed write: nothing in the file to fix.
        Some(K::Environment) => "the failed migration was rolled back; fix the cause above and run `schemagate migrate` again".into(),
        Some(K::Dirty) => format!(
            "this migration ran without a transaction: the statements before the failing one stay applied, and a marker stops `migrate` until you resolve it; check the database, finish or undo those statements, then run `schemagate resolve {version} --applied --reason \"finished by hand\"` or `schemagate resolve {version} --rolled-back --reason \"undone by hand\"`"
        ),
        // The Python runner died while committing.
        Some(K::Unknown) => "whether this migration was committed is unknown: check its row in the history (`schemagate status`) before running `schemagate migrate` again".into(),
        Some(K::Refused) => "nothing of this migration ran; fix it and run `schemagate migrate` again".into(),
        Some(K::Interrupted) => "the run was stopped by a signal at a migration boundary; run `schemagate migrate` again".into(),
        Some(K::Failed) | None => "the failed migration was rolled back; fix it and run `schemagate migrate` again".into(),
    }
}

/// Versions for a one-line summary: all of them when few, else the first and last few
/// (the JSON result always lists every version).
fn version_list(versions: &[String]) -> String {
    const HEAD: usize = 5;
    const TAIL: usize = 2;
    if versions.len() <= HEAD + TAIL + 1 {
        return versions.join(", ");
    }
    format!(
        "{}, ... {} more ..., {}",
        versions[..HEAD].join(", "),
        versions.len() - HEAD - TAIL,
        versions[versions.len() - TAIL..].join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::version_list;

    #[test]
    fn long_version_lists_are_shortened() {
        let v: Vec<String> = (1..=3).map(|i| format!("{i:03}")).collect();
        assert_eq!(version_list(&v), "001, 002, 003");
        let v: Vec<String> = (1..=1000).map(|i| format!("{i:04}")).collect();
        assert_eq!(
            version_list(&v),
            "0001, 0002, 0003, 0004, 0005, ... 993 more ..., 0999, 1000"
        );
    }
}
