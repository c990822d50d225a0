//! Runs one Python migration in a child interpreter (the shell side of `.py` migrations).
//!
//! The runner script (`runner.py`, embedded with `include_str!`) owns the transaction: it
//! opens the database, runs `BEGIN IMMEDIATE`, calls `upgrade(conn)` (or `downgrade`) with a
//! connection whose `commit()`/`executescript()` cannot end the transaction, runs the
//! caller's record statements (the history row) in the same transaction and commits.
//! Nothing is committed unless all of it succeeded.
//!
//! Protocol: the job goes to the runner's stdin as one JSON line and the pipe then stays
//! open until the runner exits, so EOF tells the runner that schemagate died (it exits at
//! once; on Linux it also has `PR_SET_PDEATHSIG`, and it checks its parent right before
//! COMMIT). The runner's stdout carries JSON lines: `{"phase": "commit"}` just before
//! COMMIT (a timeout then waits for the COMMIT rather than leave its outcome unknown) and
//! the result, written last. The runner points the migration's own fd 1 and `sys.stdout`
//! at stderr, which comes back here as [`RunOutput::output`].
//!
//! The runner is started in its own process group so that a timeout kills it together with
//! anything the migration spawned; the killed transaction is rolled back by SQLite (hot
//! journal or WAL) the next time the database is opened.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::supervisor::{self, Grace, Output, Process, Stopped};
use crate::migration::Migration;

const RUNNER: &str = include_str!("runner.py");

/// The runner's source travels in an environment variable that the bootstrap removes
/// before the migration runs: `ps` then shows a short command line instead of the whole
/// script, and tracebacks name the runner's frames `<schemagate-runner>`.
const RUNNER_VAR: &str = "SCHEMAGATE_RUNNER_SOURCE";
/// Also refuses interpreters the runner was not written for, in syntax even Python 2 runs.
const BOOTSTRAP: &str = "import os, sys; src = os.environ.pop('SCHEMAGATE_RUNNER_SOURCE'); \
    sys.version_info >= (3, 6) or sys.exit('schemagate-runner: unsupported interpreter: Python 3.6 or newer is needed, this is ' + sys.version.split()[0]); \
    exec(compile(src, '<schemagate-runner>', 'exec'))";
/// What the runner writes on its result channel right before COMMIT.
const COMMITTING: &str = "{\"phase\": \"commit\"}";
const UNSUPPORTED: &str = "schemagate-runner: unsupported interpreter: ";

/// Most output kept from a migration; what follows is counted, not kept.
const OUTPUT_LIMIT: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    fn function(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// A statement the runner executes after the migration function, inside its transaction
/// (typically the history row). `params` are named parameters (`:version`); `:description`
/// is bound to the module's `DESCRIPTION` (as the legacy manager read it) unless the
/// caller passes `"description"` itself.
#[derive(Clone, Debug, Default)]
pub struct RecordStatement {
    pub sql: String,
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// One migration to run.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    /// Interpreter to run (`python3`, a path, or a name looked up in `PATH`).
    pub python: &'a str,
    /// The database; it must exist (the runner opens it read-write, never creates it).
    pub db_path: &'a Path,
    pub migration: &'a Migration,
    /// The migration file on disk (`migration.path` is only for display).
    pub file: &'a Path,
    pub direction: Direction,
    pub record: &'a [RecordStatement],
    /// `false` runs everything and then rolls back (dry runs).
    pub commit: bool,
    /// Extra environment for the interpreter, e.g. [`env_for`]`("prod")`.
    pub env: &'a [(String, String)],
    /// SQLite busy timeout of the runner's connection (`BEGIN IMMEDIATE` and `COMMIT` wait
    /// this long for other connections).
    pub busy_timeout: Duration,
    /// Kill the runner (and its process group) after this long.
    pub timeout: Option<Duration>,
}

/// What a successful run reports (the migration was committed when `job.commit`).
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The module's `DESCRIPTION`, or "Python Migration NNN".
    pub description: String,
    pub duration: Duration,
    /// Things the runner tolerated, with `file:line`: an ignored `conn.commit()`, a
    /// `BEGIN`/`COMMIT` skipped inside `executescript()`.
    pub warnings: Vec<String>,
    /// What the migration printed (stdout and stderr).
    pub output: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The interpreter could not be started (or is not a working Python 3).
    #[error("{message}")]
    NotFound { python: String, message: String },
    /// The migration failed and was rolled back. `line` is the line in the migration file
    /// (last traceback frame in it; for a missing `upgrade`, the `def` of `migrate` when
    /// that exists); the caller prefixes the file's path.
    #[error("{message}")]
    Failed {
        message: String,
        line: Option<usize>,
        traceback: String,
    },
    /// The runner was killed after the timeout; its transaction was rolled back.
    #[error(
        "the migration did not finish within {} and was killed; its transaction was rolled back (if it needs longer, raise --migration-timeout or [apply] migration_timeout)",
        seconds(*.0)
    )]
    Timeout(Duration),
    /// The runner died without reporting a result. Whether the migration was committed
    /// is unknown (it may have died after COMMIT): re-read the history table.
    #[error(
        "the Python runner exited unexpectedly ({status}) without reporting a result; check the history table to see whether the migration was recorded{}",
        stderr_tail(stderr)
    )]
    Crashed { status: String, stderr: String },
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn stderr_tail(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = trimmed.lines().collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    format!("\n{}", tail.join("\n"))
}

