//! Shared helpers of the applier's integration tests: a temp project with a migrations
//! folder, the real binary, the real database, and the legacy manager fixture.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use rusqlite::Connection;

/// The repository's example migrations (SQL and Python).
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

pub fn legacy_manager() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legacy_manager.py")
}

/// A temporary project: `migrations/` and a database at `data/app.db`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("migrations")).unwrap();
        Project { dir }
    }

    /// A project holding a copy of the repository's example migrations.
    pub fn with_examples() -> Project {
        let p = Project::new();
        for entry in fs::read_dir(examples_dir()).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_file() {
                fs::copy(entry.path(), p.migrations().join(entry.file_name())).unwrap();
            }
        }
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn migrations(&self) -> PathBuf {
        self.path().join("migrations")
    }

    /// Writes (or replaces) a migration file.
    pub fn file(&self, name: &str, text: impl AsRef<[u8]>) -> &Project {
        fs::write(self.migrations().join(name), text).unwrap();
        self
    }

    pub fn remove(&self, name: &str) {
        fs::remove_file(self.migrations().join(name)).unwrap();
    }

    /// Writes `schemagate.toml`.
    pub fn config(&self, text: &str) -> &Project {
        fs::write(self.path().join("schemagate.toml"), text).unwrap();
        self
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("data/app.db")
    }

    pub fn backups(&self) -> PathBuf {
        self.path().join("data/backups")
    }

    /// `schemagate` run in the project folder, with a clean environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("schemagate").unwrap();
        cmd.current_dir(self.path())
            .env_remove("SCHEMAGATE_ENV")
            .env_remove("SCHEMAGATE_PYTHON")
            .env_remove("SCHEMAGATE_TEST_FAILPOINT")
            .env_remove("GITHUB_ACTIONS")
            .env("NO_COLOR", "1");
        cmd
    }

    /// `schemagate <args> --db data/app.db`.
    pub fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd().args(args).args(["--db", "data/app.db"]).assert()
    }

    /// The same as a plain `std::process::Command`, for tests that spawn and kill.
    pub fn std_cmd(&self, args: &[&str]) -> StdCommand {
        let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("schemagate"));
        cmd.current_dir(self.path())
            .args(args)
            .args(["--db", "data/app.db"])
            .env_remove("SCHEMAGATE_ENV")
            .env_remove("SCHEMAGATE_PYTHON")
            .env_remove("SCHEMAGATE_TEST_FAILPOINT")
            .env("NO_COLOR", "1");
        cmd
    }

    /// A connection that waits out another process's commit (a reader without a busy
    /// timeout fails at once with SQLITE_BUSY while a writer holds the pending lock).
    pub fn open(&self) -> Connection {
        let conn = Connection::open(self.db()).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        conn
    }

    /// `(version, checksum)` of every history row, in id order.
    pub fn rows(&self) -> Vec<(String, Option<String>)> {
        let conn = self.open();
        let mut s = conn
            .prepare("SELECT version, checksum FROM schema_versions ORDER BY id")
            .unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    pub fn versions(&self) -> Vec<String> {
        self.rows().into_iter().map(|(v, _)| v).collect()
    }

    pub fn tables(&self) -> Vec<String> {
        tables(&self.open())
    }

    /// Builds the database with the legacy manager fixture (optionally only up to a version).
    pub fn legacy_migrate(&self, up_to: Option<&str>) {
        fs::create_dir_all(self.db().parent().unwrap()).unwrap();
        let mut cmd = StdCommand::new("python3");
        cmd.arg(legacy_manager())
            .arg(self.db())
            .arg(self.migrations());
        if let Some(v) = up_to {
            cmd.arg(v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "legacy manager failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Backup files (not temporaries) in the default backup folder.
    pub fn backup_files(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.backups()) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "db"))
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        out.sort();
        out
    }
}

pub fn tables(conn: &Connection) -> Vec<String> {
    let mut s = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub fn integrity_ok(conn: &Connection) -> bool {
    conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .unwrap()
        == "ok"
}

/// stdout and stderr of an assert, as one string (for message checks).
pub fn output(a: &assert_cmd::assert::Assert) -> String {
    let o = a.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn json(a: &assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&a.get_output().stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&a.get_output().stdout)
        )
    })
}
