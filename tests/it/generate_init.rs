//! `generate` and `init`, run through the real binary in temp dirs.

use std::fs;
use std::path::Path;

use predicates::str::contains;

use crate::common::{Project, git, legacy_db, schemagate};

fn project(files: &[(&str, &str)]) -> Project {
    let p = Project::new();
    for (name, text) in files {
        p.file(name, text);
    }
    p
}

#[test]
fn generate_takes_the_next_version_with_the_folders_padding() {
    let p = project(&[
        ("001_init.sql", "SELECT 1;"),
        ("002_b.py", "def upgrade(conn): pass\n"),
    ]);
    schemagate(p.path())
        .args(["generate", "add_user_email"])
        .assert()
        .success()
        .stderr(contains("migrations/003_add_user_email.sql"));
    let text = fs::read_to_string(p.path().join("migrations/003_add_user_email.sql")).unwrap();
    assert!(text.starts_with("-- Add user email\n"));
    assert!(text.contains("IF NOT EXISTS"));
    schemagate(p.path())
        .args(["generate", "backfill", "--type", "python"])
        .assert()
        .success();
    let py = fs::read_to_string(p.path().join("migrations/004_backfill.py")).unwrap();
    assert!(py.contains("def upgrade(conn):"));
}

#[test]
fn generate_honours_version_step_from_the_config() {
    let p = project(&[("005_a.sql", "SELECT 1;"), ("010_b.sql", "SELECT 1;")]);
    fs::write(
        p.path().join("schemagate.toml"),
        "[migrations]\nversion_step = 5\n",
    )
    .unwrap();
    schemagate(p.path())
        .args(["generate", "c", "--format", "json"])
        .assert()
        .success()
        .stdout(contains("\"version\":\"015\""));
    assert!(p.path().join("migrations/015_c.sql").is_file());
}

#[test]
fn generate_refuses_names_that_leave_the_folder() {
    let p = project(&[("001_init.sql", "SELECT 1;")]);
    for bad in ["../../evil", "a/b", "Has Space"] {
        schemagate(p.path())
            .args(["generate", bad])
            .assert()
            .code(2)
            .stderr(contains("not a valid migration name"));
    }
    let names: Vec<_> = fs::read_dir(p.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "nothing was written");
    assert!(!p.path().join("evil.sql").exists());
}

#[test]
fn generate_without_a_migrations_folder_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    schemagate(tmp.path())
        .args(["generate", "x"])
        .assert()
        .code(2)
        .stderr(contains("does not exist"));
}

#[test]
fn init_finds_the_folder_and_the_legacy_databases() {
    let p = project(&[("001_init.sql", "SELECT 1;")]);
    legacy_db(&p.path().join("data/architect.db"));
    legacy_db(&p.path().join("data/prod/architect.db"));
    legacy_db(
        &p.path()
            .join("data/prod/backups/architect_20240101_000000.db"),
    );
    // A SQLite file that is not one of ours is not an environment.
    rusqlite::Connection::open(p.path().join("data/cache.db"))
        .unwrap()
        .execute_batch("CREATE TABLE c(x);")
        .unwrap();
    schemagate(p.path()).arg("init").assert().success();
    let text = fs::read_to_string(p.path().join("schemagate.toml")).unwrap();
    let config = schemagate::config::Config::parse(&text, "t").unwrap();
    assert_eq!(config.migrations.dir, Path::new("migrations"));
    let envs: Vec<_> = config
        .environments
        .iter()
        .map(|(k, v)| (k.as_str(), v.database.to_str().unwrap()))
        .collect();
    assert_eq!(
        envs,
        [
            ("dev", "data/architect.db"),
            ("prod", "data/prod/architect.db")
        ]
    );
    // A second init does not overwrite the file the team may have edited.
    schemagate(p.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(contains("--force"));
    schemagate(p.path())
        .args(["init", "--force"])
        .assert()
        .success();
}

#[test]
fn init_without_migrations_says_what_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    schemagate(tmp.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(contains("--dir"));
    assert!(!tmp.path().join("schemagate.toml").exists());
}

#[test]
fn generate_with_base_stays_above_the_base_branch() {
    let p = project(&[("001_init.sql", "SELECT 1;")]);
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "init"]);
    // main moves on while the feature branch still only has 001.
    fs::write(p.path().join("migrations/002_on_main.sql"), "SELECT 2;").unwrap();
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "002 on main"]);
    git(p.path(), &["checkout", "-q", "-b", "feature", "HEAD~1"]);
    schemagate(p.path())
        .args(["generate", "feature_change", "--base", "main"])
        .assert()
        .success();
    assert!(
        p.path().join("migrations/003_feature_change.sql").is_file(),
        "002 is taken on main"
    );
    schemagate(p.path())
        .args(["generate", "x", "--base", "no-such-branch"])
        .assert()
        .code(2);
}

#[test]
fn sarif_is_refused_where_there_are_no_findings_to_describe() {
    let p = project(&[("001_init.sql", "SELECT 1;")]);
    schemagate(p.path())
        .args(["status", "--db", "x.db", "--format", "sarif"])
        .assert()
        .code(2)
        .stderr(contains("[possible values: text, json]"));
    assert!(!p.path().join("x.db").exists());
}
