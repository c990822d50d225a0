//! The one write `rollback` makes to a tool's history table: the statements that forget one
//! version the way the tool's own revert does, to commit in the transaction of the down
//! SQL. Which versions are applied is read by the one reader of each table,
//! [`crate::history::read_connection`].
//!
//! | layout | forgetting version V (the tool's revert) |
//! |---|---|
//! | legacy | `DELETE` its `schema_versions` row (and the side-table row) |
//! | sqlx | `DELETE FROM _sqlx_migrations WHERE version = V` (`sqlx migrate revert`) |
//! | dbmate | `DELETE FROM schema_migrations WHERE version = V` (`dbmate rollback`) |
//! | goose | `DELETE FROM goose_db_version WHERE version_id = V` (`goose down`) |
//! | golang-migrate | the one row becomes the previous version, or no row (`migrate down 1`) |
//! | diesel | `DELETE FROM __diesel_schema_migrations WHERE version = V` (`diesel migration revert`) |
//!
//! Flyway's undo records rows of its own (an `UNDO_SQL` row with the next `installed_rank`
//! and a checksum): `rollback` refuses and points at `flyway undo` ([`refuse`]). A tool
//! that recorded a half-applied migration (sqlx `success = false`, golang-migrate `dirty`)
//! is refused too: its own revert refuses as well.

use anyhow::bail;
use serde_json::{Map, Value};

use crate::history::{DirtyMarker, RecordStatement};
use crate::layout::Layout;
use crate::migration::{Discovery, Migration};

/// `Err` when the tool's own revert would not run: Flyway (its undo writes rows of its
/// own), or a history that marks a migration as stopped half-way.
pub(super) fn refuse(layout: Layout, dirty: &[DirtyMarker]) -> anyhow::Result<()> {
    if layout == Layout::Flyway {
        bail!(
            "Flyway records an undo as rows of its own in flyway_schema_history; run `flyway undo` (refinery has no undo), or `schemagate restore` a backup (nothing was changed)"
        );
    }
    if let Some(m) = dirty.first().filter(|_| layout != Layout::Legacy) {
        bail!(
            "{m}; {}'s own revert refuses too: {} (nothing was changed)",
            m.origin.tool(),
            m.remedy()
        );
    }
    Ok(())
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
        Layout::Flyway => unreachable!("refused by `refuse`"),
    }
}
