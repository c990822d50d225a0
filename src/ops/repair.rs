//! `mark-applied`, `forget`, `rekey`: the repairs the legacy documentation did by hand with
//! `sqlite3 ... INSERT/DELETE`. Each checks its input against the folder and the history
//! read under the migrator lock (pure functions below), then changes the history and writes
//! its audit row in one transaction.

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::{Value, json};

use rusqlite::Transaction;

use super::{Database, Session, parse_version};
use crate::audit;
use crate::checksum::{Stored, Verdict};
use crate::config::Timeouts;
use crate::history::DirtyMarker;
use crate::migration::{Discovery, Migration, Version};
use crate::plan::HistoryRow;

/// Why a repair was made: required, and kept in the audit table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Refuses an empty reason; `command` names the repair in the message.
    pub fn required(text: &str, command: &str) -> anyhow::Result<Reason> {
        if text.trim().is_empty() {
            bail!("`{command}` needs a reason: pass --reason TEXT (it is kept in the audit table)");
        }
        Ok(Reason(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the operator found after a `no-transaction` migration stopped half-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// Its effects are all in place (finished by hand): record it as applied.
    Applied,
    /// Its effects are all undone: it is pending again and will run at the next `migrate`.
    RolledBack,
}

/// What a repair changed, for the caller's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// `file` (with `checksum`) was recorded as applied without running it; the marker of
    /// a `no-transaction` run that stopped half-way, if any, was cleared with it.
    MarkedApplied {
        file: String,
        checksum: String,
        cleared_marker: bool,
    },
    /// The history row of `version` was removed (and its marker, if any).
    Forgotten {
        version: String,
        cleared_marker: bool,
    },
    /// The marker of `version` was cleared: recorded as applied (`file`), or left pending.
    Resolved {
        version: String,
        resolution: Resolution,
        file: Option<String>,
    },
    /// The history row of `from` now says `to`; `file` has the recorded content.
    Rekeyed {
        from: String,
        to: String,
        file: String,
    },
}

/// What a repair did: its audit row, as `--format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Repaired {
    #[serde(skip)]
    pub change: Change,
    // Alphabetical: the order the JSON has always had.
    /// An audit row was written (always: a repair without one does not happen).
    pub audit: bool,
    pub command: String,
    pub database: String,
    pub details: Option<Value>,
    pub reason: Option<String>,
    pub versions: Vec<String>,
}

impl Repaired {
    fn new(change: Change, db: &Database<'_>, entry: audit::Entry) -> Repaired {
        Repaired {
            change,
            audit: true,
            command: entry.command,
            database: db.display.to_string(),
            details: entry.details,
            reason: entry.reason,
            versions: entry.versions,
        }
    }
}

