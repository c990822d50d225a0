//! End to end, for each layout: a folder written the way its tool writes it (four
//! migrations, with their Down parts) and a database where that tool applied the first two:
//! their Up SQL, and the tool's history table with its rows exactly as the tool writes them
//! (versions as it records them, checksums where it stores one). No `[migrations] layout`
//! is set: the folder's layout is detected, and it decides whose table is read.
//!
//! What `status`, `pending`, `lint --db`, `check --db` and `dry-run` say must be what the
//! tool would do: two migrations applied, two pending, and the dry run applying exactly the
//! pending ones and only their Up parts (the fourth step's Down creates the view its Up
//! drops, so a Down run forward shows in the schema). Then `rollback`, where the layout has
//! down SQL: it runs one Down part and removes exactly the tool's row, as the tool's own
//! revert does. Last, the tools' dirty states.
//!
//! The tables and statements are the tools' own (sqlx-sqlite `migrate.rs`, dbmate
//! `pkg/driver/sqlite`, goose `dialectquery/sqlite3.go`, golang-migrate
//! `database/sqlite3`, Flyway's SQLite `createMetaDataTable.sql`, refinery_core
//! `traits/mod.rs`, diesel `setup_migration_table.sql`); the legacy database is built by
//! the legacy manager fixture itself.

use crate::tool_tables;
use std::collections::BTreeMap;
use std::fs;

use rusqlite::{Connection, params};

use super::{CHAIN, DIESEL_STAMPS, Fixture, REPLACE_VIEW, STAMPS, Step, fixture_of, kept, schema};
use crate::common::{Project, findings, json, output, query_strings};

/// The folders' four steps; the tools applied the first [`APPLIED`].
const STEPS: [Step; 4] = [CHAIN[0], CHAIN[1], CHAIN[2], REPLACE_VIEW];
const APPLIED: usize = 2;

/// A folder and a database its tool migrated, and what schemagate must say about them.
struct Case {
    /// The layout `status` must name (detected).
    layout: &'static str,
    project: Project,
    /// Each migration as schemagate lists it: version and path inside the folder.
    migrations: Vec<(String, String)>,
    /// `status` states, one per migration.
    states: [&'static str; 4],
    /// SQL the tool ran besides the Up parts of the applied steps (Flyway's repeatable),
    /// after them.
    extra: Vec<String>,
}

impl Case {
    fn new(layout: &'static str, project: Project, migrations: Vec<(String, String)>) -> Case {
        Case {
            layout,
            project,
            migrations,
            states: ["unverified", "unverified", "pending", "pending"],
            extra: Vec::new(),
        }
    }

