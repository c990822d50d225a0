//! Opening the user's database (shell): the checks that keep a typo, a truncated file or a
//! read-only mount from turning into "migrate an empty database from scratch".
//!
//! - Read-only commands open with `SQLITE_OPEN_READ_ONLY` ([`open_read_only`]) and never
//!   create anything; a missing file is [`FileState::Missing`], and what that means (a new
//!   database or an error) is the command's policy.
//! - `migrate` creates a missing file on purpose (a new environment), and refuses a
//!   zero-length or non-SQLite file, a read-only database, and one that fails `quick_check`.
//! - The write connection runs with `synchronous=FULL` and a busy timeout, so "applied"
//!   means durable and live application connections are waited for, not overrun.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, OpenFlags};

/// The 16-byte header every SQLite database file starts with.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// What is at a database path before anything opens it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileState {
    Missing,
    /// Zero bytes: SQLite would take it for a new database, but it more likely is a
    /// production file truncated by accident.
    Empty,
    Sqlite,
    NotSqlite,
}

/// Looks at the path without SQLite. Must not be called while this process holds an open
/// connection to the same file (closing a descriptor drops the process's POSIX locks).
pub fn probe(path: &Path) -> anyhow::Result<FileState> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::Missing),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if meta.is_dir() {
        bail!(
            "{} is a folder, not a database file (pass the database file with --db)",
            path.display()
        );
    }
    // A FIFO or a device reports length 0: it is not "a truncated empty file", and
    // opening a FIFO to read its header would hang.
    if !meta.is_file() {
        bail!(
            "{} is {}, not a database file (pass the database file with --db)",
            path.display(),
            crate::lock::file_kind(&meta.file_type())
        );
    }
    if meta.len() == 0 {
        return Ok(FileState::Empty);
    }
    let mut header = [0u8; 16];
    let mut f = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let n = read_up_to(&mut f, &mut header)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(if n == HEADER.len() && &header == HEADER {
        FileState::Sqlite
    } else {
        FileState::NotSqlite
    })
}

fn read_up_to(f: &mut fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The error for a file that is there but is not something we may open.
pub fn refuse(path: &Path, state: FileState) -> anyhow::Error {
    match state {
        FileState::Empty => anyhow::anyhow!(
            "{} is an empty file (0 bytes), not a database; if it was truncated by accident, restore it from a backup; if this is a new environment, delete the empty file and run `schemagate migrate` again",
            path.display()
        ),
        FileState::NotSqlite => anyhow::anyhow!(
            "{} is not a SQLite database (the file does not start with the SQLite header); check the --db path",
            path.display()
        ),
        FileState::Missing => anyhow::anyhow!("database {} does not exist", path.display()),
        FileState::Sqlite => anyhow::anyhow!("{} cannot be opened", path.display()),
    }
}

/// Opens an existing database without write access. `None` when the file does not exist
/// (what that means is the caller's choice). Creates and changes no file, for a WAL
/// database too, where a plain read-only connection would create `-wal`/`-shm` and leave
/// them behind, or write its read mark into the `-shm` of a database in use:
/// - a WAL database without `-wal`/`-shm` (nobody has it open) is opened `immutable=1`;
/// - a WAL database with both (in use, or left so by a crash) is opened with
///   `readonly_shm=1`: SQLite maps the `-shm` read-only and still reads the WAL, so the
///   commits in it are seen;
/// - the one exception: a `-wal` without its `-shm` (deleted by hand) cannot be read
///   without creating the `-shm`; SQLite creates it then, as any reader would, rather than
///   a stale view that hides the commits in the WAL.
pub fn open_read_only(path: &Path) -> anyhow::Result<Option<Connection>> {
    match probe(path)? {
        FileState::Missing => return Ok(None),
        FileState::Sqlite => {}
        other => return Err(refuse(path, other)),
    }
    let side = |ext: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        std::path::PathBuf::from(p).exists()
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let uri =
        |query: &str| -> anyhow::Result<String> { Ok(format!("file:{}?{query}", uri_path(path)?)) };
    let conn = match (is_wal(path), side("-wal"), side("-shm")) {
        (true, false, false) => Connection::open_with_flags(uri("immutable=1")?, flags),
        (true, _, true) => Connection::open_with_flags(uri("readonly_shm=1")?, flags),
        _ => Connection::open_with_flags(path, flags),
    }
    .map_err(|e| explain(path, e))?;
    conn.busy_timeout(crate::config::defaults::BUSY_TIMEOUT)
        .map_err(|e| explain(path, e))?;
    // Opening is lazy: the first read is what finds a corrupt header or a hot journal.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
        .map_err(|e| explain(path, e))?;
    Ok(Some(conn))
}

/// The file header says WAL (bytes 18 and 19 are 2).
fn is_wal(path: &Path) -> bool {
    let mut header = [0u8; 20];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| header[18] == 2 && header[19] == 2)
}

