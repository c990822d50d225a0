//! Other tools' history tables (issue 11) and odd history rows (issue 12, item 14).
//!
//! Each database is built the way its tool builds it: the tool's DDL (quoted from its
//! source), its insert statements, and the migrations' SQL run as the tool runs it. The
//! folders use names today's discovery reads (`<digits>_name.sql`, which sqlx, dbmate,
//! goose and golang-migrate `.up.sql` files satisfy); Flyway's `V1__x.sql` and diesel's
//! folders come with the layout work.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;

use crate::common::{LEGACY_HISTORY, Project, findings, run_cmd, run_json, schemagate};

use crate::tool_tables::{
    DBMATE, DBMATE_INSERT, FLYWAY, GOLANG_MIGRATE, GOOSE, GOOSE_INSERT, REFINERY, SQLX, SQLX_INSERT,
};

const USERS: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n";
const POSTS: &str =
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));\n";
const TAGS: &str = "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n";

/// A project whose `schemagate.toml` says the folder is `layout`'s.
fn project(layout: &str) -> Project {
    let p = Project::new();
    p.config(&format!("[migrations]\nlayout = \"{layout}\"\n"));
    std::fs::create_dir_all(p.path().join("data")).unwrap();
    p
}

fn db(p: &Project) -> Connection {
    Connection::open(p.db()).unwrap()
}

fn run(p: &Project, args: &[&str]) -> (i32, String, String) {
    run_cmd(
        schemagate(p.path())
            .args(args)
            .args(["--db", "data/app.db"]),
    )
}

fn json(p: &Project, args: &[&str]) -> (i32, serde_json::Value, String) {
    run_json(
        schemagate(p.path())
            .args(args)
            .args(["--format", "json", "--db", "data/app.db"]),
    )
}

/// Every file of the data folder with a hash of its bytes (a failed comparison stays short).
fn snapshot(p: &Project) -> BTreeMap<String, String> {
    std::fs::read_dir(p.path().join("data"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (
                e.file_name().into_string().unwrap(),
                schemagate::checksum::sha256_hex(&bytes),
            )
        })
        .collect()
}

/// `(version, state)` of each migration in a report.
fn states(report: &serde_json::Value) -> Vec<(String, String)> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap().to_string(),
                m["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, s)| (v.to_string(), s.to_string()))
        .collect()
}

