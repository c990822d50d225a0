//! `schemagate dry-run`: scratch copies, step reports, failures, and a source that never
//! changes.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;

use crate::common::{LEGACY_HISTORY, Project, findings, run_cmd, run_json, schemagate};

/// A project with `migrations/` and an empty `data/`.
fn project() -> Project {
    let p = Project::new();
    std::fs::create_dir_all(p.path().join("data")).unwrap();
    p
}

/// A database where 001 is applied (as the legacy manager recorded it).
fn applied_db(p: &Project, init_sql: &str, version: &str) {
    let conn = p.open();
    conn.execute_batch(init_sql).unwrap();
    conn.execute_batch(LEGACY_HISTORY).unwrap();
    conn.execute(
        "INSERT INTO schema_versions (version, description, checksum) VALUES (?1, 'init', ?2)",
        [version, &schemagate::checksum::sha256_normalised(init_sql)],
    )
    .unwrap();
}

fn run(p: &Project, args: &[&str]) -> (i32, String, String) {
    run_cmd(schemagate(p.path()).args(args))
}

fn json(p: &Project, args: &[&str]) -> (i32, serde_json::Value, String) {
    run_json(schemagate(p.path()).args(args).args(["--format", "json"]))
}

/// Every file of a folder with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

const INIT: &str =
    "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n";

#[test]
fn dry_run_leaves_the_source_byte_identical_and_reports_the_new_table() {
    let p = project();
    p.file("001_init.sql", INIT);
    p.file(
        "002_create_tags.sql",
        "-- tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n",
    );
    applied_db(&p, INIT, "001");
    let before = snapshot(&p.path().join("data"));

    let (code, v, err) = json(&p, &["dry-run", "--db", "data/app.db"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        snapshot(&p.path().join("data")),
        before,
        "the source folder changed"
    );

    assert_eq!(v["dry_run"]["source"], "data/app.db");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "only 002 is pending: {v:#}");
    assert_eq!(steps[0]["version"], "002");
    assert_eq!(steps[0]["status"], "ok");
    assert_eq!(steps[0]["statements"], 1);
    let diff = steps[0]["schema_diff"].as_str().unwrap();
    assert!(diff.contains("+table tags"), "{diff}");
    assert!(diff.contains("+  column label TEXT NOT NULL"), "{diff}");

    // The text report shows the same diff.
    let (code, text, _) = run(&p, &["dry-run", "--db", "data/app.db"]);
    assert_eq!(code, 0);
    assert!(text.contains("+table tags"), "{text}");
    assert_eq!(snapshot(&p.path().join("data")), before);
}

