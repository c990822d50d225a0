//! `pip install schemagate`: the wheel maturin builds from this repository, installed into a
//! fresh virtualenv, used the way a Flask application would.
//!
//! Cost: maturin builds the binary with the dev profile into its own target folder
//! (`target/tmp/wheel-target`), because `cargo test` builds the dependencies with the
//! dev-dependencies' features (tokio, hyper) and its binary must not be replaced under
//! the tests that run it. The first run builds the dependency graph once (about as long
//! as the test build); later runs only relink. The release wheels are built by
//! release.yml with the same pyproject.toml.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::{Mutex, MutexGuard};

use crate::common::{Project, clean_env, code_out_err};

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str], dir: &Path) -> String {
    let program = program.as_ref().to_owned();
    let mut cmd = StdCommand::new(&program);
    clean_env(&mut cmd).args(args).current_dir(dir);
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{program:?} is needed for this test (.ci/run installs it): {e}")
    });
    let (code, stdout, stderr) = code_out_err(&out);
    assert_eq!(code, 0, "{program:?} {args:?}:\n{stdout}\n{stderr}");
    stdout
}

/// The target folder of every maturin build in the tests (this one and pre_commit.rs).
pub fn maturin_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheel-target")
}

/// Held during a maturin build in [`maturin_target_dir`]: cargo locks the folder, but
/// maturin then moves the binary out of it, and a second build moving the same file at
/// the same time fails.
pub fn maturin_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds the wheel into `dist` and returns its path.
fn build_wheel(dist: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let _only_build = maturin_lock();
    let mut cmd = StdCommand::new("maturin");
    clean_env(&mut cmd)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", maturin_target_dir())
        .args(["build", "--profile", "dev", "--locked", "--quiet", "--out"])
        .arg(dist);
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("maturin is needed for this test (.ci/run installs it with pip): {e}")
    });
    let (code, stdout, stderr) = code_out_err(&out);
    assert_eq!(code, 0, "maturin build:\n{stdout}\n{stderr}");
    let wheels: Vec<PathBuf> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    wheels.into_iter().next().unwrap()
}

#[test]
fn the_wheel_installs_the_binary_and_auto_migrate_returns_the_legacy_dict() {
    let tmp = tempfile::tempdir().unwrap();
    let wheel = build_wheel(&tmp.path().join("dist"));
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("schemagate-0.1.0-py3-none-"), "{name}");

    // A fresh virtualenv; the wheel needs nothing from an index.
    let venv = tmp.path().join("venv");
    run(
        "python3",
        &["-m", "venv", venv.to_str().unwrap()],
        tmp.path(),
    );
    let python = venv.join("bin/python");
    run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
            wheel.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let version = run(venv.join("bin/schemagate"), &["--version"], tmp.path());
    assert_eq!(
        version.trim(),
        format!("schemagate {}", env!("CARGO_PKG_VERSION"))
    );

    // The application's folder: the example migrations (SQL and Python).
    let p = Project::with_examples();
    let first = run(
        &python,
        &[
            "-c",
            "import schemagate; print(schemagate.auto_migrate('data/app.db'))",
        ],
        p.path(),
    );
    assert!(first.starts_with("{'status': 'migrated', 'applied': ['001', '002', '003', '004', '005'], 'count': 5, 'backup': None, 'error': None}"), "{first}");
    assert_eq!(p.versions(), ["001", "002", "003", "004", "005"]);

    // The dict in full, as JSON: a second run is current; a failing migration is an error
    // with its place, and a backup was made before it.
    let show = "import json, schemagate; print(json.dumps(schemagate.auto_migrate('data/app.db')))";
    let again: serde_json::Value =
        serde_json::from_str(&run(&python, &["-c", show], p.path())).unwrap();
    assert_eq!(
        again,
        serde_json::json!({"status": "current", "applied": [], "count": 0, "backup": null, "error": null})
    );
    p.file("006_broken.sql", "ALTER TABLE nowhere ADD COLUMN x TEXT;\n");
    let failed: serde_json::Value =
        serde_json::from_str(&run(&python, &["-c", show], p.path())).unwrap();
    assert_eq!(failed["status"], "error", "{failed}");
    assert_eq!(failed["count"], 0, "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.starts_with("migrations/006_broken.sql:1:"), "{error}");
    assert!(error.contains("no such table: nowhere"), "{error}");
    assert!(
        failed["backup"].as_str().unwrap().contains("backups/app_"),
        "{failed}"
    );

    // `python -m schemagate` is the binary.
    let lint = run(&python, &["-m", "schemagate", "rule"], p.path());
    assert!(lint.contains("duplicate-version"), "{lint}");
}
