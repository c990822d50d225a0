//! The history tables (shell): `schema_versions` exactly as the legacy manager created it,
//! plus schemagate's own side tables.
//!
//! - `schema_versions(id, version, applied_at, description, checksum)` is never altered: the
//!   legacy manager may still read and write it during a transition. Rows we write keep its
//!   formats: `version` as in the file name, `applied_at` = `CURRENT_TIMESTAMP` (UTC
//!   `YYYY-MM-DD HH:MM:SS`), `checksum` = SHA-256 of the normalised file.
//! - `schemagate_history` holds the extra facts of rows schemagate wrote (file name,
//!   skeleton hash, duration, tool version), keyed by version.
//! - `schemagate_state` holds the "running" marker of a migration that runs without a
//!   wrapping transaction; a marker left behind means the database is in an unknown state.
//!
//! Reading: [`read_database`] is the one read-only reader of a database's history (`lint`,
//! `status`, `pending`, `dry-run`, `check`, `verify`, `renumber`, `backups`); the locked
//! read of the commands that write is [`crate::ops::Session::history`].
//!
//! A folder of another tool (its [`Layout`]) has that tool's history table instead, read by
//! [`read_database`] (and [`read_connection`]) as the tool reads it (`native`): what the
//! tool would apply is what `pending` and `dry-run` show. schemagate does not deploy with
//! those tables: that tool stays the deployer, and `migrate` and the repairs refuse
//! ([`refuse_foreign_writes`]). The one write is `rollback`'s: it removes the row of the
//! migration whose down SQL it ran, the way the tool's own revert does
//! (`crate::ops::rollback`).

mod native;

use std::path::Path;

use rusqlite::{Connection, named_params};
use serde_json::{Map, Value};

use crate::layout::Layout;
use crate::migration::Migration;
pub use crate::plan::DirtyMarker;
use crate::plan::{HistoryRow, RowOrigin};

/// `Err` (exit 2, before anything is opened) when `command` would write the history of a
/// folder that another tool deploys: schemagate writes only `schema_versions`, and a row in
/// it would mean nothing to that tool, while writing the tool's own table is the tool's job.
pub fn refuse_foreign_writes(layout: Layout, command: &str) -> anyhow::Result<()> {
    let (tool, deploy) = match layout {
        Layout::Legacy => return Ok(()),
        Layout::Sqlx => ("sqlx", "`sqlx migrate run`"),
        Layout::Dbmate => ("dbmate", "`dbmate up`"),
        Layout::Goose => ("goose", "`goose up`"),
        Layout::GolangMigrate => ("golang-migrate", "`migrate up`"),
        Layout::Flyway => (
            "Flyway",
            "`flyway migrate` (or refinery's `refinery migrate`)",
        ),
        Layout::Diesel => ("diesel", "`diesel migration run`"),
    };
    let folder = layout.as_str();
    if command == "migrate" {
        anyhow::bail!(
            "this folder is a {folder} folder: {tool} stays the deployer, schemagate is its gate; run {deploy} (nothing was changed)"
        );
    }
    anyhow::bail!(
        "this folder is a {folder} folder: its history is {tool}'s own table, which schemagate reads but never writes; `{command}` changes only schemagate's schema_versions, so repair the history with {tool} (nothing was changed)"
    )
}

pub const TABLE: &str = "schema_versions";
pub const SIDE_TABLE: &str = "schemagate_history";
pub const STATE_TABLE: &str = "schemagate_state";

/// The legacy manager's DDL, verbatim.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_versions (
    id INTEGER PRIMARY KEY,
    version TEXT UNIQUE NOT NULL,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    description TEXT,
    checksum TEXT
)";

pub const CREATE_SIDE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schemagate_history (
    version TEXT PRIMARY KEY NOT NULL,
    file_name TEXT,
    checksum TEXT,
    skeleton TEXT,
    duration_ms REAL,
    tool_version TEXT,
    applied_at TEXT
)";

pub const CREATE_STATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schemagate_state (
    version TEXT PRIMARY KEY NOT NULL,
    file_name TEXT,
    state TEXT NOT NULL,
    started_at TEXT,
    pid INTEGER,
    message TEXT
)";