    fn pending(&self) -> &[(String, String)] {
        &self.migrations[APPLIED..]
    }
}

/// The project of a fixture, without its `[migrations] layout` (if it had one).
fn detected(f: &Fixture) -> Project {
    let p = Project::new();
    f.write(&p.migrations());
    fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    p
}

fn text(p: &Project, file: &str) -> String {
    fs::read_to_string(p.migrations().join(file)).unwrap()
}

fn open(p: &Project) -> Connection {
    Connection::open(p.db()).unwrap()
}

/// `(version, path)` of each step of a fixture, versions as the folder writes them.
fn listed(versions: &[&str], f: &Fixture) -> Vec<(String, String)> {
    versions
        .iter()
        .zip(&f.up_files)
        .map(|(v, file)| (v.to_string(), file.clone()))
        .collect()
}

/// Every file of the data folder, as bytes: a reading command must leave them as they were.
fn snapshot(p: &Project) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(p.db().parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The schema the database must have after the dry run: the applied Up parts, what else
/// the tool ran, then the pending Up parts. Nothing of a Down part.
fn expected_schema(extra: &[String]) -> Vec<(String, String, String)> {
    let conn = Connection::open_in_memory().unwrap();
    for s in &STEPS[..APPLIED] {
        conn.execute_batch(s.up).unwrap();
    }
    for sql in extra {
        conn.execute_batch(sql).unwrap();
    }
    for s in &STEPS[APPLIED..] {
        conn.execute_batch(s.up).unwrap();
    }
    schema(&conn)
}

fn errors(report: &serde_json::Value) -> Vec<&serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect()
}

/// The assertions every layout shares.
fn check(case: &Case) {
    let p = &case.project;
    let layout = case.layout;
    let before = snapshot(p);

    // status: the detected layout, and the tool's table read as the tool reads it.
    let a = p.run(&["status", "--format", "json"]);
    let report = json(&a);
    assert_eq!(
        a.get_output().status.code(),
        Some(0),
        "{layout}: {}",
        output(&a)
    );
    assert_eq!(report["layout"]["name"], layout, "{layout}: {report:#}");
    let states: Vec<(String, String)> = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap().to_string(),
                m["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = case
        .migrations
        .iter()
        .zip(case.states)
        .map(|((v, _), s)| (v.clone(), s.to_string()))
        .collect();
    assert_eq!(states, expected, "{layout}: {report:#}");
    assert!(errors(&report).is_empty(), "{layout}: {report:#}");

    // pending: exactly what the tool would apply next.
    let a = p.run(&["pending"]).success();
    let lines: Vec<String> = String::from_utf8_lossy(&a.get_output().stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let expected: Vec<String> = case
        .pending()
        .iter()
        .map(|(v, file)| format!("{v}  migrations/{file}"))
        .collect();
    assert_eq!(lines, expected, "{layout}");

    // lint --db and check --db: no error on a folder and database the tool is happy with.
    for command in ["lint", "check"] {
        let a = p.run(&[command, "--format", "json"]);
        let report = json(&a);
        assert!(errors(&report).is_empty(), "{layout} {command}: {report:#}");
        assert_eq!(
            a.get_output().status.code(),
            Some(0),
            "{layout} {command}: {}",
            output(&a)
        );
    }

    // dry-run: the pending migrations, in order, and only their Up parts.
    let a = p.run(&["dry-run", "--keep-scratch", "--format", "json"]);
    let out = output(&a);
    assert_eq!(a.get_output().status.code(), Some(0), "{layout}: {out}");
    let report = json(&a);
    let steps: Vec<(String, String)> = report["dry_run"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["version"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = case
        .pending()
        .iter()
        .map(|(v, _)| (v.clone(), "ok".to_string()))
        .collect();
    assert_eq!(steps, expected, "{layout}: {report:#}");
    let scratch = kept(&out);
    let got = schema(&Connection::open(&scratch).unwrap());
    let _ = fs::remove_dir_all(scratch.parent().unwrap());
    assert_eq!(
        got,
        expected_schema(&case.extra),
        "{layout}: dry run schema"
    );

    assert!(
        snapshot(p) == before,
        "{layout}: a reading command changed the database"
    );
}

// ---------------------------------------------------------------------------------------
// The databases, as each tool leaves them after applying the first two migrations.

/// sqlx: each migration's file text runs in a transaction with its row; the checksum is the
/// SHA-384 of the file's text, the description the name after the version with `_` as
/// spaces; `execution_time` is set afterwards.
fn sqlx_database(p: &Project, up_files: &[String]) {
    use sha2::Digest;
    let mut conn = open(p);
    conn.execute_batch(tool_tables::SQLX).unwrap();
    for file in &up_files[..APPLIED] {
        let sql = text(p, file);
        let (version, rest) = file.split_once('_').unwrap();
        let description = rest
            .trim_end_matches(".sql")
            .trim_end_matches(".up")
            .replace('_', " ");
        let version: i64 = version.parse().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(&sql).unwrap();
        tx.execute(
            "INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time )
            VALUES ( ?1, ?2, TRUE, ?3, -1 )",
            params![version, description, sha2::Sha384::digest(sql.as_bytes()).to_vec()],
        )
        .unwrap();
        tx.commit().unwrap();
        conn.execute(
            "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2",
            params![1_250_000_i64, version],
        )
        .unwrap();
    }
}

/// dbmate: `schema_migrations (version varchar(128) primary key)`; the Up section and the
/// version as written in the file name, in one transaction.
fn dbmate_database(p: &Project, versions: &[String]) {
    let mut conn = open(p);
    conn.execute_batch(
        r#"create table if not exists "schema_migrations" (version varchar(128) primary key)"#,
    )
    .unwrap();
    for (s, v) in STEPS.iter().zip(versions).take(APPLIED) {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(s.up).unwrap();
        tx.execute(
            r#"insert into "schema_migrations" (version) values (?)"#,
            [v],
        )
        .unwrap();
        tx.commit().unwrap();
    }
}

/// goose: its table with the version-0 row it writes when it creates it, then one row per
/// migration (`version_id` the file's number as an int64, `is_applied` true).
fn goose_database(p: &Project, versions: &[String]) {
    let mut conn = open(p);
    let insert = "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)";
    conn.execute_batch(
        "CREATE TABLE goose_db_version (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		version_id INTEGER NOT NULL,
		is_applied INTEGER NOT NULL,
		tstamp TIMESTAMP DEFAULT (datetime('now'))
	)",
    )
    .unwrap();
    conn.execute(insert, params![0_i64, true]).unwrap();
    for (s, v) in STEPS.iter().zip(versions).take(APPLIED) {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(s.up).unwrap();
        tx.execute(insert, params![v.parse::<i64>().unwrap(), true])
            .unwrap();
        tx.commit().unwrap();
    }
}

/// golang-migrate: one row, the current version; each migration is set dirty, run, then
/// set clean (`SetVersion` deletes every row and inserts the one).
fn golang_migrate_database(p: &Project) {
    let conn = open(p);
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
  CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);",
    )
    .unwrap();
    for (i, s) in STEPS.iter().enumerate().take(APPLIED) {
        let version = i as i64 + 1;
        golang_migrate_set_version(&conn, version, true);
        conn.execute_batch(s.up).unwrap();
        golang_migrate_set_version(&conn, version, false);
    }
}

fn golang_migrate_set_version(conn: &Connection, version: i64, dirty: bool) {
    conn.execute_batch("BEGIN; DELETE FROM schema_migrations;")
        .unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)",
        params![version, dirty],
    )
    .unwrap();
    conn.execute_batch("COMMIT;").unwrap();
}

