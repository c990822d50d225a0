//! `schemagate verify`: the real schema against a replay of the recorded migrations.

use std::path::PathBuf;

use assert_cmd::Command;
use rusqlite::Connection;

struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

const FILES: &[(&str, &str)] = &[
    (
        "001_init.sql",
        "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n",
    ),
    (
        "002_add_email.sql",
        "-- email\nALTER TABLE users ADD COLUMN email TEXT;\n",
    ),
    (
        "003_create_audit_log.sql",
        "-- audit\nCREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY, action TEXT NOT NULL);\nCREATE INDEX IF NOT EXISTS audit_log_action ON audit_log(action);\n",
    ),
];

impl Project {
    fn new() -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        std::fs::create_dir_all(root.join("migrations")).unwrap();
        for (name, text) in FILES {
            std::fs::write(root.join("migrations").join(name), text).unwrap();
        }
        Project { _tmp: tmp, root }
    }

    /// A database with every migration recorded; `run` says which of them really ran.
    fn database(&self, run: &[&str]) -> PathBuf {
        let db = self.root.join("app.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_versions (id INTEGER PRIMARY KEY, version TEXT UNIQUE NOT NULL,
                applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, description TEXT, checksum TEXT);",
        )
        .unwrap();
        for (name, text) in FILES {
            let version = &name[..3];
            if run.contains(&version) {
                conn.execute_batch(text).unwrap();
            }
            conn.execute(
                "INSERT INTO schema_versions (version, description, checksum) VALUES (?1, ?2, ?3)",
                [
                    version,
                    name,
                    &schemagate::checksum::sha256_normalised(text),
                ],
            )
            .unwrap();
        }
        db
    }

    fn verify(&self) -> (i32, serde_json::Value, String) {
        let out = Command::cargo_bin("schemagate")
            .unwrap()
            .current_dir(&self.root)
            .env_remove("GITHUB_ACTIONS")
            .args(["verify", "--db", "app.db", "--format", "json"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}\n{stderr}"));
        (out.status.code().unwrap_or(-1), v, stderr)
    }
}

fn drift(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema-drift")
        .collect()
}

#[test]
fn a_database_that_ran_everything_it_recorded_verifies_clean() {
    let p = Project::new();
    let db = p.database(&["001", "002", "003"]);
    let before = std::fs::read(&db).unwrap();
    let (code, v, err) = p.verify();
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert!(drift(&v).is_empty(), "{v:#}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_recorded_migration_whose_table_was_never_created_is_schema_drift() {
    let p = Project::new();
    p.database(&["001", "002"]);
    let (code, v, err) = p.verify();
    assert_eq!(code, 1, "{v:#}\n{err}");
    let d = drift(&v);
    let table = d
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("table audit_log is missing")
        })
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(table["path"], "migrations/003_create_audit_log.sql");
    assert!(
        table["message"]
            .as_str()
            .unwrap()
            .contains("003_create_audit_log.sql")
    );
    // Its index is missing too, and blamed on the same migration.
    assert!(d.iter().any(|f| {
        f["message"]
            .as_str()
            .unwrap()
            .contains("index audit_log_action")
    }));
}

#[test]
fn a_column_that_never_arrived_is_named() {
    let p = Project::new();
    p.database(&["001", "003"]);
    let (code, v, _) = p.verify();
    assert_eq!(code, 1);
    let d = drift(&v);
    assert_eq!(d.len(), 1, "{v:#}");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(msg.contains("table users"), "{msg}");
    assert!(msg.contains("column email TEXT"), "{msg}");
    assert_eq!(d[0]["path"], "migrations/002_add_email.sql");
}

#[test]
fn a_table_created_by_hand_is_reported() {
    let p = Project::new();
    let db = p.database(&["001", "002", "003"]);
    Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE scratchpad (x);")
        .unwrap();
    let (code, v, _) = p.verify();
    assert_eq!(code, 1);
    let d = drift(&v);
    assert_eq!(d.len(), 1, "{v:#}");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("table scratchpad")
    );
}

#[test]
fn verify_needs_a_database() {
    let p = Project::new();
    let out = Command::cargo_bin("schemagate")
        .unwrap()
        .current_dir(&p.root)
        .args(["verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
