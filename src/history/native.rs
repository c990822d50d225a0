//! The history table of each layout (shell): `schema_versions` for the legacy layout
//! ([`super::read`]), else the tool's own table, read the way that tool reads it, as plan
//! rows.
//!
//! Each reader follows the tool's source (table, columns, which rows count); what the rows
//! mean for the files (how versions compare, what stands for lower versions, which
//! checksums can be recomputed) is [`RowOrigin`]'s, in the plan:
//!
//! | layout | table | a row counts when | checksum |
//! |---|---|---|---|
//! | sqlx | `_sqlx_migrations` | always (`success = false`: dirty) | SHA-384 BLOB |
//! | dbmate | `schema_migrations` (`version` only) | always | none |
//! | goose | `goose_db_version` | its version's newest row (by `id`) has `is_applied`; version 0 is goose's own first row | none |
//! | golang-migrate | `schema_migrations` (`version`, `dirty`) | the first row only: the current version (`-1`: none) | none |
//! | flyway | `flyway_schema_history` | its version's newest row (by `installed_rank`) is not an undo or a deletion; no version: a repeatable, not read (`success = false`: dirty) | CRC-32 |
//! | flyway | `refinery_schema_history` | always | SipHash-1-3 |
//! | diesel | `__diesel_schema_migrations` | always | none |
//!
//! A missing table is an empty history (the tool has not run yet), unless the database has
//! schemagate's `schema_versions` instead: then the layout is probably wrong, and reading
//! "nothing applied" would dry-run everything again, so it is an error.

use std::collections::HashSet;
use std::path::Path;

use anyhow::bail;
use rusqlite::Connection;
use rusqlite::types::Value;

use super::DirtyMarker;
use crate::layout::Layout;
use crate::plan::{HistoryRow, RowOrigin, RowVersion};

/// What a native table says.
#[derive(Debug, Default)]
pub(super) struct NativeHistory {
    pub rows: Vec<HistoryRow>,
    pub dirty: Vec<DirtyMarker>,
}

/// How one tool's table is read: the columns it must have and the reader.
struct Reader {
    origin: RowOrigin,
    columns: &'static [&'static str],
    read: fn(&Connection) -> rusqlite::Result<NativeHistory>,
}

const SQLX: Reader = Reader {
    origin: RowOrigin::Sqlx,
    columns: &[
        "version",
        "description",
        "installed_on",
        "success",
        "checksum",
    ],
    read: sqlx,
};
const DBMATE: Reader = Reader {
    origin: RowOrigin::Dbmate,
    columns: &["version"],
    read: dbmate,
};
const GOOSE: Reader = Reader {
    origin: RowOrigin::Goose,
    columns: &["id", "version_id", "is_applied", "tstamp"],
    read: goose,
};
const GOLANG_MIGRATE: Reader = Reader {
    origin: RowOrigin::GolangMigrate,
    columns: &["version", "dirty"],
    read: golang_migrate,
};
const FLYWAY: Reader = Reader {
    origin: RowOrigin::Flyway,
    columns: &[
        "installed_rank",
        "version",
        "description",
        "type",
        "script",
        "checksum",
        "installed_on",
        "success",
    ],
    read: flyway,
};
const REFINERY: Reader = Reader {
    origin: RowOrigin::Refinery,
    columns: &["version", "name", "applied_on", "checksum"],
    read: refinery,
};
const DIESEL: Reader = Reader {
    origin: RowOrigin::Diesel,
    columns: &["version", "run_on"],
    read: diesel,
};

