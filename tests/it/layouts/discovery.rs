//! What each layout's folder is to schemagate: its migrations, its layout named with the
//! evidence, and no findings about names the tool writes itself.

use super::{ALL, fixture, rules};
use crate::common::{Project, findings, json, output};

#[test]
fn every_layout_is_detected_named_and_counted() {
    for layout in ALL {
        let f = fixture(layout);
        let p = f.project();
        let a = p.cmd().args(["lint", "--format", "json"]).assert();
        let report = json(&a);
        assert_eq!(
            a.get_output().status.code(),
            Some(0),
            "{layout}: {}",
            output(&a)
        );
        assert_eq!(report["layout"]["name"], layout, "{layout}");
        assert_eq!(
            report["migrations"].as_array().unwrap().len(),
            3,
            "{layout}: {report:#}"
        );
        let evidence = report["layout"]["evidence"].as_str().unwrap();
        let expected = match layout {
            "sqlx" => "sqlx-cli writes",
            "golang-migrate" => "schemagate.toml",
            "dbmate" => "`-- migrate:up` markers (3 files)",
            "goose" => "`-- +goose Up` markers (3 files)",
            "flyway" => "`V<n>__name.sql` file names (6 files)",
            _ => "`<version>_name/up.sql` folders (3 folders)",
        };
        assert!(evidence.contains(expected), "{layout}: {evidence}");
        // Clean real-style folders: no finding about the names the tool writes itself.
        assert!(rules(&report).is_empty(), "{layout}: {report:#}");
    }
}

#[test]
fn the_text_report_names_the_layout_and_why() {
    let p = fixture("dbmate").project();
    let a = p.cmd().arg("lint").assert().success();
    let out = output(&a);
    assert!(
        out.starts_with("layout: dbmate, from `-- migrate:up` markers (3 files)\n"),
        "{out}"
    );
    let out = output(&p.run(&["status"]).success());
    assert!(out.starts_with("layout: dbmate, from "), "{out}");
    // A legacy folder says nothing about layouts.
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE a(x);\n");
    let out = output(&p.cmd().arg("lint").assert().success());
    assert!(!out.contains("layout:"), "{out}");
}

#[test]
fn native_versions_are_what_the_tools_record() {
    // `status --format json` lists the versions as the folder names them; the tool's own
    // number (sqlx's i64, goose's int64) is what discovery exposes to the history readers,
    // checked in the unit tests of `layout::names`. Here: the numbering the tools write
    // is read without a duplicate or an out-of-order finding.
    for layout in ["golang-migrate", "flyway"] {
        let p = fixture(layout).project();
        let report = json(
            &p.cmd()
                .args(["lint", "--format", "json"])
                .assert()
                .success(),
        );
        let versions: Vec<&str> = report["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["version"].as_str().unwrap())
            .collect();
        let expected: [&str; 3] = if layout == "flyway" {
            ["1", "2", "3"]
        } else {
            ["000001", "000002", "000003"]
        };
        assert_eq!(versions, expected, "{layout}");
    }
}

#[test]
fn a_folder_of_two_tools_is_refused_naming_the_files_of_each() {
    let p = Project::new();
    p.file(
        "20240105093000_users.sql",
        "-- migrate:up\nCREATE TABLE users(id);\n-- migrate:down\nDROP TABLE users;\n",
    );
    p.file(
        "20240112141500_posts.sql",
        "-- +goose Up\nCREATE TABLE posts(id);\n-- +goose Down\nDROP TABLE posts;\n",
    );
    for cmd in ["lint", "check", "status", "dry-run"] {
        let a = p.run(&[cmd]).code(2);
        let out = output(&a);
        assert!(
            out.contains("mixes the layouts of several tools"),
            "{cmd}: {out}"
        );
        assert!(out.contains("`20240105093000_users.sql`"), "{cmd}: {out}");
        assert!(out.contains("`20240112141500_posts.sql`"), "{cmd}: {out}");
    }
    assert!(!p.db().exists());
    // Saying which tool deploys the folder turns the other file into a finding.
    p.config("[migrations]\nlayout = \"dbmate\"\n");
    let a = p.cmd().args(["lint", "--format", "json"]).assert().code(1);
    let report = json(&a);
    let missing: Vec<_> = findings(&report, "missing-up-section")
        .into_iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        ["migrations/20240112141500_posts.sql"],
        "{report:#}"
    );
    assert_eq!(
        report["layout"]["evidence"],
        "`[migrations] layout` in schemagate.toml"
    );
}