/// Flyway's checksum (`ChecksumCalculator`): CRC-32 over the script's lines without their
/// line breaks (a BOM dropped), as a Java `int`. Written here from the definition, not
/// taken from schemagate.
fn flyway_crc(text: &str) -> i32 {
    let mut crc = !0u32;
    for line in text.trim_start_matches('\u{feff}').lines() {
        for b in line.trim_end_matches('\r').bytes() {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc as i32
}

/// The Flyway folder: dotted versions as Flyway users write them (`V1.1__`, and `V2_1__`,
/// which Flyway reads as 2.1), an undo script (`U`, Flyway Teams) for each, and a
/// repeatable migration.
const FLYWAY_VERSIONS: [&str; 4] = ["1", "1.1", "2", "2_1"];
const REPEATABLE: &str =
    "CREATE VIEW IF NOT EXISTS post_titles AS\n    SELECT id, title FROM posts;\n";

fn flyway_files() -> (Vec<(String, String)>, Vec<String>) {
    let mut files = Vec::new();
    let mut up_files = Vec::new();
    for (s, v) in STEPS.iter().zip(FLYWAY_VERSIONS) {
        let mut name = s.name.to_string();
        name[..1].make_ascii_uppercase();
        up_files.push(format!("V{v}__{name}.sql"));
        files.push((format!("V{v}__{name}.sql"), s.up.to_string()));
        files.push((format!("U{v}__{name}.sql"), s.down.to_string()));
    }
    files.push(("R__Post_titles.sql".into(), REPEATABLE.into()));
    (files, up_files)
}

/// Flyway applied V1 and V1.1, then the repeatable (repeatables run after the versioned
/// migrations): rows with the version as Flyway prints it (`1.1`), the description from the
/// name (`_` as spaces), the script name and the CRC-32; the repeatable's row has no
/// version.
fn flyway_database(p: &Project, up_files: &[String]) {
    let mut conn = open(p);
    conn.execute_batch(tool_tables::FLYWAY).unwrap();
    let mut rank = 0;
    let mut record = |conn: &mut Connection, version: Option<&str>, script: &str, sql: &str| {
        rank += 1;
        let description = script
            .split_once("__")
            .unwrap()
            .1
            .trim_end_matches(".sql")
            .replace('_', " ");
        let tx = conn.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        tx.execute(
            tool_tables::FLYWAY_INSERT,
            params![
                rank,
                version,
                description,
                "SQL",
                script,
                flyway_crc(sql),
                "",
                12,
                true
            ],
        )
        .unwrap();
        tx.commit().unwrap();
    };
    for (file, version) in up_files.iter().zip(["1", "1.1"]) {
        record(&mut conn, Some(version), file, &text(p, file));
    }
    record(&mut conn, None, "R__Post_titles.sql", REPEATABLE);
}

/// refinery: `V<n>__<name>.sql` (its `U` prefix is an unversioned forward migration, not
/// an undo, so the folder has none); rows with the i32 version, the name, an RFC 3339
/// time and the SipHash-1-3 of name, version and SQL, the values inlined as refinery does.
fn refinery_database(p: &Project, up_files: &[String]) {
    let mut conn = open(p);
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS refinery_schema_history(
             version INT4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));",
    )
    .unwrap();
    for (i, file) in up_files.iter().enumerate().take(APPLIED) {
        let sql = text(p, file);
        let name = file
            .split_once("__")
            .unwrap()
            .1
            .trim_end_matches(".sql")
            .to_string();
        let version = i as i32 + 1;
        // std's DefaultHasher is SipHash-1-3 with zero keys, the hasher refinery names.
        let checksum = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            name.hash(&mut h);
            version.hash(&mut h);
            sql.hash(&mut h);
            h.finish()
        };
        let tx = conn.transaction().unwrap();
        tx.execute_batch(&sql).unwrap();
        tx.execute_batch(&format!(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES ({version}, '{name}', '2024-05-01T10:00:0{version}.5Z', '{checksum}')"
        ))
        .unwrap();
        tx.commit().unwrap();
    }
}

