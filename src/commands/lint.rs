//! `schemagate lint`: static checks of the migrations folder (the analysis is
//! `crate::analysis`; with a base it runs in pull-request mode).

use crate::analysis::{self, PullRequest, Settings, Tree};
use crate::cli::{Context, LintArgs, Outcome};
use crate::migration::Discovery;
use crate::plan::Plan;
use crate::report::{Gate, Report, text};

pub fn run(ctx: &Context, args: &LintArgs) -> anyhow::Result<Outcome> {
    let d = ctx.read_migrations()?;
    let target = ctx.database()?;
    let history = match target {
        Some(t) => super::read_history(t, d.layout, super::INSPECTING)?,
        None => Default::default(),
    };
    let rows = history.rows;
    let settings = Settings {
        database: target.map(|t| analysis::Database {
            rows: &rows,
            dirty: &history.dirty,
            display: &t.display,
            // lint never dry-runs.
            source: crate::dryrun::Source::Empty,
        }),
        ..settings(ctx, None)
    };
    let base = args.base.clone().or_else(crate::git::default_base_ref);
    let out = analysis::run(
        tree(ctx, &d),
        &settings,
        pull_request(ctx, &base, args.gate),
    )?;
    log_analysis(ctx, &out, &d)?;

    let mut report = Report::new("lint", &ctx.dir_display);
    report.set_layout(&d);
    report.database = target.map(super::database_info);
    report.base = out.base;
    report.set_migrations(&Plan::new(&d, &rows));
    report.findings = out.findings;
    report.finish(ctx.fail_on);
    emit(ctx, &report, &d)?;
    Ok(Outcome::from_ok(report.summary.ok))
}

/// The working tree's folder.
pub(crate) fn tree<'a>(ctx: &'a Context, d: &'a Discovery) -> Tree<'a> {
    Tree {
        discovery: d,
        dir: &ctx.migrations_dir,
    }
}

/// The analysis settings of the config file and global flags (no database).
pub(crate) fn settings<'a>(
    ctx: &'a Context,
    dry_run: Option<crate::dryrun::Options>,
) -> Settings<'a> {
    Settings {
        dir_display: &ctx.dir_display,
        config: &ctx.config,
        python: &ctx.python,
        dry_run,
        database: None,
        watch: None,
    }
}

/// Pull-request mode when a base is known: the gate is `--gate`, else `[ci] gate`, else
/// `introduced`.
pub(crate) fn pull_request<'a>(
    ctx: &Context,
    base: &'a Option<String>,
    gate: Option<Gate>,
) -> Option<PullRequest<'a>> {
    let reference = base.as_deref()?;
    ctx.debug(format!("comparing with {reference}"));
    Some(PullRequest {
        reference,
        gate: gate.or(ctx.config.ci.gate).unwrap_or_default(),
    })
}

/// The analysis's warnings and notes, on stderr. A warning means the Python scan could not
/// run: no interpreter at all is exit 2, as for every command that needs one (asked only
/// now, so a working interpreter costs no second start); one that runs but cannot read the
/// files only skips the Python rules.
pub(crate) fn log_analysis(
    ctx: &Context,
    out: &analysis::Analysis,
    d: &Discovery,
) -> anyhow::Result<()> {
    if !out.warnings.is_empty() {
        super::require_python(ctx, &d.migrations)?;
    }
    for warning in &out.warnings {
        ctx.log(format!(
            "{}: {warning}",
            text::severity_label(&ctx.text_style(), crate::report::Severity::Warning)
        ));
    }
    for note in &out.notes {
        ctx.log(note);
    }
    Ok(())
}

/// Prints a report in the chosen format (text gets code frames from the folder's files, and
/// with -v lists pre-existing findings in full; json, sarif and github use
/// repository-relative paths inside a repository).
pub fn emit(ctx: &Context, report: &Report, d: &Discovery) -> anyhow::Result<()> {
    let mut completed = report.clone();
    ctx.selection.complete_report(&mut completed);
    let report = &completed;
    if let Some(out) = crate::github::render(report, ctx.format) {
        return ctx.emit(&out);
    }
    // A down file (`.down.sql`, diesel `down.sql`) has a path of its own.
    let sources = |path: &str| {
        d.migrations.iter().find_map(|m| {
            if m.path == path {
                Some(m.text.as_str())
            } else {
                m.down
                    .as_ref()
                    .filter(|down| down.path == path)
                    .map(|down| down.text.as_str())
            }
        })
    };
    // Escape codes are stripped by anstream on stdout when needed; never in files.
    let style = text::Style {
        color: ctx.output.is_none(),
    };
    ctx.emit(&text::render_listing(
        report,
        &sources,
        &style,
        ctx.verbose > 0,
    ))
}

/// The folder's layout, as the rules and the dry run's findings read it. The one place
/// that decides it for the commands that lint (detection from the folder goes here).
pub(crate) fn layout(_ctx: &Context, d: &Discovery) -> crate::layout::Layout {
    d.layout
}
