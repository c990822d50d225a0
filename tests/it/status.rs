//! `status` and `pending` through the real binary, on databases written by the legacy
//! manager and by schemagate, on missing databases and on several at once.

use crate::common::{Project, json, output};

fn states(report: &serde_json::Value) -> Vec<(String, String)> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap().to_string(),
                m["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn to_crlf(p: &Project) {
    for entry in std::fs::read_dir(p.migrations()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sql" || e == "py") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replace('\n', "\r\n")).unwrap();
        }
    }
}

#[test]
fn legacy_database_shows_no_drift_also_after_crlf_conversion() {
    let p = Project::with_examples();
    p.legacy_migrate(None);
    let rows = p.rows();
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter().all(|(_, c)| c.as_deref().unwrap().len() == 32),
        "MD5 rows"
    );

    let r = json(&p.run(&["status", "--format", "json"]).success());
    assert!(states(&r).iter().all(|(_, s)| s == "applied"), "{r}");
    assert_eq!(r["findings"], serde_json::json!([]));
    assert_eq!(r["summary"]["applied"], 5);

    to_crlf(&p);
    let r = json(&p.run(&["status", "--format", "json"]).success());
    assert!(states(&r).iter().all(|(_, s)| s == "applied"), "{r}");
    // and migrate agrees: nothing to do, no backup
    let m = json(&p.run(&["migrate", "--format", "json"]).success());
    assert_eq!(m["status"], "current");
    assert!(p.backup_files().is_empty());
}

#[test]
fn schemagate_continues_a_legacy_database_and_the_legacy_manager_can_read_it() {
    let p = Project::with_examples();
    p.legacy_migrate(Some("003"));
    assert_eq!(p.versions(), ["001", "002", "003"]);
    p.run(&["migrate"]).success();
    assert_eq!(p.versions(), ["001", "002", "003", "004", "005"]);
    // The legacy manager sees nothing left to do.
    p.legacy_migrate(None);
    assert_eq!(p.versions().len(), 5);
    p.run(&["status"]).success();
}

#[test]
fn edited_applied_file_is_drift_and_migrate_refuses_to_apply_anything() {
    let p = Project::with_examples();
    p.legacy_migrate(None);
    let path = p.migrations().join("003_create_audit_log.sql");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("action TEXT NOT NULL", "action TEXT NOT NULL, actor TEXT"),
    )
    .unwrap();
    p.file("006_new.sql", "CREATE TABLE newer(x);\n");

    let a = p.run(&["status", "--format", "json"]).code(1);
    let r = json(&a);
    let s = states(&r);
    assert!(s.contains(&("003".into(), "drifted".into())), "{s:?}");
    assert!(s.contains(&("006".into(), "pending".into())), "{s:?}");
    assert_eq!(r["findings"][0]["rule"], "checksum-drift");
    assert_eq!(
        r["findings"][0]["path"],
        "migrations/003_create_audit_log.sql"
    );

    let a = p.run(&["migrate"]).code(1);
    let out = output(&a);
    assert!(out.contains("checksum-drift"), "{out}");
    assert!(out.contains("refusing to apply"), "{out}");
    assert_eq!(p.versions().len(), 5, "nothing applied");
    assert!(p.backup_files().is_empty(), "no backup for a refused run");

    // An explicit override applies the pending file.
    p.run(&["migrate", "--allow", "drift"]).success();
    assert_eq!(p.versions().len(), 6);
}

#[test]
fn unverified_rows_are_neither_match_nor_drift() {
    let p = Project::with_examples();
    p.legacy_migrate(None);
    let conn = p.open();
    conn.execute_batch(
        "UPDATE schema_versions SET checksum = 'manual' WHERE version = '001';
         UPDATE schema_versions SET checksum = NULL WHERE version = '002';
         UPDATE schema_versions SET checksum = '' WHERE version = '003';",
    )
    .unwrap();
    drop(conn);
    let r = json(&p.run(&["status", "--format", "json"]).success());
    let s = states(&r);
    assert_eq!(s[0].1, "unverified");
    assert_eq!(s[1].1, "unverified");
    assert_eq!(s[2].1, "unverified");
    assert_eq!(s[3].1, "applied");
    let rules: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["unverified-record"; 3]);
    p.run(&["migrate"]).success();
}

#[test]
fn missing_database_is_new_and_never_created() {
    let p = Project::with_examples();
    let a = p.run(&["status"]).success();
    let out = output(&a);
    assert!(out.contains(" new"), "{out}");
    let r = json(&p.run(&["status", "--format", "json"]).success());
    assert_eq!(r["database"]["exists"], false);
    assert!(states(&r).iter().all(|(_, s)| s == "pending"));
    let a = p.run(&["pending"]).success();
    assert!(output(&a).contains("001  migrations/001_init.sql"));
    assert!(!p.db().exists(), "read-only commands create nothing");
    assert!(!p.path().join("data").exists());
}

#[test]
fn several_databases_give_one_row_each_and_a_databases_array() {
    let p = Project::with_examples();
    p.config(
        "[environments.dev]\ndatabase = \"data/app.db\"\n\n[environments.prod]\ndatabase = \"data/prod/app.db\"\n",
    );
    p.cmd().args(["migrate", "--env", "dev"]).assert().success();
    let a = p.cmd().args(["status", "--all-envs"]).assert().success();
    let out = output(&a);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("DATABASE"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("data/app.db") && l.contains("current")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("data/prod/app.db") && l.contains("new")),
        "{out}"
    );

    let a = p
        .cmd()
        .args(["status", "--env", "dev,prod", "--format", "json"])
        .assert()
        .success();
    let r = json(&a);
    assert_eq!(r["report_version"], 1);
    let dbs = r["databases"].as_array().unwrap();
    assert_eq!(dbs.len(), 2);
    assert_eq!(dbs[0]["database"]["env"], "dev");
    assert_eq!(dbs[0]["summary"]["pending"], 0);
    assert_eq!(dbs[1]["summary"]["pending"], 5);
}

#[test]
fn pending_lists_what_migrate_would_apply() {
    let p = Project::with_examples();
    p.legacy_migrate(Some("002"));
    let a = p.run(&["pending"]).success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "003  migrations/003_create_audit_log.sql",
            "004  migrations/004_add_user_email.py",
            "005  migrations/005_create_tags.sql"
        ]
    );
    let r = json(&p.run(&["pending", "--format", "json"]).success());
    assert_eq!(r["migrations"].as_array().unwrap().len(), 3);
}

#[test]
fn a_reviewed_accept_checksum_entry_lets_migrate_proceed() {
    let p = Project::with_examples();
    p.legacy_migrate(None);
    let path = p.migrations().join("003_create_audit_log.sql");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}-- reviewed comment\n")).unwrap();
    p.file("006_new.sql", "CREATE TABLE newer(x);\n");
    p.run(&["migrate"]).code(1);

    let r = json(&p.run(&["status", "--format", "json"]).code(1));
    let new = r["migrations"][2]["checksum"].as_str().unwrap().to_string();
    let old = p.rows()[2].1.clone().unwrap();
    p.config(&format!(
        "[[accept-checksum]]\nversion = \"003\"\nold = \"{old}\"\nnew = \"{new}\"\nreason = \"comment only\"\n"
    ));
    let r = json(&p.run(&["status", "--format", "json"]).success());
    assert_eq!(r["findings"], serde_json::json!([]), "{r}");
    p.run(&["migrate"]).success();
    assert_eq!(p.versions().len(), 6);
}
