//! One file per subcommand; each is a thin layer over the library: it parses its
//! arguments, calls the library and renders the result.
//!
//! Shared here: the one policy for a `--db` path with no file behind it, and the one way
//! the read-only commands read a database's history.

pub mod backups;
pub mod check;
pub mod docs;
pub mod dry_run;
pub mod generate;
pub mod init;
pub mod lint;
pub mod migrate;
pub mod pending;
pub mod renumber;
pub mod repair;
pub mod restore;
pub mod rollback;
pub mod rule;
pub mod status;
pub mod verify;

use crate::cli::Target;
use crate::history::DatabaseHistory;
use crate::layout::Layout;
use crate::report::DatabaseInfo;

/// What a command that reads a database without changing it makes of a `--db` path with
/// no file behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenMissing {
    /// A new environment: no history, everything pending.
    New,
    /// An error (exit 2): a typo'd `--db` must not pass for an empty database.
    Refuse,
}

/// `lint`, `status` and `pending` report the state of the database: a missing one is new.
pub const INSPECTING: WhenMissing = WhenMissing::New;

/// `dry-run`, `check --db` and `verify` act on the database's content (a copy of it, or
/// its schema against a replay). A missing one is new, as for every reading command (the
/// README's promise): they dry-run on an empty database, and verify an empty schema
/// against no history; the report says `exists: false` and the log says so. Setting this
/// to [`WhenMissing::Refuse`] makes a missing database an error for these three.
/// (`renumber --db` refuses a missing database for its own reason: it keeps applied files
/// in place, and a typo would let it rename them.)
pub const REPLAYING: WhenMissing = WhenMissing::New;

/// The history of `target` (in `layout`'s table), read without creating or changing
/// anything ([`crate::history::read_database`]), with `when_missing` applied.
pub(crate) fn read_history(
    target: &Target,
    layout: Layout,
    when_missing: WhenMissing,
) -> anyhow::Result<DatabaseHistory> {
    Ok(read_history_and(target, layout, when_missing, |_| Ok(()))?.0)
}

/// [`read_history`], plus what `also` reads through the same connection (`None` for a
/// missing database that `when_missing` lets through).
pub(crate) fn read_history_and<T>(
    target: &Target,
    layout: Layout,
    when_missing: WhenMissing,
    also: impl FnOnce(&rusqlite::Connection) -> anyhow::Result<T>,
) -> anyhow::Result<(DatabaseHistory, Option<T>)> {
    let read = crate::history::read_database_and(&target.path, layout, also)?;
    if !read.0.exists && when_missing == WhenMissing::Refuse {
        anyhow::bail!(
            "database {} does not exist (check --db, or leave it out to dry-run on an empty database)",
            target.display
        );
    }
    Ok(read)
}

/// The log line of a reading command for a database that does not exist yet.
pub(crate) fn log_new_database(ctx: &crate::cli::Context, target: &Target, what: &str) {
    if !target.path.exists() {
        ctx.log(format!(
            "{} does not exist yet: {what} (nothing is created)",
            target.display
        ));
    }
}

/// The one policy for a missing (or unusable) interpreter: every command that would read
/// or run one of `migrations` that is Python stops with exit 2 and the same message
/// ([`crate::pyrunner::check_available`]'s), before it changes or reports anything. A
/// folder without Python migrations never needs one.
pub(crate) fn require_python<'a>(
    ctx: &crate::cli::Context,
    migrations: impl IntoIterator<Item = &'a crate::migration::Migration>,
) -> anyhow::Result<()> {
    if !migrations
        .into_iter()
        .any(|m| m.kind == crate::migration::Kind::Python)
    {
        return Ok(());
    }
    match crate::pyrunner::check_available(&ctx.python) {
        Ok(version) => {
            ctx.debug(format!("{}: {version}", ctx.python));
            Ok(())
        }
        Err(e) => anyhow::bail!("{e}"),
    }
}

/// The database as a report names it.
pub(crate) fn database_info(t: &Target) -> DatabaseInfo {
    DatabaseInfo {
        path: t.display.clone(),
        exists: t.path.exists(),
        env: t.env.clone(),
    }
}
