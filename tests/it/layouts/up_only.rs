//! A Down part is never executed forward: the dry run, its second (idempotency) run and
//! `check`'s replay leave exactly the schema of the Up parts alone.

use super::{ALL, fixture, kept, rules, schema_of, up_only_schema};
use crate::common::{Project, json, output};

#[test]
fn dry_run_and_replay_apply_only_the_up_parts() {
    let expected = up_only_schema();
    for layout in ALL {
        let p = fixture(layout).project();
        let a = p
            .cmd()
            .args(["dry-run", "--keep-scratch", "--format", "json"])
            .assert();
        let out = output(&a);
        assert_eq!(a.get_output().status.code(), Some(0), "{layout}: {out}");
        let report = json(&a);
        let steps = report["dry_run"]["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 3, "{layout}: {report:#}");
        assert!(
            steps.iter().all(|s| s["status"] == "ok"),
            "{layout}: {report:#}"
        );
        // The second run is the Up part again (idempotent here), never Up then Down.
        assert!(
            !rules(&report).contains(&"not-idempotent".to_string()),
            "{layout}: {report:#}"
        );
        let scratch = kept(&out);
        assert_eq!(schema_of(&scratch), expected, "{layout}: dry run");
        let _ = std::fs::remove_dir_all(scratch.parent().unwrap());

        let a = p.cmd().args(["check", "--keep-scratch"]).assert();
        let out = output(&a);
        assert_eq!(a.get_output().status.code(), Some(0), "{layout}: {out}");
        let scratch = kept(&out);
        assert_eq!(schema_of(&scratch), expected, "{layout}: replay");
        let _ = std::fs::remove_dir_all(scratch.parent().unwrap());
    }
}

/// A failure in an Up section points at the file's own line and column, not at a line of
/// the section.
#[test]
fn errors_in_an_up_section_keep_the_files_line_and_column() {
    let p = Project::new();
    p.file(
        "20240105093000_users.sql",
        "-- Users of the app.\n\n-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n  INSERT INTO nope VALUES (1);\n\n-- migrate:down\nDROP TABLE users;\n",
    );
    let a = p
        .cmd()
        .args(["dry-run", "--format", "json"])
        .assert()
        .code(1);
    let report = json(&a);
    let error = &report["dry_run"]["steps"][0]["error"];
    assert_eq!(error["path"], "migrations/20240105093000_users.sql");
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(5), Some(3))
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no such table: nope")
    );
}

/// A Down marker in a folder whose layout runs whole files would run the Down forward:
/// refused before anything runs.
#[test]
fn a_down_section_in_a_whole_file_layout_is_refused() {
    let p = Project::new();
    p.config("[migrations]\nlayout = \"legacy\"\n");
    p.file("001_init.sql", "CREATE TABLE a(x);\n");
    p.file(
        "002_users.sql",
        "-- migrate:up\nCREATE TABLE users(id);\n\n-- migrate:down\nDROP TABLE users;\n",
    );
    for args in [&["migrate"][..], &["check"], &["dry-run"], &["lint"]] {
        let a = p.run(args).code(2);
        let out = output(&a);
        assert!(
            out.contains("migrations/002_users.sql:4"),
            "{args:?}: {out}"
        );
        assert!(out.contains("would run forward"), "{args:?}: {out}");
    }
    assert!(!p.db().exists(), "nothing was created");
}
