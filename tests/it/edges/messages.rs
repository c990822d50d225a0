//! 12.17: messages that said the wrong thing or too little.

use std::fs;

use rusqlite::Connection;

use super::checked;
use crate::common::{Project, git, legacy_db};

/// A BLOB in `checksum` gave "invalid utf-8 sequence … at index 4", no table, no row.
#[test]
fn a_binary_history_value_is_named_by_table_row_and_column() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    let c = legacy_db(&p.db());
    c.execute(
        "INSERT INTO schema_versions(id, version, checksum) VALUES (7, '001', x'00fffe01')",
        [],
    )
    .unwrap();
    for cmd in ["status", "migrate"] {
        let out = checked(&p.run(&[cmd]).code(2));
        assert!(
            out.contains("schema_versions row id 7: the `checksum` column"),
            "{cmd}: {out}"
        );
        assert!(!out.contains("at index"), "{out}");
    }
}

/// A hand-made history table without `description`/`checksum` dumped the raw SELECT.
#[test]
fn a_history_table_missing_columns_is_read_or_named_without_sql() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    fs::create_dir_all(p.path().join("data")).unwrap();
    let c = Connection::open(p.db()).unwrap();
    c.execute_batch(
        "CREATE TABLE schema_versions(id INTEGER PRIMARY KEY, version TEXT);
         INSERT INTO schema_versions(version) VALUES ('001');",
    )
    .unwrap();
    let out = checked(&p.run(&["status"]).code(0));
    assert!(out.contains("unverified"), "{out}");
    assert!(!out.contains("SELECT"), "{out}");
    c.execute_batch(
        "DROP TABLE schema_versions; CREATE TABLE schema_versions(id INTEGER, v TEXT);",
    )
    .unwrap();
    let out = checked(&p.run(&["status"]).code(2));
    assert!(
        out.contains("has no `version` column (it has: id, v)"),
        "{out}"
    );
    assert!(!out.contains("SELECT"), "{out}");
}

/// A FIFO at `--db` was "an empty file (0 bytes) … truncated".
#[test]
fn a_fifo_at_the_database_path_is_called_a_fifo() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    fs::create_dir_all(p.path().join("data")).unwrap();
    let c = std::ffi::CString::new(p.db().to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for cmd in ["status", "migrate", "dry-run"] {
        let out = checked(
            &p.cmd()
                .args([cmd, "--db", "data/app.db"])
                .timeout(std::time::Duration::from_secs(30))
                .assert()
                .code(2),
        );
        assert!(
            out.contains("data/app.db is a FIFO (named pipe)"),
            "{cmd}: {out}"
        );
        assert!(!out.contains("truncated"), "{out}");
    }
}

/// "created a new database" was logged for a new database that a refused run removed.
#[test]
fn a_refused_run_does_not_say_it_created_the_database() {
    let p = Project::new();
    p.file("002_a.sql", "CREATE TABLE a(x);\n");
    p.file("2_b.sql", "CREATE TABLE b(x);\n");
    let out = checked(&p.run(&["migrate"]).code(1));
    assert!(out.contains("refusing to apply"), "{out}");
    assert!(!out.contains("created"), "{out}");
    assert!(!p.db().exists());
    p.remove("2_b.sql");
    let out = checked(&p.run(&["migrate"]).code(0));
    assert!(out.contains("created a new"), "{out}");
}

/// The `git fetch` hint pasted the user's ref unquoted into a shell command.
#[test]
fn the_git_fetch_hint_quotes_the_users_ref() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-qm", "x"]);
    let out = checked(
        &p.cmd()
            .args(["lint", "--base", "no$(id)such"])
            .assert()
            .code(2),
    );
    assert!(
        out.contains("origin 'no$(id)such:refs/remotes/origin/no$(id)such'"),
        "{out}"
    );
}

/// A runner that died was said to be "rolled back" without knowing it. The persistent
/// runner announces its COMMIT, so a death before that announcement is known to have
/// committed nothing (a death during COMMIT is decided from the history row instead).
#[test]
fn a_dead_runner_is_said_to_have_committed_nothing_only_when_it_is_known() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.file(
        "002_die.py",
        "import os\n\ndef upgrade(conn):\n    os._exit(3)\n",
    );
    let out = checked(&p.run(&["migrate"]).code(1));
    assert!(out.contains("002_die.py"), "{out}");
    assert!(out.contains("nothing of it was committed"), "{out}");
    assert!(
        !out.contains("whether this migration was committed is unknown"),
        "{out}"
    );
}
