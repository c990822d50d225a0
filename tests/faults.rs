//! Faults: concurrent migrators, `kill -9` at random moments and at fixed points, backups
//! under a live WAL writer, and bad input (exit 2, a clear message, nothing modified).

mod common;

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime};

use common::{Project, integrity_ok, json, output};
use rusqlite::Connection;

const BIG_ROWS: i64 = 300_000;

fn slow_project() -> Project {
    let p = Project::new();
    p.file(
        "001_log.sql",
        "CREATE TABLE log(v TEXT);\nINSERT INTO log VALUES ('001');\n",
    );
    p.file(
        "002_slow.sql",
        format!(
            "CREATE TABLE big(i INTEGER, pad TEXT);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {BIG_ROWS}) INSERT INTO big SELECT i, hex(randomblob(32)) FROM c;\nINSERT INTO log VALUES ('002');\n"
        ),
    );
    p.file(
        "003_py.py",
        "def upgrade(conn):\n    conn.execute(\"INSERT INTO log VALUES ('003')\")\n",
    );
    p.file("004_last.sql", "INSERT INTO log VALUES ('004');\n");
    p
}

fn log_rows(conn: &Connection) -> Vec<String> {
    if !common::tables(conn).contains(&"log".to_string()) {
        return Vec::new();
    }
    conn.prepare("SELECT v FROM log ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The boundary invariant: each migration is either applied with its row or absent.
fn assert_boundary(p: &Project) {
    if !p.db().exists() {
        return;
    }
    let conn = p.open();
    assert!(integrity_ok(&conn), "integrity_check failed");
    let tables = common::tables(&conn);
    let versions: Vec<String> = if tables.contains(&"schema_versions".to_string()) {
        conn.prepare("SELECT version FROM schema_versions ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    } else {
        Vec::new()
    };
    assert_eq!(log_rows(&conn), versions, "the log and the history agree");
    let expected: Vec<String> = ["001", "002", "003", "004"]
        .iter()
        .take(versions.len())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(versions, expected, "a prefix of the chain");
    let big_applied = versions.iter().any(|v| v == "002");
    assert_eq!(
        tables.contains(&"big".to_string()),
        big_applied,
        "{tables:?}"
    );
    if big_applied {
        let n: i64 = conn
            .query_row("SELECT count(*) FROM big", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, BIG_ROWS);
    }
}

fn wait_for(path: &Path, child: &mut Child) {
    loop {
        if path.exists() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the migrator exited ({status}) before reaching the failpoint");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn six_migrators_started_together_apply_each_migration_exactly_once() {
    let p = slow_project();
    let children: Vec<Child> = (0..6)
        .map(|_| {
            p.std_cmd(&["migrate", "--lock-timeout", "300"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(p.versions(), ["001", "002", "003", "004"]);
    assert_eq!(log_rows(&p.open()), ["001", "002", "003", "004"]);
    assert_boundary(&p);
}

#[test]
fn kill_9_at_random_moments_leaves_a_migration_boundary_and_the_next_run_completes() {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for round in 0..5u64 {
        let p = slow_project();
        // Spread the kills over the start, the slow migration and the end.
        let delay = (nanos / 7 + round * 211) % 1200;
        let mut child = p
            .std_cmd(&["migrate"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        assert_boundary(&p);
        p.run(&["migrate"]).success();
        assert_boundary(&p);
        assert_eq!(p.versions(), ["001", "002", "003", "004"], "round {round}");
    }
}

#[test]
fn kill_9_at_fixed_points_leaves_a_migration_boundary() {
    for point in ["before_commit:002", "after_commit:002", "before_commit:004"] {
        let p = slow_project();
        let marker = p.path().join("marker");
        let mut child = p
            .std_cmd(&["migrate"])
            .env("SCHEMAGATE_TEST_FAILPOINT", point)
            .env("SCHEMAGATE_TEST_MARKER", &marker)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(&marker, &mut child);
        child.kill().unwrap();
        child.wait().unwrap();
        if point == "before_commit:002" {
            // A hot journal: a read-only command cannot replay it and says so, touching nothing.
            let journal = p.path().join("data/app.db-journal");
            let before = fs::read(&journal).ok();
            let out = output(&p.run(&["status"]).code(2));
            assert!(out.contains("needs recovery"), "{out}");
            assert_eq!(fs::read(&journal).ok(), before);
        }
        assert_boundary(&p);
        let applied = p.versions();
        match point {
            "before_commit:002" => assert_eq!(applied, ["001"]),
            "after_commit:002" => assert_eq!(applied, ["001", "002"]),
            _ => assert_eq!(applied, ["001", "002", "003"]),
        }
        // The kernel released the flock: the next run proceeds at once and completes.
        p.run(&["migrate", "--lock-timeout", "0"]).success();
        assert_boundary(&p);
        assert_eq!(p.versions().len(), 4);
    }
}

#[test]
fn kill_9_during_the_backup_leaves_no_backup_and_nothing_applied() {
    let p = slow_project();
    p.remove("002_slow.sql");
    p.remove("003_py.py");
    p.remove("004_last.sql");
    p.run(&["migrate"]).success();
    p.file("002_next.sql", "INSERT INTO log VALUES ('002');\n");
    let marker = p.path().join("marker");
    let mut child = p
        .std_cmd(&["migrate"])
        .env("SCHEMAGATE_TEST_FAILPOINT", "backup_written")
        .env("SCHEMAGATE_TEST_MARKER", &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&marker, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(p.backup_files().is_empty(), "{:?}", p.backup_files());
    assert_eq!(p.versions(), ["001"]);
    // The next run removes the dead run's temporary file and makes a real backup.
    p.run(&["migrate"]).success();
    assert_eq!(p.backup_files().len(), 1);
    let leftovers: Vec<_> = fs::read_dir(p.backups())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn backup_is_a_consistent_pre_migration_snapshot_while_a_wal_writer_keeps_writing() {
    let p = Project::new();
    p.file(
        "001_t.sql",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n",
    );
    p.run(&["migrate"]).success();
    {
        let conn = p.open();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p.db(), fs::Permissions::from_mode(0o640)).unwrap();
    }
    let stop = p.path().join("stop");
    let writer = format!(
        "import sqlite3, os\nconn = sqlite3.connect({db:?}, timeout=30, isolation_level=None)\nwhile not os.path.exists({stop:?}):\n    conn.execute('BEGIN IMMEDIATE')\n    conn.execute(\"INSERT INTO t(v) VALUES (hex(randomblob(200)))\")\n    conn.execute('COMMIT')\n",
        db = p.db().to_str().unwrap(),
        stop = stop.to_str().unwrap()
    );
    let mut w = std::process::Command::new("python3")
        .args(["-c", &writer])
        .spawn()
        .unwrap();
    // Let the writer get going before the deploy starts.
    loop {
        let n: i64 = p
            .open()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        if n >= 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    p.file(
        "002_more.sql",
        "CREATE TABLE more(x);\nINSERT INTO more SELECT id FROM t;\n",
    );
    let a = p.run(&["migrate", "--format", "json"]);
    fs::write(&stop, b"").unwrap();
    w.wait().unwrap();
    let r = json(&a.success());
    let backup = p.path().join(r["backup"].as_str().unwrap());
    let b = Connection::open(&backup).unwrap();
    assert!(integrity_ok(&b));
    assert!(!common::tables(&b).contains(&"more".to_string()));
    let (count, max): (i64, i64) = b
        .query_row("SELECT count(*), max(id) FROM t", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(count >= 200);
    assert_eq!(
        count, max,
        "every committed row up to the snapshot, none torn"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode & !0o640,
            0,
            "backup mode {mode:o} is wider than the database's"
        );
    }
    assert_eq!(p.versions(), ["001", "002"]);
}

#[test]
fn a_second_migrator_waits_for_the_lock_then_exits_2_naming_the_holder() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    let lock_path = p.path().join("data/app.db.migrate.lock");
    let holder = fs::File::create(&lock_path).unwrap();
    holder.lock().unwrap();
    fs::write(&lock_path, "pid=4242 host=test-holder").unwrap();
    let a = p.run(&["migrate", "--lock-timeout", "1"]).code(2);
    let out = output(&a);
    assert!(out.contains("another migration is running"), "{out}");
    assert!(out.contains("test-holder"), "{out}");
    assert!(!p.db().exists() || p.versions().is_empty());
    drop(holder);
    p.run(&["migrate", "--lock-timeout", "1"]).success();
}

fn no_panic(out: &str) {
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn missing_migrations_folder_is_exit_2_and_creates_nothing() {
    let p = Project::new();
    fs::remove_dir(p.migrations()).unwrap();
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(
        out.contains("migrations folder migrations does not exist"),
        "{out}"
    );
    assert!(!p.db().exists());
    let out = output(&p.run(&["status"]).code(2));
    assert!(out.contains("does not exist"), "{out}");
}

#[test]
fn a_db_that_is_not_sqlite_is_exit_2_and_untouched() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    fs::write(p.db(), "name,email\nann,a@example.com\n").unwrap();
    for cmd in ["migrate", "status", "pending"] {
        let out = output(&p.run(&[cmd]).code(2));
        no_panic(&out);
        assert!(out.contains("not a SQLite database"), "{cmd}: {out}");
    }
    assert_eq!(
        fs::read_to_string(p.db()).unwrap(),
        "name,email\nann,a@example.com\n"
    );
    assert!(!p.backups().exists());

    fs::write(p.db(), "").unwrap();
    let out = output(&p.run(&["migrate"]).code(2));
    assert!(out.contains("empty file"), "{out}");
    assert_eq!(fs::metadata(p.db()).unwrap().len(), 0);
}

#[test]
fn a_non_utf8_migration_is_exit_2_and_nothing_is_applied() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.file(
        "002_latin1.sql",
        b"-- caf\xe9\nCREATE TABLE b(x);\n".as_slice(),
    );
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(out.contains("002_latin1.sql: not valid UTF-8"), "{out}");
    assert!(!p.db().exists());
    let j = json(&p.run(&["migrate", "--format", "json"]).code(2));
    assert_eq!(j["status"], "error");
}

#[test]
fn an_unwritable_backup_folder_is_exit_2_applies_nothing_and_leaves_no_partial_file() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.run(&["migrate"]).success();
    // A file where the backup folder should be: no user, root included, can write there.
    fs::write(p.backups(), b"").unwrap();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(out.contains("backup"), "{out}");
    assert!(out.contains("nothing was applied"), "{out}");
    assert_eq!(p.versions(), ["001"]);
    let names: Vec<String> = fs::read_dir(p.db().parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["app.db", "app.db.migrate.lock", "backups"].contains(&n.as_str())),
        "{names:?}"
    );
    // --no-backup is the explicit way past it.
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions(), ["001", "002"]);
}

#[test]
fn missing_python_is_exit_2_only_when_a_python_migration_must_run() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    // Only SQL pending: no interpreter needed.
    p.run(&["migrate", "--python", "/nonexistent/python3"])
        .success();
    p.file(
        "002_b.py",
        "def upgrade(conn):\n    conn.execute('CREATE TABLE b(x)')\n",
    );
    let out = output(
        &p.run(&["migrate", "--python", "/nonexistent/python3"])
            .code(2),
    );
    no_panic(&out);
    assert!(out.contains("/nonexistent/python3"), "{out}");
    assert!(out.contains("python3"), "{out}");
    assert_eq!(p.versions(), ["001"]);
    assert!(
        p.backup_files().is_empty(),
        "nothing was modified, not even a backup"
    );
    p.run(&["migrate"]).success();
    assert_eq!(p.versions(), ["001", "002"]);
}

#[test]
fn an_application_holding_the_write_lock_makes_migrate_exit_2_with_nothing_applied() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.run(&["migrate"]).success();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    let marker = p.path().join("holding");
    let holder = format!(
        "import sqlite3, time\nconn = sqlite3.connect({db:?}, isolation_level=None)\nconn.execute('BEGIN IMMEDIATE')\nconn.execute('INSERT INTO a VALUES (1)')\nopen({marker:?}, 'w').close()\ntime.sleep(120)\n",
        db = p.db().to_str().unwrap(),
        marker = marker.to_str().unwrap()
    );
    let mut app = std::process::Command::new("python3")
        .args(["-c", &holder])
        .spawn()
        .unwrap();
    wait_for(&marker, &mut app);
    let a = p.run(&["migrate", "--busy-timeout", "1", "--format", "json"]);
    app.kill().unwrap();
    app.wait().unwrap();
    let a = a.code(2);
    let r = json(&a);
    assert_eq!(r["status"], "error");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("write-locked"),
        "{r}"
    );
    assert_eq!(p.versions(), ["001"]);
    p.run(&["migrate"]).success();
    assert_eq!(p.versions(), ["001", "002"]);
}

#[test]
fn a_damaged_database_is_refused_before_backup_and_before_any_write() {
    let p = Project::new();
    p.file(
        "001_t.sql",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, pad TEXT);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) INSERT INTO t SELECT i, hex(randomblob(100)) FROM c;\n",
    );
    p.run(&["migrate"]).success();
    // Scribble over the last page (a leaf of `t`): the schema still reads fine.
    let mut bytes = fs::read(p.db()).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len - 4096 + 8..len - 2048] {
        *b = 0x5a;
    }
    fs::write(p.db(), &bytes).unwrap();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(out.contains("quick_check"), "{out}");
    assert!(p.backup_files().is_empty());
    assert_eq!(fs::read(p.db()).unwrap(), bytes, "not one byte written");
}

#[test]
fn sigterm_stops_at_a_migration_boundary_and_says_so() {
    let p = slow_project();
    let marker = p.path().join("marker");
    let child = p
        .std_cmd(&["migrate"])
        .env("SCHEMAGATE_TEST_FAILPOINT", "mark:applied:001")
        .env("SCHEMAGATE_TEST_MARKER", &marker)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = child;
    wait_for(&marker, &mut child);
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("interrupted by a signal"), "{text}");
    assert_boundary(&p);
    assert!(p.versions().len() < 4, "{text}");
    p.run(&["migrate", "--lock-timeout", "0"]).success();
    assert_eq!(p.versions().len(), 4);
}
