//! `mark-applied`, `forget`, `rekey`: the repairs the legacy documentation did by hand with
//! `sqlite3 ... INSERT/DELETE`. Each checks its input against the folder and the history
//! read under the migrator lock (pure functions below), then changes the history and writes
//! its audit row in one transaction.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::json;

use crate::audit;
use crate::checksum::{self, Stored, Verdict};
use crate::cli::{Context, Format, Outcome, RekeyArgs, RepairArgs, Target};
use crate::config::TimeoutFlags;
use crate::migration::{Discovery, Migration, Version};
use crate::plan::HistoryRow;

/// Lock and busy timeouts of an operation (it has only `--lock-timeout`).
pub(crate) fn timeouts(ctx: &Context, lock_timeout: Option<u64>) -> (Duration, Duration) {
    let t = ctx.timeouts(TimeoutFlags {
        lock: lock_timeout,
        ..TimeoutFlags::default()
    });
    (t.lock, t.busy)
}

/// An existing database, opened for writing under the migrator lock (held until drop).
pub(crate) struct Session {
    pub conn: Connection,
    _lock: crate::lock::MigrateLock,
}

/// Takes the migrator lock and opens the database. A missing database is an error: a
/// repair on a typo'd path must not create an empty database with one history row.
pub(crate) fn open_existing(
    target: &Target,
    lock_timeout: Duration,
    busy_timeout: Duration,
) -> anyhow::Result<Session> {
    let path = &target.path;
    if crate::db::probe(path)? == crate::db::FileState::Missing {
        bail!(
            "database {} does not exist; check the --db path or the environment's `database` in schemagate.toml",
            target.display
        );
    }
    let lock = crate::lock::acquire(path, lock_timeout)?;
    let conn = crate::db::open_for_write(path, false, busy_timeout)?.conn;
    Ok(Session { conn, _lock: lock })
}

pub(crate) fn read_history(conn: &Connection, db: &Path) -> anyhow::Result<Vec<HistoryRow>> {
    crate::history::read(conn)
        .map_err(|e| crate::db::explain(db, e))
        .context("cannot read schema_versions")
}

/// Prints what a repair did, as text or JSON.
fn report(
    ctx: &Context,
    target: &Target,
    entry: &audit::Entry,
    text: &str,
) -> anyhow::Result<Outcome> {
    match ctx.format {
        Format::Json => {
            let value = json!({
                "command": entry.command,
                "database": target.display,
                "versions": entry.versions,
                "reason": entry.reason,
                "details": entry.details,
                "audit": true,
            });
            ctx.emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        }
        _ => ctx.emit(&format!("{text}\n"))?,
    }
    Ok(Outcome::Clean)
}

fn require_reason(reason: &str, command: &str) -> anyhow::Result<()> {
    if reason.trim().is_empty() {
        bail!("`{command}` needs a reason: pass --reason TEXT (it is kept in the audit table)");
    }
    Ok(())
}

pub fn mark_applied(ctx: &Context, args: &RepairArgs) -> anyhow::Result<Outcome> {
    require_reason(&args.reason, "mark-applied")?;
    let discovery = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    let (lock_timeout, busy) = timeouts(ctx, args.lock_timeout);
    let mut session = open_existing(target, lock_timeout, busy)?;
    let tx = session
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| crate::db::explain(&target.path, e))?;
    // Read under the lock and inside the write transaction: nobody can record it meanwhile.
    let rows = read_history(&tx, &target.path)?;
    let m = check_mark_applied(&discovery, &rows, &args.version, &ctx.dir_display)?;
    let statements = crate::history::record_statements(m, None);
    crate::history::execute_record(&tx, &statements, &m.description)
        .map_err(|e| crate::db::explain(&target.path, e))
        .context("cannot record the migration")?;
    let entry = audit::Entry::new("mark-applied")
        .versions([m.version.as_str()])
        .reason(Some(&args.reason))
        .details(json!({"file": m.path, "checksum": m.checksum}));
    audit::record(&tx, &entry)?;
    tx.commit()
        .map_err(|e| crate::db::explain(&target.path, e))?;
    report(
        ctx,
        target,
        &entry,
        &format!(
            "marked {} as applied in {} without running it (checksum {}); recorded in the audit table",
            m.path, target.display, m.checksum
        ),
    )
}

