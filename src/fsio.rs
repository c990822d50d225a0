//! File-system helpers of the shell: reading the migrations folder and writing files
//! atomically (temporary name in the same folder, fsync, rename, fsync of the folder).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::config::{Config, FILE_NAME};
use crate::layout::{LayoutSetting, names};
use crate::migration::{self, Discovery, FolderEntry};

/// Reads `explicit`, or the first `schemagate.toml` found walking up from `start`.
/// Returns the config and the folder relative paths in it are resolved against.
pub fn discover_config(
    explicit: Option<&Path>,
    start: &Path,
) -> anyhow::Result<(Config, Option<PathBuf>)> {
    let path = match explicit {
        Some(p) => {
            if !p.is_file() {
                bail!("config file {} not found (check --config)", p.display());
            }
            Some(p.to_path_buf())
        }
        None => start
            .ancestors()
            .map(|d| d.join(FILE_NAME))
            .find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let config = Config::parse(&text, &path.display().to_string())?;
    let root = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((config, Some(root)))
}

/// Lists the folder and reads every file whose name makes it a migration, detecting the
/// layout ([`read_migrations_folder`] with `[migrations] layout = "auto"`).
pub fn read_migrations_dir(dir: &Path, dir_display: &str) -> anyhow::Result<Discovery> {
    read_migrations_folder(dir, dir_display, LayoutSetting::Auto)
}

/// Lists the folder and reads what the layouts read: files named like migrations, and the
/// `up.sql`/`down.sql`/`metadata.toml` of folders named like diesel migrations. Entries
/// named like migrations that cannot be read as files (dangling or looping symbolic links,
/// FIFOs, sockets, devices, names that are not UTF-8) are passed on as such, so that
/// discovery refuses them instead of skipping them.
pub fn read_migrations_folder(
    dir: &Path,
    dir_display: &str,
    layout: LayoutSetting,
) -> anyhow::Result<Discovery> {
    let listing = Listing::of(dir)?;
    Ok(listing.read(dir_display, layout, false)?.0)
}

/// The entries of a migrations folder, and the folder held open to read them through.
pub(crate) struct Listing {
    /// The folder as given (for messages).
    dir: PathBuf,
    pub(crate) folder: Folder,
    pub(crate) entries: Vec<fs::DirEntry>,
}

impl Listing {
    /// Lists `dir` by its path.
    pub(crate) fn of(dir: &Path) -> anyhow::Result<Listing> {
        check_folder(dir)?;
        let folder = Folder::open(dir);
        let entries = list(dir)?;
        Ok(Listing {
            dir: dir.to_path_buf(),
            folder,
            entries,
        })
    }

    /// Lists `dir` through the descriptor it is read through, so that the names and the
    /// files are those of one folder even when another is renamed into its place meanwhile.
    /// `None` where that cannot be done (no `/proc`).
    #[cfg(target_os = "linux")]
    pub(crate) fn pinned(dir: &Path) -> anyhow::Result<Option<Listing>> {
        use std::os::fd::AsRawFd;
        check_folder(dir)?;
        let folder = Folder::open(dir);
        let Some(fd) = folder.0.as_ref().map(|f| f.as_raw_fd()) else {
            return Ok(None);
        };
        let Ok(entries) = list(Path::new(&format!("/proc/self/fd/{fd}"))) else {
            return Ok(None);
        };
        Ok(Some(Listing {
            dir: dir.to_path_buf(),
            folder,
            entries,
        }))
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn pinned(dir: &Path) -> anyhow::Result<Option<Listing>> {
        check_folder(dir)?;
        Ok(None)
    }

    /// Reads the listed folder into its discovery. With `stamped`, each regular file named
    /// like a migration is stamped ([`Stamp`]) on its open descriptor before it is read, so
    /// the stamp is that of the bytes read or of an older state of the same file; the
    /// stamps come back by name, `None` when some file could not be stamped.
    pub(crate) fn read(
        self,
        dir_display: &str,
        layout: LayoutSetting,
        stamped: bool,
    ) -> anyhow::Result<(Discovery, Option<Stamps>)> {
        let Listing {
            dir,
            folder,
            entries: listed,
        } = self;
        let display = |name: &str| migration::join_display(dir_display, name);
        // Entries in listing order; a regular file named like a migration is read afterwards,
        // all of them at once (`Slot::Read` marks its place).
        enum Slot {
            Done(FolderEntry),
            Read(String),
        }
        let mut slots = Vec::new();
        for entry in listed {
            let name = match entry.file_name().into_string() {
                Ok(name) => name,
                Err(raw) => {
                    slots.push(Slot::Done(FolderEntry::NonUtf8Name {
                        lossy: raw.to_string_lossy().into_owned(),
                    }));
                    continue;
                }
            };
            if !names::looks_like_migration(&name) {
                slots.push(Slot::Done(FolderEntry::File {
                    name,
                    bytes: Vec::new(),
                }));
                continue;
            }
            // The listing's own file type says "regular file" without a stat; anything else
            // (a link, a folder, a FIFO, a file system that does not say) is looked at closely.
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                slots.push(Slot::Read(name));
                continue;
            }
            let path = entry.path();
            match read_entry(&path) {
                Read::File(bytes) => {
                    let bytes = bytes.with_context(|| format!("cannot read {}", display(&name)))?;
                    slots.push(Slot::Done(FolderEntry::File { name, bytes }));
                }
                Read::Folder => {
                    let mut files = Vec::new();
                    let mut odd = Vec::new();
                    for inner in list(&path)? {
                        let Ok(file) = inner.file_name().into_string() else {
                            continue;
                        };
                        if !matches!(file.as_str(), "up.sql" | "down.sql" | "metadata.toml") {
                            continue;
                        }
                        let shown = format!("{name}/{file}");
                        match read_entry(&inner.path()) {
                            Read::File(bytes) => {
                                let bytes = bytes
                                    .with_context(|| format!("cannot read {}", display(&shown)))?;
                                files.push((file, bytes));
                            }
                            Read::Folder => odd.push(FolderEntry::Unreadable {
                                name: shown,
                                what: "a folder".into(),
                            }),
                            Read::Odd(what) => {
                                odd.push(FolderEntry::Unreadable { name: shown, what })
                            }
                        }
                    }
                    slots.extend(odd.into_iter().map(Slot::Done));
                    slots.push(Slot::Done(FolderEntry::Folder { name, files }));
                }
                Read::Odd(what) => slots.push(Slot::Done(FolderEntry::Unreadable { name, what })),
            }
        }
        // Only regular files read through the folder's descriptor have stamps: a link, a
        // folder or an odd entry leaves the whole listing unstamped.
        let all_regular = slots.iter().all(|s| match s {
            Slot::Read(_) => true,
            Slot::Done(FolderEntry::File { name, .. }) => !names::looks_like_migration(name),
            Slot::Done(_) => false,
        });
        let wanted: Vec<&str> = slots
            .iter()
            .filter_map(|s| match s {
                Slot::Read(name) => Some(name.as_str()),
                Slot::Done(_) => None,
            })
            .collect();
        let stamped = stamped && all_regular;
        let mut read = read_files(&dir, &folder, &wanted, stamped).into_iter();
        let mut stamps = stamped.then(|| Vec::with_capacity(wanted.len()));
        let mut entries = Vec::with_capacity(slots.len());
        for slot in slots {
            entries.push(match slot {
                Slot::Done(entry) => entry,
                Slot::Read(name) => {
                    let (read, stamp) = read.next().expect("one result per file read");
                    match (stamp, &mut stamps) {
                        (Some(stamp), Some(stamps)) => stamps.push((name.clone(), stamp)),
                        _ => stamps = None,
                    }
                    match read {
                        Read::File(bytes) => {
                            let bytes =
                                bytes.with_context(|| format!("cannot read {}", display(&name)))?;
                            FolderEntry::File { name, bytes }
                        }
                        Read::Folder => FolderEntry::Unreadable {
                            name,
                            what: "a folder".into(),
                        },
                        Read::Odd(what) => FolderEntry::Unreadable { name, what },
                    }
                }
            });
        }
        Ok((
            migration::discover_folder(dir_display, layout, entries),
            stamps,
        ))
    }
}

/// A missing folder, or a file given as the folder, is a usage error.
fn check_folder(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        bail!(
            "migrations folder {} does not exist (pass --dir, or set [migrations] dir in schemagate.toml)",
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!(
            "{} is not a folder (pass the migrations folder with --dir)",
            dir.display()
        );
    }
    Ok(())
}

fn list(d: &Path) -> anyhow::Result<Vec<fs::DirEntry>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(d).with_context(|| format!("cannot list {}", d.display()))? {
        out.push(entry.with_context(|| format!("cannot list {}", d.display()))?);
    }
    Ok(out)
}

