//! What a SQL migration's own statements may not do, enforced with SQLite's authorizer
//! while they run (and removed before the history row is written, so the record
//! statements themselves are allowed):
//!
//! - transaction control, in a migration that runs in schemagate's transaction: a `COMMIT`
//!   in the file would commit half a migration without its history row;
//! - writing schemagate's own tables (`schema_versions`, `schemagate_*`): a migration that
//!   deletes or drops the history would be recorded as a success, and the next run would
//!   apply everything again. Creating them (`CREATE TABLE IF NOT EXISTS schema_versions`
//!   in an old first migration) and reading them stay allowed.
//!
//! The Python runner enforces the same rules for `.py` migrations in its own authorizer
//! (`Guard.authorize` in `src/pyrunner/runner.py`).

use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

/// Whether `name` is one of schemagate's own tables, which migrations may not write.
pub fn is_protected_table(name: &str) -> bool {
    let lowered = name.to_ascii_lowercase();
    lowered == crate::history::TABLE || lowered.starts_with("schemagate_")
}

/// What the authorizer denied last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    TransactionControl,
    /// `action` is the SQL words ("DELETE FROM"), `table` the protected table.
    Write {
        action: &'static str,
        table: String,
    },
}

impl Denied {
    /// Why the migration failed, after SQLite's "not authorized".
    pub fn explain(&self) -> String {
        match self {
            Denied::TransactionControl => "transaction control is not allowed in a migration that runs in schemagate's transaction (put `-- schemagate:no-transaction` on the first line to run it without one)".to_string(),
            Denied::Write { action, table } => format!(
                "the migration tried to {action} {table}, which schemagate does not allow: migrations may not write schemagate's own tables (schema_versions, schemagate_*)"
            ),
        }
    }
}

/// The authorizer installed on a connection; remove it with [`Guard::remove`].
pub struct Guard {
    denied: Arc<Mutex<Option<Denied>>>,
}

impl Guard {
    /// Installs the authorizer. `deny_transactions`: also deny transaction control (not
    /// for a `no-transaction` migration, which runs in autocommit mode).
    pub fn install(conn: &mut Connection, deny_transactions: bool) -> Guard {
        let denied = Arc::new(Mutex::new(None));
        let seen = Arc::clone(&denied);
        let _ = conn.authorizer(Some(move |ctx: AuthContext<'_>| {
            // VACUUM copies every table into a database of its own (`vacuum_db`); an
            // attached database is not the one schemagate records in.
            let ours = matches!(ctx.database_name, None | Some("main" | "temp"));
            let verdict = judge(&ctx.action, deny_transactions, ours);
            if let Some(d) = verdict {
                *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(d);
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }));
        Guard { denied }
    }

