//! Contention: migrators started together, a second migrator waiting for the lock, an
//! application holding the write lock, a backup taken while a WAL writer keeps writing.

use std::fs;
use std::process::{Child, Stdio};
use std::time::Duration;

use rusqlite::Connection;

use super::{assert_boundary, log_rows, slow_project, wait_for};
use crate::common::{self, Project, integrity_ok, json, output, stdout_and_stderr};

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
        assert!(out.status.success(), "{}", stdout_and_stderr(&out));
    }
    assert_eq!(p.versions(), ["001", "002", "003", "004"]);
    assert_eq!(log_rows(&p.open()), ["001", "002", "003", "004"]);
    assert_boundary(&p);
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
    // The writer commits back to back until the backup is written, then stops. It must not
    // run on through the migration: SQLite's busy handler is not fair, so a writer that
    // holds the write lock nearly all the time can starve the migrator's BEGIN IMMEDIATE
    // past any busy timeout on a loaded machine (exit 2, nothing applied: correct, but not
    // what this test is about). The marker is written after the snapshot is complete and
    // verified, so every backup step ran against a live writer.
    let backed_up = p.path().join("backed-up");
    let writer = format!(
        "import sqlite3, os\nconn = sqlite3.connect({db:?}, timeout=30, isolation_level=None)\nwhile not os.path.exists({stop:?}):\n    conn.execute('BEGIN IMMEDIATE')\n    conn.execute(\"INSERT INTO t(v) VALUES (hex(randomblob(200)))\")\n    conn.execute('COMMIT')\n",
        db = p.db().to_str().unwrap(),
        stop = backed_up.to_str().unwrap()
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
        assert!(w.try_wait().unwrap().is_none(), "the writer died");
        std::thread::sleep(Duration::from_millis(20));
    }
    p.file(
        "002_more.sql",
        "CREATE TABLE more(x);\nINSERT INTO more SELECT id FROM t;\n",
    );
    let a = p
        .cmd()
        .args(["migrate", "--format", "json", "--db", "data/app.db"])
        .env("SCHEMAGATE_TEST_FAILPOINT", "mark:backup_written")
        .env("SCHEMAGATE_TEST_MARKER", &backed_up)
        .assert();
    // Stops the writer even when the run failed before the backup.
    fs::write(&backed_up, b"").unwrap();
    assert!(w.wait().unwrap().success(), "the writer failed");
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
