//! Backups of the live database (shell).
//!
//! Never a file copy: in WAL mode the main file alone can lack every recent commit, and a
//! copy taken while the application writes can be torn. SQLite's online backup API gives a
//! consistent snapshot. The copy is written under a temporary name in the backup folder,
//! fsynced, checked with `quick_check`, given permission bits no wider than the database's,
//! and only then linked to its final name (`<stem>_YYYYMMDD_HHMMSS.db`, as the legacy
//! manager named them), so a killed or failed backup never leaves a file that looks like a
//! good backup (a half-written SQLite file opens as a *valid, empty* database).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// A backup file of a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupFile {
    pub path: PathBuf,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

/// The database file's stem (`architect` for `data/architect.db`).
fn stem(db: &Path) -> String {
    db.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "database".into())
}

/// Local time as `YYYYMMDD_HHMMSS`, as the legacy manager's `datetime.now()` wrote it.
pub fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as libc::time_t;
    // SAFETY: localtime_r writes into the zeroed struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return "00000000_000000".into();
    }
    format!(
        "{:04}{:02}{:02}_{:02}{:02}{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// `<dir>/<stem>_<timestamp>.db`, with `_2`, `_3`, ... when that name is taken (two runs in
/// the same second never overwrite each other).
pub fn backup_path(dir: &Path, db: &Path, now: SystemTime) -> PathBuf {
    let base = format!("{}_{}", stem(db), timestamp(now));
    let first = dir.join(format!("{base}.db"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{base}_{n}.db")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// When a backup was taken, as its name says: the timestamp, then the sequence number of
/// backups taken in the same second (the first has none and counts as 1; `_2`, `_3`, ...
/// follow). Parsed after the database's stem, so an `_` in the stem (`app_data`) is never
/// read as part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Taken {
    /// `YYYYMMDDHHMMSS` as a number: orders like the time it writes.
    pub timestamp: u64,
    pub sequence: u64,
}

/// What a backup's file name says, when it is a backup of the database with this stem.
fn parse_backup_name(name: &str, stem: &str) -> Option<Taken> {
    let rest = name
        .strip_prefix(stem)?
        .strip_prefix('_')?
        .strip_suffix(".db")?;
    let b = rest.as_bytes();
    let digits = |r: &[u8]| !r.is_empty() && r.iter().all(u8::is_ascii_digit);
    if b.len() < 15 || !digits(&b[..8]) || b[8] != b'_' || !digits(&b[9..15]) {
        return None;
    }
    let sequence = match &b[15..] {
        [] => 1,
        [b'_', n @ ..] if digits(n) => rest[16..].parse().ok()?,
        _ => return None,
    };
    let timestamp = format!("{}{}", &rest[..8], &rest[9..15]).parse().ok()?;
    Some(Taken {
        timestamp,
        sequence,
    })
}

/// Whether a file name is a backup of the database with this stem.
#[cfg(test)]
fn is_backup_name(name: &str, stem: &str) -> bool {
    parse_backup_name(name, stem).is_some()
}

/// The backups of `db` in `dir`, oldest first: by the time in the name, then the sequence
/// number (`_10` after `_9`, and after the first of that second).
pub fn list_backups(db: &Path, dir: &Path) -> anyhow::Result<Vec<BackupFile>> {
    let stem = stem(db);
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(taken) = parse_backup_name(&name, &stem) else {
            continue;
        };
        let meta = entry.metadata().ok();
        out.push((
            taken,
            name,
            BackupFile {
                path: entry.path(),
                size: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()),
            },
        ));
    }
    // The name breaks ties only for equal (timestamp, sequence): `x_..._2.db` and
    // `x_..._02.db` both say sequence 2.
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(out.into_iter().map(|(_, _, b)| b).collect())
}

/// The newest version in a backup's `schema_versions` (what `restore` would bring back);
/// `None` when it has no history.
pub fn newest_version(path: &Path) -> anyhow::Result<Option<String>> {
    // Backups are made by `migrate` and `restore`, which deploy legacy folders only.
    let rows = crate::history::read_database(path, crate::layout::Layout::Legacy)?.rows;
    Ok(rows
        .iter()
        .filter_map(|r| r.parsed_version().map(|v| (v, r.version.clone())))
        .max()
        .map(|(_, s)| s))
}

/// Deletes the oldest backups of `db` so that `keep` remain, never `just_written` (the
/// backup this run made: a clock set back, or a backup named in the future, must not make
/// it "the oldest"). Returns what was deleted.
pub fn prune(
    db: &Path,
    dir: &Path,
    keep: usize,
    just_written: Option<&Path>,
) -> anyhow::Result<Vec<PathBuf>> {
    let all = list_backups(db, dir)?;
    let excess = all.len().saturating_sub(keep.max(1));
    let protected = |b: &BackupFile| just_written.is_some_and(|p| same_path(p, &b.path));
    let mut removed = Vec::new();
    for b in all.into_iter().filter(|b| !protected(b)).take(excess) {
        fs::remove_file(&b.path)
            .with_context(|| format!("cannot delete the old backup {}", b.path.display()))?;
        removed.push(b.path);
    }
    if !removed.is_empty() {
        crate::fsio::sync_dir(dir);
    }
    Ok(removed)
}

/// The same file, by name (both are in the backup folder we just listed).
fn same_path(a: &Path, b: &Path) -> bool {
    a == b
        || (a.file_name() == b.file_name()
            && a.parent().map(fs::canonicalize).and_then(Result::ok)
                == b.parent().map(fs::canonicalize).and_then(Result::ok))
}

/// The temporary name of a backup in progress: hidden, and carrying our pid so that a later
/// run can tell a dead run's leftover from a backup running right now.
fn temp_path(dir: &Path, db: &Path) -> PathBuf {
    dir.join(format!(".{}.backup.tmp-{}", stem(db), std::process::id()))
}

/// Writes a verified backup of the live database at `db` into `dir` and returns its path.
///
/// The source is read through a connection of its own with no open transaction (backing up
/// from a connection that holds a write transaction can spin forever). Each step copies all
/// remaining pages at once: with a busy writer, small steps restart again and again.
/// BUSY/LOCKED are retried until `deadline`; anything else is fatal. On any failure the
/// temporary file is deleted and nothing appears at the final name.
pub fn create(db: &Path, dir: &Path, deadline: Duration) -> anyhow::Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create the backup folder {} (nothing was applied; fix the folder or pass --no-backup)",
            dir.display()
        )
    })?;
    crate::fsio::clean_stale_temps(dir, &format!(".{}.backup.tmp-", stem(db)));
    let tmp = temp_path(dir, db);
    crate::fsio::remove_with_journals(&tmp);
    let result = write_and_verify(db, &tmp, deadline).and_then(|()| {
        crate::db::failpoint("backup_written");
        let final_path = publish(&tmp, dir, db)?;
        crate::fsio::sync_dir(dir);
        Ok(final_path)
    });
    crate::fsio::remove_with_journals(&tmp);
    result.map_err(|e| {
        e.context(format!(
            "backup of {} into {} failed; nothing was applied",
            db.display(),
            dir.display()
        ))
    })
}

