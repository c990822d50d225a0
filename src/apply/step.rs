//! Applying one migration on an open connection: the SQL path (one `BEGIN IMMEDIATE`
//! transaction with its history row, COMMIT retried on BUSY), the `no-transaction` path
//! (bracketed by a committed marker), and the Python path (the runner in its own process).
//! The checks made before COMMIT live in [`super::schema_checks`].

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::guard::{Denied, Guard};
use super::schema_checks::{
    check_schema_after, foreign_key_violations, no_foreign_keys_known, remember_no_foreign_keys,
};
use super::signal::interrupted;
use crate::history;
use crate::migration::{Kind, Migration};
use crate::pyrunner;
use crate::report::Location;
use crate::sql::{self, LineIndex};

/// How to apply one migration.
#[derive(Clone, Debug)]
pub struct ApplyOptions<'a> {
    /// Insert the `schema_versions` row (and side-table row) in the migration's transaction.
    pub record_history: bool,
    /// `false`: run everything, then roll back (the dry run's idempotency check). A
    /// `no-transaction` SQL migration cannot be rolled back; only its history row is.
    pub commit: bool,
    /// How long `BEGIN IMMEDIATE`, statements and `COMMIT` wait for other connections.
    pub busy_timeout: Duration,
    /// Interrupt (and roll back) a migration that runs longer.
    pub migration_timeout: Option<Duration>,
    /// Interpreter for `.py` migrations.
    pub python: &'a str,
    /// Extra environment for Python migrations (`SCHEMAGATE_ENV`, `ENV`).
    pub env: &'a [(String, String)],
}

/// What applying one migration did.
#[derive(Clone, Debug, Default)]
pub struct StepResult {
    pub duration: Duration,
    /// Statements executed (SQL migrations; 0 for Python).
    pub statements: usize,
    /// Things tolerated along the way (e.g. an ignored `conn.commit()` in Python).
    pub warnings: Vec<String>,
    /// The description recorded (Python: the module's `DESCRIPTION`).
    pub description: String,
    /// What a Python migration printed.
    pub output: String,
    /// Another process recorded this version between planning and `BEGIN IMMEDIATE`;
    /// nothing was run.
    pub already_applied: bool,
}

/// Why a step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepErrorKind {
    /// The migration failed and was rolled back.
    Failed,
    /// The migration was refused before it ran (transaction control in a transactional file).
    Refused,
    /// The environment stopped it (no Python, database locked by another connection).
    Environment,
    /// A non-transactional migration failed half-way: a marker now blocks later runs.
    Dirty,
    /// The Python runner died: whether it committed is unknown until history is re-read.
    Unknown,
    /// SIGINT or SIGTERM: the run stopped at a migration boundary.
    Interrupted,
}

/// A failed step, with where in the file it failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct StepError {
    pub kind: StepErrorKind,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Python traceback, when there is one.
    pub detail: Option<String>,
}

impl StepError {
    pub(super) fn new(kind: StepErrorKind, m: &Migration, message: impl Into<String>) -> StepError {
        StepError {
            kind,
            message: message.into(),
            path: Some(m.path.clone()),
            line: None,
            column: None,
            detail: None,
        }
    }

    pub(super) fn at(mut self, idx: &LineIndex, offset: usize) -> StepError {
        let (line, column) = idx.line_col(offset);
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// `path:line:column: message`, like a compiler.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some(p) = &self.path {
            s.push_str(p);
            if let Some(l) = self.line {
                s.push_str(&format!(":{l}"));
                if let Some(c) = self.column {
                    s.push_str(&format!(":{c}"));
                }
            }
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }
}

impl From<StepError> for Location {
    fn from(e: StepError) -> Location {
        Location {
            message: e.message,
            path: e.path,
            line: e.line,
            column: e.column,
        }
    }
}

impl From<&StepError> for Location {
    fn from(e: &StepError) -> Location {
        e.clone().into()
    }
}

/// Rolls back whatever is open. SQLite may already have rolled back on its own after some
/// errors (and keeps the transaction open after others), so "no transaction is active" is
/// expected and ignored.
pub(super) fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

