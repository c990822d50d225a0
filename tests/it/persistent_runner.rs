//! One Python runner per run (issue 13), through the real binary: every Python migration
//! of a `migrate` (and its validation) in one interpreter, each still on its own; a
//! migration that kills the interpreter fails alone; a pyenv-style shim started once.
//! Also the rules both runners share with the SQL path: migrations may not write
//! schemagate's tables, and a locked database is the environment (exit 2) with COMMIT
//! retried, for SQL and Python alike.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::common::{Project, output, query_strings, stdout_and_stderr};

/// `CREATE TABLE tN` and one row, as the benchmark's migrations.
fn table_migration(n: usize) -> String {
    format!(
        "DESCRIPTION = 'Table {n}'\n\ndef upgrade(conn):\n    conn.execute('CREATE TABLE t{n} (id INTEGER PRIMARY KEY, name TEXT)')\n    conn.execute(\"INSERT INTO t{n} (name) VALUES ('row {n}')\")\n"
    )
}

fn user_tables(p: &Project) -> Vec<String> {
    p.tables()
        .into_iter()
        .filter(|t| t.starts_with('t'))
        .collect()
}

#[test]
fn migration_3_of_5_that_exits_the_interpreter_fails_alone_and_the_run_stops() {
    let p = Project::new();
    for n in 1..=5 {
        p.file(&format!("00{n}_t{n}.py"), table_migration(n));
    }
    p.file(
        "003_t3.py",
        "import os\n\ndef upgrade(conn):\n    conn.execute('CREATE TABLE t3 (x)')\n    conn.execute('INSERT INTO t3 VALUES (1)')\n    print('003 is about to exit')\n    os._exit(9)\n",
    );
    let out = output(&p.run(&["migrate", "--no-backup"]).code(1));
    assert_eq!(p.versions(), ["001", "002"], "{out}");
    assert_eq!(
        user_tables(&p),
        ["t1", "t2"],
        "003 rolled back, 004 and 005 not run"
    );
    assert!(out.contains("migrations/003_t3.py"), "{out}");
    assert!(
        out.contains("exited unexpectedly (exit status: 9) before the migration finished; nothing of it was committed"),
        "{out}"
    );
    assert!(
        out.contains("003 is about to exit"),
        "its output is shown: {out}"
    );
    assert!(out.contains("applied 2 before it (001, 002)"), "{out}");
    assert!(!out.contains("check the history table"), "{out}");

    // Fixed, the next run applies the rest, on a new runner.
    p.file("003_t3.py", table_migration(3));
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions(), ["001", "002", "003", "004", "005"]);
    assert_eq!(user_tables(&p), ["t1", "t2", "t3", "t4", "t5"]);
}

