//! What `lint` and `rule` say: exit codes, `--fail-on`, the compiler-like text, the JSON
//! report against its committed schema, and the rule docs.

use assert_cmd::Command;
use serde_json::Value;

use super::{Project, repo_root};

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
    // `rule` alone: one line per rule, id, default severity and summary.
    let list = Command::cargo_bin("schemagate")
        .unwrap()
        .args(["rule"])
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    let line = |id: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .map(str::to_string)
    };
    assert_eq!(
        line("duplicate-version").unwrap().split_whitespace().nth(1),
        Some("error")
    );
    assert!(line("sqlite-version").is_some(), "{list}");
    assert!(list.lines().count() < 60, "a short list: {list}");
    assert!(!list.contains("## What it does"));
    // `rule --all`: every rule's documentation.
    let all = Command::cargo_bin("schemagate")
        .unwrap()
        .args(["rule", "--all"])
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
