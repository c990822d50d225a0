//! The pre-commit hooks of `.pre-commit-hooks.yaml`, run by the real pre-commit (from PyPI)
//! with `pre-commit try-repo`, on a project that uses them: they pass on a clean migrations
//! folder and fail on a duplicate version.
//!
//! `schemagate-lint` makes pre-commit pip-install this repository, which maturin builds.
//! To keep that affordable the build uses the dev profile (`MATURIN_PEP517_ARGS`) and the
//! target folder of the wheel test (tests/it/wheel.rs), so only this crate is compiled
//! again (pre-commit builds from its own clone). Nothing is fetched but maturin itself
//! (from PyPI, for pip's isolated build) and crates from crates.io.

use std::path::Path;
use std::process::Command as StdCommand;

use crate::common::{bin, clean_env, code_out_err, git};

/// A git repository with a clean migrations folder, as a project that uses the hook.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("migrations")).unwrap();
    std::fs::write(
        root.join("migrations/001_init.sql"),
        "-- users\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n",
    )
    .unwrap();
    std::fs::write(
        root.join("migrations/002_posts.sql"),
        "-- posts\nCREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, title TEXT);\n",
    )
    .unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "init"]);
    dir
}

/// `pre-commit try-repo <this repository> HOOK --all-files` in `project`, with its own
/// pre-commit cache in `home`; returns (exit code, output).
fn try_repo(project: &Path, home: &Path, hook: &str, path: Option<&str>) -> (i32, String) {
    let mut cmd = StdCommand::new("pre-commit");
    clean_env(&mut cmd)
        .current_dir(project)
        .args(["try-repo", env!("CARGO_MANIFEST_DIR"), hook, "--all-files"])
        .env("PRE_COMMIT_HOME", home)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("MATURIN_PEP517_ARGS", "--profile dev")
        .env("CARGO_TARGET_DIR", crate::wheel::maturin_target_dir())
        // git identity for try-repo's shadow commit of uncommitted changes.
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com");
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    // The python hook's first run builds with maturin in the wheel test's target folder.
    let _only_build = crate::wheel::maturin_lock();
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("pre-commit is needed for this test (.ci/run installs it with pip): {e}")
    });
    let (code, stdout, stderr) = code_out_err(&out);
    (code, format!("{stdout}{stderr}"))
}

/// Passes on the clean folder, then fails on a duplicate version and names it.
fn passes_then_fails_on_a_duplicate(hook: &str, path: Option<&str>) {
    let p = project();
    let home = tempfile::tempdir().unwrap();
    let (code, out) = try_repo(p.path(), home.path(), hook, path);
    assert_eq!(code, 0, "{hook} on a clean folder:\n{out}");
    assert!(out.contains("schemagate lint"), "{out}");
    assert!(out.contains("Passed"), "{out}");

    std::fs::write(
        p.path().join("migrations/002_tags.sql"),
        "-- tags\nCREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    git(p.path(), &["add", "-A"]);
    let (code, out) = try_repo(p.path(), home.path(), hook, path);
    assert_eq!(code, 1, "{hook} on a duplicate version:\n{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("duplicate-version"), "{out}");
}

#[test]
fn the_python_hook_builds_this_repository_and_catches_a_duplicate_version() {
    passes_then_fails_on_a_duplicate("schemagate-lint", None);
}

#[test]
fn the_system_hook_uses_the_installed_binary() {
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    passes_then_fails_on_a_duplicate("schemagate-lint-system", Some(&path));
}