/// The history of a database whose folder follows `layout`, from the tool's own table
/// (`schema_versions` and schemagate's markers for the legacy layout).
pub(super) fn read(
    conn: &Connection,
    layout: Layout,
    path: &Path,
) -> anyhow::Result<NativeHistory> {
    let explain = |e| crate::db::explain(path, e);
    let reader = match layout {
        Layout::Legacy => {
            return Ok(NativeHistory {
                rows: super::read(conn).map_err(explain)?,
                dirty: super::dirty(conn).map_err(explain)?,
            });
        }
        Layout::Sqlx => SQLX,
        Layout::Dbmate => DBMATE,
        Layout::Goose => GOOSE,
        Layout::GolangMigrate => GOLANG_MIGRATE,
        Layout::Diesel => DIESEL,
        Layout::Flyway => {
            let flyway = crate::db::table_exists(conn, FLYWAY.origin.table()).map_err(explain)?;
            let refinery =
                crate::db::table_exists(conn, REFINERY.origin.table()).map_err(explain)?;
            match (flyway, refinery) {
                (true, true) => bail!(
                    "database {} has both flyway_schema_history and refinery_schema_history; which one records what is applied is not clear, so schemagate reads neither",
                    path.display()
                ),
                (false, true) => REFINERY,
                _ => FLYWAY,
            }
        }
    };
    let table = reader.origin;
    if !crate::db::table_exists(conn, table.table()).map_err(explain)? {
        if crate::db::table_exists(conn, super::TABLE).map_err(explain)? {
            bail!(
                "database {} has no {} ({}'s history) but has schemagate's schema_versions; check `[migrations] layout = \"{layout}\"` in schemagate.toml",
                path.display(),
                table.table(),
                table.tool()
            );
        }
        return Ok(NativeHistory::default());
    }
    let columns = columns(conn, table.table()).map_err(explain)?;
    let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
    // dbmate and golang-migrate both name their table schema_migrations; the `dirty`
    // column tells them apart.
    match table {
        RowOrigin::Dbmate if has("dirty") => bail!(
            "database {}: schema_migrations has a `dirty` column, so it is golang-migrate's, not dbmate's; set `[migrations] layout = \"golang-migrate\"`",
            path.display()
        ),
        RowOrigin::GolangMigrate if !has("dirty") => bail!(
            "database {}: schema_migrations has no `dirty` column, so it is not golang-migrate's (dbmate's has only `version`); set `[migrations] layout = \"dbmate\"` if dbmate wrote it",
            path.display()
        ),
        _ => {}
    }
    let missing: Vec<&str> = reader.columns.iter().copied().filter(|c| !has(c)).collect();
    if !missing.is_empty() {
        bail!(
            "database {}: {} has no column {} ({} has {}), so it is not {}'s history table",
            path.display(),
            table.table(),
            missing.join(", "),
            table.table(),
            columns.join(", "),
            table.tool()
        );
    }
    (reader.read)(conn).map_err(explain)
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map([table], |r| r.get(0))?;
    names.collect()
}

/// SQLite's truth: a non-zero number (a boolean column holds 0/1; text that is not a
/// number is what a comparison with `false` would find false too).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Integer(i) => *i != 0,
        Value::Real(f) => *f != 0.0,
        Value::Text(t) => t.trim().parse::<f64>().is_ok_and(|f| f != 0.0),
        Value::Null | Value::Blob(_) => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text_of(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Text(t) => Some(t),
        Value::Blob(b) => Some(hex(&b)),
    }
}

/// dbmate's `schema_migrations`: every row is an applied version (`order by version`).
fn dbmate(conn: &Connection) -> rusqlite::Result<NativeHistory> {
    simple(
        conn,
        RowOrigin::Dbmate,
        "SELECT rowid, CAST(version AS TEXT), NULL FROM schema_migrations ORDER BY version",
    )
}

/// `__diesel_schema_migrations`: every row is an applied version, with `run_on`.
fn diesel(conn: &Connection) -> rusqlite::Result<NativeHistory> {
    simple(
        conn,
        RowOrigin::Diesel,
        "SELECT rowid, CAST(version AS TEXT), CAST(run_on AS TEXT) FROM __diesel_schema_migrations ORDER BY version",
    )
}

/// Rows of a table that records only versions (and perhaps when): every row is applied.
fn simple(conn: &Connection, origin: RowOrigin, sql: &str) -> rusqlite::Result<NativeHistory> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(HistoryRow {
            id: r.get(0)?,
            version: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            applied_at: r.get(2)?,
            origin,
            ..HistoryRow::default()
        })
    })?;
    Ok(NativeHistory {
        rows: rows.collect::<rusqlite::Result<_>>()?,
        dirty: Vec::new(),
    })
}