/// One SQL statement with named parameters (`:version`, ...), as data, so the Python
/// runner can run exactly the statements the Rust side runs, in its own transaction.
/// Keys are bare names (`version` for `:version`, as Python's sqlite3 takes them);
/// `description` is not in `params`: the runner binds it to the module's `DESCRIPTION`.
pub use crate::pyrunner::RecordStatement;

/// The statements that record `m` as applied: create the tables if needed, insert the
/// `schema_versions` row and the side-table row. Run inside the migration's transaction,
/// before COMMIT, so the row and the migration commit together or not at all.
pub fn record_statements(m: &Migration, duration_ms: Option<f64>) -> Vec<RecordStatement> {
    let plain = |sql: &str| RecordStatement {
        sql: sql.to_string(),
        params: Map::new(),
    };
    let mut row = Map::new();
    row.insert("version".into(), m.version.as_str().into());
    row.insert("checksum".into(), m.checksum.clone().into());
    let mut side = Map::new();
    side.insert("version".into(), m.version.as_str().into());
    side.insert("file_name".into(), m.file_name.clone().into());
    side.insert("checksum".into(), m.checksum.clone().into());
    side.insert(
        "skeleton".into(),
        crate::checksum::skeleton_hash(m.kind, m.text.as_bytes()).into(),
    );
    side.insert(
        "duration_ms".into(),
        duration_ms.map_or(Value::Null, Value::from),
    );
    side.insert(
        "tool_version".into(),
        env!("CARGO_PKG_VERSION").to_string().into(),
    );
    vec![
        plain(CREATE_TABLE),
        plain(CREATE_SIDE_TABLE),
        RecordStatement {
            sql: "INSERT INTO schema_versions (version, applied_at, description, checksum) \
                  VALUES (:version, CURRENT_TIMESTAMP, :description, :checksum)"
                .into(),
            params: row,
        },
        RecordStatement {
            sql: "INSERT OR REPLACE INTO schemagate_history \
                  (version, file_name, checksum, skeleton, duration_ms, tool_version, applied_at) \
                  VALUES (:version, :file_name, :checksum, :skeleton, :duration_ms, :tool_version, CURRENT_TIMESTAMP)"
                .into(),
            params: side,
        },
    ]
}

