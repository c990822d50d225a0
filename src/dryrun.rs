//! Shell: the dry run. Migrations are applied to a scratch database, never to the user's.
//!
//! The scratch database is a copy made with SQLite's online backup API from a read-only
//! connection to the source (a consistent snapshot even while the application writes), or
//! an empty database. Each pending migration is applied there with the same executor as
//! `migrate`; after each step the normalised schema is diffed, and the step is run a
//! second time in a transaction that is always rolled back, to prove it can run twice.
//! After the last step, `foreign_key_check` and `integrity_check` run on the copy.
//!
//! The source is opened with [`crate::db::open_read_only`]: no byte of it changes and no
//! file appears beside it.
//!
//! The run keeps going past a failed step: the executor rolls the failed migration back,
//! the later ones still run, and every failure is reported. A failure that an earlier
//! failed step explains (the object it needs is one that step would have created, see
//! [`crate::cascade`]) is marked `cascade_of` that step. With `fail_fast` the run stops at
//! the first failure and the later steps are `skipped`.
//!
//! The scratch database holds the legacy history table (empty), as a deployed database
//! does, so a migration that reads or writes `schema_versions` behaves as at deploy time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::Connection;

use crate::lint::rules::{migration_failed, not_idempotent, slow_migration};
use crate::migration::{Kind, Migration};
use crate::report::{DryRun, Finding, Location, Step, StepStatus};
use crate::schema::{self, ObjectKind, Schema};

/// What one successful application of a migration reports.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub duration: Duration,
    /// Statements executed (SQL migrations).
    pub statements: Option<usize>,
    pub warnings: Vec<String>,
}

