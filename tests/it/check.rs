//! `schemagate check`: lint + base comparison + replay from empty + dry run on a copy, in
//! one report and one exit code.

use crate::common::{Project, findings, run_json, schemagate};

fn check(p: &Project, args: &[&str]) -> (i32, serde_json::Value, String) {
    run_json(
        schemagate(p.path())
            .args(["check", "--format", "json"])
            .args(args),
    )
}

const INIT: &str =
    "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n";

/// The dry run's second run fails at the ADD COLUMN that `add-column-not-idempotent`
/// already flags: one report for the statement (it used to be three: the static rule, the
/// dry run and the replay), carrying the dry run's error.
#[test]
fn without_a_database_check_replays_the_chain_and_reports_add_column_once() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    p.file(
        "002_add_email.sql",
        "-- email\nALTER TABLE users ADD COLUMN email TEXT;\n",
    );
    let (code, v, err) = check(&p, &[]);
    // not-idempotent is a warning: the default fail level is error.
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(v["dry_run"]["source"], "empty");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| s["status"] == "ok"), "{v:#}");
    assert!(
        steps[1]["schema_diff"]
            .as_str()
            .unwrap()
            .contains("+  column email TEXT")
    );

    assert!(findings(&v, "not-idempotent").is_empty(), "{v:#}");
    let ni = findings(&v, "add-column-not-idempotent");
    assert_eq!(ni.len(), 1, "{v:#}");
    assert_eq!(ni[0]["severity"], "warning");
    assert_eq!(ni[0]["path"], "migrations/002_add_email.sql");
    assert_eq!(ni[0]["line"], 2);
    assert!(
        ni[0]["message"]
            .as_str()
            .unwrap()
            .contains("second run fails here: duplicate column name: email"),
        "{v:#}"
    );

    let (code, _, _) = check(&p, &["--fail-on", "warning"]);
    assert_eq!(code, 1);
}

#[test]
fn lint_errors_do_not_stop_the_replay_and_duplicates_replay_in_file_name_order() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    // Two files with version 002: the legacy manager ran them in file-name order.
    p.file(
        "002_a_create_tags.sql",
        "-- tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);\n",
    );
    p.file(
        "002_b_tag_index.sql",
        "-- tag index\nCREATE INDEX IF NOT EXISTS tags_id ON tags(id);\n",
    );
    p.file(
        "003_broken.sql",
        "-- broken\nCREATE INDEX IF NOT EXISTS users_nick ON users(nickname);\n",
    );
    p.file(
        "004_after.sql",
        "-- after\nCREATE TABLE IF NOT EXISTS later (id INTEGER PRIMARY KEY);\n",
    );
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    let order: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("migrations/001_init.sql", "ok"),
            ("migrations/002_a_create_tags.sql", "ok"),
            ("migrations/002_b_tag_index.sql", "ok"),
            ("migrations/003_broken.sql", "failed"),
            // The failed step was rolled back and the replay went on.
            ("migrations/004_after.sql", "ok"),
        ]
    );
    let failed = findings(&v, "migration-failed");
    assert_eq!(failed.len(), 1, "{v:#}");
    assert_eq!(failed[0]["path"], "migrations/003_broken.sql");
    assert_eq!(failed[0]["line"], 2);
}

#[test]
fn with_a_database_the_dry_run_runs_on_its_copy_and_the_replay_still_counts() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    p.file(
        "002_tags.sql",
        "-- tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);\n",
    );
    let db = p.path().join("app.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(INIT).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_versions (id INTEGER PRIMARY KEY, version TEXT UNIQUE NOT NULL,
            applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, description TEXT, checksum TEXT);",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO schema_versions (version, description, checksum) VALUES ('001', 'init', ?1)",
        [schemagate::checksum::sha256_normalised(INIT)],
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&db).unwrap();
    let (code, v, err) = check(&p, &["--db", "app.db"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(v["dry_run"]["source"], "app.db");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["version"], "002");
    assert_eq!(v["summary"]["applied"], 1);
    assert_eq!(v["summary"]["pending"], 1);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn zero_configuration_on_a_bare_migrations_folder() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    p.file(
        "002_seed.py",
        "DESCRIPTION = \"seed\"\n\n\ndef upgrade(conn):\n    conn.execute(\"INSERT INTO users (name) VALUES ('admin')\")\n",
    );
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(v["dry_run"]["steps"][1]["status"], "ok", "{v:#}");
}

