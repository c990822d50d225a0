//! A write session on the user's database (shell): the migrator lock, then one write
//! connection (`synchronous=FULL`, the busy timeout), held together until dropped. Every
//! operation that changes a database works in one: `migrate`, the repairs, `restore` and
//! `rollback`.
//!
//! Two steps, because `restore` checks its backup file between taking the lock and opening
//! (perhaps creating) the live database, and `migrate` says who it is waiting for.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::config::Timeouts;
use crate::lock::{LockError, MigrateLock};
use crate::plan::HistoryRow;

/// The migrator lock of a database, not yet opened.
#[derive(Debug)]
pub struct Locked {
    path: PathBuf,
    busy: Duration,
    lock: MigrateLock,
}

impl Locked {
    /// Takes the migrator lock of `db`. When another migrator holds it, `on_wait` is told
    /// who, and the wait lasts up to `timeouts.lock`.
    pub fn acquire(
        db: &Path,
        timeouts: &Timeouts,
        on_wait: &mut dyn FnMut(&str),
    ) -> anyhow::Result<Locked> {
        let lock = match crate::lock::acquire(db, Duration::ZERO) {
            Ok(l) => l,
            Err(LockError::Timeout { holder, .. }) => {
                on_wait(&holder);
                crate::lock::acquire(db, timeouts.lock)?
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Locked {
            path: db.to_path_buf(),
            busy: timeouts.busy,
            lock,
        })
    }

    /// Releases the lock of a run refused before it opened the database (the lock file
    /// goes when this run created it).
    pub fn discard(self) {
        self.lock.discard();
    }

    /// Opens the database for writing ([`crate::db::open_for_write`]'s checks); with
    /// `create`, a missing file becomes a new, empty database.
    pub fn open(self, create: bool) -> anyhow::Result<Session> {
        let opened = match crate::db::open_for_write(&self.path, create, self.busy) {
            Ok(o) => o,
            Err(e) => {
                self.discard();
                return Err(e);
            }
        };
        Ok(Session {
            conn: opened.conn,
            created: opened.created,
            path: self.path,
            lock: self.lock,
        })
    }
}

/// An open database under the migrator lock; both are released on drop.
#[derive(Debug)]
pub struct Session {
    pub conn: Connection,
    /// The file did not exist and was created by [`Locked::open`].
    pub created: bool,
    path: PathBuf,
    lock: MigrateLock,
}

impl Session {
    /// Takes the lock and opens a database that must exist: a repair on a typo'd path must
    /// not create an empty database with one history row. `display` names it in the error.
    pub fn open_existing(db: &Path, display: &str, timeouts: &Timeouts) -> anyhow::Result<Session> {
        if crate::db::probe(db)? == crate::db::FileState::Missing {
            bail!(
                "database {display} does not exist; check the --db path or the environment's `database` in schemagate.toml"
            );
        }
        Locked::acquire(db, timeouts, &mut |_| {})?.open(false)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An SQLite error on this database, explained ([`crate::db::explain`]).
    pub fn explain(&self, e: rusqlite::Error) -> anyhow::Error {
        crate::db::explain(&self.path, e)
    }

    /// The history, read under the lock: what another migrator recorded while we waited
    /// is in it.
    pub fn history(&self) -> anyhow::Result<Vec<HistoryRow>> {
        read_history(&self.conn, &self.path)
    }

    /// [`Session::history`] without the side table's columns ([`crate::history::read_lean`]).
    pub fn history_lean(&self) -> anyhow::Result<Vec<HistoryRow>> {
        crate::history::read_lean(&self.conn)
            .map_err(|e| crate::db::explain(&self.path, e))
            .context("cannot read schema_versions")
    }

    /// A write transaction (`BEGIN IMMEDIATE`) and the history read inside it: nobody can
    /// change the history between this read and the commit.
    pub fn write_transaction(&mut self) -> anyhow::Result<(Transaction<'_>, Vec<HistoryRow>)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| crate::db::explain(&self.path, e))?;
        let rows = read_history(&tx, &self.path)?;
        Ok((tx, rows))
    }

    /// Closes the session; a database it created is removed first (while the lock is still
    /// held, so no other migrator can have started on it). For a run refused before it
    /// changed anything: nothing may stay behind.
    pub fn discard(self) {
        let Session {
            conn,
            created,
            path,
            lock,
        } = self;
        drop(conn);
        if created {
            let _ = std::fs::remove_file(&path);
        }
        lock.discard();
    }
}

/// The history through an open connection of the database at `path` (for messages).
pub(crate) fn read_history(conn: &Connection, path: &Path) -> anyhow::Result<Vec<HistoryRow>> {
    crate::history::read(conn)
        .map_err(|e| crate::db::explain(path, e))
        .context("cannot read schema_versions")
}
