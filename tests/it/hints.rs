//! Every suggested command works when pasted.
//!
//! Each scenario produces findings or an error the way a user meets them, takes every
//! `` `schemagate ...` `` in the help lines (or the error), runs it through a shell in the
//! same folder exactly as printed, and checks that it did what the help said. Once:
//! `unverified-record` suggested `mark-applied`, which answered "already recorded";
//! `renamed-applied` suggested `rekey 005 008` without the `--db` it needs; `lint --base`
//! suggested `renumber --base main --write`, which printed "nothing to renumber"; `verify`
//! printed `forget VERSION` literally.

use std::path::Path;
use std::process::Command as StdCommand;

use crate::common::{
    Project, bin, clean_env, code_out_err, findings, git, legacy_db, run_cmd, run_json,
};

/// The backquoted schemagate commands in `text`.
fn commands_in(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("schemagate "))
        .map(str::to_string)
        .collect()
}

/// The commands in the help lines of a report's (or a migrate result's) findings with
/// `rule`, with nothing else on offer.
fn suggested(report: &serde_json::Value, rule: &str) -> Vec<String> {
    let commands: Vec<String> = findings(report, rule)
        .into_iter()
        .filter_map(|f| f["help"].as_str())
        .flat_map(commands_in)
        .collect();
    assert!(
        !commands.is_empty(),
        "no command suggested for {rule}: {report}"
    );
    commands
}

/// Runs `command` as pasted into a shell in `dir` (the built binary first on PATH).
fn paste(dir: &Path, command: &str) -> (i32, String, String) {
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = StdCommand::new("bash");
    clean_env(&mut sh)
        .current_dir(dir)
        .env("PATH", path)
        .args(["-c", command]);
    code_out_err(&sh.output().unwrap())
}

fn paste_ok(dir: &Path, command: &str) -> String {
    let (code, out, err) = paste(dir, command);
    assert_eq!(code, 0, "`{command}` failed when pasted:\n{out}\n{err}");
    out
}

/// A report of `args --format json` in the project.
fn report(p: &Project, args: &[&str]) -> serde_json::Value {
    run_json(p.cmd().args(args).args(["--format", "json"])).1
}

fn rules_of(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn unverified_record_suggests_mark_applied_which_records_the_real_checksum() {
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n");
    let conn = legacy_db(&p.db());
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS t (x);
         INSERT INTO schema_versions (version, description, checksum) VALUES ('001', 'init', 'manual');",
    )
    .unwrap();
    drop(conn);
    let before = report(&p, &["lint", "--db", "data/app.db"]);
    let commands = suggested(&before, "unverified-record");
    assert_eq!(
        commands,
        ["schemagate mark-applied 001 --reason ... --db data/app.db"]
    );
    paste_ok(p.path(), &commands[0]);
    let after = report(&p, &["lint", "--db", "data/app.db"]);
    assert!(
        !rules_of(&after).contains(&"unverified-record".to_string()),
        "{after}"
    );
    let rows = p.rows();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1.as_deref().map(str::len), Some(64), "{rows:?}");
}

