//! Bad input and a bad environment: exit 2, a clear message, nothing modified.

use std::fs;

use super::no_panic;
use crate::common::{Project, json, output};

#[test]
fn missing_migrations_folder_is_exit_2_and_creates_nothing() {
    let p = Project::new();
    fs::remove_dir(p.migrations()).unwrap();
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(
        out.contains("migrations folder migrations does not exist"),
        "{out}"
    );
    assert!(!p.db().exists());
    let out = output(&p.run(&["status"]).code(2));
    assert!(out.contains("does not exist"), "{out}");
}

#[test]
fn a_db_that_is_not_sqlite_is_exit_2_and_untouched() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    fs::write(p.db(), "name,email\nann,a@example.com\n").unwrap();
    for cmd in ["migrate", "status", "pending"] {
        let out = output(&p.run(&[cmd]).code(2));
        no_panic(&out);
        assert!(out.contains("not a SQLite database"), "{cmd}: {out}");
    }
    assert_eq!(
        fs::read_to_string(p.db()).unwrap(),
        "name,email\nann,a@example.com\n"
    );
    assert!(!p.backups().exists());

    fs::write(p.db(), "").unwrap();
    let out = output(&p.run(&["migrate"]).code(2));
    assert!(out.contains("empty file"), "{out}");
    assert_eq!(fs::metadata(p.db()).unwrap().len(), 0);
}

#[test]
fn a_non_utf8_migration_is_exit_2_and_nothing_is_applied() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.file(
        "002_latin1.sql",
        b"-- caf\xe9\nCREATE TABLE b(x);\n".as_slice(),
    );
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(out.contains("002_latin1.sql: not valid UTF-8"), "{out}");
    assert!(!p.db().exists());
    let j = json(&p.run(&["migrate", "--format", "json"]).code(2));
    assert_eq!(j["status"], "error");
}

#[test]
fn an_unwritable_backup_folder_is_exit_2_applies_nothing_and_leaves_no_partial_file() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.run(&["migrate"]).success();
    // A file where the backup folder should be: no user, root included, can write there.
    fs::write(p.backups(), b"").unwrap();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(out.contains("backup"), "{out}");
    assert!(out.contains("nothing was applied"), "{out}");
    assert_eq!(p.versions(), ["001"]);
    let names = p.data_dir_names();
    assert!(
        names
            .iter()
            .all(|n| ["app.db", "app.db.migrate.lock", "backups"].contains(&n.as_str())),
        "{names:?}"
    );
    // --no-backup is the explicit way past it.
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions(), ["001", "002"]);
}

#[test]
fn missing_python_is_exit_2_only_when_a_python_migration_must_run() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    // Only SQL pending: no interpreter needed.
    p.run(&["migrate", "--python", "/nonexistent/python3"])
        .success();
    p.file(
        "002_b.py",
        "def upgrade(conn):\n    conn.execute('CREATE TABLE b(x)')\n",
    );
    let out = output(
        &p.run(&["migrate", "--python", "/nonexistent/python3"])
            .code(2),
    );
    no_panic(&out);
    assert!(out.contains("/nonexistent/python3"), "{out}");
    assert!(out.contains("python3"), "{out}");
    assert_eq!(p.versions(), ["001"]);
    assert!(
        p.backup_files().is_empty(),
        "nothing was modified, not even a backup"
    );
    p.run(&["migrate"]).success();
    assert_eq!(p.versions(), ["001", "002"]);
}

#[test]
fn a_damaged_database_is_refused_before_backup_and_before_any_write() {
    let p = Project::new();
    p.file(
        "001_t.sql",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, pad TEXT);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) INSERT INTO t SELECT i, hex(randomblob(100)) FROM c;\n",
    );
    p.run(&["migrate"]).success();
    // Four bytes at the start of the cell content area of a table leaf page in the middle
    // of `t` (page type 0x0D): that cell's header now runs off the page. The schema on
    // page 1 is intact, so the file still opens and reads.
    let mut bytes = fs::read(p.db()).unwrap();
    let page_size = 4096;
    let leaves: Vec<usize> = (1..bytes.len() / page_size)
        .filter(|i| bytes[i * page_size] == 0x0d)
        .collect();
    assert!(leaves.len() > 10, "{} leaf pages", leaves.len());
    let page = leaves[leaves.len() / 2] * page_size;
    let content = u16::from_be_bytes([bytes[page + 5], bytes[page + 6]]) as usize;
    for b in &mut bytes[page + content..page + content + 4] {
        *b = 0xff;
    }
    fs::write(p.db(), &bytes).unwrap();
    assert_eq!(p.versions(), ["001"], "the damaged file still opens");
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    let out = output(&p.run(&["migrate"]).code(2));
    no_panic(&out);
    assert!(out.contains("quick_check"), "{out}");
    assert!(p.backup_files().is_empty());
    assert_eq!(fs::read(p.db()).unwrap(), bytes, "not one byte written");
}
