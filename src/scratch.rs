//! Scratch folders (shell): where the dry run's copy of a database, the replays on an
//! empty database and `restore`'s staging copy live.
//!
//! What they hold is the user's data, so:
//! - the folder is `0700` and every database file in it `0600` (SQLite gives a journal the
//!   mode of its database), whatever the umask;
//! - the folder is removed when its [`ScratchDir`] is dropped, and on SIGINT, SIGTERM or
//!   SIGHUP (a handler that only makes system calls removes the registered folders, then
//!   lets the signal kill the process as it would have);
//! - a folder left behind by a run that was killed outright (SIGKILL, a power cut) is
//!   removed by the next run that makes a scratch folder in the same place. Ours are told
//!   apart by their name prefix *and* a lock file inside ([`MARK`]) that the owner holds
//!   with `flock` while it lives: the kernel drops the lock when the owner dies, so "the
//!   lock can be taken" means "the owner is gone" (a reused pid cannot fool it). A folder
//!   kept on purpose (`--keep-scratch`) has its lock file removed, and is never touched.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The lock file inside every live scratch folder of ours.
pub const MARK: &str = ".schemagate-scratch.lock";

/// A scratch folder of this process; removed with everything in it when dropped.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    /// Holds the `flock` on [`MARK`] for as long as we live.
    _lock: File,
    slot: Option<usize>,
}

impl ScratchDir {
    /// A scratch folder in the system's temporary folder (`$TMPDIR`, else `/tmp`), named
    /// `schemagate-<purpose>-<random>`.
    /// Stale folders of any purpose go first.
    pub fn new(purpose: &str) -> anyhow::Result<ScratchDir> {
        let tmp = std::env::temp_dir();
        ScratchDir::create(&tmp, &format!("schemagate-{purpose}-"), "schemagate-")
    }

    /// A scratch folder in `parent` named `<prefix><random>` (`restore` stages beside the
    /// database, on the same file system). Stale folders with the same prefix go first.
    pub fn new_in(parent: &Path, prefix: &str) -> anyhow::Result<ScratchDir> {
        ScratchDir::create(parent, prefix, prefix)
    }

