//! `rollback`: each Python migration's `downgrade` and the removal of its history row in one
//! step; refused before anything changes when a migration in the range cannot be undone.

use std::path::PathBuf;

use rusqlite::Connection;

use super::{NOTES_PY, applied_project, audit, backups, query, sha256, stderr, tables, versions};

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
