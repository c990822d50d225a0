//! File-system helpers of the shell: reading the migrations folder and writing files
//! atomically (temporary name in the same folder, fsync, rename, fsync of the folder).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::config::{Config, FILE_NAME};
use crate::migration::{self, Discovery};

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

/// Lists the folder and reads every file whose name makes it a migration.
pub fn read_migrations_dir(dir: &Path, dir_display: &str) -> anyhow::Result<Discovery> {
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
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // a non-UTF-8 name cannot match the migration pattern
        };
        // The listing's own file type, without a stat per file; a symlink is followed.
        let is_file = match entry.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_symlink() => entry.path().is_file(),
            _ => false,
        };
        if is_file {
            names.push(name);
        }
    }
    // Reading and hashing every file is most of a no-op `migrate`: a large folder is read
    // on the available cores, each thread reading and decoding a contiguous share of the
    // listing (the result does not depend on the split: discovery sorts).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let share = names.len().div_ceil(threads).max(PARALLEL_SHARE);
    let mut shares = names.chunks(share);
    let first = shares.next().unwrap_or_default();
    let parts = std::thread::scope(|s| -> anyhow::Result<Vec<Discovery>> {
        let others: Vec<_> = shares
            .map(|chunk| s.spawn(move || read_share(dir, dir_display, chunk)))
            .collect();
        let mut parts = vec![read_share(dir, dir_display, first)?];
        for handle in others {
            parts.push(
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
            );
        }
        Ok(parts)
    })?;
    Ok(Discovery::merge(parts))
}

/// Fewer files than this per thread are read faster than a thread starts.
const PARALLEL_SHARE: usize = 128;

/// Reads the migrations among `names` and discovers them.
fn read_share(dir: &Path, dir_display: &str, names: &[String]) -> anyhow::Result<Discovery> {
    let mut contents = Vec::with_capacity(names.len());
    let mut chunk = vec![0u8; 64 * 1024];
    let folder = Folder::open(dir);
    for name in names {
        let bytes = if migration::parse_file_name(name).is_some() {
            read_file(folder.file(dir, name), &mut chunk).with_context(|| {
                format!("cannot read {}", migration::join_display(dir_display, name))
            })?
        } else {
            Vec::new()
        };
        contents.push(bytes);
    }
    Ok(migration::discover(
        dir_display,
        names
            .iter()
            .map(String::as_str)
            .zip(contents.iter().map(Vec::as_slice)),
    ))
}

/// The migrations folder, held open so that each file is opened by its name in it
/// (`openat`) rather than by a path walked from the working directory each time.
struct Folder(Option<fs::File>);

impl Folder {
    fn open(dir: &Path) -> Folder {
        Folder(if cfg!(unix) {
            fs::File::open(dir).ok()
        } else {
            None
        })
    }

    fn file(&self, dir: &Path, name: &str) -> std::io::Result<fs::File> {
        #[cfg(unix)]
        if let Some(folder) = &self.0 {
            use std::os::fd::{AsRawFd, FromRawFd};
            let name = std::ffi::CString::new(name)?;
            // SAFETY: both the folder's descriptor and the NUL-terminated name are valid
            // for the call; a descriptor it returns is owned by the File made from it.
            let fd = unsafe {
                libc::openat(
                    folder.as_raw_fd(),
                    name.as_ptr(),
                    libc::O_RDONLY | libc::O_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            return Ok(unsafe { fs::File::from_raw_fd(fd) });
        }
        fs::File::open(dir.join(name))
    }
}

/// The whole file, read through `chunk` until EOF: `fs::read` would first `stat` it for its
/// size, a thousand extra system calls for a thousand small migrations.
fn read_file(file: std::io::Result<fs::File>, chunk: &mut [u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = file?;
    let mut bytes = Vec::new();
    loop {
        match file.read(chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
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
