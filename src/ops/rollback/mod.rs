//! `schemagate rollback [--to VERSION | --steps N]`: takes applied migrations back, newest
//! first, each in one transaction with the removal of its history row and its audit row (a
//! failure leaves nothing behind): `downgrade(conn)` of Python migrations, and the down SQL
//! of layouts that have it (dbmate and goose Down sections, sqlx and golang-migrate
//! `.down.sql` files, diesel `down.sql`), whose history row is forgotten the way the tool's
//! own revert does ([`tables`]).
//!
//! Everything that could stop the run is checked before the first change: every migration
//! in the range must have a way back (a Python `downgrade`, or down SQL) and the recorded
//! content. Legacy SQL migrations have no down step; the way back for them is `restore`.

mod tables;

use std::path::Path;

use anyhow::bail;
use serde::Serialize;
use serde_json::{Map, json};

use super::{Database, Event, Session};
use crate::apply::down::{DownOptions, run_down};
use crate::audit;
use crate::config::Timeouts;
use crate::layout::Layout;
use crate::migration::{Discovery, Kind, Migration, Version};
use crate::plan::{Plan, State};
use crate::pyrunner::{self, Direction, Job, RecordStatement};

/// What `rollback` is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct RollbackRequest<'a> {
    pub db: Database<'a>,
    /// Where the backup taken before the first downgrade goes.
    pub backup_dir: &'a Path,
    /// The migrations folder on disk (files are `migrations_dir/file_name`).
    pub migrations_dir: &'a Path,
    pub discovery: &'a Discovery,
    /// Roll back every applied migration above this version (0: all of them)...
    pub to: Option<&'a Version>,
    /// ... or the newest N (default 1).
    pub steps: Option<usize>,
    pub reason: Option<&'a str>,
    /// Interpreter and extra environment of the Python runner.
    pub python: &'a str,
    pub env: &'a [(String, String)],
    pub timeouts: Timeouts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackStatus {
    /// Nothing to roll back.
    Current,
    RolledBack,
    /// A downgrade failed (and was rolled back); the ones before it stay rolled back.
    Error,
}

/// The downgrade (or down SQL) that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DowngradeError {
    /// Down SQL only: the column in the down file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    // Alphabetical: the order the JSON has always had.
    pub line: Option<usize>,
    pub message: String,
    pub path: String,
}

/// What a rollback did, as `--format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct RolledBack {
    pub status: RollbackStatus,
    pub database: String,
    /// Versions rolled back, newest first.
    pub rolled_back: Vec<String>,
    pub count: usize,
    /// The backup taken before the first downgrade.
    pub backup: Option<String>,
    pub error: Option<DowngradeError>,
}

/// One migration to take back, with the exact `version` text of its row.
struct Step<'a> {
    migration: &'a Migration,
    row_version: String,
}

/// The version as the tool's table records it: the row's own text, except under a row that
/// stands for every version below its own (golang-migrate's current version), where the
/// migration's version is what the tool would record.
fn row_version(e: &crate::plan::Entry<'_>) -> String {
    match (e.row, e.migration) {
        (Some(r), Some(m)) if r.origin.covers_lower_versions() => m.native_version.clone(),
        (Some(r), _) => r.version.clone(),
        (None, Some(m)) => m.native_version.clone(),
        (None, None) => e.version.to_string(),
    }
}