pub fn forget(ctx: &Context, args: &RepairArgs) -> anyhow::Result<Outcome> {
    require_reason(&args.reason, "forget")?;
    let target = ctx.require_database()?;
    let (lock_timeout, busy) = timeouts(ctx, args.lock_timeout);
    let mut session = open_existing(target, lock_timeout, busy)?;
    let tx = session
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| crate::db::explain(&target.path, e))?;
    let rows = read_history(&tx, &target.path)?;
    let row = check_forget(&rows, &args.version)?;
    tx.execute("DELETE FROM schema_versions WHERE id = ?1", [row.id])
        .map_err(|e| crate::db::explain(&target.path, e))?;
    if crate::db::table_exists(&tx, crate::history::SIDE_TABLE)? {
        tx.execute(
            "DELETE FROM schemagate_history WHERE version = ?1",
            [&row.version],
        )
        .map_err(|e| crate::db::explain(&target.path, e))?;
    }
    // The removed row goes into the audit details: with it, the step can be undone.
    let entry = audit::Entry::new("forget")
        .versions([row.version.as_str()])
        .reason(Some(&args.reason))
        .details(json!({
            "id": row.id,
            "applied_at": row.applied_at,
            "description": row.description,
            "checksum": row.checksum,
        }));
    audit::record(&tx, &entry)?;
    tx.commit()
        .map_err(|e| crate::db::explain(&target.path, e))?;
    report(
        ctx,
        target,
        &entry,
        &format!(
            "forgot version {} in {} (its history row was removed; the migration will be pending again); recorded in the audit table",
            row.version, target.display
        ),
    )
}

pub fn rekey(ctx: &Context, args: &RekeyArgs) -> anyhow::Result<Outcome> {
    let discovery = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    let (lock_timeout, busy) = timeouts(ctx, args.lock_timeout);
    let mut session = open_existing(target, lock_timeout, busy)?;
    let tx = session
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| crate::db::explain(&target.path, e))?;
    let rows = read_history(&tx, &target.path)?;
    let (row, m) = check_rekey(&discovery, &rows, &args.old, &args.new, &ctx.dir_display)?;
    tx.execute(
        "UPDATE schema_versions SET version = ?1 WHERE id = ?2",
        rusqlite::params![m.version.as_str(), row.id],
    )
    .map_err(|e| crate::db::explain(&target.path, e))?;
    if crate::db::table_exists(&tx, crate::history::SIDE_TABLE)? {
        tx.execute(
            "UPDATE schemagate_history SET version = ?1, file_name = ?2 WHERE version = ?3",
            rusqlite::params![m.version.as_str(), m.file_name, row.version],
        )
        .map_err(|e| crate::db::explain(&target.path, e))?;
    }
    let entry = audit::Entry::new("rekey")
        .versions([row.version.as_str(), m.version.as_str()])
        .reason(args.reason.as_deref())
        .details(json!({
            "from": row.version,
            "to": m.version.as_str(),
            "file": m.path,
            "checksum": row.checksum,
        }));
    audit::record(&tx, &entry)?;
    tx.commit()
        .map_err(|e| crate::db::explain(&target.path, e))?;
    report(
        ctx,
        target,
        &entry,
        &format!(
            "moved the history row of version {} to {} ({} has the recorded content); recorded in the audit table",
            row.version, m.version, m.path
        ),
    )
}

pub(crate) fn parse_version(s: &str) -> anyhow::Result<Version> {
    match Version::parse(s.trim()) {
        Some(v) => Ok(v),
        None => bail!("`{s}` is not a migration version (expected digits, e.g. 004)"),
    }
}

/// The history row of `version` (numerically: "4" finds "004").
pub(crate) fn row_of<'a>(rows: &'a [HistoryRow], version: &Version) -> Option<&'a HistoryRow> {
    rows.iter()
        .find(|r| r.parsed_version().as_ref() == Some(version))
}

/// The one file with `version`; none or several is an error that says what to do.
fn file_of<'a>(
    discovery: &'a Discovery,
    version: &Version,
    dir: &str,
) -> anyhow::Result<&'a Migration> {
    let files: Vec<&Migration> = discovery.by_version(version).collect();
    match files.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "no migration file in {dir} has version {version}; check the version (`schemagate status` lists them)"
        ),
        many => bail!(
            "version {version} has several files ({}); resolve the duplicate first with `schemagate renumber`",
            many.iter()
                .map(|m| m.file_name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `mark-applied VERSION`: the file to record. Refuses a version without a file, with
/// several files, or already recorded.
pub(crate) fn check_mark_applied<'a>(
    discovery: &'a Discovery,
    rows: &[HistoryRow],
    version: &str,
    dir: &str,
) -> anyhow::Result<&'a Migration> {
    let version = parse_version(version)?;
    let m = file_of(discovery, &version, dir)?;
    if let Some(row) = row_of(rows, &version) {
        bail!(
            "version {} is already recorded as applied (row {}, applied at {}); nothing to mark",
            row.version,
            row.id,
            row.applied_at.as_deref().unwrap_or("unknown time")
        );
    }
    Ok(m)
}

/// `forget VERSION`: the row to remove.
pub(crate) fn check_forget<'a>(
    rows: &'a [HistoryRow],
    version: &str,
) -> anyhow::Result<&'a HistoryRow> {
    let v = parse_version(version)?;
    row_of(rows, &v).ok_or_else(|| {
        anyhow::anyhow!(
            "version {version} is not recorded in schema_versions; nothing to forget (`schemagate status` lists the applied versions)"
        )
    })
}

