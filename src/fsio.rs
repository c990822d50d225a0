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
    let listing = |d: &Path| -> anyhow::Result<Vec<fs::DirEntry>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(d).with_context(|| format!("cannot list {}", d.display()))? {
            out.push(entry.with_context(|| format!("cannot list {}", d.display()))?);
        }
        Ok(out)
    };
    let display = |name: &str| migration::join_display(dir_display, name);
    let mut entries = Vec::new();
    for entry in listing(dir)? {
        let name = match entry.file_name().into_string() {
            Ok(name) => name,
            Err(raw) => {
                entries.push(FolderEntry::NonUtf8Name {
                    lossy: raw.to_string_lossy().into_owned(),
                });
                continue;
            }
        };
        if !names::looks_like_migration(&name) {
            entries.push(FolderEntry::File {
                name,
                bytes: Vec::new(),
            });
            continue;
        }
        let path = entry.path();
        match read_entry(&path) {
            Read::File(bytes) => {
                let bytes = bytes.with_context(|| format!("cannot read {}", display(&name)))?;
                entries.push(FolderEntry::File { name, bytes });
            }
            Read::Folder => {
                let mut files = Vec::new();
                for inner in listing(&path)? {
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
                        Read::Folder => entries.push(FolderEntry::Unreadable {
                            name: shown,
                            what: "a folder".into(),
                        }),
                        Read::Odd(what) => {
                            entries.push(FolderEntry::Unreadable { name: shown, what })
                        }
                    }
                }
                entries.push(FolderEntry::Folder { name, files });
            }
            Read::Odd(what) => entries.push(FolderEntry::Unreadable { name, what }),
        }
    }
    Ok(migration::discover_folder(dir_display, layout, entries))
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
