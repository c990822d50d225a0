//! One migrator at a time (shell): an exclusive `flock` on `<db>.migrate.lock`.
//!
//! The kernel releases the lock when its holder dies, so a killed deploy never leaves a
//! stale lock behind (Liquibase's long-standing problem) and no expiry has to be guessed.
//! It is a separate file because closing any descriptor of the database file itself would
//! drop SQLite's POSIX locks on it. The pid, host and start time written into the file are
//! for messages only; the lock is the `flock`, never the file's content.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// How often a waiting migrator tries again.
const POLL: Duration = Duration::from_millis(50);

/// `<db>.migrate.lock` beside the database.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".migrate.lock");
    PathBuf::from(name)
}

/// Held for the whole run; dropping it releases the lock.
#[derive(Debug)]
pub struct MigrateLock {
    file: File,
    path: PathBuf,
    /// How long we waited for another migrator.
    pub waited: Duration,
    /// This run created the lock file.
    created: bool,
}

impl MigrateLock {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Releases the lock after a run that changed nothing (a refusal), removing the lock
    /// file when this run created it: a refused command leaves the database's folder as it
    /// found it. Safe while others wait: a waiter that then locks the removed file sees that
    /// the path no longer names it and opens the path again ([`acquire`]).
    pub fn discard(self) {
        if self.created && is_at_path(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Drop for MigrateLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another migration is running on this database ({holder}); waited {waited:?} for its lock {path}; try again later or raise --lock-timeout"
    )]
    Timeout {
        holder: String,
        path: PathBuf,
        waited: Duration,
    },
    // The OS error is the source, shown once by `{:#}` (not repeated in this text).
    #[error("cannot open the lock file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the lock file {path} is {what}, not a lock file of schemagate's; refusing to use it (nothing was changed). Remove it if you know what it is, then run again"
    )]
    NotOurs { path: PathBuf, what: String },
}

