//! `schemagate restore [--backup FILE]`: puts a backup back into the live database.
//!
//! The legacy documentation said "copy the backup file over the database". With the
//! application running, that is how databases get corrupted: open connections keep the old
//! inode, a hot journal or `-wal` file gets paired with the wrong main file. Instead:
//! - under the migrator lock, the backup is checked (`quick_check`, has `schema_versions`,
//!   shares tables with the live database unless that one is empty);
//! - the current state is backed up first (the way back from a wrong restore);
//! - the backup is copied into a staging file, which also receives the audit trail of the
//!   live database plus the row for this restore;
//! - the staging file is copied *into* the live database with SQLite's backup API: one
//!   write transaction on the live file, so open connections see the old state or the new
//!   one, and the files (`-journal`, `-wal`) stay SQLite's business.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::json;

use super::session::read_history;
use super::{Database, Event, Locked};
use crate::audit;
use crate::config::Timeouts;
use crate::plan::HistoryRow;

/// What `restore` is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct RestoreRequest<'a> {
    pub db: Database<'a>,
    /// Where the database's backups are (the newest is the default source, and the current
    /// state is backed up there first).
    pub backup_dir: &'a Path,
    /// The backup to restore; `None`: the newest in `backup_dir`.
    pub backup: Option<&'a Path>,
    pub reason: Option<&'a str>,
    pub timeouts: Timeouts,
}

/// What a restore did, as `--format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Restored {
    /// Always `restored` (a restore that fails is an error).
    pub status: &'static str,
    pub database: String,
    pub restored_from: String,
    /// Backup of the state the restore replaced (absent when the database did not exist).
    pub backup: Option<String>,
    /// Versions applied before the restore that the restored state does not have.
    pub no_longer_applied: Vec<String>,
    /// Versions the restored state has that the replaced one did not.
    pub now_applied: Vec<String>,
}

/// Puts a backup back into the live database (see the module documentation for how).
/// `Err` when nothing was changed: no backup, a backup that is not sound or looks like
/// another database's, the lock not available, the current state not backed up.
pub fn restore(
    req: &RestoreRequest<'_>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<Restored> {
    let db = req.db;
    // Chosen before anything else: the backup of the current state taken below must not
    // become "the newest backup".
    let chosen = match req.backup {
        Some(p) => p.to_path_buf(),
        None => newest_backup(db.path, req.backup_dir)?,
    };
    if same_file(&chosen, db.path) {
        bail!(
            "{} is the live database itself; pass a backup file with --backup",
            chosen.display()
        );
    }
    let busy = req.timeouts.busy;
    let existed = crate::db::probe(db.path)? != crate::db::FileState::Missing;
    let locked = Locked::acquire(db.path, &req.timeouts, &mut |_| {})?;

    let source = match open_backup(&chosen).and_then(|s| {
        let rows = read_history(&s, &chosen)?;
        Ok((s, rows))
    }) {
        Ok(s) => s,
        Err(e) => {
            locked.discard();
            return Err(e);
        }
    };
    let (source, source_rows) = source;
    let mut session = locked.open(!existed)?;
    let live_rows = session.history()?;
    if let Err(e) = refuse_foreign(&session.conn, &source, db.display, &chosen) {
        session.discard();
        return Err(e);
    }

    let replaced = if existed {
        let b = crate::backup::create(db.path, req.backup_dir, busy)
            .context("the current state could not be backed up, so nothing was restored")?;
        on_event(Event::BackedUp(&b));
        Some(b.display().to_string())
    } else {
        None
    };

    let (no_longer_applied, now_applied) = history_change(&live_rows, &source_rows);
    let entry = audit::Entry::new("restore")
        // Every version whose state the restore changes, either way.
        .versions(no_longer_applied.iter().chain(&now_applied).cloned())
        .reason(req.reason)
        .backup(replaced.clone())
        .details(json!({
            "restored_from": chosen.display().to_string(),
            "no_longer_applied": no_longer_applied,
            "now_applied": now_applied,
        }));
    let live_audit = audit::audit_rows(&session.conn)?;

    let staging_dir = db
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // A private folder beside the database (same file system); a staging folder left by a
    // killed restore is removed here, by the next one.
    let staging = crate::scratch::ScratchDir::new_in(staging_dir, STAGING_PREFIX)?;
    let staged = staging.new_database("restore.db")?;
    {
        let mut stage = Connection::open(&staged)
            .with_context(|| format!("cannot open {}", staged.display()))?;
        crate::backup::copy(&source, &mut stage, busy).context("cannot copy the backup")?;
        keep_journal_mode(&session.conn, &stage)?;
        let tx = stage.transaction()?;
        audit::carry_over(&tx, &live_audit)?;
        audit::record(&tx, &entry)?;
        tx.commit()?;
        crate::backup::copy(&stage, &mut session.conn, busy).with_context(|| {
            format!(
                "cannot write the backup into {}; the database is unchanged",
                db.display
            )
        })?;
    }
    drop(staging);

    Ok(Restored {
        status: "restored",
        database: db.display.to_string(),
        restored_from: chosen.display().to_string(),
        backup: replaced,
        no_longer_applied,
        now_applied,
    })
}

