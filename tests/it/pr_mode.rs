//! Pull-request mode on real git repositories: the change is judged, not the history.
//! A base that already holds duplicate versions, a Postgres-only statement and a file that
//! fails on SQLite must not block a pull request that adds one clean migration.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{findings, git, output, run_json, schemagate};

struct Repo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

const INIT: &str =
    "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n";

/// Ten lines of comments, to move everything below them.
const TEN_LINES: &str = "-- reviewed in PR #1\n--\n--\n--\n--\n--\n--\n--\n--\n--\n";

impl Repo {
    /// `main` with years of history: version 002 twice, a Postgres-only `SERIAL` (a
    /// foreign-dialect error), and a file that fails when replayed (an index on a column
    /// that never existed). `feature` is checked out.
    fn messy() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join("migrations")).unwrap();
        git(&root, &["init", "-q", "-b", "main"]);
        let r = Repo { _tmp: tmp, root };
        r.write("001_init.sql", INIT);
        r.write(
            "002_a_tags.sql",
            "-- tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);\n",
        );
        r.write(
            "002_b_tag_index.sql",
            "-- tag index\nCREATE INDEX IF NOT EXISTS tags_id ON tags(id);\n",
        );
        r.write(
            "003_nickname_index.sql",
            "-- nickname index\nCREATE INDEX IF NOT EXISTS users_nick ON users(nickname);\n",
        );
        r.write(
            "004_payments.sql",
            "-- payments (written for Postgres)\nCREATE TABLE IF NOT EXISTS payments (id SERIAL PRIMARY KEY, amount INTEGER);\n",
        );
        r.commit("history");
        git(&r.root, &["checkout", "-q", "-b", "feature"]);
        r
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.root.join("migrations").join(name), text).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.root.join("migrations").join(name)).unwrap()
    }

    fn commit(&self, msg: &str) {
        git(&self.root, &["add", "-A"]);
        git(&self.root, &["commit", "-q", "-m", msg]);
    }

    fn check(&self, args: &[&str]) -> (i32, Value, String) {
        run_json(
            schemagate(&self.root)
                .args(["check", "--base", "main", "--format", "json"])
                .args(args),
        )
    }

    fn add_clean_migration(&self) {
        self.write(
            "005_comments.sql",
            "-- comments\nCREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, body TEXT);\n",
        );
        self.commit("comments");
    }
}

/// `(rule, path, introduced)` of the error findings.
fn errors(v: &Value) -> Vec<(String, String, Option<bool>)> {
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
                f["introduced"].as_bool(),
            )
        })
        .collect();
    out.sort();
    out
}

fn e(rule: &str, path: &str, introduced: bool) -> (String, String, Option<bool>) {
    (rule.into(), format!("migrations/{path}"), Some(introduced))
}

#[test]
fn a_clean_migration_on_a_messy_base_passes_and_lists_what_was_there_as_not_blocking() {
    let r = Repo::messy();
    r.add_clean_migration();
    let (code, v, err) = r.check(&[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        errors(&v),
        vec![
            e("duplicate-version", "002_b_tag_index.sql", false),
            e("foreign-dialect", "004_payments.sql", false),
            e("migration-failed", "003_nickname_index.sql", false),
        ]
    );
    assert_eq!(v["base"]["reference"], "main");
    assert_eq!(v["base"]["gate"], "introduced");
    assert_eq!(
        v["base"]["commit"].as_str().unwrap().trim(),
        git(&r.root, &["rev-parse", "main"]).trim()
    );
    assert_eq!(v["summary"]["errors"], 3);
    assert_eq!(v["summary"]["introduced_errors"], 0);
    assert_eq!(v["summary"]["ok"], true);
    // The failed step is the base's too.
    let steps = v["dry_run"]["steps"].as_array().unwrap();
    let broken = steps
        .iter()
        .find(|s| s["path"] == "migrations/003_nickname_index.sql")
        .unwrap();
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["introduced"], false);
    let added = steps
        .iter()
        .find(|s| s["path"] == "migrations/005_comments.sql")
        .unwrap();
    assert_eq!(added["status"], "ok");

    // For people: the pre-existing findings are one line per rule, not blocking.
    let text = schemagate(&r.root)
        .args(["check", "--base", "main"])
        .assert()
        .code(0);
    let text = output(&text);
    assert!(
        text.contains(
            "duplicate-version: 1 pre-existing error unchanged from main, not blocking; -v lists them"
        ),
        "{text}"
    );
    assert!(
        text.contains("migration-failed: 1 pre-existing error unchanged from main"),
        "{text}"
    );
    assert!(!text.contains("error[foreign-dialect]"), "{text}");
    // -v lists them in full.
    let verbose = schemagate(&r.root)
        .args(["check", "--base", "main", "-v"])
        .assert()
        .code(0);
    let verbose = output(&verbose);
    assert!(
        verbose.contains("pre-existing findings (unchanged from main)"),
        "{verbose}"
    );
    assert!(
        verbose.contains("migrations/004_payments.sql:2:"),
        "{verbose}"
    );
}

