//! GitHub integration: annotations, job summary, step outputs, SARIF against the official
//! schema, and the sticky comment against a loopback server that answers like GitHub's
//! REST API (wiremock), reached through the real octocrab client.

mod annotations;
mod comment;
mod sarif;
mod summary;

use std::path::Path;

use schemagate::github::GithubEnv;
use schemagate::report::{DryRun, FailOn, Finding, Report, Severity, Step, StepStatus};

use crate::common::copy_examples;

const TOKEN: &str = "ghs_s3cretTokenThatMustNeverBePrinted";

/// The findings the lint rules report for a folder holding `004_a.sql` and `004_b.sql`
/// (same version) and a CREATE TABLE without IF NOT EXISTS whose message carries `%`, `:`,
/// `,` and a line break.
fn report() -> Report {
    let mut r = Report::new("check", "migrations");
    r.findings.push(
        Finding::new(
            "duplicate-version",
            Severity::Error,
            "version 004 is used by 2 files: 004_a.sql, 004_b.sql",
        )
        .path("migrations/004_b.sql")
        .at(1, 1)
        .help("give the later file a free version: schemagate renumber --write"),
    );
    let mut robust = Finding::new(
        "robust-statements",
        Severity::Warning,
        "CREATE TABLE audit_log: 100% fails, when run twice\nadd IF NOT EXISTS",
    )
    .path("migrations/003_create_audit_log.sql")
    .at(2, 1);
    robust.end_line = Some(6);
    robust.end_column = Some(3);
    r.findings.push(robust);
    r.dry_run = Some(DryRun {
        source: "empty".into(),
        steps: vec![Step {
            version: "003".into(),
            path: Some("migrations/003_create_audit_log.sql".into()),
            status: StepStatus::Ok,
            duration_ms: 2.5,
            statements: Some(1),
            schema_diff: "+CREATE TABLE audit_log (id INTEGER PRIMARY KEY)\n".into(),
            error: None,
            cascade_of: None,
            introduced: None,
        }],
    });
    r.finish(FailOn::Error);
    r
}

fn env_in(dir: &Path) -> GithubEnv {
    GithubEnv {
        actions: true,
        step_summary: Some(dir.join("summary.md")),
        output: Some(dir.join("output.txt")),
        runner_temp: Some(dir.to_path_buf()),
        ..GithubEnv::default()
    }
}

/// A project holding copies of the bundled example migrations.
fn project(dir: &Path) -> std::path::PathBuf {
    copy_examples(&dir.join("migrations"));
    dir.to_path_buf()
}
