//! Bad input, one table (issue 12): files, names, databases, configs, flags and the
//! environment. Every case asserts the documented exit code (0 clean, 1 findings, 2 usage,
//! configuration or environment; never 101), a one-line message naming the input, and, for
//! the read-only commands and every refusal, a project folder (database, backups,
//! migrations, config) byte-identical before and after.
//!
//! A case is data: a setup that writes the project the way a real one is written, the
//! arguments, extra environment, the exit code, the text of the line that must name the
//! input, and whether the folder must be untouched.

use std::fs;
use std::os::unix::fs::symlink;

use rusqlite::Connection;

use crate::common::{Project, legacy_db, output};
use crate::edges::read_only::snapshot;

struct Case {
    name: &'static str,
    setup: fn(&Project),
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    code: i32,
    /// Must appear on one line of stdout or stderr; it names the input.
    line: &'static str,
    /// The whole project folder is byte-identical afterwards.
    untouched: bool,
}

/// Shorthand for the common shape: a refusal (exit 2) that changes nothing.
const fn refused(
    name: &'static str,
    setup: fn(&Project),
    args: &'static [&'static str],
    line: &'static str,
) -> Case {
    Case {
        name,
        setup,
        args,
        env: &[],
        code: 2,
        line,
        untouched: true,
    }
}

const fn with_env(mut c: Case, env: &'static [(&'static str, &'static str)]) -> Case {
    c.env = env;
    c
}

const fn exits(mut c: Case, code: i32, untouched: bool) -> Case {
    c.code = code;
    c.untouched = untouched;
    c
}

// ---------------------------------------------------------------------------------------
// Setups.

const A_SQL: &str = "-- Create table a\nCREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY);\n";

/// One migration, applied to `data/app.db` by the legacy manager's table and row.
fn applied(p: &Project) {
    p.file("001_create_a.sql", A_SQL);
    let c = legacy_db(&p.db());
    c.execute_batch(A_SQL).unwrap();
    c.execute(
        "INSERT INTO schema_versions(version, description, checksum) VALUES ('001', 'Create table a', 'manual')",
        [],
    )
    .unwrap();
}

/// One migration, applied with the checksum schemagate records (so it is verified).
fn applied_verified(p: &Project) {
    p.file("001_create_a.sql", A_SQL);
    let c = legacy_db(&p.db());
    c.execute_batch(A_SQL).unwrap();
    c.execute(
        "INSERT INTO schema_versions(version, description, checksum) VALUES ('001', 'Create table a', ?1)",
        [schemagate::checksum::sha256_normalised(A_SQL)],
    )
    .unwrap();
}

/// One pending migration, no database yet.
fn pending(p: &Project) {
    p.file("001_create_a.sql", A_SQL);
}

fn with_config(p: &Project, text: &str) {
    applied(p);
    p.config(text);
}

fn db_text(p: &Project, bytes: &[u8]) {
    pending(p);
    fs::create_dir_all(p.path().join("data")).unwrap();
    fs::write(p.db(), bytes).unwrap();
}

fn with_backup(p: &Project) {
    applied(p);
    fs::create_dir_all(p.backups()).unwrap();
    fs::copy(p.db(), p.backups().join("app_20240101_000000.db")).unwrap();
}

fn dirty(p: &Project) {
    applied(p);
    p.file(
        "002_nt.sql",
        "-- schemagate:no-transaction\nCREATE TABLE b(x);\n",
    );
    p.open()
        .execute_batch(
            "CREATE TABLE schemagate_state (version TEXT PRIMARY KEY, file_name TEXT, state TEXT, started_at TEXT, pid INTEGER, message TEXT);
             INSERT INTO schemagate_state VALUES ('002', '002_nt.sql', 'failed', '2024-01-01 00:00:00', 1, 'no such table: nope');",
        )
        .unwrap();
}