/// `SCHEMAGATE_ENV` and `ENV` set to the environment name: legacy migrations branch on
/// `os.environ["ENV"]`.
pub fn env_for(name: &str) -> Vec<(String, String)> {
    vec![
        ("SCHEMAGATE_ENV".to_string(), name.to_string()),
        ("ENV".to_string(), name.to_string()),
    ]
}

fn not_found(python: &str, why: impl std::fmt::Display) -> Error {
    Error::NotFound {
        python: python.to_string(),
        message: format!(
            "{python}: {why}; the Python migrations need Python 3: install python3 or pass --python PATH (or set SCHEMAGATE_PYTHON)"
        ),
    }
}

/// Checks that `python` runs and has `sqlite3`; returns e.g. "Python 3.11.7, SQLite 3.40.1".
pub fn check_available(python: &str) -> Result<String, Error> {
    let mut command = Command::new(python);
    command.args([
        "-c",
        "import sys, sqlite3; print('Python %s, SQLite %s' % (sys.version.split()[0], sqlite3.sqlite_version)) if sys.version_info >= (3, 6) else sys.exit('Python 3.6 or newer is needed, this is ' + sys.version.split()[0])",
    ]);
    let mut child = supervisor::spawn(command, OUTPUT_LIMIT).map_err(|e| not_found(python, e))?;
    child.send_and_close(Vec::new());
    let status = child.wait(None, None).map_err(|e| not_found(python, e))?;
    let output = child.finish();
    if !status.success() {
        let why = output
            .stderr
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        let why = if why.is_empty() {
            format!("not a working Python 3 with sqlite3 ({status})")
        } else {
            format!("not a working Python 3 with sqlite3 ({why})")
        };
        return Err(not_found(python, why));
    }
    Ok(output.stdout.trim().to_string())
}

#[derive(Deserialize)]
struct RunnerResult {
    ok: bool,
    #[serde(default)]
    description: String,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    traceback: String,
}

/// Runs the migration's `upgrade(conn)` or `downgrade(conn)` and the record statements in
/// one transaction, committed only when all succeeded (and `job.commit`).
pub fn run(job: &Job) -> Result<RunOutput, Error> {
    let started = Instant::now();
    let request = request_json(job)?;
    let grace = job.busy_timeout + Duration::from_secs(10);
    let (result, output) = execute(job.python, job.env, &request, job.timeout, Some(grace))?;
    Ok(RunOutput {
        description: result.description,
        duration: started.elapsed(),
        warnings: result.warnings,
        output,
    })
}

/// Imports the migration the way [`run`] does, without a database, and checks that it
/// defines `upgrade(conn)` (or `downgrade(conn)`): syntax and import errors and a missing
/// function are found before anything is locked or backed up. Returns the `DESCRIPTION`
/// the history row will get. Importing runs the module's top-level code, as the legacy
/// manager's import did.
pub fn validate(
    python: &str,
    migration: &Migration,
    file: &Path,
    direction: Direction,
    env: &[(String, String)],
    timeout: Option<Duration>,
) -> Result<String, Error> {
    let mut request = serde_json::Map::new();
    request.insert("db".into(), serde_json::Value::Null);
    request.insert("file".into(), utf8_path(file)?.into());
    request.insert("display".into(), migration.path.clone().into());
    request.insert("version".into(), migration.version.as_str().into());
    request.insert("direction".into(), direction.function().into());
    request.insert("commit".into(), false.into());
    request.insert("busy_timeout".into(), 0.into());
    request.insert("parent_pid".into(), std::process::id().into());
    let request = format!("{}\n", serde_json::Value::Object(request));
    let (result, _) = execute(python, env, &request, timeout, None)?;
    Ok(result.description)
}

