//! The JSON report contract: `schema/report-v1.json` is generated from the Rust types and
//! committed; these tests fail when it is stale and validate real reports against it.
//!
//! Regenerate after changing the report model:
//! `SCHEMAGATE_UPDATE_SCHEMA=1 cargo test --test report_schema`

use std::path::{Path, PathBuf};

use crate::common::{Project, run_json, schemagate};

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report-v1.json")
}

fn generated() -> String {
    let schema = schemars::schema_for!(schemagate::report::Report);
    let mut s = serde_json::to_string_pretty(&schema).unwrap();
    s.push('\n');
    s
}

fn committed() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap()
}

#[test]
fn committed_schema_matches_the_report_types() {
    let fresh = generated();
    if std::env::var_os("SCHEMAGATE_UPDATE_SCHEMA").is_some() {
        std::fs::write(schema_path(), &fresh).unwrap();
    }
    let on_disk = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "schema/report-v1.json is stale: the report types changed. Regenerate it with\n  SCHEMAGATE_UPDATE_SCHEMA=1 cargo test --test report_schema\nand review the diff (fields may be added; existing ones must keep their meaning)."
    );
}

fn validate(report: &serde_json::Value) {
    let schema = committed();
    let validator = jsonschema::validator_for(&schema).expect("the committed schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match schema/report-v1.json:\n{}\n{report:#}",
        errors.join("\n")
    );
}

#[test]
fn schema_rejects_a_report_of_another_shape() {
    let schema = committed();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"report_version": "one"})));
    let mut ok =
        serde_json::to_value(schemagate::report::Report::new("check", "migrations")).unwrap();
    validate(&ok);
    ok["findings"] = serde_json::json!([{"rule": "x", "severity": "fatal"}]);
    assert!(!validator.is_valid(&ok));
}

fn check_json(root: &Path, extra: &[&str]) -> serde_json::Value {
    let (code, report, err) = run_json(
        schemagate(root)
            .args(["check", "--format", "json"])
            .args(extra),
    );
    assert!(
        matches!(code, 0 | 1),
        "check failed to run: {err}\n{report:#}"
    );
    report
}

#[test]
fn real_check_reports_match_the_schema() {
    let p = Project::new();
    let root = p.path();
    p.file(
        "001_init.sql",
        "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n",
    );
    p.file(
        "002_email.sql",
        "-- email\nALTER TABLE users ADD COLUMN email TEXT;\n",
    );
    p.file(
        "003_broken.sql",
        "-- broken\nCREATE INDEX IF NOT EXISTS users_nick ON users(nickname);\n",
    );
    p.file(
        "004_after.sql",
        "-- after\nCREATE TABLE IF NOT EXISTS after_broken (id INTEGER PRIMARY KEY);\n",
    );
    let report = check_json(root, &[]);
    assert_eq!(report["report_version"], 1);
    assert!(
        report["dry_run"]["steps"]
            .as_array()
            .is_some_and(|s| s.len() == 4),
        "{report:#}"
    );
    validate(&report);

    // With a database: the dry run on its copy is part of the report too.
    let db = root.join("app.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE keep (id INTEGER PRIMARY KEY);")
        .unwrap();
    drop(conn);
    p.remove("003_broken.sql");
    let report = check_json(root, &["--db", "app.db"]);
    assert_eq!(report["database"]["path"], "app.db");
    validate(&report);
}