/// A backup taken from a WAL database carries WAL in its header, and the backup API copies
/// the header: restored as is into a rollback-journal database, it would switch the
/// application to WAL behind its back. The staging copy gets the live database's mode.
/// (A WAL destination is handled by SQLite itself.)
fn keep_journal_mode(live: &Connection, stage: &Connection) -> anyhow::Result<()> {
    let mode: String = live.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        let _: String = stage.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    }
    Ok(())
}

/// The newest backup of `db` in `dir`.
fn newest_backup(db: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let all = crate::backup::list_backups(db, dir)?;
    match all.into_iter().last() {
        Some(b) => Ok(b.path),
        None => bail!(
            "no backups of {} in {}; pass the file to restore with --backup FILE",
            db.display(),
            dir.display()
        ),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Opens the backup read-only and checks that it is a sound schemagate/legacy database.
fn open_backup(path: &Path) -> anyhow::Result<Connection> {
    let refuse = |why: String| {
        anyhow::anyhow!(
            "refusing to restore {}: {why}; nothing was changed",
            path.display()
        )
    };
    match crate::db::probe(path)? {
        crate::db::FileState::Sqlite => {}
        crate::db::FileState::Missing => {
            bail!(
                "backup {} does not exist (`schemagate backups` lists the backups)",
                path.display()
            )
        }
        crate::db::FileState::Empty => return Err(refuse("it is an empty file".into())),
        crate::db::FileState::NotSqlite => {
            return Err(refuse("it is not a SQLite database".into()));
        }
    }
    // Read-only without `-wal`/`-shm` appearing beside a backup taken from a WAL database.
    let conn = crate::db::open_read_only(path)
        .map_err(|e| refuse(format!("{e:#}")))?
        .ok_or_else(|| refuse("it disappeared".into()))?;
    crate::db::quick_check(&conn).map_err(|e| refuse(format!("{e:#}")))?;
    if !crate::db::table_exists(&conn, crate::history::TABLE).map_err(|e| refuse(format!("{e}")))? {
        return Err(refuse(
            "it has no schema_versions table, so it is not a backup of a migrated database".into(),
        ));
    }
    Ok(conn)
}

/// The application's tables: everything but SQLite's and the history/audit tables.
fn user_tables(conn: &Connection) -> anyhow::Result<BTreeSet<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name NOT LIKE 'schemagate\\_%' ESCAPE '\\' \
         AND name <> 'schema_versions'",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    Ok(names)
}

/// A backup that shares no table with a non-empty live database belongs to another
/// application (a wrong path, a copy from another project): restoring it would replace
/// this application's data with unrelated data.
fn refuse_foreign(
    live: &Connection,
    backup: &Connection,
    live_display: &str,
    backup_path: &Path,
) -> anyhow::Result<()> {
    let live_tables = user_tables(live)?;
    let backup_tables = user_tables(backup)?;
    if is_foreign(&live_tables, &backup_tables) {
        bail!(
            "refusing to restore {}: it shares no table with {live_display} (backup: {}; database: {}), so it looks like a backup of another database; nothing was changed",
            backup_path.display(),
            list(&backup_tables),
            list(&live_tables)
        );
    }
    Ok(())
}

fn list(tables: &BTreeSet<String>) -> String {
    let v: Vec<&str> = tables.iter().take(8).map(String::as_str).collect();
    let more = tables.len().saturating_sub(v.len());
    if more > 0 {
        format!("{}, and {more} more", v.join(", "))
    } else {
        v.join(", ")
    }
}

fn is_foreign(live: &BTreeSet<String>, backup: &BTreeSet<String>) -> bool {
    !live.is_empty() && !backup.is_empty() && live.is_disjoint(backup)
}

/// Versions that the restore removes and adds, in version order.
fn history_change(before: &[HistoryRow], after: &[HistoryRow]) -> (Vec<String>, Vec<String>) {
    let versions = |rows: &[HistoryRow]| -> Vec<(crate::migration::Version, String)> {
        let mut v: Vec<_> = rows
            .iter()
            .filter_map(|r| r.parsed_version().map(|p| (p, r.version.clone())))
            .collect();
        v.sort();
        v
    };
    let (b, a) = (versions(before), versions(after));
    let gone = b
        .iter()
        .filter(|(v, _)| !a.iter().any(|(w, _)| w == v))
        .map(|(_, s)| s.clone())
        .collect();
    let new = a
        .iter()
        .filter(|(v, _)| !b.iter().any(|(w, _)| w == v))
        .map(|(_, s)| s.clone())
        .collect();
    (gone, new)
}

/// The name prefix of `restore`'s staging folders beside the database.
pub const STAGING_PREFIX: &str = ".schemagate-restore-";

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_backup_sharing_nothing_with_a_non_empty_database_is_foreign() {
        assert!(is_foreign(&set(&["users"]), &set(&["invoices"])));
        assert!(!is_foreign(&set(&["users"]), &set(&["users", "posts"])));
        assert!(!is_foreign(&set(&[]), &set(&["invoices"])));
        assert!(!is_foreign(&set(&["users"]), &set(&[])));
    }

    #[test]
    fn history_change_is_by_numeric_version() {
        let row = |v: &str| HistoryRow {
            id: 0,
            version: v.into(),
            applied_at: None,
            description: None,
            checksum: None,
            file_name: None,
            skeleton: None,
            ..Default::default()
        };
        let before = [row("001"), row("002"), row("003")];
        let after = [row("1"), row("004")];
        assert_eq!(
            history_change(&before, &after),
            (vec!["002".into(), "003".into()], vec!["004".into()])
        );
    }
}