/// An absolute path for a `file:` URI, with the characters URIs reserve escaped.
fn uri_path(path: &Path) -> anyhow::Result<String> {
    let abs =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let raw = abs
        .to_str()
        .with_context(|| format!("{} is not valid UTF-8", abs.display()))?;
    let mut out = String::new();
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

/// How `open_for_write` found the file.
#[derive(Debug)]
pub struct WriteConnection {
    pub conn: Connection,
    /// The file did not exist and was created now.
    pub created: bool,
}

/// Opens for migrating: refuses empty, foreign and read-only files; creates the file (and
/// its folder) only when `create` is set and nothing is there. Callers that are about to
/// back up or write run [`quick_check`] first (it reads the whole file, so a run with
/// nothing to do skips it).
pub fn open_for_write(
    path: &Path,
    create: bool,
    busy_timeout: Duration,
) -> anyhow::Result<WriteConnection> {
    let state = probe(path)?;
    // A run killed while creating the database leaves its temporary beside it.
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        crate::fsio::clean_stale_temps(dir, &new_db_prefix(path));
    }
    let created = match state {
        FileState::Sqlite => false,
        FileState::Missing if create => true,
        other => return Err(refuse(path, other)),
    };
    if created
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let created = created && create_new(path)?;
    if !created && state == FileState::Missing {
        // Another process created it between our probe and our link: judge what it made.
        match probe(path)? {
            FileState::Sqlite => {}
            other => return Err(refuse(path, other)),
        }
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| explain(path, e))?;
    setup_write_connection(&conn, busy_timeout).map_err(|e| explain(path, e))?;
    // SQLite silently falls back to read-only for a write-protected file; we would only
    // find out at the first write, after the backup.
    if conn.is_readonly("main").unwrap_or(false) {
        bail!(
            "database {} is read-only for this user (check the file's owner and mode); nothing was changed",
            path.display()
        );
    }
    // Every write needs a journal file beside the database (SQLITE_READONLY_DIRECTORY);
    // found at the first write, that is after the backup was made.
    if !folder_writable(path) {
        bail!(
            "database {}: cannot create the journal file in its folder (the folder is read-only for this user; check its owner and mode, or the mount); nothing was changed",
            path.display()
        );
    }
    Ok(WriteConnection { conn, created })
}

/// Whether this process (its effective ids) may create files in the database's folder.
#[cfg(unix)]
fn folder_writable(db: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return true;
    };
    // SAFETY: a valid NUL-terminated path; faccessat only reads it.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) == 0 }
}

#[cfg(not(unix))]
fn folder_writable(_db: &Path) -> bool {
    true
}

/// The temporary name prefix of a database being created (`.app.db.new-<pid>`).
fn new_db_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.new-")
}

/// Creates a new, valid (one-page) database at `path` all at once. SQLite creates a file
/// empty and writes it only at the first commit, so a run killed in between would leave a
/// 0-byte file that every later run refuses as a truncated database. The file is built under
/// a temporary name beside `path` and hard-linked into place only when complete. `Ok(false)`
/// when a file appeared at `path` meanwhile (it is left alone).
fn create_new(path: &Path) -> anyhow::Result<bool> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = new_db_prefix(path);
    let tmp = dir.join(format!("{prefix}{}", std::process::id()));
    crate::fsio::remove_with_journals(&tmp);
    let built = (|| -> anyhow::Result<bool> {
        let conn = Connection::open_with_flags(
            &tmp,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| explain(path, e))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| explain(path, e))?;
        failpoint("creating_database");
        // Writing the (default) user_version writes page 1: a real, empty database.
        conn.pragma_update(None, "user_version", 0)
            .map_err(|e| explain(path, e))?;
        conn.close().map_err(|(_, e)| explain(path, e))?;
        match fs::hard_link(&tmp, path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
            // A file system without hard links: a rename, which is atomic but could replace
            // a file created in the last instant; the caller holds the migrator lock.
            Err(_) if !path.exists() => fs::rename(&tmp, path)
                .with_context(|| format!("cannot create the database {}", path.display()))?,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create the database {}", path.display()));
            }
        }
        crate::fsio::sync_dir(dir);
        Ok(true)
    })();
    crate::fsio::remove_with_journals(&tmp);
    built
}

/// Per-connection settings of the migrator's own connection.
pub fn setup_write_connection(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// `PRAGMA quick_check`: a damaged b-tree must stop us before we back it up or add to it.
pub fn quick_check(conn: &Connection) -> anyhow::Result<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check(20)")?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    if lines.len() == 1 && lines[0] == "ok" {
        return Ok(());
    }
    bail!(
        "fails PRAGMA quick_check (the file is damaged; restore it from a backup):\n  {}",
        lines.join("\n  ")
    )
}

