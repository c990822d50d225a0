//! SARIF, rendered by the library and written by `check --sarif-file`, validated against the
//! official OASIS schema.

use schemagate::report::github::RepoPaths;
use schemagate::report::{FailOn, Finding, Severity};
use serde_json::{Value, json};

use super::{project, report};
use crate::common::schemagate;

/// A validator (formats included) of the official SARIF 2.1.0 schema, the OASIS errata 01
/// copy kept in `tests/data`.
fn official_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    )))
    .unwrap();
    assert_eq!(
        schema["id"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let validator = official_validator();
    let mut r = report();
    // A finding without a file, one whose file name needs percent-encoding, and a rule
    // that is not registered.
    r.findings
        .push(Finding::new("out-of-order", Severity::Error, "no file"));
    r.findings.push(
        Finding::new("invalid-filename", Severity::Info, "copy artefact")
            .path("migrations/004_fix_schema 2.sql"),
    );
    r.finish(FailOn::Error);
    let text = schemagate::report::sarif::render(
        &r,
        schemagate::lint::rules::ALL,
        &RepoPaths::new("app", None),
    );
    let sarif: Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
    // The validator does reject what the schema forbids.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!validator.is_valid(&broken));

    let run = &sarif["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for result in run["results"].as_array().unwrap() {
        let id = result["ruleId"].as_str().unwrap();
        assert!(rules.contains(&id), "{id} has a rule entry");
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("app/migrations"), "{uri}");
    }
    assert!(text.contains("app/migrations/004_fix_schema%202.sql"));
}

#[test]
fn check_sarif_file_validates_against_the_official_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    // A duplicate version, so there is at least one result.
    std::fs::write(
        dir.join("migrations/005_dup.sql"),
        "CREATE TABLE dup (id INTEGER);\n",
    )
    .unwrap();
    schemagate(&dir)
        .args(["check", "--no-github", "--sarif-file", "out.sarif"])
        .output()
        .unwrap();
    let validator = official_validator();
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.sarif")).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
