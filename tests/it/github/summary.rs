//! The job summary and the step outputs: appended to the runner's files as specified, and
//! nothing written when the options are off.

use std::path::Path;

use schemagate::github::{self, PublishOptions};
use serde_json::Value;

use super::{env_in, report};

/// Parses `$GITHUB_OUTPUT` the way the runner does (`name<<DELIM` ... `DELIM`, or
/// `name=value`).
fn parse_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

#[test]
fn step_summary_and_outputs_are_appended_as_specified() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_in(dir.path());
    std::fs::write(dir.path().join("summary.md"), "earlier step\n").unwrap();
    std::fs::write(dir.path().join("output.txt"), "other=1\n").unwrap();
    let sarif = dir.path().join("schemagate.sarif");
    let opts = PublishOptions {
        annotations: true,
        summary: true,
        outputs: true,
        sarif_file: Some(sarif.clone()),
        ..PublishOptions::default()
    };
    let mut stdout = Vec::new();
    let warnings = github::publish(&report(), &opts, &env, &mut stdout).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");

    let stdout = String::from_utf8(stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.starts_with("::warning file="));

    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        summary.starts_with("earlier step\n## schemagate check\n"),
        "appended: {summary}"
    );
    assert!(summary.contains("| ❌ error | `duplicate-version` | `migrations/004_b.sql:1:1` |"));
    assert!(
        summary.contains("| 003 | `migrations/003_create_audit_log.sql` | ✅ ok | 2.5 ms | 1 |")
    );
    assert!(summary.contains(
        "<details><summary>Schema diff of 003 (migrations/003_create_audit_log.sql)</summary>\n\n```diff\n+CREATE TABLE audit_log"
    ));

    let outputs = std::fs::read_to_string(dir.path().join("output.txt")).unwrap();
    assert!(outputs.starts_with("other=1\n"), "appended: {outputs}");
    let parsed = parse_outputs(&outputs);
    let get = |k: &str| {
        parsed
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no output {k} in {outputs}"))
    };
    assert_eq!(get("ok"), "false");
    assert_eq!(get("errors"), "1");
    assert_eq!(get("warnings"), "1");
    assert_eq!(get("pending"), "0");
    assert_eq!(get("sarif-file"), sarif.to_string_lossy());
    // Without --output, the JSON report lands in RUNNER_TEMP and its path is an output.
    let report_path = get("report-path");
    assert_eq!(
        Path::new(&report_path),
        dir.path().join("schemagate-report.json")
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(json["summary"]["errors"], 1);
    // Every value is framed by one random delimiter of the toolkit's form.
    let first = outputs.lines().nth(1).unwrap();
    let delim = first.split_once("<<").unwrap().1;
    assert!(
        delim.starts_with("ghadelimiter_") && delim.len() > 20,
        "{delim}"
    );
}

#[test]
fn nothing_is_written_when_the_options_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_in(dir.path());
    let mut stdout = Vec::new();
    github::publish(&report(), &PublishOptions::default(), &env, &mut stdout).unwrap();
    assert!(stdout.is_empty());
    assert!(!dir.path().join("summary.md").exists());
    assert!(!dir.path().join("output.txt").exists());
}

#[test]
fn an_unwritable_summary_file_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = env_in(dir.path());
    env.step_summary = Some(dir.path().join("missing-dir").join("summary.md"));
    let opts = PublishOptions {
        summary: true,
        ..PublishOptions::default()
    };
    let err = github::publish(&report(), &opts, &env, &mut Vec::new()).unwrap_err();
    assert!(
        format!("{err:#}").contains("GITHUB_STEP_SUMMARY"),
        "{err:#}"
    );
}
