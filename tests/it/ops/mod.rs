//! Operations: rollback, restore, backups, repairs (mark-applied, forget, rekey), renumber
//! and the audit trail. Real SQLite files, real python3, real git repositories in temp
//! dirs, the real binary.

mod every_operation;
mod renumber;
mod repair;
mod restore;
mod rollback;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::common::{self, git, query_strings, schemagate};

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
