//! Workflow-command annotations: their exact text, the escaping of their properties, and
//! stderr as their place when stdout carries JSON.

use serde_json::Value;

use schemagate::report::github::RepoPaths;
use schemagate::report::{Finding, Severity};

use super::{project, report};
use crate::common::schemagate;

#[test]
fn annotations_for_a_duplicate_version_and_a_robust_statements_finding() {
    let text = schemagate::report::github::annotations(&report(), &RepoPaths::default());
    assert_eq!(
        text,
        "::warning file=migrations/003_create_audit_log.sql,line=2,endLine=6,title=robust-statements::\
         CREATE TABLE audit_log: 100%25 fails, when run twice%0Aadd IF NOT EXISTS\n\
         ::error file=migrations/004_b.sql,line=1,col=1,title=duplicate-version::\
         version 004 is used by 2 files: 004_a.sql, 004_b.sql%0Ahelp: give the later file a free version: schemagate renumber --write\n"
    );
}

#[test]
fn annotation_properties_escape_colon_comma_percent_and_newlines() {
    let f = Finding::new("r", Severity::Info, "m")
        .path("dir,with:odd%name\n.sql")
        .at(3, 4);
    let line = schemagate::report::github::annotation(&f, &RepoPaths::default());
    assert_eq!(
        line,
        "::notice file=dir%2Cwith%3Aodd%25name%0A.sql,line=3,col=4,title=r::m"
    );
}

#[test]
fn lint_format_github_prints_exact_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    // A robust-statements finding whose message carries `%`, `:` and `,` (the table name),
    // and whose help makes it two lines; and a duplicate version.
    std::fs::write(
        m.join("003_create_audit_log.sql"),
        "-- audit\nCREATE TABLE \"100%: a, b\" (\n  id INTEGER PRIMARY KEY\n);\n",
    )
    .unwrap();
    std::fs::write(
        m.join("004_add_a.sql"),
        "-- a\nCREATE TABLE IF NOT EXISTS a (id INTEGER);\n",
    )
    .unwrap();
    std::fs::write(
        m.join("004_add_b.sql"),
        "-- b\nCREATE TABLE IF NOT EXISTS b (id INTEGER);\n",
    )
    .unwrap();
    let out = schemagate(dir.path())
        .args(["lint", "--format", "github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "::warning file=migrations/003_create_audit_log.sql,line=2,col=1,endColumn=25,title=robust-statements::\
         `CREATE TABLE \"100%25: a, b\"` without IF NOT EXISTS fails when the object already exists\
         %0Ahelp: write `CREATE TABLE IF NOT EXISTS \"100%25: a, b\"` so a re-run against a database \
         that already has the change does not fail\n\
         ::error file=migrations/004_add_b.sql,title=duplicate-version::\
         version 004 is claimed by 2 files: migrations/004_add_a.sql, migrations/004_add_b.sql\
         %0Ahelp: give all but one of them a new, unused version (`schemagate renumber` plans it)\n"
    );
}

#[test]
fn inside_actions_annotations_stay_out_of_json_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    std::fs::write(
        dir.join("migrations/005_dup.sql"),
        "-- dup\nCREATE TABLE IF NOT EXISTS dup (id INTEGER);\n",
    )
    .unwrap();
    let out = schemagate(&dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is only JSON");
    assert_eq!(report["command"], "check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("::error file=migrations/005_dup.sql"),
        "annotations on stderr: {stderr}"
    );
    assert!(
        std::fs::read_to_string(dir.join("summary.md"))
            .is_ok_and(|s| s.contains("duplicate-version"))
    );
}
