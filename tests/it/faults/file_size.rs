//! File-size limit (EFBIG) as a stand-in for a full disk: RLIMIT_FSIZE with SIGXFSZ ignored
//! (an ignored signal stays ignored across exec), so writes past the limit fail cleanly.

use std::fs;
use std::process::Command;

use super::no_panic;
use crate::common::{self, Project, bin, integrity_ok, stdout_and_stderr};

/// `schemagate <args> --db data/app.db` under `ulimit -f <kib>`.
fn run_with_file_limit(p: &Project, kib: u64, args: &[&str]) -> (Option<i32>, String) {
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(bin());
    let out = p.std_cmd_of(bash, args).output().unwrap();
    (out.status.code(), stdout_and_stderr(&out))
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
