//! What is missing: a database that does not exist yet, and no python3.
//!
//! The README promises that every read-only command reports a missing database as new
//! and creates nothing; `dry-run`, `verify` and `check --db` once refused it (exit 2).
//! A missing python3 once gave `lint` exit 0 with a warning, `check` exit 1 as
//! "migration-failed" and `migrate` exit 2: now every command that needs it exits 2 with
//! the same message.

use crate::common::{Project, copy_examples, run_cmd, run_json};

/// Every command that reads a database without changing it, with `--db nowhere/new.db`.
const READING: &[&[&str]] = &[
    &["lint"],
    &["status"],
    &["pending"],
    &["dry-run"],
    &["verify"],
    &["check"],
    &["backups"],
];

#[test]
fn a_missing_database_is_new_for_every_reading_command_and_nothing_is_created() {
    let p = Project::with_examples();
    for args in READING {
        let (code, out, err) = run_cmd(p.cmd().args(*args).args(["--db", "nowhere/new.db"]));
        assert_eq!(code, 0, "{args:?}:\n{out}\n{err}");
        assert!(
            !p.path().join("nowhere").exists(),
            "{args:?} created the database's folder"
        );
    }
    // The reports say so: not there yet, everything pending.
    for args in [
        &["dry-run"][..],
        &["verify"],
        &["check"],
        &["lint"],
        &["status"],
    ] {
        let (code, report, err) =
            run_json(
                p.cmd()
                    .args(args)
                    .args(["--db", "nowhere/new.db", "--format", "json"]),
            );
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(report["database"]["exists"], false, "{args:?}: {report}");
        let pending = report["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["state"] == "pending")
            .count();
        assert_eq!(pending, 5, "{args:?}: {report}");
    }
    // The dry run ran every migration, on an empty database.
    let (_, report, err) =
        run_json(
            p.cmd()
                .args(["dry-run", "--db", "nowhere/new.db", "--format", "json"]),
        );
    assert_eq!(report["dry_run"]["steps"].as_array().unwrap().len(), 5);
    assert!(err.contains("does not exist yet"), "{err}");
    assert!(!p.path().join("nowhere").exists());
}

/// A project whose folder holds a Python migration, with a database that has 001 and
/// 002 applied and 003 pending.
fn python_project() -> Project {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a (x);\n");
    p.file(
        "002_b.py",
        "def upgrade(conn):\n    conn.execute('CREATE TABLE b (x)')\n\n\ndef downgrade(conn):\n    conn.execute('DROP TABLE b')\n",
    );
    p.run(&["migrate", "-q"]).success();
    p.file(
        "003_c.py",
        "def upgrade(conn):\n    conn.execute('CREATE TABLE c (x)')\n",
    );
    p
}

#[test]
fn a_missing_python3_is_exit_2_with_one_message_for_every_command_that_needs_it() {
    let p = python_project();
    let before = std::fs::read(p.db()).unwrap();
    let message = "nopython3: not found; the Python migrations need Python 3: install python3 or pass --python PATH (or set SCHEMAGATE_PYTHON)";
    for args in [
        &["lint"][..],
        &["check"],
        &["dry-run"],
        &["verify"],
        &["migrate"],
        &["rollback"],
    ] {
        let (code, out, err) = run_cmd(
            p.cmd()
                .args(args)
                .args(["--db", "data/app.db"])
                .env("SCHEMAGATE_PYTHON", "nopython3"),
        );
        assert_eq!(code, 2, "{args:?}:\n{out}\n{err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!out.contains("migration-failed"), "{args:?}: {out}");
    }
    assert_eq!(
        std::fs::read(p.db()).unwrap(),
        before,
        "the database changed"
    );
    assert!(p.backup_files().is_empty(), "{:?}", p.backup_files());

    // --python names the interpreter the same way.
    let (code, _, err) = run_cmd(p.cmd().args(["lint", "--python", "nopython3"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(message), "{err}");
}

#[test]
fn a_folder_without_python_migrations_needs_no_python3() {
    let p = Project::new();
    copy_examples(&p.migrations());
    for name in ["002_add_testing.py", "004_add_user_email.py"] {
        p.remove(name);
    }
    for args in [
        &["lint"][..],
        &["check"],
        &["dry-run"],
        &["migrate"],
        &["verify"],
    ] {
        let (code, out, err) = run_cmd(
            p.cmd()
                .args(args)
                .args(["--db", "data/app.db"])
                .env("SCHEMAGATE_PYTHON", "nopython3"),
        );
        assert_eq!(code, 0, "{args:?}:\n{out}\n{err}");
    }
}
