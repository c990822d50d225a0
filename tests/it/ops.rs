//! Operations: rollback, restore, backups, repairs (mark-applied, forget, rekey), renumber
//! and the audit trail. Real SQLite files, real python3, real git repositories in temp
//! dirs, the real binary.

use std::path::{Path, PathBuf};

use crate::common::{self, git, query_strings, schemagate};
use assert_cmd::Command;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// The shared temp project, with the operations' own fixtures on top.
struct Project(common::Project);

impl Project {
    fn new() -> Project {
        Project(common::Project::new())
    }

    fn root(&self) -> &Path {
        self.0.path()
    }

    fn migrations(&self) -> PathBuf {
        self.0.migrations()
    }

    fn db(&self) -> PathBuf {
        self.0.db()
    }

    fn file(&self, name: &str, text: &str) -> &Project {
        self.0.file(name, text);
        self
    }

    fn exists(&self, name: &str) -> bool {
        self.migrations().join(name).exists()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = schemagate(self.root());
        c.args(args);
        c
    }

    fn git(&self, args: &[&str]) {
        git(self.root(), args);
    }

    fn git_init(&self) {
        self.git(&["init", "-q", "-b", "main"]);
    }

    fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
    }

    /// A database with the legacy history table and the given rows (version, checksum).
    fn legacy_db(&self, rows: &[(&str, &str)]) -> Connection {
        let conn = common::legacy_db(&self.db());
        for (v, c) in rows {
            conn.execute(
                "INSERT INTO schema_versions (version, description, checksum) VALUES (?1, 'x', ?2)",
                [v, c],
            )
            .unwrap();
        }
        conn
    }
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------
// renumber

fn duplicated_folder(p: &Project) {
    p.file("001_init.sql", "CREATE TABLE a(x);\n")
        .file("002_users.sql", "CREATE TABLE users(x);\n")
        .file("002_posts.sql", "CREATE TABLE posts(x);\n")
        .file("004_c.sql", "CREATE TABLE c(x);\n")
        .file("004_d.sql", "CREATE TABLE d(x);\n")
        .file(
            "004_e.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE e(x)')\n",
        )
        .file("005_last.sql", "CREATE TABLE last(x);\n");
}

