//! 12.16: a failed `no-transaction` migration says what it left behind and names the
//! command that clears its marker; `resolve`, `mark-applied` and `forget` clear it, audited.

use super::checked;
use crate::common::{Project, query_strings};

const FAILING: &str =
    "-- schemagate:no-transaction\nCREATE TABLE a(x);\nINSERT INTO nope VALUES (1);\n";
const FIXED: &str = "-- schemagate:no-transaction\nCREATE TABLE IF NOT EXISTS a(x);\n";

fn failed_project() -> Project {
    let p = Project::new();
    p.file("001_base.sql", "CREATE TABLE base(x);\n");
    p.file("002_nt.sql", FAILING);
    let out = checked(&p.run(&["migrate"]).code(1));
    assert!(
        out.contains("the statements before the failing one stay applied"),
        "{out}"
    );
    assert!(out.contains("schemagate resolve 002 --applied"), "{out}");
    assert!(!out.contains("was rolled back"), "{out}");
    p
}

#[test]
fn resolve_rolled_back_clears_the_marker_and_the_migration_runs_again() {
    let p = failed_project();
    p.file("002_nt.sql", FIXED);
    let out = checked(&p.run(&["migrate"]).code(2));
    assert!(out.contains("schemagate resolve 002"), "{out}");
    assert!(!out.contains("DELETE FROM"), "{out}");
    // Nothing to resolve for a version without a marker; a reason is required.
    let out = checked(
        &p.run(&["resolve", "001", "--applied", "--reason", "r"])
            .code(2),
    );
    assert!(out.contains("no unfinished-migration marker"), "{out}");
    checked(
        &p.run(&["resolve", "002", "--rolled-back", "--reason", " "])
            .code(2),
    );
    checked(&p.run(&["resolve", "002", "--reason", "r"]).code(2));
    // `forget` of a version with only a marker points to resolve.
    let out = checked(&p.run(&["forget", "002", "--reason", "r"]).code(2));
    assert!(out.contains("resolve 002 --rolled-back"), "{out}");

    let out = checked(
        &p.run(&[
            "resolve",
            "002",
            "--rolled-back",
            "--reason",
            "dropped table a by hand",
        ])
        .code(0),
    );
    assert!(out.contains("pending again"), "{out}");
    checked(&p.run(&["migrate"]).code(0));
    assert_eq!(p.versions(), ["001", "002"]);
    let audit = query_strings(
        &p.open(),
        "SELECT command || ' ' || reason FROM schemagate_audit ORDER BY id",
    );
    assert_eq!(audit, ["resolve dropped table a by hand"]);
}

#[test]
fn resolve_applied_records_the_file_and_clears_the_marker() {
    let p = failed_project();
    checked(
        &p.run(&[
            "resolve",
            "2",
            "--applied",
            "--reason",
            "ran the insert by hand",
        ])
        .code(0),
    );
    assert_eq!(p.versions(), ["001", "002"]);
    let out = checked(&p.run(&["migrate"]).code(0));
    assert!(out.contains("current"), "{out}");
    let status = checked(&p.run(&["status"]).code(0));
    assert!(
        !status.contains("unknown state") && !status.contains("failed while running"),
        "{status}"
    );
}

#[test]
fn mark_applied_and_forget_clear_the_marker_too() {
    let p = failed_project();
    let out = checked(
        &p.run(&["mark-applied", "002", "--reason", "done by hand"])
            .code(0),
    );
    assert!(out.contains("cleared the marker"), "{out}");
    checked(&p.run(&["migrate"]).code(0));

    let p = failed_project();
    // A row recorded by hand the old way, with the marker still there.
    p.open()
        .execute(
            "INSERT INTO schema_versions(version, checksum) VALUES ('002', 'manual')",
            [],
        )
        .unwrap();
    let out = checked(&p.run(&["forget", "002", "--reason", "undo"]).code(0));
    assert!(out.contains("cleared the marker"), "{out}");
    let status = checked(&p.run(&["status"]).code(0));
    assert!(!status.contains("failed while running"), "{status}");
}