/// How a step goes back.
fn has_down_sql(m: &Migration) -> bool {
    m.kind == Kind::Sql && m.down.is_some()
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

/// Runs the downgrades of the chosen range, newest first. `Err` when nothing was changed
/// (a range that cannot be rolled back entirely, the lock, the backup); a downgrade that
/// fails stops the run with status `error`.
pub fn rollback(
    req: &RollbackRequest<'_>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<RolledBack> {
    let db = req.db;
    let mut session = Session::open_existing(db.path, db.display, &req.timeouts)?;
    match run(&mut session, req, on_event) {
        Ok(done) => Ok(done),
        Err(e) => {
            // Refused before any change: the lock file this run created goes too.
            session.discard();
            Err(e)
        }
    }
}

/// [`rollback`] under the lock; `Err` only before the first change.
fn run(
    session: &mut Session,
    req: &RollbackRequest<'_>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<RolledBack> {
    let db = req.db;
    let layout = req.discovery.layout;
    // The one reader of each layout's table, as `status` and `dry-run` read it.
    let history = crate::history::read_connection(&session.conn, layout, db.path)?;
    tables::refuse(layout, &history.dirty)
        .map_err(|e| anyhow::anyhow!("nothing was rolled back: {e:#}"))?;
    let rows = history.rows;
    let plan = Plan::new(req.discovery, &rows);
    let chosen = select(&plan, req.to, req.steps)?;
    if chosen.is_empty() {
        return Ok(RolledBack {
            status: RollbackStatus::Current,
            database: db.display.to_string(),
            rolled_back: Vec::new(),
            count: 0,
            backup: None,
            error: None,
        });
    }
    let migration_timeout = req.timeouts.migration;

    // Refuse the whole range before changing anything.
    let mut steps = Vec::new();
    let mut refusals = Vec::new();
    for e in &chosen {
        let row_version = row_version(e);
        match (e.migration, e.state) {
            (None, _) => refusals.push(format!(
                "{row_version}: no migration file has this version, so there is no downgrade to run"
            )),
            (Some(m), _) if m.kind == Kind::Sql && m.down.is_none() => {
                refusals.push(if layout == Layout::Legacy {
                    format!("{}: SQL migrations have no downgrade", m.path)
                } else {
                    format!("{}: it has no down SQL", m.path)
                })
            }
            (Some(m), State::Drifted) => refusals.push(format!(
                "{}: the file changed since it was applied, so its downgrade may not undo what ran",
                m.path
            )),
            (Some(m), _) if has_down_sql(m) => steps.push(Step {
                migration: m,
                row_version,
            }),
            (Some(m), _) => {
                let file = req.migrations_dir.join(&m.file_name);
                if let Err(err) = pyrunner::validate(
                    req.python,
                    m,
                    &file,
                    Direction::Downgrade,
                    req.env,
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

    let backup = crate::backup::create(db.path, req.backup_dir, req.timeouts.busy)?;
    on_event(Event::BackedUp(&backup));
    let backup_display = backup.display().to_string();

    let side_table = crate::db::table_exists(&session.conn, crate::history::SIDE_TABLE)?;
    let mut done = Vec::new();
    let mut error = None;
    for step in &steps {
        let m = step.migration;
        let forget =
            tables::forget_statements(layout, m, &step.row_version, req.discovery, side_table);
        let record = record_statements(step, forget, req.reason, &backup_display, &done);
        if has_down_sql(m) {
            let opts = DownOptions {
                commit: true,
                busy_timeout: req.timeouts.busy,
                migration_timeout,
            };
            match run_down(&mut session.conn, m, &record, &opts) {
                Ok(_) => {
                    on_event(Event::RolledBack(m));
                    done.push(m.version.to_string());
                }
                Err(e) => {
                    error = Some(DowngradeError {
                        column: e.column,
                        line: e.line,
                        message: e.message,
                        path: e.path.unwrap_or_else(|| m.path.clone()),
                    });
                    break;
                }
            }
            continue;
        }
        let file = req.migrations_dir.join(&m.file_name);
        let job = Job {
            python: req.python,
            db_path: db.path,
            migration: m,
            file: &file,
            direction: Direction::Downgrade,
            record: &record,
            commit: true,
            env: req.env,
            busy_timeout: req.timeouts.busy,
            timeout: migration_timeout,
        };
        match pyrunner::run(&job) {
            Ok(outcome) => {
                for w in &outcome.warnings {
                    on_event(Event::Warning(w));
                }
                on_event(Event::RolledBack(m));
                done.push(m.version.to_string());
            }
            Err(err) => {
                let (message, line) = match &err {
                    pyrunner::Error::Failed { message, line, .. } => (message.clone(), *line),
                    other => (other.to_string(), None),
                };
                error = Some(DowngradeError {
                    column: None,
                    line,
                    message,
                    path: m.path.clone(),
                });
                break;
            }
        }
    }
    Ok(RolledBack {
        status: if error.is_some() {
            RollbackStatus::Error
        } else {
            RollbackStatus::RolledBack
        },
        database: db.display.to_string(),
        count: done.len(),
        rolled_back: done,
        backup: Some(backup_display),
        error,
    })
}

/// What commits together with one downgrade: the removal of its history rows (`forget`)
/// and the audit row. Parameters are named as the Python runner binds them (no `:`).
fn record_statements(
    step: &Step<'_>,
    forget: Vec<RecordStatement>,
    reason: Option<&str>,
    backup: &str,
    done_before: &[String],
) -> Vec<RecordStatement> {
    let mut out = forget;
    let mut details = json!({
        "file": step.migration.path,
        "checksum": step.migration.checksum,
        "after": done_before,
    });
    if let Some(down) = step
        .migration
        .down
        .as_ref()
        .filter(|_| has_down_sql(step.migration))
    {
        details["down"] = json!(down.path);
    }
    let entry = audit::Entry::new("rollback")
        .versions([step.row_version.as_str()])
        .reason(reason)
        .backup(Some(backup.to_string()))
        .details(details);
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
                ..Default::default()
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