/// Gives the finished temporary file its final name without ever replacing a file: a hard
/// link fails when the name exists (another run in the same second), and we pick the next.
fn publish(tmp: &Path, dir: &Path, db: &Path) -> anyhow::Result<PathBuf> {
    for _ in 0..100 {
        let final_path = backup_path(dir, db, SystemTime::now());
        match fs::hard_link(tmp, &final_path) {
            Ok(()) => return Ok(final_path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            // A file system without hard links: rename, after checking the name is free.
            Err(_) if !final_path.exists() => {
                fs::rename(tmp, &final_path)
                    .with_context(|| format!("cannot create {}", final_path.display()))?;
                return Ok(final_path);
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", final_path.display()));
            }
        }
    }
    bail!("cannot find a free backup name in {}", dir.display())
}

/// Copies `src` into `dst` with the online backup API in one step (`-1`: a consistent
/// snapshot even while others write), retrying while either side is busy until `deadline`.
/// rusqlite's `run_to_completion` retries forever, which can hang when the source holds a
/// write; this loop gives up. The destination is written in one transaction: interrupted,
/// it rolls back to what it was.
pub fn copy(src: &Connection, dst: &mut Connection, deadline: Duration) -> anyhow::Result<()> {
    let backup = Backup::new(src, dst).context("cannot start the copy")?;
    let start = Instant::now();
    loop {
        match backup.step(-1).context("the copy failed")? {
            StepResult::Done => return Ok(()),
            _ => {
                if start.elapsed() > deadline {
                    bail!(
                        "the database stayed busy for {deadline:?} (another connection holds a lock); try again when the application is idle, or raise [apply] busy_timeout"
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn write_and_verify(db: &Path, tmp: &Path, deadline: Duration) -> anyhow::Result<()> {
    fs::metadata(db).with_context(|| format!("cannot read {}", db.display()))?;
    {
        // Created by us with the narrowest mode first; widened to the database's at the end.
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        opts.open(tmp)
            .with_context(|| format!("cannot write in {}", display_dir(tmp)))?;
    }
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| crate::db::explain(db, e))?;
    src.busy_timeout(Duration::from_millis(200))?;
    let mut dst = Connection::open_with_flags(
        tmp,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", tmp.display()))?;
    copy(&src, &mut dst, deadline).context("the backup failed")?;
    let src_pages: i64 = src.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    drop(src);
    dst.close()
        .map_err(|(_, e)| e)
        .context("cannot close the backup")?;
    fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot flush {} to disk", tmp.display()))?;

    let check = Connection::open_with_flags(
        tmp,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    crate::db::quick_check(&check).context("the new backup")?;
    let pages: i64 = check.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    drop(check);
    if pages == 0 && src_pages > 0 {
        bail!("the new backup is empty although the database is not");
    }
    match_owner_and_mode(db, tmp)?;
    Ok(())
}

/// Gives the backup the database's group (and, when we are root, its owner) and permission
/// bits no wider than the database's. A `0640 app:adm` database backed up by root must not
/// become `0640 root:root`: the `adm` readers would lose it and `root`'s group would gain
/// it. When the group cannot be set (we are not in it), the group bits are dropped instead:
/// a backup is never readable by anyone the database is not readable by.
#[cfg(unix)]
pub fn match_owner_and_mode(db: &Path, file: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let src = fs::metadata(db).with_context(|| format!("cannot read {}", db.display()))?;
    let dst = fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut mode = src.mode() & 0o777;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let owner = (root && dst.uid() != src.uid()).then_some(src.uid());
    let changes = dst.gid() != src.gid() || owner.is_some();
    if changes && std::os::unix::fs::chown(file, owner, Some(src.gid())).is_err() {
        let kept = fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
        if kept.gid() != src.gid() {
            mode &= !0o070;
        }
    }
    fs::set_permissions(file, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", file.display()))?;
    Ok(())
}

#[cfg(not(unix))]
pub fn match_owner_and_mode(_db: &Path, _file: &Path) -> anyhow::Result<()> {
    Ok(())
}

fn display_dir(p: &Path) -> String {
    p.parent()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| ".".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_legacy_pattern_and_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        let db = Path::new("data/architect.db");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let p = backup_path(dir.path(), db, t);
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        assert!(is_backup_name(&name, "architect"), "{name}");
        fs::write(&p, b"x").unwrap();
        let q = backup_path(dir.path(), db, t);
        assert!(q.to_str().unwrap().ends_with("_2.db"), "{q:?}");
        assert!(is_backup_name(
            q.file_name().unwrap().to_str().unwrap(),
            "architect"
        ));
        assert!(!is_backup_name("architect_2023.db", "architect"));
        assert!(!is_backup_name("other_20231114_221320.db", "architect"));
    }

    #[test]
    fn backup_copies_and_prune_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42);")
            .unwrap();
        let bdir = dir.path().join("backups");
        for name in ["app_20200101_000000.db", "app_20200102_000000.db"] {
            fs::create_dir_all(&bdir).unwrap();
            fs::write(bdir.join(name), b"old").unwrap();
        }
        let b = create(&db, &bdir, Duration::from_secs(5)).unwrap();
        let c = Connection::open(&b).unwrap();
        let x: i64 = c.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, 42);
        assert_eq!(list_backups(&db, &bdir).unwrap().len(), 3);
        let removed = prune(&db, &bdir, 1, Some(&b)).unwrap();
        assert_eq!(removed.len(), 2);
        let left = list_backups(&db, &bdir).unwrap();
        assert_eq!(left[0].path, b);
        // no temporary file left behind
        let names: Vec<_> = fs::read_dir(&bdir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn unwritable_backup_folder_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        // A file where the folder should be: no user, root included, can create it.
        fs::write(dir.path().join("blocker"), b"").unwrap();
        let err = create(
            &db,
            &dir.path().join("blocker/backups"),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot create the backup folder"),
            "{err:#}"
        );
    }

    /// Issue 12.1: with `app_data.db`, `app_data_20240101_120000_2.db` was read as the
    /// stem `app_data_20240101`... and sorted before the first backup of that second, so
    /// prune deleted the backup just written and restore picked an older one.
    #[test]
    fn an_underscore_in_the_stem_is_not_part_of_the_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app_data.db");
        let names = [
            "app_data_20240101_120000_2.db",
            "app_data_20231231_235959.db",
            "app_data_20240101_120000_10.db",
            "app_data_20240101_120000.db",
            "app_data_20240101_115959_3.db",
            "app_20240101_130000.db",
            "app_data_x_20240101_120000.db",
        ];
        for n in names {
            fs::write(dir.path().join(n), b"x").unwrap();
        }
        let listed: Vec<String> = list_backups(&db, dir.path())
            .unwrap()
            .iter()
            .map(|b| b.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            listed,
            [
                "app_data_20231231_235959.db",
                "app_data_20240101_115959_3.db",
                "app_data_20240101_120000.db",
                "app_data_20240101_120000_2.db",
                "app_data_20240101_120000_10.db",
            ]
        );
        assert_eq!(
            parse_backup_name("app_data_20240101_120000_2.db", "app_data"),
            Some(Taken {
                timestamp: 20240101120000,
                sequence: 2
            })
        );
        assert_eq!(
            parse_backup_name("app_data_20240101_120000_.db", "app_data"),
            None
        );
        assert_eq!(
            parse_backup_name("app_data_20240101_12000.db", "app_data"),
            None
        );
    }

    #[test]
    fn prune_never_deletes_the_backup_just_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        let bdir = dir.path().join("backups");
        fs::create_dir_all(&bdir).unwrap();
        // A backup named in the future (a clock that was ahead): the newest by name.
        fs::write(bdir.join("app_29991231_235959.db"), b"future").unwrap();
        let b = create(&db, &bdir, Duration::from_secs(5)).unwrap();
        let removed = prune(&db, &bdir, 1, Some(&b)).unwrap();
        assert!(b.exists(), "the new backup was pruned: {removed:?}");
        assert_eq!(removed, [bdir.join("app_29991231_235959.db")]);
        // keep = 0 is treated as 1, and still never the one just written.
        let removed = prune(&db, &bdir, 0, Some(&b)).unwrap();
        assert!(b.exists());
        assert!(removed.is_empty());
    }

    /// Issue 12.15: a backup of a `0640 root:adm` database was `0640 root:root`.
    #[cfg(unix)]
    #[test]
    fn the_backup_keeps_the_group_and_is_never_wider() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        fs::set_permissions(&db, fs::Permissions::from_mode(0o640)).unwrap();
        // A group we may give the file: any group when root, else a supplementary one.
        let root = unsafe { libc::geteuid() } == 0;
        let group = if root {
            Some(4242)
        } else {
            let mut groups = vec![0 as libc::gid_t; 64];
            let n = unsafe { libc::getgroups(64, groups.as_mut_ptr()) };
            let egid = unsafe { libc::getegid() };
            groups
                .into_iter()
                .take(n.max(0) as usize)
                .find(|g| *g != egid)
        };
        let Some(group) = group else {
            eprintln!("skipped: not root and no supplementary group to give the database");
            return;
        };
        std::os::unix::fs::chown(&db, None, Some(group)).unwrap();
        let b = create(&db, &dir.path().join("backups"), Duration::from_secs(5)).unwrap();
        let meta = fs::metadata(&b).unwrap();
        assert_eq!(meta.gid(), group);
        assert_eq!(meta.mode() & 0o777, 0o640);
    }
}
