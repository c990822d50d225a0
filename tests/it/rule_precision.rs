//! Rule precision on inputs real projects contain, through the binary: the exact finding
//! where there is one, its absence where there is none (the rule files test each case in
//! detail; these pin what the commands report).

use crate::common::{Project, findings, run_json, schemagate};

fn lint(p: &Project) -> serde_json::Value {
    run_json(
        schemagate(p.path())
            .args(["lint", "--format", "json"])
            .env("GIT_CEILING_DIRECTORIES", p.path().parent().unwrap()),
    )
    .1
}

fn check(p: &Project) -> (i32, serde_json::Value) {
    let (code, v, _) = run_json(
        schemagate(p.path())
            .args(["check", "--format", "json"])
            .env("GIT_CEILING_DIRECTORIES", p.path().parent().unwrap()),
    );
    (code, v)
}

/// `(rule, line)` of every finding about `path`.
fn at(v: &serde_json::Value, path: &str) -> Vec<(String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// Regression: `.timeout 5000` (for the sqlite3 shell) was a syntax error that swallowed
/// the CREATE TABLE after it; the dry run failed with SQLite's bare "syntax error".
#[test]
fn a_sqlite3_shell_command_is_named_and_the_next_statement_is_read() {
    let p = Project::new();
    p.file(
        "001_init.sql",
        ".timeout 5000\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT,);\n",
    );
    let v = lint(&p);
    assert_eq!(
        at(&v, "migrations/001_init.sql"),
        [
            ("sql-syntax-error".to_string(), 1),
            ("robust-statements".to_string(), 2),
            ("sql-syntax-error".to_string(), 2),
        ],
        "{v:#}"
    );
    let f = findings(&v, "sql-syntax-error");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("`.timeout 5000` is a command of the sqlite3 shell"),
        "{v:#}"
    );

    p.file(
        "001_init.sql",
        ".timeout 5000\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    let (code, v) = check(&p);
    assert_eq!(code, 1);
    let failed = findings(&v, "migration-failed");
    assert_eq!(failed[0]["line"], 1, "{v:#}");
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .contains("command of the sqlite3 shell"),
        "{v:#}"
    );
}

/// Regression: the `END;` of a PostgreSQL function body was a transaction-control error.
#[test]
fn a_postgres_function_is_one_foreign_dialect_error() {
    let p = Project::new();
    p.file(
        "001_touch.sql",
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.updated_at = now();\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nCREATE TABLE IF NOT EXISTS t (x);\n",
    );
    let v = lint(&p);
    assert_eq!(
        at(&v, "migrations/001_touch.sql"),
        [("foreign-dialect".to_string(), 1)],
        "{v:#}"
    );
}

/// Regression: drizzle's rebuild was two errors (`PRAGMA foreign_keys=OFF`) and a
/// destructive DROP TABLE; it is one info.
#[test]
fn a_drizzle_rebuild_is_one_info() {
    let p = Project::new();
    p.file(
        "0000_init.sql",
        "CREATE TABLE `todos` (\n\t`id` text PRIMARY KEY NOT NULL,\n\t`title` text\n);\n",
    );
    p.file(
        "0001_nifty_william_stryker.sql",
        "PRAGMA foreign_keys=OFF;--> statement-breakpoint\nCREATE TABLE `__new_todos` (\n\t`id` text PRIMARY KEY NOT NULL,\n\t`title` text NOT NULL\n);\n--> statement-breakpoint\nINSERT INTO `__new_todos`(\"id\", \"title\") SELECT \"id\", \"title\" FROM `todos`;--> statement-breakpoint\nDROP TABLE `todos`;--> statement-breakpoint\nALTER TABLE `__new_todos` RENAME TO `todos`;--> statement-breakpoint\nPRAGMA foreign_keys=ON;",
    );
    let (code, v) = check(&p);
    assert_eq!(code, 0, "{v:#}");
    let rebuild: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["path"] == "migrations/0001_nifty_william_stryker.sql"
                && f["rule"] != "robust-statements"
        })
        .collect();
    assert_eq!(rebuild.len(), 1, "{rebuild:#?}");
    assert_eq!(rebuild[0]["rule"], "needs-no-transaction");
    assert_eq!(rebuild[0]["severity"], "info");
}

/// The re-run rules are info in a layout whose tool never re-runs a file.
#[test]
fn re_run_findings_are_info_outside_the_legacy_layout() {
    let p = Project::new();
    p.config("[migrations]\nlayout = \"sqlx\"\n");
    p.file(
        "20240101000000_init.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    p.file(
        "20240102000000_rename.sql",
        "ALTER TABLE users RENAME COLUMN id TO user_id;\n",
    );
    let (_, v) = check(&p);
    for rule in ["robust-statements", "not-idempotent"] {
        let f = findings(&v, rule);
        assert_eq!(f.len(), 1, "{rule}: {v:#}");
        assert_eq!(f[0]["severity"], "info", "{v:#}");
    }
}
