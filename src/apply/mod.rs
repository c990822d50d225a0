//! The executor (shell), in the shape of sqlx's driver `migrate.rs` (one migration) below its
//! `migrator.rs` (the run):
//!
//! - [`step`]: applies one migration on an open connection ([`apply_one`]): the SQL path in
//!   one transaction, the `no-transaction` path with its marker, the Python path.
//! - [`guard`]: what a migration's own statements may not do (transaction control, writing
//!   schemagate's tables), enforced with SQLite's authorizer.
//! - [`schema_checks`]: what is checked before a migration's COMMIT (new foreign key
//!   violations, views that no longer compile).
//! - [`run`]: the whole `migrate` run ([`migrate`]): lock, re-read history under the lock,
//!   refuse on drift and friends, back up, apply each pending migration atomically with its
//!   history row, stop at the first failure.
//! - [`signal`]: SIGINT/SIGTERM stop a run at a migration boundary.
//! - [`down`]: a migration's down SQL, in one transaction with its history change
//!   (`rollback`, and `check`'s reversibility check). Nothing else ever runs it.
//!
//! Each transactional migration runs in `BEGIN IMMEDIATE` (never a deferred transaction that
//! fails with SQLITE_BUSY_SNAPSHOT when it first writes), statement by statement so that a
//! failure names `file:line:column`, with an authorizer that denies transaction control, and
//! its `schema_versions` row is inserted before the one COMMIT. A failure or a `kill -9`
//! therefore leaves the database exactly at the previous migration boundary.

pub mod down;
pub mod guard;
pub mod run;
pub mod schema_checks;
pub mod signal;
pub mod step;

pub use run::{
    BackupPolicy, Event, FolderRead, MigrateOptions, MigrateResult, MigrateStatus, Overrides,
    blocks, migrate, migrate_reading,
};
pub use signal::{interrupted, stop_on_signals};
pub use step::{ApplyOptions, StepError, StepErrorKind, StepResult, apply_one, run_statements};

/// What the executor's tests share: default options, a one-file folder, the table list.
#[cfg(test)]
mod test_support {
    use std::path::Path;
    use std::time::Duration;

    use rusqlite::Connection;

    use super::{ApplyOptions, StepError, StepResult, apply_one};
    use crate::migration::{Discovery, Migration, discover};

    /// Applies `m` to an in-memory connection with the default test options.
    pub fn run_in_memory(conn: &mut Connection, m: &Migration) -> Result<StepResult, StepError> {
        apply_one(conn, Path::new(":memory:"), Path::new("x"), m, &opts())
    }

    pub fn opts() -> ApplyOptions<'static> {
        ApplyOptions {
            record_history: true,
            commit: true,
            busy_timeout: Duration::from_secs(1),
            migration_timeout: None,
            python: "python3",
            env: &[],
        }
    }

    pub fn one(name: &str, text: &str) -> Discovery {
        discover("m", [(name, text.as_bytes())])
    }

    pub fn tables(conn: &Connection) -> Vec<String> {
        let mut s = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}
