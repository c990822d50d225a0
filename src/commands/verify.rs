//! `schemagate verify`: the real schema against a replay of the migrations recorded as
//! applied, on an empty scratch database. Finds migrations recorded as applied that never
//! ran, and changes made by hand.

use crate::cli::{Context, Outcome};
use crate::dryrun::{self, Source};
use crate::lint::rules::schema_drift;
use crate::migration::Migration;
use crate::plan::Plan;
use crate::report::Report;
use crate::schema;

pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let d = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    let layout = d.layout;
    let (history, schema) = super::read_history_and(target, layout, super::REPLAYING, |conn| {
        crate::introspect::read_schema(conn)
            .map_err(|e| anyhow::anyhow!("cannot read the schema of {}: {e}", target.display))
    })?;
    let rows = history.rows;
    super::log_new_database(
        ctx,
        target,
        "nothing is recorded, so there is nothing to verify",
    );
    // A database that does not exist has no schema (when REPLAYING lets it through).
    let actual = schema.unwrap_or_default();

    let plan = Plan::new(&d, &rows);
    // Recorded migrations whose file we have, in apply order (a recorded row without a
    // file cannot be replayed; `missing-file` reports it elsewhere).
    let recorded: Vec<&Migration> = plan
        .entries
        .iter()
        .filter(|e| e.state.is_recorded())
        .filter_map(|e| e.migration)
        .collect();
    super::require_python(ctx, recorded.iter().copied())?;
    // Stops at the first failure: the schema is only compared after a whole replay.
    let mut opts = super::dry_run::options(ctx, false, true, true);
    opts.idempotency = false;
    let replay = dryrun::run(
        Source::Empty,
        &recorded,
        &opts,
        &crate::analysis::executor(&opts),
    )?;

    let mut report = Report::new("verify", &ctx.dir_display);

    report.set_layout(&d);
    report.database = Some(super::database_info(target));
    report.set_migrations(&plan);
    let mut findings = replay.findings;
    if !replay.failed {
        for drift in schema::compare(&replay.schema, &actual) {
            let o = drift.object();
            let by = replay
                .changed_by
                .get(&(o.kind, o.name.to_lowercase()))
                .map(String::as_str);
            findings.push(schema_drift::finding(&drift, by, &target.display));
        }
    } else {
        ctx.log("the replay of the recorded migrations failed; the schema was not compared");
    }
    report.findings = crate::lint::apply_severities(findings, &ctx.config.rules);
    report.finish(ctx.fail_on);
    crate::commands::lint::emit(ctx, &report, &d)?;
    Ok(Outcome::from_ok(report.summary.ok))
}