pub(super) fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(f, Some(msg)) => {
            if f.code == rusqlite::ErrorCode::OperationInterrupted {
                "interrupted".into()
            } else {
                msg.clone()
            }
        }
        rusqlite::Error::SqliteFailure(f, None) => f.to_string(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// `BEGIN IMMEDIATE`, with a message that says who is in the way.
pub(super) fn begin(conn: &Connection, m: &Migration, busy: Duration) -> Result<(), StepError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
        if is_busy(&e) {
            StepError::new(
                StepErrorKind::Environment,
                m,
                format!(
                    "the database stayed write-locked by another connection for more than {} s; nothing of this migration was applied (retry, or raise --busy-timeout)",
                    busy.as_secs_f64()
                ),
            )
        } else {
            StepError::new(
                StepErrorKind::Failed,
                m,
                format!("cannot start a transaction: {}", sqlite_message(&e)),
            )
        }
    })
}

/// COMMIT, retried a few times on BUSY (in rollback-journal mode an open reader blocks it
/// and the transaction stays active), then rolled back with a message naming the cause.
pub(super) fn commit(conn: &Connection, m: &Migration) -> Result<(), StepError> {
    let mut last = None;
    for _ in 0..3 {
        match conn.execute_batch("COMMIT") {
            Ok(()) => return Ok(()),
            Err(e) if is_busy(&e) && !conn.is_autocommit() => last = Some(e),
            Err(e) => {
                rollback(conn);
                return Err(StepError::new(
                    StepErrorKind::Failed,
                    m,
                    format!("COMMIT failed: {}; rolled back", sqlite_message(&e)),
                ));
            }
        }
    }
    rollback(conn);
    Err(StepError::new(
        StepErrorKind::Environment,
        m,
        format!(
            "COMMIT stayed blocked by another connection ({}), probably a long reader in rollback-journal mode; rolled back, nothing of this migration was applied",
            last.as_ref().map(sqlite_message).unwrap_or_default()
        ),
    ))
}

/// Interrupts statements once the deadline passes or a stop signal arrived (SQLite calls
/// the handler every N VM steps); `None` removes it.
pub(super) fn set_deadline(conn: &mut Connection, timeout: Option<Option<Duration>>) {
    let _ = match timeout {
        Some(t) => {
            let deadline = t.map(|t| Instant::now() + t);
            conn.progress_handler(
                10_000,
                Some(move || interrupted() || deadline.is_some_and(|d| Instant::now() > d)),
            )
        }
        None => conn.progress_handler(0, None::<fn() -> bool>),
    };
}

/// Transaction control found by the splitter, before anything runs.
fn refuse_transaction_control(m: &Migration, idx: &LineIndex) -> Result<(), StepError> {
    for s in m.up_statements() {
        if sql::is_transaction_control(sql::classify(&s, &m.text)) {
            let first = s.text(&m.text).split_whitespace().next().unwrap_or("");
            return Err(StepError::new(
                StepErrorKind::Refused,
                m,
                format!(
                    "`{}` in a migration that schemagate runs in its own transaction; remove the transaction control (each migration already commits atomically with its history row), or put `-- schemagate:no-transaction` on the first line to run it without a transaction (not atomic)",
                    first.to_ascii_uppercase().trim_end_matches(';')
                ),
            )
            .at(idx, s.span.start));
        }
    }
    Ok(())
}

/// Runs a SQL migration's Up statements on `conn`, inside the caller's transaction (a Down
/// section is never run here). Public for the dry run's idempotency check, which runs them a
/// second time and reads the schema before its own ROLLBACK.
pub fn run_statements(
    conn: &Connection,
    m: &Migration,
    idx: &LineIndex,
) -> Result<usize, StepError> {
    run_split(conn, &m.text, m.up_statements(), &|e, offset| {
        step_failure(m, e).at(idx, offset)
    })
}

/// Runs `statements` (spans into `src`) one by one; a failure carries the statement's
/// position (or, for a syntax error, the offending token's), turned into an error by
/// `fail`.
pub(super) fn run_split(
    conn: &Connection,
    src: &str,
    statements: Vec<sql::Statement>,
    fail: &dyn Fn(&rusqlite::Error, usize) -> StepError,
) -> Result<usize, StepError> {
    let mut count = 0;
    for s in statements {
        let text = s.text(src);
        if sql::classify(&s, src) == sql::StatementKind::DotCommand {
            // Not an SQLite error, but it fails the step the same way, at the same place.
            let mut e = fail(&rusqlite::Error::InvalidQuery, s.span.start);
            e.kind = StepErrorKind::Failed;
            e.message = format!(
                "`{}` is a command of the sqlite3 shell, not SQL: SQLite's library cannot run it; remove it from the migration",
                text.trim_end()
            );
            return Err(e);
        }
        let mut stmt = match conn.prepare(text) {
            Ok(stmt) => stmt,
            Err(rusqlite::Error::Empty) => continue,
            Err(e) => {
                let offset = match &e {
                    rusqlite::Error::SqlInputError { offset, .. } if *offset >= 0 => {
                        s.span.start + *offset as usize
                    }
                    _ => s.span.start,
                };
                return Err(fail(&e, offset));
            }
        };
        let result = stmt.query([]).and_then(|mut rows| {
            while rows.next()?.is_some() {}
            Ok(())
        });
        if let Err(e) = result {
            return Err(fail(&e, s.span.start));
        }
        count += 1;
    }
    Ok(count)
}

