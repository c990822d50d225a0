//! The base-branch comparison against real git repositories: `check --base REF`.

use std::path::{Path, PathBuf};

use crate::common::{code_out_err, git, schemagate};

struct Repo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    /// A repository whose `main` has three migrations, with `feature` checked out.
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join("migrations")).unwrap();
        git(&root, &["init", "-q", "-b", "main"]);
        let r = Repo { _tmp: tmp, root };
        r.write(
            "001_init.sql",
            "-- init\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n",
        );
        r.write("002_create_posts.sql", "-- posts\nCREATE TABLE IF NOT EXISTS posts (\n    id INTEGER PRIMARY KEY,\n    user_id INTEGER REFERENCES users(id),\n    title TEXT NOT NULL\n);\n");
        r.write("003_create_tags.sql", "-- tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n");
        r.commit("base");
        git(&r.root, &["checkout", "-q", "-b", "feature"]);
        r
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.root.join("migrations").join(name), text).unwrap();
    }

    fn commit(&self, msg: &str) {
        git(&self.root, &["add", "-A"]);
        git(&self.root, &["commit", "-q", "-m", msg]);
    }

    fn check(&self, base: &str) -> (i32, String, String) {
        run_check(&self.root, base)
    }
}

fn run_check(dir: &Path, base: &str) -> (i32, String, String) {
    code_out_err(
        &schemagate(dir)
            .args(["check", "--base", base, "--format", "json"])
            .output()
            .unwrap(),
    )
}

