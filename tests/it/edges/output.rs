//! 12.10: `-o FILE` (and `--sarif-file`) onto a file the command reads is exit 2, and the
//! file is untouched (`-o app.db` replaced the database with JSON).

use std::fs;

use super::checked;
use crate::common::{Project, legacy_db};

#[test]
fn output_onto_an_input_is_refused_and_nothing_changes() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    p.config("[environments.dev]\ndatabase = \"data/app.db\"\n");
    legacy_db(&p.db());
    fs::create_dir_all(p.backups()).unwrap();
    fs::copy(p.db(), p.backups().join("app_20240101_000000.db")).unwrap();
    std::os::unix::fs::symlink("data/app.db", p.path().join("link.db")).unwrap();
    fs::hard_link(p.db(), p.path().join("hard.db")).unwrap();
    let before = super::read_only::snapshot(p.path());
    for (cmd, out, what) in [
        ("status", "data/app.db", "the database data/app.db"),
        ("lint", "./data/../data/app.db", "the database"),
        ("status", "link.db", "the database"),
        ("pending", "hard.db", "the database"),
        ("migrate", "data/app.db-wal", "(-wal)"),
        (
            "status",
            "data/backups/app_20240101_000000.db",
            "in the backup folder",
        ),
        ("status", "data/backups/new.json", "in the backup folder"),
        ("lint", "schemagate.toml", "the config file"),
        ("check", "migrations/001_a.sql", "a migration in migrations"),
        (
            "lint",
            "migrations/002_new.sql",
            "a migration in migrations",
        ),
    ] {
        let a = p
            .cmd()
            .args([cmd, "--env", "dev", "--format", "json", "-o", out])
            .assert()
            .code(2);
        let text = checked(&a);
        assert!(
            text.contains("refusing to write --output") && text.contains(what),
            "{cmd} -o {out}: {text}"
        );
        assert_eq!(
            super::read_only::snapshot(p.path()),
            before,
            "{cmd} -o {out}"
        );
    }
    let text = checked(
        &p.cmd()
            .args([
                "check",
                "--env",
                "dev",
                "--sarif-file",
                "data/app.db",
                "--no-github",
            ])
            .assert()
            .code(2),
    );
    assert!(text.contains("refusing to write --sarif-file"), "{text}");
    let text = checked(
        &p.cmd()
            .args([
                "restore",
                "--env",
                "dev",
                "--backup",
                "data/backups/app_20240101_000000.db",
            ])
            .args([
                "--format",
                "json",
                "-o",
                "data/backups/app_20240101_000000.db",
            ])
            .assert()
            .code(2),
    );
    assert!(text.contains("refusing to write --output"), "{text}");
    assert_eq!(super::read_only::snapshot(p.path()), before);
    // Anywhere else is fine.
    checked(
        &p.cmd()
            .args([
                "status",
                "--env",
                "dev",
                "--format",
                "json",
                "-o",
                "report.json",
            ])
            .assert()
            .code(0),
    );
    assert!(p.path().join("report.json").exists());
}
