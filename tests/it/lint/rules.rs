//! What the rules find, and where: statements mapped to their lines, SQL and Python
//! migrations, suppressions and configured severities, the folder rules.

use super::{Project, at, of_rule, repo_root};
use crate::common::schemagate;

#[test]
fn the_bundled_migrations_lint_clean() {
    let out = schemagate(&repo_root())
        .args(["lint", "--fail-on", "warning"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("ok: 0 error(s), 0 warning(s), 0 info in 5 migration(s)"),
        "{stdout}"
    );
}

#[test]
fn two_hundred_statements_map_to_their_lines() {
    // Semicolons inside strings, comments, quoted names and trigger bodies must not split.
    let mut text = String::from("-- Two hundred statements\n");
    let mut expected = Vec::new();
    for i in 0..200 {
        let line = text.lines().count() + 1;
        match i % 5 {
            0 => {
                text.push_str(&format!("CREATE TABLE t{i} (a TEXT DEFAULT 'x;y');\n"));
                expected.push(line);
            }
            1 => {
                text.push_str(
                    "/* a; b */ INSERT INTO t0 VALUES ('it''s; fine'); -- trailing; comment\n",
                );
            }
            2 => {
                text.push_str(&format!(
                    "CREATE TRIGGER IF NOT EXISTS trg{i} AFTER INSERT ON t0\nBEGIN\n    INSERT INTO \"log;x\" VALUES ('a;b');\n    UPDATE t0 SET a = 'END;' WHERE a = ';';\nEND;\n"
                ));
            }
            3 => {
                text.push_str(&format!("\n\n  CREATE INDEX idx{i} ON t0([a;b]);\n"));
                expected.push(line + 2);
            }
            _ => {
                text.push_str("SELECT ';', \"x;\", `y;` FROM t0;\n");
            }
        }
    }
    let p = Project::new().file("001_many.sql", &text);
    let (_, findings) = p.json(&[]);
    let robust = of_rule(&findings, "robust-statements");
    let lines: Vec<usize> = robust
        .iter()
        .map(|f| f["line"].as_u64().unwrap() as usize)
        .collect();
    assert_eq!(lines, expected);
    let cols: Vec<u64> = robust
        .iter()
        .map(|f| f["column"].as_u64().unwrap())
        .collect();
    assert!(cols.iter().all(|c| *c == 1 || *c == 3), "{cols:?}");
    assert_eq!(
        findings.len(),
        robust.len(),
        "nothing else may fire: {findings:#?}"
    );
}

#[test]
fn add_column_defaults() {
    let p = Project::new().file(
        "001_a.sql",
        "-- a\nALTER TABLE t ADD COLUMN c TIMESTAMP DEFAULT CURRENT_TIMESTAMP;\nALTER TABLE t ADD COLUMN d TEXT NOT NULL;\nALTER TABLE t ADD COLUMN e TEXT DEFAULT 'x';\n",
    );
    let (code, findings) = p.json(&[]);
    assert_eq!(code, 1);
    let invalid = of_rule(&findings, "add-column-invalid");
    assert_eq!(
        at(&invalid),
        [
            ("migrations/001_a.sql".into(), 2, 38),
            ("migrations/001_a.sql".into(), 3, 33)
        ]
    );
    assert!(invalid.iter().all(|f| f["severity"] == "error"));
    // every ADD COLUMN is still not idempotent, and the help never suggests IF NOT EXISTS
    let idem = of_rule(&findings, "add-column-not-idempotent");
    assert_eq!(idem.len(), 3);
    for f in idem {
        let help = f["help"].as_str().unwrap();
        assert!(help.contains("PRAGMA table_info"), "{help}");
        assert!(!help.contains("IF NOT EXISTS"), "{help}");
    }
}

#[test]
fn transaction_control_outside_triggers_only() {
    let p = Project::new().file(
        "001_a.sql",
        r#"BEGIN;
CREATE TRIGGER IF NOT EXISTS trg AFTER INSERT ON t
BEGIN
    INSERT INTO log VALUES ('commit');
END;
COMMIT;
"#,
    );
    let (_, findings) = p.json(&[]);
    let tc = of_rule(&findings, "transaction-control");
    assert_eq!(
        at(&tc),
        [
            ("migrations/001_a.sql".into(), 1, 1),
            ("migrations/001_a.sql".into(), 6, 1)
        ]
    );
}

#[test]
fn python_migrations_are_read_through_python() {
    let p = Project::new()
        .file(
            "002_x.py",
            r#"DESCRIPTION = "Tags"


def migrate(conn):
    conn.execute("""
        CREATE TABLE tags (id INTEGER PRIMARY KEY)
    """)
"#,
        )
        .file("003_y.py", "def upgrade(conn)\n    pass\n");
    let (code, findings) = p.json(&[]);
    assert_eq!(code, 1);
    let missing = of_rule(&findings, "python-upgrade-missing");
    assert_eq!(at(&missing), [("migrations/002_x.py".into(), 4, 1)]);
    assert!(
        missing[0]["help"]
            .as_str()
            .unwrap()
            .contains("rename `migrate()` to `upgrade()`")
    );
    let robust = of_rule(&findings, "robust-statements");
    assert_eq!(at(&robust), [("migrations/002_x.py".into(), 6, 9)]);
    let syntax = of_rule(&findings, "python-syntax-error");
    assert_eq!(at(&syntax), [("migrations/003_y.py".into(), 1, 18)]);
}

/// Python rules need the interpreter: without one, lint stops (exit 2) rather than pass
/// with the Python files unread (every command: tests/it/missing.rs).
#[test]
fn without_python_lint_is_exit_2() {
    let p = Project::new()
        .file("001_a.sql", "CREATE TABLE IF NOT EXISTS t (x);\n")
        .file("002_b.py", "def migrate(conn):\n    pass\n")
        .file("003_c.py", "def migrate(conn):\n    pass\n");
    let out = p
        .cmd(&["lint", "--python", "/nonexistent/python3"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/python3: not found"), "{err}");
}

#[test]
fn suppression_comments_and_config_severities() {
    let p = Project::new()
        .file(
            "001_a.sql",
            r#"-- Cleanup
-- schemagate:ignore destructive-change, robust-statements -- moved to redis in #412
DROP TABLE sessions;
DROP TABLE IF EXISTS carts;
"#,
        )
        .file(
            "002_b.sql",
            "-- schemagate:ignore-file robust-statements\nCREATE TABLE a (x);\nCREATE TABLE b (x);\n",
        )
        .file(
            "003_c.py",
            "def upgrade(conn):\n    # schemagate:ignore robust-statements\n    conn.execute(\"CREATE TABLE c (x)\")\n    conn.execute(\"CREATE TABLE d (x)\")\n",
        );
    let (code, findings) = p.json(&[]);
    assert_eq!(code, 0);
    let got: Vec<_> = findings
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["line"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(
        got,
        [("destructive-change", 4), ("robust-statements", 4)],
        "{findings:#?}"
    );

    // [rules]: raise one, turn one off
    let p = p.config("[rules]\ndestructive-change = \"error\"\nrobust-statements = \"off\"\n");
    let (code, findings) = p.json(&[]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"], "destructive-change");
    assert_eq!(findings[0]["severity"], "error");
}

#[test]
fn sqlite_version_follows_target_sqlite() {
    let p = Project::new().file(
        "001_a.sql",
        "CREATE TABLE IF NOT EXISTS t (x INT) STRICT;\nALTER TABLE t DROP COLUMN y;\n",
    );
    let (_, findings) = p.json(&[]);
    assert!(of_rule(&findings, "sqlite-version").is_empty());
    let p = p.config("[lint]\ntarget_sqlite = \"3.31\"\n");
    let (code, findings) = p.json(&[]);
    assert_eq!(code, 1);
    let v = of_rule(&findings, "sqlite-version");
    assert_eq!(v.len(), 2);
    assert!(v[0]["message"].as_str().unwrap().contains("3.37.0"));
    assert!(v[1]["message"].as_str().unwrap().contains("3.35.0"));
}

#[test]
fn folder_rules() {
    let p = Project::new()
        .file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n")
        .file("002_add_tags.sql", "CREATE TABLE IF NOT EXISTS tags (x);\n")
        .file("003_Add Tags.sql", "CREATE TABLE IF NOT EXISTS tags (x);\n")
        .file("04_more.sql", "CREATE TABLE IF NOT EXISTS more (x);\n")
        .file("005-typo.sql", "SELECT 1;\n")
        .file("manager.py", "print('helper')\n")
        .file("006_empty.sql", "-- nothing yet\n");
    let (code, findings) = p.json(&[]);
    assert_eq!(code, 0);
    let rules: Vec<_> = findings
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("duplicate-content", "migrations/003_Add Tags.sql"),
            ("invalid-filename", "migrations/003_Add Tags.sql"),
            ("unversioned-file", "migrations/005-typo.sql"),
            ("empty-migration", "migrations/006_empty.sql"),
            ("version-width", "migrations/04_more.sql"),
        ]
    );
}

#[test]
fn duplicate_versions_name_every_file() {
    let p = Project::new()
        .file("005_x.sql", "CREATE TABLE IF NOT EXISTS x (a);\n")
        .file("005_x 2.sql", "CREATE TABLE IF NOT EXISTS x (a);\n")
        .file("048_a.sql", "CREATE TABLE IF NOT EXISTS a (a);\n")
        .file(
            "48_b.py",
            "def upgrade(conn):\n    conn.execute('SELECT 1')\n",
        );
    let (code, findings) = p.json(&[]);
    assert_eq!(code, 1);
    let dups = of_rule(&findings, "duplicate-version");
    assert_eq!(dups.len(), 2, "{findings:#?}");
    for f in &dups {
        assert_eq!(f["severity"], "error");
    }
    let msgs: Vec<&str> = dups
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    let all = msgs.join("\n");
    for name in [
        "migrations/005_x.sql",
        "migrations/005_x 2.sql",
        "migrations/048_a.sql",
        "migrations/48_b.py",
    ] {
        assert!(all.contains(name), "{name} missing from {all}");
    }
    // the copy is also a suspicious name
    assert_eq!(of_rule(&findings, "invalid-filename").len(), 1);
}

#[test]
fn generated_templates_follow_the_rules() {
    let p = Project::new().file(
        "001_init.sql",
        "-- Init\nCREATE TABLE IF NOT EXISTS t (x);\n",
    );
    p.cmd(&["generate", "add_things"]).assert().success();
    p.cmd(&["generate", "backfill_things", "--type", "python"])
        .assert()
        .success();
    let (_, findings) = p.json(&[]);
    let rules: Vec<_> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // an untouched Python template does nothing yet, and says so
    assert_eq!(rules, ["empty-migration"], "{findings:#?}");
}