/// Turns SQLite's open/read errors into messages that say what to do.
pub fn explain(path: &Path, e: rusqlite::Error) -> anyhow::Error {
    use rusqlite::ffi::ErrorCode;
    let p = path.display();
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        // SQLITE_READONLY_ROLLBACK: a hot journal that a read-only connection cannot replay.
        if f.extended_code == 8 | (3 << 8) {
            return anyhow::anyhow!(
                "database {p} needs recovery after a crash (it has a hot journal); run `schemagate migrate` or open it read-write once"
            );
        }
        if f.extended_code == 8 | (6 << 8) {
            return anyhow::anyhow!(
                "database {p}: cannot create the journal file in its folder (the folder is read-only)"
            );
        }
        match f.code {
            ErrorCode::NotADatabase => {
                return anyhow::anyhow!("{p} is not a SQLite database (check the --db path)");
            }
            ErrorCode::DatabaseCorrupt => {
                return anyhow::anyhow!("database {p} is damaged ({e}); restore it from a backup");
            }
            ErrorCode::CannotOpen => {
                return anyhow::anyhow!(
                    "cannot open database {p} (does its folder exist and is it readable?)"
                );
            }
            ErrorCode::ReadOnly => {
                return anyhow::anyhow!("database {p} is read-only for this user");
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return anyhow::anyhow!(
                    "database {p} is locked by another connection ({e}); try again, or raise --busy-timeout"
                );
            }
            _ => {}
        }
    }
    anyhow::anyhow!("database {p}: {e}")
}

/// Whether a table exists in the main schema.
pub fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    // SQLite's parsed schema answers (`sqlite3_table_column_metadata`, which is false for
    // a view), not a scan of `sqlite_schema`: with 2000 tables and indexes each scan took
    // a tenth of a no-op `migrate`'s history read.
    conn.table_exists(Some("main"), name)
}

/// Test-only fault injection (`SCHEMAGATE_TEST_FAILPOINT=name[,name...]`): at the named
/// point, write the name to the file `SCHEMAGATE_TEST_MARKER` (if set) and sleep, so a test
/// can kill the process at a known moment. Points: `creating_database`, `backup_written`,
/// `after_backup`,
/// `before_commit:VERSION`, `after_commit:VERSION`. Does nothing unless the variable names
/// this point. Not for production use.
pub fn failpoint(name: &str) {
    let Ok(points) = std::env::var("SCHEMAGATE_TEST_FAILPOINT") else {
        return;
    };
    // `mark:NAME` only writes the marker and goes on (to signal the process mid-run).
    let mark_only = points
        .split(',')
        .any(|p| p.strip_prefix("mark:") == Some(name));
    if !mark_only && !points.split(',').any(|p| p == name) {
        return;
    }
    if let Ok(marker) = std::env::var("SCHEMAGATE_TEST_MARKER") {
        let _ = fs::write(&marker, name);
    }
    if !mark_only {
        std::thread::sleep(Duration::from_secs(60));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_tells_missing_empty_foreign_and_sqlite_apart() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        assert_eq!(probe(&p).unwrap(), FileState::Missing);
        fs::write(&p, b"").unwrap();
        assert_eq!(probe(&p).unwrap(), FileState::Empty);
        fs::write(&p, b"hello, this is not a database at all").unwrap();
        assert_eq!(probe(&p).unwrap(), FileState::NotSqlite);
        fs::remove_file(&p).unwrap();
        Connection::open(&p)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        assert_eq!(probe(&p).unwrap(), FileState::Sqlite);
    }

    #[test]
    fn read_only_open_of_a_missing_file_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope.db");
        assert!(open_read_only(&p).unwrap().is_none());
        assert!(!p.exists());
    }

    #[test]
    fn uri_paths_escape_reserved_characters() {
        let p = uri_path(Path::new("/tmp/a b?#%.db")).unwrap();
        assert_eq!(p, "/tmp/a%20b%3F%23%25.db");
    }

    #[test]
    fn write_open_refuses_empty_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        fs::write(&p, b"").unwrap();
        let e = open_for_write(&p, true, Duration::from_secs(1)).unwrap_err();
        assert!(e.to_string().contains("empty file"), "{e}");
        fs::write(&p, b"plain text").unwrap();
        let e = open_for_write(&p, true, Duration::from_secs(1)).unwrap_err();
        assert!(e.to_string().contains("not a SQLite database"), "{e}");
        assert_eq!(fs::read(&p).unwrap(), b"plain text");
    }

    #[test]
    fn write_open_creates_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/new.db");
        assert!(open_for_write(&p, false, Duration::from_secs(1)).is_err());
        assert!(!p.exists());
        let w = open_for_write(&p, true, Duration::from_secs(1)).unwrap();
        assert!(w.created);
    }
}
