//! `schemagate rollback [--to VERSION | --steps N]`: runs `downgrade(conn)` of applied
//! Python migrations, newest first, each in one transaction with the removal of its history
//! row and its audit row (the Python runner's guarantees: a failure leaves nothing behind).
//!
//! Everything that could stop the run is checked before the first change: every migration
//! in the range must be a Python file with the recorded content and a `downgrade`. SQL
//! migrations have no down step; the way back for them is `restore`.

use anyhow::bail;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::audit;
use crate::cli::{Context, Format, Outcome, RollbackArgs};
use crate::config::TimeoutFlags;
use crate::migration::{Kind, Migration, Version};
use crate::plan::{Plan, State};
use crate::python::{self, Direction, Job, RecordStatement};

use super::repair::{open_existing, parse_version, read_history, timeouts};

#[derive(Debug, Serialize)]
struct RollbackReport {
    status: &'static str,
    database: String,
    rolled_back: Vec<String>,
    count: usize,
    backup: Option<String>,
    error: Option<Value>,
}

/// One migration to take back, with the exact `version` text of its row.
struct Step<'a> {
    migration: &'a Migration,
    row_version: String,
}

/// The recorded migrations to take back, newest first.
fn select<'a>(
    plan: &'a Plan<'a>,
    to: Option<&Version>,
    steps: Option<usize>,
) -> anyhow::Result<Vec<&'a crate::plan::Entry<'a>>> {
    let recorded: Vec<_> = plan
        .entries
        .iter()
        .filter(|e| e.state.is_recorded())
        .collect();
    let chosen: Vec<_> = match (to, steps) {
        (Some(to), _) => {
            let newer: Vec<_> = recorded
                .iter()
                .filter(|e| e.version > *to)
                .copied()
                .collect();
            if !recorded.iter().any(|e| e.version == *to) && to.number() != Some(0) {
                bail!(
                    "version {to} is not applied; pass --to with an applied version (everything above it is rolled back), or --to 0 for all"
                );
            }
            newer
        }
        (None, n) => {
            let n = n.unwrap_or(1);
            if n == 0 {
                bail!("--steps must be at least 1");
            }
            if n > recorded.len() {
                bail!(
                    "--steps {n} is more than the {} applied migration(s)",
                    recorded.len()
                );
            }
            recorded[recorded.len() - n..].to_vec()
        }
    };
    Ok(chosen.into_iter().rev().collect())
}

pub fn run(ctx: &Context, args: &RollbackArgs) -> anyhow::Result<Outcome> {
    let to = args.to.as_deref().map(parse_version).transpose()?;
    let discovery = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    let (lock_timeout, busy) = timeouts(ctx, args.lock_timeout);
    let session = open_existing(target, lock_timeout, busy)?;
    let rows = read_history(&session.conn, &target.path)?;
    let plan = Plan::new(&discovery, &rows);
    let chosen = select(&plan, to.as_ref(), args.steps)?;
    if chosen.is_empty() {
        ctx.emit(&render(
            ctx,
            &RollbackReport {
                status: "current",
                database: target.display.clone(),
                rolled_back: Vec::new(),
                count: 0,
                backup: None,
                error: None,
            },
        )?)?;
        return Ok(Outcome::Clean);
    }

    let env: Vec<(String, String)> = target
        .env
        .as_deref()
        .map(python::env_for)
        .unwrap_or_default();
    let migration_timeout = ctx.timeouts(TimeoutFlags::default()).migration;

    // Refuse the whole range before changing anything.
    let mut steps = Vec::new();
    let mut refusals = Vec::new();
    for e in &chosen {
        let row_version = e
            .row
            .map_or_else(|| e.version.to_string(), |r| r.version.clone());
        match (e.migration, e.state) {
            (None, _) => refusals.push(format!(
                "{row_version}: no migration file has this version, so there is no downgrade to run"
            )),
            (Some(m), _) if m.kind == Kind::Sql => {
                refusals.push(format!("{}: SQL migrations have no downgrade", m.path))
            }
            (Some(m), State::Drifted) => refusals.push(format!(
                "{}: the file changed since it was applied, so its downgrade may not undo what ran",
                m.path
            )),
            (Some(m), _) => {
                let file = ctx.migrations_dir.join(&m.file_name);
                if let Err(err) = python::validate(
                    &ctx.python,
                    m,
                    &file,
                    Direction::Downgrade,
                    &env,
                    migration_timeout,
                ) {
                    refusals.push(format!("{}: {err}", m.path));
                } else {
                    steps.push(Step {
                        migration: m,
                        row_version,
                    });
                }
            }
        }
    }
    if !refusals.is_empty() {
        bail!(
            "nothing was rolled back: {}; use `schemagate restore` to go back to a backup taken before these migrations (`schemagate backups` lists them)",
            refusals.join("; ")
        );
    }

    let backup = crate::backup::create(&target.path, &target.backup_dir, busy)?;
    let backup_display = backup.display().to_string();
    ctx.log(format!("backed up {} to {backup_display}", target.display));

    let reason = args.reason.as_deref();
    let side_table = crate::db::table_exists(&session.conn, crate::history::SIDE_TABLE)?;
    let mut done = Vec::new();
    let mut error = None;
    for step in &steps {
        let m = step.migration;
        let record = record_statements(step, side_table, reason, &backup_display, &done);
        let file = ctx.migrations_dir.join(&m.file_name);
        let job = Job {
            python: &ctx.python,
            db_path: &target.path,
            migration: m,
            file: &file,
            direction: Direction::Downgrade,
            record: &record,
            commit: true,
            env: &env,
            busy_timeout: busy,
            timeout: migration_timeout,
        };
        match python::run(&job) {
            Ok(outcome) => {
                for w in &outcome.warnings {
                    ctx.log(format!("warning: {w}"));
                }
                ctx.log(format!("rolled back {}", m.path));
                done.push(m.version.to_string());
            }
            Err(err) => {
                let (message, line) = match &err {
                    python::Error::Failed { message, line, .. } => (message.clone(), *line),
                    other => (other.to_string(), None),
                };
                error = Some(json!({
                    "message": message,
                    "path": m.path,
                    "line": line,
                }));
                ctx.log(format!(
                    "error: downgrade of {}{} failed and was rolled back: {message}",
                    m.path,
                    line.map(|l| format!(":{l}")).unwrap_or_default()
                ));
                break;
            }
        }
    }
    let failed = error.is_some();
    let report = RollbackReport {
        status: if failed { "error" } else { "rolled-back" },
        database: target.display.clone(),
        count: done.len(),
        rolled_back: done,
        backup: Some(backup_display),
        error,
    };
    ctx.emit(&render(ctx, &report)?)?;
    Ok(Outcome::from_ok(!failed))
}

