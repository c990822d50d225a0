//! The audit trail of operations that change the history by hand: rollback, restore,
//! mark-applied, forget, rekey.
//!
//! The legacy documentation fixed production with `sqlite3 ... DELETE/INSERT` and left no
//! trace; every such step now leaves a row in `schemagate_audit`, in the database it changed.
//! The row is written in the same transaction as the change it records wherever the change
//! is a transaction (repairs, rollback); a restore writes it into the copy that becomes the
//! live database, so the switch and its record land together.
//!
//! The table belongs to schemagate only (the legacy manager never reads it), is created on
//! first use, and its timestamps come from SQLite (`strftime`, UTC), so every row is in the
//! same clock whatever machine ran the command.

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Table name; `verify` and schema comparisons should ignore it like `schema_versions`.
pub const TABLE: &str = "schemagate_audit";

pub const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS schemagate_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    command TEXT NOT NULL,
    versions TEXT NOT NULL DEFAULT '',
    reason TEXT,
    tool_version TEXT NOT NULL,
    backup TEXT,
    details TEXT
)";

/// The INSERT of one audit row, with the named parameters of [`Entry::params`] (named so
/// the Python runner can bind the same statement as a record statement). The time is taken
/// by SQLite when the statement runs, i.e. inside the transaction that commits it.
pub const INSERT_SQL: &str = "INSERT INTO schemagate_audit \
    (at, command, versions, reason, tool_version, backup, details) \
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), \
    :command, :versions, :reason, :tool_version, :backup, :details)";

/// What one command did, before it is written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// The subcommand (`rollback`, `restore`, `mark-applied`, `forget`, `rekey`).
    pub command: String,
    /// Versions the command changed, in the order it changed them.
    pub versions: Vec<String>,
    pub reason: Option<String>,
    /// Backup taken before the change (the way back), when there is one.
    pub backup: Option<String>,
    /// Command-specific facts, as a JSON object (old/new version, restored file, ...).
    pub details: Option<serde_json::Value>,
}

impl Entry {
    pub fn new(command: &str) -> Entry {
        Entry {
            command: command.to_string(),
            ..Entry::default()
        }
    }

    pub fn versions<I, S>(mut self, versions: I) -> Entry
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.versions = versions.into_iter().map(Into::into).collect();
        self
    }

    pub fn reason(mut self, reason: Option<&str>) -> Entry {
        self.reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        self
    }

    pub fn backup(mut self, backup: Option<String>) -> Entry {
        self.backup = backup;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Entry {
        self.details = Some(details);
        self
    }

    /// Named parameters of [`INSERT_SQL`] as text values (NULL for `None`), so the same row
    /// can be written by Rust or handed to the Python runner as a record statement.
    pub fn params(&self) -> [(&'static str, Option<String>); 6] {
        [
            (":command", Some(self.command.clone())),
            (":versions", Some(self.versions.join(","))),
            (":reason", self.reason.clone()),
            (":tool_version", Some(env!("CARGO_PKG_VERSION").to_string())),
            (":backup", self.backup.clone()),
            (":details", self.details.as_ref().map(|d| d.to_string())),
        ]
    }

    /// The same parameters as a JSON object keyed without the colon (the Python runner's
    /// record-statement form).
    pub fn json_params(&self) -> serde_json::Map<String, serde_json::Value> {
        self.params()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.trim_start_matches(':').to_string(),
                    v.map_or(serde_json::Value::Null, serde_json::Value::String),
                )
            })
            .collect()
    }
}

/// Creates the table when missing. Call it inside the transaction that will write the row,
/// so a failed command does not even leave an empty table behind.
pub fn ensure_table(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch(CREATE_SQL)
        .context("cannot create the audit table schemagate_audit")
}

/// Writes one row (creating the table first). Runs on whatever transaction `conn` has open.
pub fn record(conn: &Connection, entry: &Entry) -> anyhow::Result<()> {
    ensure_table(conn)?;
    let params = entry.params();
    let named: Vec<(&str, &dyn rusqlite::ToSql)> = params
        .iter()
        .map(|(k, v)| (*k, v as &dyn rusqlite::ToSql))
        .collect();
    conn.execute(INSERT_SQL, named.as_slice())
        .context("cannot write the audit row")?;
    Ok(())
}

/// One row of the audit table, as `status --audit` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub command: String,
    pub versions: Vec<String>,
    pub reason: Option<String>,
    pub tool_version: String,
    pub backup: Option<String>,
    /// Parsed JSON when the stored text is JSON, else the text itself.
    pub details: Option<serde_json::Value>,
}

