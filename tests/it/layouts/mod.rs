//! Folders of other migration tools: one fixture folder per layout, written the way each
//! tool writes its files (several migrations, each with its Down part), built in the tests.
//!
//! Every fixture holds the same chain (users, posts with an index and a trigger, a view), so
//! the schema after its Up parts is the same whatever the layout, and the tests can compare
//! what schemagate did with what the Up parts alone do.

mod discovery;
mod down;
mod native;
mod odd_entries;
mod up_only;

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::common::Project;

/// One step of the chain: its Up and Down SQL, as the tools' files hold them.
#[derive(Clone, Copy)]
struct Step {
    name: &'static str,
    up: &'static str,
    down: &'static str,
}

const CHAIN: [Step; 3] = [
    Step {
        name: "create_users",
        up: "CREATE TABLE IF NOT EXISTS users (\n    id INTEGER PRIMARY KEY,\n    email TEXT NOT NULL UNIQUE\n);\n",
        down: "DROP TABLE IF EXISTS users;\n",
    },
    Step {
        name: "create_posts",
        up: "CREATE TABLE IF NOT EXISTS posts (\n    id INTEGER PRIMARY KEY,\n    user_id INTEGER NOT NULL REFERENCES users (id),\n    title TEXT NOT NULL,\n    updated_at TEXT\n);\nCREATE INDEX IF NOT EXISTS posts_user_id ON posts (user_id);\nCREATE TRIGGER IF NOT EXISTS posts_touch AFTER UPDATE OF title ON posts\nBEGIN\n    UPDATE posts SET updated_at = datetime('now') WHERE id = NEW.id;\nEND;\n",
        down: "DROP TRIGGER IF EXISTS posts_touch;\nDROP INDEX IF EXISTS posts_user_id;\nDROP TABLE IF EXISTS posts;\n",
    },
    Step {
        name: "add_post_counts",
        up: "CREATE VIEW IF NOT EXISTS post_counts AS\n    SELECT user_id, count(*) AS posts FROM posts GROUP BY user_id;\n",
        down: "DROP VIEW IF EXISTS post_counts;\n",
    },
];

/// A fourth step whose Down creates what its Up drops (the view as it was): were the Down
/// run forward after the Up, the old view would be back.
const REPLACE_VIEW: Step = Step {
    name: "replace_post_counts",
    up: "DROP VIEW IF EXISTS post_counts;\nCREATE VIEW IF NOT EXISTS post_counts AS\n    SELECT user_id, count(*) AS posts, max(id) AS last_post_id FROM posts GROUP BY user_id;\n",
    down: "DROP VIEW IF EXISTS post_counts;\nCREATE VIEW IF NOT EXISTS post_counts AS\n    SELECT user_id, count(*) AS posts FROM posts GROUP BY user_id;\n",
};

/// Timestamps as the tools' `new`/`create` commands write them.
const STAMPS: [&str; 4] = [
    "20240105093000",
    "20240112141500",
    "20240201080000",
    "20240215101500",
];

/// diesel's folder prefixes of the same moments.
const DIESEL_STAMPS: [&str; 4] = [
    "2024-01-05-093000",
    "2024-01-12-141500",
    "2024-02-01-080000",
    "2024-02-15-101500",
];

/// A folder of `layout`, written like the tool writes it.
struct Fixture {
    layout: &'static str,
    /// `schemagate.toml`, when the layout needs saying (golang-migrate and sqlx pairs look
    /// alike).
    config: Option<&'static str>,
    /// Files (paths inside the migrations folder) and their text.
    files: Vec<(String, String)>,
    /// The file holding each step's Up part (path inside the migrations folder).
    up_files: Vec<String>,
    /// The version each migration has in the tool's own history table.
    native_versions: Vec<String>,
}

fn fixture(layout: &'static str) -> Fixture {
    fixture_of(layout, &CHAIN)
}

