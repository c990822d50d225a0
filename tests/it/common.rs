//! Shared helpers of the integration tests: a fresh temp project with a migrations folder
//! ([`Project`]), the real binary with a clean environment ([`schemagate`]), the real
//! database, real `git`, and the legacy manager fixture.

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
        copy_examples(&p.migrations());
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
        schemagate(self.path())
    }

    /// `schemagate <args> --db data/app.db`.
    pub fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd().args(args).args(["--db", "data/app.db"]).assert()
    }

    /// The same as a plain `std::process::Command`, for tests that spawn and kill.
    pub fn std_cmd(&self, args: &[&str]) -> StdCommand {
        self.std_cmd_of(StdCommand::new(bin()), args)
    }

    /// `program` (a wrapper that runs the binary, such as `setpriv` or `bash -c`) set up as
    /// [`Project::std_cmd`] sets up the binary: clean environment, project folder,
    /// `<args> --db data/app.db`.
    pub fn std_cmd_of(&self, mut program: StdCommand, args: &[&str]) -> StdCommand {
        clean_env(&mut program)
            .current_dir(self.path())
            .args(args)
            .args(["--db", "data/app.db"]);
        program
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

    /// The names in the database's folder, sorted.
    pub fn data_dir_names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.db().parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
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
    stdout_and_stderr(a.get_output())
}

/// stdout and stderr of a finished command, as one string (for message checks).
pub fn stdout_and_stderr(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
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

// ---------------------------------------------------------------------------------------
// Helpers for tests that do not need a whole `Project`.

/// The `schemagate` binary cargo built for these tests.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_schemagate"))
}

/// A clean environment for the binary: nothing from the `GITHUB_*`, `SCHEMAGATE_*` or
/// `RUNNER_TEMP` of the machine running the tests reaches it (a CI runner sets them, and
/// they change defaults), no colour, and a cache folder of the tests' own.
pub fn clean_env(cmd: &mut StdCommand) -> &mut StdCommand {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("GITHUB_") || k.starts_with("SCHEMAGATE_") || k == "RUNNER_TEMP" {
            cmd.env_remove(k);
        }
    }
    // The folder cache of `migrate` goes into the build's temporary folder, not the home
    // folder of whoever runs the tests.
    cmd.env(
        "XDG_CACHE_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
    )
    .env("NO_COLOR", "1")
}

/// `schemagate` run in `dir` with a clean environment ([`clean_env`]).
pub fn schemagate(dir: &Path) -> Command {
    let mut cmd = StdCommand::new(bin());
    clean_env(&mut cmd).current_dir(dir);
    Command::from_std(cmd)
}

/// `(exit code, stdout, stderr)` of a finished command (-1 when killed by a signal).
pub fn code_out_err(out: &std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the command and returns `(exit code, stdout, stderr)`.
pub fn run_cmd(cmd: &mut Command) -> (i32, String, String) {
    code_out_err(&cmd.output().unwrap())
}

/// Runs a `--format json` command: `(exit code, report, stderr)`; panics with both
/// streams when stdout is not JSON.
pub fn run_json(cmd: &mut Command) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run_cmd(cmd);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    (code, v, err)
}

/// The findings of a JSON report with the given rule.
pub fn findings<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// `git` in `dir` with a fixed identity and no user or system configuration; asserts
/// success and returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = StdCommand::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The legacy manager's history table, as it creates it.
pub const LEGACY_HISTORY: &str = "CREATE TABLE IF NOT EXISTS schema_versions (
    id INTEGER PRIMARY KEY,
    version TEXT UNIQUE NOT NULL,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    description TEXT,
    checksum TEXT
);";

/// Opens (creating it and its folder) a database holding the legacy history table.
pub fn legacy_db(path: &Path) -> Connection {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(LEGACY_HISTORY).unwrap();
    conn
}

/// Copies the repository's example migrations into `migrations` (created if missing).
pub fn copy_examples(migrations: &Path) {
    fs::create_dir_all(migrations).unwrap();
    for entry in fs::read_dir(examples_dir()).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            fs::copy(entry.path(), migrations.join(entry.file_name())).unwrap();
        }
    }
}

/// The first column of every row of `sql`, as strings.
pub fn query_strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut s = conn.prepare(sql).unwrap();
    s.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
