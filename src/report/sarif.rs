//! SARIF 2.1.0 for GitHub code scanning (pure).
//!
//! The driver lists every registered rule (so code scanning shows their help even before
//! they fire) plus any rule id that appears in the results without being registered;
//! results point at repository-relative URIs under `%SRCROOT%`.

use serde_json::{Value, json};

use super::github::RepoPaths;
use super::{Finding, Report, RuleDoc, Severity};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encodes what may not stand in a URI reference (a file such as
/// `004_fix_schema 2.sql` is a migration, and a space is not valid in a URI).
pub fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn rule_descriptor(id: &str, doc: Option<&RuleDoc>) -> Value {
    match doc {
        Some(doc) => json!({
            "id": doc.id,
            "name": doc.id,
            "shortDescription": {"text": doc.summary},
            "fullDescription": {"text": doc.summary},
            "help": {"text": doc.docs, "markdown": doc.docs},
            "defaultConfiguration": {"level": level(doc.default_severity)},
            "properties": {"tags": ["schemagate", "migrations"]},
        }),
        None => json!({
            "id": id,
            "name": id,
            "shortDescription": {"text": id},
            "help": {"text": format!("Run `schemagate rule {id}` for this rule's documentation.")},
            "properties": {"tags": ["schemagate", "migrations"]},
        }),
    }
}

fn result(f: &Finding, index: usize, report: &Report, paths: &RepoPaths) -> Value {
    let mut text = f.message.clone();
    if let Some(help) = &f.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    // Code scanning needs a location on every result; a finding about the folder as a
    // whole points at the folder.
    let uri = encode_uri_path(&paths.map(f.path.as_deref().unwrap_or(&report.migrations_dir)));
    let mut physical = json!({
        "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
    });
    if let Some(line) = f.line.filter(|&l| l > 0) {
        let mut region = json!({"startLine": line});
        if let Some(col) = f.column.filter(|&c| c > 0) {
            region["startColumn"] = json!(col);
        }
        if let Some(end) = f.end_line.filter(|&e| e >= line) {
            region["endLine"] = json!(end);
        }
        // SARIF's endColumn is, like the report's, just past the span.
        if let Some(end) = f.end_column.filter(|&e| e > 0) {
            region["endColumn"] = json!(end);
        }
        physical["region"] = region;
    }
    let mut result = json!({
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
    });
    // Pull-request mode: code scanning shows only new alerts as the pull request's own.
    if let Some(introduced) = f.introduced {
        result["baselineState"] = json!(if introduced { "new" } else { "unchanged" });
    }
    if let Some(root) = &f.cascade_of {
        result["properties"] = json!({"cascadeOf": root});
    }
    result
}

/// The SARIF log as a JSON value. `rules` is the registry (`crate::lint::rules::ALL`).
pub fn to_value(report: &Report, rules: &[&RuleDoc], paths: &RepoPaths) -> Value {
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
    for f in &report.findings {
        if !ids.contains(&f.rule.as_str()) {
            ids.push(&f.rule);
        }
    }
    let descriptors: Vec<Value> = ids
        .iter()
        .map(|id| rule_descriptor(id, rules.iter().copied().find(|r| r.id == *id)))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = ids.iter().position(|id| *id == f.rule).unwrap_or_default();
            result(f, index, report, paths)
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": descriptors,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {
                "description": {"text": "The root of the repository."}
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "command": report.command,
                "migrationsDir": report.migrations_dir,
                "summary": report.summary,
            },
        }],
    })
}

/// The SARIF log, pretty-printed, with a final newline.
pub fn render(report: &Report, rules: &[&RuleDoc], paths: &RepoPaths) -> String {
    let mut out = serde_json::to_string_pretty(&to_value(report, rules, paths)).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FailOn;

    static DOC: RuleDoc = RuleDoc {
        id: "robust-statements",
        default_severity: Severity::Warning,
        summary: "CREATE without IF NOT EXISTS, DROP without IF EXISTS",
        docs: "## What it does\nFlags it.\n",
    };

    fn report() -> Report {
        let mut r = Report::new("lint", "migrations");
        r.findings.push(
            Finding::new("robust-statements", Severity::Warning, "CREATE TABLE t")
                .path("migrations/003_a b.sql")
                .at(2, 1),
        );
        r.findings.push(
            Finding::new("duplicate-version", Severity::Error, "version 004 twice")
                .path("migrations/004_b.sql")
                .at(1, 1),
        );
        r.findings
            .push(Finding::new("unregistered", Severity::Info, "folder"));
        r.finish(FailOn::Error);
        r
    }

    #[test]
    fn every_result_rule_has_a_descriptor_and_the_right_index() {
        let v = to_value(&report(), &[&DOC], &RepoPaths::default());
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for r in run["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        assert_eq!(rules[0]["help"]["markdown"], DOC.docs);
        let by_rule = |id: &str| {
            run["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["ruleId"] == id)
                .unwrap()
                .clone()
        };
        let uri =
            |r: &Value| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone();
        assert_eq!(
            uri(&by_rule("robust-statements")),
            "migrations/003_a%20b.sql"
        );
        // A finding without a file points at the folder.
        assert_eq!(uri(&by_rule("unregistered")), "migrations");
        assert_eq!(by_rule("unregistered")["level"], "note");
    }

    #[test]
    fn baseline_state_follows_introduced() {
        let mut r = report();
        r.findings[0].introduced = Some(true);
        r.findings[1].introduced = Some(false);
        let v = to_value(&r, &[&DOC], &RepoPaths::default());
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results[0]["baselineState"], "new");
        assert_eq!(results[1]["baselineState"], "unchanged");
        assert!(results[2].get("baselineState").is_none());
    }

    #[test]
    fn sarif_snapshot() {
        let mut r = report();
        r.tool.version = "0.0.0-test".into();
        insta::assert_snapshot!(render(&r, &[&DOC], &RepoPaths::new("app", None)));
    }
}