fn event(p: &Project) {
    applied(p);
    fs::write(
        p.path().join("event.json"),
        r#"{"pull_request": {"number": 7}}"#,
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------
// The table.

const DB: &str = "data/app.db";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // ---- files in the migrations folder -------------------------------------------------
    refused("migrations folder missing (status)", |p| { fs::remove_dir(p.migrations()).unwrap(); },
        &["status", "--db", DB], "migrations folder migrations does not exist"),
    refused("migrations folder missing (migrate)", |p| { fs::remove_dir(p.migrations()).unwrap(); },
        &["migrate", "--db", DB], "migrations folder migrations does not exist"),
    refused("migrations is a file", |p| { fs::remove_dir(p.migrations()).unwrap(); fs::write(p.migrations(), "x").unwrap(); },
        &["lint"], "migrations is not a folder"),
    refused("--dir that does not exist", pending, &["lint", "--dir", "nope"], "migrations folder nope does not exist"),
    refused("--dir is a file", |p| { pending(p); fs::write(p.path().join("notes.txt"), "x").unwrap(); },
        &["lint", "--dir", "notes.txt"], "notes.txt is not a folder"),
    refused("latin-1 SQL file (migrate)", |p| { applied(p); p.file("002_cafe.sql", b"-- caf\xe9\nCREATE TABLE b(x);\n".as_slice()); },
        &["migrate", "--db", DB], "002_cafe.sql: not valid UTF-8"),
    refused("latin-1 SQL file (status)", |p| { applied(p); p.file("002_cafe.sql", b"-- caf\xe9\nCREATE TABLE b(x);\n".as_slice()); },
        &["status", "--db", DB], "002_cafe.sql: not valid UTF-8"),
    refused("latin-1 SQL file (dry-run)", |p| { applied(p); p.file("002_cafe.sql", b"-- caf\xe9\n".as_slice()); },
        &["dry-run", "--db", DB], "002_cafe.sql: not valid UTF-8"),
    exits(refused("Python syntax error", |p| { applied(p); p.file("002_broken.py", "def upgrade(conn)\n    pass\n"); },
        &["lint"], "002_broken.py"), 1, true),
    exits(refused("duplicate versions", |p| { applied(p); p.file("001_again.sql", "CREATE TABLE b(x);\n"); },
        &["lint"], "001_again.sql"), 1, true),
    exits(refused("transaction control in a migration", |p| { applied(p); p.file("002_tx.sql", "BEGIN;\nCREATE TABLE b(x);\nCOMMIT;\n"); },
        &["lint"], "002_tx.sql"), 1, true),
    exits(refused("empty migration is a warning", |p| { applied(p); p.file("002_empty.sql", ""); },
        &["lint"], "002_empty.sql"), 0, true),
    exits(refused("duplicate versions refused by migrate", |p| { applied(p); p.file("002_a.sql", "CREATE TABLE b(x);\n"); p.file("2_b.sql", "CREATE TABLE c(x);\n"); },
        &["migrate", "--db", DB], "migrations/2_b.sql"), 1, true),
    exits(refused("a failing migration in a dry run", |p| { applied(p); p.file("002_bad.sql", "CREATE INDEX i ON nope(x);\n"); },
        &["dry-run", "--db", DB], "002_bad.sql"), 1, true),

    // ---- names and versions ---------------------------------------------------------------
    refused("generate: upper case and dash", pending, &["generate", "Add-User"], "`Add-User` is not a valid migration name"),
    refused("generate: path traversal", pending, &["generate", "../evil"], "`../evil` is not a valid migration name"),
    refused("generate: empty name", pending, &["generate", ""], "the migration name is empty"),
    refused("generate: leading digit", pending, &["generate", "1_x"], "`1_x` is not a valid migration name"),
    refused("generate: 101 characters", pending,
        &["generate", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
        "is not a valid migration name"),
    refused("generate: version too long to count on (12.13)", |p| { pending(p); p.file("9999999999999999999999999999999999999999999_x.sql", "SELECT 1;\n"); },
        &["generate", "next"], "too large to count on"),
    refused("mark-applied: not a version", applied, &["mark-applied", "abc", "--reason", "r", "--db", DB], "`abc` is not a migration version"),
    refused("forget: a decimal version", applied, &["forget", "2.0", "--reason", "r", "--db", DB], "`2.0` is not a migration version"),
    refused("mark-applied: a negative version", applied, &["mark-applied", "--reason", "r", "--db", DB, "--", "-1"], "`-1` is not a migration version"),
    refused("mark-applied: no file with that version", applied, &["mark-applied", "009", "--reason", "r", "--db", DB], "has version 009"),
    refused("mark-applied: already recorded", applied_verified, &["mark-applied", "1", "--reason", "r", "--db", DB], "version 001 is already recorded"),
    refused("forget: not recorded", applied, &["forget", "5", "--reason", "r", "--db", DB], "version 5 is not recorded"),
    refused("rekey: the same version", applied, &["rekey", "1", "001", "--db", DB], "same version (1)"),
    refused("rollback --to: not a version", applied, &["rollback", "--to", "x1", "--db", DB], "`x1` is not a migration version"),
    refused("resolve: no marker for that version (12.16)", applied, &["resolve", "001", "--applied", "--reason", "r", "--db", DB], "version 001 has no unfinished-migration marker"),

    // ---- databases ----------------------------------------------------------------------
    refused("--db is a folder", |p| { pending(p); fs::create_dir_all(p.db()).unwrap(); }, &["status", "--db", DB], "data/app.db is a folder"),
    refused("--db is an empty file (migrate)", |p| db_text(p, b""), &["migrate", "--db", DB], "data/app.db is an empty file"),
    refused("--db is an empty file (status)", |p| db_text(p, b""), &["status", "--db", DB], "data/app.db is an empty file"),
    refused("--db is a CSV file", |p| db_text(p, b"name,email\nann,a@example.com\n"), &["migrate", "--db", DB], "data/app.db is not a SQLite database"),
    refused("--db is a CSV file (dry-run)", |p| db_text(p, b"name,email\n"), &["dry-run", "--db", DB], "data/app.db is not a SQLite database"),
    refused("--db is a FIFO (12.17)", |p| { pending(p); fs::create_dir_all(p.path().join("data")).unwrap(); let c = std::ffi::CString::new(p.db().to_str().unwrap()).unwrap(); assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0); },
        &["migrate", "--db", DB], "data/app.db is a FIFO"),
    refused("--db is a device", pending, &["status", "--db", "/dev/null"], "/dev/null is a device"),
    refused("--db has a SQLite header and garbage", |p| { let mut b = b"SQLite format 3\0".to_vec(); b.extend([0xffu8; 4000]); db_text(p, &b); },
        &["migrate", "--db", DB], "data/app.db"),
    // A missing database is a new one for every reading command (README): nothing created.
    exits(refused("dry-run of a missing database", pending, &["dry-run", "--db", DB], "data/app.db does not exist yet"), 0, true),
    exits(refused("verify of a missing database", pending, &["verify", "--db", DB], "data/app.db does not exist yet"), 0, true),
    refused("mark-applied on a missing database", pending, &["mark-applied", "001", "--reason", "r", "--db", DB], "database data/app.db does not exist"),
    refused("restore without backups", applied, &["restore", "--db", DB], "no backups of data/app.db"),
    refused("restore: --backup missing", applied, &["restore", "--backup", "data/nope.db", "--db", DB], "backup data/nope.db does not exist"),
    refused("restore: --backup is text", |p| { applied(p); fs::write(p.path().join("data/notes.db"), "hello").unwrap(); },
        &["restore", "--backup", "data/notes.db", "--db", DB], "refusing to restore data/notes.db"),
    refused("restore: --backup is the live database", applied, &["restore", "--backup", "./data/app.db", "--db", DB], "is the live database itself"),
    refused("restore: --backup has no history", |p| { applied(p); Connection::open(p.path().join("data/other.db")).unwrap().execute_batch("CREATE TABLE t(x)").unwrap(); },
        &["restore", "--backup", "data/other.db", "--db", DB], "data/other.db: it has no schema_versions table"),
    refused("pending with two databases", applied, &["pending", "--db", DB, "--db", "data/b.db"], "'--db <FILE>' cannot be used multiple times"),
    refused("a binary checksum in the history (12.17)", |p| { applied(p); p.open().execute("UPDATE schema_versions SET checksum = x'00ff' WHERE version = '001'", []).unwrap(); },
        &["status", "--db", DB], "schema_versions row id 1: the `checksum` column"),
    refused("a history table without a version column (12.17)", |p| { pending(p); fs::create_dir_all(p.path().join("data")).unwrap(); Connection::open(p.db()).unwrap().execute_batch("CREATE TABLE schema_versions(id INTEGER, name TEXT)").unwrap(); },
        &["pending", "--db", DB], "schema_versions table has no `version` column"),
    refused("a symlink at the lock file (12.3)", |p| { applied(p); fs::write(p.path().join("passwd"), "root:x:0:0\n").unwrap(); symlink("../passwd", p.path().join("data/app.db.migrate.lock")).unwrap(); },
        &["forget", "1", "--reason", "r", "--db", DB], "data/app.db.migrate.lock is a symbolic link"),
    refused("a folder at the lock file", |p| { applied(p); fs::create_dir(p.path().join("data/app.db.migrate.lock")).unwrap(); },
        &["forget", "1", "--reason", "r", "--db", DB], "cannot open the lock file data/app.db.migrate.lock"),
    refused("a foreign file at the lock file", |p| { applied(p); fs::write(p.path().join("data/app.db.migrate.lock"), "my notes\n").unwrap(); },
        &["forget", "1", "--reason", "r", "--db", DB], "data/app.db.migrate.lock is a file with other content"),
    refused("a dirty marker stops migrate (12.16)", dirty, &["migrate", "--db", DB], "schemagate resolve 002"),
    refused("forget of a version with only a marker (12.16)", dirty, &["forget", "002", "--reason", "r", "--db", DB], "resolve 002 --rolled-back"),

    // ---- config files -------------------------------------------------------------------
    refused("invalid TOML", |p| with_config(p, "[migrations\n"), &["lint"], "schemagate.toml"),
    refused("misspelt key", |p| with_config(p, "[environments.prod]\ndatabase = 'data/app.db'\nkeep_bakups = 3\n"),
        &["status", "--env", "prod"], "keep_bakups"),
    refused("version_step = 0", |p| with_config(p, "[migrations]\nversion_step = 0\n"), &["generate", "x"], "migrations.version_step must be at least 1"),
    refused("version_step is text", |p| with_config(p, "[migrations]\nversion_step = 'five'\n"), &["lint"], "schemagate.toml"),
    refused("busy_timeout too large (12.9)", |p| with_config(p, "[apply]\nbusy_timeout = 2147484\n"), &["migrate", "--db", DB], "apply.busy_timeout = 2147484 is too large"),
    refused("migration_timeout too large (12.9)", |p| with_config(p, "[apply]\nmigration_timeout = 18446744073709551615\n"), &["status", "--db", DB], "apply.migration_timeout = 18446744073709551615 is too large"),
    refused("lock_timeout negative", |p| with_config(p, "[apply]\nlock_timeout = -1\n"), &["status", "--db", DB], "schemagate.toml"),
    refused("empty database path", |p| with_config(p, "[environments.dev]\ndatabase = ''\n"), &["status", "--env", "dev"], "environments.dev.database is empty"),
    refused("unknown layout", |p| with_config(p, "[migrations]\nlayout = 'liquibase'\n"), &["lint"], "unknown layout `liquibase`"),
    refused("unknown severity", |p| with_config(p, "[rules]\ndestructive-change = 'fatal'\n"), &["lint"], "schemagate.toml"),
    refused("--env not in the config", |p| with_config(p, "[environments.dev]\ndatabase = 'data/app.db'\n"), &["status", "--env", "prod"], "environment `prod` is not defined in schemagate.toml (known: dev)"),
    refused("--env without a config file", applied, &["status", "--env", "prod"], "environment `prod` is not defined: no schemagate.toml found"),
    refused("--config that does not exist", applied, &["lint", "--config", "nope.toml"], "config file nope.toml not found"),
    refused("--config is a folder", applied, &["lint", "--config", "migrations"], "config file migrations not found"),
    refused("config that is not UTF-8", |p| { applied(p); fs::write(p.path().join("schemagate.toml"), b"[migrations]\ndir = 'm\xe9'\n").unwrap(); }, &["lint"], "schemagate.toml"),
    refused("[migrations] dir that does not exist", |p| with_config(p, "[migrations]\ndir = 'db/migrations'\n"), &["lint"], "migrations folder db/migrations does not exist"),

    // ---- flags --------------------------------------------------------------------------
    refused("--busy-timeout 3000000 (12.9)", pending, &["migrate", "--busy-timeout", "3000000", "--db", DB], "'3000000' for '--busy-timeout"),
    refused("--migration-timeout u64::MAX (12.9)", pending, &["migrate", "--migration-timeout", "18446744073709551615", "--db", DB], "--migration-timeout"),
    refused("--lock-timeout -1", applied, &["forget", "1", "--reason", "r", "--lock-timeout", "-1", "--db", DB], "'-1'"),
    refused("--lock-timeout abc", applied, &["migrate", "--lock-timeout", "abc", "--db", DB], "'abc' for '--lock-timeout"),
    refused("--format xml", applied, &["lint", "--format", "xml"], "'xml' for '--format"),
    refused("--format sarif for status", applied, &["status", "--format", "sarif", "--db", DB], "invalid value 'sarif' for '--format"),
    refused("--fail-on fatal", applied, &["lint", "--fail-on", "fatal"], "'fatal' for '--fail-on"),
    refused("--allow bogus", applied, &["migrate", "--allow", "bogus", "--db", DB], "'bogus' for '--allow"),
    refused("-o onto the database (12.10)", applied, &["status", "--format", "json", "-o", DB, "--db", DB], "refusing to write --output data/app.db"),
    refused("-o onto a backup (12.10)", with_backup, &["status", "--format", "json", "-o", "data/backups/app_20240101_000000.db", "--db", DB], "in the backup folder data/backups"),
    refused("-o onto a migration (12.10)", applied, &["lint", "--format", "json", "-o", "migrations/001_create_a.sql"], "refusing to write --output migrations/001_create_a.sql"),
    refused("-o onto the config (12.10)", |p| with_config(p, "[migrations]\ndir = 'migrations'\n"), &["lint", "--format", "json", "-o", "schemagate.toml"], "refusing to write --output schemagate.toml"),
    refused("--sarif-file onto the database (12.10)", applied, &["check", "--sarif-file", DB, "--no-github", "--db", DB], "refusing to write --sarif-file data/app.db"),
    refused("rollback --to and --steps", applied, &["rollback", "--to", "1", "--steps", "1", "--db", DB], "'--to <VERSION>' cannot be used with '--steps <N>'"),
    refused("mark-applied without --reason", applied, &["mark-applied", "001", "--db", DB], "--reason <TEXT>"),
    refused("mark-applied with a blank reason", applied, &["mark-applied", "001", "--reason", "  ", "--db", DB], "`mark-applied` needs a reason"),
    refused("resolve without an outcome (12.16)", dirty, &["resolve", "002", "--reason", "r", "--db", DB], "--applied"),
    refused("an unknown subcommand", applied, &["migrat"], "unrecognized subcommand 'migrat'"),
    refused("an unknown flag", applied, &["lint", "--basee", "main"], "unexpected argument '--basee'"),
    refused("generate --type rust", pending, &["generate", "x", "--type", "rust"], "'rust' for '--type"),

    // ---- the environment ----------------------------------------------------------------
    with_env(refused("SCHEMAGATE_ENV names no environment", applied, &["status"], "environment `staging` is not defined"),
        &[("SCHEMAGATE_ENV", "staging")]),
    with_env(refused("SCHEMAGATE_PYTHON missing with Python pending", |p| { applied(p); p.file("002_py.py", "def upgrade(conn):\n    pass\n"); },
        &["migrate", "--db", DB], "nothing was applied"), &[("SCHEMAGATE_PYTHON", "/nonexistent/python3")]),
    with_env(exits(refused("SCHEMAGATE_PYTHON missing, only SQL pending", |p| { applied(p); p.file("002_b.sql", "CREATE TABLE IF NOT EXISTS b(x);\n"); },
        &["migrate", "--db", DB], "applied 1 migration (002)"), 0, false), &[("SCHEMAGATE_PYTHON", "/nonexistent/python3")]),
    with_env(refused("TMPDIR that does not exist", applied, &["dry-run", "--db", DB], "cannot create a temporary folder for the scratch database"),
        &[("TMPDIR", "/nonexistent/tmp")]),
    with_env(exits(refused("GITHUB_TOKEN with whitespace inside (12.9)", event, &["check", "--comment", "--no-github"], "GITHUB_TOKEN contains spaces"), 0, true),
        &[("GITHUB_TOKEN", "ghs_one two\n"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_EVENT_PATH", "event.json"), ("GITHUB_API_URL", "http://127.0.0.1:9")]),
    with_env(exits(refused("GITHUB_TOKEN with a trailing newline (12.9)", event, &["check", "--comment", "--no-github"], "cannot comment on pull request #7"), 0, true),
        &[("GITHUB_TOKEN", "ghs_token\n"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_EVENT_PATH", "event.json"), ("GITHUB_API_URL", "http://127.0.0.1:9")]),
    with_env(exits(refused("GITHUB_REPOSITORY without a slash", event, &["check", "--comment", "--no-github"], "GITHUB_REPOSITORY must be owner/name, not `noslash`"), 0, true),
        &[("GITHUB_TOKEN", "ghs_token"), ("GITHUB_REPOSITORY", "noslash"), ("GITHUB_EVENT_PATH", "event.json"), ("GITHUB_API_URL", "http://127.0.0.1:9")]),
    with_env(exits(refused("GITHUB_EVENT_PATH missing", event, &["check", "--comment", "--no-github"], "cannot read the event payload nope.json"), 0, true),
        &[("GITHUB_TOKEN", "ghs_token"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_EVENT_PATH", "nope.json")]),
    with_env(exits(refused("SCHEMAGATE_GITHUB_TIMEOUT not a number (12.8)", event, &["check", "--comment", "--no-github"], "SCHEMAGATE_GITHUB_TIMEOUT must be a number of seconds"), 0, true),
        &[("GITHUB_TOKEN", "ghs_token"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_EVENT_PATH", "event.json"), ("SCHEMAGATE_GITHUB_TIMEOUT", "soon")]),
    with_env(exits(refused("GITHUB_API_URL that is not a URL", event, &["check", "--comment", "--no-github"], "GITHUB_API_URL is not a valid URL: `not a url`"), 0, true),
        &[("GITHUB_TOKEN", "ghs_token"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_EVENT_PATH", "event.json"), ("GITHUB_API_URL", "not a url")]),

    // ---- the folder's entries and text (12.2, 12.5) -----------------------------------------
    refused("a NUL byte in a .sql file (12.2)", |p| { applied(p); p.file("002_b.sql", "CREATE TABLE b(x);\0DROP TABLE a;\n"); },
        &["migrate", "--db", DB], "002_b.sql: a NUL byte at offset 18"),
    refused("a NUL byte in a .sql file, lint (12.2)", |p| { applied(p); p.file("002_b.sql", "\0"); }, &["lint"], "002_b.sql: a NUL byte at offset 0"),
    refused("an unclosed comment swallows the rest (12.2)", |p| { applied(p); p.file("002_b.sql", "CREATE TABLE b(x);\n/* forgot to close\nDROP TABLE a;\n"); },
        &["migrate", "--db", DB], "002_b.sql"),
    refused("a dangling symlink named like a migration (12.5)", |p| { applied(p); symlink("nowhere.sql", p.migrations().join("002_b.sql")).unwrap(); },
        &["status", "--db", DB], "002_b.sql"),
    refused("a symlink loop named like a migration (12.5)", |p| { applied(p); symlink("002_b.sql", p.migrations().join("002_b.sql")).unwrap(); },
        &["lint"], "002_b.sql"),
    refused("a FIFO named like a migration (12.5)", |p| { applied(p); let c = std::ffi::CString::new(p.migrations().join("002_b.sql").to_str().unwrap()).unwrap(); assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0); },
        &["migrate", "--db", DB], "002_b.sql"),
    refused("a folder named like a migration (12.5)", |p| { applied(p); fs::create_dir(p.migrations().join("002_b.sql")).unwrap(); },
        &["pending", "--db", DB], "002_b.sql"),
    refused("a non-UTF-8 file name (12.5)", |p| { applied(p); use std::os::unix::ffi::OsStrExt; fs::write(p.migrations().join(std::ffi::OsStr::from_bytes(b"002_caf\xe9.sql")), "SELECT 1;").unwrap(); },
        &["lint"], "002_caf"),
    refused("an upper-case extension (12.5)", |p| { applied(p); p.file("002_b.SQL", "CREATE TABLE b(x);\n"); }, &["migrate", "--db", DB], "002_b.SQL"),

    // ---- odd history rows (12.14) and Python drift (12.12) ---------------------------------
    exits(refused("a history row ' 2' is a warning (12.14)", |p| { applied(p); p.file("002_b.sql", "CREATE TABLE IF NOT EXISTS b(x);\n"); p.open().execute("INSERT INTO schema_versions(version, checksum) VALUES (' 2', 'manual')", []).unwrap(); },
        &["lint", "--db", DB], "(version ' 2') has whitespace around the number"), 0, true),
    exits(refused("a history row 2.0 stops migrate (12.14)", |p| { applied(p); p.file("002_b.sql", "CREATE TABLE IF NOT EXISTS b(x);\n"); p.open().execute("INSERT INTO schema_versions(version, checksum) VALUES ('2.0', 'manual')", []).unwrap(); },
        &["migrate", "--db", DB], "'2.0'"), 1, true),
    exits(refused("a history row 'abc' is a warning (12.14)", |p| { applied(p); p.open().execute("INSERT INTO schema_versions(version, checksum) VALUES ('abc', 'manual')", []).unwrap(); },
        &["status", "--db", DB], "'abc'"), 0, true),
    exits(refused("two history rows for one version (12.14)", |p| { applied(p); p.open().execute("INSERT INTO schema_versions(version, checksum) VALUES ('1', 'manual')", []).unwrap(); },
        &["lint", "--db", DB], "invalid-history-row"), 1, true),
    exits(refused("a changed string in an applied Python migration is drift (12.12)", |p| {
            applied(p);
            let old = "def upgrade(conn):\n    conn.executescript(\"\"\"\n# keep\nCREATE TABLE IF NOT EXISTS p(x);\n\"\"\")\n";
            p.file("002_p.py", old);
            let md5 = schemagate::checksum::legacy(schemagate::name::Kind::Python, old.as_bytes());
            p.open().execute("INSERT INTO schema_versions(version, checksum) VALUES ('002', ?1)", [md5]).unwrap();
            p.file("002_p.py", old.replace("# keep", "# drop"));
        }, &["lint", "--db", DB], "002_p.py"), 1, true),

    // ---- migrations writing schemagate's tables (12.7) ----------------------------------------
    // (12.11, a Python migration on a database another connection holds, needs a second
    // process holding the lock: `persistent_runner.rs` pins it.)
    exits(refused("a SQL migration deleting the history (12.7)", |p| { applied(p); p.file("002_tidy.sql", "DELETE FROM schema_versions;\n"); },
        &["migrate", "--no-backup", "--db", DB], "schema_versions, which schemagate does not allow"), 1, false),
    exits(refused("a SQL migration dropping the history (12.7)", |p| { applied(p); p.file("002_tidy.sql", "DROP TABLE schema_versions;\n"); },
        &["migrate", "--no-backup", "--db", DB], "schema_versions, which schemagate does not allow"), 1, false),
    exits(refused("a Python migration deleting the history (12.7)", |p| { applied(p); p.file("002_tidy.py", "def upgrade(conn):\n    conn.execute('DELETE FROM schema_versions')\n"); },
        &["migrate", "--no-backup", "--db", DB], "schema_versions"), 1, false),
];

#[test]
fn the_table_has_at_least_70_cases() {
    assert!(CASES.len() >= 70, "{} cases", CASES.len());
    let mut names: Vec<_> = CASES.iter().map(|c| c.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "case names are unique");
}

#[test]
fn every_bad_input_gets_its_exit_code_a_line_naming_it_and_no_change() {
    let mut failures = Vec::new();
    for case in CASES {
        let p = Project::new();
        (case.setup)(&p);
        let before = snapshot(p.path());
        let mut cmd = p.cmd();
        cmd.args(case.args)
            .timeout(std::time::Duration::from_secs(60));
        for (k, v) in case.env {
            cmd.env(k, v);
        }
        let a = cmd.assert();
        let code = a.get_output().status.code();
        let out = output(&a);
        let mut problems = Vec::new();
        if code != Some(case.code) {
            problems.push(format!("exit {code:?}, expected {}", case.code));
        }
        if out.contains("panicked at") {
            problems.push("panicked".into());
        }
        if !out.lines().any(|l| l.contains(case.line)) {
            problems.push(format!("no line contains {:?}", case.line));
        }
        if case.untouched && snapshot(p.path()) != before {
            problems.push("the project folder changed".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  args: {:?}\n  output: {}",
                case.name,
                problems.join("; "),
                case.args,
                out.trim_end().replace('\n', "\n          ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
