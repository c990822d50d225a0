//! Faults: concurrent migrators, `kill -9` at random moments and at fixed points, backups
//! under a live WAL writer, and bad input (exit 2, a clear message, nothing modified).

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime};

use crate::common::{self, Project, integrity_ok, json, output};
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
    // One snapshot for every read below: a Python runner orphaned by the kill could still
    // commit between two autocommit reads.
    conn.execute_batch("BEGIN").unwrap();
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
    conn.execute_batch("COMMIT").unwrap();
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
        // Shown with a failure: the moment of the kill is what a rerun cannot reproduce.
        eprintln!("round {round}: kill -9 after {delay} ms");
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

/// SQLite creates a database file empty and writes it at the first commit; a run killed in
/// between once left a 0-byte file that every later run refused as "truncated".
#[test]
fn kill_9_while_creating_the_database_leaves_no_file_and_the_next_run_creates_it() {
    let p = slow_project();
    let marker = p.path().join("marker");
    let mut child = p
        .std_cmd(&["migrate"])
        .env("SCHEMAGATE_TEST_FAILPOINT", "creating_database")
        .env("SCHEMAGATE_TEST_MARKER", &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&marker, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!p.db().exists(), "no database file before it is complete");
    p.run(&["migrate", "--lock-timeout", "0"]).success();
    assert_boundary(&p);
    assert_eq!(p.versions(), ["001", "002", "003", "004"]);
    let names: Vec<String> = fs::read_dir(p.db().parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "the dead run's temporary file is cleaned up: {names:?}"
    );
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
    // Four bytes at the start of the cell content area of a table leaf page in the middle
    // of `t` (page type 0x0D): that cell's header now runs off the page. The schema on
    // page 1 is intact, so the file still opens and reads.
    let mut bytes = fs::read(p.db()).unwrap();
    let page_size = 4096;
    let leaves: Vec<usize> = (1..bytes.len() / page_size)
        .filter(|i| bytes[i * page_size] == 0x0d)
        .collect();
    assert!(leaves.len() > 10, "{} leaf pages", leaves.len());
    let page = leaves[leaves.len() / 2] * page_size;
    let content = u16::from_be_bytes([bytes[page + 5], bytes[page + 6]]) as usize;
    for b in &mut bytes[page + content..page + content + 4] {
        *b = 0xff;
    }
    fs::write(p.db(), &bytes).unwrap();
    assert_eq!(p.versions(), ["001"], "the damaged file still opens");
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

// ---------------------------------------------------------------------------------------
// Permissions: root ignores permission bits, so as root the binary runs as `nobody`.
// ---------------------------------------------------------------------------------------

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// `schemagate <args> --db data/app.db` as a user the permission bits apply to: `nobody`
/// (through `setpriv`) when the tests run as root, else the current user. Panics when root
/// cannot drop privileges: a permission test must never pass without checking.
fn unprivileged(p: &Project, args: &[&str]) -> (Option<i32>, String) {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let bin = assert_cmd::cargo::cargo_bin("schemagate");
    let mut cmd = if root {
        // Every folder above the project must be searchable by nobody.
        set_mode(p.path(), 0o755);
        for dir in p.path().ancestors().skip(1) {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir).unwrap().permissions().mode();
            assert!(
                mode & 0o001 != 0,
                "{} is not searchable by nobody; point TMPDIR at a folder that is",
                dir.display()
            );
        }
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    cmd.current_dir(p.path())
        .args(args)
        .args(["--db", "data/app.db"])
        .env_remove("SCHEMAGATE_ENV")
        .env_remove("SCHEMAGATE_PYTHON")
        .env_remove("SCHEMAGATE_TEST_FAILPOINT")
        .env("NO_COLOR", "1");
    let out = cmd
        .output()
        .expect("cannot run the binary (setpriv missing?)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if root {
        assert!(
            !text.contains("setpriv:"),
            "setpriv could not drop to nobody: {text}"
        );
        // Proves the permission bits bind this user: nobody cannot write a 0444 file.
        let probe = p.path().join("probe");
        fs::write(&probe, b"").unwrap();
        set_mode(&probe, 0o444);
        let st = std::process::Command::new("setpriv")
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--",
                "sh",
                "-c",
                "echo x > \"$0\"",
            ])
            .arg(&probe)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!st.success(), "nobody could write a read-only file");
        fs::remove_file(&probe).unwrap();
    }
    (out.status.code(), text)
}