/// The frame of every repair: under the lock, in one write transaction with the history
/// read inside it (nobody can change it meanwhile), `change` makes its change and says
/// what it did; its audit row commits with it.
fn in_one_transaction(
    db: Database<'_>,
    timeouts: &Timeouts,
    change: impl FnOnce(&Transaction<'_>, &[HistoryRow]) -> anyhow::Result<(Change, audit::Entry)>,
) -> anyhow::Result<Repaired> {
    let mut session = Session::open_existing(db.path, db.display, timeouts)?;
    let changed = (|| {
        let (tx, rows) = session.write_transaction()?;
        let (done, entry) = change(&tx, &rows)?;
        audit::record(&tx, &entry)?;
        tx.commit().map_err(|e| crate::db::explain(db.path, e))?;
        Ok((done, entry))
    })();
    match changed {
        Ok((done, entry)) => Ok(Repaired::new(done, &db, entry)),
        // Refused or failed: the transaction rolled back, nothing changed.
        Err(e) => {
            session.discard();
            Err(e)
        }
    }
}

/// Runs `sql` on `schemagate_history` too when the database has it (a legacy one does not).
fn also_on_side_table(
    tx: &Transaction<'_>,
    db: &Database<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> anyhow::Result<()> {
    if crate::db::table_exists(tx, crate::history::SIDE_TABLE)? {
        tx.execute(sql, params)
            .map_err(|e| crate::db::explain(db.path, e))?;
    }
    Ok(())
}

/// `mark-applied VERSION`: records the one file of `version` (in the folder shown as `dir`)
/// as applied, with its real checksum, without running it. A row of that version that was
/// never verified (`manual`, empty or NULL checksum: what `unverified-record` reports) gets
/// the file's checksum instead of a second row; its old checksum goes into the audit
/// details.
pub fn mark_applied(
    db: Database<'_>,
    timeouts: &Timeouts,
    discovery: &Discovery,
    dir: &str,
    version: &str,
    reason: &Reason,
) -> anyhow::Result<Repaired> {
    in_one_transaction(db, timeouts, |tx, rows| {
        let (m, unverified) = check_mark_applied(discovery, rows, version, dir)?;
        let mut statements = crate::history::record_statements(m, None);
        if let Some(row) = unverified {
            for s in &mut statements {
                if s.sql.starts_with("INSERT INTO schema_versions") {
                    s.sql = "UPDATE schema_versions SET checksum = :checksum WHERE id = :id".into();
                    s.params.insert("id".into(), row.id.into());
                }
            }
        }
        crate::history::execute_record(tx, &statements, &m.description)
            .map_err(|e| crate::db::explain(db.path, e))
            .context("cannot record the migration")?;
        // Marking applied is the operator's word that the migration is in place: a marker
        // left by a half-way `no-transaction` run would otherwise keep blocking `migrate`.
        let marker = clear_marker_of(tx, &db, &m.version)?;
        let mut details = json!({
            "file": m.path,
            "checksum": m.checksum,
            "cleared_marker": marker.as_ref().map(marker_json),
        });
        if let Some(row) = unverified {
            details["replaced_checksum"] = json!(row.checksum);
            details["id"] = json!(row.id);
        }
        let entry = audit::Entry::new("mark-applied")
            .versions([m.version.as_str()])
            .reason(Some(reason.as_str()))
            .details(details);
        let change = Change::MarkedApplied {
            file: m.path.clone(),
            checksum: m.checksum.clone(),
            cleared_marker: marker.is_some(),
        };
        Ok((change, entry))
    })
}

/// `forget VERSION`: removes the history row of `version` (and its side-table row); the
/// removed row goes into the audit details, so the step can be undone.
pub fn forget(
    db: Database<'_>,
    timeouts: &Timeouts,
    version: &str,
    reason: &Reason,
) -> anyhow::Result<Repaired> {
    in_one_transaction(db, timeouts, |tx, rows| {
        let markers = crate::history::dirty(tx).map_err(|e| crate::db::explain(db.path, e))?;
        let row = check_forget(rows, &markers, version)?;
        tx.execute("DELETE FROM schema_versions WHERE id = ?1", [row.id])
            .map_err(|e| crate::db::explain(db.path, e))?;
        let marker = match row.parsed_version() {
            Some(v) => clear_marker_of(tx, &db, &v)?,
            None => None,
        };
        also_on_side_table(
            tx,
            &db,
            "DELETE FROM schemagate_history WHERE version = ?1",
            [&row.version],
        )?;
        let entry = audit::Entry::new("forget")
            .versions([row.version.as_str()])
            .reason(Some(reason.as_str()))
            .details(json!({
                "id": row.id,
                "applied_at": row.applied_at,
                "description": row.description,
                "checksum": row.checksum,
                "cleared_marker": marker.as_ref().map(marker_json),
            }));
        let change = Change::Forgotten {
            version: row.version.clone(),
            cleared_marker: marker.is_some(),
        };
        Ok((change, entry))
    })
}

/// `resolve VERSION --applied|--rolled-back`: clears the marker a `no-transaction`
/// migration left when it stopped half-way (the statements before the failing one stayed
/// applied), once the operator has checked the database and finished (`Applied`: the row
/// is recorded with the file's real checksum) or undone (`RolledBack`: it is pending again)
/// what it did. The marker goes into the audit details.
pub fn resolve(
    db: Database<'_>,
    timeouts: &Timeouts,
    discovery: &Discovery,
    dir: &str,
    version: &str,
    resolution: Resolution,
    reason: &Reason,
) -> anyhow::Result<Repaired> {
    in_one_transaction(db, timeouts, |tx, rows| {
        let markers = crate::history::dirty(tx).map_err(|e| crate::db::explain(db.path, e))?;
        let (marker, file) = check_resolve(discovery, rows, &markers, version, resolution, dir)?;
        if let Some(m) = file {
            crate::history::execute_record(
                tx,
                &crate::history::record_statements(m, None),
                &m.description,
            )
            .map_err(|e| crate::db::explain(db.path, e))
            .context("cannot record the migration")?;
        }
        crate::history::clear_marker(tx, &marker.version)
            .map_err(|e| crate::db::explain(db.path, e))?;
        let entry = audit::Entry::new("resolve")
            .versions([marker.version.as_str()])
            .reason(Some(reason.as_str()))
            .details(json!({
                "resolution": resolution,
                "marker": marker_json(marker),
                "file": file.map(|m| &m.path),
                "checksum": file.map(|m| &m.checksum),
            }));
        let change = Change::Resolved {
            version: marker.version.clone(),
            resolution,
            file: file.map(|m| m.path.clone()),
        };
        Ok((change, entry))
    })
}

/// Clears the marker of `version`, if there is one, and returns it.
fn clear_marker_of(
    tx: &Transaction<'_>,
    db: &Database<'_>,
    version: &Version,
) -> anyhow::Result<Option<DirtyMarker>> {
    let markers = crate::history::dirty(tx).map_err(|e| crate::db::explain(db.path, e))?;
    let Some(marker) = marker_of(&markers, version).cloned() else {
        return Ok(None);
    };
    crate::history::clear_marker(tx, &marker.version)
        .map_err(|e| crate::db::explain(db.path, e))?;
    Ok(Some(marker))
}

fn marker_of<'a>(markers: &'a [DirtyMarker], version: &Version) -> Option<&'a DirtyMarker> {
    markers
        .iter()
        .find(|d| Version::parse(d.version.trim()).as_ref() == Some(version))
}

