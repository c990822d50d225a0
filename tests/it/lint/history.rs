//! Findings from history: `lint --base` against the base branch, `lint --db` against what a
//! database recorded.

use serde_json::Value;

use super::{Project, at, of_rule};
use crate::common::git;

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