#[test]
fn a_python_migration_that_adds_a_column_twice_is_not_idempotent() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    p.file(
        "002_add_email.py",
        "DESCRIPTION = \"email\"\n\n\ndef upgrade(conn):\n    conn.execute(\"ALTER TABLE users ADD COLUMN email TEXT\")\n",
    );
    p.file(
        "003_add_phone.py",
        "DESCRIPTION = \"phone\"\n\n\ndef upgrade(conn):\n    cols = {r[1] for r in conn.execute(\"PRAGMA table_info(users)\")}\n    if \"phone\" not in cols:\n        conn.execute(\"ALTER TABLE users ADD COLUMN phone TEXT\")\n",
    );
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    // Reported once, by the static rule on the literal, with the dry run's error.
    assert!(findings(&v, "not-idempotent").is_empty(), "{v:#}");
    let ni = findings(&v, "add-column-not-idempotent");
    assert_eq!(ni.len(), 1, "{v:#}");
    assert_eq!(ni[0]["path"], "migrations/002_add_email.py");
    assert!(
        ni[0]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate column name: email"),
        "{v:#}"
    );
}

#[test]
fn check_outside_a_git_repository_with_a_base_exits_2() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    let out = schemagate(p.path())
        .env("GIT_CEILING_DIRECTORIES", p.path().parent().unwrap())
        .args(["check", "--base", "main"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a git work tree"));
}

#[test]
fn slow_migration_follows_the_configured_threshold() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    std::fs::write(
        p.path().join("schemagate.toml"),
        "[lint]\nslow_migration_ms = 0\n",
    )
    .unwrap();
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    let slow = findings(&v, "slow-migration");
    assert_eq!(slow.len(), 1, "{v:#}");
    assert_eq!(slow[0]["severity"], "info");
    assert_eq!(slow[0]["path"], "migrations/001_init.sql");
}

#[test]
fn foreign_key_violations_left_by_the_chain_are_reported() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    p.file(
        "002_posts.sql",
        "-- posts\nCREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));\n",
    );
    // Python's sqlite3 does not enforce foreign keys unless asked: the orphan gets in.
    p.file(
        "003_orphan.py",
        "DESCRIPTION = \"orphan\"\n\n\ndef upgrade(conn):\n    conn.execute(\"INSERT INTO posts (user_id) VALUES (42)\")\n",
    );
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let failed = findings(&v, "migration-failed");
    assert_eq!(failed.len(), 1, "{v:#}");
    let msg = failed[0]["message"].as_str().unwrap();
    assert!(msg.contains("foreign_key_check"), "{msg}");
    assert!(
        msg.contains("posts row 1 references a missing users row"),
        "{msg}"
    );
}

#[test]
fn the_text_report_shows_schema_diffs_only_with_verbose() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    let run = |args: &[&str]| {
        let out = schemagate(p.path())
            .arg("check")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let brief = run(&[]);
    assert!(brief.contains("001"), "{brief}");
    assert!(!brief.contains("+table users"), "{brief}");
    let verbose = run(&["-v"]);
    assert!(verbose.contains("+table users"), "{verbose}");
}

#[test]
fn a_python_migration_whose_second_run_changes_the_schema_is_not_idempotent() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    p.file(
        "002_grow.py",
        "DESCRIPTION = \"grow\"\n\n\ndef upgrade(conn):\n    n = conn.execute(\"SELECT count(*) FROM sqlite_master\").fetchone()[0]\n    conn.execute(\"CREATE TABLE IF NOT EXISTS extra_%d (x)\" % n)\n",
    );
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    let ni = findings(&v, "not-idempotent");
    assert_eq!(ni.len(), 1, "{v:#}");
    assert!(
        ni[0]["message"]
            .as_str()
            .unwrap()
            .contains("changes the schema again"),
        "{v:#}"
    );
}