/// Runs record statements on `conn` (inside the caller's transaction).
pub fn execute_record(
    conn: &Connection,
    statements: &[RecordStatement],
    description: &str,
) -> rusqlite::Result<()> {
    for s in statements {
        let mut stmt = conn.prepare(&s.sql)?;
        let count = stmt.parameter_count();
        for i in 1..=count {
            let Some(name) = stmt.parameter_name(i) else {
                continue;
            };
            // Keys are bare names, as Python's sqlite3 takes them for `:name` parameters.
            let name = name.trim_start_matches([':', '@', '$']);
            if name == "description" && !s.params.contains_key("description") {
                stmt.raw_bind_parameter(i, description)?;
                continue;
            }
            let value = match s.params.get(name) {
                None | Some(Value::Null) => rusqlite::types::Value::Null,
                Some(Value::Bool(b)) => rusqlite::types::Value::Integer(i64::from(*b)),
                Some(Value::Number(n)) => match n.as_i64() {
                    Some(i) => rusqlite::types::Value::Integer(i),
                    None => rusqlite::types::Value::Real(n.as_f64().unwrap_or(0.0)),
                },
                Some(Value::String(s)) => rusqlite::types::Value::Text(s.clone()),
                Some(other) => rusqlite::types::Value::Text(other.to_string()),
            };
            stmt.raw_bind_parameter(i, value)?;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

/// An error whose text is the whole message (no SQLite code or statement around it).
fn message(text: String) -> rusqlite::Error {
    // Displayed as the inner text alone.
    rusqlite::Error::ToSqlConversionFailure(text.into())
}

/// Every `schema_versions` row (with what the side table knows), in id order. A database
/// without the table has no history: an empty list.
pub fn read(conn: &Connection) -> rusqlite::Result<Vec<HistoryRow>> {
    read_rows(conn, true)
}

/// [`read`] without what the side table knows (`file_name` and `skeleton` are `None`):
/// those two only tell what became of a row that matches no file (drift, duplicates), so
/// these rows are enough to find that every row matches its file, and a no-op `migrate`
/// needs no more. Half the time of [`read`] with 1000 rows.
pub fn read_lean(conn: &Connection) -> rusqlite::Result<Vec<HistoryRow>> {
    read_rows(conn, false)
}

fn read_rows(conn: &Connection, with_side_table: bool) -> rusqlite::Result<Vec<HistoryRow>> {
    if !crate::db::table_exists(conn, TABLE)? {
        return Ok(Vec::new());
    }
    let side = with_side_table && crate::db::table_exists(conn, SIDE_TABLE)?;
    // A table made by hand may lack the optional columns: they read as NULL (the rows are
    // then unverified). Without `id` or `version` it is no history table we can read.
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('schema_versions')")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let has = |c: &str| columns.iter().any(|n| n.eq_ignore_ascii_case(c));
    for required in ["id", "version"] {
        if !has(required) {
            return Err(message(format!(
                "the schema_versions table has no `{required}` column (it has: {}), so it is not a migration history this tool can read; check that this is the right database",
                columns.join(", ")
            )));
        }
    }
    // Columns are read as text whatever their stored type: a legacy row may hold an
    // integer version or a timestamp the application wrote in its own format.
    let col = |c: &str| {
        if has(c) {
            format!("CAST(v.{c} AS TEXT)")
        } else {
            "NULL".to_string()
        }
    };
    let (applied_at, description, checksum) =
        (col("applied_at"), col("description"), col("checksum"));
    let sql = if side {
        format!(
            "SELECT v.id, CAST(v.version AS TEXT), {applied_at}, {description}, {checksum}, h.file_name, h.skeleton
               FROM schema_versions v
               LEFT JOIN schemagate_history h
                 ON h.version = v.version AND h.checksum IS {checksum}
              ORDER BY v.id"
        )
    } else {
        format!(
            "SELECT v.id, CAST(v.version AS TEXT), {applied_at}, {description}, {checksum}, NULL, NULL
               FROM schema_versions v ORDER BY v.id"
        )
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        let id: i64 = r.get(0)?;
        // Text that is not UTF-8 (a BLOB stored in a TEXT column) is named by row and column.
        let text = |i: usize, column: &str| -> rusqlite::Result<Option<String>> {
            match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                    String::from_utf8(b.to_vec()).map(Some).map_err(|_| {
                        message(format!(
                            "schema_versions row id {id}: the `{column}` column holds {} bytes that are not UTF-8 text (binary data stored in it?); fix the row, e.g. UPDATE schema_versions SET {column} = NULL WHERE id = {id}",
                            b.len()
                        ))
                    })
                }
                other => Ok(Some(format!("{other:?}"))),
            }
        };
        Ok(HistoryRow {
            id,
            version: text(1, "version")?.unwrap_or_default(),
            applied_at: text(2, "applied_at")?,
            description: text(3, "description")?,
            checksum: text(4, "checksum")?,
            file_name: text(5, "file_name")?,
            skeleton: text(6, "skeleton")?,
            ..Default::default()
        })
    })?;
    rows.collect()
}

/// A database's history, read without changing anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatabaseHistory {
    /// Whether the file exists. A missing file reads as a new database (no rows, no
    /// markers); whether that is what the caller wants is the caller's policy.
    pub exists: bool,
    pub rows: Vec<HistoryRow>,
    /// Markers of non-transactional migrations that did not finish.
    pub dirty: Vec<DirtyMarker>,
}

/// Reads the history of the database at `path` through a read-only connection
/// ([`crate::db::open_read_only`]): never creates or modifies a file, not even a `-wal`
/// or `-shm` beside it. `layout` chooses the table: `schema_versions` (and schemagate's
/// markers) for the legacy layout, the tool's own table for the others.
pub fn read_database(path: &Path, layout: Layout) -> anyhow::Result<DatabaseHistory> {
    Ok(read_database_and(path, layout, |_| Ok(()))?.0)
}

