//! The repairs `mark-applied`, `forget` and `rekey`: history rows edited, the schema never.

use super::{
    AUDIT_SQL, INIT, NOTES_PY, Project, applied_project, audit, query, sha256, stderr, tables,
    versions,
};

#[test]
fn mark_applied_records_the_real_checksum() {
    let p = applied_project();
    p.file("003_audit_log.sql", AUDIT_SQL);
    let db = p.db().display().to_string();
    let out = p
        .cmd(&[
            "mark-applied",
            "003",
            "--db",
            &db,
            "--reason",
            "ran by hand in 2023",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        query(
            &p.db(),
            "SELECT checksum FROM schema_versions WHERE version = '003'"
        ),
        [sha256(AUDIT_SQL)]
    );
    // Not run: marking records, it does not execute.
    assert!(!tables(&p.db()).contains(&"audit_log".to_string()));
    assert_eq!(audit(&p.db()), ["mark-applied 003 ran by hand in 2023"]);

    // Already applied, and a version without a file: exit 2, nothing written.
    for v in ["003", "009"] {
        let out = p
            .cmd(&["mark-applied", v, "--db", &db, "--reason", "x"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{v}");
    }
    assert_eq!(versions(&p.db()), ["001", "002", "003"]);
    assert_eq!(audit(&p.db()).len(), 1);
}

#[test]
fn forget_removes_the_row_and_refuses_an_unknown_version() {
    let p = applied_project();
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["forget", "2", "--db", &db, "--reason", "re-run it"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(versions(&p.db()), ["001"]);
    assert_eq!(audit(&p.db()), ["forget 002 re-run it"]);

    let out = p
        .cmd(&["forget", "002", "--db", &db, "--reason", "again"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not recorded"), "{}", stderr(&out));
    let out = p
        .cmd(&["forget", "abc", "--db", &db, "--reason", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(audit(&p.db()).len(), 1);
}

#[test]
fn repairs_on_a_missing_database_create_nothing() {
    let p = Project::new();
    p.file("001_init.sql", INIT);
    let out = p
        .cmd(&[
            "mark-applied",
            "001",
            "--db",
            "data/typo.db",
            "--reason",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!p.root().join("data").exists());
}

#[test]
fn rekey_moves_a_row_to_the_renumbered_file_with_the_same_content() {
    let p = applied_project();
    // 002 was renumbered to 005 after it had been applied.
    std::fs::rename(
        p.migrations().join("002_tags.py"),
        p.migrations().join("005_tags.py"),
    )
    .unwrap();
    p.file("006_other.py", NOTES_PY);
    let db = p.db().display().to_string();

    // Wrong content: refused.
    let out = p
        .cmd(&["rekey", "002", "006", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does not have the content"),
        "{}",
        stderr(&out)
    );
    assert_eq!(versions(&p.db()), ["001", "002"]);

    let out = p
        .cmd(&[
            "rekey",
            "002",
            "005",
            "--db",
            &db,
            "--reason",
            "renumbered in #41",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(versions(&p.db()), ["001", "005"]);
    assert_eq!(audit(&p.db()), ["rekey 002,005 renumbered in #41"]);

    // The old version is gone now.
    let out = p
        .cmd(&["rekey", "002", "005", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