/// Starts the runner with `request`, waits for it and reads its result: `Ok` only for a
/// runner that reported success. A runner still committing at the timeout gets
/// `commit_grace` more.
fn execute(
    python: &str,
    env: &[(String, String)],
    request: &str,
    timeout: Option<Duration>,
    commit_grace: Option<Duration>,
) -> Result<(RunnerResult, String), Error> {
    let mut command = Command::new(python);
    // -B: importing the migration must not leave __pycache__ in the migrations folder.
    command
        .args(["-B", "-c", BOOTSTRAP])
        .env(RUNNER_VAR, RUNNER)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut runner = supervisor::spawn(command, OUTPUT_LIMIT).map_err(|e| not_found(python, &e))?;
    // A write error means the runner is already gone; its exit status tells why. Stdin
    // then stays open until the runner exits: its EOF is the runner's "parent died".
    let _ = runner.send(request.as_bytes());

    let committing = |p: &Process| p.stdout().contains(COMMITTING);
    let grace = commit_grace.map(|extra| Grace {
        extra,
        applies: &committing,
    });
    let status = match runner.wait(timeout, grace) {
        Ok(status) => status,
        Err(Stopped::TimedOut) => return Err(Error::Timeout(timeout.unwrap_or_default())),
        Err(Stopped::KilledInGrace) => {
            return Err(Error::Crashed {
                status: "killed after the timeout while it was committing".to_string(),
                stderr: runner.finish().stderr,
            });
        }
        Err(Stopped::Failed(err)) => {
            return Err(Error::Crashed {
                status: format!("cannot wait for the runner: {err}"),
                stderr: String::new(),
            });
        }
    };
    let Output {
        stdout,
        stderr: output,
        ..
    } = runner.finish();

    let result = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<RunnerResult>(l).ok());
    match result {
        Some(r) if r.ok => Ok((r, output)),
        Some(r) => Err(Error::Failed {
            message: r.message,
            line: r.line,
            traceback: r.traceback,
        }),
        None if output.contains(UNSUPPORTED) => {
            let why = output
                .lines()
                .find_map(|l| l.strip_prefix(UNSUPPORTED))
                .unwrap_or("not Python 3.6 or newer");
            Err(not_found(python, why))
        }
        None => Err(Error::Crashed {
            status: supervisor::describe(status),
            stderr: output,
        }),
    }
}

fn utf8_path(p: &Path) -> Result<&str, Error> {
    p.to_str().ok_or_else(|| Error::Failed {
        message: format!(
            "{}: the path is not valid UTF-8, which the Python runner cannot be given; rename it",
            p.display()
        ),
        line: None,
        traceback: String::new(),
    })
}

