//! `schemagate verify`: the real schema against a replay of the recorded migrations.

use std::path::PathBuf;

use rusqlite::Connection;

use crate::common::{Project, findings, legacy_db, run_json, schemagate};

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

fn project() -> Project {
    let p = Project::new();
    for (name, text) in FILES {
        p.file(name, text);
    }
    p
}

/// A database with every migration recorded; `run` says which of them really ran.
fn database(p: &Project, run: &[&str]) -> PathBuf {
    let db = p.path().join("app.db");
    let conn = legacy_db(&db);
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

fn verify(p: &Project) -> (i32, serde_json::Value, String) {
    run_json(schemagate(p.path()).args(["verify", "--db", "app.db", "--format", "json"]))
}

#[test]
fn a_database_that_ran_everything_it_recorded_verifies_clean() {
    let p = project();
    let db = database(&p, &["001", "002", "003"]);
    let before = std::fs::read(&db).unwrap();
    let (code, v, err) = verify(&p);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert!(findings(&v, "schema-drift").is_empty(), "{v:#}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_recorded_migration_whose_table_was_never_created_is_schema_drift() {
    let p = project();
    database(&p, &["001", "002"]);
    let (code, v, err) = verify(&p);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let d = findings(&v, "schema-drift");
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
    let p = project();
    database(&p, &["001", "003"]);
    let (code, v, _) = verify(&p);
    assert_eq!(code, 1);
    let d = findings(&v, "schema-drift");
    assert_eq!(d.len(), 1, "{v:#}");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(msg.contains("table users"), "{msg}");
    assert!(msg.contains("column email TEXT"), "{msg}");
    assert_eq!(d[0]["path"], "migrations/002_add_email.sql");
}

#[test]
fn a_table_created_by_hand_is_reported() {
    let p = project();
    let db = database(&p, &["001", "002", "003"]);
    Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE scratchpad (x);")
        .unwrap();
    let (code, v, _) = verify(&p);
    assert_eq!(code, 1);
    let d = findings(&v, "schema-drift");
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
    let p = project();
    let out = schemagate(p.path()).args(["verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