#[test]
fn one_interpreter_validates_and_runs_every_migration_each_on_its_own() {
    let p = Project::new();
    let pids = p.path().join("pids");
    // Top-level code runs at validation and again at the run: both times in one process.
    let top = format!(
        "import os, sys\nwith open({pids:?}, 'a') as f:\n    f.write('%d\\n' % os.getpid())\n",
        pids = pids.to_str().unwrap()
    );
    p.file(
        "001_leaky.py",
        format!(
            "{top}COUNTER = 1\n\ndef upgrade(conn):\n    conn.execute('CREATE TABLE seen (version TEXT, pid INTEGER, env TEXT, leaked TEXT, cwd_ok INTEGER, counter INTEGER)')\n    conn.execute(\"INSERT INTO seen VALUES ('001', ?, ?, NULL, 1, ?)\", (os.getpid(), os.environ.get('ENV'), COUNTER))\n    os.environ['LEAKED'] = 'yes'\n    os.environ['ENV'] = 'changed'\n    os.chdir('/')\n    sys.path.append('/nowhere')\n"
        ),
    );
    for n in 2..=4 {
        p.file(
            &format!("00{n}_check.py"),
            format!(
                "{top}def upgrade(conn):\n    conn.execute(\"INSERT INTO seen VALUES ('00{n}', ?, ?, ?, ?, ?)\", (os.getpid(), os.environ.get('ENV'), os.environ.get('LEAKED'), int(os.getcwd() == {cwd:?} and '/nowhere' not in sys.path), globals().get('COUNTER')))\n",
                cwd = p.path().canonicalize().unwrap().to_str().unwrap()
            ),
        );
    }
    p.config("[environments.prod]\ndatabase = \"data/app.db\"\n");
    p.cmd()
        .args(["migrate", "--env", "prod", "--no-backup"])
        .assert()
        .success();
    let conn = p.open();
    let pid: i64 = conn
        .query_row("SELECT pid FROM seen WHERE version = '001'", [], |r| {
            r.get(0)
        })
        .unwrap();
    // Each request runs in the one interpreter, with the environment it was given (not
    // what 001 left: ENV changed, LEAKED set, the working directory and sys.path changed)
    // and a fresh module (no COUNTER from 001).
    let rows = query_strings(
        &conn,
        "SELECT version || ' ' || pid || ' ' || env || ' ' || ifnull(leaked, '-') || ' ' || cwd_ok || ' ' || ifnull(counter, '-') FROM seen ORDER BY version",
    );
    assert_eq!(
        rows,
        [
            format!("001 {pid} prod - 1 1"),
            format!("002 {pid} prod - 1 -"),
            format!("003 {pid} prod - 1 -"),
            format!("004 {pid} prod - 1 -"),
        ]
    );
    let started: Vec<String> = fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(started.len(), 8, "validation and run import each file once");
    assert!(started.iter().all(|s| *s == pid.to_string()), "{started:?}");
}