/// Where and why a migration failed (`line`/`column` in the migration file).
#[derive(Clone, Debug, Default)]
pub struct Failure {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// Applies one migration to the scratch database at `db`, committing it with its history
/// row: the same code path as `migrate`.
pub trait Executor {
    fn apply(&self, db: &Path, m: &Migration, file: &Path) -> Result<Applied, Failure>;
}

/// Where the scratch database comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Empty,
    Copy(&'a Path),
}

#[derive(Clone, Debug)]
pub struct Options {
    /// The migrations folder on disk (files are `dir/file_name`).
    pub migrations_dir: PathBuf,
    pub python: String,
    pub env: Vec<(String, String)>,
    pub busy_timeout: Duration,
    pub migration_timeout: Option<Duration>,
    /// `slow-migration` above this.
    pub slow_ms: u64,
    /// Run each successful step a second time (rolled back) to check it is re-runnable.
    pub idempotency: bool,
    pub keep_scratch: bool,
    /// The findings describe a replay of the whole chain from empty (changes the wording).
    pub replay: bool,
    /// Stop at the first failed step (the later ones are `skipped`) instead of going on.
    pub fail_fast: bool,
}

/// The result of a dry run.
#[derive(Debug)]
pub struct DryRunResult {
    pub dry_run: DryRun,
    pub findings: Vec<Finding>,
    /// The scratch database, when kept (`--keep-scratch`).
    pub kept: Option<PathBuf>,
    /// Schema after the last successful step.
    pub schema: Schema,
    /// For each object of the final schema, the path of the migration that last created or
    /// changed it (for `verify`'s messages).
    pub changed_by: BTreeMap<(ObjectKind, String), String>,
    pub failed: bool,
}

/// Opens the source database without any chance of writing to it or beside it. The
/// commands decide what a missing database means before they ask for a copy of it.
fn open_source(path: &Path) -> anyhow::Result<Connection> {
    crate::db::open_read_only(path)?
        .ok_or_else(|| crate::db::refuse(path, crate::db::FileState::Missing))
}

/// The scratch database: `scratch.db` in a private scratch folder ([`crate::scratch`]).
struct Scratch {
    dir: crate::scratch::ScratchDir,
    path: PathBuf,
}

fn make_scratch(source: Source<'_>, busy_timeout: Duration) -> anyhow::Result<Scratch> {
    let dir = crate::scratch::ScratchDir::new("dry-run")
        .context("cannot create a temporary folder for the scratch database")?;
    let path = dir.new_database("scratch.db")?;
    let mut dst = Connection::open(&path)
        .with_context(|| format!("cannot create the scratch database {}", path.display()))?;
    if let Source::Copy(src_path) = source {
        let src = open_source(src_path)?;
        crate::backup::copy(&src, &mut dst, busy_timeout.max(Duration::from_secs(5)))?;
    }
    Ok(Scratch { dir, path })
}

fn read_schema(conn: &Connection) -> anyhow::Result<Schema> {
    crate::introspect::read_schema(conn).context("cannot read the schema of the scratch database")
}

/// An earlier failed step, for telling later failures that follow from it.
struct FailedStep {
    version: String,
    /// What it would have created.
    created: std::collections::BTreeSet<crate::cascade::Object>,
    /// The root it is itself a cascade of.
    cascade_of: Option<String>,
}

/// Applies `steps` in order to a scratch database made from `source`.
pub fn run(
    source: Source<'_>,
    steps: &[&Migration],
    opts: &Options,
    exec: &dyn Executor,
) -> anyhow::Result<DryRunResult> {
    let scratch = make_scratch(source, opts.busy_timeout)?;
    let conn = Connection::open(&scratch.path).context("cannot open the scratch database")?;
    // Configured as the executor's connection: the second run must behave as the first.
    crate::db::setup_write_connection(&conn, opts.busy_timeout)
        .context("cannot configure the scratch database")?;
    // As on a deployed database. No rows are written to it: see [`ApplyExecutor`].
    conn.execute_batch(crate::history::CREATE_TABLE)
        .context("cannot create the history table in the scratch database")?;
    let source_label = match source {
        Source::Empty => "empty".to_string(),
        Source::Copy(p) => p.display().to_string(),
    };
    let mut out = DryRunResult {
        dry_run: DryRun {
            source: source_label.clone(),
            steps: Vec::new(),
        },
        findings: Vec::new(),
        kept: None,
        schema: read_schema(&conn)?,
        changed_by: BTreeMap::new(),
        failed: false,
    };
    let mut failures: Vec<FailedStep> = Vec::new();

    for m in steps {
        if out.failed && opts.fail_fast {
            out.dry_run.steps.push(Step::new(
                m.version.to_string(),
                Some(m.path.clone()),
                StepStatus::Skipped,
            ));
            continue;
        }
        let file = opts.migrations_dir.join(&m.file_name);
        let before = out.schema.clone();
        let result = exec.apply(&scratch.path, m, &file);
        match result {
            Ok(applied) => {
                let after = read_schema(&conn)?;
                let duration_ms = applied.duration.as_secs_f64() * 1000.0;
                for key in schema::changed_objects(&before, &after) {
                    if after.objects.contains_key(&key) {
                        out.changed_by.insert(key, m.path.clone());
                    } else {
                        out.changed_by.remove(&key);
                    }
                }
                let mut step =
                    Step::new(m.version.to_string(), Some(m.path.clone()), StepStatus::Ok);
                step.duration_ms = duration_ms;
                step.statements = applied.statements;
                step.schema_diff = schema::diff(&before, &after);
                out.dry_run.steps.push(step);
                out.findings
                    .extend(slow_migration::check(m, duration_ms, opts.slow_ms));
                if opts.idempotency
                    && let Some(f) = second_run(&conn, &scratch.path, m, &file, &after, opts)?
                {
                    out.findings.push(f);
                }
                out.schema = after;
            }
            Err(failure) => {
                out.failed = true;
                let error = Location {
                    message: failure.message,
                    path: Some(m.path.clone()),
                    line: failure.line,
                    column: failure.column,
                };
                let cascade_of = cascade_root(&failures, &error.message);
                let mut finding = migration_failed::finding(&error, opts.replay, opts.fail_fast);
                if let Some(root) = &cascade_of {
                    finding = migration_failed::cascade(finding, root);
                }
                out.findings.push(finding);
                failures.push(FailedStep {
                    version: m.version.to_string(),
                    created: crate::cascade::created(m.kind, &m.text),
                    cascade_of: cascade_of.clone(),
                });
                let mut step = Step::new(
                    m.version.to_string(),
                    Some(m.path.clone()),
                    StepStatus::Failed,
                );
                step.error = Some(error);
                step.cascade_of = cascade_of;
                out.dry_run.steps.push(step);
            }
        }
    }

    if !steps.is_empty() {
        out.findings
            .extend(consistency_checks(&conn, &source_label)?);
    }
    drop(conn);
    if opts.keep_scratch {
        let dir = scratch.dir.keep();
        out.kept = Some(dir.join("scratch.db"));
    }
    Ok(out)
}

/// The root failed step that explains a failure with `message`: the latest earlier failure
/// that would have created the missing object, or the root that one is a cascade of.
/// `None` when the failure stands on its own.
fn cascade_root(failures: &[FailedStep], message: &str) -> Option<String> {
    let missing = crate::cascade::missing(message)?;
    let cause = failures
        .iter()
        .rev()
        .find(|f| crate::cascade::explains(&f.created, &missing))?;
    Some(
        cause
            .cascade_of
            .clone()
            .unwrap_or_else(|| cause.version.clone()),
    )
}

fn consistency_checks(conn: &Connection, source: &str) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let fk: Vec<String> = stmt
        .query_map([], |r| {
            let table: String = r.get(0)?;
            let rowid: Option<i64> = r.get(1)?;
            let parent: String = r.get(2)?;
            Ok(match rowid {
                Some(id) => format!("{table} row {id} references a missing {parent} row"),
                None => format!("{table} references a missing {parent} row"),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if !fk.is_empty() {
        findings.push(migration_failed::consistency(
            "foreign_key_check",
            &fk,
            source,
        ));
    }
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|s| s != "ok")
        .collect();
    if !problems.is_empty() {
        findings.push(migration_failed::consistency(
            "integrity_check",
            &problems,
            source,
        ));
    }
    Ok(findings)
}

/// Runs `m` again in a transaction that is always rolled back. `None` when it can run
/// twice; otherwise the `not-idempotent` finding with the reason.
fn second_run(
    conn: &Connection,
    db: &Path,
    m: &Migration,
    file: &Path,
    after: &Schema,
    opts: &Options,
) -> anyhow::Result<Option<Finding>> {
    match m.kind {
        // Statements that cannot run in a transaction cannot be re-run inside one either.
        Kind::Sql if m.no_transaction => Ok(None),
        Kind::Sql => second_run_sql(conn, m, after),
        Kind::Python => second_run_python(conn, db, m, file, opts),
    }
}

fn second_run_sql(
    conn: &Connection,
    m: &Migration,
    after: &Schema,
) -> anyhow::Result<Option<Finding>> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .context("cannot start the idempotency check on the scratch database")?;
    let idx = crate::sql::LineIndex::new(&m.text);
    let failure = crate::apply::run_statements(conn, m, &idx).err();
    let changed = if failure.is_none() {
        let again = read_schema(conn);
        again.map(|s| schema::changed_objects(after, &s)).ok()
    } else {
        None
    };
    // Always rolled back, whatever happened above.
    let _ = conn.execute_batch("ROLLBACK");
    Ok(match (failure, changed) {
        (Some(f), _) => Some(not_idempotent::finding(
            m,
            &format!("the second run fails: {}", f.message),
            f.line.zip(f.column),
        )),
        (None, Some(objs)) if !objs.is_empty() => {
            let names: Vec<String> = objs
                .iter()
                .map(|(k, n)| format!("{} {n}", k.as_str()))
                .collect();
            Some(not_idempotent::finding(
                m,
                &format!(
                    "the second run changes the schema again ({})",
                    names.join(", ")
                ),
                None,
            ))
        }
        _ => None,
    })
}

/// The executor of `migrate` ([`crate::apply::apply_one`]) pointed at the scratch
/// database. No history row is written: the scratch database is thrown away, and with
/// duplicate versions the executor would take the second file of a version for "already
/// applied" and skip it, where the legacy manager ran both.
pub struct ApplyExecutor {
    pub python: String,
    pub env: Vec<(String, String)>,
    pub busy_timeout: Duration,
    pub migration_timeout: Option<Duration>,
}

impl Executor for ApplyExecutor {
    fn apply(&self, db: &Path, m: &Migration, file: &Path) -> Result<Applied, Failure> {
        let mut conn = Connection::open(db)
            .and_then(|c| {
                crate::db::setup_write_connection(&c, self.busy_timeout)?;
                // The scratch copy is thrown away: durability buys nothing here.
                c.pragma_update(None, "synchronous", "OFF")?;
                Ok(c)
            })
            .map_err(|e| Failure {
                message: format!("cannot open the scratch database: {e}"),
                ..Failure::default()
            })?;
        let env = scratch_env(&self.env, db);
        let opts = crate::apply::ApplyOptions {
            record_history: false,
            commit: true,
            busy_timeout: self.busy_timeout,
            migration_timeout: self.migration_timeout,
            python: &self.python,
            env: &env,
        };
        match crate::apply::apply_one(&mut conn, db, file, m, &opts) {
            Ok(r) => Ok(Applied {
                duration: r.duration,
                statements: (m.kind == Kind::Sql).then_some(r.statements),
                warnings: r.warnings,
            }),
            Err(e) => Err(Failure {
                message: e.message,
                line: e.line,
                column: e.column,
            }),
        }
    }
}

/// The environment of a Python migration in a dry run: legacy migrations that read the
/// database path from `DB_PATH` get the scratch copy, never the real database.
fn scratch_env(base: &[(String, String)], db: &Path) -> Vec<(String, String)> {
    let mut env = base.to_vec();
    let path = db.to_string_lossy().into_owned();
    env.push(("DB_PATH".into(), path.clone()));
    env.push(("SCHEMAGATE_DB".into(), path));
    env
}

/// Python: the runner rolls back (`commit: false`); a statement run after `upgrade()` in
/// the same transaction fails when the schema cookie moved, which is how a change the
/// rollback hides is still seen.
fn second_run_python(
    conn: &Connection,
    db: &Path,
    m: &Migration,
    file: &Path,
    opts: &Options,
) -> anyhow::Result<Option<Finding>> {
    const MARK: &str = "schemagate: second run changed the schema";
    let cookie: i64 = conn
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .context("cannot read the scratch database's schema version")?;
    let mut params = serde_json::Map::new();
    params.insert("before".into(), serde_json::Value::from(cookie));
    // json() of a non-JSON string raises "malformed JSON": a conditional error in plain SQL.
    let record = [crate::pyrunner::RecordStatement {
        sql: format!(
            "SELECT CASE WHEN (SELECT schema_version FROM pragma_schema_version()) <> :before THEN json('{MARK}') END"
        ),
        params,
    }];
    let env = scratch_env(&opts.env, db);
    let job = crate::pyrunner::Job {
        python: &opts.python,
        db_path: db,
        migration: m,
        file,
        direction: crate::pyrunner::Direction::Upgrade,
        record: &record,
        commit: false,
        env: &env,
        busy_timeout: opts.busy_timeout,
        timeout: opts.migration_timeout,
    };
    Ok(match crate::pyrunner::run(&job) {
        Ok(_) => None,
        Err(crate::pyrunner::Error::Failed { message, line, .. }) => {
            let reason = if message.contains("malformed JSON") {
                "the second run changes the schema again".to_string()
            } else {
                format!("the second run fails: {message}")
            };
            Some(not_idempotent::finding(m, &reason, line.map(|l| (l, 1))))
        }
        Err(e) => Some(not_idempotent::finding(
            m,
            &format!("the second run fails: {e}"),
            None,
        )),
    })
}
