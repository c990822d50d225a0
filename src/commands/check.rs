//! `schemagate check`: the CI entry point. Lint, the base-branch comparison (when a base
//! is known), a replay of the whole chain on an empty database and, with `--db`, a dry run
//! on a copy of that database: one report, one exit code.
//!
//! Lint errors do not stop the replay: with duplicate versions it replays in version
//! order, then file name, as the legacy manager did, so one report shows everything.

use crate::cli::progress::Stepping;
use crate::cli::{CheckArgs, Context, Outcome};
use crate::dryrun::{self, Source};
use crate::migration::Migration;
use crate::plan::Plan;
use crate::report::{Finding, Report};

pub fn run(ctx: &Context, args: &CheckArgs) -> anyhow::Result<Outcome> {
    let d = ctx.read_migrations()?;
    let target = ctx.database()?;
    let (mut findings, inputs) = super::lint::collect_raw(ctx, &d)?;

    // Only first: an unknown base is an environment error (exit 2) and should not wait
    // for the replay.
    if let Some(base) = args.base.clone().or_else(crate::git::default_base_ref) {
        ctx.debug(format!("comparing with {base}"));
        findings.extend(crate::git::compare_with_base(
            &ctx.migrations_dir,
            &ctx.dir_display,
            &d,
            &base,
        )?);
    }

    let (rows, source) = super::dry_run::source_of(target)?;
    let plan = Plan::new(&d, &rows);

    let all: Vec<&Migration> = d.migrations.iter().collect();
    let opts = super::dry_run::options(ctx, args.keep_scratch, true);
    let exec = super::dry_run::executor(&opts);
    let replay = dryrun::run(
        Source::Empty,
        &all,
        &opts,
        &Stepping::new(ctx, &exec, all.len(), "replay"),
    )?;
    if let Some(kept) = &replay.kept {
        ctx.log(format!("replay database kept at {}", kept.display()));
    }

    let mut report = Report::new("check", &ctx.dir_display);
    report.database = target.map(super::database_info);
    report.set_migrations(&plan);
    match target {
        Some(t) => {
            // What `lint --db` reports: drift (with [[accept-checksum]]), renamed-applied, ...
            findings.extend(crate::lint::history_findings(
                &plan,
                &t.display,
                &ctx.config.accept_checksum,
            ));
            let pending: Vec<&Migration> = plan.pending().collect();
            let opts = super::dry_run::options(ctx, args.keep_scratch, false);
            let run = dryrun::run(
                source,
                &pending,
                &opts,
                &Stepping::new(ctx, &exec, pending.len(), "dry run"),
            )?;
            if let Some(kept) = &run.kept {
                ctx.log(format!(
                    "scratch copy of {} kept at {}",
                    t.display,
                    kept.display()
                ));
            }
            // The dry run on the real data speaks first; the replay adds what only a
            // fresh database shows.
            findings.extend(run.findings);
            findings.extend(replay.findings);
            report.dry_run = Some(run.dry_run);
        }
        None => {
            findings.extend(replay.findings);
            report.dry_run = Some(replay.dry_run);
        }
    }
    report.findings = crate::lint::finish(dedup(findings), &d, &inputs, &ctx.config.rules);
    report.finish(ctx.fail_on);
    if ctx.format == crate::cli::Format::Text && ctx.verbose == 0 {
        // A replay from empty changes the schema at every step: the text report leaves
        // the schema diffs out (-v shows them; the JSON report always has them).
        let mut brief = report.clone();
        if let Some(dry) = &mut brief.dry_run {
            for s in &mut dry.steps {
                s.schema_diff.clear();
            }
        }
        super::lint::emit(ctx, &brief, &d)?;
    } else {
        super::lint::emit(ctx, &report, &d)?;
    }
    publish(ctx, args, &report)?;
    Ok(Outcome::from_ok(report.summary.ok))
}

/// One finding per rule and place: the replay and the dry run, or the base comparison and
/// the folder rules, may find the same thing.
fn dedup(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    findings
        .into_iter()
        .filter(|f| seen.insert((f.rule.clone(), f.path.clone(), f.line, f.column)))
        .collect()
}

/// Annotations, job summary, outputs, SARIF file and the sticky comment, as asked.
fn publish(ctx: &Context, args: &CheckArgs, report: &Report) -> anyhow::Result<()> {
    let env = crate::github::GithubEnv::from_process();
    let opts = crate::github::PublishOptions::resolve(
        ctx.format,
        &env,
        args.no_github,
        args.comment,
        args.sarif_file.clone(),
        ctx.output.as_deref(),
    );
    // Annotations go to stderr when JSON or SARIF is on stdout.
    for warning in crate::github::publish_console(report, &opts, &env)? {
        ctx.log(format!("warning: {warning}"));
    }
    Ok(())
}