/// A statement the authorizer denied: says what was denied. Writing schemagate's tables is
/// the migration's failure (exit 1); transaction control stays a refusal.
pub(super) fn explain_denial(mut e: StepError, denied: Option<Denied>) -> StepError {
    if let Some(d @ Denied::Write { .. }) = denied {
        e.kind = StepErrorKind::Failed;
        e.message = format!("not authorized: {}", d.explain());
    }
    e
}

pub(super) fn step_failure(m: &Migration, e: &rusqlite::Error) -> StepError {
    let msg = sqlite_message(e);
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) && interrupted() {
        return StepError::new(
            StepErrorKind::Interrupted,
            m,
            "interrupted by a signal; this migration was rolled back",
        );
    }
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) {
        return StepError::new(
            StepErrorKind::Failed,
            m,
            "the migration exceeded --migration-timeout and was interrupted; rolled back",
        );
    }
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::AuthorizationForStatementDenied) {
        return StepError::new(
            StepErrorKind::Refused,
            m,
            format!("{msg}: {}", Denied::TransactionControl.explain()),
        );
    }
    // The disk, not the migration: exit 2, and no claim of "disk full" for an I/O error
    // that may be a file-size limit (EFBIG), a quota or a failing device.
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::SystemIoFailure) {
        return StepError::new(
            StepErrorKind::Environment,
            m,
            format!(
                "{msg}: writing the database or its journal failed (a file-size limit, a quota, a full disk or a failing device); this migration was rolled back, the ones before it stay applied"
            ),
        );
    }
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        return StepError::new(
            StepErrorKind::Environment,
            m,
            format!(
                "{msg}: free space where the database and its journal live; this migration was rolled back, the ones before it stay applied"
            ),
        );
    }
    if is_busy(e) {
        return StepError::new(
            StepErrorKind::Environment,
            m,
            format!(
                "{msg} (another connection held the database for longer than the busy timeout)"
            ),
        );
    }
    StepError::new(StepErrorKind::Failed, m, msg)
}

/// Applies one migration on `conn` (which must have no open transaction). `file` is the
/// migration's real path (Python migrations are imported from it; `db_path` is opened by the
/// Python runner as a separate process, so `conn` holds no transaction while it runs).
pub fn apply_one(
    conn: &mut Connection,
    db_path: &Path,
    file: &Path,
    m: &Migration,
    opts: &ApplyOptions<'_>,
) -> Result<StepResult, StepError> {
    if !conn.is_autocommit() {
        rollback(conn);
    }
    match m.kind {
        Kind::Python => apply_python(conn, db_path, file, m, opts),
        Kind::Sql if m.no_transaction => apply_sql_no_transaction(conn, m, opts),
        Kind::Sql => {
            // `PRAGMA foreign_keys` is a silent no-op inside a transaction, and with it on
            // (the bundled SQLite's default) the DROP TABLE of a table rebuild cascades
            // deletes into child tables. Off before BEGIN; new violations are checked
            // explicitly before COMMIT; the setting is put back afterwards.
            let fk_on = conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
                .unwrap_or(0)
                == 1;
            if fk_on {
                let _ = conn.execute_batch("PRAGMA foreign_keys = OFF");
            }
            let result = apply_sql(conn, m, opts);
            if fk_on {
                let _ = conn.execute_batch("PRAGMA foreign_keys = ON");
            }
            result
        }
    }
}

