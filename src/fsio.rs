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
        let is_file = entry
            .file_type()
            .map(|t| t.is_file() || t.is_symlink())
            .unwrap_or(false);
        if is_file && entry.path().is_file() {
            names.push(name);
        }
    }
    let mut contents = Vec::with_capacity(names.len());
    for name in &names {
        let bytes = if migration::parse_file_name(name).is_some() {
            let path = dir.join(name);
            fs::read(&path).with_context(|| {
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