/// The versions a dry run applied, in order.
fn dry_run_steps(report: &serde_json::Value) -> Vec<(String, String)> {
    report["dry_run"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["version"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A dbmate folder and database where dbmate applied the first two migrations.
fn dbmate_project() -> Project {
    let p = project("dbmate");
    p.file(
        "20240101000000_users.sql",
        format!("-- migrate:up\n{USERS}"),
    );
    p.file(
        "20240102000000_posts.sql",
        format!("-- migrate:up\n{POSTS}"),
    );
    p.file("20240103000000_tags.sql", format!("-- migrate:up\n{TAGS}"));
    let mut conn = db(&p);
    conn.execute_batch(DBMATE).unwrap();
    for (version, sql) in [("20240101000000", USERS), ("20240102000000", POSTS)] {
        // dbmate runs the up SQL and its insert in one transaction.
        let tx = conn.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        tx.execute(DBMATE_INSERT, [version]).unwrap();
        tx.commit().unwrap();
    }
    p
}

#[test]
fn a_dbmate_database_is_read_from_dbmates_table_and_never_changed() {
    let p = dbmate_project();
    let before = snapshot(&p);

    let (code, v, err) = json(&p, &["status"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        states(&v),
        pairs(&[
            ("20240101000000", "unverified"),
            ("20240102000000", "unverified"),
            ("20240103000000", "pending"),
        ])
    );
    let unverified = findings(&v, "unverified-record");
    assert_eq!(unverified.len(), 1, "one summary, not one per file: {v:#}");
    assert!(
        unverified[0]["message"]
            .as_str()
            .unwrap()
            .contains("dbmate records no checksums: 2 migrations"),
        "{v:#}"
    );

    let (code, out, err) = run(&p, &["pending"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.trim(),
        "20240103000000  migrations/20240103000000_tags.sql"
    );

    // The dry run applies exactly what dbmate would: tags, not users and posts again.
    let (code, v, err) = json(&p, &["dry-run"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(dry_run_steps(&v), pairs(&[("20240103000000", "ok")]));

    let (code, v, err) = json(&p, &["lint"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert!(findings(&v, "missing-file").is_empty(), "{v:#}");

    let (code, v, err) = json(&p, &["verify"]);
    assert_eq!(code, 0, "dbmate's table is not schema drift: {v:#}\n{err}");

    assert_eq!(
        snapshot(&p),
        before,
        "a reading command changed the database"
    );
}

#[test]
fn migrate_and_the_repairs_refuse_a_dbmate_folder_and_touch_nothing() {
    let p = dbmate_project();
    let before = snapshot(&p);
    let (code, out, err) = run(&p, &["migrate"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            "this folder is a dbmate folder: dbmate stays the deployer, schemagate is its gate; run `dbmate up`"
        ),
        "{err}"
    );
    for args in [
        &["mark-applied", "20240103000000", "--reason", "x"][..],
        &["forget", "20240102000000", "--reason", "x"],
        &["rekey", "20240102000000", "20240103000000"],
    ] {
        let (code, out, err) = run(&p, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("repair the history with dbmate"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(snapshot(&p), before);

    // A new environment: refused before the database would be created.
    std::fs::remove_file(p.db()).unwrap();
    let (code, _, err) = run(&p, &["migrate"]);
    assert_eq!(code, 2, "{err}");
    assert!(!p.db().exists(), "migrate created a database for dbmate");
}

#[test]
fn a_database_without_the_layouts_table_but_with_schema_versions_is_refused() {
    let p = project("dbmate");
    p.file("001_users.sql", USERS);
    db(&p).execute_batch(LEGACY_HISTORY).unwrap();
    let (code, out, err) = run(&p, &["pending"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            "has no schema_migrations (dbmate's history) but has schemagate's schema_versions"
        ),
        "{err}"
    );
}

/// An sqlx folder where sqlx applied 1 and 2, with their SHA-384 checksums.
fn sqlx_project() -> Project {
    use sha2::Digest;
    let p = project("sqlx");
    p.file("1_users.sql", USERS);
    p.file("2_posts.sql", POSTS);
    p.file("3_tags.sql", TAGS);
    let mut conn = db(&p);
    conn.execute_batch(SQLX).unwrap();
    for (version, description, sql) in [(1, "users", USERS), (2, "posts", POSTS)] {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        let checksum = sha2::Sha384::digest(sql.as_bytes()).to_vec();
        tx.execute(
            SQLX_INSERT,
            rusqlite::params![version, description, checksum],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    p
}

#[test]
fn sqlx_checksums_are_verified_and_a_failed_row_is_dirty() {
    let p = sqlx_project();
    let (code, v, err) = json(&p, &["status"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        states(&v),
        pairs(&[("1", "applied"), ("2", "applied"), ("3", "pending")])
    );
    let (code, v, err) = json(&p, &["dry-run"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(dry_run_steps(&v), pairs(&[("3", "ok")]));

    // sqlx would refuse an edited applied file; so does the gate.
    p.file(
        "1_users.sql",
        format!("{USERS}CREATE INDEX users_email ON users(email);\n"),
    );
    let (code, v, err) = json(&p, &["lint"]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    let drift = findings(&v, "checksum-drift");
    assert_eq!(drift.len(), 1, "{v:#}");
    assert_eq!(drift[0]["path"], "migrations/1_users.sql");
    p.file("1_users.sql", USERS);

    db(&p)
        .execute(
            "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 2",
            [],
        )
        .unwrap();
    // sqlx runs nothing past a failed row: neither does the gate (status, lint, dry run).
    let (code, out, err) = run(&p, &["status"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("dirty"), "{out}");
    assert!(
        out.contains("sqlx marks migration 2 failed in _sqlx_migrations"),
        "{out}"
    );
    assert!(
        out.contains("DELETE FROM _sqlx_migrations WHERE version = 2"),
        "sqlx's own fix: {out}"
    );
    for args in [&["lint"][..], &["dry-run"], &["check"]] {
        let (code, v, err) = json(&p, args);
        assert_eq!(code, 1, "{args:?}: {v:#}\n{err}");
        let dirty = findings(&v, "dirty-database");
        assert_eq!(dirty.len(), 1, "{args:?}: {v:#}");
        assert_eq!(dirty[0]["severity"], "error");
    }
}

#[test]
fn goose_the_newest_row_of_a_version_decides() {
    let p = project("goose");
    p.file("00001_users.sql", format!("-- +goose Up\n{USERS}"));
    p.file("00002_posts.sql", format!("-- +goose Up\n{POSTS}"));
    p.file("00003_tags.sql", format!("-- +goose Up\n{TAGS}"));
    let conn = db(&p);
    conn.execute_batch(GOOSE).unwrap();
    conn.execute_batch(USERS).unwrap();
    // goose's own first row, 1 up, 2 up, then an older goose's `down` of 2: a new row
    // with is_applied = false (and the table dropped again).
    for (version, applied) in [(0, true), (1, true), (2, true), (2, false)] {
        conn.execute(GOOSE_INSERT, rusqlite::params![version, applied])
            .unwrap();
    }
    let (code, v, err) = json(&p, &["status"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        states(&v),
        pairs(&[
            ("00001", "unverified"),
            ("00002", "pending"),
            ("00003", "pending")
        ])
    );
    let (code, v, err) = json(&p, &["dry-run"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        dry_run_steps(&v),
        pairs(&[("00002", "ok"), ("00003", "ok")])
    );
}

#[test]
fn golang_migrate_runs_what_is_above_its_one_version() {
    let p = project("golang-migrate");
    p.file("000001_users.up.sql", USERS);
    p.file("000002_posts.up.sql", POSTS);
    p.file("000003_tags.up.sql", TAGS);
    let conn = db(&p);
    conn.execute_batch(GOLANG_MIGRATE).unwrap();
    let set_version = |version: i64, dirty: bool| {
        conn.execute("DELETE FROM schema_migrations", []).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)",
            rusqlite::params![version, dirty],
        )
        .unwrap();
    };
    for (version, sql) in [(1, USERS), (2, POSTS)] {
        set_version(version, true);
        conn.execute_batch(sql).unwrap();
        set_version(version, false);
    }
    let (code, v, err) = json(&p, &["status"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        states(&v),
        pairs(&[
            ("000001", "unverified"),
            ("000002", "unverified"),
            ("000003", "pending")
        ])
    );
    let (code, v, err) = json(&p, &["dry-run"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(dry_run_steps(&v), pairs(&[("000003", "ok")]));

    // 3 stopped half-way: golang-migrate refuses everything until `migrate force`, and so
    // does the gate; a dry run no longer passes over it.
    set_version(3, true);
    let (code, out, err) = run(&p, &["status"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("golang-migrate marks migration 3 dirty in schema_migrations"),
        "{out}"
    );
    for args in [&["lint"][..], &["dry-run"], &["check"]] {
        let (code, v, err) = json(&p, args);
        assert_eq!(code, 1, "{args:?}: {v:#}\n{err}");
        let dirty = findings(&v, "dirty-database");
        assert_eq!(dirty.len(), 1, "{args:?}: {v:#}");
        assert!(
            dirty[0]["help"]
                .as_str()
                .unwrap()
                .contains("`migrate force 3`"),
            "{args:?}: {v:#}"
        );
    }
}

#[test]
fn flyway_rows_with_a_baseline_and_a_crc32() {
    let p = project("flyway");
    p.file("V1__users.sql", USERS);
    p.file("V2__posts.sql", POSTS);
    p.file("V3__tags.sql", TAGS);
    let conn = db(&p);
    conn.execute_batch(FLYWAY).unwrap();
    conn.execute_batch(USERS).unwrap();
    conn.execute_batch(POSTS).unwrap();
    // CRC-32 of POSTS without its line break (zlib.crc32), as Java's int.
    let posts_crc = schemagate::checksum::flyway(schemagate::name::Kind::Sql, POSTS.as_bytes())[0];
    conn.execute_batch(&format!(
        r#"INSERT INTO "main"."flyway_schema_history" ("installed_rank", "version", "description", "type", "script", "checksum", "installed_by", "execution_time", "success")
           VALUES (1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'ci', 0, 1),
                  (2, '2', 'posts', 'SQL', 'V2__posts.sql', {posts_crc}, 'ci', 4, 1);"#
    ))
    .unwrap();
    let (code, v, err) = json(&p, &["status"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        states(&v),
        pairs(&[("1", "unverified"), ("2", "applied"), ("3", "pending")])
    );
    let (code, v, err) = json(&p, &["dry-run"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(dry_run_steps(&v), pairs(&[("3", "ok")]));
}

#[test]
fn refinery_checksums_are_recomputed_from_name_version_and_sql() {
    let p = project("flyway");
    p.file("V1__initial.sql", USERS);
    p.file("V2__posts.sql", POSTS);
    let conn = db(&p);
    conn.execute_batch(REFINERY).unwrap();
    conn.execute_batch(USERS).unwrap();
    // What refinery computes for V1__initial.sql: SipHasher13::new() over the name, the
    // i32 version and the SQL, with Rust's Hash (std's DefaultHasher is that hasher).
    let checksum = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        "initial".hash(&mut h);
        1i32.hash(&mut h);
        USERS.hash(&mut h);
        h.finish()
    };
    conn.execute_batch(&format!(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (1, 'initial', '2024-05-01T10:00:00Z', '{checksum}')"
    ))
    .unwrap();
    let (code, v, err) = json(&p, &["status"]);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(states(&v), pairs(&[("1", "applied"), ("2", "pending")]));
}

/// Issue 12, item 14: rows written by hand. Before, `' 2'` counted as 002 silently, `2.0`,
/// `abc`, `-1` and `''` were ignored, and the second row of 001 was a "missing file".
#[test]
fn odd_history_rows_are_findings_naming_the_row() {
    let p = Project::new();
    p.file("001_users.sql", USERS);
    p.file("002_posts.sql", POSTS);
    p.file("003_tags.sql", TAGS);
    std::fs::create_dir_all(p.path().join("data")).unwrap();
    let conn = db(&p);
    conn.execute_batch(LEGACY_HISTORY).unwrap();
    conn.execute_batch(USERS).unwrap();
    conn.execute_batch(POSTS).unwrap();
    for version in ["001", " 2", "2.0", "abc", "-1", "", "1"] {
        conn.execute(
            "INSERT INTO schema_versions (version, description, checksum) VALUES (?1, 'by hand', 'manual')",
            [version],
        )
        .unwrap();
    }
    drop(conn);
    let before = snapshot(&p);

    let (code, v, err) = json(&p, &["lint"]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    assert!(findings(&v, "missing-file").is_empty(), "{v:#}");
    let rows: Vec<(String, String)> = findings(&v, "invalid-history-row")
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = [
        (
            "warning",
            "schema_versions row 2 (version ' 2') has whitespace around the number; it is read as version 2",
        ),
        (
            "error",
            "schema_versions row 3 (version '2.0') looks like a number but is not a version",
        ),
        (
            "warning",
            "schema_versions row 4 (version 'abc') is not a version number",
        ),
        (
            "error",
            "schema_versions row 5 (version '-1') looks like a number",
        ),
        (
            "warning",
            "schema_versions row 6 (version '') has no version",
        ),
        (
            "error",
            "schema_versions row 7 (version '1') records the same version as row 1 (version '001')",
        ),
    ];
    assert_eq!(rows.len(), expect.len(), "{rows:#?}");
    for ((severity, message), (want_severity, want)) in rows.iter().zip(expect) {
        assert_eq!(severity, want_severity, "{message}");
        assert!(message.contains(want), "{message}\nwanted: {want}");
    }
    // ' 2' records 002 (decided: a padded number matches its version); 003 is pending.
    assert_eq!(
        states(&v),
        pairs(&[
            ("001", "unverified"),
            ("002", "unverified"),
            ("003", "pending")
        ])
    );

    // The history is ambiguous: migrate refuses and leaves the database as it was (its
    // lock file stays, as after every run).
    let (code, out, err) = run(&p, &["migrate", "--no-backup"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("refusing to apply"), "{out}{err}");
    assert_eq!(snapshot(&p)["app.db"], before["app.db"]);
}

#[test]
fn a_padded_row_alone_is_a_warning_and_migrate_goes_on() {
    let p = Project::new();
    p.file("001_users.sql", USERS);
    p.file("002_posts.sql", POSTS);
    std::fs::create_dir_all(p.path().join("data")).unwrap();
    let conn = db(&p);
    conn.execute_batch(LEGACY_HISTORY).unwrap();
    conn.execute_batch(USERS).unwrap();
    conn.execute(
        "INSERT INTO schema_versions (version, description, checksum) VALUES (' 1', 'by hand', 'manual')",
        [],
    )
    .unwrap();
    drop(conn);
    let (code, out, err) = run(&p, &["migrate", "--no-backup"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied 1 migration (002)"), "{out}");
    assert!(out.contains("' 1'"), "the warning names the row: {out}");
}

/// A database path that is the same for every command is read, not created (the layout's
/// table and schema_versions are both absent: a new environment).
#[test]
fn a_new_database_of_another_layout_is_everything_pending() {
    let p = project("goose");
    p.file("00001_users.sql", format!("-- +goose Up\n{USERS}"));
    let (code, out, err) = run(&p, &["pending"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("00001"), "{out}");
    assert!(!Path::new(&p.db()).exists());
}
