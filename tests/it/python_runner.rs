//! The Python runner against the real `python3` and real SQLite files: timeouts, a killed
//! parent, crashes, output handling and locks. The migrate command is not in this file's
//! scope; where a parent process is needed, this test binary re-invokes itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use schemagate::migration::{Migration, parse_file_name};
use schemagate::pyrunner::{self, Direction, Error, Job, RecordStatement, RunOutput};

use crate::common::legacy_db;

/// The application's own table and row, created beside the legacy history table.
const SCHEMA: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
    INSERT INTO users (name) VALUES ('ada');";

/// `SCHEMAGATE_TEST_PYTHON` runs the tests against another interpreter.
fn python() -> String {
    std::env::var("SCHEMAGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Set in the child when this binary is re-invoked as the "schemagate" parent.
const PARENT_DIR_VAR: &str = "SCHEMAGATE_TEST_PYTHON_PARENT_DIR";

struct Fixture {
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let f = Fixture {
            dir: tmp.path().to_path_buf(),
            _tmp: Some(tmp),
        };
        legacy_db(&f.db()).execute_batch(SCHEMA).unwrap();
        std::fs::create_dir(f.dir.join("migrations")).unwrap();
        f
    }

    /// A fixture whose folder another process made (and removes).
    fn existing(dir: &Path) -> Fixture {
        Fixture {
            dir: dir.to_path_buf(),
            _tmp: None,
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.join("app.db")
    }

    fn marker(&self) -> PathBuf {
        self.dir.join("marker")
    }

    fn migration(&self, name: &str, text: &str) -> (Migration, PathBuf) {
        let path = self.dir.join("migrations").join(name);
        std::fs::write(&path, text).unwrap();
        let m = Migration::new(
            "migrations",
            parse_file_name(name).unwrap(),
            name,
            text.as_bytes(),
        )
        .unwrap();
        (m, path)
    }

    fn run(
        &self,
        name: &str,
        text: &str,
        timeout: Option<Duration>,
        busy: Duration,
    ) -> Result<RunOutput, Error> {
        let (m, path) = self.migration(name, text);
        let record = [record_row(&m)];
        let db = self.db();
        let env = [("MARKER".to_string(), self.marker().display().to_string())];
        pyrunner::run(&Job {
            python: &python(),
            db_path: &db,
            migration: &m,
            file: &path,
            direction: Direction::Upgrade,
            record: &record,
            commit: true,
            env: &env,
            busy_timeout: busy,
            timeout,
        })
    }

    fn query(&self, sql: &str) -> Vec<String> {
        let conn = Connection::open(self.db()).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// Nothing of a migration is left: the history, the tables and the data as set up.
    fn assert_untouched(&self) {
        assert!(
            self.query("SELECT version FROM schema_versions").is_empty(),
            "a history row was committed"
        );
        assert_eq!(
            self.query("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name"),
            ["schema_versions", "users"]
        );
        assert_eq!(self.query("SELECT name FROM users"), ["ada"]);
        assert_eq!(self.query("PRAGMA integrity_check"), ["ok"]);
    }

    /// Waits for the migration to write its marker (pids, one per line).
    fn wait_for_marker(&self) -> Vec<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(text) = std::fs::read_to_string(self.marker())
                && text.ends_with('\n')
            {
                return text.lines().map(|l| l.trim().parse().unwrap()).collect();
            }
            assert!(
                Instant::now() < deadline,
                "the migration never wrote its marker"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
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

/// A process that has exited (a zombie nobody reaped counts as gone: it holds no lock and
/// runs no code).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Liveness bound, not a performance assertion: the process must go away at all.
fn wait_gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    gone(pid)
}

/// Writes the runner's pid (and the pid of a `sleep` it started) to $MARKER, after a
/// change that must never be committed, then hangs.
const HANGING_MIGRATION: &str = r#"DESCRIPTION = "hangs"
import os, subprocess, time

def upgrade(conn):
    conn.execute("ALTER TABLE users ADD COLUMN email TEXT")
    conn.execute("CREATE TABLE half (x)")
    conn.execute("UPDATE users SET name = 'changed'")
    conn.commit()
    helper = subprocess.Popen(["sleep", "3600"])
    tmp = os.environ["MARKER"] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n%d\n" % (os.getpid(), helper.pid))
    os.rename(tmp, os.environ["MARKER"])
    time.sleep(3600)
"#;

#[test]
fn timeout_kills_a_hanging_migration_and_its_children_and_nothing_persists() {
    let f = Fixture::new();
    let err = f
        .run(
            "003_hang.py",
            HANGING_MIGRATION,
            Some(Duration::from_secs(2)),
            Duration::from_secs(1),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_secs(2)),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("did not finish within 2 s"),
        "{err}"
    );
    let pids = f.wait_for_marker();
    for pid in pids {
        assert!(wait_gone(pid), "process {pid} survived the timeout");
    }
    f.assert_untouched();
}

#[test]
fn timeout_in_wal_mode_rolls_back_too() {
    let f = Fixture::new();
    Connection::open(f.db())
        .unwrap()
        .pragma_update(None, "journal_mode", "wal")
        .unwrap();
    let err = f
        .run(
            "003_hang.py",
            HANGING_MIGRATION,
            Some(Duration::from_secs(2)),
            Duration::from_secs(1),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    f.assert_untouched();
}

/// The other half of `killed_parent_takes_the_runner_down`: when re-invoked with
/// PARENT_DIR_VAR set, this process plays schemagate and runs the hanging migration.
/// Without the variable it does nothing.
#[test]
fn parent_process_for_kill_test() {
    let Ok(dir) = std::env::var(PARENT_DIR_VAR) else {
        return;
    };
    let f = Fixture::existing(Path::new(&dir));
    let result = f.run(
        "003_hang.py",
        HANGING_MIGRATION,
        None,
        Duration::from_secs(1),
    );
    panic!("the runner should have hung until this process was killed: {result:?}");
}

#[test]
fn killed_parent_takes_the_runner_down_and_nothing_is_committed() {
    let f = Fixture::new();
    // The harness knows the test by its path below the crate root (`it::`).
    let (_, module) = module_path!().split_once("::").unwrap();
    let test = format!("{module}::parent_process_for_kill_test");
    let mut parent = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test, "--nocapture"])
        .env(PARENT_DIR_VAR, &f.dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pids = f.wait_for_marker();
    parent.kill().unwrap(); // SIGKILL: no chance to clean up
    parent.wait().unwrap();
    assert!(
        wait_gone(pids[0]),
        "the runner {} outlived its parent",
        pids[0]
    );
    f.assert_untouched();
    // What the migration itself started is not the runner's to clean up when schemagate
    // dies (a timeout does kill it: see above); stop the `sleep` here.
    let _ = Command::new("kill")
        .args(["-9", &pids[1].to_string()])
        .status();
}

#[test]
fn runner_that_dies_inside_upgrade_is_crashed_and_nothing_persists() {
    let f = Fixture::new();
    let err = f
        .run(
            "004_exit.py",
            "import os\ndef upgrade(conn):\n    conn.execute('CREATE TABLE half (x)')\n    print('about to die')\n    os._exit(7)\n",
            None,
            Duration::from_secs(1),
        )
        .unwrap_err();
    match &err {
        Error::Crashed {
            status,
            stderr,
            committing,
        } => {
            assert!(status.contains('7'), "{status}");
            assert!(stderr.contains("about to die"), "{stderr}");
            assert!(!committing);
        }
        other => panic!("expected Crashed, got {other:?}"),
    }
    // It died before COMMIT, so nothing of it can have been committed, and it says so.
    assert!(
        err.to_string().contains("nothing of it was committed"),
        "{err}"
    );
    f.assert_untouched();
}

#[test]
fn sys_exit_inside_upgrade_is_a_failure() {
    let f = Fixture::new();
    let err = f
        .run(
            "005_exit.py",
            "import sys\ndef upgrade(conn):\n    conn.execute('CREATE TABLE half (x)')\n    sys.exit(0)\n",
            None,
            Duration::from_secs(1),
        )
        .unwrap_err();
    match err {
        Error::Failed { message, line, .. } => {
            assert_eq!(message, "SystemExit: 0");
            assert_eq!(line, Some(4));
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    f.assert_untouched();
}

#[test]
fn what_the_migration_prints_cannot_be_taken_for_the_result() {
    let f = Fixture::new();
    let out = f
        .run(
            "006_print.py",
            "import os, sys\ndef upgrade(conn):\n    print('{\"ok\": false, \"message\": \"fake\"}')\n    os.system('echo \\'{\"ok\": false}\\'')\n    os.write(1, b'raw fd 1\\n')\n    sys.stderr.write('to stderr\\n')\n    conn.execute('CREATE TABLE t (x)')\n",
            None,
            Duration::from_secs(1),
        )
        .unwrap();
    for expected in [
        "\"message\": \"fake\"",
        "{\"ok\": false}",
        "raw fd 1",
        "to stderr",
    ] {
        assert!(
            out.output.contains(expected),
            "{expected} missing: {}",
            out.output
        );
    }
    assert_eq!(f.query("SELECT version FROM schema_versions"), ["006"]);
}

#[test]
fn a_flood_of_output_neither_blocks_nor_grows_without_bound() {
    let f = Fixture::new();
    let out = f
        .run(
            "007_loud.py",
            "import sys\ndef upgrade(conn):\n    for i in range(200000):\n        print('line %d of a very chatty migration' % i)\n    sys.stderr.write('x' * 3000000)\n",
            None,
            Duration::from_secs(1),
        )
        .unwrap();
    assert!(
        out.output.len() < 2 << 20,
        "{} bytes kept",
        out.output.len()
    );
    assert!(out.output.contains("more bytes not kept"));
}

#[test]
fn write_lock_held_elsewhere_is_an_environment_failure_after_the_busy_timeout() {
    let f = Fixture::new();
    let holder = Connection::open(f.db()).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = f
        .run(
            "008_locked.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n",
            None,
            Duration::from_millis(200),
        )
        .unwrap_err();
    // The environment, not the migration (exit 2, as for SQL), in the SQL path's words.
    match &err {
        Error::Environment { message } => {
            assert!(
                message.contains("stayed write-locked by another connection for more than 0.2 s"),
                "{message}"
            );
            assert!(message.contains("raise --busy-timeout"), "{message}");
        }
        other => panic!("expected Environment, got {other:?}"),
    }
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    f.assert_untouched();
}

#[test]
fn begin_is_denied_but_savepoints_work() {
    let f = Fixture::new();
    f.run(
        "009_savepoint.py",
        "def upgrade(conn):\n    conn.execute('SAVEPOINT a')\n    conn.execute('CREATE TABLE gone (x)')\n    conn.execute('ROLLBACK TO a')\n    conn.execute('RELEASE a')\n    conn.execute('CREATE TABLE kept (x)')\n",
        None,
        Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(
        f.query("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name"),
        ["kept", "schema_versions", "users"]
    );

    let f = Fixture::new();
    let err = f
        .run(
            "010_begin.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    conn.execute('BEGIN')\n",
            None,
            Duration::from_secs(1),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("the migration ran BEGIN itself"),
        "{err}"
    );
    f.assert_untouched();
}

#[test]
fn failing_record_statement_rolls_back_the_migration() {
    let f = Fixture::new();
    Connection::open(f.db())
        .unwrap()
        .execute("INSERT INTO schema_versions(version) VALUES ('011')", [])
        .unwrap();
    let err = f
        .run(
            "011_twice.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n",
            None,
            Duration::from_secs(1),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("recording the migration failed"),
        "{err}"
    );
    assert!(
        err.to_string().contains("UNIQUE constraint failed"),
        "{err}"
    );
    assert_eq!(
        f.query("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name"),
        ["schema_versions", "users"]
    );
}

#[test]
fn missing_database_is_a_failure_not_a_new_file() {
    let f = Fixture::new();
    std::fs::remove_file(f.db()).unwrap();
    let err = f
        .run(
            "012_x.py",
            "def upgrade(conn):\n    pass\n",
            None,
            Duration::from_secs(1),
        )
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!f.db().exists());
}

#[test]
fn the_example_migrations_apply() {
    let f = Fixture::new();
    Connection::open(f.db())
        .unwrap()
        .execute_batch(
            "CREATE TABLE projects (id INTEGER PRIMARY KEY); ALTER TABLE users ADD COLUMN x;",
        )
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for name in ["002_add_testing.py", "004_add_user_email.py"] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        let out = f.run(name, &text, None, Duration::from_secs(1)).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }
    assert_eq!(
        f.query("SELECT description FROM schema_versions ORDER BY id"),
        ["Add testing flag to projects", "Add email to users"]
    );
}

#[test]
fn timeout_does_not_kill_a_runner_that_is_committing() {
    let f = Fixture::new();
    // A reader blocks COMMIT (rollback-journal mode needs an exclusive lock to commit) until
    // well after the timeout; the runner is already committing by then, so it is let finish.
    let reader = Connection::open(f.db()).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM users;")
        .unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(6));
        reader.execute_batch("COMMIT").unwrap();
    });
    let out = f.run(
        "013_slow_commit.py",
        "DESCRIPTION = 'slow commit'\ndef upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n",
        Some(Duration::from_secs(3)),
        Duration::from_secs(60),
    );
    release.join().unwrap();
    assert_eq!(out.unwrap().description, "slow commit");
    assert_eq!(f.query("SELECT version FROM schema_versions"), ["013"]);
}
