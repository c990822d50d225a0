//! The replay keeps going past a failed step: every failing file in one run, the failures
//! that follow from an earlier one marked as its cascade, `--fail-fast` to stop at the first.

use serde_json::Value;

use crate::common::{Project, findings, output, run_json, schemagate};

/// Twelve migrations, four of which fail on SQLite: two on their own (002, 005), and two
/// only because of what those two would have created (007 needs 002's `orders`, 009 needs
/// 005's `email` column, from Python).
fn a_third_fails() -> Project {
    let p = Project::new();
    let ok = |v: &str, table: &str| {
        p.file(
            &format!("{v}_create_{table}.sql"),
            format!("-- {table}\nCREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY);\n"),
        );
    };
    p.file(
        "001_init.sql",
        "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n",
    );
    p.file(
        "002_orders.sql",
        "-- orders, and an index on a column that never existed\nCREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, user_id INTEGER);\nCREATE INDEX IF NOT EXISTS users_nick ON users(nickname);\n",
    );
    ok("003", "tags");
    ok("004", "labels");
    p.file(
        "005_email.sql",
        "-- email, and an index on a column that never existed\nALTER TABLE users ADD COLUMN email TEXT;\nCREATE INDEX IF NOT EXISTS users_email_login ON users(email, login);\n",
    );
    ok("006", "notes");
    p.file(
        "007_first_order.sql",
        "-- first order\nINSERT INTO orders (user_id) VALUES (1);\n",
    );
    ok("008", "files");
    p.file(
        "009_backfill_email.py",
        "DESCRIPTION = \"backfill email\"\n\n\ndef upgrade(conn):\n    conn.execute(\"UPDATE users SET email = name || '@example.com'\")\n",
    );
    ok("010", "events");
    ok("011", "sessions");
    ok("012", "audit");
    p
}

fn check(p: &Project, args: &[&str]) -> (i32, Value, String) {
    run_json(
        schemagate(p.path())
            .args(["check", "--format", "json"])
            .args(args),
    )
}

#[test]
fn every_failing_file_is_reported_in_one_run_with_cascades_marked() {
    let p = a_third_fails();
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 12);
    let status: Vec<(&str, &str, Option<&str>)> = steps
        .iter()
        .map(|s| {
            (
                s["version"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                s["cascade_of"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        status,
        vec![
            ("001", "ok", None),
            ("002", "failed", None),
            ("003", "ok", None),
            ("004", "ok", None),
            ("005", "failed", None),
            ("006", "ok", None),
            ("007", "failed", Some("002")),
            ("008", "ok", None),
            ("009", "failed", Some("005")),
            ("010", "ok", None),
            ("011", "ok", None),
            ("012", "ok", None),
        ]
    );
    // Each failure once, with file:line:column; the cascades say so.
    let failed = findings(&v, "migration-failed");
    assert_eq!(failed.len(), 4, "{v:#}");
    let at: Vec<(&str, u64, bool, Option<&str>)> = failed
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
                f["column"].is_u64(),
                f["cascade_of"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        at,
        vec![
            ("migrations/002_orders.sql", 3, true, None),
            ("migrations/005_email.sql", 3, true, None),
            ("migrations/007_first_order.sql", 2, true, Some("002")),
            ("migrations/009_backfill_email.py", 5, true, Some("005")),
        ]
    );
    // The failed steps were rolled back whole: 002's `orders` is not in the schema that
    // the later steps saw, and the steps after a failure still changed it.
    assert!(
        steps[2]["schema_diff"]
            .as_str()
            .unwrap()
            .contains("+table tags"),
        "{v:#}"
    );

    // The text report names every failure at its place and marks the cascades.
    let text = schemagate(p.path()).arg("check").assert().code(1);
    let text = output(&text);
    for place in [
        "migrations/002_orders.sql:3:",
        "migrations/005_email.sql:3:",
        "migrations/007_first_order.sql:2:",
        "migrations/009_backfill_email.py:5:",
    ] {
        assert!(text.contains(place), "{place}\n{text}");
    }
    assert!(text.contains("(cascade of 002)"), "{text}");
    assert!(text.contains("(cascade of 005)"), "{text}");
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let p = a_third_fails();
    let (code, v, err) = check(&p, &["--fail-fast"]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 12);
    assert_eq!(steps[0]["status"], "ok");
    assert_eq!(steps[1]["status"], "failed");
    assert!(steps[2..].iter().all(|s| s["status"] == "skipped"), "{v:#}");
    let failed = findings(&v, "migration-failed");
    assert_eq!(failed.len(), 1, "{v:#}");
    assert_eq!(failed[0]["path"], "migrations/002_orders.sql");
    assert!(
        failed[0]["help"]
            .as_str()
            .unwrap()
            .contains("were not run (skipped)")
    );
}

#[test]
fn the_replay_database_has_the_history_table() {
    let p = Project::new();
    p.file(
        "001_init.sql",
        "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n",
    );
    // Legacy migrations sometimes read the history table themselves.
    p.file(
        "002_tidy_history.sql",
        "-- read history\nSELECT count(*) FROM schema_versions WHERE version = 'manual-skip';\n",
    );
    p.file(
        "003_count.py",
        "DESCRIPTION = \"count\"\n\n\ndef upgrade(conn):\n    conn.execute(\"SELECT count(*) FROM schema_versions\").fetchone()\n",
    );
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["status"] == "ok"), "{v:#}");
    // The history table is not part of the schema the steps change.
    assert!(
        !steps[0]["schema_diff"]
            .as_str()
            .unwrap()
            .contains("schema_versions"),
        "{v:#}"
    );
}

/// Writing the history table fails in the replay the way it fails at deploy (schemagate
/// denies it, issue 12.7), not with "no such table".
#[test]
fn writing_the_history_table_fails_as_at_deploy() {
    let p = Project::new();
    p.file(
        "001_init.sql",
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);\n",
    );
    p.file(
        "002_tidy_history.sql",
        "DELETE FROM schema_versions WHERE version = 'manual-skip';\n",
    );
    let (code, v, err) = check(&p, &[]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let failed = &v["dry_run"]["steps"][1];
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.contains("schema_versions"), "{message}");
    assert!(!message.contains("no such table"), "{message}");
}
