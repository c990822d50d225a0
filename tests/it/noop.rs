//! A no-op `migrate` (issue 13): the folder is read on threads while the database is
//! opened and its history read. Whatever the reading shortcuts, drift must still be found,
//! even an edit that keeps the file's size and modification time, and a folder that
//! cannot be read must still stop the run before anything changes.

use std::fs;
use std::time::{Duration, SystemTime};

use crate::common::{Project, output};

/// 300 applied migrations: more than one thread's share of the folder.
fn applied_project() -> Project {
    let p = Project::new();
    for n in 1..=300 {
        p.file(
            &format!("{n:04}_t{n}.sql"),
            format!("CREATE TABLE t{n} (x INTEGER);\n"),
        );
    }
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions().len(), 300);
    p
}

#[test]
fn an_edit_that_keeps_size_and_mtime_is_still_drift() {
    let p = applied_project();
    let path = p.migrations().join("0257_t257.sql");
    let before = fs::metadata(&path).unwrap();
    let mtime = before.modified().unwrap();
    // Same length, one letter changed, the modification time put back.
    fs::write(&path, "CREATE TABLE t257 (y INTEGER);\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), mtime);

    let out = output(&p.run(&["migrate", "--no-backup"]).code(1));
    assert!(out.contains("checksum-drift"), "{out}");
    assert!(out.contains("migrations/0257_t257.sql"), "{out}");
    assert!(out.contains("refusing to apply"), "{out}");
}

#[test]
fn an_unchanged_folder_is_current_and_a_new_file_is_applied() {
    let p = applied_project();
    let out = output(&p.run(&["migrate", "--no-backup"]).success());
    assert!(out.contains("current, nothing to apply"), "{out}");
    p.file("0301_t301.sql", "CREATE TABLE t301 (x);\n");
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions().len(), 301);
}

#[test]
fn a_folder_that_cannot_be_read_stops_the_run_before_any_change() {
    // An existing database: byte for byte the same afterwards.
    let p = applied_project();
    p.file(
        "0301_bad.sql",
        b"CREATE TABLE t (x);\n-- \xff\xfe\n".as_slice(),
    );
    let db_before = fs::read(p.db()).unwrap();
    let out = output(&p.run(&["migrate", "--no-backup"]).code(2));
    assert!(out.contains("migrations/0301_bad.sql"), "{out}");
    assert!(out.contains("not valid UTF-8"), "{out}");
    assert_eq!(fs::read(p.db()).unwrap(), db_before);

    // No database yet: none is created.
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a (x);\n");
    p.file("002_bad.sql", b"\xff".as_slice());
    let out = output(&p.run(&["migrate", "--no-backup"]).code(2));
    assert!(out.contains("migrations/002_bad.sql"), "{out}");
    assert!(!p.db().exists());
    assert!(!p.db().parent().unwrap().exists() || p.data_dir_names().is_empty());
}

#[test]
fn a_file_touched_without_changes_is_not_drift() {
    let p = applied_project();
    let path = p.migrations().join("0100_t100.sql");
    let later = SystemTime::now() + Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let out = output(&p.run(&["migrate", "--no-backup"]).success());
    assert!(out.contains("current, nothing to apply"), "{out}");
}