/// `_sqlx_migrations`: sqlx lists every row (`ORDER BY version`) and refuses to run while a
/// row has `success = false` (a migration that failed half-way).
fn sqlx(conn: &Connection) -> rusqlite::Result<NativeHistory> {
    let mut stmt = conn.prepare(
        "SELECT rowid, CAST(version AS TEXT), CAST(description AS TEXT), CAST(installed_on AS TEXT),
                success, checksum
           FROM _sqlx_migrations ORDER BY version",
    )?;
    let mut out = NativeHistory::default();
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let row = HistoryRow {
            id: r.get(0)?,
            version: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            description: r.get(2)?,
            applied_at: r.get(3)?,
            checksum: text_of(r.get(5)?),
            origin: RowOrigin::Sqlx,
            ..HistoryRow::default()
        };
        if !truthy(&r.get(4)?) {
            out.dirty.push(DirtyMarker {
                version: row.version.clone(),
                file_name: None,
                state: "failed".into(),
                started_at: row.applied_at.clone(),
                message: Some(
                    "sqlx recorded it with success = false (partially applied) and runs nothing until the row is removed".into(),
                ),
                origin: RowOrigin::Sqlx,
            });
        }
        out.rows.push(row);
    }
    Ok(out)
}

/// The key rows of one version share: the version when the text is one (as `origin`'s
/// tool compares versions: `007` is `7`, and in Flyway's table `1.0` is `1`), else the text
/// itself.
fn version_key(text: &str, origin: RowOrigin) -> String {
    match RowVersion::of(text, origin) {
        RowVersion::Clean(v) | RowVersion::Padded(v) => format!("#{}", v.canonical()),
        _ => format!("'{text}"),
    }
}

/// `goose_db_version`: goose reads the rows newest first (`ORDER BY id DESC`) and the first
/// row it sees for a version decides whether that version is applied (older goose wrote a
/// row with `is_applied = false` for a down migration; newer goose deletes the row). Version
/// 0 is the row goose writes when it creates the table, not a migration.
fn goose(conn: &Connection) -> rusqlite::Result<NativeHistory> {
    let mut stmt = conn.prepare(
        "SELECT id, CAST(version_id AS TEXT), is_applied, CAST(tstamp AS TEXT)
           FROM goose_db_version ORDER BY id DESC",
    )?;
    let mut decided: HashSet<String> = HashSet::new();
    let mut rows = Vec::new();
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let version: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
        if !decided.insert(version_key(&version, RowOrigin::Goose)) {
            continue;
        }
        if !truthy(&r.get(2)?)
            || matches!(RowVersion::of(&version, RowOrigin::Goose), RowVersion::Clean(v) if v.number() == Some(0))
        {
            continue;
        }
        rows.push(HistoryRow {
            id: r.get(0)?,
            version,
            applied_at: r.get(3)?,
            origin: RowOrigin::Goose,
            ..HistoryRow::default()
        });
    }
    rows.reverse();
    Ok(NativeHistory {
        rows,
        dirty: Vec::new(),
    })
}

/// golang-migrate's `schema_migrations`: it reads `SELECT version, dirty ... LIMIT 1` and
/// knows nothing else (other rows are never read; it deletes them on every change). Version
/// -1 is "no version", written with `dirty` when a down migration of the first version
/// failed.
fn golang_migrate(conn: &Connection) -> rusqlite::Result<NativeHistory> {
    let mut stmt = conn.prepare(
        "SELECT rowid, CAST(version AS TEXT), dirty FROM schema_migrations ORDER BY rowid LIMIT 1",
    )?;
    let mut out = NativeHistory::default();
    let mut q = stmt.query([])?;
    let Some(r) = q.next()? else {
        return Ok(out);
    };
    let version: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
    let dirty = truthy(&r.get(2)?);
    let none = version.trim() == "-1";
    if dirty {
        out.dirty.push(DirtyMarker {
            version: version.clone(),
            file_name: None,
            state: "dirty".into(),
            started_at: None,
            message: Some(if none {
                "a down migration of the first version stopped half-way, and golang-migrate runs nothing until a version is forced".into()
            } else {
                "the migration stopped half-way, and golang-migrate runs nothing until a version is forced".into()
            }),
            origin: RowOrigin::GolangMigrate,
        });
    }
    if !none {
        out.rows.push(HistoryRow {
            id: r.get(0)?,
            version,
            origin: RowOrigin::GolangMigrate,
            ..HistoryRow::default()
        });
    }
    Ok(out)
}

