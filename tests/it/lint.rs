//! `schemagate lint` and `schemagate rule`, run as the real binary on folders in temp dirs.

use std::path::{Path, PathBuf};

use crate::common::{self, git, schemagate};
use assert_cmd::Command;
use serde_json::Value;

/// The shared temp project with a by-value builder, as these tests chain it.
struct Project(common::Project);

impl Project {
    fn new() -> Project {
        Project(common::Project::new())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn file(self, name: &str, text: &str) -> Project {
        self.0.file(name, text);
        self
    }

    fn config(self, text: &str) -> Project {
        self.0.config(text);
        self
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = schemagate(self.path());
        c.args(args);
        c
    }

    /// `lint --format json` → (exit code, findings).
    fn json(&self, extra: &[&str]) -> (i32, Vec<Value>) {
        let mut args = vec!["lint", "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.cmd(&args).output().unwrap();
        let code = out.status.code().unwrap();
        assert!(
            code != 2,
            "lint failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["report_version"], 1);
        assert_eq!(report["command"], "lint");
        assert!(report["tool"]["sqlite_version"].as_str().is_some());
        (code, report["findings"].as_array().unwrap().clone())
    }
}

fn of_rule<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["rule"] == rule).collect()
}

fn at(findings: &[&Value]) -> Vec<(String, u64, u64)> {
    findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
fn exit_codes_clean_findings_and_bad_usage() {
    let clean = Project::new().file(
        "001_init.sql",
        "-- Init\nCREATE TABLE IF NOT EXISTS t (x);\n",
    );
    clean.cmd(&["lint"]).assert().code(0);

    let findings = Project::new().file(
        "001_init.sql",
        "BEGIN;\nCREATE TABLE IF NOT EXISTS t (x);\nCOMMIT;\n",
    );
    findings.cmd(&["lint"]).assert().code(1);

    // bad usage, missing folder, bad config: 2, with a message that says what to do
    findings.cmd(&["lint", "--no-such-flag"]).assert().code(2);
    let out = findings
        .cmd(&["lint", "--dir", "nowhere"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let bad_rule = Project::new()
        .file("001_init.sql", "SELECT 1;\n")
        .config("[rules]\nrobust-statement = \"off\"\n");
    let out = bad_rule
        .cmd(&["lint"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown rule `robust-statement`"), "{err}");
    let bad_target = Project::new()
        .file("001_init.sql", "SELECT 1;\n")
        .config("[lint]\ntarget_sqlite = \"three\"\n");
    bad_target.cmd(&["lint"]).assert().code(2);
}

#[test]
fn fail_on_decides_the_exit_code() {
    let p = Project::new().file("001_a.sql", "CREATE TABLE t (x);\n");
    p.cmd(&["lint"]).assert().code(0);
    p.cmd(&["lint", "--fail-on", "warning"]).assert().code(1);
    let e = Project::new().file("001_a.sql", "BEGIN;\n");
    e.cmd(&["lint", "--fail-on", "never"]).assert().code(0);
    e.cmd(&["lint", "--fail-on", "error"]).assert().code(1);
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

#[test]
fn without_python_the_python_rules_are_skipped_with_one_warning() {
    let p = Project::new()
        .file("001_a.sql", "CREATE TABLE IF NOT EXISTS t (x);\n")
        .file("002_b.py", "def migrate(conn):\n    pass\n")
        .file("003_c.py", "def migrate(conn):\n    pass\n");
    let out = p
        .cmd(&["lint", "--python", "/nonexistent/python3"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(err.contains("not linted"), "{err}");
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
fn text_output_is_like_a_compiler() {
    let p = Project::new().file(
        "001_init.sql",
        "-- Init\nCREATE TABLE users (id INTEGER PRIMARY KEY);\nALTER TABLE users ADD COLUMN email TEXT NOT NULL;\n",
    );
    let out = p.cmd(&["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\x1b'), "no colours when not a terminal");
    insta::assert_snapshot!(stdout);
}

#[test]
fn rule_prints_the_docs_from_the_code() {
    let out = Command::cargo_bin("schemagate")
        .unwrap()
        .args(["rule", "add-column-invalid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# add-column-invalid (default: error)"));
    for h in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
    ] {
        assert!(text.contains(h));
    }
    let all = Command::cargo_bin("schemagate")
        .unwrap()
        .args(["rule"])
        .output()
        .unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    for id in [
        "robust-statements",
        "python-upgrade-missing",
        "sqlite-version",
    ] {
        assert!(all.contains(&format!("# {id} (default:")), "{id}");
    }
    let json = Command::cargo_bin("schemagate")
        .unwrap()
        .args(["rule", "--format", "json"])
        .output()
        .unwrap();
    let rules: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(rules.as_array().unwrap().len() >= 16);
    let out = Command::cargo_bin("schemagate")
        .unwrap()
        .args(["rule", "robust-statement"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean robust-statements"));
}

#[test]
fn lint_base_adds_the_base_branch_findings() {
    let p = Project::new().file(
        "001_init.sql",
        "-- Init\nCREATE TABLE IF NOT EXISTS t (x);\n",
    );
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-qm", "init"]);
    std::fs::write(
        p.path().join("migrations/001_init.sql"),
        "-- Init\nCREATE TABLE IF NOT EXISTS t (x, y);\n",
    )
    .unwrap();
    let (code, findings) = p.json(&["--base", "main"]);
    assert_eq!(code, 1);
    assert_eq!(of_rule(&findings, "modified-migration").len(), 1);
    p.cmd(&["lint", "--base", "no-such-branch"])
        .assert()
        .code(2);
}

#[test]
fn the_json_report_matches_the_committed_schema() {
    let p = Project::new()
        .file(
            "001_a.sql",
            "CREATE TABLE t (x);\nALTER TABLE t ADD COLUMN y TEXT NOT NULL;\n",
        )
        .file("002_b.py", "def migrate(conn):\n    pass\n");
    let out = p.cmd(&["lint", "--format", "json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schema/report-v1.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(report["findings"].as_array().unwrap().len() >= 4);
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

/// `migrate` a folder into a database, then edit the files.
fn migrated(files: &[(&str, &str)]) -> Project {
    let mut p = Project::new();
    for (name, text) in files {
        p = p.file(name, text);
    }
    p.cmd(&["migrate", "--db", "app.db", "--no-backup"])
        .assert()
        .code(0);
    p
}

#[test]
fn lint_db_classifies_drift() {
    let old = "-- Tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);\n";
    let p = migrated(&[
        ("001_tags.sql", old),
        ("002_more.sql", old.replace("tags", "more").as_str()),
    ]);
    let (code, findings) = p.json(&["--db", "app.db"]);
    assert_eq!((code, findings.len()), (0, 0), "{findings:#?}");

    // line endings only: not drift
    let p = p.file("001_tags.sql", &old.replace('\n', "\r\n"));
    let (code, findings) = p.json(&["--db", "app.db"]);
    assert_eq!((code, findings.len()), (0, 0), "{findings:#?}");

    // whitespace or comments only: a warning
    let p = p.file(
        "001_tags.sql",
        "-- Tags, see #12\ncreate table if not exists tags (\n  id INTEGER PRIMARY KEY\n);\n",
    );
    let (code, findings) = p.json(&["--db", "app.db"]);
    assert_eq!(code, 0);
    let drift = of_rule(&findings, "checksum-drift");
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0]["severity"], "warning");
    assert_eq!(drift[0]["path"], "migrations/001_tags.sql");

    // a real change: an error
    let p = p.file(
        "002_more.sql",
        "-- More\nCREATE TABLE IF NOT EXISTS more (id INTEGER PRIMARY KEY, x TEXT);\n",
    );
    let (code, findings) = p.json(&["--db", "app.db"]);
    assert_eq!(code, 1);
    let drift = of_rule(&findings, "checksum-drift");
    let sev: Vec<_> = drift
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sev,
        [
            ("migrations/001_tags.sql", "warning"),
            ("migrations/002_more.sql", "error")
        ]
    );
    // `check --db` reports the same history findings
    let out = p
        .cmd(&["check", "--db", "app.db", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check_findings = report["findings"].as_array().unwrap().clone();
    let check_sev: Vec<_> = of_rule(&check_findings, "checksum-drift")
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(check_sev, ["warning", "error"]);

    // accepting 002's exact change silences that version only
    let help = drift[1]["help"].as_str().unwrap();
    let snippet = &help[help.find("[[accept-checksum]]").unwrap()..];
    let p = p.config(&snippet.replace("\"...\"", "\"column added by hand in prod, #40\""));
    let (code, findings) = p.json(&["--db", "app.db"]);
    assert_eq!(code, 0, "{findings:#?}");
    let drift = of_rule(&findings, "checksum-drift");
    assert_eq!(at(&drift), [("migrations/001_tags.sql".into(), 0, 0)]);
    // and migrate no longer refuses on it
    p.cmd(&["migrate", "--db", "app.db", "--no-backup"])
        .assert()
        .code(0);
}

#[test]
fn lint_db_reads_without_writing() {
    let p = Project::new().file("001_a.sql", "-- A\nCREATE TABLE IF NOT EXISTS a (x);\n");
    // a database that does not exist: everything pending, and it is not created
    let out = p
        .cmd(&["lint", "--db", "new.db", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["database"]["exists"], false);
    assert_eq!(report["summary"]["pending"], 1);
    assert!(!p.path().join("new.db").exists());
    // not a database: exit 2
    std::fs::write(p.path().join("junk.db"), "hello, not sqlite").unwrap();
    p.cmd(&["lint", "--db", "junk.db"]).assert().code(2);
    // a migrated database is not modified by lint
    p.cmd(&["migrate", "--db", "app.db", "--no-backup"])
        .assert()
        .code(0);
    let before = std::fs::read(p.path().join("app.db")).unwrap();
    std::fs::write(
        p.path().join("migrations/001_a.sql"),
        "-- A\nCREATE TABLE IF NOT EXISTS a (x, y);\n",
    )
    .unwrap();
    p.cmd(&["lint", "--db", "app.db"]).assert().code(1);
    assert_eq!(std::fs::read(p.path().join("app.db")).unwrap(), before);
}