/// [`read_database`], plus what `also` reads through the same connection (`verify`: the
/// schema); `None` when the file does not exist.
pub fn read_database_and<T>(
    path: &Path,
    layout: Layout,
    also: impl FnOnce(&Connection) -> anyhow::Result<T>,
) -> anyhow::Result<(DatabaseHistory, Option<T>)> {
    let Some(conn) = crate::db::open_read_only(path)? else {
        return Ok((DatabaseHistory::default(), None));
    };
    let history = read_connection(&conn, layout, path)?;
    let extra = also(&conn)?;
    Ok((history, Some(extra)))
}

/// The history of the open database at `path` (`rollback` reads it under its lock): the
/// one reader of each layout's table, as [`read_database`] reads it.
pub fn read_connection(
    conn: &Connection,
    layout: Layout,
    path: &Path,
) -> anyhow::Result<DatabaseHistory> {
    let read = native::read(conn, layout, path)?;
    Ok(DatabaseHistory {
        exists: true,
        rows: read.rows,
        dirty: read.dirty,
    })
}

/// Whether `version` already has a row (re-checked inside the migration's transaction).
pub fn is_recorded(
    conn: &Connection,
    version: &crate::migration::Version,
) -> rusqlite::Result<bool> {
    // Versions compare numerically ("4" is "004"). Asking for each spelling of the number
    // with up to 12 leading zeros lets the UNIQUE index on `version` answer, instead of
    // reading the whole history once per migration.
    let significant = version.as_str().trim_start_matches('0');
    let spellings: Vec<String> = (0..=12)
        .map(|zeros| format!("{}{significant}", "0".repeat(zeros)))
        .filter(|s| !s.is_empty())
        .collect();
    let placeholders = vec!["?"; spellings.len()].join(", ");
    let found = conn.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM schema_versions WHERE version IN ({placeholders}))"),
        rusqlite::params_from_iter(&spellings),
        |r| r.get(0),
    );
    match found {
        // No history table yet (looking it up in sqlite_schema would scan the schema).
        Err(rusqlite::Error::SqliteFailure(_, Some(msg))) if msg.starts_with("no such table") => {
            Ok(false)
        }
        other => other,
    }
}

/// Markers left by non-transactional migrations that did not finish.
pub fn dirty(conn: &Connection) -> rusqlite::Result<Vec<DirtyMarker>> {
    if !crate::db::table_exists(conn, STATE_TABLE)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT version, file_name, state, started_at, message FROM schemagate_state ORDER BY version",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DirtyMarker {
            version: r.get(0)?,
            file_name: r.get(1)?,
            state: r.get(2)?,
            started_at: r.get(3)?,
            message: r.get(4)?,
            origin: RowOrigin::SchemaVersions,
        })
    })?;
    rows.collect()
}

/// Commits a `running` marker before a non-transactional migration starts.
pub fn mark_running(conn: &Connection, m: &Migration) -> rusqlite::Result<()> {
    conn.execute_batch(CREATE_STATE_TABLE)?;
    conn.execute(
        "INSERT OR REPLACE INTO schemagate_state (version, file_name, state, started_at, pid, message)
         VALUES (:version, :file_name, 'running', CURRENT_TIMESTAMP, :pid, NULL)",
        named_params! {
            ":version": m.version.as_str(),
            ":file_name": m.file_name,
            ":pid": i64::from(std::process::id()),
        },
    )?;
    Ok(())
}

/// Turns the marker into `failed` with SQLite's message (the migration stopped half-way).
pub fn mark_failed(conn: &Connection, m: &Migration, message: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE schemagate_state SET state = 'failed', message = ?2 WHERE version = ?1",
        (m.version.as_str(), message),
    )?;
    Ok(())
}