#[test]
fn renamed_applied_suggests_rekey_with_the_database_it_was_found_in() {
    let p = Project::new();
    p.config("[environments.prod]\ndatabase = \"data/app.db\"\n");
    p.file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n");
    p.file("002_tags.sql", "CREATE TABLE IF NOT EXISTS tags (x);\n");
    p.cmd()
        .args(["migrate", "--env", "prod", "-q"])
        .assert()
        .success();
    std::fs::rename(
        p.migrations().join("002_tags.sql"),
        p.migrations().join("005_tags.sql"),
    )
    .unwrap();
    // migrate refuses and says how to fix it, for the environment it was given.
    let (code, refused, _) = run_json(
        p.cmd()
            .args(["migrate", "--env", "prod", "--format", "json"]),
    );
    assert_eq!(code, 1, "{refused}");
    let commands = suggested(&refused, "renamed-applied");
    assert_eq!(commands, ["schemagate rekey 002 005 --env prod"]);
    // lint --db says the same with the database path.
    let linted = report(&p, &["lint", "--db", "data/app.db"]);
    assert_eq!(
        suggested(&linted, "renamed-applied"),
        ["schemagate rekey 002 005 --db data/app.db"]
    );
    paste_ok(p.path(), &commands[0]);
    let (code, out, err) = run_cmd(p.cmd().args(["migrate", "--env", "prod"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("current, nothing to apply"), "{out}");
    assert_eq!(p.versions(), ["001", "005"]);
}

#[test]
fn an_error_suggests_a_command_that_works() {
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n");
    p.file("002_tags.sql", "CREATE TABLE IF NOT EXISTS tags (x);\n");
    p.run(&["migrate", "-q"]).success();
    // Rekeying onto a version that is recorded: the error says how to remove that row.
    let (code, _, err) = run_cmd(p.cmd().args(["rekey", "001", "002", "--db", "data/app.db"]));
    assert_eq!(code, 2, "{err}");
    let commands = commands_in(&err);
    assert_eq!(
        commands,
        ["schemagate forget 002 --reason ... --db data/app.db"],
        "{err}"
    );
    paste_ok(p.path(), &commands[0]);
    assert_eq!(p.versions(), ["001"]);
}

#[test]
fn verify_names_the_version_to_forget_and_both_commands_work() {
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n");
    p.run(&["migrate", "-q"]).success();
    // Recorded by hand, never run.
    p.file("002_tags.sql", "CREATE TABLE IF NOT EXISTS tags (x);\n");
    p.run(&["mark-applied", "002", "--reason", "by mistake"])
        .success();
    let drift = report(&p, &["verify", "--db", "data/app.db"]);
    let commands = suggested(&drift, "schema-drift");
    assert_eq!(
        commands,
        [
            "schemagate forget 002 --reason ... --db data/app.db",
            "schemagate migrate --db data/app.db"
        ]
    );
    for c in &commands {
        paste_ok(p.path(), c);
    }
    let clean = report(&p, &["verify", "--db", "data/app.db"]);
    assert_eq!(rules_of(&clean), Vec::<String>::new(), "{clean}");
    assert!(p.tables().contains(&"tags".to_string()));
}

#[test]
fn a_failed_migration_says_to_run_migrate_again_for_the_same_database() {
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n");
    p.file("002_bad.sql", "ALTER TABLE nowhere ADD COLUMN y TEXT;\n");
    let (code, out, _) = run_cmd(p.cmd().args(["migrate", "--db", "data/app.db"]));
    assert_eq!(code, 1, "{out}");
    let commands = commands_in(&out);
    assert_eq!(commands, ["schemagate migrate --db data/app.db"], "{out}");
    p.file("002_bad.sql", "ALTER TABLE t ADD COLUMN y TEXT;\n");
    paste_ok(p.path(), &commands[0]);
    assert_eq!(p.versions(), ["001", "002"]);
}

/// A git repository: `main` has `main_files`, then `feature` (checked out) is cut from it.
fn repo(main_files: &[&str]) -> Project {
    let p = Project::new();
    git(p.path(), &["init", "-q", "-b", "main"]);
    for f in main_files {
        p.file(
            f,
            format!("CREATE TABLE IF NOT EXISTS t_{} (x);\n", &f[..3]),
        );
    }
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-qm", "main"]);
    git(p.path(), &["checkout", "-q", "-b", "feature"]);
    p
}

fn names(p: &Project) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    n.sort();
    n
}

#[test]
fn out_of_order_suggests_a_renumber_that_moves_the_file_above_the_base() {
    let p = repo(&["001_a.sql", "003_c.sql"]);
    p.file("002_mine.sql", "CREATE TABLE IF NOT EXISTS mine (x);\n");
    let before = report(&p, &["lint", "--base", "main"]);
    let commands = suggested(&before, "out-of-order");
    assert_eq!(commands, ["schemagate renumber --base main --write"]);
    let out = paste_ok(p.path(), &commands[0]);
    assert!(
        out.contains("renamed 002_mine.sql -> 004_mine.sql"),
        "{out}"
    );
    assert_eq!(names(&p), ["001_a.sql", "003_c.sql", "004_mine.sql"]);
    let after = report(&p, &["lint", "--base", "main"]);
    assert_eq!(rules_of(&after), Vec::<String>::new(), "{after}");
}

#[test]
fn a_duplicate_only_the_base_has_is_renumbered_by_the_plan_s_own_command() {
    let p = repo(&["001_a.sql"]);
    p.file("002_mine.sql", "CREATE TABLE IF NOT EXISTS mine (x);\n");
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-qm", "mine"]);
    git(p.path(), &["checkout", "-q", "main"]);
    p.file("002_theirs.sql", "CREATE TABLE IF NOT EXISTS theirs (x);\n");
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-qm", "theirs"]);
    git(p.path(), &["checkout", "-q", "feature"]);

    let before = report(&p, &["lint", "--base", "main"]);
    assert_eq!(
        suggested(&before, "duplicate-version"),
        ["schemagate renumber --base main --write"]
    );
    // The plan (without --write) ends with the command that carries it out.
    let (code, plan, err) = run_cmd(p.cmd().args(["renumber", "--base", "main"]));
    assert_eq!(code, 1, "{plan}\n{err}");
    let commands = commands_in(&plan);
    assert_eq!(
        commands,
        ["schemagate renumber --base main --write"],
        "{plan}"
    );
    paste_ok(p.path(), &commands[0]);
    assert_eq!(names(&p), ["001_a.sql", "003_mine.sql"]);
    let after = report(&p, &["lint", "--base", "main"]);
    assert_eq!(rules_of(&after), Vec::<String>::new(), "{after}");
}

#[test]
fn every_command_in_a_help_line_runs_without_a_usage_error() {
    // One folder with many findings at once: duplicates, drift, an unverified row, a
    // missing file, a syntax error.
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n");
    p.file("002_b.sql", "CREATE TABLE IF NOT EXISTS b (x);\n");
    p.run(&["migrate", "-q"]).success();
    p.file("002_b.sql", "CREATE TABLE IF NOT EXISTS b (x, y);\n");
    p.file("003_c.sql", "CREATE TABLE IF NOT EXISTS c (x);\n");
    p.file("003_d.sql", "CREATE TABLE IF NOT EXISTS d (x);\n");
    p.file("004_e.sql", "CREATE TABLE oops (;\n");
    p.open()
        .execute_batch(
            "INSERT INTO schema_versions (version, description, checksum) VALUES ('009', 'gone', 'manual');",
        )
        .unwrap();
    let all = report(&p, &["lint", "--db", "data/app.db"]);
    let commands: Vec<String> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["help"].as_str())
        .flat_map(commands_in)
        .collect();
    // Read-only suggestions only here (the fixes are the scenarios above): anything but
    // a usage error (exit 2) is the command working.
    let read_only: Vec<&String> = commands
        .iter()
        .filter(|c| !c.contains("--write") && (c.contains(" renumber") || c.contains(" dry-run")))
        .collect();
    assert_eq!(
        read_only,
        [
            "schemagate renumber --db data/app.db",
            "schemagate dry-run --db data/app.db"
        ],
        "{commands:?}"
    );
    for c in read_only {
        let (code, out, err) = paste(p.path(), c);
        assert_ne!(code, 2, "`{c}`:\n{out}\n{err}");
    }
}