fn apply_sql(
    conn: &mut Connection,
    m: &Migration,
    opts: &ApplyOptions<'_>,
) -> Result<StepResult, StepError> {
    let idx = LineIndex::new(&m.text);
    refuse_transaction_control(m, &idx)?;
    let started = Instant::now();
    begin(conn, m, opts.busy_timeout)?;
    let (mut result, no_foreign_keys_after) = match sql_in_transaction(conn, m, opts, &idx, started)
    {
        Ok(r) => r,
        Err(e) => {
            rollback(conn);
            return Err(e);
        }
    };
    if result.already_applied || !opts.commit {
        rollback(conn);
    } else {
        crate::db::failpoint(&format!("before_commit:{}", m.version));
        commit(conn, m)?;
        if no_foreign_keys_after {
            remember_no_foreign_keys(conn);
        }
        crate::db::failpoint(&format!("after_commit:{}", m.version));
    }
    result.duration = started.elapsed();
    Ok(result)
}

/// The body of [`apply_sql`], inside its transaction. The flag says no table declares a
/// foreign key once the migration has run.
fn sql_in_transaction(
    conn: &mut Connection,
    m: &Migration,
    opts: &ApplyOptions<'_>,
    idx: &LineIndex,
    started: Instant,
) -> Result<(StepResult, bool), StepError> {
    if opts.record_history
        && history::is_recorded(conn, &m.version).map_err(|e| step_failure(m, &e))?
    {
        let result = StepResult {
            already_applied: true,
            description: m.description.clone(),
            ..StepResult::default()
        };
        return Ok((result, false));
    }
    // Before any change in this transaction the schema cookie is the committed one.
    let fk_before = if no_foreign_keys_known(conn) {
        None
    } else {
        foreign_key_violations(conn).map_err(|e| step_failure(m, &e))?
    };
    let guard = Guard::install(conn, true);
    set_deadline(conn, Some(opts.migration_timeout));
    let statements = run_statements(conn, m, idx);
    set_deadline(conn, None);
    let denied = guard.remove(conn);
    let statements = statements.map_err(|e| explain_denial(e, denied))?;
    let no_foreign_keys_after = check_schema_after(conn, m, &fk_before)?;
    if opts.record_history {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        history::execute_record(
            conn,
            &history::record_statements(m, Some(ms)),
            &m.description,
        )
        .map_err(|e| record_failure(m, &e))?;
    }
    let result = StepResult {
        statements,
        description: m.description.clone(),
        ..StepResult::default()
    };
    Ok((result, no_foreign_keys_after))
}

fn record_failure(m: &Migration, e: &rusqlite::Error) -> StepError {
    StepError::new(
        StepErrorKind::Failed,
        m,
        format!(
            "cannot record the migration in schema_versions: {}; rolled back",
            sqlite_message(e)
        ),
    )
}

/// A migration declared `-- schemagate:no-transaction` (VACUUM, journal_mode changes): its
/// statements run in autocommit mode, so it is not atomic. A committed `running` marker
/// brackets it; a failure or a crash leaves the marker, which blocks later runs until an
/// operator has looked at the database.
fn apply_sql_no_transaction(
    conn: &mut Connection,
    m: &Migration,
    opts: &ApplyOptions<'_>,
) -> Result<StepResult, StepError> {
    let idx = LineIndex::new(&m.text);
    let started = Instant::now();
    if opts.record_history {
        history::mark_running(conn, m).map_err(|e| step_failure(m, &e))?;
    }
    let guard = Guard::install(conn, false);
    set_deadline(conn, Some(opts.migration_timeout));
    let statements = run_statements(conn, m, &idx);
    set_deadline(conn, None);
    let denied = guard.remove(conn);
    let statements = match statements.map_err(|e| explain_denial(e, denied)) {
        Ok(n) => n,
        Err(mut e) => {
            rollback(conn);
            if opts.record_history {
                let _ = history::mark_failed(conn, m, &e.render());
                e.kind = StepErrorKind::Dirty;
                e.message = format!(
                    "{} (this migration runs without a transaction: the statements before the failing one stay applied, and a marker now stops `migrate`; check the database, finish or undo those statements by hand, then run `schemagate resolve {} --applied` or `--rolled-back` with --reason)",
                    e.message, m.version
                );
            }
            return Err(e);
        }
    };
    let mut result = StepResult {
        statements,
        description: m.description.clone(),
        ..StepResult::default()
    };
    if opts.record_history {
        begin(conn, m, opts.busy_timeout)?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let recorded = history::execute_record(
            conn,
            &history::record_statements(m, Some(ms)),
            &m.description,
        )
        .and_then(|()| history::clear_marker(conn, m.version.as_str()));
        if let Err(e) = recorded {
            rollback(conn);
            return Err(record_failure(m, &e));
        }
        if opts.commit {
            commit(conn, m)?;
        } else {
            rollback(conn);
        }
    }
    result.duration = started.elapsed();
    Ok(result)
}