/// diesel: `__diesel_schema_migrations` with the folder's version without its dashes;
/// `up.sql` and the row in one transaction.
fn diesel_database(p: &Project, up_files: &[String]) {
    let mut conn = open(p);
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);",
    )
    .unwrap();
    for file in &up_files[..APPLIED] {
        let version: String = file
            .split('_')
            .next()
            .unwrap()
            .chars()
            .filter(|c| *c != '-')
            .collect();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(&text(p, file)).unwrap();
        tx.execute(
            "INSERT INTO __diesel_schema_migrations (version) VALUES (?)",
            [version],
        )
        .unwrap();
        tx.commit().unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// The cases.

/// The legacy layout: numbered `.sql` and `.py` files (the Python ones with `downgrade`),
/// migrated by the legacy manager itself up to 002.
fn legacy() -> Case {
    let p = Project::new();
    let python = |s: &Step| {
        let statements = |sql: &str| {
            sql.split(";\n")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| format!("    conn.execute(\"\"\"{s}\"\"\")\n"))
                .collect::<String>()
        };
        format!(
            "DESCRIPTION = \"{}\"\n\n\ndef upgrade(conn):\n{}\n\ndef downgrade(conn):\n{}",
            s.name.replace('_', " "),
            statements(s.up),
            statements(s.down)
        )
    };
    let files = [
        ("001_create_users.sql", format!("-- Users\n{}", STEPS[0].up)),
        ("002_create_posts.sql", format!("-- Posts\n{}", STEPS[1].up)),
        ("003_add_post_counts.py", python(&STEPS[2])),
        ("004_replace_post_counts.py", python(&STEPS[3])),
    ];
    for (name, text) in &files {
        p.file(name, text);
    }
    p.legacy_migrate(Some("002"));
    let migrations = files
        .iter()
        .map(|(name, _)| (name[..3].to_string(), name.to_string()))
        .collect();
    let mut case = Case::new("legacy", p, migrations);
    case.states = ["applied", "applied", "pending", "pending"];
    case
}

#[test]
fn legacy_database_built_by_the_legacy_manager() {
    check(&legacy());
}

/// sqlx: a simple migration (`<version>_<name>.sql`, as `sqlx migrate add` writes it without
/// `-r`) followed by reversible pairs.
fn sqlx() -> Case {
    let mut f = fixture_of("sqlx", &STEPS);
    let stem = f.up_files[0].trim_end_matches(".up.sql").to_string();
    f.files
        .retain(|(name, _)| !name.starts_with(&format!("{stem}.")));
    f.files.push((
        format!("{stem}.sql"),
        format!("-- Add migration script here\n{}", STEPS[0].up),
    ));
    f.up_files[0] = format!("{stem}.sql");
    let p = detected(&f);
    sqlx_database(&p, &f.up_files);
    let mut case = Case::new("sqlx", p, listed(&STAMPS, &f));
    case.states = ["applied", "applied", "pending", "pending"];
    case
}