/// `flyway_schema_history`: one row per run, in `installed_rank` order. A version's newest
/// row decides: an undo (`UNDO_SQL`, ...) or a deletion by `flyway repair` (`DELETE`) means
/// not applied, `BASELINE` stands for the versions up to it, anything else (`SQL`, `JDBC`,
/// ...) is applied. Rows without a version (repeatable migrations, the schema marker) are
/// not versions. `success = false` is a failed migration Flyway will not run past.
fn flyway(conn: &Connection) -> rusqlite::Result<NativeHistory> {
    let mut stmt = conn.prepare(
        "SELECT installed_rank, CAST(version AS TEXT), CAST(description AS TEXT), CAST(type AS TEXT),
                checksum, CAST(installed_on AS TEXT), success
           FROM flyway_schema_history
          WHERE version IS NOT NULL
          ORDER BY installed_rank DESC",
    )?;
    let mut decided: HashSet<String> = HashSet::new();
    let mut out = NativeHistory::default();
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let version: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
        if !decided.insert(version_key(&version, RowOrigin::Flyway)) {
            continue;
        }
        let kind: String = r.get::<_, Option<String>>(3)?.unwrap_or_default();
        let kind = kind.to_ascii_uppercase();
        if kind.starts_with("UNDO") || kind == "DELETE" {
            continue;
        }
        let row = HistoryRow {
            id: r.get(0)?,
            version,
            description: r.get(2)?,
            checksum: text_of(r.get(4)?),
            applied_at: r.get(5)?,
            origin: if kind == "BASELINE" {
                RowOrigin::FlywayBaseline
            } else {
                RowOrigin::Flyway
            },
            ..HistoryRow::default()
        };
        if !truthy(&r.get(6)?) {
            out.dirty.push(DirtyMarker {
                version: row.version.clone(),
                file_name: None,
                state: "failed".into(),
                started_at: row.applied_at.clone(),
                message: Some(
                    "Flyway recorded it with success = false and will not migrate past it until `flyway repair`".into(),
                ),
                origin: RowOrigin::Flyway,
            });
        }
        out.rows.push(row);
    }
    out.rows.reverse();
    out.dirty.reverse();
    Ok(out)
}

