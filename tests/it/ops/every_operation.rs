//! What every operation does: leave an audit row that `status --audit` lists, and change
//! nothing without the migrator lock.

use super::{AUDIT_SQL, applied_project, backups, stderr, stdout, tables, versions, write_backup};

#[test]
fn every_operation_leaves_an_audit_row_that_status_audit_lists() {
    let p = applied_project();
    p.file("003_audit_log.sql", AUDIT_SQL);
    let db = p.db().display().to_string();
    let ok = |args: &[&str]| {
        let out = p.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    };
    ok(&[
        "mark-applied",
        "003",
        "--db",
        &db,
        "--reason",
        "ran by hand",
    ]);
    ok(&["forget", "003", "--db", &db, "--reason", "not really"]);
    std::fs::rename(
        p.migrations().join("002_tags.py"),
        p.migrations().join("004_tags.py"),
    )
    .unwrap();
    ok(&["rekey", "002", "004", "--db", &db, "--reason", "renumbered"]);
    ok(&["rollback", "--db", &db, "--reason", "bad tags"]);
    ok(&["restore", "--db", &db, "--reason", "undo the rollback"]);

    let out = p
        .cmd(&["status", "--audit", "--db", &db, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["databases"][0]["audit"].as_array().unwrap();
    let commands: Vec<&str> = rows
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        ["mark-applied", "forget", "rekey", "rollback", "restore"]
    );
    for r in rows {
        assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"));
        assert!(r["at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(rows[3]["versions"], serde_json::json!(["004"]));
    assert!(rows[3]["backup"].as_str().is_some());
    // The restore brought back the state before the rollback: 004 applied again.
    assert_eq!(
        rows[4]["details"]["now_applied"],
        serde_json::json!(["004"])
    );
    assert_eq!(versions(&p.db()), ["001", "004"]);

    let out = p.cmd(&["status", "--audit", "--db", &db]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("undo the rollback"), "{text}");
    assert!(text.contains("mark-applied"), "{text}");
}

#[test]
fn operations_wait_for_the_migrator_lock_and_change_nothing_without_it() {
    let p = applied_project();
    write_backup(&p, "app_20240101_000000.db");
    let db = p.db().display().to_string();
    let held = schemagate::lock::acquire(&p.db(), std::time::Duration::from_secs(1)).unwrap();
    for args in [
        vec!["forget", "002", "--reason", "x", "--lock-timeout", "0"],
        vec!["rollback", "--lock-timeout", "0"],
        vec!["restore", "--lock-timeout", "0"],
    ] {
        let out = p.cmd(&args).args(["--db", db.as_str()]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("another migration is running"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    drop(held);
    assert_eq!(versions(&p.db()), ["001", "002"]);
    assert_eq!(tables(&p.db()), ["schema_versions", "tags", "users"]);
    assert_eq!(backups(&p).len(), 1);
}
