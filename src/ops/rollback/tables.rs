//! The history table of each layout as `rollback` needs it (shell): which versions are
//! applied, and the statements that forget one version the way the tool's own revert does,
//! to commit in the transaction of the down SQL.
//!
//! | layout | applied | forgetting version V (the tool's revert) |
//! |---|---|---|
//! | legacy | `schema_versions` rows | `DELETE` its row (and the side-table row) |
//! | sqlx | `_sqlx_migrations` rows | `DELETE FROM _sqlx_migrations WHERE version = V` (`sqlx migrate revert`) |
//! | dbmate | `schema_migrations` rows | `DELETE FROM schema_migrations WHERE version = V` (`dbmate rollback`) |
//! | goose | per version, its newest `goose_db_version` row (`is_applied`); 0 is goose's own | `DELETE FROM goose_db_version WHERE version_id = V` (`goose down`) |
//! | golang-migrate | every version up to the one `schema_migrations` row | the row becomes the previous version, or no row (`migrate down 1`) |
//! | diesel | `__diesel_schema_migrations` rows | `DELETE FROM __diesel_schema_migrations WHERE version = V` (`diesel migration revert`) |
//!
//! Flyway's undo records rows of its own (an `UNDO_SQL` row with the next `installed_rank`
//! and a checksum): `rollback` refuses and points at `flyway undo`. A tool that recorded a
//! half-applied migration (sqlx `success = false`, golang-migrate `dirty`) is refused too:
//! its own revert refuses as well.
//!
//! Only the applied versions are read here (no checksums); the full readers of the tools'
//! tables are [`crate::history`]'s.

use anyhow::bail;
use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::history::RecordStatement;
use crate::layout::Layout;
use crate::migration::{Discovery, Migration};
use crate::plan::HistoryRow;

/// The tool's table for `layout`.
fn table(layout: Layout) -> &'static str {
    match layout {
        Layout::Legacy => crate::history::TABLE,
        Layout::Sqlx => "_sqlx_migrations",
        Layout::Dbmate | Layout::GolangMigrate => "schema_migrations",
        Layout::Goose => "goose_db_version",
        Layout::Flyway => "flyway_schema_history",
        Layout::Diesel => "__diesel_schema_migrations",
    }
}

fn row(id: i64, version: String) -> HistoryRow {
    HistoryRow {
        id,
        version,
        applied_at: None,
        description: None,
        checksum: None,
        file_name: None,
        skeleton: None,
        ..HistoryRow::default()
    }
}

fn versions(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<(i64, String, bool)>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            r.get::<_, Option<i64>>(2)?.unwrap_or(1) != 0,
        ))
    })?;
    rows.collect()
}