#[test]
fn up_down_pairs_without_a_hint_ask_which_tool() {
    let p = Project::new();
    p.file("000001_users.up.sql", "CREATE TABLE users(id);\n");
    p.file("000001_users.down.sql", "DROP TABLE users;\n");
    let out = output(&p.cmd().arg("lint").assert().code(2));
    assert!(out.contains("both sqlx and golang-migrate"), "{out}");
    assert!(out.contains("layout = \"sqlx\""), "{out}");
    p.config("[migrations]\nlayout = \"sqlx\"\n");
    let report = json(
        &p.cmd()
            .args(["lint", "--format", "json"])
            .assert()
            .success(),
    );
    assert_eq!(report["layout"]["name"], "sqlx");
    assert_eq!(report["migrations"].as_array().unwrap().len(), 1);
}

/// Issue 10: numbered files schemagate cannot run are named, with the version the replay
/// leaves out, instead of being ignored.
#[test]
fn numbered_files_that_cannot_run_are_warnings_naming_the_version() {
    let f = fixture("goose");
    let p = f.project();
    p.file(
        "20240106120000_backfill_emails.go",
        "package migrations\n\nimport \"github.com/pressly/goose/v3\"\n\nfunc init() {\n\tgoose.AddMigrationContext(up, down)\n}\n",
    );
    let a = p
        .cmd()
        .args(["check", "--format", "json"])
        .assert()
        .success();
    let report = json(&a);
    let unsupported = findings(&report, "unsupported-migration");
    assert_eq!(unsupported.len(), 1, "{report:#}");
    assert_eq!(unsupported[0]["severity"], "warning");
    let message = unsupported[0]["message"].as_str().unwrap();
    assert!(message.contains("Go migration"), "{message}");
    assert!(
        message.contains("version 20240106120000 is left out of the replay"),
        "{message}"
    );
    // The dry run says it too.
    let report = json(
        &p.cmd()
            .args(["dry-run", "--format", "json"])
            .assert()
            .success(),
    );
    assert!(
        rules(&report).contains(&"unsupported-migration".to_string()),
        "{report:#}"
    );

    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE a(x);\n");
    p.file("002_seed.js", "exports.up = () => {};\n");
    let out = output(&p.cmd().arg("lint").assert().success());
    assert!(out.contains("002_seed.js"), "{out}");
    assert!(out.contains("version 002 is left out"), "{out}");

    let p = fixture("flyway").project();
    p.file(
        "R__refresh_views.sql",
        "CREATE VIEW IF NOT EXISTS v AS SELECT 1;\n",
    );
    let out = output(&p.cmd().arg("lint").assert().success());
    assert!(out.contains("repeatable"), "{out}");
}

#[test]
fn a_marker_file_without_an_up_section_is_an_error_and_runs_nothing() {
    let p = fixture("dbmate").project();
    p.file(
        "20240301000000_drop_posts.sql",
        "DROP TABLE posts;\n\n-- migrate:down\nCREATE TABLE posts(id);\n",
    );
    let a = p.cmd().args(["check", "--format", "json"]).assert().code(1);
    let report = json(&a);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "missing-up-section")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "migrations/20240301000000_drop_posts.sql");
    // Its statements ran in no direction: neither the SQL above the marker nor the Down.
    let steps = report["dry_run"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    assert!(steps.iter().all(|s| s["status"] == "ok"), "{report:#}");
    assert_eq!(steps[3]["statements"], 0, "{report:#}");
}

/// The base branch is read in the working tree's layout, diesel's folders included: a
/// changed Up on the base is `modified-migration`, a new folder is fine.
#[test]
fn the_base_branch_is_read_in_the_same_layout() {
    use crate::common::git;
    for layout in ["diesel", "dbmate"] {
        let f = fixture(layout);
        let p = f.project();
        git(p.path(), &["init", "-q", "-b", "main"]);
        git(p.path(), &["add", "-A"]);
        git(p.path(), &["commit", "-q", "-m", "base"]);
        git(p.path(), &["checkout", "-q", "-b", "feature"]);
        let (edited, _) = &f.files[0];
        let text = std::fs::read_to_string(p.migrations().join(edited)).unwrap();
        std::fs::write(
            p.migrations().join(edited),
            text.replace("email TEXT NOT NULL UNIQUE", "email TEXT NOT NULL"),
        )
        .unwrap();
        let a = p
            .cmd()
            .args(["lint", "--base", "main", "--format", "json"])
            .assert()
            .code(1);
        let report = json(&a);
        let modified: Vec<&str> = findings(&report, "modified-migration")
            .into_iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            modified,
            [format!("migrations/{edited}")],
            "{layout}: {report:#}"
        );
    }
}