/// A project at `001` with `002` pending, the database and its lock file usable by anyone.
fn project_for_permissions() -> (Project, Vec<u8>) {
    let p = Project::new();
    p.file(
        "001_a.sql",
        "CREATE TABLE a(x);\nINSERT INTO a VALUES (1);\n",
    );
    p.run(&["migrate"]).success();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    set_mode(&p.path().join("data/app.db.migrate.lock"), 0o666);
    set_mode(&p.db(), 0o666);
    set_mode(&p.path().join("data"), 0o777);
    let bytes = fs::read(p.db()).unwrap();
    (p, bytes)
}

fn data_dir_names(p: &Project) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(p.path().join("data"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_read_only_database_is_exit_2_with_no_backup_and_nothing_changed() {
    let (p, bytes) = project_for_permissions();
    set_mode(&p.db(), 0o444);
    let (code, out) = unprivileged(&p, &["migrate"]);
    no_panic(&out);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("read-only"), "{out}");
    assert!(out.contains("data/app.db"), "{out}");
    assert_eq!(fs::read(p.db()).unwrap(), bytes);
    assert_eq!(data_dir_names(&p), ["app.db", "app.db.migrate.lock"]);
    set_mode(&p.db(), 0o644);
    assert_eq!(p.versions(), ["001"]);
}

#[test]
fn a_read_only_database_folder_is_exit_2_naming_the_journal_and_nothing_changed() {
    let (p, bytes) = project_for_permissions();
    set_mode(&p.path().join("data"), 0o555);
    let runs = [
        unprivileged(&p, &["migrate"]),
        unprivileged(&p, &["migrate", "--no-backup"]),
    ];
    set_mode(&p.path().join("data"), 0o755);
    for (code, out) in runs {
        no_panic(&out);
        assert_eq!(code, Some(2), "{out}");
        assert!(
            out.contains("cannot create the journal file in its folder"),
            "{out}"
        );
        assert!(!out.contains("backup folder"), "{out}");
    }
    assert_eq!(fs::read(p.db()).unwrap(), bytes);
    assert_eq!(data_dir_names(&p), ["app.db", "app.db.migrate.lock"]);
    assert_eq!(p.versions(), ["001"]);
}

#[test]
fn killing_migrate_while_a_python_migration_runs_kills_the_runner_and_frees_the_lock() {
    let p = Project::new();
    p.file("001_t.sql", "CREATE TABLE t(x);\n");
    let marker = p.path().join("runner.pid");
    p.file(
        "002_slow.py",
        format!(
            "import os, time\n\ndef upgrade(conn):\n    conn.execute(\"INSERT INTO t VALUES ('002')\")\n    conn.execute('CREATE TABLE made_by_002(x)')\n    if not os.path.exists({m:?}):\n        with open({m:?} + '.tmp', 'w') as f:\n            f.write(str(os.getpid()))\n        os.rename({m:?} + '.tmp', {m:?})\n        time.sleep(120)\n",
            m = marker.to_str().unwrap()
        ),
    );
    let mut child = p
        .std_cmd(&["migrate"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&marker, &mut child);
    let pid: u32 = fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
    assert_ne!(pid, child.id(), "the migration runs in a separate runner");
    child.kill().unwrap();
    child.wait().unwrap();
    // The runner notices its parent's death (PR_SET_PDEATHSIG, EOF on its stdin). Bounded
    // wait for an event that must happen, not a speed requirement.
    let proc_dir = Path::new("/proc").join(pid.to_string());
    for _ in 0..1000 {
        if !proc_dir.exists() || proc_state_is_zombie(&proc_dir) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !proc_dir.exists() || proc_state_is_zombie(&proc_dir),
        "the Python runner {pid} outlived the killed migrate"
    );
    let conn = p.open();
    assert!(integrity_ok(&conn));
    assert!(!common::tables(&conn).contains(&"made_by_002".to_string()));
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0, "no effect of the killed migration");
    drop(conn);
    assert_eq!(p.versions(), ["001"]);
    // The lock died with the process: the next run does not wait and completes.
    p.run(&["migrate", "--lock-timeout", "0"]).success();
    assert_eq!(p.versions(), ["001", "002"]);
    assert!(p.tables().contains(&"made_by_002".to_string()));
}

fn proc_state_is_zombie(proc_dir: &Path) -> bool {
    // `State:\tZ (zombie)`: dead, waiting for init to reap it.
    fs::read_to_string(proc_dir.join("status"))
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
        .unwrap_or(true)
}

// ---------------------------------------------------------------------------------------
// File-size limit (EFBIG) as a stand-in for a full disk: RLIMIT_FSIZE with SIGXFSZ ignored
// (an ignored signal stays ignored across exec), so writes past the limit fail cleanly.
// ---------------------------------------------------------------------------------------

/// `schemagate <args> --db data/app.db` under `ulimit -f <kib>`.
fn run_with_file_limit(p: &Project, kib: u64, args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(assert_cmd::cargo::cargo_bin("schemagate"))
        .args(args)
        .args(["--db", "data/app.db"])
        .current_dir(p.path())
        .env_remove("SCHEMAGATE_ENV")
        .env_remove("SCHEMAGATE_PYTHON")
        .env_remove("SCHEMAGATE_TEST_FAILPOINT")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// A database of about 1 MiB at `001`.
fn big_project() -> Project {
    let p = Project::new();
    p.file(
        "001_t.sql",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, pad TEXT);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 6000) INSERT INTO t SELECT i, hex(randomblob(100)) FROM c;\n",
    );
    p.run(&["migrate"]).success();
    assert!(fs::metadata(p.db()).unwrap().len() > 900 * 1024);
    p
}