/// Takes the exclusive lock for `db`, waiting up to `timeout` for another holder.
pub fn acquire(db: &Path, timeout: Duration) -> Result<MigrateLock, LockError> {
    let path = lock_path(db);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    let start = Instant::now();
    let (file, created) = loop {
        let (file, created) = open_lock_file(&path)?;
        match file.try_lock() {
            // A lock file can be removed (`MigrateLock::discard`): a lock taken on a file
            // that is no longer the one at the path locks nothing, so open it again.
            Ok(()) if is_at_path(&file, &path) => break (file, created),
            Ok(()) => continue,
            Err(TryLockError::WouldBlock) => {
                if start.elapsed() >= timeout {
                    return Err(LockError::Timeout {
                        holder: holder(&path),
                        path,
                        waited: start.elapsed(),
                    });
                }
                std::thread::sleep(
                    POLL.min(timeout.saturating_sub(start.elapsed()))
                        .max(Duration::from_millis(1)),
                );
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    };
    let mut lock = MigrateLock {
        file,
        path,
        waited: start.elapsed(),
        created,
    };
    // Informational only: a failure to write it must not stop the deploy.
    let _ = write_holder(&mut lock.file);
    Ok(lock)
}

/// Whether the path still names the file we hold open.
fn is_at_path(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Opens (or creates) the lock file without following a symbolic link and without
/// truncating anything: `ln -s /etc/passwd app.db.migrate.lock` must not make us write
/// into `/etc/passwd`. A file that is not a regular file with one name, or whose content is
/// not a holder line of ours, is refused rather than overwritten.
fn open_lock_file(path: &Path) -> Result<(File, bool), LockError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let not_ours = |what: &str| LockError::NotOurs {
        path: path.to_path_buf(),
        what: what.to_string(),
    };
    let open = |create: bool| {
        let mut o = OpenOptions::new();
        o.read(true).write(true);
        if create {
            o.create_new(true).mode(0o644);
        }
        // O_NONBLOCK: opening a FIFO someone put there must not hang.
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
    };
    let io_error = |source: std::io::Error| {
        if source.raw_os_error() == Some(libc::ELOOP) {
            not_ours("a symbolic link")
        } else {
            LockError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    // Created by us (and then ours to remove when the run changes nothing), or there
    // already; a file removed between the two attempts is simply created on the next.
    let (file, created) = loop {
        match open(true) {
            Ok(f) => break (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match open(false) {
                Ok(f) => break (f, false),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(e)),
            },
            Err(e) => return Err(io_error(e)),
        }
    };
    let meta = file.metadata().map_err(|source| LockError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(not_ours(file_kind(&meta.file_type())));
    }
    if meta.nlink() > 1 {
        return Err(not_ours(
            "a file with other names (a hard link: writing it would change another file)",
        ));
    }
    let mut content = String::new();
    let ours = meta.len() == 0
        || (meta.len() <= 4096
            && (&file).read_to_string(&mut content).is_ok()
            && content.starts_with("pid="));
    if !ours {
        return Err(not_ours("a file with other content"));
    }
    Ok((file, created))
}

/// What a file that is not a regular file is, for messages.
pub fn file_kind(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// The holder line is written over the old one, padded to a fixed length: truncating the
/// file first cost a few tenths of a millisecond on ext4 on every run (measured: 5-10% of a
/// no-op `migrate` with 1000 applied).
const HOLDER_LEN: usize = 512;

fn write_holder(file: &mut File) -> std::io::Result<()> {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut line = format!(
        "pid={} host={} started={} (unix seconds) tool=schemagate {}\n",
        std::process::id(),
        hostname(),
        started,
        env!("CARGO_PKG_VERSION")
    );
    if line.len() < HOLDER_LEN {
        line.extend(std::iter::repeat_n(' ', HOLDER_LEN - line.len()));
    }
    if file.metadata()?.len() > line.len() as u64 {
        // Not a lock file of this format: start it afresh.
        file.set_len(0)?;
    }
    file.seek(SeekFrom::Start(0))?;
    file.write_all(line.as_bytes())?;
    file.flush()
}

/// Who holds the lock, as written by the holder (for the timeout message).
pub fn holder(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => "holder unknown".to_string(),
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success
    // unless truncated, which the `position` below tolerates.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Opens the lock file for a check that nobody holds it (tests, diagnostics).
pub fn is_held(db: &Path) -> anyhow::Result<bool> {
    let path = lock_path(db);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(false)
        }
        Err(TryLockError::WouldBlock) => Ok(true),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_locker_times_out_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let first = acquire(&db, Duration::from_secs(1)).unwrap();
        assert!(is_held(&db).unwrap());
        let err = acquire(&db, Duration::from_millis(100)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid={}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("--lock-timeout"), "{msg}");
        drop(first);
        assert!(!is_held(&db).unwrap());
        acquire(&db, Duration::from_millis(100)).unwrap();
    }

    /// Issue 12.3: the lock file followed a symlink and truncated its target.
    #[test]
    fn a_symlink_or_a_foreign_file_at_the_lock_path_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let target = dir.path().join("precious.txt");
        fs::write(&target, "keep me\n").unwrap();
        std::os::unix::fs::symlink(&target, lock_path(&db)).unwrap();
        let e = acquire(&db, Duration::from_millis(10)).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("is a symbolic link"), "{msg}");
        assert!(msg.contains("app.db.migrate.lock"), "{msg}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me\n");

        fs::remove_file(lock_path(&db)).unwrap();
        fs::hard_link(&target, lock_path(&db)).unwrap();
        let e = acquire(&db, Duration::from_millis(10)).unwrap_err();
        assert!(e.to_string().contains("hard link"), "{e}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me\n");

        fs::remove_file(lock_path(&db)).unwrap();
        fs::write(lock_path(&db), "somebody's notes\n").unwrap();
        let e = acquire(&db, Duration::from_millis(10)).unwrap_err();
        assert!(e.to_string().contains("other content"), "{e}");
        assert_eq!(
            fs::read_to_string(lock_path(&db)).unwrap(),
            "somebody's notes\n"
        );

        // Our own stale holder line is fine.
        fs::write(lock_path(&db), "pid=1 host=x started=0\n").unwrap();
        acquire(&db, Duration::from_millis(10)).unwrap();
    }

    /// A refused run removes the lock file it created; a waiter that had opened it locks
    /// the file at the path, not the removed one.
    #[test]
    fn discard_removes_only_a_lock_file_this_run_created_and_waiters_follow() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let first = acquire(&db, Duration::from_secs(1)).unwrap();
        let waiter = std::thread::spawn({
            let db = db.clone();
            move || acquire(&db, Duration::from_secs(10)).unwrap()
        });
        std::thread::sleep(Duration::from_millis(150));
        first.discard();
        let second = waiter.join().unwrap();
        assert!(is_at_path(&second.file, &lock_path(&db)));
        assert!(is_held(&db).unwrap());
        // Created by the waiter after the removal: its own to discard.
        second.discard();
        assert!(!lock_path(&db).exists());
        // A lock file that was there before is kept.
        fs::write(lock_path(&db), "").unwrap();
        acquire(&db, Duration::from_secs(1)).unwrap().discard();
        assert!(lock_path(&db).exists());
    }

    /// Issue 12.17: "cannot create the lock file X: Permission denied (os error 13):
    /// Permission denied (os error 13)".
    #[test]
    fn lock_io_errors_state_the_os_error_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("no/such/folder/app.db");
        let e = anyhow::Error::from(acquire(&db, Duration::from_millis(10)).unwrap_err());
        let msg = format!("{e:#}");
        assert_eq!(msg.matches("os error").count(), 1, "{msg}");
    }
}