/// What commits together with one downgrade: the removal of its history rows and the
/// audit row. Parameters are named as the Python runner binds them (no `:`).
fn record_statements(
    step: &Step<'_>,
    side_table: bool,
    reason: Option<&str>,
    backup: &str,
    done_before: &[String],
) -> Vec<RecordStatement> {
    let mut version = Map::new();
    version.insert("version".into(), step.row_version.clone().into());
    let mut out = vec![RecordStatement {
        sql: "DELETE FROM schema_versions WHERE version = :version".into(),
        params: version.clone(),
    }];
    if side_table {
        out.push(RecordStatement {
            sql: "DELETE FROM schemagate_history WHERE version = :version".into(),
            params: version,
        });
    }
    let entry = audit::Entry::new("rollback")
        .versions([step.row_version.as_str()])
        .reason(reason)
        .backup(Some(backup.to_string()))
        .details(json!({
            "file": step.migration.path,
            "checksum": step.migration.checksum,
            "after": done_before,
        }));
    out.push(RecordStatement {
        sql: audit::CREATE_SQL.into(),
        params: Map::new(),
    });
    out.push(RecordStatement {
        sql: audit::INSERT_SQL.into(),
        params: entry.json_params(),
    });
    out
}

fn render(ctx: &Context, r: &RollbackReport) -> anyhow::Result<String> {
    Ok(match ctx.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(r)?),
        _ => {
            let mut s = String::new();
            match (r.status, r.count) {
                ("current", _) => s.push_str("nothing to roll back\n"),
                (_, 0) => {}
                _ => s.push_str(&format!(
                    "rolled back {} in {}: {}\n",
                    if r.count == 1 {
                        "1 migration"
                    } else {
                        "migrations"
                    },
                    r.database,
                    r.rolled_back.join(", ")
                )),
            }
            if let Some(b) = &r.backup {
                s.push_str(&format!("backup taken before: {b}\n"));
            }
            if let Some(e) = &r.error {
                s.push_str(&format!(
                    "error: {} failed: {}\n",
                    e["path"].as_str().unwrap_or("?"),
                    e["message"].as_str().unwrap_or("?")
                ));
            }
            s
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::plan::HistoryRow;

    fn setup() -> (crate::migration::Discovery, Vec<HistoryRow>) {
        let d = discover(
            "m",
            [
                ("001_a.sql", b"A".as_slice()),
                ("002_b.py", b"B".as_slice()),
                ("003_c.py", b"C".as_slice()),
            ],
        );
        let rows = d
            .migrations
            .iter()
            .enumerate()
            .map(|(i, m)| HistoryRow {
                id: i as i64 + 1,
                version: m.version.to_string(),
                applied_at: None,
                description: None,
                checksum: Some(m.checksum.clone()),
                file_name: None,
                skeleton: None,
            })
            .collect();
        (d, rows)
    }

    fn versions(chosen: &[&crate::plan::Entry<'_>]) -> Vec<String> {
        chosen.iter().map(|e| e.version.to_string()).collect()
    }

    #[test]
    fn the_range_is_newest_first() {
        let (d, rows) = setup();
        let plan = Plan::new(&d, &rows);
        assert_eq!(versions(&select(&plan, None, None).unwrap()), ["003"]);
        assert_eq!(
            versions(&select(&plan, None, Some(2)).unwrap()),
            ["003", "002"]
        );
        let v1 = Version::parse("1").unwrap();
        assert_eq!(
            versions(&select(&plan, Some(&v1), None).unwrap()),
            ["003", "002"]
        );
        let v0 = Version::parse("0").unwrap();
        assert_eq!(versions(&select(&plan, Some(&v0), None).unwrap()).len(), 3);
        let v3 = Version::parse("003").unwrap();
        assert!(select(&plan, Some(&v3), None).unwrap().is_empty());
    }

    #[test]
    fn impossible_ranges_are_refused() {
        let (d, rows) = setup();
        let plan = Plan::new(&d, &rows);
        let v9 = Version::parse("9").unwrap();
        assert!(select(&plan, Some(&v9), None).is_err());
        assert!(select(&plan, None, Some(4)).is_err());
        assert!(select(&plan, None, Some(0)).is_err());
    }
}