#[test]
fn renumber_keeps_the_applied_file_and_moves_the_others_above_the_newest() {
    let p = Project::new();
    p.git_init();
    duplicated_folder(&p);
    p.commit_all("migrations");
    p.legacy_db(&[
        ("001", &sha256("CREATE TABLE a(x);\n")),
        ("004", &sha256("CREATE TABLE d(x);\n")),
    ]);
    let db = p.db().display().to_string();

    // The plan alone changes nothing and reports the duplicates (exit 1).
    let out = p.cmd(&["renumber", "--db", &db]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("version 004: keep 004_d.sql (applied in the database)"),
        "{text}"
    );
    assert!(
        text.contains("would rename 004_c.sql -> 007_c.sql"),
        "{text}"
    );
    assert!(p.exists("004_c.sql") && p.exists("002_posts.sql"));
    let out = p.cmd(&["lint", "--format", "json"]).output().unwrap();
    assert!(
        stdout(&out).contains("\"duplicate-version\""),
        "{}",
        stdout(&out)
    );

    let out = p
        .cmd(&["renumber", "--db", &db, "--write", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["written"], true);
    let moves: Vec<(String, String)> = json["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["from"].as_str().unwrap().to_string(),
                m["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // 002: both files committed together, so apply order decides; 004: the applied one stays.
    assert_eq!(
        moves,
        [
            ("002_users.sql".to_string(), "006_users.sql".to_string()),
            ("004_c.sql".to_string(), "007_c.sql".to_string()),
            ("004_e.py".to_string(), "008_e.py".to_string()),
        ]
    );
    for kept in [
        "002_posts.sql",
        "004_d.sql",
        "006_users.sql",
        "007_c.sql",
        "008_e.py",
    ] {
        assert!(p.exists(kept), "{kept} missing");
    }
    assert!(!p.exists("004_c.sql") && !p.exists("002_users.sql"));

    // Renamed with git mv: the index knows the new names.
    let staged = git(p.root(), &["diff", "--cached", "--name-status", "-M"]);
    assert!(staged.contains("migrations/007_c.sql"), "{staged}");

    // Nothing left to renumber, and lint finds no duplicate.
    let out = p.cmd(&["renumber", "--db", &db]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("no duplicate versions"));
    let out = p.cmd(&["lint", "--format", "json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"duplicate-version"), "{rules:?}");
}

#[test]
fn renumber_never_moves_a_file_present_on_the_base_branch() {
    let p = Project::new();
    p.git_init();
    p.file("001_a.sql", "CREATE TABLE a(x);\n")
        .file("003_zeta.sql", "CREATE TABLE z(x);\n");
    p.commit_all("base");
    p.git(&["branch", "base"]);
    // A later branch adds a file that sorts first in the same version.
    p.file("003_alpha.sql", "CREATE TABLE al(x);\n");
    p.commit_all("feature");
    let out = p
        .cmd(&["renumber", "--base", "base", "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.exists("003_zeta.sql"));
    assert!(p.exists("004_alpha.sql"));
}

#[test]
fn renumber_outside_git_renames_plainly_in_apply_order() {
    let p = Project::new();
    p.file("010_a.sql", "SELECT 1;\n")
        .file("010_b.sql", "SELECT 2;\n");
    let out = p.cmd(&["renumber", "--write"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.exists("010_a.sql") && p.exists("011_b.sql"));
}

#[test]
fn renumber_refuses_when_two_protected_files_share_a_version() {
    let p = Project::new();
    p.git_init();
    p.file("001_a.sql", "CREATE TABLE a(x);\n")
        .file("002_b.sql", "CREATE TABLE b(x);\n");
    p.commit_all("base");
    p.git(&["branch", "base"]);
    p.file("002_c.sql", "CREATE TABLE c(x);\n");
    p.legacy_db(&[("002", &sha256("CREATE TABLE c(x);\n"))]);
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["renumber", "--base", "base", "--db", &db, "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing renamed"), "{}", stderr(&out));
    assert!(p.exists("002_b.sql") && p.exists("002_c.sql"));
}

#[test]
fn renumber_with_a_missing_database_is_an_error_not_an_empty_history() {
    let p = Project::new();
    p.file("001_a.sql", "SELECT 1;\n")
        .file("001_b.sql", "SELECT 2;\n");
    let out = p
        .cmd(&["renumber", "--db", "nope/typo.db", "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(p.exists("001_b.sql"));
    assert!(!p.root().join("nope").exists());
}

// ---------------------------------------------------------------------------------------
// a database migrated by the legacy manager, built here with the statements it ran

const INIT: &str = "-- users\nCREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n";
const TAGS_PY: &str = "DESCRIPTION = 'tags'\n\ndef upgrade(conn):\n    conn.execute('CREATE TABLE tags(id INTEGER PRIMARY KEY)')\n\ndef downgrade(conn):\n    conn.execute('DROP TABLE tags')\n";
const NOTES_PY: &str = "def upgrade(conn):\n    conn.execute('CREATE TABLE notes(id INTEGER PRIMARY KEY)')\n\ndef downgrade(conn):\n    conn.execute('DROP TABLE notes')\n";
const AUDIT_SQL: &str = "CREATE TABLE audit_log(id INTEGER PRIMARY KEY);\n";

/// 001 (SQL) and 002 (Python) applied, files in the folder.
fn applied_project() -> Project {
    let p = Project::new();
    p.file("001_init.sql", INIT).file("002_tags.py", TAGS_PY);
    let conn = p.legacy_db(&[("001", &sha256(INIT)), ("002", &sha256(TAGS_PY))]);
    conn.execute_batch(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO users(name) VALUES ('ada');
         CREATE TABLE tags(id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    p
}

fn query(db: &Path, sql: &str) -> Vec<String> {
    query_strings(&Connection::open(db).unwrap(), sql)
}

fn versions(db: &Path) -> Vec<String> {
    query(db, "SELECT version FROM schema_versions ORDER BY id")
}

fn tables(db: &Path) -> Vec<String> {
    query(
        db,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'schemagate%' ORDER BY name",
    )
}

fn audit(db: &Path) -> Vec<String> {
    query(
        db,
        "SELECT command || ' ' || versions || ' ' || coalesce(reason, '-') FROM schemagate_audit ORDER BY id",
    )
}

fn backups(p: &Project) -> Vec<PathBuf> {
    let dir = p.db().parent().unwrap().join("backups");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------
// rollback

#[test]
fn rollback_runs_downgrade_and_removes_the_row_in_one_step() {
    let p = applied_project();
    let db = p.db().display().to_string();
    let out = p
        .cmd(&[
            "rollback",
            "--db",
            &db,
            "--reason",
            "bad deploy",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "rolled-back");
    assert_eq!(json["rolled_back"], serde_json::json!(["002"]));
    let backup = PathBuf::from(json["backup"].as_str().unwrap());
    assert!(backup.exists());
    // The backup holds the state before the rollback.
    assert_eq!(versions(&backup), ["001", "002"]);

    assert_eq!(versions(&p.db()), ["001"]);
    assert_eq!(tables(&p.db()), ["schema_versions", "users"]);
    assert_eq!(audit(&p.db()), ["rollback 002 bad deploy"]);
    assert_eq!(query(&p.db(), "SELECT name FROM users"), ["ada"]);
}

#[test]
fn rollback_of_a_range_with_a_sql_migration_is_refused_before_anything_changes() {
    let p = applied_project();
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["rollback", "--db", &db, "--steps", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("001_init.sql: SQL migrations have no downgrade"),
        "{err}"
    );
    assert!(err.contains("schemagate restore"), "{err}");
    assert_eq!(versions(&p.db()), ["001", "002"]);
    assert_eq!(tables(&p.db()), ["schema_versions", "tags", "users"]);
    assert!(backups(&p).is_empty(), "no backup for a refused rollback");

    // --to 0 is the same range.
    let out = p
        .cmd(&["rollback", "--db", &db, "--to", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(versions(&p.db()), ["001", "002"]);
}

#[test]
fn rollback_refuses_a_python_migration_without_downgrade() {
    let p = applied_project();
    let no_down =
        "def upgrade(conn):\n    conn.execute('CREATE TABLE notes(id INTEGER PRIMARY KEY)')\n";
    p.file("003_notes.py", no_down);
    let conn = Connection::open(p.db()).unwrap();
    conn.execute_batch("CREATE TABLE notes(id INTEGER PRIMARY KEY);")
        .unwrap();
    conn.execute(
        "INSERT INTO schema_versions(version, checksum) VALUES ('003', ?1)",
        [sha256(no_down)],
    )
    .unwrap();
    drop(conn);
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["rollback", "--db", &db, "--to", "001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("003_notes.py"), "{}", stderr(&out));
    assert!(stderr(&out).contains("downgrade"), "{}", stderr(&out));
    assert_eq!(versions(&p.db()), ["001", "002", "003"]);
    assert_eq!(
        tables(&p.db()),
        ["notes", "schema_versions", "tags", "users"]
    );
}

#[test]
fn a_failing_downgrade_leaves_its_migration_applied_and_stops() {
    let p = applied_project();
    let failing = NOTES_PY.replace(
        "    conn.execute('DROP TABLE notes')\n",
        "    conn.execute('DROP TABLE notes')\n    raise RuntimeError('cannot go back')\n",
    );
    p.file("003_notes.py", &failing);
    let conn = Connection::open(p.db()).unwrap();
    conn.execute_batch("CREATE TABLE notes(id INTEGER PRIMARY KEY);")
        .unwrap();
    conn.execute(
        "INSERT INTO schema_versions(version, checksum) VALUES ('003', ?1)",
        [sha256(&failing)],
    )
    .unwrap();
    drop(conn);
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["rollback", "--db", &db, "--to", "001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot go back"), "{}", stderr(&out));
    // 003 failed first: nothing of it is gone, and 002 was not attempted.
    assert_eq!(versions(&p.db()), ["001", "002", "003"]);
    assert_eq!(
        tables(&p.db()),
        ["notes", "schema_versions", "tags", "users"]
    );
}

// ---------------------------------------------------------------------------------------
// restore and backups

/// A backup file as the deploy step names them, holding 001 and 002 applied.
fn write_backup(p: &Project, name: &str) -> PathBuf {
    let dir = p.db().parent().unwrap().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE schema_versions (id INTEGER PRIMARY KEY, version TEXT UNIQUE NOT NULL,
            applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, description TEXT, checksum TEXT);
         INSERT INTO schema_versions(version, checksum) VALUES ('001', '{}'), ('002', '{}');
         CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO users(name) VALUES ('from-backup');
         CREATE TABLE tags(id INTEGER PRIMARY KEY);",
        sha256(INIT),
        sha256(TAGS_PY)
    ))
    .unwrap();
    path
}

/// The live database moves on to 003 after the backups were taken.
fn advance_live(p: &Project) {
    p.file("003_audit_log.sql", AUDIT_SQL);
    let conn = Connection::open(p.db()).unwrap();
    conn.execute_batch(AUDIT_SQL).unwrap();
    conn.execute(
        "INSERT INTO schema_versions(version, checksum) VALUES ('003', ?1)",
        [sha256(AUDIT_SQL)],
    )
    .unwrap();
}

#[test]
fn restore_brings_back_the_newest_backup_and_keeps_the_replaced_state() {
    let p = applied_project();
    let older = write_backup(&p, "app_20240101_000000.db");
    Connection::open(&older)
        .unwrap()
        .execute("UPDATE users SET name = 'older'", [])
        .unwrap();
    let newest = write_backup(&p, "app_20240102_000000.db");
    advance_live(&p);
    let db = p.db().display().to_string();

    // An application connection stays open across the restore.
    let app = Connection::open(p.db()).unwrap();
    assert_eq!(
        app.query_row("SELECT count(*) FROM schema_versions", [], |r| r
            .get::<_, i64>(0))
            .unwrap(),
        3
    );

    let out = p
        .cmd(&[
            "restore",
            "--db",
            &db,
            "--reason",
            "003 broke prod",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["restored_from"], newest.display().to_string());
    assert_eq!(json["no_longer_applied"], serde_json::json!(["003"]));

    assert_eq!(versions(&p.db()), ["001", "002"]);
    assert_eq!(tables(&p.db()), ["schema_versions", "tags", "users"]);
    assert_eq!(query(&p.db(), "SELECT name FROM users"), ["from-backup"]);
    // The open connection sees the restored state, not a stale file.
    assert_eq!(
        app.query_row("SELECT name FROM users", [], |r| r.get::<_, String>(0))
            .unwrap(),
        "from-backup"
    );

    // The replaced state was backed up first and holds 003.
    let replaced = PathBuf::from(json["backup"].as_str().unwrap());
    assert_eq!(versions(&replaced), ["001", "002", "003"]);
    assert_eq!(audit(&p.db()), ["restore 003 003 broke prod"]);
    // Journal files were never touched by hand; no staging file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(p.db().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("schemagate-restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn restore_keeps_the_audit_trail_written_after_the_backup() {
    let p = applied_project();
    write_backup(&p, "app_20240101_000000.db");
    let db = p.db().display().to_string();
    p.cmd(&["forget", "002", "--db", &db, "--reason", "oops"])
        .assert()
        .success();
    p.cmd(&["restore", "--db", &db]).assert().success();
    assert_eq!(audit(&p.db()), ["forget 002 oops", "restore 002 -"]);
    assert_eq!(versions(&p.db()), ["001", "002"]);
}

#[test]
fn restore_refuses_corrupt_foreign_and_non_database_backups() {
    let p = applied_project();
    let db = p.db().display().to_string();
    let before = versions(&p.db());

    // Corrupt: a real backup with a damaged b-tree page.
    let corrupt = write_backup(&p, "app_20240101_000000.db");
    let mut bytes = std::fs::read(&corrupt).unwrap();
    assert!(bytes.len() >= 4096 * 3);
    for b in &mut bytes[4096 + 100..4096 * 2] {
        *b = 0xA5;
    }
    bytes[4096] = 0x0d;
    std::fs::write(&corrupt, &bytes).unwrap();
    let out = p
        .cmd(&[
            "restore",
            "--db",
            &db,
            "--backup",
            corrupt.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("refusing to restore"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("quick_check"), "{}", stderr(&out));

    // Foreign: another application's database with a history table.
    let foreign = p.root().join("other.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch(
            "CREATE TABLE schema_versions (id INTEGER PRIMARY KEY, version TEXT UNIQUE NOT NULL, applied_at TIMESTAMP, description TEXT, checksum TEXT);
             CREATE TABLE invoices(id INTEGER PRIMARY KEY);",
        )
        .unwrap();
    let out = p
        .cmd(&[
            "restore",
            "--db",
            &db,
            "--backup",
            foreign.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("shares no table"), "{}", stderr(&out));

    // Not a migrated database at all.
    let plain = p.root().join("plain.db");
    Connection::open(&plain)
        .unwrap()
        .execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY);")
        .unwrap();
    let out = p
        .cmd(&["restore", "--db", &db, "--backup", plain.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no schema_versions table"),
        "{}",
        stderr(&out)
    );

    let text = p.root().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let out = p
        .cmd(&["restore", "--db", &db, "--backup", text.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    assert_eq!(versions(&p.db()), before);
    assert_eq!(query(&p.db(), "SELECT name FROM users"), ["ada"]);
    // Refused before the current state was backed up: only the corrupt file is there.
    assert_eq!(backups(&p), [corrupt]);
}

#[test]
fn restore_without_backups_says_how_to_pass_one() {
    let p = applied_project();
    let db = p.db().display().to_string();
    let out = p.cmd(&["restore", "--db", &db]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--backup FILE"), "{}", stderr(&out));
}

#[test]
fn backups_lists_time_size_and_newest_version() {
    let p = applied_project();
    write_backup(&p, "app_20240101_000000.db");
    let second = write_backup(&p, "app_20240102_000000.db");
    Connection::open(&second)
        .unwrap()
        .execute("DELETE FROM schema_versions WHERE version = '002'", [])
        .unwrap();
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["backups", "--db", &db, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = json["backups"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["newest_version"], "002");
    assert_eq!(list[1]["newest_version"], "001");
    assert!(list[0]["size"].as_u64().unwrap() > 0);
    assert!(list[0]["modified"].as_u64().is_some());

    let out = p.cmd(&["backups", "--db", &db]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("newest version 002"), "{text}");
    assert!(text.contains("app_20240102_000000.db"), "{text}");
}

// ---------------------------------------------------------------------------------------
// repairs

#[test]
fn mark_applied_records_the_real_checksum() {
    let p = applied_project();
    p.file("003_audit_log.sql", AUDIT_SQL);
    let db = p.db().display().to_string();
    let out = p
        .cmd(&[
            "mark-applied",
            "003",
            "--db",
            &db,
            "--reason",
            "ran by hand in 2023",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        query(
            &p.db(),
            "SELECT checksum FROM schema_versions WHERE version = '003'"
        ),
        [sha256(AUDIT_SQL)]
    );
    // Not run: marking records, it does not execute.
    assert!(!tables(&p.db()).contains(&"audit_log".to_string()));
    assert_eq!(audit(&p.db()), ["mark-applied 003 ran by hand in 2023"]);

    // Already applied, and a version without a file: exit 2, nothing written.
    for v in ["003", "009"] {
        let out = p
            .cmd(&["mark-applied", v, "--db", &db, "--reason", "x"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{v}");
    }
    assert_eq!(versions(&p.db()), ["001", "002", "003"]);
    assert_eq!(audit(&p.db()).len(), 1);
}

#[test]
fn forget_removes_the_row_and_refuses_an_unknown_version() {
    let p = applied_project();
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["forget", "2", "--db", &db, "--reason", "re-run it"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(versions(&p.db()), ["001"]);
    assert_eq!(audit(&p.db()), ["forget 002 re-run it"]);

    let out = p
        .cmd(&["forget", "002", "--db", &db, "--reason", "again"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not recorded"), "{}", stderr(&out));
    let out = p
        .cmd(&["forget", "abc", "--db", &db, "--reason", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(audit(&p.db()).len(), 1);
}

#[test]
fn repairs_on_a_missing_database_create_nothing() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    let out = p
        .cmd(&[
            "mark-applied",
            "001",
            "--db",
            "data/typo.db",
            "--reason",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!p.root().join("data").exists());
}

#[test]
fn rekey_moves_a_row_to_the_renumbered_file_with_the_same_content() {
    let p = applied_project();
    // 002 was renumbered to 005 after it had been applied.
    std::fs::rename(
        p.migrations().join("002_tags.py"),
        p.migrations().join("005_tags.py"),
    )
    .unwrap();
    p.file("006_other.py", NOTES_PY);
    let db = p.db().display().to_string();

    // Wrong content: refused.
    let out = p
        .cmd(&["rekey", "002", "006", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does not have the content"),
        "{}",
        stderr(&out)
    );
    assert_eq!(versions(&p.db()), ["001", "002"]);

    let out = p
        .cmd(&[
            "rekey",
            "002",
            "005",
            "--db",
            &db,
            "--reason",
            "renumbered in #41",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(versions(&p.db()), ["001", "005"]);
    assert_eq!(audit(&p.db()), ["rekey 002,005 renumbered in #41"]);

    // The old version is gone now.
    let out = p
        .cmd(&["rekey", "002", "005", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn header_journal_bytes(path: &Path) -> [u8; 2] {
    let bytes = std::fs::read(path).unwrap();
    [bytes[18], bytes[19]]
}

#[test]
fn restore_keeps_the_live_journal_mode() {
    // A backup taken from a WAL database, restored into a rollback-journal database.
    let p = applied_project();
    let backup = write_backup(&p, "app_20240101_000000.db");
    let conn = Connection::open(&backup).unwrap();
    let _: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    assert_eq!(header_journal_bytes(&backup), [2, 2]);
    let db = p.db().display().to_string();
    p.cmd(&["restore", "--db", &db]).assert().success();
    assert_eq!(header_journal_bytes(&p.db()), [1, 1]);
    assert_eq!(query(&p.db(), "PRAGMA journal_mode"), ["delete"]);
}

#[test]
fn restore_into_a_wal_database_with_a_reader_open() {
    let p = applied_project();
    write_backup(&p, "app_20240101_000000.db");
    advance_live(&p);
    let app = Connection::open(p.db()).unwrap();
    let _: String = app
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    app.execute("INSERT INTO users(name) VALUES ('recent')", [])
        .unwrap();
    let db = p.db().display().to_string();
    p.cmd(&["restore", "--db", &db]).assert().success();
    let names: Vec<String> = app
        .prepare("SELECT name FROM users")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["from-backup"]);
    assert_eq!(query(&p.db(), "PRAGMA journal_mode"), ["wal"]);
    assert_eq!(versions(&p.db()), ["001", "002"]);
    // The replaced state, with the row only the WAL held, is in the pre-restore backup.
    let newest = backups(&p).pop().unwrap();
    assert_eq!(
        query(&newest, "SELECT name FROM users ORDER BY id"),
        ["ada", "recent"]
    );
}

#[test]
fn restore_into_a_database_that_does_not_exist_yet() {
    let p = Project::new();
    p.file("001_init.sql", INIT).file("002_tags.py", TAGS_PY);
    let backup = write_backup(&p, "app_20240101_000000.db");
    assert!(!p.db().exists());
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["restore", "--db", &db, "--backup", backup.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(versions(&p.db()), ["001", "002"]);
    // Nothing to back up before: the only backup is the one restored.
    assert_eq!(backups(&p), [backup]);
}

// ---------------------------------------------------------------------------------------
// audit trail

#[test]
fn every_operation_leaves_an_audit_row_that_status_audit_lists() {
    let p = applied_project();
    p.file("003_audit_log.sql", AUDIT_SQL);
    let db = p.db().display().to_string();
    let ok = |args: &[&str]| {
        let out = p.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    };
    ok(&[
        "mark-applied",
        "003",
        "--db",
        &db,
        "--reason",
        "ran by hand",
    ]);
    ok(&["forget", "003", "--db", &db, "--reason", "not really"]);
    std::fs::rename(
        p.migrations().join("002_tags.py"),
        p.migrations().join("004_tags.py"),
    )
    .unwrap();
    ok(&["rekey", "002", "004", "--db", &db, "--reason", "renumbered"]);
    ok(&["rollback", "--db", &db, "--reason", "bad tags"]);
    ok(&["restore", "--db", &db, "--reason", "undo the rollback"]);

    let out = p
        .cmd(&["status", "--audit", "--db", &db, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["databases"][0]["audit"].as_array().unwrap();
    let commands: Vec<&str> = rows
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        ["mark-applied", "forget", "rekey", "rollback", "restore"]
    );
    for r in rows {
        assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"));
        assert!(r["at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(rows[3]["versions"], serde_json::json!(["004"]));
    assert!(rows[3]["backup"].as_str().is_some());
    // The restore brought back the state before the rollback: 004 applied again.
    assert_eq!(
        rows[4]["details"]["now_applied"],
        serde_json::json!(["004"])
    );
    assert_eq!(versions(&p.db()), ["001", "004"]);

    let out = p.cmd(&["status", "--audit", "--db", &db]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("undo the rollback"), "{text}");
    assert!(text.contains("mark-applied"), "{text}");
}

#[test]
fn operations_wait_for_the_migrator_lock_and_change_nothing_without_it() {
    let p = applied_project();
    write_backup(&p, "app_20240101_000000.db");
    let db = p.db().display().to_string();
    let held = schemagate::lock::acquire(&p.db(), std::time::Duration::from_secs(1)).unwrap();
    for args in [
        vec!["forget", "002", "--reason", "x", "--lock-timeout", "0"],
        vec!["rollback", "--lock-timeout", "0"],
        vec!["restore", "--lock-timeout", "0"],
    ] {
        let out = p.cmd(&args).args(["--db", db.as_str()]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("another migration is running"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    drop(held);
    assert_eq!(versions(&p.db()), ["001", "002"]);
    assert_eq!(tables(&p.db()), ["schema_versions", "tags", "users"]);
    assert_eq!(backups(&p).len(), 1);
}