#[test]
fn sqlx_database_with_simple_and_reversible_migrations() {
    check(&sqlx());
}

fn dbmate() -> Case {
    let f = fixture_of("dbmate", &STEPS);
    let p = detected(&f);
    dbmate_database(&p, &f.native_versions);
    Case::new("dbmate", p, listed(&STAMPS, &f))
}

#[test]
fn dbmate_database_with_sections() {
    check(&dbmate());
}

fn goose() -> Case {
    let f = fixture_of("goose", &STEPS);
    let p = detected(&f);
    goose_database(&p, &f.native_versions);
    Case::new("goose", p, listed(&STAMPS, &f))
}

#[test]
fn goose_database_with_statement_blocks() {
    check(&goose());
}

/// golang-migrate's `N_name.up.sql`/`.down.sql` pairs are also how sqlx writes reversible
/// migrations, and golang-migrate's `migrate create` leaves no mark in them: detection
/// names both tools and asks for `[migrations] layout` (exit 2). With it, the rest is
/// golang-migrate's.
fn golang_migrate() -> Case {
    let f = fixture_of("golang-migrate", &STEPS);
    let p = detected(&f);
    golang_migrate_database(&p);
    let a = p.run(&["status"]).code(2);
    let out = output(&a);
    assert!(
        out.contains("written by both sqlx and golang-migrate"),
        "{out}"
    );
    p.config(f.config.unwrap());
    let versions: Vec<String> = (1..=4).map(|n| format!("{n:06}")).collect();
    let versions: Vec<&str> = versions.iter().map(String::as_str).collect();
    Case::new("golang-migrate", p, listed(&versions, &f))
}

#[test]
fn golang_migrate_database_with_its_one_version() {
    check(&golang_migrate());
}

fn flyway() -> Case {
    let p = Project::new();
    let (files, up_files) = flyway_files();
    for (name, text) in &files {
        p.file(name, text);
    }
    fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    flyway_database(&p, &up_files);
    let versions = ["1", "1.1", "2", "2.1"];
    let migrations = versions
        .iter()
        .zip(&up_files)
        .map(|(v, f)| (v.to_string(), f.clone()))
        .collect();
    let mut case = Case::new("flyway", p, migrations);
    case.states = ["applied", "applied", "pending", "pending"];
    case.extra = vec![REPEATABLE.to_string()];
    case
}

#[test]
fn flyway_database_with_dotted_versions_and_a_repeatable() {
    let case = flyway();
    check(&case);
    // The repeatable is named as what the dry run leaves out (a warning, not an error).
    let report = json(&case.project.run(&["lint", "--format", "json"]).success());
    let left_out = findings(&report, "unsupported-migration");
    assert_eq!(left_out.len(), 1, "{report:#}");
    assert_eq!(left_out[0]["path"], "migrations/R__Post_titles.sql");
    assert_eq!(left_out[0]["severity"], "warning");
}

fn refinery() -> Case {
    let p = Project::new();
    let mut up_files = Vec::new();
    for (i, s) in STEPS.iter().enumerate() {
        let name = format!("V{}__{}.sql", i + 1, s.name);
        p.file(&name, s.up);
        up_files.push(name);
    }
    fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    refinery_database(&p, &up_files);
    let migrations = up_files
        .iter()
        .enumerate()
        .map(|(i, f)| ((i + 1).to_string(), f.clone()))
        .collect();
    let mut case = Case::new("flyway", p, migrations);
    case.states = ["applied", "applied", "pending", "pending"];
    case
}

#[test]
fn refinery_database_with_its_checksums() {
    check(&refinery());
}

/// diesel: `2024-01-05-093000_create_users/up.sql` is version `20240105093000`, as diesel
/// records it.
fn diesel() -> Case {
    let f = fixture_of("diesel", &STEPS);
    assert!(f.up_files[0].starts_with(DIESEL_STAMPS[0]));
    let p = detected(&f);
    diesel_database(&p, &f.up_files);
    Case::new("diesel", p, listed(&STAMPS, &f))
}

#[test]
fn diesel_database_with_dated_folders() {
    check(&diesel());
}

// ---------------------------------------------------------------------------------------
// rollback: one Down part, and exactly the tool's row.