/// What an entry of the migrations folder turned out to be.
enum Read {
    File(std::io::Result<Vec<u8>>),
    Folder,
    /// Not readable as a file or folder: what it is.
    Odd(String),
}

/// Reads a regular file (following symbolic links). The file is opened with `O_NONBLOCK`
/// and checked on the open handle, so a FIFO put in its place never blocks the read.
fn read_entry(path: &Path) -> Read {
    use std::io::Read as _;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            return Read::Odd(match (link, e.raw_os_error()) {
                (true, Some(libc::ELOOP)) => "a symbolic link loop".into(),
                (true, Some(libc::ENOENT)) => "a dangling symbolic link".into(),
                (true, _) => format!("a symbolic link that cannot be followed ({e})"),
                (false, _) => format!("cannot be inspected ({e})"),
            });
        }
    };
    let t = meta.file_type();
    if t.is_dir() {
        return Read::Folder;
    }
    if !t.is_file() {
        return Read::Odd(
            if t.is_fifo() {
                "a FIFO (named pipe)"
            } else if t.is_socket() {
                "a socket"
            } else {
                "a device file"
            }
            .into(),
        );
    }
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    Read::File(file.and_then(|mut f| {
        if !f.metadata()?.is_file() {
            return Err(std::io::Error::other("it is no longer a regular file"));
        }
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        Ok(bytes)
    }))
}