    fn create(parent: &Path, prefix: &str, stale_prefix: &str) -> anyhow::Result<ScratchDir> {
        clean_stale(parent, stale_prefix);
        let path = (0..100)
            .map(|_| parent.join(format!("{prefix}{}", random_suffix())))
            .find_map(|p| match fs::DirBuilder::new().mode(0o700).create(&p) {
                Ok(()) => Some(Ok(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                Err(e) => Some(Err(e)),
            })
            .unwrap_or_else(|| Err(std::io::ErrorKind::AlreadyExists.into()))
            .with_context(|| format!("cannot create a scratch folder in {}", parent.display()))?;
        // The umask may have narrowed 0700 further, never widened it; set it exactly.
        let made = (|| -> std::io::Result<File> {
            fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
            // Locked under another name, then renamed: a cleaner never sees the lock file
            // before it is held.
            let pending = path.join(".lock-pending");
            let lock = new_private_file(&pending)?;
            lock.lock()?;
            fs::rename(&pending, path.join(MARK))?;
            Ok(lock)
        })();
        let lock = match made {
            Ok(l) => l,
            Err(e) => {
                let _ = fs::remove_dir_all(&path);
                return Err(e).with_context(|| format!("cannot set up {}", path.display()));
            }
        };
        let slot = signals::register(&path);
        Ok(ScratchDir {
            path,
            _lock: lock,
            slot,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An empty `0600` file named `name` in the folder, for SQLite to make a database of
    /// (SQLite would create it `0644`).
    pub fn new_database(&self, name: &str) -> anyhow::Result<PathBuf> {
        let p = self.path.join(name);
        new_private_file(&p).with_context(|| format!("cannot create {}", p.display()))?;
        Ok(p)
    }

    /// Keeps the folder (`--keep-scratch`): no longer ours to remove, now or later.
    pub fn keep(mut self) -> PathBuf {
        if let Some(slot) = self.slot.take() {
            signals::unregister(slot);
        }
        let _ = fs::remove_file(self.path.join(MARK));
        let path = std::mem::take(&mut self.path);
        std::mem::forget(self);
        path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            signals::unregister(slot);
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// `create_new`, mode `0600`, not following a symlink.
fn new_private_file(p: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(p)
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// Removes the folders in `parent` named `<prefix>...` that are ours (owned by this user,
/// holding [`MARK`]) and whose owner is gone (the lock on [`MARK`] can be taken). Returns
/// what was removed. Best effort: anything it cannot judge stays.
pub fn clean_stale(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(parent) else {
        return removed;
    };
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(prefix) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != uid {
            continue;
        }
        let Ok(mark) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path.join(MARK))
        else {
            continue;
        };
        if mark.try_lock().is_ok() && fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Removal of the registered folders on SIGINT, SIGTERM and SIGHUP.
///
/// The handler may only make async-signal-safe calls: it lists each folder with the
/// `getdents64` system call into a stack buffer, `unlinkat`s the entries (scratch folders
/// are flat) and `rmdir`s the folder, then restores the default action and raises the
/// signal again, so the process ends the way it would have without us. It is installed
/// only where nobody else handles the signal: `migrate` stops at a safe point on its own
/// handler ([`crate::apply::stop_on_signals`]) and drops its scratch folders on the way out.
mod signals {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::ptr;
    use std::sync::Once;
    use std::sync::atomic::{AtomicPtr, Ordering};

    const SLOTS: usize = 16;
    static REGISTERED: [AtomicPtr<libc::c_char>; SLOTS] =
        [const { AtomicPtr::new(ptr::null_mut()) }; SLOTS];
    static INSTALL: Once = Once::new();
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// Registers a folder for removal on a signal; `None` when every slot is taken (the
    /// folder is then only removed on drop, or by the next run).
    pub fn register(dir: &Path) -> Option<usize> {
        INSTALL.call_once(install);
        let c = CString::new(dir.as_os_str().as_bytes()).ok()?.into_raw();
        for (i, slot) in REGISTERED.iter().enumerate() {
            if slot
                .compare_exchange(ptr::null_mut(), c, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Some(i);
            }
        }
        // SAFETY: `c` came from `into_raw` above and was not stored anywhere.
        drop(unsafe { CString::from_raw(c) });
        None
    }

    pub fn unregister(slot: usize) {
        let p = REGISTERED[slot].swap(ptr::null_mut(), Ordering::SeqCst);
        if !p.is_null() {
            // SAFETY: only `register` stores pointers, each from `CString::into_raw`, and
            // the swap above took sole ownership of this one.
            drop(unsafe { CString::from_raw(p) });
        }
    }

    fn install() {
        for sig in SIGNALS {
            // SAFETY: sigaction with a zeroed struct queries the current action; ours is
            // installed only over the default one.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue;
                }
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, ptr::null_mut());
            }
        }
    }

    extern "C" fn on_signal(sig: libc::c_int) {
        for slot in &REGISTERED {
            // Taken, not read: a second signal does not walk a folder twice.
            let p = slot.swap(ptr::null_mut(), Ordering::SeqCst);
            if !p.is_null() {
                // SAFETY: a NUL-terminated path registered above; leaked on purpose (the
                // process is about to end, and free is not async-signal-safe).
                unsafe { remove_flat_dir(p) };
            }
        }
        // SAFETY: async-signal-safe calls only.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }

    #[cfg(test)]
    pub unsafe fn remove_flat_dir_for_tests(dir: *const libc::c_char) {
        // SAFETY: as for `remove_flat_dir`.
        unsafe { remove_flat_dir(dir) }
    }

    /// `rm -r` of a folder that holds only files, in system calls.
    unsafe fn remove_flat_dir(dir: *const libc::c_char) {
        // SAFETY: the caller passes a valid C string; every call below is a system call.
        unsafe {
            let fd = libc::open(dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC);
            if fd < 0 {
                return;
            }
            let mut buf = [0u8; 4096];
            // Each pass removes what it listed; listing again until nothing is left copes
            // with a directory offset that moves under the removals.
            for _ in 0..64 {
                let n = libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len());
                if n <= 0 {
                    break;
                }
                let mut off = 0usize;
                while off < n as usize {
                    // struct linux_dirent64 { u64 ino; i64 off; u16 reclen; u8 type; char name[]; }
                    let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
                    if reclen == 0 {
                        break;
                    }
                    let name = buf.as_ptr().add(off + 19) as *const libc::c_char;
                    let dot = *name == b'.' as libc::c_char
                        && (*name.add(1) == 0
                            || (*name.add(1) == b'.' as libc::c_char && *name.add(2) == 0));
                    if !dot {
                        libc::unlinkat(fd, name, 0);
                    }
                    off += reclen;
                }
                libc::lseek(fd, 0, libc::SEEK_SET);
            }
            libc::close(fd);
            libc::rmdir(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn scratch_folders_are_private_and_removed_on_drop() {
        let parent = tempfile::tempdir().unwrap();
        let s = ScratchDir::new_in(parent.path(), "schemagate-t-").unwrap();
        let dir = s.path().to_path_buf();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let db = s.new_database("scratch.db").unwrap();
        assert_eq!(
            fs::metadata(&db).unwrap().permissions().mode() & 0o777,
            0o600
        );
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t(x);")
            .unwrap();
        drop(s);
        assert!(!dir.exists());
    }

    #[test]
    fn only_dead_owners_folders_are_cleaned_and_kept_ones_stay() {
        let parent = tempfile::tempdir().unwrap();
        let live = ScratchDir::new_in(parent.path(), "schemagate-t-").unwrap();
        let kept = ScratchDir::new_in(parent.path(), "schemagate-t-")
            .unwrap()
            .keep();
        // A dead run's folder: the mark is there, nobody holds its lock.
        let dead = parent.path().join("schemagate-t-dead");
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join(MARK), b"").unwrap();
        fs::write(dead.join("scratch.db"), b"data").unwrap();
        // Somebody else's folder with our prefix but no mark.
        let other = parent.path().join("schemagate-t-other");
        fs::create_dir(&other).unwrap();
        let removed = clean_stale(parent.path(), "schemagate-t-");
        assert_eq!(removed, vec![dead]);
        assert!(live.path().exists() && kept.exists() && other.exists());
    }

    #[test]
    fn the_signal_handler_removes_a_flat_folder() {
        let parent = tempfile::tempdir().unwrap();
        let d = parent.path().join("x");
        fs::create_dir(&d).unwrap();
        for i in 0..300 {
            fs::write(d.join(format!("file-with-a-longish-name-{i}")), b"x").unwrap();
        }
        let c = std::ffi::CString::new(d.to_str().unwrap()).unwrap();
        unsafe { signals_remove(c.as_ptr()) };
        assert!(!d.exists());
    }

    unsafe fn signals_remove(p: *const libc::c_char) {
        unsafe { super::signals::remove_flat_dir_for_tests(p) }
    }
}
