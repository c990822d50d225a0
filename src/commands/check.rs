//! `schemagate check`: the CI entry point. Lint, the base-branch comparison (when a base
//! is known: pull-request mode), a replay of the whole chain on an empty database and, with
//! `--db`, a dry run on a copy of that database: one report, one exit code. The pipeline is
//! `crate::analysis`; this file turns flags into its settings and publishes the report.

use crate::analysis::{self, Settings};
use crate::cli::progress::Stepping;
use crate::cli::{CheckArgs, Context, Outcome};
use crate::plan::Plan;
use crate::report::Report;

pub fn run(ctx: &Context, args: &CheckArgs) -> anyhow::Result<Outcome> {
    if let Some(sarif) = &args.sarif_file {
        ctx.refuse_output_onto_input(sarif, "--sarif-file")?;
    }
    let d = ctx.read_migrations()?;
    let target = ctx.database()?;
    let (history, source) = super::dry_run::source_of(target, d.layout)?;
    let rows = history.rows;
    if let Some(t) = target {
        super::log_new_database(ctx, t, "dry-running every migration on an empty database");
    }
    // The replay runs every Python migration: no interpreter is exit 2 before anything runs.
    super::require_python(ctx, &d.migrations)?;
    let opts = super::dry_run::options(ctx, args.keep_scratch, true, args.fail_fast);
    let progress =
        analysis::watcher(|inner, steps, label| Box::new(Stepping::new(ctx, inner, steps, label)));
    let settings = Settings {
        watch: Some(analysis::Watch(&progress)),
        database: target.map(|t| analysis::Database {
            rows: &rows,
            dirty: &history.dirty,
            display: &t.display,
            source,
        }),
        ..super::lint::settings(ctx, Some(opts))
    };
    let base = args.base.clone().or_else(crate::git::default_base_ref);
    let pr = super::lint::pull_request(ctx, &base, args.gate);
    let out = analysis::run(super::lint::tree(ctx, &d), &settings, pr)?;
    super::lint::log_analysis(ctx, &out, &d)?;

    let mut report = Report::new("check", &ctx.dir_display);

    report.set_layout(&d);
    report.database = target.map(super::database_info);
    report.base = out.base;
    report.set_migrations(&Plan::new(&d, &rows));
    report.findings = out.findings;
    report.dry_run = out.dry_run;
    report.finish(ctx.fail_on);
    ctx.selection.complete_report(&mut report);
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