/// Fewer files than this per thread are read faster than a thread starts.
const PARALLEL_SHARE: usize = 128;

/// Reads the regular files `names` of `dir` through `folder`, in order, each with its
/// [`Stamp`] when `stamped`. Reading is most of a no-op `migrate` without its cache: a
/// large folder is read on up to four cores, each thread a contiguous share.
fn read_files(
    dir: &Path,
    folder: &Folder,
    names: &[&str],
    stamped: bool,
) -> Vec<(Read, Option<Stamp>)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let share = names.len().div_ceil(threads).max(PARALLEL_SHARE);
    let mut shares = names.chunks(share);
    let first = shares.next().unwrap_or_default();
    let read_share = |chunk: &[&str]| -> Vec<(Read, Option<Stamp>)> {
        let mut buffer = vec![0u8; 64 * 1024];
        chunk
            .iter()
            .map(|name| read_regular(folder.file(dir, name), &mut buffer, stamped))
            .collect()
    };
    std::thread::scope(|s| {
        let others: Vec<_> = shares.map(|c| s.spawn(move || read_share(c))).collect();
        let mut out = read_share(first);
        for handle in others {
            out.extend(
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        out
    })
}

/// The migrations folder, held open so that each file is opened by its name in it
/// (`openat`) rather than by a path walked from the working directory each time.
pub(crate) struct Folder(pub(crate) Option<fs::File>);

impl Folder {
    pub(crate) fn open(dir: &Path) -> Folder {
        Folder(fs::File::open(dir).ok())
    }

    /// Opens `name` without blocking (a FIFO put in place of a file must not hang us).
    fn file(&self, dir: &Path, name: &str) -> std::io::Result<fs::File> {
        use std::os::fd::{AsRawFd, FromRawFd};
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(folder) = &self.0 {
            let c_name = std::ffi::CString::new(name)?;
            // SAFETY: the folder's descriptor and the NUL-terminated name are valid for the
            // call; a descriptor it returns is owned by the File made from it.
            let fd = unsafe {
                libc::openat(
                    folder.as_raw_fd(),
                    c_name.as_ptr(),
                    libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK,
                )
            };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `fd` was just opened and is owned by nobody else.
            return Ok(unsafe { fs::File::from_raw_fd(fd) });
        }
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(dir.join(name))
    }
}

/// A file the listing called regular, read through `buffer`, with its [`Stamp`] taken on
/// the open descriptor before the read when `stamped`. Three system calls per file (open,
/// read, close) where `fs::read` makes five: a thousand small migrations are most of a
/// no-op `migrate` without its cache. A read that fills less than the buffer is the end of
/// a regular file (POSIX: a read of a regular file is short only at its end). The file may
/// have been replaced since the listing: an empty read, which is what a FIFO or a file of
/// another kind would give, is checked on the open handle before it counts as an empty file.
fn read_regular(
    file: std::io::Result<fs::File>,
    buffer: &mut [u8],
    stamped: bool,
) -> (Read, Option<Stamp>) {
    use std::io::Read as _;
    let mut file = match file {
        Ok(f) => f,
        Err(e) => return (Read::File(Err(e)), None),
    };
    let stamp = if stamped { Stamp::of_open(&file) } else { None };
    let mut bytes = Vec::new();
    let read = loop {
        match file.read(buffer) {
            Ok(0) if bytes.is_empty() => {
                break match file.metadata() {
                    Ok(m) if m.is_dir() => Read::Folder,
                    Ok(m) if !m.is_file() => Read::Odd("no longer a regular file".into()),
                    Ok(_) => Read::File(Ok(bytes)),
                    Err(e) => Read::File(Err(e)),
                };
            }
            Ok(0) => break Read::File(Ok(bytes)),
            Ok(n) => {
                bytes.extend_from_slice(&buffer[..n]);
                if n < buffer.len() {
                    break Read::File(Ok(bytes));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => break Read::Folder,
            Err(e) => break Read::File(Err(e)),
        }
    };
    (read, stamp)
}

/// The stamps of the files read, by name.
pub(crate) type Stamps = Vec<(String, Stamp)>;

/// What identifies a regular file's content without reading it: device, inode, size,
/// modification and status-change times. Every write to a file, and every change of its
/// times (`touch -d` included), sets its status-change time (ctime) to the current time,
/// and nothing sets it to a chosen value; a file renamed into a name's place has another
/// inode. So an unchanged stamp means unchanged bytes, provided the stamp was taken after
/// the clock had moved on from its ctime: two writes within one tick of the file system's
/// clock leave the same ctime, which is why the folder cache keeps only settled stamps
/// (`crate::folder_cache`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, u32),
    pub ctime: (i64, u32),
}

impl Stamp {
    /// The stamp of the regular file `name` in the folder `dir_fd`, not following a
    /// symbolic link; `None` for anything else or when the system cannot say. Network
    /// file systems are asked, not their cached attributes (`AT_STATX_FORCE_SYNC`).
    #[cfg(target_os = "linux")]
    pub fn at(dir_fd: &fs::File, name: &str) -> Option<Stamp> {
        use std::os::fd::AsRawFd;
        let c_name = std::ffi::CString::new(name).ok()?;
        Stamp::statx(
            dir_fd.as_raw_fd(),
            &c_name,
            libc::AT_SYMLINK_NOFOLLOW | libc::AT_STATX_FORCE_SYNC,
        )
    }

    /// The stamp of an open regular file.
    #[cfg(target_os = "linux")]
    pub fn of_open(file: &fs::File) -> Option<Stamp> {
        use std::os::fd::AsRawFd;
        Stamp::statx(
            file.as_raw_fd(),
            c"",
            libc::AT_EMPTY_PATH | libc::AT_STATX_FORCE_SYNC,
        )
    }

    #[cfg(target_os = "linux")]
    fn statx(fd: libc::c_int, name: &std::ffi::CStr, flags: libc::c_int) -> Option<Stamp> {
        let wanted = libc::STATX_TYPE
            | libc::STATX_INO
            | libc::STATX_SIZE
            | libc::STATX_MTIME
            | libc::STATX_CTIME;
        // SAFETY: statx only writes into the zeroed buffer, which outlives the call; the
        // descriptor and the NUL-terminated name are valid for it.
        let mut buf: libc::statx = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::statx(fd, name.as_ptr(), flags, wanted, &mut buf) };
        let regular = u32::from(buf.stx_mode) & libc::S_IFMT == libc::S_IFREG;
        if rc != 0 || buf.stx_mask & wanted != wanted || !regular {
            return None;
        }
        Some(Stamp {
            dev: (u64::from(buf.stx_dev_major) << 32) | u64::from(buf.stx_dev_minor),
            ino: buf.stx_ino,
            size: buf.stx_size,
            mtime: (buf.stx_mtime.tv_sec, buf.stx_mtime.tv_nsec),
            ctime: (buf.stx_ctime.tv_sec, buf.stx_ctime.tv_nsec),
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn at(_dir_fd: &fs::File, _name: &str) -> Option<Stamp> {
        None
    }

    #[cfg(not(target_os = "linux"))]
    pub fn of_open(_file: &fs::File) -> Option<Stamp> {
        None
    }
}

/// Writes `bytes` to `path` so that a reader (or a crash) sees the old file or the new one,
/// never half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_via_temp(path, bytes, true)
}

/// Writes a new file atomically and refuses to replace an existing one (two people running
/// `generate` at once must not overwrite each other's migration).
pub fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_via_temp(path, bytes, false)
}

/// Temporary file in the same folder, fsync, rename, fsync of the folder.
fn write_via_temp(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".schemagate-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let persisted = if replace {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    persisted
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename durable. Best effort: not every platform can open a folder.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
/// Removes `<path>` and the journal files SQLite may have left beside it.
pub fn remove_with_journals(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

/// Deletes the files in `dir` named `<prefix><pid>[-...]` whose process is gone: the
/// temporaries of runs that were killed. A live pid's file belongs to a run in progress.
pub fn clean_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = fs::remove_file(entry.path());
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// A folder large enough to be read on several threads reads as one discovery of the
    /// same files: the same migrations in the same order, the same errors and strays.
    #[test]
    fn a_folder_read_in_shares_is_the_folder_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for n in (1..=700).rev() {
            let (name, text) = if n % 7 == 0 {
                (
                    format!("{n:04}_p{n}.py"),
                    format!("def upgrade(conn):\n    pass  # {n}\n"),
                )
            } else {
                (
                    format!("{n:04}_s{n}.sql"),
                    format!("-- step {n}\r\nCREATE TABLE t{n} (x);\n"),
                )
            };
            files.push((name, text.into_bytes()));
        }
        files.push(("0042_s42b.sql".into(), b"SELECT 1;".to_vec()));
        files.push(("0500_bad.sql".into(), b"\xff".to_vec()));
        files.push(("notes.sql".into(), b"SELECT 1;".to_vec()));
        files.push(("README.md".into(), b"hi".to_vec()));
        for (name, bytes) in &files {
            fs::write(dir.path().join(name), bytes).unwrap();
        }
        std::os::unix::fs::symlink(
            dir.path().join("0001_s1.sql"),
            dir.path().join("0701_link.sql"),
        )
        .unwrap();
        files.push((
            "0701_link.sql".into(),
            fs::read(dir.path().join("0001_s1.sql")).unwrap(),
        ));

        let read = read_migrations_dir(dir.path(), "m").unwrap();
        let whole = migration::discover("m", files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
        let summary = |d: &Discovery| {
            d.migrations
                .iter()
                .map(|m| {
                    format!(
                        "{} {} {} {}",
                        m.path, m.checksum, m.legacy_checksum, m.description
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(read.migrations.len(), 702);
        assert_eq!(summary(&read), summary(&whole));
        assert_eq!(read.errors, whole.errors);
        assert_eq!(read.unversioned, whole.unversioned);
    }
}