/// `(rule, path)` of the error findings.
fn errors(json: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_clean_addition_exits_0() {
    let r = Repo::new();
    r.write(
        "004_create_comments.sql",
        "-- comments\nCREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, body TEXT);\n",
    );
    r.commit("add comments");
    let (code, out, err) = r.check("main");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(errors(&out).is_empty(), "{out}");
}

#[test]
fn editing_a_merged_migration_is_modified_migration_with_a_diff() {
    let r = Repo::new();
    r.write("002_create_posts.sql", "-- posts\nCREATE TABLE IF NOT EXISTS posts (\n    id INTEGER PRIMARY KEY,\n    user_id INTEGER REFERENCES users(id),\n    title TEXT NOT NULL,\n    body TEXT\n);\n");
    // Uncommitted edits count: the working tree is what gets merged.
    let (code, out, err) = r.check("main");
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(
        errors(&out),
        vec![(
            "modified-migration".to_string(),
            "migrations/002_create_posts.sql".to_string()
        )]
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["line"], 5);
    let diff = f["diff"].as_str().unwrap();
    assert!(diff.contains("-    title TEXT NOT NULL\n"), "{diff}");
    assert!(diff.contains("+    body TEXT\n"), "{diff}");

    // The text report shows the diff too.
    let text = schemagate(&r.root)
        .args(["check", "--base", "main"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("migrations/002_create_posts.sql:5:1: error[modified-migration]"),
        "{text}"
    );
    assert!(text.contains("+    body TEXT"), "{text}");
}

#[test]
fn renaming_a_merged_migration_is_renamed_migration_old_to_new() {
    let r = Repo::new();
    git(
        &r.root,
        &[
            "mv",
            "migrations/003_create_tags.sql",
            "migrations/004_create_tags.sql",
        ],
    );
    r.commit("renumber");
    let (code, out, err) = r.check("main");
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(
        errors(&out),
        vec![(
            "renamed-migration".to_string(),
            "migrations/004_create_tags.sql".to_string()
        )]
    );
    assert!(
        out.contains("003_create_tags.sql → 004_create_tags.sql"),
        "{out}"
    );
}

#[test]
fn deleting_a_merged_migration_is_deleted_migration() {
    let r = Repo::new();
    std::fs::remove_file(r.root.join("migrations/003_create_tags.sql")).unwrap();
    r.commit("delete");
    let (code, out, err) = r.check("main");
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(
        errors(&out),
        vec![(
            "deleted-migration".to_string(),
            "migrations/003_create_tags.sql".to_string()
        )]
    );
}

#[test]
fn a_new_migration_below_the_base_s_newest_is_out_of_order() {
    let r = Repo::new();
    // main moves on to 005 while the feature branch adds 004.
    git(&r.root, &["checkout", "-q", "main"]);
    r.write(
        "005_create_likes.sql",
        "-- likes\nCREATE TABLE IF NOT EXISTS likes (id INTEGER PRIMARY KEY);\n",
    );
    r.commit("likes");
    git(&r.root, &["checkout", "-q", "feature"]);
    r.write(
        "004_create_comments.sql",
        "-- comments\nCREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, body TEXT);\n",
    );
    r.commit("comments");
    let (code, out, err) = r.check("main");
    assert_eq!(code, 1, "{out}\n{err}");
    // 005 landed on main after the fork: not "deleted" by this branch.
    assert_eq!(
        errors(&out),
        vec![(
            "out-of-order".to_string(),
            "migrations/004_create_comments.sql".to_string()
        )]
    );
}

#[test]
fn a_new_migration_with_an_existing_number_is_duplicate_version() {
    let r = Repo::new();
    r.write("003_create_comments.sql", "-- comments\nCREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, body TEXT, created_at TEXT);\n");
    r.commit("comments");
    let (code, out, err) = r.check("main");
    assert_eq!(code, 1, "{out}\n{err}");
    let errs = errors(&out);
    assert!(
        errs.contains(&(
            "duplicate-version".to_string(),
            "migrations/003_create_comments.sql".to_string()
        )),
        "{out}"
    );
    assert!(
        errs.iter().all(|(rule, _)| rule == "duplicate-version"),
        "{out}"
    );
}

#[test]
fn a_version_taken_on_the_base_after_the_fork_is_a_duplicate_in_the_merged_view() {
    let r = Repo::new();
    git(&r.root, &["checkout", "-q", "main"]);
    r.write(
        "004_create_likes.sql",
        "-- likes\nCREATE TABLE IF NOT EXISTS likes (id INTEGER PRIMARY KEY);\n",
    );
    r.commit("likes");
    git(&r.root, &["checkout", "-q", "feature"]);
    r.write("004_create_comments.sql", "-- comments\nCREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, body TEXT, created_at TEXT);\n");
    r.commit("comments");
    let (code, out, err) = r.check("main");
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(
        errors(&out),
        vec![(
            "duplicate-version".to_string(),
            "migrations/004_create_comments.sql".to_string()
        )]
    );
    assert!(out.contains("004_create_likes.sql"), "{out}");
}

#[test]
fn an_unknown_ref_exits_2() {
    let r = Repo::new();
    let (code, _, err) = r.check("no-such-branch");
    assert_eq!(code, 2);
    assert!(err.contains("no-such-branch"), "{err}");
    assert!(err.contains("git fetch"), "{err}");
}

#[test]
fn a_shallow_clone_without_the_base_exits_2_with_a_fetch_command_that_works() {
    let r = Repo::new();
    r.write(
        "004_create_comments.sql",
        "-- comments\nCREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, body TEXT);\n",
    );
    r.commit("comments");
    let parent = r.root.parent().unwrap();
    let url = format!("file://{}", r.root.display());
    git(
        parent,
        &[
            "clone",
            "-q",
            "--depth=1",
            "--branch",
            "feature",
            &url,
            "shallow",
        ],
    );
    let clone = parent.join("shallow");

    let (code, out, err) = run_check(&clone, "main");
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("shallow clone"), "{err}");
    let hint = "git fetch --no-tags --depth=1 origin main:refs/remotes/origin/main";
    assert!(err.contains(hint), "{err}");

    // The printed command really fixes it.
    let args: Vec<&str> = hint.split(' ').skip(1).collect();
    git(&clone, &args);
    let (code, out, err) = run_check(&clone, "main");
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn inside_github_actions_the_base_defaults_to_the_pull_request_s_base() {
    let r = Repo::new();
    std::fs::remove_file(r.root.join("migrations/003_create_tags.sql")).unwrap();
    let out = schemagate(&r.root)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_BASE_REF", "main")
        .args(["check", "--no-github", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        errors(&stdout),
        vec![(
            "deleted-migration".to_string(),
            "migrations/003_create_tags.sql".to_string()
        )]
    );
}