/// The applied versions, as history rows without checksums (`Err` when the tool's own
/// revert would refuse too).
pub(super) fn applied_rows(
    conn: &Connection,
    layout: Layout,
    d: &Discovery,
) -> anyhow::Result<Vec<HistoryRow>> {
    if layout == Layout::Legacy {
        return Ok(crate::history::read(conn)?);
    }
    if layout == Layout::Flyway {
        bail!(
            "Flyway records an undo as rows of its own in flyway_schema_history; run `flyway undo` (refinery has no undo), or `schemagate restore` a backup (nothing was changed)"
        );
    }
    if !crate::db::table_exists(conn, table(layout))? {
        return Ok(Vec::new());
    }
    let rows = match layout {
        Layout::Sqlx => {
            let rows = versions(
                conn,
                "SELECT rowid, CAST(version AS TEXT), success FROM _sqlx_migrations ORDER BY version",
            )?;
            if let Some((_, v, _)) = rows.iter().find(|(_, _, ok)| !ok) {
                bail!(
                    "sqlx recorded migration {v} as partially applied (success = false); fix the database and that row first, as `sqlx migrate revert` would ask (nothing was changed)"
                );
            }
            rows.into_iter().map(|(id, v, _)| row(id, v)).collect()
        }
        Layout::Dbmate => versions(
            conn,
            "SELECT rowid, CAST(version AS TEXT), 1 FROM schema_migrations",
        )?
        .into_iter()
        .map(|(id, v, _)| row(id, v))
        .collect(),
        Layout::Diesel => versions(
            conn,
            "SELECT rowid, CAST(version AS TEXT), 1 FROM __diesel_schema_migrations",
        )?
        .into_iter()
        .map(|(id, v, _)| row(id, v))
        .collect(),
        Layout::Goose => {
            // Newest row first; the first row of a version decides.
            let all = versions(
                conn,
                "SELECT id, CAST(version_id AS TEXT), is_applied FROM goose_db_version ORDER BY id DESC",
            )?;
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::new();
            for (id, v, applied) in all {
                let key = v.trim_start_matches('0').to_string();
                if seen.insert(key.clone()) && applied && !key.is_empty() {
                    out.push(row(id, v));
                }
            }
            out.reverse();
            out
        }
        Layout::GolangMigrate => {
            let current = versions(
                conn,
                "SELECT rowid, CAST(version AS TEXT), NOT dirty FROM schema_migrations ORDER BY rowid LIMIT 1",
            )?;
            let Some((_, v, clean)) = current.into_iter().next() else {
                return Ok(Vec::new());
            };
            if !clean {
                bail!(
                    "golang-migrate marked version {v} dirty (a migration failed half-way); fix the database, then `migrate force` the version it is at (nothing was changed)"
                );
            }
            let Some(current) = crate::migration::Version::parse(v.trim()) else {
                return Ok(Vec::new()); // -1: no version
            };
            // One row stands for every version up to it.
            d.migrations
                .iter()
                .filter(|m| m.version <= current)
                .enumerate()
                .map(|(i, m)| row(i as i64 + 1, m.native_version.clone()))
                .collect()
        }
        Layout::Legacy | Layout::Flyway => unreachable!("handled above"),
    };
    Ok(rows)
}

/// A version as the tool's column stores it: integers for sqlx and goose, text otherwise.
fn bound(layout: Layout, version: &str) -> Value {
    match layout {
        Layout::Sqlx | Layout::Goose | Layout::GolangMigrate => version
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Value::from(version), Value::from),
        _ => Value::from(version),
    }
}

/// The statements that forget `m` (recorded as `row_version`) in `layout`'s table.
/// `side_table`: the legacy layout's `schemagate_history` exists.
pub(super) fn forget_statements(
    layout: Layout,
    m: &Migration,
    row_version: &str,
    d: &Discovery,
    side_table: bool,
) -> Vec<RecordStatement> {
    let mut version = Map::new();
    version.insert("version".into(), bound(layout, row_version));
    let delete = |sql: &str| RecordStatement {
        sql: sql.into(),
        params: version.clone(),
    };
    match layout {
        Layout::Legacy => {
            let mut out = vec![delete(
                "DELETE FROM schema_versions WHERE version = :version",
            )];
            if side_table {
                out.push(delete(
                    "DELETE FROM schemagate_history WHERE version = :version",
                ));
            }
            out
        }
        Layout::Sqlx => vec![delete(
            "DELETE FROM _sqlx_migrations WHERE version = :version",
        )],
        Layout::Dbmate => vec![delete(
            "DELETE FROM schema_migrations WHERE version = :version",
        )],
        Layout::Goose => vec![delete(
            "DELETE FROM goose_db_version WHERE version_id = :version",
        )],
        Layout::Diesel => vec![delete(
            "DELETE FROM __diesel_schema_migrations WHERE version = :version",
        )],
        Layout::GolangMigrate => {
            let previous = d
                .migrations
                .iter()
                .filter(|p| p.version < m.version)
                .max_by(|a, b| a.version.cmp(&b.version));
            let mut out = vec![RecordStatement {
                sql: "DELETE FROM schema_migrations".into(),
                params: Map::new(),
            }];
            if let Some(p) = previous {
                let mut params = Map::new();
                params.insert("version".into(), bound(layout, &p.native_version));
                out.push(RecordStatement {
                    sql: "INSERT INTO schema_migrations (version, dirty) VALUES (:version, 0)"
                        .into(),
                    params,
                });
            }
            out
        }
        Layout::Flyway => unreachable!("refused by applied_rows"),
    }
}
