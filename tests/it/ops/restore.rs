//! `restore` and `backups`: a backup brought back with the replaced state and the audit trail
//! kept, bad backups refused, the live journal mode kept.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::{
    AUDIT_SQL, INIT, Project, TAGS_PY, applied_project, audit, backups, query, sha256, stderr,
    stdout, tables, versions, write_backup,
};

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
