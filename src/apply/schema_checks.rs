//! Checks made inside a migration's transaction, before its COMMIT: new foreign key
//! violations (diffed against the ones already there) and views that no longer compile.
//! A committed schema without foreign keys is remembered so a long chain does not scan the
//! whole schema before every migration.

use rusqlite::Connection;

use super::step::{StepError, StepErrorKind, sqlite_message, step_failure};
use crate::migration::Migration;
use crate::sql::StatementKind;

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

pub(super) fn no_foreign_keys_known(conn: &Connection) -> bool {
    let known = NO_FOREIGN_KEYS.with(|k| k.borrow().clone());
    known.is_some() && known == schema_key(conn)
}

pub(super) fn remember_no_foreign_keys(conn: &Connection) {
    let key = schema_key(conn);
    NO_FOREIGN_KEYS.with(|k| *k.borrow_mut() = key);
}

/// Rows that violate a foreign key, as `(table, rowid, parent, fk index)`.
pub(super) type FkViolations = std::collections::BTreeSet<(String, Option<i64>, String, i64)>;

/// The rows that violate a foreign key now; `None` when no table declares one (nothing to
/// scan, which keeps big databases without foreign keys from paying for the check).
pub(super) fn foreign_key_violations(conn: &Connection) -> rusqlite::Result<Option<FkViolations>> {
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
pub(super) fn check_schema_after(
    conn: &Connection,
    m: &Migration,
    fk_before: &Option<FkViolations>,
) -> Result<bool, StepError> {
    // Both checks scan the whole schema, which dominates the cost of a small migration on a
    // database with many tables; skip them when the migration cannot have changed the
    // outcome: no foreign key existed and none is declared by the migration, or nothing
    // was dropped, altered or (re)defined that an existing view could depend on.
    let may_add_fk = m.up_sql().to_ascii_lowercase().contains("references");
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
    let may_break_views = m.up_statements().iter().any(|st| {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::Connection;

    use super::super::apply_one;
    use super::super::test_support::{one, opts, run_in_memory, tables};

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