fn apply_python(
    conn: &Connection,
    db_path: &Path,
    file: &Path,
    m: &Migration,
    opts: &ApplyOptions<'_>,
) -> Result<StepResult, StepError> {
    if opts.record_history
        && history::is_recorded(conn, &m.version).map_err(|e| step_failure(m, &e))?
    {
        return Ok(StepResult {
            already_applied: true,
            description: m.description.clone(),
            ..StepResult::default()
        });
    }
    let record = if opts.record_history {
        history::record_statements(m, None)
    } else {
        Vec::new()
    };
    let job = pyrunner::Job {
        python: opts.python,
        db_path,
        migration: m,
        file,
        direction: pyrunner::Direction::Upgrade,
        record: &record,
        commit: opts.commit,
        env: opts.env,
        busy_timeout: opts.busy_timeout,
        timeout: opts.migration_timeout,
    };
    match pyrunner::run(&job) {
        Ok(out) => Ok(StepResult {
            duration: out.duration,
            statements: 0,
            warnings: out.warnings,
            description: out.description,
            output: out.output,
            already_applied: false,
        }),
        Err(
            e @ pyrunner::Error::Crashed {
                committing: true, ..
            },
        ) if opts.record_history && opts.commit => {
            // The runner died while committing: the history row, which commits with the
            // migration, says which way it went.
            let mut failure = python_failure(m, e);
            match history::is_recorded(conn, &m.version) {
                Ok(true) => {
                    failure.message =
                        format!("{} (the history shows it was committed)", failure.message);
                    Ok(StepResult {
                        warnings: vec![failure.render()],
                        description: m.description.clone(),
                        ..StepResult::default()
                    })
                }
                Ok(false) => {
                    failure.kind = StepErrorKind::Failed;
                    failure.message = format!(
                        "{} (the history shows it was not committed: rolled back)",
                        failure.message
                    );
                    Err(failure)
                }
                Err(_) => Err(failure),
            }
        }
        Err(e) => Err(python_failure(m, e)),
    }
}

