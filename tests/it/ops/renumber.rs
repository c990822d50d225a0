//! `renumber`: files that share a version move above the newest, never one that is applied
//! or present on the base branch.

use super::{Project, sha256, stderr, stdout};
use crate::common::git;

fn duplicated_folder(p: &Project) {
    p.file("001_init.sql", "CREATE TABLE a(x);\n")
        .file("002_users.sql", "CREATE TABLE users(x);\n")
        .file("002_posts.sql", "CREATE TABLE posts(x);\n")
        .file("004_c.sql", "CREATE TABLE c(x);\n")
        .file("004_d.sql", "CREATE TABLE d(x);\n")
        .file(
            "004_e.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE e(x)')\n",
        )
        .file("005_last.sql", "CREATE TABLE last(x);\n");
}

#[test]
fn renumber_keeps_the_applied_file_and_moves_the_others_above_the_newest() {
    let p = Project::new();
    p.git_init();
    duplicated_folder(&p);
    p.commit_all("migrations");
    p.legacy_db(&[
        ("001", &sha256("CREATE TABLE a(x);\n")),
        ("004", &sha256("CREATE TABLE d(x);\n")),
    ]);
    let db = p.db().display().to_string();

    // The plan alone changes nothing and reports the duplicates (exit 1).
    let out = p.cmd(&["renumber", "--db", &db]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("version 004: keep 004_d.sql (applied in the database)"),
        "{text}"
    );
    assert!(
        text.contains("would rename 004_c.sql -> 007_c.sql"),
        "{text}"
    );
    assert!(p.exists("004_c.sql") && p.exists("002_posts.sql"));
    let out = p.cmd(&["lint", "--format", "json"]).output().unwrap();
    assert!(
        stdout(&out).contains("\"duplicate-version\""),
        "{}",
        stdout(&out)
    );

    let out = p
        .cmd(&["renumber", "--db", &db, "--write", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["written"], true);
    let moves: Vec<(String, String)> = json["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["from"].as_str().unwrap().to_string(),
                m["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // 002: both files committed together, so apply order decides; 004: the applied one stays.
    assert_eq!(
        moves,
        [
            ("002_users.sql".to_string(), "006_users.sql".to_string()),
            ("004_c.sql".to_string(), "007_c.sql".to_string()),
            ("004_e.py".to_string(), "008_e.py".to_string()),
        ]
    );
    for kept in [
        "002_posts.sql",
        "004_d.sql",
        "006_users.sql",
        "007_c.sql",
        "008_e.py",
    ] {
        assert!(p.exists(kept), "{kept} missing");
    }
    assert!(!p.exists("004_c.sql") && !p.exists("002_users.sql"));

    // Renamed with git mv: the index knows the new names.
    let staged = git(p.root(), &["diff", "--cached", "--name-status", "-M"]);
    assert!(staged.contains("migrations/007_c.sql"), "{staged}");

    // Nothing left to renumber, and lint finds no duplicate.
    let out = p.cmd(&["renumber", "--db", &db]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("nothing to renumber"));
    let out = p.cmd(&["lint", "--format", "json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"duplicate-version"), "{rules:?}");
}

#[test]
fn renumber_never_moves_a_file_present_on_the_base_branch() {
    let p = Project::new();
    p.git_init();
    p.file("001_a.sql", "CREATE TABLE a(x);\n")
        .file("003_zeta.sql", "CREATE TABLE z(x);\n");
    p.commit_all("base");
    p.git(&["branch", "base"]);
    // A later branch adds a file that sorts first in the same version.
    p.file("003_alpha.sql", "CREATE TABLE al(x);\n");
    p.commit_all("feature");
    let out = p
        .cmd(&["renumber", "--base", "base", "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.exists("003_zeta.sql"));
    assert!(p.exists("004_alpha.sql"));
}

#[test]
fn renumber_outside_git_renames_plainly_in_apply_order() {
    let p = Project::new();
    p.file("010_a.sql", "SELECT 1;\n")
        .file("010_b.sql", "SELECT 2;\n");
    let out = p.cmd(&["renumber", "--write"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.exists("010_a.sql") && p.exists("011_b.sql"));
}

#[test]
fn renumber_refuses_when_two_protected_files_share_a_version() {
    let p = Project::new();
    p.git_init();
    p.file("001_a.sql", "CREATE TABLE a(x);\n")
        .file("002_b.sql", "CREATE TABLE b(x);\n");
    p.commit_all("base");
    p.git(&["branch", "base"]);
    p.file("002_c.sql", "CREATE TABLE c(x);\n");
    p.legacy_db(&[("002", &sha256("CREATE TABLE c(x);\n"))]);
    let db = p.db().display().to_string();
    let out = p
        .cmd(&["renumber", "--base", "base", "--db", &db, "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing renamed"), "{}", stderr(&out));
    assert!(p.exists("002_b.sql") && p.exists("002_c.sql"));
}

#[test]
fn renumber_with_a_missing_database_is_an_error_not_an_empty_history() {
    let p = Project::new();
    p.file("001_a.sql", "SELECT 1;\n")
        .file("001_b.sql", "SELECT 2;\n");
    let out = p
        .cmd(&["renumber", "--db", "nope/typo.db", "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(p.exists("001_b.sql"));
    assert!(!p.root().join("nope").exists());
}
