//! 12.1: backups ordered by their real timestamp and sequence, whatever the database's name.

use std::fs;

use rusqlite::Connection;

use super::checked;
use crate::common::{LEGACY_HISTORY, Project, schemagate};

/// `app_data.db` with two backups taken in one second: `_2` is the newer one. It used to
/// be parsed as part of the name, so `restore` picked the first one and prune deleted the
/// backup just written.
#[test]
fn restore_picks_the_true_newest_when_the_name_has_an_underscore() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    let data = p.path().join("data");
    let backups = data.join("backups");
    fs::create_dir_all(&backups).unwrap();
    let make = |path: &std::path::Path, marker: &str| {
        let c = Connection::open(path).unwrap();
        c.execute_batch(LEGACY_HISTORY).unwrap();
        c.execute_batch(&format!(
            "CREATE TABLE a(x); INSERT INTO a VALUES ('{marker}');"
        ))
        .unwrap();
    };
    make(&data.join("app_data.db"), "live");
    make(&backups.join("app_data_20240101_120000.db"), "first");
    make(&backups.join("app_data_20240101_120000_2.db"), "second");
    make(&backups.join("app_data_20240101_120000_10.db"), "tenth");
    let out = checked(
        &schemagate(p.path())
            .args(["restore", "--db", "data/app_data.db", "--format", "json"])
            .assert()
            .code(0),
    );
    assert!(out.contains("app_data_20240101_120000_10.db"), "{out}");
    let c = Connection::open(data.join("app_data.db")).unwrap();
    let x: String = c.query_row("SELECT x FROM a", [], |r| r.get(0)).unwrap();
    assert_eq!(x, "tenth");
}

/// `keep_backups = 1` with an older-looking backup of the same second: the backup this
/// run wrote stays.
#[test]
fn migrate_with_keep_1_keeps_the_backup_it_wrote() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.config("[environments.prod]\ndatabase = \"data/app_data.db\"\nkeep_backups = 1\n");
    let data = p.path().join("data");
    fs::create_dir_all(data.join("backups")).unwrap();
    let c = Connection::open(data.join("app_data.db")).unwrap();
    c.execute_batch(LEGACY_HISTORY).unwrap();
    drop(c);
    // Named far in the future: by name, it is "the newest".
    fs::write(
        data.join("backups/app_data_29991231_235959_2.db"),
        b"not ours to keep",
    )
    .unwrap();
    let out = checked(
        &schemagate(p.path())
            .args(["migrate", "--env", "prod"])
            .assert()
            .code(0),
    );
    let left: Vec<String> = fs::read_dir(data.join("backups"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}\n{out}");
    assert!(
        out.contains(&format!("backup: data/backups/{}", left[0])),
        "{left:?}\n{out}"
    );
}