#[test]
fn an_idle_wal_database_gets_no_files_beside_it() {
    let p = project();
    p.file("001_init.sql", INIT);
    p.file("002_t.sql", "-- t\nCREATE TABLE IF NOT EXISTS t (x);\n");
    {
        let conn = Connection::open(p.db()).unwrap();
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .unwrap();
        conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
            .unwrap();
    }
    let before = snapshot(&p.path().join("data"));
    assert_eq!(before.len(), 1, "{:?}", before.keys());
    let (code, v, err) = json(&p, &["dry-run", "--db", "data/app.db"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(snapshot(&p.path().join("data")), before);
}

#[test]
fn a_missing_column_fails_at_its_line_and_later_steps_still_run() {
    let p = project();
    p.file("001_init.sql", INIT);
    p.file(
        "002_index_nickname.sql",
        "-- nickname index\n\nCREATE INDEX IF NOT EXISTS users_nickname\n    ON users(nickname);\n",
    );
    p.file(
        "003_create_tags.sql",
        "-- tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);\n",
    );
    applied_db(&p, INIT, "001");
    let before = snapshot(&p.path().join("data"));

    let (code, v, err) = json(&p, &["dry-run", "--db", "data/app.db"]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["status"], "failed");
    assert_eq!(
        steps[0]["error"]["path"],
        "migrations/002_index_nickname.sql"
    );
    // SQLite points at the unknown column itself.
    assert_eq!(steps[0]["error"]["line"], 4);
    assert_eq!(steps[0]["error"]["column"], 14);
    assert!(
        steps[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no such column: nickname"),
        "{v:#}"
    );
    // The failed step was rolled back; the run went on.
    assert_eq!(steps[1]["version"], "003");
    assert_eq!(steps[1]["status"], "ok");
    assert!(steps[1]["schema_diff"].as_str().unwrap().contains("tags"));
    let failed = findings(&v, "migration-failed");
    assert_eq!(failed.len(), 1, "{v:#}");
    assert_eq!(failed[0]["path"], "migrations/002_index_nickname.sql");
    assert_eq!(failed[0]["line"], 4);
    assert_eq!(snapshot(&p.path().join("data")), before);

    let (code, text, _) = run(&p, &["dry-run", "--db", "data/app.db"]);
    assert_eq!(code, 1);
    assert!(
        text.contains("migrations/002_index_nickname.sql:4:14:"),
        "{text}"
    );

    // --fail-fast stops there.
    let (code, v, err) = json(&p, &["dry-run", "--db", "data/app.db", "--fail-fast"]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["status"], "failed");
    assert_eq!(steps[1]["status"], "skipped");
    assert_eq!(snapshot(&p.path().join("data")), before);
}

#[test]
fn python_migrations_get_only_the_scratch_path() {
    let p = project();
    p.file("001_init.sql", INIT);
    p.file(
        "002_seed.py",
        r#"DESCRIPTION = "seed"
import os, sqlite3


def upgrade(conn):
    # A legacy habit: open the database by path. It must be the scratch copy.
    path = os.environ["DB_PATH"]
    assert not path.endswith("data/app.db"), path
    other = sqlite3.connect(path)
    other.close()
    conn.execute("CREATE TABLE IF NOT EXISTS seeded (id INTEGER PRIMARY KEY)")
"#,
    );
    applied_db(&p, INIT, "001");
    let before = snapshot(&p.path().join("data"));
    let (code, v, err) = json(&p, &["dry-run", "--db", "data/app.db"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(v["dry_run"]["steps"][0]["status"], "ok", "{v:#}");
    assert!(
        v["dry_run"]["steps"][0]["schema_diff"]
            .as_str()
            .unwrap()
            .contains("+table seeded")
    );
    assert_eq!(snapshot(&p.path().join("data")), before);
}

#[test]
fn without_a_database_the_dry_run_starts_from_empty() {
    let p = project();
    p.file("001_init.sql", INIT);
    let (code, v, err) = json(&p, &["dry-run"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(v["dry_run"]["source"], "empty");
    assert_eq!(v["dry_run"]["steps"][0]["status"], "ok");
}

#[test]
fn keep_scratch_keeps_the_copy_and_says_where() {
    let p = project();
    p.file("001_init.sql", INIT);
    let (code, _, err) = run(&p, &["dry-run", "--keep-scratch"]);
    assert_eq!(code, 0, "{err}");
    let path = err
        .lines()
        .find_map(|l| l.strip_prefix("scratch database kept at "))
        .unwrap_or_else(|| panic!("{err}"));
    let conn = Connection::open(path).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'users'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    std::fs::remove_dir_all(Path::new(path).parent().unwrap()).unwrap();
}

/// A missing database is a new one (tests/it/missing.rs); a broken one is exit 2.
#[test]
fn a_missing_database_is_new_and_a_broken_one_exits_2() {
    let p = project();
    p.file("001_init.sql", INIT);
    let (code, _, err) = run(&p, &["dry-run", "--db", "data/nope.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("data/nope.db does not exist yet"), "{err}");
    assert!(
        !p.path().join("data/nope.db").exists(),
        "a dry run must not create a database"
    );

    std::fs::write(p.path().join("data/empty.db"), b"").unwrap();
    let (code, _, err) = run(&p, &["dry-run", "--db", "data/empty.db"]);
    assert_eq!(code, 2, "a truncated database is not a new one");
    assert!(err.contains("empty file"), "{err}");

    std::fs::write(
        p.path().join("data/junk.db"),
        b"this is not a database at all, not even close",
    )
    .unwrap();
    let (code, _, err) = run(&p, &["dry-run", "--db", "data/junk.db"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a SQLite database"), "{err}");
}

#[test]
fn a_database_with_a_hot_journal_is_refused_and_left_for_recovery() {
    let p = project();
    p.file("001_init.sql", INIT);
    Connection::open(p.db())
        .unwrap()
        .execute_batch("CREATE TABLE big (b BLOB);")
        .unwrap();
    // A writer killed mid-transaction after its cache spilled into the database file.
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import os, sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('PRAGMA cache_size=5')\n\
             c.execute('BEGIN')\n\
             for _ in range(500): c.execute('INSERT INTO big VALUES (randomblob(4000))')\n\
             os._exit(0)\n",
        ])
        .arg(p.db())
        .status()
        .unwrap();
    assert!(status.success());
    let before = snapshot(&p.path().join("data"));
    assert!(before.contains_key("app.db-journal"), "{:?}", before.keys());

    let (code, _, err) = run(&p, &["dry-run", "--db", "data/app.db"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs recovery"), "{err}");
    // Never touched, never "repaired" by a read-only tool: the journal stays for recovery.
    assert_eq!(snapshot(&p.path().join("data")), before);
}