#[test]
fn a_backup_that_hits_the_file_size_limit_is_exit_2_with_nothing_applied_and_no_partial_file() {
    let p = big_project();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    let before = fs::read(p.db()).unwrap();
    // The database can be opened and read, but a full copy of it cannot be written.
    let (code, out) = run_with_file_limit(&p, 256, &["migrate"]);
    no_panic(&out);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("backup"), "{out}");
    assert!(out.contains("data/backups"), "{out}");
    assert!(out.contains("nothing was applied"), "{out}");
    assert_eq!(
        fs::read(p.db()).unwrap(),
        before,
        "the database is untouched"
    );
    assert_eq!(p.versions(), ["001"]);
    let left: Vec<_> = fs::read_dir(p.backups())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "partial files left: {left:?}");
    assert!(!p.path().join("data/app.db-journal").exists());
    // Without the limit the same run completes.
    p.run(&["migrate"]).success();
    assert_eq!(p.versions(), ["001", "002"]);
    assert_eq!(p.backup_files().len(), 1);
}

#[test]
fn a_migration_that_hits_the_file_size_limit_rolls_back_alone_and_says_what_happened() {
    let p = big_project();
    let size_kib = fs::metadata(p.db()).unwrap().len() / 1024;
    p.file(
        "002_small.sql",
        "CREATE TABLE small(x);\nINSERT INTO small VALUES (1);\n",
    );
    p.file(
        "003_grow.sql",
        "CREATE TABLE grow(pad TEXT);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) INSERT INTO grow SELECT hex(randomblob(100)) FROM c;\n",
    );
    p.file("004_after.sql", "CREATE TABLE after(x);\n");
    let (code, out) = run_with_file_limit(&p, size_kib + 256, &["migrate", "--no-backup"]);
    no_panic(&out);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("003_grow.sql"), "{out}");
    assert!(out.contains("rolled back"), "{out}");
    assert!(out.contains("file-size limit"), "{out}");
    assert!(
        !out.contains("fix it and run"),
        "nothing in the file to fix: {out}"
    );
    assert!(
        !out.to_lowercase().contains("disk full") && !out.contains("disk is full"),
        "EFBIG is not a full disk: {out}"
    );
    let conn = p.open();
    assert!(integrity_ok(&conn));
    let tables = common::tables(&conn);
    assert!(tables.contains(&"small".to_string()));
    assert!(!tables.contains(&"grow".to_string()));
    assert!(!tables.contains(&"after".to_string()));
    drop(conn);
    assert_eq!(p.versions(), ["001", "002"]);
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions(), ["001", "002", "003", "004"]);
}