/// `refinery_schema_history`: every row is an applied migration (`ORDER BY version`).
fn refinery(conn: &Connection) -> rusqlite::Result<NativeHistory> {
    let mut stmt = conn.prepare(
        "SELECT rowid, CAST(version AS TEXT), CAST(name AS TEXT), CAST(applied_on AS TEXT),
                CAST(checksum AS TEXT)
           FROM refinery_schema_history ORDER BY version",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(HistoryRow {
            id: r.get(0)?,
            version: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            description: r.get(2)?,
            applied_at: r.get(3)?,
            checksum: r.get(4)?,
            origin: RowOrigin::Refinery,
            ..HistoryRow::default()
        })
    })?;
    Ok(NativeHistory {
        rows: rows.collect::<rusqlite::Result<_>>()?,
        dirty: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    //! Each table is created with the tool's own DDL and filled with the statements the
    //! tool runs (quoted from its source), then read and planned against a folder.

    use super::*;
    use crate::checksum;
    use crate::migration::{Discovery, discover};
    use crate::plan::{Plan, State};

    /// sqlx-sqlite/src/migrate.rs, `ensure_migrations_table`.
    const SQLX_DDL: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);";
    const SQLX_INSERT: &str =
        "INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time )
    VALUES ( ?1, ?2, TRUE, ?3, -1 )";

    /// dbmate pkg/driver/sqlite/sqlite.go, `CreateMigrationsTable` / `InsertMigration`.
    const DBMATE_DDL: &str =
        r#"create table if not exists "schema_migrations" (version varchar(128) primary key)"#;
    const DBMATE_INSERT: &str = r#"insert into "schema_migrations" (version) values (?)"#;

    /// goose internal/dialect/dialectquery/sqlite3.go, `CreateTable` / `InsertVersion` /
    /// `DeleteVersion`.
    const GOOSE_DDL: &str = "CREATE TABLE goose_db_version (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		version_id INTEGER NOT NULL,
		is_applied INTEGER NOT NULL,
		tstamp TIMESTAMP DEFAULT (datetime('now'))
	)";
    const GOOSE_INSERT: &str =
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)";
    const GOOSE_DELETE: &str = "DELETE FROM goose_db_version WHERE version_id=?";

    /// golang-migrate database/sqlite3/sqlite3.go, `ensureVersionTable` / `SetVersion`.
    const GOLANG_MIGRATE_DDL: &str = "
	CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
  CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
  ";

    /// Flyway's SQLite `createMetaDataTable.sql` (schema `main`).
    const FLYWAY_DDL: &str = r#"CREATE TABLE "main"."flyway_schema_history" (
    "installed_rank" INT NOT NULL PRIMARY KEY,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INT,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),
    "execution_time" INT NOT NULL,
    "success" BOOLEAN NOT NULL
);
CREATE INDEX "main"."flyway_schema_history_s_idx" ON "flyway_schema_history" ("success");"#;
    const FLYWAY_INSERT: &str = r#"INSERT INTO "main"."flyway_schema_history" ("installed_rank", "version", "description", "type", "script", "checksum", "installed_by", "execution_time", "success") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"#;

    /// refinery_core/src/traits/mod.rs, `ASSERT_MIGRATIONS_TABLE_QUERY`.
    const REFINERY_DDL: &str = "CREATE TABLE IF NOT EXISTS refinery_schema_history(
             version INT4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));";

    /// diesel's `setup_migration_table.sql`; it inserts `(version)` only.
    const DIESEL_DDL: &str = "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);";

    fn folder(files: &[(&str, &str)]) -> Discovery {
        discover("m", files.iter().map(|(n, t)| (*n, t.as_bytes())))
    }

    fn read_as(conn: &Connection, layout: Layout) -> NativeHistory {
        read(conn, layout, Path::new("app.db")).unwrap()
    }

    fn states(plan: &Plan<'_>) -> Vec<(String, State)> {
        plan.entries
            .iter()
            .map(|e| (e.version.to_string(), e.state))
            .collect()
    }

    fn st(list: &[(&str, State)]) -> Vec<(String, State)> {
        list.iter().map(|(v, s)| (v.to_string(), *s)).collect()
    }

    #[test]
    fn sqlx_rows_carry_their_sha384_and_a_failed_row_is_dirty() {
        let d = folder(&[
            ("20240101000000_users.sql", "CREATE TABLE users(id);\n"),
            ("20240102000000_posts.sql", "CREATE TABLE posts(id);\n"),
            ("20240103000000_tags.sql", "CREATE TABLE tags(id);\n"),
        ]);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SQLX_DDL).unwrap();
        for m in &d.migrations[..2] {
            let sha: Vec<u8> = <sha2::Sha384 as sha2::Digest>::digest(m.text.as_bytes()).to_vec();
            let version: i64 = m.version.as_str().parse().unwrap();
            conn.execute(
                SQLX_INSERT,
                rusqlite::params![version, m.name.replace('_', " "), sha],
            )
            .unwrap();
        }
        let h = read_as(&conn, Layout::Sqlx);
        assert_eq!(h.rows.len(), 2);
        assert_eq!(h.rows[0].version, "20240101000000");
        assert_eq!(h.rows[0].description.as_deref(), Some("users"));
        assert_eq!(
            h.rows[0].checksum.as_deref(),
            Some(checksum::sqlx(d.migrations[0].kind, d.migrations[0].text.as_bytes())[0].as_str())
        );
        assert!(h.dirty.is_empty());
        let plan = Plan::new(&d, &h.rows);
        assert_eq!(
            states(&plan),
            st(&[
                ("20240101000000", State::Applied),
                ("20240102000000", State::Applied),
                ("20240103000000", State::Pending),
            ])
        );

        // An edited file is drift, as sqlx itself would refuse it.
        let edited = folder(&[(
            "20240101000000_users.sql",
            "CREATE TABLE users(id, name);\n",
        )]);
        assert_eq!(Plan::new(&edited, &h.rows).entries[0].state, State::Drifted);

        conn.execute(
            "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 20240102000000",
            [],
        )
        .unwrap();
        let h = read_as(&conn, Layout::Sqlx);
        assert_eq!(h.rows.len(), 2, "a failed row is still recorded");
        assert_eq!(h.dirty.len(), 1);
        let text = h.dirty[0].to_string();
        assert!(
            text.starts_with("sqlx marks migration 20240102000000 failed in _sqlx_migrations"),
            "{text}"
        );
    }

    #[test]
    fn dbmate_versions_are_text() {
        let d = folder(&[
            ("001_users.sql", "CREATE TABLE users(id);"),
            ("20240102000000_posts.sql", "CREATE TABLE posts(id);"),
            ("20240103000000_tags.sql", "CREATE TABLE tags(id);"),
        ]);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(DBMATE_DDL).unwrap();
        for v in ["1", "20240102000000"] {
            conn.execute(DBMATE_INSERT, [v]).unwrap();
        }
        let h = read_as(&conn, Layout::Dbmate);
        assert_eq!(h.rows.len(), 2);
        assert!(
            h.rows
                .iter()
                .all(|r| r.origin == RowOrigin::Dbmate && r.checksum.is_none())
        );
        let plan = Plan::new(&d, &h.rows);
        // dbmate looks `001` up as the string "001": the row "1" is not it.
        assert_eq!(
            states(&plan),
            st(&[
                ("001", State::Pending),
                ("1", State::MissingFile),
                ("20240102000000", State::Unverified),
                ("20240103000000", State::Pending),
            ])
        );
        assert!(plan.duplicate_rows.is_empty());
    }

    #[test]
    fn goose_reads_the_newest_row_of_each_version() {
        let d = folder(&[
            ("00001_users.sql", "CREATE TABLE users(id);"),
            ("00002_posts.sql", "CREATE TABLE posts(id);"),
            ("00003_tags.sql", "CREATE TABLE tags(id);"),
            ("00004_likes.sql", "CREATE TABLE likes(id);"),
        ]);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(GOOSE_DDL).unwrap();
        // goose's first row, then up 1, 2, 3; an old goose's down of 3 (is_applied false),
        // then 3 up again; down 2 as a newer goose does it (the rows are deleted).
        for (v, applied) in [
            (0, true),
            (1, true),
            (2, true),
            (3, true),
            (3, false),
            (3, true),
        ] {
            conn.execute(GOOSE_INSERT, rusqlite::params![v, applied])
                .unwrap();
        }
        conn.execute(GOOSE_DELETE, [2]).unwrap();
        let h = read_as(&conn, Layout::Goose);
        let versions: Vec<&str> = h.rows.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(versions, ["1", "3"]);
        assert_eq!(h.rows[1].id, 6, "the newest row of version 3");
        let plan = Plan::new(&d, &h.rows);
        assert_eq!(
            states(&plan),
            st(&[
                ("00001", State::Unverified),
                ("00002", State::Pending),
                ("00003", State::Unverified),
                ("00004", State::Pending),
            ])
        );
        assert_eq!(
            plan.out_of_order.len(),
            1,
            "goose refuses to apply 2 below 3"
        );

        conn.execute(GOOSE_INSERT, rusqlite::params![3, false])
            .unwrap();
        let versions: Vec<String> = read_as(&conn, Layout::Goose)
            .rows
            .into_iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(
            versions,
            ["1"],
            "an is_applied = false row after the up undoes it"
        );
    }

    #[test]
    fn golang_migrate_knows_only_the_current_version() {
        let d = folder(&[
            ("1_users.sql", "CREATE TABLE users(id);"),
            ("2_posts.sql", "CREATE TABLE posts(id);"),
            ("3_tags.sql", "CREATE TABLE tags(id);"),
            ("4_likes.sql", "CREATE TABLE likes(id);"),
        ]);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(GOLANG_MIGRATE_DDL).unwrap();
        let set_version = |version: i64, dirty: bool| {
            conn.execute("DELETE FROM schema_migrations", []).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)",
                rusqlite::params![version, dirty],
            )
            .unwrap();
        };
        // `migrate up 2`: each version is set dirty, run, then set clean.
        for v in 1..=2 {
            set_version(v, true);
            set_version(v, false);
        }
        let h = read_as(&conn, Layout::GolangMigrate);
        assert_eq!(h.rows.len(), 1);
        assert!(h.dirty.is_empty());
        let plan = Plan::new(&d, &h.rows);
        assert_eq!(
            states(&plan),
            st(&[
                ("1", State::Unverified),
                ("2", State::Unverified),
                ("3", State::Pending),
                ("4", State::Pending),
            ])
        );
        assert_eq!(plan.pending().count(), 2);

        // 3 failed half-way: golang-migrate leaves it dirty and runs nothing.
        set_version(3, true);
        let h = read_as(&conn, Layout::GolangMigrate);
        assert_eq!(h.dirty.len(), 1);
        let text = h.dirty[0].to_string();
        assert!(
            text.starts_with("golang-migrate marks migration 3 dirty in schema_migrations"),
            "{text}"
        );
        assert_eq!(Plan::new(&d, &h.rows).pending().count(), 1);

        // A failed down migration of the first version: no version, dirty.
        set_version(-1, true);
        let h = read_as(&conn, Layout::GolangMigrate);
        assert!(h.rows.is_empty());
        assert_eq!(h.dirty.len(), 1);
        assert_eq!(Plan::new(&d, &h.rows).pending().count(), 4);
    }

    #[test]
    fn flyway_rows_baseline_undo_and_failures() {
        let d = folder(&[
            ("1_users.sql", "CREATE TABLE users(id);\n"),
            ("2_posts.sql", "CREATE TABLE posts(id);\n"),
            ("3_tags.sql", "CREATE TABLE tags(id);\n"),
            ("4_likes.sql", "CREATE TABLE likes(id);\n"),
            ("5_votes.sql", "CREATE TABLE votes(id);\n"),
        ]);
        let crc =
            |i: usize| checksum::flyway(d.migrations[i].kind, d.migrations[i].text.as_bytes())[0];
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(FLYWAY_DDL).unwrap();
        type Row<'a> = (i64, Option<&'a str>, &'a str, &'a str, Option<i32>, bool);
        let rows: [Row<'_>; 7] = [
            (
                1,
                Some("1"),
                "<< Flyway Baseline >>",
                "BASELINE",
                None,
                true,
            ),
            (2, Some("2"), "posts", "SQL", Some(crc(1)), true),
            (3, Some("3"), "tags", "SQL", Some(crc(2)), false),
            (4, Some("4"), "likes", "SQL", Some(crc(3)), true),
            (5, Some("4"), "likes", "UNDO_SQL", None, true),
            (6, None, "views", "SQL", Some(7), true),
            (7, Some("2"), "posts", "SQL", Some(crc(1)), true),
        ];
        for (rank, version, description, kind, checksum, success) in rows {
            conn.execute(
                FLYWAY_INSERT,
                rusqlite::params![
                    rank,
                    version,
                    description,
                    kind,
                    format!("V{}__{description}.sql", version.unwrap_or("")),
                    checksum,
                    "ci",
                    3,
                    success
                ],
            )
            .unwrap();
        }
        let h = read_as(&conn, Layout::Flyway);
        let got: Vec<(&str, RowOrigin)> = h
            .rows
            .iter()
            .map(|r| (r.version.as_str(), r.origin))
            .collect();
        assert_eq!(
            got,
            [
                ("1", RowOrigin::FlywayBaseline),
                ("3", RowOrigin::Flyway),
                ("2", RowOrigin::Flyway),
            ]
        );
        assert_eq!(h.dirty.len(), 1);
        assert!(
            h.dirty[0]
                .to_string()
                .contains("Flyway marks migration 3 failed")
        );
        let plan = Plan::new(&d, &h.rows);
        assert_eq!(
            states(&plan),
            st(&[
                ("1", State::Unverified),
                ("2", State::Applied),
                ("3", State::Applied),
                ("4", State::Pending),
                ("5", State::Pending),
            ])
        );
        let edited = folder(&[("2_posts.sql", "CREATE TABLE posts(id, title);\n")]);
        let plan = Plan::new(&edited, &h.rows);
        let two = plan.entries.iter().find(|e| e.migration.is_some()).unwrap();
        assert_eq!(two.state, State::Drifted);
    }

    /// Flyway writes the version of `V1.1__x.sql` (and of `V1_2__x.sql`) dotted: `'1.1'`,
    /// `'1.2'`. Such a row records its file, as Flyway matches them; `'1.0'` is `'1'`.
    #[test]
    fn flyway_dotted_versions_record_their_files() {
        let d = folder(&[
            ("V1__users.sql", "CREATE TABLE users(id);\n"),
            ("V1.1__posts.sql", "CREATE TABLE posts(id);\n"),
            ("V1_2__tags.sql", "CREATE TABLE tags(id);\n"),
            ("V2__likes.sql", "CREATE TABLE likes(id);\n"),
        ]);
        assert_eq!(d.layout, Layout::Flyway);
        let crc =
            |i: usize| checksum::flyway(d.migrations[i].kind, d.migrations[i].text.as_bytes())[0];
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(FLYWAY_DDL).unwrap();
        for (rank, version, script, sum) in [
            (1, "1.0", "V1__users.sql", crc(0)),
            (2, "1.1", "V1.1__posts.sql", crc(1)),
        ] {
            conn.execute(
                FLYWAY_INSERT,
                rusqlite::params![rank, version, "x", "SQL", script, sum, "ci", 3, true],
            )
            .unwrap();
        }
        let h = read_as(&conn, Layout::Flyway);
        let plan = Plan::new(&d, &h.rows);
        assert!(plan.odd_rows.is_empty(), "{:?}", plan.odd_rows);
        assert_eq!(
            states(&plan),
            st(&[
                ("1", State::Applied),
                ("1.1", State::Applied),
                ("1.2", State::Pending),
                ("2", State::Pending),
            ])
        );
        assert!(plan.out_of_order.is_empty());
        // Rows of one version (a repaired '1' after '1.0') are one version to Flyway.
        conn.execute(
            FLYWAY_INSERT,
            rusqlite::params![3, "1", "x", "UNDO_SQL", "U1__users.sql", 0, "ci", 3, true],
        )
        .unwrap();
        let h = read_as(&conn, Layout::Flyway);
        let versions: Vec<&str> = h.rows.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(versions, ["1.1"], "the undo of 1 undoes '1.0'");
    }

    #[test]
    fn refinery_checksums_are_recomputed() {
        let d = folder(&[
            (
                "1_initial.sql",
                "CREATE TABLE persons (id int, name varchar(255));\n",
            ),
            ("2_cars.sql", "CREATE TABLE cars (id int);\n"),
        ]);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(REFINERY_DDL).unwrap();
        let m = &d.migrations[0];
        let sum = checksum::refinery("initial", 1, m.text.as_bytes())[0].unwrap();
        // refinery_core/src/traits/mod.rs, `insert_migration_query`: values inlined.
        conn.execute_batch(&format!(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES ({}, '{}', '{}', '{}')",
            1, "initial", "2024-05-01T10:00:00Z", sum
        ))
        .unwrap();
        let h = read_as(&conn, Layout::Flyway);
        assert_eq!(h.rows[0].origin, RowOrigin::Refinery);
        assert_eq!(h.rows[0].description.as_deref(), Some("initial"));
        let plan = Plan::new(&d, &h.rows);
        assert_eq!(
            states(&plan),
            st(&[("1", State::Applied), ("2", State::Pending)])
        );
        let edited = folder(&[("1_initial.sql", "CREATE TABLE persons (id int);\n")]);
        assert_eq!(Plan::new(&edited, &h.rows).entries[0].state, State::Drifted);
    }

    #[test]
    fn diesel_rows_are_versions_as_text() {
        let d = folder(&[
            ("20240101000000_create_users.sql", "CREATE TABLE users(id);"),
            ("20240102000000_create_posts.sql", "CREATE TABLE posts(id);"),
        ]);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(DIESEL_DDL).unwrap();
        conn.execute(
            "INSERT INTO __diesel_schema_migrations (version) VALUES (?)",
            ["20240101000000"],
        )
        .unwrap();
        let h = read_as(&conn, Layout::Diesel);
        assert!(h.rows[0].applied_at.is_some());
        let plan = Plan::new(&d, &h.rows);
        assert_eq!(
            states(&plan),
            st(&[
                ("20240101000000", State::Unverified),
                ("20240102000000", State::Pending),
            ])
        );
    }

    #[test]
    fn a_missing_table_is_an_empty_history_unless_schema_versions_is_there() {
        let conn = Connection::open_in_memory().unwrap();
        for layout in [Layout::Sqlx, Layout::Dbmate, Layout::Goose, Layout::Flyway] {
            assert!(read_as(&conn, layout).rows.is_empty());
        }
        conn.execute_batch(super::super::CREATE_TABLE).unwrap();
        let e = read(&conn, Layout::Dbmate, Path::new("app.db"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no schema_migrations (dbmate's history)"), "{e}");
        assert!(e.contains("layout = \"dbmate\""), "{e}");
    }

    #[test]
    fn look_alike_tables_are_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(GOLANG_MIGRATE_DDL).unwrap();
        let e = read(&conn, Layout::Dbmate, Path::new("app.db"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("golang-migrate's, not dbmate's"), "{e}");
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(DBMATE_DDL).unwrap();
        let e = read(&conn, Layout::GolangMigrate, Path::new("app.db"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `dirty` column"), "{e}");
        conn.execute_batch(&format!("{FLYWAY_DDL}\n{REFINERY_DDL}"))
            .unwrap();
        let e = read(&conn, Layout::Flyway, Path::new("app.db"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("both flyway_schema_history and refinery_schema_history"),
            "{e}"
        );
        conn.execute_batch("CREATE TABLE _sqlx_migrations (version BIGINT)")
            .unwrap();
        let e = read(&conn, Layout::Sqlx, Path::new("app.db"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("has no column description, installed_on, success, checksum"),
            "{e}"
        );
    }
}