fn request_json(job: &Job) -> Result<String, Error> {
    let record: Vec<serde_json::Value> = job
        .record
        .iter()
        .map(|r| {
            let mut statement = serde_json::Map::new();
            statement.insert("sql".into(), r.sql.clone().into());
            statement.insert("params".into(), r.params.clone().into());
            serde_json::Value::Object(statement)
        })
        .collect();
    let mut request = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| {
        request.insert(key.to_string(), value);
    };
    put("db", utf8_path(job.db_path)?.into());
    put("file", utf8_path(job.file)?.into());
    put("display", job.migration.path.clone().into());
    put("version", job.migration.version.as_str().into());
    put("direction", job.direction.function().into());
    put("record", record.into());
    put("commit", job.commit.into());
    put("busy_timeout", job.busy_timeout.as_secs_f64().into());
    put("parent_pid", std::process::id().into());
    Ok(format!("{}\n", serde_json::Value::Object(request)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::{Migration, parse_file_name};
    use rusqlite::Connection;
    use std::path::PathBuf;

    /// `SCHEMAGATE_TEST_PYTHON` runs the tests against another interpreter.
    fn python() -> String {
        std::env::var("SCHEMAGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
    }

    const HISTORY: &str = "CREATE TABLE schema_versions (
        id INTEGER PRIMARY KEY, version TEXT UNIQUE NOT NULL,
        applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, description TEXT, checksum TEXT);
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
        INSERT INTO users (name) VALUES ('ada');";

    struct Fixture {
        dir: tempfile::TempDir,
        db: PathBuf,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("app.db");
            Connection::open(&db)
                .unwrap()
                .execute_batch(HISTORY)
                .unwrap();
            std::fs::create_dir(dir.path().join("migrations")).unwrap();
            Fixture { dir, db }
        }

        fn write(&self, name: &str, text: &str) -> (Migration, PathBuf) {
            let path = self.dir.path().join("migrations").join(name);
            std::fs::write(&path, text).unwrap();
            let parsed = parse_file_name(name).unwrap();
            let m = Migration::new("migrations", parsed, name, text.as_bytes()).unwrap();
            (m, path)
        }

        fn run_with(
            &self,
            name: &str,
            text: &str,
            direction: Direction,
            commit: bool,
            env: &[(String, String)],
        ) -> Result<RunOutput, Error> {
            let (m, path) = self.write(name, text);
            let record = [record_row(&m)];
            run(&Job {
                python: &python(),
                db_path: &self.db,
                migration: &m,
                file: &path,
                direction,
                record: &record,
                commit,
                env,
                busy_timeout: Duration::from_secs(2),
                timeout: Some(Duration::from_secs(60)),
            })
        }

        fn run(&self, name: &str, text: &str) -> Result<RunOutput, Error> {
            self.run_with(name, text, Direction::Upgrade, true, &[])
        }

        /// Runs an empty migration with `python`, recording nothing.
        fn run_in(&self, python: &str, name: &str) -> Result<RunOutput, Error> {
            let (m, path) = self.write(name, "def upgrade(conn):\n    pass\n");
            run(&Job {
                python,
                db_path: &self.db,
                migration: &m,
                file: &path,
                direction: Direction::Upgrade,
                record: &[],
                commit: true,
                env: &[],
                busy_timeout: Duration::from_secs(1),
                timeout: None,
            })
        }

        fn query(&self, sql: &str) -> Vec<String> {
            let conn = Connection::open(&self.db).unwrap();
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        }

        fn versions(&self) -> Vec<String> {
            self.query("SELECT version FROM schema_versions ORDER BY id")
        }

        fn tables(&self) -> Vec<String> {
            self.query("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")
        }

        fn user_columns(&self) -> Vec<String> {
            self.query("SELECT name FROM pragma_table_info('users')")
        }
    }

    fn record_row(m: &Migration) -> RecordStatement {
        let mut params = serde_json::Map::new();
        params.insert("version".into(), m.version.as_str().into());
        params.insert("checksum".into(), m.checksum.clone().into());
        RecordStatement {
            sql: "INSERT INTO schema_versions(version, description, checksum) \
                  VALUES (:version, :description, :checksum)"
                .into(),
            params,
        }
    }

    fn failed(result: Result<RunOutput, Error>) -> (String, Option<usize>, String) {
        match result {
            Err(Error::Failed {
                message,
                line,
                traceback,
            }) => (message, line, traceback),
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn success_records_the_row_and_returns_the_description() {
        let f = Fixture::new();
        let out = f
            .run(
                "002_add_email.py",
                "DESCRIPTION = 'Add email'\n\ndef upgrade(conn):\n    print('adding email')\n    conn.execute('ALTER TABLE users ADD COLUMN email TEXT')\n    conn.commit()\n",
            )
            .unwrap();
        assert_eq!(out.description, "Add email");
        assert!(out.output.contains("adding email"), "{}", out.output);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].starts_with("002_add_email.py:6: conn.commit() ignored"));
        assert_eq!(f.versions(), ["002"]);
        assert!(f.user_columns().contains(&"email".to_string()));
        assert_eq!(
            f.query("SELECT description FROM schema_versions"),
            ["Add email"]
        );
    }

    #[test]
    fn description_defaults_like_the_legacy_manager() {
        let f = Fixture::new();
        let out = f.run("007_x.py", "def upgrade(conn):\n    pass\n").unwrap();
        assert_eq!(out.description, "Python Migration 007");
        assert_eq!(
            f.query("SELECT description FROM schema_versions"),
            ["Python Migration 007"]
        );
    }

    #[test]
    fn commit_and_executescript_then_raise_leaves_nothing() {
        let f = Fixture::new();
        let (message, line, traceback) = failed(f.run(
            "003_bad.py",
            "def upgrade(conn):\n    conn.execute('ALTER TABLE users ADD COLUMN email TEXT')\n    conn.execute(\"UPDATE users SET name = 'changed'\")\n    conn.commit()\n    conn.executescript('CREATE TABLE audit (id INTEGER); INSERT INTO audit VALUES (1);')\n    conn.cursor().executescript('CREATE TABLE audit2 (id INTEGER);')\n    raise RuntimeError('boom')\n",
        ));
        assert_eq!(message, "RuntimeError: boom");
        assert_eq!(line, Some(7));
        assert!(traceback.contains("003_bad.py\", line 7"), "{traceback}");
        assert!(f.versions().is_empty());
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(!f.user_columns().contains(&"email".to_string()));
        assert_eq!(f.query("SELECT name FROM users"), ["ada"]);
    }

    #[test]
    fn executescript_runs_inside_the_transaction_and_skips_begin_commit() {
        let f = Fixture::new();
        let out = f
            .run(
                "004_script.py",
                "def upgrade(conn):\n    conn.executescript('''\n        BEGIN;\n        CREATE TABLE t (x TEXT); -- a comment; with a semicolon\n        INSERT INTO t VALUES ('a;b');\n        CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n            INSERT INTO users(name) VALUES ('trig');\n        END;\n        COMMIT;\n    ''')\n",
            )
            .unwrap();
        assert_eq!(f.query("SELECT x FROM t"), ["a;b"]);
        assert_eq!(f.versions(), ["004"]);
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("BEGIN inside executescript() skipped"));
    }

    #[test]
    fn raw_commit_statement_fails_clearly_and_nothing_persists() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "005_commit.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    conn.execute('COMMIT')\n",
        ));
        assert!(
            message.contains("the migration ran COMMIT itself"),
            "{message}"
        );
        assert!(message.contains("not authorized"), "{message}");
        assert_eq!(line, Some(3));
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn rollback_aborts_the_migration_even_when_caught() {
        let f = Fixture::new();
        let (message, _, _) = failed(f.run(
            "006_rb.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    try:\n        conn.rollback()\n    except Exception:\n        pass\n    conn.execute('CREATE TABLE u (x)')\n",
        ));
        assert!(message.contains("conn.rollback()"), "{message}");
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn with_conn_block_keeps_working() {
        let f = Fixture::new();
        f.run(
            "008_with.py",
            "def upgrade(conn):\n    with conn:\n        conn.execute('CREATE TABLE t (x)')\n",
        )
        .unwrap();
        assert_eq!(f.tables(), ["schema_versions", "t", "users"]);
    }

    #[test]
    fn syntax_error_reports_its_line() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "009_syntax.py",
            "DESCRIPTION = 'x'\n\ndef upgrade(conn)\n    pass\n",
        ));
        assert!(message.starts_with("SyntaxError:"), "{message}");
        assert_eq!(line, Some(3));
        assert!(f.versions().is_empty());
    }

    #[test]
    fn import_error_reports_the_import_line() {
        let f = Fixture::new();
        let (message, line, traceback) = failed(f.run(
            "010_import.py",
            "import os\nimport no_such_module_here\n\ndef upgrade(conn):\n    pass\n",
        ));
        assert!(message.contains("ModuleNotFoundError"), "{message}");
        assert!(message.contains("no_such_module_here"), "{message}");
        assert_eq!(line, Some(2));
        assert!(traceback.contains("010_import.py"), "{traceback}");
    }

    #[test]
    fn sibling_helper_modules_import() {
        let f = Fixture::new();
        std::fs::write(
            f.dir.path().join("migrations/helpers.py"),
            "def add(conn):\n    conn.execute('CREATE TABLE from_helper (x)')\n",
        )
        .unwrap();
        f.run(
            "011_helper.py",
            "import helpers\n\ndef upgrade(conn):\n    helpers.add(conn)\n",
        )
        .unwrap();
        assert!(f.tables().contains(&"from_helper".to_string()));
        // -B: no bytecode left in the user's folder.
        assert!(!f.dir.path().join("migrations/__pycache__").exists());
    }

    #[test]
    fn missing_upgrade_names_the_file_and_hints_at_migrate() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "012_old.py",
            "DESCRIPTION = 'old style'\n\n\ndef migrate(conn):\n    pass\n",
        ));
        assert_eq!(
            message,
            "migrations/012_old.py defines migrate() but no upgrade(conn): rename migrate to upgrade(conn)"
        );
        assert_eq!(line, Some(4));
        let (message, line, _) = failed(f.run("013_none.py", "X = 1\n"));
        assert_eq!(
            message,
            "migrations/013_none.py defines no upgrade(conn) function"
        );
        assert_eq!(line, None);
        let (message, _, _) = failed(f.run_with(
            "014_up.py",
            "def upgrade(conn):\n    pass\n\ndef rollback(conn):\n    pass\n",
            Direction::Downgrade,
            true,
            &[],
        ));
        assert!(
            message.contains("defines rollback() but no downgrade(conn)"),
            "{message}"
        );
    }

    #[test]
    fn traceback_line_points_into_the_migration_file_not_the_helper() {
        let f = Fixture::new();
        let (message, line, traceback) = failed(f.run(
            "015_deep.py",
            "def helper(conn):\n    conn.execute('SELECT * FROM no_such_table')\n\n\ndef upgrade(conn):\n    helper(conn)\n",
        ));
        assert_eq!(
            message,
            "sqlite3.OperationalError: no such table: no_such_table"
        );
        assert_eq!(line, Some(2));
        assert!(
            !traceback.contains("<string>"),
            "runner frames shown: {traceback}"
        );
    }

    #[test]
    fn commit_false_leaves_nothing_even_on_success() {
        let f = Fixture::new();
        let out = f
            .run_with(
                "016_dry.py",
                "DESCRIPTION = 'dry'\ndef upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n",
                Direction::Upgrade,
                false,
                &[],
            )
            .unwrap();
        assert_eq!(out.description, "dry");
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn environment_name_is_visible_as_env_and_schemagate_env() {
        let f = Fixture::new();
        f.run_with(
            "017_env.py",
            "import os\ndef upgrade(conn):\n    conn.execute('CREATE TABLE env (a, b)')\n    conn.execute('INSERT INTO env VALUES (?, ?)', (os.environ['ENV'], os.environ['SCHEMAGATE_ENV']))\n",
            Direction::Upgrade,
            true,
            &env_for("prod"),
        )
        .unwrap();
        assert_eq!(f.query("SELECT a || ',' || b FROM env"), ["prod,prod"]);
    }

    #[test]
    fn downgrade_runs_with_the_same_guarantees() {
        let f = Fixture::new();
        let text = "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n\ndef downgrade(conn):\n    conn.execute('DROP TABLE t')\n    conn.commit()\n    raise ValueError('no')\n";
        f.run("018_t.py", text).unwrap();
        let (m, path) = f.write("018_t.py", text);
        let mut params = serde_json::Map::new();
        params.insert("version".into(), "018".into());
        let delete = [RecordStatement {
            sql: "DELETE FROM schema_versions WHERE version = :version".into(),
            params,
        }];
        let job = Job {
            python: &python(),
            db_path: &f.db,
            migration: &m,
            file: &path,
            direction: Direction::Downgrade,
            record: &delete,
            commit: true,
            env: &[],
            busy_timeout: Duration::from_secs(2),
            timeout: None,
        };
        let (message, line, _) = failed(run(&job));
        assert_eq!(message, "ValueError: no");
        assert_eq!(line, Some(7));
        assert_eq!(f.tables(), ["schema_versions", "t", "users"]);
        assert_eq!(f.versions(), ["018"]);

        let fixed = text.replace("    raise ValueError('no')\n", "");
        let (m, path) = f.write("018_t.py", &fixed);
        run(&Job {
            migration: &m,
            file: &path,
            ..job
        })
        .unwrap();
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn a_second_connection_inside_upgrade_gets_an_explanation() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run_with(
            "019_own.py",
            "import os, sqlite3\ndef upgrade(conn):\n    own = sqlite3.connect(os.environ['DB'], timeout=0.2)\n    own.execute('CREATE TABLE t (x)')\n",
            Direction::Upgrade,
            true,
            &[("DB".to_string(), f.db.display().to_string())],
        ));
        assert!(message.contains("database is locked"), "{message}");
        assert!(message.contains("opened its own connection"), "{message}");
        assert_eq!(line, Some(4));
    }

    #[test]
    fn missing_interpreter_is_not_found_with_a_hint() {
        let err = Fixture::new()
            .run_in("/nonexistent/python3", "020_x.py")
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("/nonexistent/python3: not found"), "{text}");
        assert!(text.contains("install python3 or pass --python"), "{text}");
        assert!(matches!(
            check_available("/nonexistent/python3"),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn check_available_reports_versions_and_rejects_non_python() {
        let version = check_available(&python()).unwrap();
        assert!(version.starts_with("Python 3."), "{version}");
        assert!(version.contains("SQLite 3."), "{version}");
        let err = check_available("false").unwrap_err();
        assert!(err.to_string().contains("not a working Python 3"), "{err}");
    }

    /// Needs a Python 2 (`SCHEMAGATE_TEST_PYTHON2`, or pyenv's 2.7 where installed); does
    /// nothing without one.
    #[test]
    fn python2_is_refused_with_the_version_needed() {
        let python2 = std::env::var("SCHEMAGATE_TEST_PYTHON2")
            .unwrap_or_else(|_| "/root/.pyenv/versions/2.7.18/bin/python".to_string());
        if !Path::new(&python2).exists() {
            return;
        }
        let err = check_available(&python2).unwrap_err();
        assert!(err.to_string().contains("3.6 or newer is needed"), "{err}");
        let err = Fixture::new().run_in(&python2, "021_x.py").unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("Python 3.6 or newer is needed, this is 2.7"),
            "{text}"
        );
        assert!(text.contains("install python3 or pass --python"), "{text}");
    }

    #[test]
    fn validate_imports_without_a_database() {
        let f = Fixture::new();
        let (m, path) = f.write(
            "022_ok.py",
            "DESCRIPTION = 'Computed ' + 'at import'\ndef upgrade(conn):\n    pass\n",
        );
        let description = validate(&python(), &m, &path, Direction::Upgrade, &[], None).unwrap();
        assert_eq!(description, "Computed at import");

        let (m, path) = f.write("023_bad.py", "def upgrade(conn):\n    x = (\n");
        match validate(&python(), &m, &path, Direction::Upgrade, &[], None) {
            Err(Error::Failed { message, line, .. }) => {
                assert!(message.starts_with("SyntaxError: "), "{message}");
                assert!(line.is_some());
            }
            other => panic!("expected Failed, got {other:?}"),
        }

        let (m, path) = f.write("024_up_only.py", "def upgrade(conn):\n    pass\n");
        let err = validate(&python(), &m, &path, Direction::Downgrade, &[], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "migrations/024_up_only.py defines no downgrade(conn) function"
        );
        assert!(f.versions().is_empty());
    }

    #[test]
    fn close_is_ignored_with_a_warning() {
        let f = Fixture::new();
        let out = f
            .run(
                "025_close.py",
                "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    conn.close()\n",
            )
            .unwrap();
        assert_eq!(
            out.warnings,
            ["025_close.py:3: conn.close() ignored: schemagate closes the connection"]
        );
        assert_eq!(f.versions(), ["025"]);
    }

    #[test]
    fn executescript_error_half_way_leaves_nothing_even_when_caught() {
        // sqlite3's own executescript() would have committed the first statements.
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "026_half.py",
            "import sqlite3\ndef upgrade(conn):\n    try:\n        conn.executescript('CREATE TABLE a (x); INSERT INTO nope VALUES (1); CREATE TABLE b (x);')\n    except sqlite3.OperationalError:\n        pass\n    raise RuntimeError('after the script')\n",
        ));
        assert_eq!(message, "RuntimeError: after the script");
        assert_eq!(line, Some(7));
        assert_eq!(f.tables(), ["schema_versions", "users"]);
    }

    #[test]
    fn a_caught_with_conn_failure_or_script_rollback_still_aborts() {
        let f = Fixture::new();
        let (message, _, _) = failed(f.run(
            "027_with.py",
            "def upgrade(conn):\n    try:\n        with conn:\n            conn.execute('CREATE TABLE t (x)')\n            raise KeyError('k')\n    except KeyError:\n        pass\n",
        ));
        assert!(
            message.contains("a `with conn:` block ended with KeyError"),
            "{message}"
        );
        let (message, line, _) = failed(f.run(
            "028_script.py",
            "def upgrade(conn):\n    conn.executescript('CREATE TABLE t (x); ROLLBACK;')\n",
        ));
        assert!(
            message.starts_with("ROLLBACK inside executescript()"),
            "{message}"
        );
        assert_eq!(line, Some(2));
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }
}
