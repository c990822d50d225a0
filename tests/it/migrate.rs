//! `migrate` through the real binary: fresh databases, ordering, atomic failures, Python
//! migrations, refusals and the JSON result.

use predicates::str::contains;

use crate::common::{self, Project, integrity_ok, json, output};

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn fresh_database_gets_the_examples_in_order_then_is_current_without_backup() {
    let p = Project::with_examples();
    let a = p.run(&["migrate"]).success();
    let out = output(&a);
    assert!(out.contains("created a new, empty database"), "{out}");
    assert!(out.contains("migrated, applied 5 migrations"), "{out}");

    let rows = p.rows();
    let versions: Vec<&str> = rows.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(versions, ["001", "002", "003", "004", "005"]);
    for (v, c) in &rows {
        assert!(is_sha256(c.as_deref().unwrap_or("")), "{v}: {c:?}");
    }
    let conn = p.open();
    let cols: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('users')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        cols.contains(&"email".to_string()),
        "the Python 004 ran: {cols:?}"
    );
    let descs: Vec<String> = conn
        .prepare("SELECT description FROM schema_versions ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(descs[1], "Add testing flag to projects");
    // applied_at keeps the legacy CURRENT_TIMESTAMP format.
    let at: String = conn
        .query_row(
            "SELECT applied_at FROM schema_versions WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(at.len(), 19, "{at}");
    drop(conn);
    assert!(
        p.backup_files().is_empty(),
        "a new database needs no backup"
    );

    let again = p.run(&["migrate", "--format", "json"]).success();
    let r = json(&again);
    assert_eq!(r["status"], "current");
    assert_eq!(r["count"], 0);
    assert_eq!(r["backup"], serde_json::Value::Null);
    assert!(p.backup_files().is_empty(), "nothing pending: no backup");
}

#[test]
fn pending_work_on_an_existing_database_is_backed_up_first() {
    let p = Project::with_examples();
    p.run(&["migrate"]).success();
    p.file("006_more.sql", "CREATE TABLE more(x);\n");
    let a = p.run(&["migrate", "--format", "json"]).success();
    let r = json(&a);
    assert_eq!(r["status"], "migrated");
    assert_eq!(r["applied"], serde_json::json!(["006"]));
    let backup = r["backup"].as_str().unwrap();
    let name = std::path::Path::new(backup)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(name.starts_with("app_") && name.ends_with(".db"), "{name}");
    let files = p.backup_files();
    assert_eq!(files.len(), 1);
    let b = rusqlite::Connection::open(&files[0]).unwrap();
    assert!(integrity_ok(&b));
    assert!(
        !common::tables(&b).contains(&"more".to_string()),
        "pre-migration state"
    );
    let n: i64 = b
        .query_row("SELECT count(*) FROM schema_versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 5);
}

#[test]
fn keep_backups_prunes_the_oldest() {
    let p = Project::with_examples();
    p.config("[environments.dev]\ndatabase = \"data/app.db\"\nkeep_backups = 2\n");
    p.cmd().args(["migrate", "--env", "dev"]).assert().success();
    for i in 6..10 {
        p.file(&format!("{i:03}_t.sql"), format!("CREATE TABLE t{i}(x);\n"));
        p.cmd().args(["migrate", "--env", "dev"]).assert().success();
    }
    assert_eq!(p.backup_files().len(), 2, "{:?}", p.backup_files());
}

#[test]
fn version_999_runs_before_1000() {
    let p = Project::new();
    p.file(
        "999_x.sql",
        "CREATE TABLE seq(v TEXT);\nINSERT INTO seq VALUES ('999');\n",
    );
    p.file("1000_y.sql", "INSERT INTO seq VALUES ('1000');\n");
    p.run(&["migrate"]).success();
    assert_eq!(p.versions(), ["999", "1000"]);
    let conn = p.open();
    let order: Vec<String> = conn
        .prepare("SELECT v FROM seq ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(order, ["999", "1000"]);
}

#[test]
fn sql_failing_at_its_third_statement_leaves_nothing_and_names_file_and_line() {
    let p = Project::new();
    p.file("001_ok.sql", "CREATE TABLE a(x);\n");
    p.file(
        "002_bad.sql",
        "-- Three statements\nCREATE TABLE b(x);\nINSERT INTO b VALUES (1);\n\nINSERT INTO missing_table VALUES (2);\n",
    );
    p.file("003_later.sql", "CREATE TABLE c(x);\n");
    let a = p.run(&["migrate"]).code(1);
    let out = output(&a);
    assert!(out.contains("migrations/002_bad.sql:5:1"), "{out}");
    assert!(out.contains("no such table: missing_table"), "{out}");
    assert_eq!(p.versions(), ["001"]);
    let tables = p.tables();
    assert!(tables.contains(&"a".to_string()));
    assert!(!tables.contains(&"b".to_string()), "{tables:?}");
    assert!(
        !tables.contains(&"c".to_string()),
        "later files are not attempted"
    );

    let j = json(&p.run(&["migrate", "--format", "json"]).code(1));
    assert_eq!(j["status"], "error");
    assert_eq!(j["error"]["path"], "migrations/002_bad.sql");
    assert_eq!(j["error"]["line"], 5);
}

#[test]
fn python_migration_that_commits_and_executescripts_then_raises_leaves_nothing() {
    let p = Project::new();
    p.file("001_ok.sql", "CREATE TABLE a(x);\n");
    p.file(
        "002_sneaky.py",
        "def upgrade(conn):\n    conn.execute(\"CREATE TABLE p1(x)\")\n    conn.commit()\n    conn.executescript(\"CREATE TABLE p2(x); INSERT INTO p2 VALUES (1);\")\n    conn.execute(\"INSERT INTO a VALUES (42)\")\n    raise RuntimeError(\"boom\")\n",
    );
    let a = p.run(&["migrate"]).code(1);
    let out = output(&a);
    assert!(out.contains("boom"), "{out}");
    assert!(out.contains("migrations/002_sneaky.py:6"), "{out}");
    assert_eq!(p.versions(), ["001"]);
    let tables = p.tables();
    assert!(!tables.contains(&"p1".to_string()), "{tables:?}");
    assert!(!tables.contains(&"p2".to_string()), "{tables:?}");
    let n: i64 = p
        .open()
        .query_row("SELECT count(*) FROM a", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn environment_name_reaches_python_as_schemagate_env_and_env() {
    let p = Project::new();
    p.config("[environments.qa]\ndatabase = \"data/app.db\"\n");
    p.file(
        "001_env.py",
        "import os\n\ndef upgrade(conn):\n    conn.execute(\"CREATE TABLE e(a, b)\")\n    conn.execute(\"INSERT INTO e VALUES (?, ?)\", (os.environ.get(\"SCHEMAGATE_ENV\"), os.environ.get(\"ENV\")))\n",
    );
    p.cmd().args(["migrate", "--env", "qa"]).assert().success();
    let (a, b): (String, String) = p
        .open()
        .query_row("SELECT a, b FROM e", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("qa", "qa"));
}

#[test]
fn transaction_control_is_refused_unless_the_file_says_no_transaction() {
    let p = Project::new();
    p.file("001_tx.sql", "BEGIN;\nCREATE TABLE a(x);\nCOMMIT;\n");
    let a = p.run(&["migrate"]).code(1);
    let out = output(&a);
    assert!(out.contains("migrations/001_tx.sql:1:1"), "{out}");
    assert!(out.contains("schemagate:no-transaction"), "{out}");
    assert!(!p.tables().contains(&"a".to_string()));

    p.file(
        "001_tx.sql",
        "-- schemagate:no-transaction\nBEGIN;\nCREATE TABLE a(x);\nCOMMIT;\nVACUUM;\n",
    );
    p.run(&["migrate"]).success();
    assert_eq!(p.versions(), ["001"]);
    assert!(p.tables().contains(&"a".to_string()));
}

#[test]
fn failed_no_transaction_migration_blocks_the_next_run_as_dirty() {
    let p = Project::new();
    p.file(
        "001_nt.sql",
        "-- schemagate:no-transaction\nCREATE TABLE a(x);\nINSERT INTO nope VALUES (1);\n",
    );
    p.run(&["migrate"]).code(1);
    p.file(
        "001_nt.sql",
        "-- schemagate:no-transaction\nCREATE TABLE IF NOT EXISTS a(x);\n",
    );
    let a = p.run(&["migrate"]).code(2);
    let out = output(&a);
    assert!(out.contains("unknown state"), "{out}");
    assert!(out.contains("001"), "{out}");
}

#[test]
fn duplicate_versions_are_refused_naming_every_file() {
    let p = Project::new();
    p.file("002_a.sql", "CREATE TABLE a(x);\n");
    p.file("2_b.sql", "CREATE TABLE b(x);\n");
    let a = p.run(&["migrate"]).code(1);
    let out = output(&a);
    assert!(out.contains("migrations/002_a.sql"), "{out}");
    assert!(out.contains("migrations/2_b.sql"), "{out}");
    assert!(out.contains("refusing to apply"), "{out}");
    assert!(
        !p.db().exists(),
        "a refused new database is not left behind"
    );
    // With the override, the first file of the version runs, as the legacy manager did.
    p.run(&["migrate", "--allow", "duplicates"]).success();
    assert_eq!(p.versions(), ["002"]);
}

#[test]
fn json_result_has_the_auto_migrate_keys() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    let r = json(&p.run(&["migrate", "--format", "json"]).success());
    assert_eq!(r["status"], "migrated");
    assert_eq!(r["applied"], serde_json::json!(["001", "002"]));
    assert_eq!(r["count"], 2);
    assert_eq!(r["created"], true);
    assert!(r.get("backup").is_some() && r.get("error").is_some(), "{r}");
}

#[test]
fn renamed_applied_file_is_refused() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.run(&["migrate"]).success();
    std::fs::rename(
        p.migrations().join("001_a.sql"),
        p.migrations().join("002_a.sql"),
    )
    .unwrap();
    // 001's file is gone (missing-file: a warning); 002 holds 001's content.
    p.run(&["migrate"])
        .code(1)
        .stdout(contains("renamed-applied"));
    assert_eq!(p.versions(), ["001"]);
}

#[test]
fn a_broken_python_migration_is_found_before_backup_and_before_anything_runs() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.run(&["migrate"]).success();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    p.file("003_c.py", "def upgrade(conn)\n    pass\n");
    let out = output(&p.run(&["migrate"]).code(1));
    assert!(out.contains("migrations/003_c.py"), "{out}");
    assert!(out.contains("nothing was applied"), "{out}");
    assert_eq!(p.versions(), ["001"], "002 did not run either");
    assert!(p.backup_files().is_empty());
}