fn marker_json(d: &DirtyMarker) -> Value {
    json!({
        "version": d.version,
        "file_name": d.file_name,
        "state": d.state,
        "started_at": d.started_at,
        "message": d.message,
    })
}

/// `resolve`: the marker to clear and, for `--applied`, the file to record.
pub(crate) fn check_resolve<'a, 'd>(
    discovery: &'a Discovery,
    rows: &[HistoryRow],
    markers: &'d [DirtyMarker],
    version: &str,
    resolution: Resolution,
    dir: &str,
) -> anyhow::Result<(&'d DirtyMarker, Option<&'a Migration>)> {
    let v = parse_version(version)?;
    let Some(marker) = marker_of(markers, &v) else {
        bail!(
            "version {version} has no unfinished-migration marker; nothing to resolve (`schemagate status` shows the markers; `mark-applied` and `forget` change history rows)"
        );
    };
    let row = row_of(rows, &v);
    match (resolution, row) {
        (Resolution::Applied, Some(_)) => Ok((marker, None)),
        (Resolution::Applied, None) => Ok((marker, Some(file_of(discovery, &v, dir)?))),
        (Resolution::RolledBack, None) => Ok((marker, None)),
        (Resolution::RolledBack, Some(r)) => bail!(
            "version {version} is recorded as applied (row {}): it cannot be rolled back by clearing its marker; `schemagate forget {version}` removes the row and the marker",
            r.id
        ),
    }
}