/// A folder of `layout` holding `steps` (at most four).
fn fixture_of(layout: &'static str, steps: &[Step]) -> Fixture {
    let mut files = Vec::new();
    let mut up_files = Vec::new();
    let native_versions: Vec<String>;
    let mut config = None;
    let stamps = || {
        STAMPS[..steps.len()]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    match layout {
        "sqlx" => {
            for (i, s) in steps.iter().enumerate() {
                let stem = format!("{}_{}", STAMPS[i], s.name.replace('_', "-"));
                up_files.push(format!("{stem}.up.sql"));
                files.push((
                    format!("{stem}.up.sql"),
                    format!("-- Add up migration script here\n{}", s.up),
                ));
                files.push((
                    format!("{stem}.down.sql"),
                    format!("-- Add down migration script here\n{}", s.down),
                ));
            }
            native_versions = stamps();
        }
        "golang-migrate" => {
            for (i, s) in steps.iter().enumerate() {
                let stem = format!("{:06}_{}", i + 1, s.name);
                up_files.push(format!("{stem}.up.sql"));
                files.push((format!("{stem}.up.sql"), s.up.to_string()));
                files.push((format!("{stem}.down.sql"), s.down.to_string()));
            }
            config = Some("[migrations]\nlayout = \"golang-migrate\"\n");
            native_versions = (1..=steps.len()).map(|n| n.to_string()).collect();
        }
        "dbmate" => {
            for (i, s) in steps.iter().enumerate() {
                up_files.push(format!("{}_{}.sql", STAMPS[i], s.name));
                files.push((
                    format!("{}_{}.sql", STAMPS[i], s.name),
                    format!("-- migrate:up\n{}\n-- migrate:down\n{}", s.up, s.down),
                ));
            }
            native_versions = stamps();
        }
        "goose" => {
            for (i, s) in steps.iter().enumerate() {
                up_files.push(format!("{}_{}.sql", STAMPS[i], s.name));
                files.push((
                    format!("{}_{}.sql", STAMPS[i], s.name),
                    format!(
                        "-- +goose Up\n-- +goose StatementBegin\n{}-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\n{}-- +goose StatementEnd\n",
                        s.up, s.down
                    ),
                ));
            }
            native_versions = stamps();
        }
        "flyway" => {
            for (i, s) in steps.iter().enumerate() {
                let mut name = s.name.to_string();
                name[..1].make_ascii_uppercase();
                up_files.push(format!("V{}__{name}.sql", i + 1));
                files.push((format!("V{}__{name}.sql", i + 1), s.up.to_string()));
                files.push((format!("U{}__{name}.sql", i + 1), s.down.to_string()));
            }
            native_versions = (1..=steps.len()).map(|n| n.to_string()).collect();
        }
        "diesel" => {
            for (i, s) in steps.iter().enumerate() {
                let dir = format!("{}_{}", DIESEL_STAMPS[i], s.name);
                up_files.push(format!("{dir}/up.sql"));
                files.push((
                    format!("{dir}/up.sql"),
                    format!("-- Your SQL goes here\n{}", s.up),
                ));
                files.push((
                    format!("{dir}/down.sql"),
                    format!("-- This file should undo anything in `up.sql`\n{}", s.down),
                ));
            }
            native_versions = stamps();
        }
        other => panic!("no fixture for {other}"),
    }
    Fixture {
        layout,
        config,
        files,
        up_files,
        native_versions,
    }
}

/// Layouts with down SQL (Flyway's undo is Flyway's own).
const WITH_DOWN: [&str; 5] = ["sqlx", "golang-migrate", "dbmate", "goose", "diesel"];
const ALL: [&str; 6] = [
    "sqlx",
    "golang-migrate",
    "dbmate",
    "goose",
    "flyway",
    "diesel",
];

impl Fixture {
    /// A project holding this folder.
    fn project(&self) -> Project {
        let p = Project::new();
        self.write(&p.migrations());
        if let Some(c) = self.config {
            p.config(c);
        }
        p
    }

    fn write(&self, dir: &Path) {
        for (name, text) in &self.files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    /// The database as the tool leaves it after applying the whole chain: the Up parts, and
    /// the tool's history table with its rows, created as the tool creates it.
    fn applied_database(&self, p: &Project) {
        fs::create_dir_all(p.db().parent().unwrap()).unwrap();
        let conn = Connection::open(p.db()).unwrap();
        for s in &CHAIN {
            conn.execute_batch(s.up).unwrap();
        }
        let v = &self.native_versions;
        let sql = match self.layout {
            "sqlx" => format!(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);
                 INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES
                   ({}, 'create-users', TRUE, x'00', 1), ({}, 'create-posts', TRUE, x'00', 1), ({}, 'add-post-counts', TRUE, x'00', 1);",
                v[0], v[1], v[2]
            ),
            "golang-migrate" => "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
                 CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
                 INSERT INTO schema_migrations (version, dirty) VALUES (3, 0);"
                .to_string(),
            "dbmate" => format!(
                "CREATE TABLE IF NOT EXISTS \"schema_migrations\" (version varchar(128) primary key);
                 INSERT INTO schema_migrations (version) VALUES ('{}'), ('{}'), ('{}');",
                v[0], v[1], v[2]
            ),
            "goose" => format!(
                "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
                 INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), ({}, 1), ({}, 1), ({}, 1);",
                v[0], v[1], v[2]
            ),
            "diesel" => format!(
                "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
                 INSERT INTO __diesel_schema_migrations (version) VALUES ('{}'), ('{}'), ('{}');",
                v[0], v[1], v[2]
            ),
            other => panic!("no history table for {other}"),
        };
        conn.execute_batch(&sql).unwrap();
    }
}

/// The schema a database has after only the chain's Up parts: `(type, name, sql)`.
fn up_only_schema() -> Vec<(String, String, String)> {
    let conn = Connection::open_in_memory().unwrap();
    for s in &CHAIN {
        conn.execute_batch(s.up).unwrap();
    }
    schema(&conn)
}

/// Every object but the history tables of any tool (a replay database may carry one).
fn schema(conn: &Connection) -> Vec<(String, String, String)> {
    let mut s = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_schema
              WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL
                AND tbl_name NOT IN ('schema_versions', 'schemagate_history', 'schemagate_state',
                                     'schemagate_audit', '_sqlx_migrations', 'schema_migrations',
                                     'goose_db_version', '__diesel_schema_migrations',
                                     'flyway_schema_history', 'refinery_schema_history')
              ORDER BY type, name",
        )
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn schema_of(path: &Path) -> Vec<(String, String, String)> {
    schema(&Connection::open(path).unwrap())
}

/// The scratch database a command kept (`... kept at PATH` on stderr).
fn kept(out: &str) -> PathBuf {
    let line = out
        .lines()
        .find(|l| l.contains(" kept at "))
        .unwrap_or_else(|| panic!("no kept scratch database in:\n{out}"));
    PathBuf::from(line.rsplit(" kept at ").next().unwrap().trim())
}

/// The rule ids of a JSON report's findings.
fn rules(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}