    /// Removes the authorizer; returns what it denied, if anything.
    pub fn remove(self, conn: &mut Connection) -> Option<Denied> {
        let _ = conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
        self.denied.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

fn judge(action: &AuthAction<'_>, deny_transactions: bool, ours: bool) -> Option<Denied> {
    let write = |action: &'static str, table: &str| {
        (ours && is_protected_table(table)).then(|| Denied::Write {
            action,
            table: table.to_string(),
        })
    };
    match *action {
        AuthAction::Transaction { .. } if deny_transactions => Some(Denied::TransactionControl),
        AuthAction::Insert { table_name } => write("INSERT INTO", table_name),
        AuthAction::Update { table_name, .. } => write("UPDATE", table_name),
        AuthAction::Delete { table_name } => write("DELETE FROM", table_name),
        AuthAction::DropTable { table_name } => write("DROP TABLE", table_name),
        AuthAction::AlterTable { table_name, .. } => write("ALTER TABLE", table_name),
        // A trigger on the history could rewrite the row schemagate inserts.
        AuthAction::CreateTrigger { table_name, .. }
        | AuthAction::CreateTempTrigger { table_name, .. } => {
            write("CREATE TRIGGER ON", table_name)
        }
        AuthAction::DropTrigger { table_name, .. } => write("DROP TRIGGER ON", table_name),
        // A temporary table or view of that name would hide the real one from the
        // history row.
        AuthAction::CreateTempTable { table_name } => write("CREATE TEMP TABLE", table_name),
        AuthAction::CreateTempView { view_name } => write("CREATE TEMP VIEW", view_name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_versions (id INTEGER PRIMARY KEY, version TEXT);
             CREATE TABLE schemagate_state (version TEXT);
             CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO schema_versions (version) VALUES ('001');",
        )
        .unwrap();
        conn
    }

    #[test]
    fn writes_to_schemagates_tables_are_denied_and_named() {
        for (sql, action, table) in [
            (
                "DELETE FROM schema_versions",
                "DELETE FROM",
                "schema_versions",
            ),
            (
                "drop table SCHEMA_VERSIONS",
                "DROP TABLE",
                "schema_versions",
            ),
            (
                "UPDATE main.schema_versions SET version = '9'",
                "UPDATE",
                "schema_versions",
            ),
            (
                "INSERT INTO schemagate_state VALUES ('x')",
                "INSERT INTO",
                "schemagate_state",
            ),
            (
                "ALTER TABLE schema_versions RENAME TO old",
                "ALTER TABLE",
                "schema_versions",
            ),
            (
                "CREATE TRIGGER t AFTER INSERT ON schema_versions BEGIN SELECT 1; END",
                "CREATE TRIGGER ON",
                "schema_versions",
            ),
            (
                "CREATE TEMP TABLE schema_versions (x)",
                "CREATE TEMP TABLE",
                "schema_versions",
            ),
        ] {
            let mut conn = conn();
            let guard = Guard::install(&mut conn, true);
            let err = conn.execute_batch(sql).unwrap_err();
            assert!(err.to_string().contains("not authorized"), "{sql}: {err}");
            let denied = guard.remove(&mut conn);
            assert_eq!(
                denied,
                Some(Denied::Write {
                    action,
                    table: table.to_string()
                }),
                "{sql}"
            );
        }
    }

    #[test]
    fn reading_creating_if_missing_and_other_tables_stay_allowed() {
        let mut conn = conn();
        let guard = Guard::install(&mut conn, true);
        conn.execute_batch(
            "SELECT * FROM schema_versions;
             CREATE TABLE IF NOT EXISTS schema_versions (id INTEGER PRIMARY KEY, version TEXT);
             INSERT INTO users (name) SELECT version FROM schema_versions;
             CREATE INDEX users_name ON users(name);
             DELETE FROM users WHERE name = 'nobody';",
        )
        .unwrap();
        assert_eq!(guard.remove(&mut conn), None);
        // Removed: the record statements may write.
        conn.execute_batch("INSERT INTO schema_versions (version) VALUES ('002')")
            .unwrap();
    }

    #[test]
    fn vacuum_and_attached_databases_are_not_schemagates_tables() {
        let mut conn = conn();
        let guard = Guard::install(&mut conn, false);
        conn.execute_batch(
            "VACUUM;
             ATTACH ':memory:' AS other;
             CREATE TABLE other.schema_versions (x);
             INSERT INTO other.schema_versions VALUES (1);",
        )
        .unwrap();
        assert_eq!(guard.remove(&mut conn), None);
    }

    #[test]
    fn transaction_control_is_denied_only_when_asked() {
        let mut conn = conn();
        let guard = Guard::install(&mut conn, true);
        assert!(conn.execute_batch("BEGIN").is_err());
        assert_eq!(guard.remove(&mut conn), Some(Denied::TransactionControl));
        let guard = Guard::install(&mut conn, false);
        conn.execute_batch("BEGIN; COMMIT;").unwrap();
        assert_eq!(guard.remove(&mut conn), None);
    }

    #[test]
    fn a_trigger_that_writes_the_history_is_stopped_when_it_would_fire() {
        let mut conn = conn();
        conn.execute_batch(
            "CREATE TRIGGER wipe AFTER INSERT ON users BEGIN DELETE FROM schema_versions; END;",
        )
        .unwrap();
        let guard = Guard::install(&mut conn, true);
        assert!(
            conn.execute_batch("INSERT INTO users (name) VALUES ('x')")
                .is_err()
        );
        assert!(matches!(
            guard.remove(&mut conn),
            Some(Denied::Write { .. })
        ));
        let n: i64 = conn
            .query_row("SELECT count(*) FROM schema_versions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}