/// `rekey OLD NEW`: moves the history row of `old` to `new` after a renumbering; the file
/// now at `new` must hold exactly the recorded content.
pub fn rekey(
    db: Database<'_>,
    timeouts: &Timeouts,
    discovery: &Discovery,
    dir: &str,
    old: &str,
    new: &str,
    reason: Option<&str>,
) -> anyhow::Result<Repaired> {
    in_one_transaction(db, timeouts, |tx, rows| {
        let (row, m) = check_rekey(discovery, rows, old, new, dir)?;
        tx.execute(
            "UPDATE schema_versions SET version = ?1 WHERE id = ?2",
            rusqlite::params![m.version.as_str(), row.id],
        )
        .map_err(|e| crate::db::explain(db.path, e))?;
        also_on_side_table(
            tx,
            &db,
            "UPDATE schemagate_history SET version = ?1, file_name = ?2 WHERE version = ?3",
            rusqlite::params![m.version.as_str(), m.file_name, row.version],
        )?;
        let entry = audit::Entry::new("rekey")
            .versions([row.version.as_str(), m.version.as_str()])
            .reason(reason)
            .details(json!({
                "from": row.version,
                "to": m.version.as_str(),
                "file": m.path,
                "checksum": row.checksum,
            }));
        let change = Change::Rekeyed {
            from: row.version.clone(),
            to: m.version.to_string(),
            file: m.path.clone(),
        };
        Ok((change, entry))
    })
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

/// `mark-applied VERSION`: the file to record, and the unverified row of that version it
/// replaces, if any. Refuses a version without a file, with several files, or already
/// recorded with a real checksum.
pub(crate) fn check_mark_applied<'a, 'r>(
    discovery: &'a Discovery,
    rows: &'r [HistoryRow],
    version: &str,
    dir: &str,
) -> anyhow::Result<(&'a Migration, Option<&'r HistoryRow>)> {
    let version = parse_version(version)?;
    let m = file_of(discovery, &version, dir)?;
    match row_of(rows, &version) {
        Some(row) if matches!(row.stored(), Stored::Unverified(_)) => Ok((m, Some(row))),
        Some(row) => bail!(
            "version {} is already recorded as applied (row {}, applied at {}); nothing to mark",
            row.version,
            row.id,
            row.applied_at.as_deref().unwrap_or("unknown time")
        ),
        None => Ok((m, None)),
    }
}

/// `forget VERSION`: the row to remove. A version with only a marker (a `no-transaction`
/// run that stopped half-way, never recorded) is `resolve`'s.
pub(crate) fn check_forget<'a>(
    rows: &'a [HistoryRow],
    markers: &[DirtyMarker],
    version: &str,
) -> anyhow::Result<&'a HistoryRow> {
    let v = parse_version(version)?;
    if let Some(row) = row_of(rows, &v) {
        return Ok(row);
    }
    if marker_of(markers, &v).is_some() {
        bail!(
            "version {version} is not recorded in schema_versions, but a `no-transaction` run of it stopped half-way; once you have undone what it did, clear its marker with `schemagate resolve {version} --rolled-back --reason TEXT` (or `--applied` if you finished it)"
        );
    }
    bail!(
        "version {version} is not recorded in schema_versions; nothing to forget (`schemagate status` lists the applied versions)"
    )
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
            "version {new} is already recorded (row {}); if that row is wrong, remove it first: `schemagate forget {new} --reason ...`",
            taken.id
        );
    }
    let target = file_of(discovery, &new_v, dir)?;
    let stored = row.stored();
    if matches!(stored, Stored::Unverified(_)) {
        bail!(
            "the row of version {old} has no real checksum ({:?}), so it cannot be proved that {} is the migration it records; after checking the database, record it by hand instead: `schemagate forget {old} --reason ...` then `schemagate mark-applied {new} --reason ...`",
            row.checksum.as_deref().unwrap_or("NULL"),
            target.path
        );
    }
    if target.verify(&stored) != Verdict::Match {
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
        .find(|m| m.verify(&stored) == Verdict::Match)
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
            ..Default::default()
        }
    }

    fn err<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn mark_applied_needs_one_file_and_no_verified_row() {
        let d = folder(&[
            ("001_a.sql", "A"),
            ("002_b.sql", "B"),
            ("003_c.sql", "C"),
            ("003_d.sql", "D"),
            ("004_e.sql", "E"),
        ]);
        let md5 = "0123456789abcdef0123456789abcdef";
        let rows = vec![row(1, "1", Some("manual")), row(2, "004", Some(md5))];
        let (m, replaced) = check_mark_applied(&d, &rows, "002", "m").unwrap();
        assert_eq!((m.file_name.as_str(), replaced), ("002_b.sql", None));
        // The `manual` row is the one `unverified-record` says to fix this way.
        let (m, replaced) = check_mark_applied(&d, &rows, "001", "m").unwrap();
        assert_eq!(
            (m.file_name.as_str(), replaced.map(|r| r.id)),
            ("001_a.sql", Some(1))
        );
        assert!(err(check_mark_applied(&d, &rows, "004", "m")).contains("already recorded"));
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
        assert_eq!(check_forget(&rows, &[], "4").unwrap().id, 1);
        assert!(err(check_forget(&rows, &[], "5")).contains("not recorded"));
        let markers = [marker("005")];
        assert!(err(check_forget(&rows, &markers, "5")).contains("resolve 5 --rolled-back"));
    }

    fn marker(version: &str) -> DirtyMarker {
        DirtyMarker {
            version: version.into(),
            file_name: Some(format!("{version}_x.sql")),
            state: "failed".into(),
            started_at: None,
            message: Some("no such table: nope".into()),
            origin: crate::plan::RowOrigin::SchemaVersions,
        }
    }

    #[test]
    fn resolve_needs_a_marker_and_agrees_with_the_history() {
        let d = folder(&[("001_a.sql", "A"), ("002_b.sql", "B")]);
        let markers = [marker("002")];
        let rows = vec![row(1, "001", Some("manual"))];
        let (m, file) = check_resolve(&d, &rows, &markers, "2", Resolution::Applied, "m").unwrap();
        assert_eq!(
            (m.version.as_str(), file.unwrap().file_name.as_str()),
            ("002", "002_b.sql")
        );
        let (_, file) =
            check_resolve(&d, &rows, &markers, "002", Resolution::RolledBack, "m").unwrap();
        assert!(file.is_none());
        assert!(
            err(check_resolve(
                &d,
                &rows,
                &markers,
                "001",
                Resolution::Applied,
                "m"
            ))
            .contains("no unfinished-migration marker")
        );
        let rows = vec![row(1, "001", None), row(2, "002", Some("manual"))];
        assert!(
            err(check_resolve(
                &d,
                &rows,
                &markers,
                "002",
                Resolution::RolledBack,
                "m"
            ))
            .contains("forget")
        );
        let (_, file) =
            check_resolve(&d, &rows, &markers, "002", Resolution::Applied, "m").unwrap();
        assert!(file.is_none(), "already recorded: only the marker goes");
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