/// Every row of the tool's table, all columns as text, in a stable order.
fn table_rows(p: &Project, layout: &str) -> Vec<String> {
    let (table, order) = match layout {
        "sqlx" => ("_sqlx_migrations", "version"),
        "dbmate" | "golang-migrate" => ("schema_migrations", "version"),
        "goose" => ("goose_db_version", "id"),
        "diesel" => ("__diesel_schema_migrations", "version"),
        other => panic!("{other}"),
    };
    let conn = open(p);
    let columns = query_strings(
        &conn,
        &format!("SELECT name FROM pragma_table_info('{table}')"),
    );
    let row = columns
        .iter()
        .map(|c| format!("quote({c})"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    query_strings(
        &conn,
        &format!("SELECT {row} FROM {table} ORDER BY {order}"),
    )
}

#[test]
fn rollback_runs_one_down_part_and_removes_exactly_the_tools_row() {
    let builds: [fn() -> Case; 5] = [sqlx, dbmate, goose, golang_migrate, diesel];
    for build in builds {
        let case = build();
        let p = &case.project;
        let layout = case.layout;
        let before = table_rows(p, layout);
        let a = p.run(&["rollback", "--reason", "bad deploy", "--format", "json"]);
        let report = json(&a);
        assert_eq!(report["status"], "rolled-back", "{layout}: {}", output(&a));
        let second = &case.migrations[1].0;
        assert_eq!(
            report["rolled_back"],
            serde_json::json!([second]),
            "{layout}"
        );

        // Only the second step's Down ran: the schema is the first step's Up alone (the
        // pending steps' Down parts, one of which creates a view, did not run).
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(STEPS[0].up).unwrap();
        assert_eq!(
            schema(&open(p)),
            schema(&conn),
            "{layout}: schema after rollback"
        );

        // The tool's table lost exactly the second migration's row, as its revert does.
        let after = table_rows(p, layout);
        let expected: Vec<String> = match layout {
            // The one row moves to the previous version.
            "golang-migrate" => vec!["1|0".to_string()],
            // Every row of the second version goes (goose: all of them), no other.
            _ => before
                .iter()
                .filter(|r| !r.contains(STAMPS[1]))
                .cloned()
                .collect(),
        };
        assert_eq!(after, expected, "{layout}: {before:#?}");
        assert_eq!(
            after.len() + usize::from(layout != "golang-migrate"),
            before.len()
        );

        // What the tool would now apply is the second migration again.
        let a = p.run(&["pending"]).success();
        let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
        assert!(
            stdout.starts_with(&format!("{second}  migrations/{}", case.migrations[1].1)),
            "{layout}: {stdout}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Dirty states: the tool refuses to run anything, and so does the gate.

/// `(layout case, SQL that leaves the tool's table dirty, the tool's fix in the help)`.
fn dirty_cases() -> Vec<(Case, &'static str, &'static str)> {
    vec![
        (
            golang_migrate(),
            "UPDATE schema_migrations SET version = 3, dirty = 1",
            "`migrate force 3`",
        ),
        (
            sqlx(),
            "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 20240112141500",
            "DELETE FROM _sqlx_migrations WHERE version = 20240112141500",
        ),
        (
            flyway(),
            r#"UPDATE "flyway_schema_history" SET "success" = 0 WHERE "version" = '1.1'"#,
            "`flyway repair`",
        ),
    ]
}

#[test]
fn a_dirty_database_is_an_error_in_lint_check_and_dry_run() {
    for (case, make_dirty, fix) in dirty_cases() {
        let p = &case.project;
        let layout = case.layout;
        open(p).execute_batch(make_dirty).unwrap();
        for command in ["lint", "check", "dry-run", "status"] {
            let a = p.run(&[command, "--format", "json"]).code(1);
            let report = json(&a);
            let dirty = findings(&report, "dirty-database");
            assert_eq!(dirty.len(), 1, "{layout} {command}: {report:#}");
            assert_eq!(dirty[0]["severity"], "error");
            let help = dirty[0]["help"].as_str().unwrap();
            assert!(help.contains(fix), "{layout} {command}: {help}");
        }
        if layout != "flyway" {
            let before = snapshot(p);
            let out = output(&p.run(&["rollback"]).code(2));
            assert!(out.contains("nothing was rolled back"), "{layout}: {out}");
            assert!(out.contains(fix), "{layout}: {out}");
            assert!(
                snapshot(p) == before,
                "{layout}: rollback changed the database"
            );
        }
    }
}
