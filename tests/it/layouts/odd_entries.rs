//! Issue 12: what cannot be read as a migration is refused by every command before any
//! change (exit 2, naming the entry), never skipped: a partial view of the folder is how
//! migrations get skipped.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::fixture;
use crate::common::{Project, output};

/// Every command that reads the folder, with the database: each must refuse, and the
/// database and the folder must stay byte for byte as they were.
fn refused_everywhere(p: &Project, expect: &[&str]) {
    fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    rusqlite::Connection::open(p.db())
        .unwrap()
        .execute_batch("CREATE TABLE keep(x); INSERT INTO keep VALUES (1);")
        .unwrap();
    let before = fs::read(p.db()).unwrap();
    let listing = |dir: &Path| {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        names
    };
    let folder = listing(&p.migrations());
    for args in [
        &["lint"][..],
        &["check"],
        &["migrate"],
        &["dry-run"],
        &["status"],
        &["pending"],
        &["verify"],
        &["rollback"],
    ] {
        let a = p.run(args).code(2);
        let out = output(&a);
        for e in expect {
            assert!(out.contains(e), "{args:?} does not name `{e}`:\n{out}");
        }
    }
    assert_eq!(fs::read(p.db()).unwrap(), before, "the database changed");
    assert_eq!(listing(&p.migrations()), folder, "the folder changed");
    assert!(p.backup_files().is_empty());
}

fn project() -> Project {
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE a(x);\n");
    p
}

/// Issue 12.2: `migrate` ran the part before a NUL byte, recorded the file and said ok.
#[test]
fn a_nul_byte_in_a_sql_file_is_refused_with_its_offset() {
    let p = project();
    p.file("002_b.sql", b"CREATE TABLE b(x);\0CREATE TABLE c(x);\n");
    refused_everywhere(&p, &["migrations/002_b.sql", "NUL byte at offset 18"]);
}

#[test]
fn a_nul_byte_in_a_down_file_is_refused_too() {
    let p = fixture("golang-migrate").project();
    p.file("000001_create_users.down.sql", b"DROP TABLE users;\0\n");
    refused_everywhere(
        &p,
        &[
            "migrations/000001_create_users.down.sql",
            "NUL byte at offset 17",
        ],
    );
}

/// An unclosed `/*` makes SQLite skip the rest of the file without an error.
#[test]
fn an_unclosed_block_comment_is_refused_with_its_position() {
    let p = project();
    p.file(
        "002_b.sql",
        "CREATE TABLE b(x);\n/* TODO: later\nCREATE TABLE c(x);\n",
    );
    refused_everywhere(&p, &["migrations/002_b.sql:2:1", "never closed"]);
}

#[test]
fn a_dangling_symbolic_link_is_refused() {
    let p = project();
    std::os::unix::fs::symlink("/nonexistent/002_b.sql", p.migrations().join("002_b.sql")).unwrap();
    refused_everywhere(&p, &["migrations/002_b.sql", "dangling symbolic link"]);
}

#[test]
fn a_symbolic_link_loop_is_refused() {
    let p = project();
    std::os::unix::fs::symlink("002_b.sql", p.migrations().join("002_b.sql")).unwrap();
    refused_everywhere(&p, &["migrations/002_b.sql", "symbolic link loop"]);
}

/// Reading a FIFO would block forever; it is neither read nor skipped.
#[test]
fn a_fifo_is_refused_without_blocking() {
    let p = project();
    let fifo = p.migrations().join("002_b.sql");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success());
    refused_everywhere(&p, &["migrations/002_b.sql", "FIFO"]);
}

#[test]
fn a_folder_named_like_a_migration_is_refused() {
    let p = project();
    fs::create_dir(p.migrations().join("002_b.sql")).unwrap();
    refused_everywhere(
        &p,
        &["migrations/002_b.sql", "a folder named like a migration"],
    );
}

#[test]
fn a_file_name_that_is_not_utf8_is_refused() {
    let p = project();
    let name = std::ffi::OsStr::from_bytes(b"002_caf\xe9.sql");
    fs::write(p.migrations().join(name), "CREATE TABLE b(x);\n").unwrap();
    refused_everywhere(&p, &["migrations/002_caf\u{fffd}.sql", "not valid UTF-8"]);
}

#[test]
fn an_upper_case_extension_is_refused() {
    let p = project();
    p.file("002_b.SQL", "CREATE TABLE b(x);\n");
    refused_everywhere(&p, &["migrations/002_b.SQL", "rename it to `002_b.sql`"]);
}

/// Entries that are not named like migrations stay out of it: notes, helpers, a cache
/// folder, even an odd one.
#[test]
fn entries_not_named_like_migrations_are_left_alone() {
    let p = project();
    p.file("README.md", "notes\n");
    fs::create_dir(p.migrations().join("__pycache__")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", p.migrations().join("latest")).unwrap();
    p.run(&["lint"]).success();
}

/// In a diesel folder, folders are the migrations.
#[test]
fn diesel_folders_are_migrations_not_odd_entries() {
    let p = fixture("diesel").project();
    fs::write(p.migrations().join(".keep"), "").unwrap();
    p.run(&["lint"]).success();
    // A diesel folder without up.sql is the tool's error, reported as a finding.
    fs::create_dir(p.migrations().join("2024-03-01-000000_empty")).unwrap();
    let out = output(&p.run(&["lint"]).code(1));
    assert!(out.contains("no `up.sql`"), "{out}");
}
