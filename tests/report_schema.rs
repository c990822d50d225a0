//! The JSON report contract: `schema/report-v1.json` is generated from the Rust types and
//! committed; these tests fail when it is stale and validate real reports against it.
//!
//! Regenerate after changing the report model:
//! `SCHEMAGATE_UPDATE_SCHEMA=1 cargo test --test report_schema`

use std::path::{Path, PathBuf};

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

#[allow(dead_code)] // real `check` reports are validated once `check` lands
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
    assert!(validator.is_valid(&ok));
    ok["findings"] = serde_json::json!([{"rule": "x", "severity": "fatal"}]);
    assert!(!validator.is_valid(&ok));
}