/// Removes the marker of `version` (run in the transaction that records the row, or by an
/// operator's repair once the database has been checked by hand).
pub fn clear_marker(conn: &Connection, version: &str) -> rusqlite::Result<()> {
    if crate::db::table_exists(conn, STATE_TABLE)? {
        conn.execute("DELETE FROM schemagate_state WHERE version = ?1", [version])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    #[test]
    fn recorded_rows_read_back_with_their_side_facts() {
        let d = discover(
            "m",
            [("001_a.sql", b"-- Make a\nCREATE TABLE a(x);\n".as_slice())],
        );
        let m = &d.migrations[0];
        let conn = Connection::open_in_memory().unwrap();
        assert!(read(&conn).unwrap().is_empty());
        execute_record(&conn, &record_statements(m, Some(1.5)), &m.description).unwrap();
        let rows = read(&conn).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.version, "001");
        assert_eq!(r.description.as_deref(), Some("Make a"));
        assert_eq!(r.checksum.as_deref(), Some(m.checksum.as_str()));
        assert_eq!(r.file_name.as_deref(), Some("001_a.sql"));
        assert!(r.skeleton.is_some());
        let at = r.applied_at.as_deref().unwrap();
        assert_eq!(at.len(), "YYYY-MM-DD HH:MM:SS".len(), "{at}");
        assert!(is_recorded(&conn, &crate::migration::Version::parse("1").unwrap()).unwrap());
    }

    #[test]
    fn is_recorded_compares_versions_numerically() {
        let conn = Connection::open_in_memory().unwrap();
        let one = crate::migration::Version::parse("1").unwrap();
        assert!(!is_recorded(&conn, &one).unwrap(), "no history table yet");
        conn.execute_batch(CREATE_TABLE).unwrap();
        conn.execute_batch(
            "INSERT INTO schema_versions (version) VALUES (4), ('048'), ('000'), ('x9'), ('0007');",
        )
        .unwrap();
        let v = |s| crate::migration::Version::parse(s).unwrap();
        for yes in ["004", "4", "48", "0048", "0", "7", "007"] {
            assert!(is_recorded(&conn, &v(yes)).unwrap(), "{yes}");
        }
        for no in ["9", "40", "480", "1"] {
            assert!(!is_recorded(&conn, &v(no)).unwrap(), "{no}");
        }
    }

    #[test]
    fn legacy_rows_without_side_table_read_as_text() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(CREATE_TABLE).unwrap();
        conn.execute_batch(
            "INSERT INTO schema_versions (version, description, checksum) VALUES (1, 'x', NULL);
             INSERT INTO schema_versions (version, description, checksum) VALUES ('002', 'y', 'manual');",
        )
        .unwrap();
        let rows = read(&conn).unwrap();
        assert_eq!(rows[0].version, "1");
        assert_eq!(rows[0].checksum, None);
        assert_eq!(rows[1].checksum.as_deref(), Some("manual"));
        assert_eq!(rows[1].file_name, None);
    }

    #[test]
    fn reading_a_missing_database_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope.db");
        let h = read_database(&p, Layout::Legacy).unwrap();
        assert!(!h.exists && h.rows.is_empty() && h.dirty.is_empty());
        assert!(!p.exists());
        let d = discover("m", [("001_a.sql", b"CREATE TABLE a(x);".as_slice())]);
        let conn = Connection::open(&p).unwrap();
        let m = &d.migrations[0];
        execute_record(&conn, &record_statements(m, None), &m.description).unwrap();
        drop(conn);
        let h = read_database(&p, Layout::Legacy).unwrap();
        assert!(h.exists);
        assert_eq!(h.rows.len(), 1);
    }

    #[test]
    fn only_the_legacy_layout_is_written() {
        assert!(refuse_foreign_writes(Layout::Legacy, "migrate").is_ok());
        let e = refuse_foreign_writes(Layout::Dbmate, "migrate").unwrap_err();
        assert_eq!(
            e.to_string(),
            "this folder is a dbmate folder: dbmate stays the deployer, schemagate is its gate; run `dbmate up` (nothing was changed)"
        );
        for layout in Layout::ALL.into_iter().filter(|l| *l != Layout::Legacy) {
            let e = refuse_foreign_writes(layout, "forget")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("`forget` changes only schemagate's schema_versions"),
                "{e}"
            );
        }
    }

    #[test]
    fn markers_block_until_cleared() {
        let d = discover("m", [("007_v.sql", b"VACUUM;".as_slice())]);
        let conn = Connection::open_in_memory().unwrap();
        assert!(dirty(&conn).unwrap().is_empty());
        mark_running(&conn, &d.migrations[0]).unwrap();
        mark_failed(&conn, &d.migrations[0], "boom").unwrap();
        let markers = dirty(&conn).unwrap();
        assert_eq!(markers.len(), 1);
        assert!(markers[0].to_string().contains("failed while running"));
        clear_marker(&conn, "007").unwrap();
        assert!(dirty(&conn).unwrap().is_empty());
    }
}