fn table_exists(conn: &Connection) -> anyhow::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            params![TABLE],
            |_| Ok(()),
        )
        .optional()
        .context("cannot read the schema")?
        .is_some())
}

/// Every audit row, oldest first. A database without the table has an empty trail.
pub fn audit_rows(conn: &Connection) -> anyhow::Result<Vec<AuditRow>> {
    if !table_exists(conn)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT id, at, command, versions, reason, tool_version, backup, details \
             FROM schemagate_audit ORDER BY id",
        )
        .context("cannot read the audit table schemagate_audit")?;
    let rows = stmt
        .query_map([], |r| {
            let versions: Option<String> = r.get(3)?;
            let details: Option<String> = r.get(7)?;
            Ok(AuditRow {
                id: r.get(0)?,
                at: r.get(1)?,
                command: r.get(2)?,
                versions: versions
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect(),
                reason: r.get(4)?,
                tool_version: r.get(5)?,
                backup: r.get(6)?,
                details: details
                    .map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
            })
        })
        .context("cannot read the audit table schemagate_audit")?;
    rows.collect::<Result<Vec<_>, _>>()
        .context("cannot read the audit table schemagate_audit")
}

/// Copies rows of `rows` that `conn` does not hold yet (same time, command, versions and
/// reason) into `conn`, keeping their original times. A restore uses it so that replacing
/// the database with an older backup does not erase the record of what happened since.
pub fn carry_over(conn: &Connection, rows: &[AuditRow]) -> anyhow::Result<usize> {
    ensure_table(conn)?;
    let existing = audit_rows(conn)?;
    let key = |r: &AuditRow| {
        (
            r.at.clone(),
            r.command.clone(),
            r.versions.clone(),
            r.reason.clone(),
        )
    };
    let known: std::collections::HashSet<_> = existing.iter().map(key).collect();
    let mut n = 0;
    for r in rows.iter().filter(|r| !known.contains(&key(r))) {
        conn.execute(
            "INSERT INTO schemagate_audit \
             (at, command, versions, reason, tool_version, backup, details) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.at,
                r.command,
                r.versions.join(","),
                r.reason,
                r.tool_version,
                r.backup,
                r.details.as_ref().map(|d| match d {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
            ],
        )
        .context("cannot copy the audit trail into the restored database")?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_without_the_table_has_an_empty_trail() {
        let conn = Connection::open_in_memory().unwrap();
        assert!(audit_rows(&conn).unwrap().is_empty());
        // Reading must not create the table.
        assert!(!table_exists(&conn).unwrap());
    }

    #[test]
    fn rows_round_trip_with_details_and_versions() {
        let conn = Connection::open_in_memory().unwrap();
        let e = Entry::new("forget")
            .versions(["004", "005"])
            .reason(Some("  fixed by hand  "))
            .backup(Some("b.db".into()))
            .details(serde_json::json!({"checksum": "abc"}));
        record(&conn, &e).unwrap();
        record(&conn, &Entry::new("restore").reason(Some(" "))).unwrap();
        let rows = audit_rows(&conn).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].command, "forget");
        assert_eq!(rows[0].versions, ["004", "005"]);
        assert_eq!(rows[0].reason.as_deref(), Some("fixed by hand"));
        assert_eq!(rows[0].backup.as_deref(), Some("b.db"));
        assert_eq!(
            rows[0].details,
            Some(serde_json::json!({"checksum": "abc"}))
        );
        assert_eq!(rows[0].tool_version, env!("CARGO_PKG_VERSION"));
        assert!(rows[0].at.ends_with('Z'), "{}", rows[0].at);
        assert!(rows[1].versions.is_empty());
        assert_eq!(rows[1].reason, None);
    }

    #[test]
    fn a_rolled_back_transaction_leaves_no_row_and_no_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        record(&tx, &Entry::new("forget").versions(["1"])).unwrap();
        drop(tx);
        assert!(!table_exists(&conn).unwrap());
    }

    #[test]
    fn carry_over_adds_only_missing_rows() {
        let a = Connection::open_in_memory().unwrap();
        let b = Connection::open_in_memory().unwrap();
        record(&a, &Entry::new("forget").versions(["1"])).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        record(&a, &Entry::new("rekey").versions(["2", "3"])).unwrap();
        let rows_a = audit_rows(&a).unwrap();
        assert_eq!(carry_over(&b, &rows_a[..1]).unwrap(), 1);
        assert_eq!(carry_over(&b, &rows_a).unwrap(), 1);
        let rows_b = audit_rows(&b).unwrap();
        assert_eq!(rows_b.len(), 2);
        assert_eq!(rows_b[1].at, rows_a[1].at);
        assert_eq!(rows_b[1].versions, ["2", "3"]);
    }
}