#[test]
fn a_file_added_into_an_existing_version_is_an_introduced_duplicate() {
    let r = Repo::messy();
    r.add_clean_migration();
    r.write(
        "001_other.sql",
        "-- other\nCREATE TABLE IF NOT EXISTS other (id INTEGER PRIMARY KEY);\n",
    );
    r.commit("other");
    let (code, v, err) = r.check(&[]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let dups: Vec<(String, String, Option<bool>)> = errors(&v)
        .into_iter()
        .filter(|(rule, ..)| rule == "duplicate-version")
        .collect();
    assert_eq!(
        dups,
        vec![
            e("duplicate-version", "001_other.sql", true),
            e("duplicate-version", "002_b_tag_index.sql", false),
        ]
    );
    assert_eq!(v["summary"]["introduced_errors"], 1);

    // Annotations only for what the change introduces.
    let (code, annotations, _) = crate::common::run_cmd(
        schemagate(&r.root).args(["check", "--base", "main", "--format", "github"]),
    );
    assert_eq!(code, 1);
    assert!(
        annotations.contains("file=migrations/001_other.sql"),
        "{annotations}"
    );
    assert!(
        !annotations.contains("003_nickname_index.sql"),
        "{annotations}"
    );
    assert!(!annotations.contains("004_payments.sql"), "{annotations}");
}

#[test]
fn lint_base_judges_the_change_too() {
    let r = Repo::messy();
    r.add_clean_migration();
    let lint = |extra: &[&str]| {
        run_json(
            schemagate(&r.root)
                .args(["lint", "--base", "main", "--format", "json"])
                .args(extra),
        )
    };
    let (code, v, err) = lint(&[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(findings(&v, "duplicate-version")[0]["introduced"], false);
    let (code, _, _) = lint(&["--gate", "all"]);
    assert_eq!(code, 1);
}

#[test]
fn an_edit_that_moves_pre_existing_findings_down_keeps_them_pre_existing() {
    let r = Repo::messy();
    for name in ["004_payments.sql", "003_nickname_index.sql"] {
        let text = r.read(name);
        let (first, rest) = text.split_once('\n').unwrap();
        r.write(name, &format!("{first}\n{TEN_LINES}{rest}"));
    }
    r.commit("comments above the statements");
    let (code, v, err) = r.check(&[]);
    // Editing merged migrations is itself introduced, and an error.
    assert_eq!(code, 1, "{v:#}\n{err}");
    let dialect = findings(&v, "foreign-dialect");
    assert_eq!(dialect.len(), 1, "{v:#}");
    assert_eq!(dialect[0]["line"], 12, "moved down by 10 lines");
    assert_eq!(dialect[0]["introduced"], false);
    let failed = findings(&v, "migration-failed");
    assert_eq!(failed.len(), 1, "{v:#}");
    assert_eq!(failed[0]["line"], 12);
    assert_eq!(failed[0]["introduced"], false);
    let modified: Vec<&Value> = findings(&v, "modified-migration");
    assert_eq!(modified.len(), 2);
    assert!(modified.iter().all(|f| f["introduced"] == true));
}

#[test]
fn gate_all_counts_pre_existing_findings_from_the_flag_or_the_config() {
    let r = Repo::messy();
    r.add_clean_migration();
    let (code, v, _) = r.check(&["--gate", "all"]);
    assert_eq!(code, 1);
    assert_eq!(v["base"]["gate"], "all");
    assert_eq!(v["summary"]["ok"], false);
    // The findings are still marked.
    assert_eq!(findings(&v, "duplicate-version")[0]["introduced"], false);

    std::fs::write(r.root.join("schemagate.toml"), "[ci]\ngate = \"all\"\n").unwrap();
    let (code, _, _) = r.check(&[]);
    assert_eq!(code, 1);
    let (code, _, _) = r.check(&["--gate", "introduced"]);
    assert_eq!(code, 0);
    let text = schemagate(&r.root)
        .args(["check", "--base", "main"])
        .assert()
        .code(1);
    let text = output(&text);
    assert!(
        text.contains("unchanged from main, blocking (gate: all)"),
        "{text}"
    );
}

#[test]
fn without_a_base_everything_counts_and_nothing_is_marked() {
    let r = Repo::messy();
    r.add_clean_migration();
    let (code, v, err) = run_json(schemagate(&r.root).args(["check", "--format", "json"]));
    assert_eq!(code, 1, "{v:#}\n{err}");
    assert!(v.get("base").is_none());
    assert!(v["summary"].get("introduced_errors").is_none());
    for f in v["findings"].as_array().unwrap() {
        assert!(f.get("introduced").is_none(), "{f:#}");
    }
}

#[test]
fn python_migrations_of_the_base_run_from_real_files() {
    let r = Repo::messy();
    // A Python migration that imports a helper beside it, and fails the same way on both
    // sides: its failure is pre-existing.
    r.write("helpers_for_migrations.py", "TABLE = 'audit'\n");
    r.write(
        "006_audit.py",
        "DESCRIPTION = \"audit\"\nfrom helpers_for_migrations import TABLE\n\n\ndef upgrade(conn):\n    conn.execute(\"INSERT INTO %s (x) VALUES (1)\" % TABLE)\n",
    );
    r.commit("audit");
    git(&r.root, &["checkout", "-q", "main"]);
    git(&r.root, &["merge", "-q", "feature"]);
    git(&r.root, &["checkout", "-q", "-b", "next"]);
    r.write(
        "007_more.sql",
        "-- more\nCREATE TABLE IF NOT EXISTS more (id INTEGER PRIMARY KEY);\n",
    );
    r.commit("more");
    let (code, v, err) = r.check(&[]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    let failed = findings(&v, "migration-failed");
    let audit: Vec<&&Value> = failed
        .iter()
        .filter(|f| f["path"] == "migrations/006_audit.py")
        .collect();
    assert_eq!(audit.len(), 1, "{v:#}");
    assert!(
        audit[0]["message"]
            .as_str()
            .unwrap()
            .contains("no such table: audit"),
        "{v:#}"
    );
    assert_eq!(audit[0]["introduced"], false, "{v:#}");
}

#[test]
fn sarif_carries_the_baseline_state_and_validates() {
    let r = Repo::messy();
    r.add_clean_migration();
    r.write(
        "001_other.sql",
        "-- other\nCREATE TABLE IF NOT EXISTS other (id INTEGER PRIMARY KEY);\n",
    );
    r.commit("other");
    let sarif_path = r.root.join("out.sarif");
    let out = schemagate(&r.root)
        .args(["check", "--base", "main", "--sarif-file"])
        .arg(&sarif_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    let errors: Vec<String> = official_sarif_validator()
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{sarif:#}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let state = |rule: &str, file: &str| {
        results
            .iter()
            .find(|r| {
                r["ruleId"] == rule
                    && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                        .ends_with(file)
            })
            .map(|r| r["baselineState"].clone())
    };
    assert_eq!(
        state("duplicate-version", "001_other.sql"),
        Some(Value::from("new"))
    );
    assert_eq!(
        state("duplicate-version", "002_b_tag_index.sql"),
        Some(Value::from("unchanged"))
    );
    assert_eq!(
        state("migration-failed", "003_nickname_index.sql"),
        Some(Value::from("unchanged"))
    );
}

fn official_sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    )))
    .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[test]
fn the_json_report_of_pull_request_mode_matches_the_schema() {
    let r = Repo::messy();
    r.add_clean_migration();
    let (_, v, _) = r.check(&[]);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report-v1.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
}
