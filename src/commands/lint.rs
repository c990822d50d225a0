//! `schemagate lint`: static checks of the migrations folder.

use crate::cli::{Context, LintArgs, Outcome};
use crate::lint::{self, LintInputs};
use crate::migration::Discovery;
use crate::plan::Plan;
use crate::report::{Finding, Report, text};

pub fn run(ctx: &Context, args: &LintArgs) -> anyhow::Result<Outcome> {
    let d = ctx.read_migrations()?;
    let (mut findings, inputs) = collect_raw(ctx, &d)?;
    if let Some(base) = args.base.clone().or_else(crate::git::default_base_ref) {
        findings.extend(crate::git::compare_with_base(
            &ctx.migrations_dir,
            &ctx.dir_display,
            &d,
            &base,
        )?);
    }
    let mut report = Report::new("lint", &ctx.dir_display);
    let rows = match ctx.database()? {
        Some(target) => {
            let rows = super::read_history(target, super::INSPECTING)?.rows;
            report.database = Some(super::database_info(target));
            Some((rows, target.display.clone()))
        }
        None => None,
    };
    let plan = Plan::new(&d, rows.as_ref().map_or(&[][..], |(r, _)| r.as_slice()));
    if let Some((_, display)) = &rows {
        findings.extend(lint::history_findings(
            &plan,
            display,
            &ctx.config.accept_checksum,
        ));
    }
    report.set_migrations(&plan);
    report.findings = lint::finish(findings, &d, &inputs, &ctx.config.rules);
    report.finish(ctx.fail_on);
    emit(ctx, &report, &d)?;
    Ok(Outcome::from_ok(report.summary.ok))
}

/// Everything `lint` reports for the folder: Python AST data gathered with `ctx.python`
/// (one process), every folder, statement and Python rule, then suppression comments and
/// `[rules]` severities. Config errors (unknown rule ids, a bad `target_sqlite`) are `Err`.
pub fn collect(ctx: &Context, d: &Discovery) -> anyhow::Result<Vec<Finding>> {
    let (findings, inputs) = collect_raw(ctx, d)?;
    Ok(lint::finish(findings, d, &inputs, &ctx.config.rules))
}

/// [`collect`] before suppression and severities, with the inputs it used, for callers
/// that add findings of their own (base branch, history) and then call [`lint::finish`].
pub fn collect_raw(ctx: &Context, d: &Discovery) -> anyhow::Result<(Vec<Finding>, LintInputs)> {
    lint::check_rule_config(&ctx.config.rules)?;
    let mut inputs = LintInputs::from_config(&ctx.config)?;
    inputs.dir = ctx.dir_display.clone();
    // python3 reads the .py files while we lint the .sql files.
    let scan = crate::pyrunner::scan::start(&ctx.python, d);
    let mut findings = lint::lint_sql_files(d, &inputs);
    match scan.finish() {
        Ok(ast) => inputs.python = ast,
        Err(warning) => {
            // No interpreter at all is exit 2, as for every command that needs one (asked
            // only now, so a working interpreter costs no second start); one that runs
            // but cannot read the files only skips the Python rules.
            super::require_python(ctx, &d.migrations)?;
            ctx.log(format!(
                "{}: {warning}",
                text::severity_label(&ctx.text_style(), crate::report::Severity::Warning)
            ));
        }
    }
    findings.extend(lint::lint_python_files(d, &inputs));
    Ok((findings, inputs))
}

/// Prints a report in the chosen format (text gets code frames from the folder's files;
/// json, sarif and github use repository-relative paths inside a repository).
pub fn emit(ctx: &Context, report: &Report, d: &Discovery) -> anyhow::Result<()> {
    let mut completed = report.clone();
    ctx.selection.complete_report(&mut completed);
    let report = &completed;
    if let Some(out) = crate::github::render(report, ctx.format) {
        return ctx.emit(&out);
    }
    let sources = |path: &str| {
        d.migrations
            .iter()
            .find(|m| m.path == path)
            .map(|m| m.text.as_str())
    };
    // Escape codes are stripped by anstream on stdout when needed; never in files.
    let style = text::Style {
        color: ctx.output.is_none(),
    };
    ctx.emit(&text::render(report, &sources, &style))
}
