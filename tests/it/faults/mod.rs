//! Faults: concurrent migrators, `kill -9` at random moments and at fixed points, backups
//! under a live WAL writer, bad input (exit 2, a clear message, nothing modified),
//! permissions and a full disk.

mod bad_input;
mod contention;
mod file_size;
mod interrupts;
mod permissions;

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use rusqlite::Connection;

use crate::common::{self, Project, integrity_ok};

const BIG_ROWS: i64 = 300_000;

fn slow_project() -> Project {
    let p = Project::new();
    p.file(
        "001_log.sql",
        "CREATE TABLE log(v TEXT);\nINSERT INTO log VALUES ('001');\n",
    );
    p.file(
        "002_slow.sql",
        format!(
            "CREATE TABLE big(i INTEGER, pad TEXT);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {BIG_ROWS}) INSERT INTO big SELECT i, hex(randomblob(32)) FROM c;\nINSERT INTO log VALUES ('002');\n"
        ),
    );
    p.file(
        "003_py.py",
        "def upgrade(conn):\n    conn.execute(\"INSERT INTO log VALUES ('003')\")\n",
    );
    p.file("004_last.sql", "INSERT INTO log VALUES ('004');\n");
    p
}

fn log_rows(conn: &Connection) -> Vec<String> {
    if !common::tables(conn).contains(&"log".to_string()) {
        return Vec::new();
    }
    conn.prepare("SELECT v FROM log ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The boundary invariant: each migration is either applied with its row or absent.
fn assert_boundary(p: &Project) {
    if !p.db().exists() {
        return;
    }
    let conn = p.open();
    assert!(integrity_ok(&conn), "integrity_check failed");
    // One snapshot for every read below: a Python runner orphaned by the kill could still
    // commit between two autocommit reads.
    conn.execute_batch("BEGIN").unwrap();
    let tables = common::tables(&conn);
    let versions: Vec<String> = if tables.contains(&"schema_versions".to_string()) {
        conn.prepare("SELECT version FROM schema_versions ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    } else {
        Vec::new()
    };
    assert_eq!(log_rows(&conn), versions, "the log and the history agree");
    let expected: Vec<String> = ["001", "002", "003", "004"]
        .iter()
        .take(versions.len())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(versions, expected, "a prefix of the chain");
    let big_applied = versions.iter().any(|v| v == "002");
    assert_eq!(
        tables.contains(&"big".to_string()),
        big_applied,
        "{tables:?}"
    );
    if big_applied {
        let n: i64 = conn
            .query_row("SELECT count(*) FROM big", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, BIG_ROWS);
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn wait_for(path: &Path, child: &mut Child) {
    loop {
        if path.exists() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the migrator exited ({status}) before reaching the failpoint");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn no_panic(out: &str) {
    assert!(!out.contains("panicked"), "{out}");
}
