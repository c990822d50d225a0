//! The executor (shell): applies one migration on an open connection ([`apply_one`]), and
//! the whole `migrate` run ([`migrate`]): lock, re-read history under the lock, refuse on
//! drift and friends, back up, apply each pending migration atomically with its history
//! row, stop at the first failure.
//!
//! Each transactional migration runs in `BEGIN IMMEDIATE` (never a deferred transaction that
//! fails with SQLITE_BUSY_SNAPSHOT when it first writes), statement by statement so that a
//! failure names `file:line:column`, with an authorizer that denies transaction control, and
//! its `schema_versions` row is inserted before the one COMMIT. A failure or a `kill -9`
//! therefore leaves the database exactly at the previous migration boundary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use serde::{Deserialize, Serialize};

use crate::config::RuleLevel;
use crate::history;
use crate::migration::{Discovery, Kind, Migration};
use crate::plan::Plan;
use crate::pyrunner;
use crate::report::{Finding, Location, Severity};
use crate::sql::{self, LineIndex, StatementKind};

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
    fn new(kind: StepErrorKind, m: &Migration, message: impl Into<String>) -> StepError {
        StepError {
            kind,
            message: message.into(),
            path: Some(m.path.clone()),
            line: None,
            column: None,
            detail: None,
        }
    }

    fn at(mut self, idx: &LineIndex, offset: usize) -> StepError {
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
fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

fn sqlite_message(e: &rusqlite::Error) -> String {
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
fn begin(conn: &Connection, m: &Migration, busy: Duration) -> Result<(), StepError> {
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
fn commit(conn: &Connection, m: &Migration) -> Result<(), StepError> {
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

/// Denies transaction control inside our transaction: a `COMMIT` in the file would commit
/// half a migration without its history row.
fn deny_transaction_control(conn: &mut Connection) {
    let _ = conn.authorizer(Some(|ctx: AuthContext<'_>| match ctx.action {
        AuthAction::Transaction { .. } => Authorization::Deny,
        _ => Authorization::Allow,
    }));
}

fn clear_authorizer(conn: &mut Connection) {
    let _ = conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes SIGINT and SIGTERM stop a run at the next safe point instead of killing it: the
/// running SQL migration is interrupted and rolled back (a Python migration is let finish),
/// nothing further starts, the lock is released and the report says where the database is.
/// For the CLI; a library caller keeps its own signal handling.
pub fn stop_on_signals() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Whether SIGINT or SIGTERM arrived since [`stop_on_signals`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Interrupts statements once the deadline passes or a stop signal arrived (SQLite calls
/// the handler every N VM steps); `None` removes it.
fn set_deadline(conn: &mut Connection, timeout: Option<Option<Duration>>) {
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
    for s in sql::split(&m.text) {
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

/// Runs the file's statements one by one; a failure carries the statement's position (or,
/// for a syntax error, the offending token's).
/// Runs a SQL migration's statements on `conn`, inside the caller's transaction. Public for
/// the dry run's idempotency check, which runs them a second time and reads the schema
/// before its own ROLLBACK.
pub fn run_statements(
    conn: &Connection,
    m: &Migration,
    idx: &LineIndex,
) -> Result<usize, StepError> {
    let mut count = 0;
    for s in sql::split(&m.text) {
        let text = s.text(&m.text);
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
                return Err(step_failure(m, &e).at(idx, offset));
            }
        };
        let result = stmt.query([]).and_then(|mut rows| {
            while rows.next()?.is_some() {}
            Ok(())
        });
        if let Err(e) = result {
            return Err(step_failure(m, &e).at(idx, s.span.start));
        }
        count += 1;
    }
    Ok(count)
}

fn step_failure(m: &Migration, e: &rusqlite::Error) -> StepError {
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
            format!(
                "{msg}: transaction control is not allowed in a migration that runs in schemagate's transaction (put `-- schemagate:no-transaction` on the first line to run it without one)"
            ),
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
    deny_transaction_control(conn);
    set_deadline(conn, Some(opts.migration_timeout));
    let statements = run_statements(conn, m, idx);
    set_deadline(conn, None);
    clear_authorizer(conn);
    let statements = statements?;
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

thread_local! {
    /// A committed schema, as (database path, schema cookie), in which no table declares a
    /// foreign key. Applying a long chain to such a database would otherwise scan the whole
    /// schema before every migration. Only committed states are remembered, and the cookie
    /// changes with every schema change, whoever makes it, so a match means the same schema.
    static NO_FOREIGN_KEYS: std::cell::RefCell<Option<(String, i64)>> = const { std::cell::RefCell::new(None) };
}

fn schema_key(conn: &Connection) -> Option<(String, i64)> {
    let path = conn.path().filter(|p| !p.is_empty())?.to_string();
    let cookie = conn
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .ok()?;
    Some((path, cookie))
}

fn no_foreign_keys_known(conn: &Connection) -> bool {
    let known = NO_FOREIGN_KEYS.with(|k| k.borrow().clone());
    known.is_some() && known == schema_key(conn)
}

fn remember_no_foreign_keys(conn: &Connection) {
    let key = schema_key(conn);
    NO_FOREIGN_KEYS.with(|k| *k.borrow_mut() = key);
}

/// Rows that violate a foreign key, as `(table, rowid, parent, fk index)`.
type FkViolations = std::collections::BTreeSet<(String, Option<i64>, String, i64)>;

/// The rows that violate a foreign key now; `None` when no table declares one (nothing to
/// scan, which keeps big databases without foreign keys from paying for the check).
fn foreign_key_violations(conn: &Connection) -> rusqlite::Result<Option<FkViolations>> {
    let declared: i64 = conn.query_row(
        // instr(lower(..)) rather than LIKE '%..%': the same case-insensitive test, about ten
        // times cheaper, and it runs twice per migration over the whole schema.
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND instr(lower(sql), 'references') > 0",
        [],
        |r| r.get(0),
    )?;
    if declared == 0 {
        return Ok(None);
    }
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect::<rusqlite::Result<_>>().map(Some)
}

/// Checks run before COMMIT. Our connection has `foreign_keys` off (a table rebuild must
/// not cascade deletes), so new violations are looked for explicitly, diffed against the
/// ones that were already there. Every view is compiled, which catches a rebuild that
/// renamed a table out from under it (modern `ALTER TABLE RENAME` rewrites references to
/// follow the old table to its new name).
fn check_schema_after(
    conn: &Connection,
    m: &Migration,
    fk_before: &Option<FkViolations>,
) -> Result<bool, StepError> {
    // Both checks scan the whole schema, which dominates the cost of a small migration on a
    // database with many tables; skip them when the migration cannot have changed the
    // outcome: no foreign key existed and none is declared by the migration, or nothing
    // was dropped, altered or (re)defined that an existing view could depend on.
    let may_add_fk = m.text.to_ascii_lowercase().contains("references");
    let after = if fk_before.is_none() && !may_add_fk {
        None
    } else {
        foreign_key_violations(conn).map_err(|e| step_failure(m, &e))?
    };
    let no_foreign_keys_after = after.is_none();
    let (after, before) = (
        after.unwrap_or_default(),
        fk_before.clone().unwrap_or_default(),
    );
    if let Some((table, rowid, parent, _)) = after.difference(&before).next() {
        let n = after.difference(&before).count();
        return Err(StepError::new(
            StepErrorKind::Failed,
            m,
            format!(
                "the migration leaves {n} new foreign key violation{} (first: {table} row {} references a missing row of {parent}); rolled back",
                if n == 1 { "" } else { "s" },
                rowid.map_or("?".to_string(), |r| r.to_string())
            ),
        ));
    }
    let may_break_views = crate::sql::split(&m.text).iter().any(|st| {
        !matches!(
            crate::sql::classify(st, &m.text),
            StatementKind::CreateTable
                | StatementKind::CreateIndex
                | StatementKind::CreateTrigger
                | StatementKind::Insert
                | StatementKind::Update
                | StatementKind::Delete
                | StatementKind::Select
        )
    });
    if !may_break_views {
        return Ok(no_foreign_keys_after);
    }
    let views: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'view'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| step_failure(m, &e))?;
    for v in views {
        let sql = format!("SELECT * FROM \"{}\" LIMIT 0", v.replace('"', "\"\""));
        if let Err(e) = conn.prepare(&sql) {
            return Err(StepError::new(
                StepErrorKind::Failed,
                m,
                format!(
                    "after this migration the view {v} no longer compiles ({}); rolled back. If a table was rebuilt by renaming the old one first, use SQLite's 12-step procedure (create the new table, copy, drop the old one, rename the new one)",
                    sqlite_message(&e)
                ),
            ));
        }
    }
    Ok(no_foreign_keys_after)
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
    set_deadline(conn, Some(opts.migration_timeout));
    let statements = run_statements(conn, m, &idx);
    set_deadline(conn, None);
    let statements = match statements {
        Ok(n) => n,
        Err(mut e) => {
            rollback(conn);
            if opts.record_history {
                let _ = history::mark_failed(conn, m, &e.render());
                e.kind = StepErrorKind::Dirty;
                e.message = format!(
                    "{} (this migration runs without a transaction: the statements before this one stay applied; check the database, then clear the marker in the schemagate_state table)",
                    e.message
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
        Err(e) => Err(python_failure(m, e)),
    }
}

fn python_failure(m: &Migration, e: pyrunner::Error) -> StepError {
    let message = e.to_string();
    match e {
        pyrunner::Error::NotFound { .. } => StepError::new(StepErrorKind::Environment, m, message),
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
        pyrunner::Error::Crashed { .. } => StepError::new(StepErrorKind::Unknown, m, message),
    }
}

// ---------------------------------------------------------------------------------------
// The whole run
// ---------------------------------------------------------------------------------------

/// Checks `migrate` refuses on, unless overridden.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub drift: bool,
    pub duplicates: bool,
    pub renamed_applied: bool,
}

/// Where and whether to back up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackupPolicy {
    Skip,
    Into { dir: PathBuf, keep: Option<usize> },
}

/// Settings of a `migrate` run.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Create the database when it does not exist (a new environment).
    pub create: bool,
    pub lock_timeout: Duration,
    pub busy_timeout: Duration,
    pub migration_timeout: Option<Duration>,
    pub backup: BackupPolicy,
    pub overrides: Overrides,
    pub python: String,
    pub env: Vec<(String, String)>,
    /// `[rules]` from schemagate.toml (severity overrides of the history rules).
    pub rules: std::collections::BTreeMap<String, RuleLevel>,
    /// `[[accept-checksum]]` from schemagate.toml: reviewed drift that does not block.
    pub accepted: Vec<crate::config::AcceptedChecksum>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            create: true,
            lock_timeout: Duration::from_secs(60),
            busy_timeout: Duration::from_secs(10),
            migration_timeout: None,
            backup: BackupPolicy::Skip,
            overrides: Overrides::default(),
            python: "python3".into(),
            env: Vec::new(),
            rules: Default::default(),
            accepted: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MigrateStatus {
    /// Nothing was pending.
    Current,
    /// Everything pending was applied.
    Migrated,
    /// Refused, or a migration failed (what was applied before it stays applied).
    Error,
}

/// The result of a run: the legacy `auto_migrate` keys (`status`, `applied`, `count`) plus
/// `backup` and `error` (DESIGN §4), and a few more facts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MigrateResult {
    pub status: MigrateStatus,
    /// Versions applied by this run, in order.
    pub applied: Vec<String>,
    pub count: usize,
    /// The backup made before applying, if any.
    pub backup: Option<String>,
    pub error: Option<Location>,
    /// The database did not exist and was created by this run.
    #[serde(default)]
    pub created: bool,
    /// Why the run refused to apply (drift, duplicates, renamed-applied), and other
    /// history findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// What kind of failure stopped the run (`environment`: the database stayed locked,
    /// no Python; the CLI exits 2 for those, 1 for the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StepErrorKind>,
}

impl MigrateResult {
    pub fn failed(message: impl Into<String>) -> MigrateResult {
        MigrateResult {
            status: MigrateStatus::Error,
            applied: Vec::new(),
            count: 0,
            backup: None,
            error: Some(Location {
                message: message.into(),
                path: None,
                line: None,
                column: None,
            }),
            created: false,
            findings: Vec::new(),
            failure: Some(StepErrorKind::Environment),
        }
    }
}

/// Progress of a run, for the CLI's log.
#[derive(Debug)]
pub enum Event<'a> {
    Created(&'a Path),
    Waiting(&'a str),
    BackedUp(&'a Path),
    Pruned(&'a Path),
    Applying(&'a Migration),
    Applied(&'a Migration, &'a StepResult),
    Skipped(&'a Migration, &'a str),
}

/// Whether a finding stops `migrate` (error severity, not overridden).
pub fn blocks(f: &Finding, o: &Overrides) -> bool {
    f.severity == Severity::Error
        && !match f.rule.as_str() {
            "checksum-drift" => o.drift,
            "duplicate-version" => o.duplicates,
            "renamed-applied" => o.renamed_applied,
            _ => false,
        }
}

/// The deploy step. `Err` is an environment problem (exit 2: lock timeout, unusable
/// database, backup failure, no Python); a refusal or a failed migration is an `Ok` result
/// with status `error` (exit 1).
pub fn migrate(
    db_path: &Path,
    migrations_dir: &Path,
    discovery: &Discovery,
    opts: &MigrateOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<MigrateResult> {
    use anyhow::Context as _;
    let existed = crate::db::probe(db_path)? != crate::db::FileState::Missing;
    if !existed {
        if !opts.create {
            anyhow::bail!("database {} does not exist", db_path.display());
        }
        if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        }
    }
    let lock = match crate::lock::acquire(db_path, Duration::ZERO) {
        Ok(l) => l,
        Err(crate::lock::LockError::Timeout { holder, .. }) => {
            on_event(Event::Waiting(&holder));
            crate::lock::acquire(db_path, opts.lock_timeout)?
        }
        Err(e) => return Err(e.into()),
    };
    let opened = crate::db::open_for_write(db_path, opts.create, opts.busy_timeout)?;
    let mut conn = opened.conn;
    let created = opened.created;
    // Nothing may stay behind when a new database is refused before anything was applied.
    let discard_new = |conn: Connection| {
        if created {
            drop(conn);
            let _ = std::fs::remove_file(db_path);
        }
    };
    if created {
        // A database file SQLite created but never wrote is 0 bytes, which the next run
        // would refuse as "truncated"; the history table makes it a real, new database.
        conn.execute_batch(history::CREATE_TABLE)
            .map_err(|e| crate::db::explain(db_path, e))?;
        on_event(Event::Created(db_path));
    }

    let dirty = history::dirty(&conn).map_err(|e| crate::db::explain(db_path, e))?;
    if let Some(d) = dirty.first() {
        anyhow::bail!(
            "database {} is in an unknown state: {d}. Check the database by hand; when it is consistent, record the migration (`schemagate mark-applied {}`) or remove the marker: DELETE FROM schemagate_state WHERE version = '{}'",
            db_path.display(),
            d.version,
            d.version
        );
    }
    // Re-read under the lock: what another migrator applied while we waited is not pending.
    let rows = history::read(&conn).map_err(|e| crate::db::explain(db_path, e))?;
    let plan = Plan::new(discovery, &rows);
    let display = db_path.display().to_string();
    let findings =
        crate::lint::deploy_findings(discovery, &plan, &display, &opts.rules, &opts.accepted);
    let mut result = MigrateResult {
        status: MigrateStatus::Current,
        applied: Vec::new(),
        count: 0,
        backup: None,
        error: None,
        created,
        findings: Vec::new(),
        failure: None,
    };
    let blocking: Vec<Finding> = findings
        .iter()
        .filter(|f| blocks(f, &opts.overrides))
        .cloned()
        .collect();
    if !blocking.is_empty() {
        discard_new(conn);
        result.status = MigrateStatus::Error;
        result.created = false;
        result.error = Some(Location {
            message: format!(
                "refusing to apply: {} problem{} with the migrations or the history (see the findings); nothing was applied",
                blocking.len(),
                if blocking.len() == 1 { "" } else { "s" }
            ),
            path: None,
            line: None,
            column: None,
        });
        result.findings = findings;
        result.failure = Some(StepErrorKind::Refused);
        drop(lock);
        return Ok(result);
    }
    result.findings = findings;

    let pending: Vec<&Migration> = plan.pending().collect();
    if pending.is_empty() {
        return Ok(result);
    }
    if pending.iter().any(|m| m.kind == Kind::Python)
        && let Err(e) = pyrunner::check_available(&opts.python)
    {
        discard_new(conn);
        anyhow::bail!("{e} (a Python migration is pending; nothing was applied)");
    }
    // Import errors and a missing upgrade() are found before anything is backed up or
    // applied, not half-way through the chain.
    for m in pending.iter().filter(|m| m.kind == Kind::Python) {
        let file = migrations_dir.join(&m.file_name);
        let checked = pyrunner::validate(
            &opts.python,
            m,
            &file,
            pyrunner::Direction::Upgrade,
            &opts.env,
            opts.migration_timeout,
        );
        if let Err(e) = checked {
            let e = python_failure(m, e);
            if e.kind == StepErrorKind::Environment {
                discard_new(conn);
                anyhow::bail!("{e}");
            }
            discard_new(conn);
            result.status = MigrateStatus::Error;
            result.created = false;
            let mut loc: Location = (&e).into();
            loc.message = format!(
                "{} (found before applying anything; nothing was applied)",
                loc.message
            );
            result.error = Some(loc);
            result.failure = Some(e.kind);
            return Ok(result);
        }
    }

    if !created {
        // A damaged b-tree must stop us before we back it up or add to it.
        crate::db::quick_check(&conn)
            .map_err(|e| e.context(format!("database {}", db_path.display())))?;
    }
    if let BackupPolicy::Into { dir, keep } = &opts.backup
        && !created
    {
        let path =
            crate::backup::create(db_path, dir, opts.busy_timeout.max(Duration::from_secs(30)))?;
        on_event(Event::BackedUp(&path));
        result.backup = Some(path.display().to_string());
        crate::db::failpoint("after_backup");
        if let Some(keep) = keep {
            for p in crate::backup::prune(db_path, dir, (*keep).max(1))? {
                on_event(Event::Pruned(&p));
            }
        }
    }

    let apply_opts = ApplyOptions {
        record_history: true,
        commit: true,
        busy_timeout: opts.busy_timeout,
        migration_timeout: opts.migration_timeout,
        python: &opts.python,
        env: &opts.env,
    };
    let mut versions_done: Vec<&crate::migration::Version> = plan
        .entries
        .iter()
        .filter(|e| e.state.is_recorded())
        .map(|e| &e.version)
        .collect();
    for m in pending {
        if interrupted() {
            result.status = MigrateStatus::Error;
            result.count = result.applied.len();
            result.failure = Some(StepErrorKind::Interrupted);
            result.error = Some(Location {
                message: format!(
                    "interrupted by a signal before {}; the database is intact at the last applied migration",
                    m.path
                ),
                path: None,
                line: None,
                column: None,
            });
            return Ok(result);
        }
        if versions_done.contains(&&m.version) {
            // Only reachable with --allow duplicates: the legacy manager also ran the first
            // file of a version and skipped the rest.
            on_event(Event::Skipped(m, "its version is already applied"));
            continue;
        }
        on_event(Event::Applying(m));
        let file = migrations_dir.join(&m.file_name);
        match apply_one(&mut conn, db_path, &file, m, &apply_opts) {
            Ok(step) => {
                crate::db::failpoint(&format!("applied:{}", m.version));
                if step.already_applied {
                    on_event(Event::Skipped(m, "another process recorded it meanwhile"));
                } else {
                    on_event(Event::Applied(m, &step));
                    result.applied.push(m.version.to_string());
                }
                versions_done.push(&m.version);
            }
            Err(e) => {
                result.status = MigrateStatus::Error;
                result.count = result.applied.len();
                let mut loc: Location = (&e).into();
                if let Some(d) = &e.detail {
                    loc.message = format!("{}\n{}", loc.message, d.trim_end());
                }
                result.error = Some(loc);
                result.failure = Some(e.kind);
                return Ok(result);
            }
        }
    }
    result.count = result.applied.len();
    if result.count > 0 {
        result.status = MigrateStatus::Migrated;
    }
    drop(lock);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    /// Applies `m` to an in-memory connection with the default test options.
    fn run_in_memory(conn: &mut Connection, m: &Migration) -> Result<StepResult, StepError> {
        apply_one(conn, Path::new(":memory:"), Path::new("x"), m, &opts())
    }

    fn opts() -> ApplyOptions<'static> {
        ApplyOptions {
            record_history: true,
            commit: true,
            busy_timeout: Duration::from_secs(1),
            migration_timeout: None,
            python: "python3",
            env: &[],
        }
    }

    fn one(name: &str, text: &str) -> Discovery {
        discover("m", [(name, text.as_bytes())])
    }

    fn tables(conn: &Connection) -> Vec<String> {
        let mut s = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

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
    fn new_foreign_key_violations_roll_back_but_old_ones_do_not_block() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF;
             CREATE TABLE parent(id INTEGER PRIMARY KEY);
             CREATE TABLE child(id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id));
             INSERT INTO child VALUES (1, 99);
             PRAGMA foreign_keys = ON;",
        )
        .unwrap();
        let ok = one("001_x.sql", "CREATE TABLE other(x);\n");
        run_in_memory(&mut conn, &ok.migrations[0]).unwrap();
        let bad = one("002_x.sql", "INSERT INTO child VALUES (2, 77);\n");
        let e = run_in_memory(&mut conn, &bad.migrations[0]).unwrap_err();
        assert!(e.message.contains("foreign key"), "{e}");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM child", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "the setting is put back");
    }

    #[test]
    fn the_first_foreign_key_of_a_database_is_checked_too() {
        // No table declared a foreign key before: the check after the migration must still
        // run because the migration itself declares one.
        let mut conn = Connection::open_in_memory().unwrap();
        let m = one(
            "001_x.sql",
            "CREATE TABLE parent(id INTEGER PRIMARY KEY);\nCREATE TABLE child(p INTEGER references parent(id));\nINSERT INTO child VALUES (5);\n",
        );
        let e = run_in_memory(&mut conn, &m.migrations[0]).unwrap_err();
        assert!(e.message.contains("foreign key"), "{e}");
        assert!(!crate::db::table_exists(&conn, "child").unwrap());
    }

    #[test]
    fn a_foreign_key_added_by_someone_else_is_seen_by_the_next_migration() {
        // The first migration leaves a schema without foreign keys (remembered by its schema
        // cookie); another connection then adds one, which changes the cookie.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let mut conn = Connection::open(&path).unwrap();
        let first = one(
            "001_x.sql",
            "CREATE TABLE parent(id INTEGER PRIMARY KEY);\n",
        );
        apply_one(
            &mut conn,
            &path,
            Path::new("x"),
            &first.migrations[0],
            &opts(),
        )
        .unwrap();
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE child(p INTEGER REFERENCES parent(id));")
            .unwrap();
        let bad = one("002_x.sql", "INSERT INTO child VALUES (5);\n");
        let e = apply_one(
            &mut conn,
            &path,
            Path::new("x"),
            &bad.migrations[0],
            &opts(),
        )
        .unwrap_err();
        assert!(e.message.contains("foreign key"), "{e}");
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

    #[test]
    fn rename_old_first_rebuild_that_breaks_a_view_is_rolled_back() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);
             CREATE VIEW names AS SELECT name FROM parent;",
        )
        .unwrap();
        let d = one(
            "003_rebuild.sql",
            "ALTER TABLE parent RENAME TO parent_old;\nCREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT, extra TEXT);\nINSERT INTO parent(id, name) SELECT id, name FROM parent_old;\nDROP TABLE parent_old;\n",
        );
        let e = run_in_memory(&mut conn, &d.migrations[0]).unwrap_err();
        assert!(e.message.contains("12-step"), "{e}");
        assert!(tables(&conn).contains(&"parent".to_string()));
        assert!(!tables(&conn).contains(&"parent_old".to_string()));
    }
}