/// A shim like pyenv's: a shell script that logs each start and runs the real interpreter.
fn shim(dir: &Path, log: &Path) -> PathBuf {
    let real = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_string();
    let path = dir.join("shim-python3");
    fs::write(
        &path,
        format!(
            "#!/bin/sh\necho started >> '{}'\nexec '{real}' \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

#[test]
fn a_shim_is_started_once_for_the_availability_check_validation_and_all_migrations() {
    let p = Project::new();
    let log = p.path().join("shim.log");
    let python = shim(p.path(), &log);
    for n in 1..=6 {
        p.file(&format!("00{n}_t{n}.py"), table_migration(n));
    }
    p.run(&[
        "migrate",
        "--no-backup",
        "--python",
        python.to_str().unwrap(),
    ])
    .success();
    assert_eq!(p.versions().len(), 6);
    assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 1);

    // `check`: the lint scan, the replay and the dry run (with their second, rolled-back
    // runs) go through one interpreter too.
    for n in 7..=8 {
        p.file(&format!("00{n}_t{n}.py"), table_migration(n));
    }
    fs::remove_file(&log).unwrap();
    p.run(&["check", "--python", python.to_str().unwrap()])
        .success();
    assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 1);
}

#[test]
fn migrations_may_not_delete_or_drop_the_history_sql_or_python() {
    for (name, text) in [
        (
            "002_wipe.sql",
            "CREATE TABLE kept_out(x);\nDELETE FROM schema_versions;\n",
        ),
        (
            "002_drop.sql",
            "CREATE TABLE kept_out(x);\nDROP TABLE schema_versions;\n",
        ),
        (
            "002_wipe.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE kept_out(x)')\n    conn.execute('DELETE FROM schema_versions')\n",
        ),
        (
            // Caught and ignored, it still fails the migration.
            "002_drop.py",
            "import sqlite3\n\ndef upgrade(conn):\n    conn.execute('CREATE TABLE kept_out(x)')\n    try:\n        conn.execute('DROP TABLE schema_versions')\n    except sqlite3.DatabaseError:\n        pass\n",
        ),
        (
            "002_side.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE kept_out(x)')\n    conn.execute('UPDATE schemagate_history SET checksum = NULL')\n",
        ),
    ] {
        let p = Project::new();
        p.file("001_a.sql", "CREATE TABLE a(x);\n");
        p.run(&["migrate", "--no-backup"]).success();
        p.file(name, text);
        let out = output(&p.run(&["migrate", "--no-backup"]).code(1));
        assert!(
            out.contains("migrations may not write schemagate's own tables"),
            "{name}: {out}"
        );
        assert!(out.contains(&format!("migrations/{name}")), "{name}: {out}");
        assert_eq!(p.versions(), ["001"], "{name}");
        assert!(!p.tables().contains(&"kept_out".to_string()), "{name}");
        // The next run sees the same history: nothing is applied twice.
        p.file(
            name,
            if name.ends_with(".py") {
                "def upgrade(conn):\n    pass\n"
            } else {
                "SELECT 1;\n"
            },
        );
        p.run(&["migrate", "--no-backup"]).success();
        assert_eq!(p.versions(), ["001", "002"], "{name}");
    }
}

#[test]
fn a_database_locked_by_an_application_is_exit_2_for_python_as_for_sql() {
    for (name, text) in [
        ("002_b.sql", "CREATE TABLE b(x);\n"),
        (
            "002_b.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE b(x)')\n",
        ),
    ] {
        let p = Project::new();
        p.file("001_a.sql", "CREATE TABLE a(x);\n");
        p.run(&["migrate", "--no-backup"]).success();
        p.file(name, text);
        let app = Connection::open(p.db()).unwrap();
        app.execute_batch("BEGIN IMMEDIATE").unwrap();
        let out = output(
            &p.run(&["migrate", "--no-backup", "--busy-timeout", "1"])
                .code(2),
        );
        app.execute_batch("ROLLBACK").unwrap();
        assert!(
            out.contains("stayed write-locked by another connection for more than 1 s"),
            "{name}: {out}"
        );
        assert!(out.contains("fix the cause above"), "{name}: {out}");
        assert!(!out.contains("fix it and run"), "{name}: {out}");
        assert_eq!(p.versions(), ["001"], "{name}");
    }
}

/// Waits for `path` to appear (written by the migration).
fn wait_for_file(path: &Path, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("migrate exited ({status}) before the migration got going");
        }
        assert!(Instant::now() < deadline, "the migration never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A reader in rollback-journal mode blocks COMMIT: the first attempt waits out the busy
/// timeout and fails, the reader goes away, the next attempt commits.
#[test]
fn a_python_commit_blocked_by_a_reader_is_retried_as_sql_commits_are() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.run(&["migrate", "--no-backup"]).success();
    let ready = p.path().join("ready");
    p.file(
        "002_b.py",
        format!(
            "def upgrade(conn):\n    conn.execute('CREATE TABLE b(x)')\n    open({:?}, 'w').close()\n",
            ready.to_str().unwrap()
        ),
    );
    let reader = Connection::open(p.db()).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM a;")
        .unwrap();
    let mut child = p
        .std_cmd(&["migrate", "--no-backup", "--busy-timeout", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_file(&ready, &mut child);
    // Past the first attempt's busy timeout, well before the third's.
    std::thread::sleep(Duration::from_secs(3));
    reader.execute_batch("COMMIT").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stdout_and_stderr(&out));
    assert_eq!(p.versions(), ["001", "002"]);

    // A reader that never goes away: three attempts, then exit 2 with nothing applied.
    p.file(
        "003_c.py",
        "def upgrade(conn):\n    conn.execute('CREATE TABLE c(x)')\n",
    );
    let reader = Connection::open(p.db()).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM a;")
        .unwrap();
    let out = output(
        &p.run(&["migrate", "--no-backup", "--busy-timeout", "1"])
            .code(2),
    );
    reader.execute_batch("COMMIT").unwrap();
    assert!(
        out.contains("COMMIT stayed blocked by another connection"),
        "{out}"
    );
    assert_eq!(p.versions(), ["001", "002"]);
    assert!(!p.tables().contains(&"c".to_string()));
    let conn = p.open();
    assert_eq!(query_strings(&conn, "PRAGMA integrity_check"), ["ok"]);
}