/// The same classification as the SQL path: the environment (no interpreter, the database
/// locked past the busy timeout, a full disk) is exit 2; the migration's own failure, a
/// timeout, or a runner that died before COMMIT (nothing committed) is a failed, rolled
/// back migration; a runner that died while committing leaves the outcome unknown.
pub(super) fn python_failure(m: &Migration, e: pyrunner::Error) -> StepError {
    let message = e.to_string();
    match e {
        pyrunner::Error::NotFound { .. } | pyrunner::Error::Environment { .. } => {
            StepError::new(StepErrorKind::Environment, m, message)
        }
        pyrunner::Error::Failed {
            message,
            line,
            traceback,
            ..
        } => {
            let mut s = StepError::new(StepErrorKind::Failed, m, message);
            s.line = line;
            s.detail = (!traceback.trim().is_empty()).then_some(traceback);
            s
        }
        pyrunner::Error::Timeout(_) => StepError::new(StepErrorKind::Failed, m, message),
        pyrunner::Error::Crashed {
            committing: false, ..
        } => StepError::new(StepErrorKind::Failed, m, message),
        pyrunner::Error::Crashed { .. } => StepError::new(StepErrorKind::Unknown, m, message),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, opts, run_in_memory, tables};
    use super::*;

    #[test]
    fn failure_at_the_third_statement_names_line_and_leaves_nothing() {
        let d = one(
            "003_x.sql",
            "CREATE TABLE a(x);\nINSERT INTO a VALUES (1);\n\n  INSERT INTO nope VALUES (2);\nCREATE TABLE b(x);\n",
        );
        let mut conn = Connection::open_in_memory().unwrap();
        let e = run_in_memory(&mut conn, &d.migrations[0]).unwrap_err();
        assert_eq!(e.kind, StepErrorKind::Failed);
        assert_eq!((e.line, e.column), (Some(4), Some(3)), "{e}");
        assert!(
            e.render()
                .starts_with("m/003_x.sql:4:3: no such table: nope"),
            "{e}"
        );
        assert!(tables(&conn).is_empty(), "{:?}", tables(&conn));
        assert!(conn.is_autocommit());
    }

    #[test]
    fn syntax_error_points_at_the_token() {
        let d = one("001_x.sql", "CREATE TABLE a(x);\nSELECT * FORM a;\n");
        let mut conn = Connection::open_in_memory().unwrap();
        let e = run_in_memory(&mut conn, &d.migrations[0]).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.column.unwrap() > 1, "{e}");
        assert!(e.message.contains("syntax error"), "{e}");
    }

    #[test]
    fn success_records_the_row_in_the_same_transaction() {
        let d = one(
            "001_x.sql",
            "-- Make a\nCREATE TABLE a(x);\nSELECT * FROM a;\n",
        );
        let mut conn = Connection::open_in_memory().unwrap();
        let r = run_in_memory(&mut conn, &d.migrations[0]).unwrap();
        assert_eq!(r.statements, 2);
        let rows = history::read(&conn).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].checksum.as_deref(),
            Some(d.migrations[0].checksum.as_str())
        );
        let again = run_in_memory(&mut conn, &d.migrations[0]).unwrap();
        assert!(again.already_applied);
    }

    #[test]
    fn commit_false_rolls_everything_back() {
        let d = one("001_x.sql", "CREATE TABLE a(x);");
        let mut conn = Connection::open_in_memory().unwrap();
        let o = ApplyOptions {
            commit: false,
            ..opts()
        };
        apply_one(
            &mut conn,
            Path::new(":memory:"),
            Path::new("x"),
            &d.migrations[0],
            &o,
        )
        .unwrap();
        assert!(tables(&conn).is_empty());
    }

    #[test]
    fn transaction_control_is_refused_with_its_position() {
        let d = one(
            "002_x.sql",
            "CREATE TABLE a(x);\nCOMMIT;\nCREATE TABLE b(x);\n",
        );
        let mut conn = Connection::open_in_memory().unwrap();
        let e = run_in_memory(&mut conn, &d.migrations[0]).unwrap_err();
        assert_eq!(e.kind, StepErrorKind::Refused);
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("no-transaction"), "{e}");
        assert!(tables(&conn).is_empty());
    }

    #[test]
    fn no_transaction_migration_runs_vacuum_and_clears_its_marker() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let mut conn = Connection::open(&db).unwrap();
        let d = one(
            "004_v.sql",
            "-- schemagate:no-transaction\nCREATE TABLE a(x);\nVACUUM;\n",
        );
        let r = apply_one(&mut conn, &db, Path::new("x"), &d.migrations[0], &opts()).unwrap();
        assert_eq!(r.statements, 2);
        assert!(history::dirty(&conn).unwrap().is_empty());
        assert_eq!(history::read(&conn).unwrap().len(), 1);

        let bad = one(
            "005_v.sql",
            "-- schemagate:no-transaction\nCREATE TABLE b(x);\nINSERT INTO nope VALUES (1);\n",
        );
        let e = apply_one(&mut conn, &db, Path::new("x"), &bad.migrations[0], &opts()).unwrap_err();
        assert_eq!(e.kind, StepErrorKind::Dirty);
        let markers = history::dirty(&conn).unwrap();
        assert_eq!(markers.len(), 1);
        assert_eq!(markers[0].state, "failed");
    }

    #[test]
    fn migration_timeout_interrupts_and_rolls_back() {
        let d = one(
            "001_slow.sql",
            "CREATE TABLE t(x);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c) INSERT INTO t SELECT i FROM c;\n",
        );
        let mut conn = Connection::open_in_memory().unwrap();
        let o = ApplyOptions {
            migration_timeout: Some(Duration::from_millis(50)),
            ..opts()
        };
        let e = apply_one(
            &mut conn,
            Path::new(":memory:"),
            Path::new("x"),
            &d.migrations[0],
            &o,
        )
        .unwrap_err();
        assert!(e.message.contains("migration-timeout"), "{e}");
        assert!(tables(&conn).is_empty());
    }

    #[test]
    fn table_rebuild_does_not_cascade_into_child_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE child(id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id) ON DELETE CASCADE);
             INSERT INTO parent VALUES (1, 'a');
             INSERT INTO child VALUES (1, 1), (2, 1);",
        )
        .unwrap();
        let d = one(
            "004_rebuild.sql",
            "CREATE TABLE parent_new(id INTEGER PRIMARY KEY, name TEXT, extra TEXT);\nINSERT INTO parent_new(id, name) SELECT id, name FROM parent;\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;\n",
        );
        run_in_memory(&mut conn, &d.migrations[0]).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM child", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "children survive the rebuild");
    }
}