/// `rekey OLD NEW`: the row to move and the file now at NEW, which must hold exactly the
/// content recorded for OLD. Anything else would mark a different migration as applied.
pub(crate) fn check_rekey<'a, 'r>(
    discovery: &'a Discovery,
    rows: &'r [HistoryRow],
    old: &str,
    new: &str,
    dir: &str,
) -> anyhow::Result<(&'r HistoryRow, &'a Migration)> {
    let old_v = parse_version(old)?;
    let new_v = parse_version(new)?;
    if old_v == new_v {
        bail!("OLD and NEW are the same version ({old}); nothing to rekey");
    }
    let row = row_of(rows, &old_v).ok_or_else(|| {
        anyhow::anyhow!("version {old} is not recorded in schema_versions; nothing to rekey")
    })?;
    if let Some(taken) = row_of(rows, &new_v) {
        bail!(
            "version {new} is already recorded (row {}); `schemagate forget {new}` first if that row is wrong",
            taken.id
        );
    }
    let target = file_of(discovery, &new_v, dir)?;
    let stored = row.stored();
    if matches!(stored, Stored::Unverified(_)) {
        bail!(
            "the row of version {old} has no real checksum ({:?}), so it cannot be proved that {} is the migration it records; use `schemagate forget {old}` and `schemagate mark-applied {new}` with a reason instead",
            row.checksum.as_deref().unwrap_or("NULL"),
            target.path
        );
    }
    if checksum::verify(target, &stored) != Verdict::Match {
        bail!(
            "{} does not have the content recorded for version {old} (checksum {}); rekey only moves a row to the same migration under a new number",
            target.path,
            row.checksum.as_deref().unwrap_or("NULL")
        );
    }
    // If OLD still has a file with the recorded content, moving the row would make that
    // file pending and run the migration a second time.
    if let Some(still) = discovery
        .by_version(&old_v)
        .find(|m| checksum::verify(m, &stored) == Verdict::Match)
    {
        bail!(
            "{} still has the content recorded for version {old}; remove or renumber that file before moving its row",
            still.path
        );
    }
    Ok((row, target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    fn folder(files: &[(&str, &str)]) -> Discovery {
        discover("m", files.iter().map(|(n, t)| (*n, t.as_bytes())))
    }

    fn row(id: i64, version: &str, checksum: Option<&str>) -> HistoryRow {
        HistoryRow {
            id,
            version: version.into(),
            applied_at: Some("2024-01-01 00:00:00".into()),
            description: None,
            checksum: checksum.map(str::to_string),
            file_name: None,
            skeleton: None,
        }
    }

    fn err<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn mark_applied_needs_one_file_and_no_row() {
        let d = folder(&[
            ("001_a.sql", "A"),
            ("002_b.sql", "B"),
            ("003_c.sql", "C"),
            ("003_d.sql", "D"),
        ]);
        let rows = vec![row(1, "1", Some("manual"))];
        assert_eq!(
            check_mark_applied(&d, &rows, "002", "m").unwrap().file_name,
            "002_b.sql"
        );
        assert!(err(check_mark_applied(&d, &rows, "001", "m")).contains("already recorded"));
        assert!(
            err(check_mark_applied(&d, &rows, "009", "m"))
                .contains("no migration file in m has version 009")
        );
        assert!(err(check_mark_applied(&d, &rows, "003", "m")).contains("renumber"));
        assert!(err(check_mark_applied(&d, &rows, "x1", "m")).contains("not a migration version"));
    }

    #[test]
    fn forget_needs_a_row() {
        let rows = vec![row(1, "004", Some("manual"))];
        assert_eq!(check_forget(&rows, "4").unwrap().id, 1);
        assert!(err(check_forget(&rows, "5")).contains("not recorded"));
    }

    #[test]
    fn rekey_moves_a_row_only_to_the_same_content() {
        let d = folder(&[("001_a.sql", "A"), ("007_b.sql", "B"), ("008_c.sql", "C")]);
        let b = &d.migrations[1];
        let rows = vec![
            row(1, "001", Some(&d.migrations[0].checksum)),
            row(2, "004", Some(&b.legacy_checksum)),
            row(3, "005", Some("manual")),
        ];
        let (r, m) = check_rekey(&d, &rows, "004", "007", "m").unwrap();
        assert_eq!((r.id, m.file_name.as_str()), (2, "007_b.sql"));
        assert!(
            err(check_rekey(&d, &rows, "004", "008", "m")).contains("does not have the content")
        );
        assert!(err(check_rekey(&d, &rows, "004", "001", "m")).contains("already recorded"));
        assert!(err(check_rekey(&d, &rows, "006", "007", "m")).contains("not recorded"));
        assert!(err(check_rekey(&d, &rows, "005", "008", "m")).contains("no real checksum"));
        assert!(err(check_rekey(&d, &rows, "004", "009", "m")).contains("no migration file"));
        assert!(err(check_rekey(&d, &rows, "4", "004", "m")).contains("same version"));
    }

    #[test]
    fn rekey_refuses_while_the_old_file_still_holds_the_content() {
        let d = folder(&[("004_b.sql", "B"), ("007_b.sql", "B")]);
        let rows = vec![row(1, "004", Some(&d.migrations[0].checksum))];
        assert!(err(check_rekey(&d, &rows, "004", "007", "m")).contains("m/004_b.sql still has"));
    }
}
