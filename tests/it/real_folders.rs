//! Clean folders written the way real tools write them, checked end to end: every rule on
//! every file, and the replay of the whole chain on an empty database. A rule that calls
//! an error on one of these is wrong about real code.
//!
//! Each folder holds the same schema evolution (95 migrations over 19 tables: create with
//! a foreign key and an index, add a column, add an index, rebuild the table to tighten a
//! column, rename or drop a column), rendered as:
//! - drizzle-kit (`0000_adjective_noun.sql`, backticks, `--> statement-breakpoint`,
//!   `__new_x` rebuilds between `PRAGMA foreign_keys=OFF/ON`, `meta/_journal.json`);
//! - atlas (`migrate diff` output: `-- Create "x" table` comments, one-line DDL,
//!   `new_x` rebuilds, `atlas.sum`);
//! - sqlx (`<timestamp>_name.sql` from `sqlx migrate add`, hand-written SQL);
//! - legacy (`NNN_name.sql` with `IF NOT EXISTS` guards and `.py` migrations that check
//!   `PRAGMA table_info` first and can be run by hand under `if __name__ == "__main__":`).
//!
//! Findings of `invalid-filename`, `version-width` and `unversioned-file` are about naming
//! per layout (not these rules' business here) and are left out of the assertion.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::common::{Project, findings, run_json, schemagate};

/// Rules that judge file names, which depend on the layout.
const NAMING_RULES: &[&str] = &["invalid-filename", "version-width", "unversioned-file"];

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Drizzle,
    Atlas,
    Sqlx,
    Legacy,
}

#[derive(Clone, Debug)]
struct Col {
    name: String,
    ty: &'static str,
    not_null: bool,
    default: Option<&'static str>,
    key: bool,
}

fn col(name: &str, ty: &'static str, not_null: bool, default: Option<&'static str>) -> Col {
    Col {
        name: name.into(),
        ty,
        not_null,
        default,
        key: false,
    }
}

#[derive(Clone, Debug)]
struct Table {
    name: String,
    cols: Vec<Col>,
    /// `(column, parent table)`.
    fk: Option<(String, String)>,
    /// `(name, column, unique)`.
    indexes: Vec<(String, String, bool)>,
}

#[derive(Clone, Debug)]
enum Op {
    Create(Table),
    AddColumn(String, Col),
    Index(String, String, String, bool),
    /// The table after the rebuild, and the columns copied over.
    Rebuild(Table, Vec<String>),
    RenameColumn(String, String, String),
    DropColumn(String, String),
}

const ENTITIES: &[&str] = &[
    "teams",
    "users",
    "projects",
    "milestones",
    "tasks",
    "comments",
    "labels",
    "attachments",
    "reactions",
    "webhooks",
    "deliveries",
    "invoices",
    "line_items",
    "payments",
    "refunds",
    "audit_events",
    "sessions",
    "api_keys",
    "notifications",
];

/// The schema evolution: five migrations per table, each a list of operations.
fn evolution() -> Vec<(String, Vec<Op>)> {
    let mut steps = Vec::new();
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (i, name) in ENTITIES.iter().enumerate() {
        let name = name.to_string();
        let parent = i.checked_sub(1).map(|p| ENTITIES[p].to_string());
        let mut cols = vec![
            Col {
                key: true,
                ..col("id", "integer", true, None)
            },
            col("name", "text", true, None),
            col("created_at", "integer", true, Some("(unixepoch())")),
        ];
        let fk = parent.as_ref().map(|p| {
            let c = format!("{}_id", p.trim_end_matches('s'));
            cols.push(col(&c, "integer", true, None));
            (c, p.clone())
        });
        let mut table = Table {
            name: name.clone(),
            cols,
            fk,
            indexes: Vec::new(),
        };
        let mut create = vec![];
        if let Some((c, _)) = &table.fk {
            table
                .indexes
                .push((format!("{name}_{c}_idx"), c.clone(), false));
        }
        create.push(Op::Create(table.clone()));
        steps.push((format!("create_{name}"), create));

        let description = col("description", "text", false, None);
        table.cols.push(description.clone());
        steps.push((
            format!("add_{name}_description"),
            vec![Op::AddColumn(name.clone(), description)],
        ));

        let index = (format!("{name}_name_unique"), "name".to_string(), true);
        table.indexes.push(index.clone());
        steps.push((
            format!("index_{name}_name"),
            vec![Op::Index(name.clone(), index.0, index.1, index.2)],
        ));

        // Tighten `description` to NOT NULL DEFAULT '': SQLite needs a rebuild.
        let copied: Vec<String> = table.cols.iter().map(|c| c.name.clone()).collect();
        for c in &mut table.cols {
            if c.name == "description" {
                c.not_null = true;
                c.default = Some("''");
            }
        }
        steps.push((
            format!("require_{name}_description"),
            vec![Op::Rebuild(table.clone(), copied)],
        ));

        if i % 4 == 3 {
            table.cols.retain(|c| c.name != "description");
            steps.push((
                format!("drop_{name}_description"),
                vec![Op::DropColumn(name.clone(), "description".into())],
            ));
        } else {
            for c in &mut table.cols {
                if c.name == "name" {
                    c.name = "title".into();
                }
            }
            for ix in &mut table.indexes {
                if ix.1 == "name" {
                    ix.1 = "title".into();
                }
            }
            steps.push((
                format!("rename_{name}_name"),
                vec![Op::RenameColumn(
                    name.clone(),
                    "name".into(),
                    "title".into(),
                )],
            ));
        }
        tables.insert(name, table);
    }
    steps
}

fn q(tool: Tool, name: &str) -> String {
    match tool {
        Tool::Drizzle | Tool::Atlas => format!("`{name}`"),
        Tool::Sqlx | Tool::Legacy => name.to_string(),
    }
}

fn column_sql(tool: Tool, c: &Col) -> String {
    let name = q(tool, &c.name);
    match tool {
        Tool::Drizzle => {
            let mut s = format!("{name} {}", c.ty);
            if c.key {
                s.push_str(" PRIMARY KEY AUTOINCREMENT");
            }
            if let Some(d) = c.default {
                write!(s, " DEFAULT {d}").unwrap();
            }
            if c.not_null {
                s.push_str(" NOT NULL");
            }
            s
        }
        Tool::Atlas => {
            let ty = if c.name == "created_at" {
                "datetime"
            } else {
                c.ty
            };
            let mut s = format!(
                "{name} {ty} {}",
                if c.not_null { "NOT NULL" } else { "NULL" }
            );
            if c.key {
                s.push_str(" PRIMARY KEY AUTOINCREMENT");
            }
            match (c.name.as_str(), c.default) {
                ("created_at", _) => s.push_str(" DEFAULT (CURRENT_TIMESTAMP)"),
                (_, Some(d)) => write!(s, " DEFAULT ({d})").unwrap(),
                _ => {}
            }
            s
        }
        Tool::Sqlx | Tool::Legacy => {
            let ty = c.ty.to_ascii_uppercase();
            let mut s = format!("{name} {ty}");
            if c.key {
                s.push_str(" PRIMARY KEY");
            }
            if c.not_null {
                s.push_str(" NOT NULL");
            }
            match (c.name.as_str(), c.default) {
                ("created_at", _) => s.push_str(" DEFAULT (strftime('%s', 'now'))"),
                (_, Some(d)) => write!(s, " DEFAULT {d}").unwrap(),
                _ => {}
            }
            s
        }
    }
}

fn create_table_sql(tool: Tool, t: &Table, as_name: &str, guard: bool) -> String {
    let mut parts: Vec<String> = t.cols.iter().map(|c| column_sql(tool, c)).collect();
    if let Some((c, parent)) = &t.fk {
        parts.push(match tool {
            Tool::Drizzle => format!(
                "FOREIGN KEY ({}) REFERENCES {}(`id`) ON UPDATE no action ON DELETE cascade",
                q(tool, c),
                q(tool, parent)
            ),
            Tool::Atlas => format!(
                "CONSTRAINT `0` FOREIGN KEY ({}) REFERENCES {} (`id`) ON UPDATE NO ACTION ON DELETE CASCADE",
                q(tool, c),
                q(tool, parent)
            ),
            Tool::Sqlx | Tool::Legacy => {
                format!("FOREIGN KEY ({c}) REFERENCES {parent} (id) ON DELETE CASCADE")
            }
        });
    }
    let name = q(tool, as_name);
    let if_not = if guard { "IF NOT EXISTS " } else { "" };
    match tool {
        Tool::Drizzle => format!("CREATE TABLE {name} (\n\t{}\n);\n", parts.join(",\n\t")),
        Tool::Atlas => format!("CREATE TABLE {name} ({});\n", parts.join(", ")),
        Tool::Sqlx | Tool::Legacy => {
            format!(
                "CREATE TABLE {if_not}{name} (\n    {}\n);\n",
                parts.join(",\n    ")
            )
        }
    }
}

fn index_sql(tool: Tool, table: &str, ix: &(String, String, bool), guard: bool) -> String {
    let unique = if ix.2 { "UNIQUE " } else { "" };
    let if_not = if guard { "IF NOT EXISTS " } else { "" };
    match tool {
        Tool::Drizzle => format!(
            "CREATE {unique}INDEX {} ON {} ({});",
            q(tool, &ix.0),
            q(tool, table),
            q(tool, &ix.1)
        ),
        Tool::Atlas => format!(
            "-- Create index \"{}\" to table: \"{table}\"\nCREATE {unique}INDEX {} ON {} ({});\n",
            ix.0,
            q(tool, &ix.0),
            q(tool, table),
            q(tool, &ix.1)
        ),
        Tool::Sqlx | Tool::Legacy => format!(
            "CREATE {unique}INDEX {if_not}{} ON {table} ({});\n",
            ix.0, ix.1
        ),
    }
}

/// drizzle-kit joins statements with this line.
const BREAK: &str = "--> statement-breakpoint\n";

fn render(tool: Tool, ops: &[Op], step: usize) -> String {
    let guard = tool == Tool::Legacy;
    let mut pieces: Vec<String> = Vec::new();
    for op in ops {
        match op {
            Op::Create(t) => {
                if tool == Tool::Atlas {
                    pieces.push(format!(
                        "-- Create \"{}\" table\n{}",
                        t.name,
                        create_table_sql(tool, t, &t.name, guard)
                    ));
                } else {
                    pieces.push(create_table_sql(tool, t, &t.name, guard));
                }
                for ix in &t.indexes {
                    pieces.push(index_sql(tool, &t.name, ix, guard));
                }
            }
            Op::AddColumn(table, c) => pieces.push(match tool {
                Tool::Drizzle => format!("ALTER TABLE {} ADD {};", q(tool, table), column_sql(tool, c)),
                Tool::Atlas => format!(
                    "-- Add column \"{}\" to table: \"{table}\"\nALTER TABLE {} ADD COLUMN {};\n",
                    c.name,
                    q(tool, table),
                    column_sql(tool, c)
                ),
                Tool::Sqlx | Tool::Legacy => {
                    format!("ALTER TABLE {table} ADD COLUMN {};\n", column_sql(tool, c))
                }
            }),
            Op::Index(table, name, column, unique) => pieces.push(index_sql(
                tool,
                table,
                &(name.clone(), column.clone(), *unique),
                guard,
            )),
            Op::Rebuild(t, copied) => pieces.extend(rebuild(tool, t, copied, step)),
            Op::RenameColumn(table, from, to) => pieces.push(match tool {
                Tool::Atlas => format!(
                    "-- Rename a column from \"{from}\" to \"{to}\"\nALTER TABLE {} RENAME COLUMN {} TO {};\n",
                    q(tool, table),
                    q(tool, from),
                    q(tool, to)
                ),
                Tool::Drizzle => format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    q(tool, table),
                    q(tool, from),
                    q(tool, to)
                ),
                Tool::Sqlx | Tool::Legacy => {
                    format!("ALTER TABLE {table} RENAME COLUMN {from} TO {to};\n")
                }
            }),
            Op::DropColumn(table, column) => pieces.push(match tool {
                Tool::Drizzle => format!("ALTER TABLE {} DROP COLUMN {};", q(tool, table), q(tool, column)),
                Tool::Atlas => format!(
                    "-- Drop column \"{column}\" from table: \"{table}\"\nALTER TABLE {} DROP COLUMN {};\n",
                    q(tool, table),
                    q(tool, column)
                ),
                Tool::Sqlx => format!("ALTER TABLE {table} DROP COLUMN {column};\n"),
                Tool::Legacy => format!(
                    "-- schemagate:ignore destructive-change -- its data lives in audit_events since #{step}\nALTER TABLE {table} DROP COLUMN {column};\n"
                ),
            }),
        }
    }
    match tool {
        Tool::Drizzle => join_drizzle(&pieces),
        _ => pieces.concat(),
    }
}

/// drizzle-kit's output: a breakpoint after each statement, on the line of a one-line
/// statement and on its own line after a multi-line one.
fn join_drizzle(pieces: &[String]) -> String {
    let mut out = String::new();
    for (i, p) in pieces.iter().enumerate() {
        out.push_str(p);
        if i + 1 < pieces.len() {
            if !p.ends_with('\n') {
                out.push('\n');
            }
            // drizzle glues the marker to one-line statements: `...;--> statement-breakpoint`
            if p.lines().count() == 1 {
                out.pop();
            }
            out.push_str(BREAK);
        }
    }
    out
}

fn rebuild(tool: Tool, t: &Table, copied: &[String], step: usize) -> Vec<String> {
    let name = &t.name;
    let cols: Vec<String> = copied.iter().map(|c| q(tool, c)).collect();
    match tool {
        Tool::Drizzle => {
            let new = format!("__new_{name}");
            let dq: Vec<String> = copied.iter().map(|c| format!("\"{c}\"")).collect();
            let mut v = vec![
                "PRAGMA foreign_keys=OFF;".to_string(),
                create_table_sql(tool, t, &new, false),
                format!(
                    "INSERT INTO {}({}) SELECT {} FROM {};",
                    q(tool, &new),
                    dq.join(", "),
                    dq.join(", "),
                    q(tool, name)
                ),
                format!("DROP TABLE {};", q(tool, name)),
                format!("ALTER TABLE {} RENAME TO {};", q(tool, &new), q(tool, name)),
                "PRAGMA foreign_keys=ON;".to_string(),
            ];
            v.extend(t.indexes.iter().map(|ix| index_sql(tool, name, ix, false)));
            v
        }
        Tool::Atlas => {
            let new = format!("new_{name}");
            let mut s = format!(
                "-- Disable the enforcement of foreign-keys constraints\nPRAGMA foreign_keys = off;\n-- Create \"{new}\" table\n{}-- Copy rows from old table \"{name}\" to new temporary table \"{new}\"\nINSERT INTO {} ({}) SELECT {} FROM {};\n-- Drop \"{name}\" table after copying rows\nDROP TABLE {};\n-- Rename temporary table \"{new}\" to \"{name}\"\nALTER TABLE {} RENAME TO {};\n",
                create_table_sql(tool, t, &new, false),
                q(tool, &new),
                cols.join(", "),
                cols.join(", "),
                q(tool, name),
                q(tool, name),
                q(tool, &new),
                q(tool, name),
            );
            for ix in &t.indexes {
                s.push_str(&index_sql(tool, name, ix, false));
            }
            s.push_str(
                "-- Enable back the enforcement of foreign-keys constraints\nPRAGMA foreign_keys = on;\n",
            );
            vec![s]
        }
        Tool::Sqlx | Tool::Legacy => {
            let select: Vec<String> = copied
                .iter()
                .map(|c| {
                    if c == "description" {
                        "coalesce(description, '')".to_string()
                    } else {
                        c.clone()
                    }
                })
                .collect();
            // A leaf table (no child points at it) may use the rename-first order; the
            // others must create the new table first, or their children's foreign keys
            // would follow the renamed table.
            let leaf = t.name == *ENTITIES.last().unwrap();
            let mut s = String::new();
            if tool == Tool::Legacy {
                s.push_str("PRAGMA foreign_keys = OFF;\n\n");
            }
            if leaf && tool == Tool::Legacy {
                let old = format!("{name}_old");
                write!(
                    s,
                    "ALTER TABLE {name} RENAME TO {old};\n\n{}\nINSERT INTO {name} ({}) SELECT {} FROM {old};\n\nDROP TABLE {old};\n",
                    create_table_sql(tool, t, name, false),
                    cols.join(", "),
                    select.join(", ")
                )
                .unwrap();
            } else {
                let new = format!("{name}_new");
                write!(
                    s,
                    "-- Rebuild {name} (step {step}): SQLite cannot add NOT NULL to a column.\n{}\nINSERT INTO {new} ({}) SELECT {} FROM {name};\n\nDROP TABLE {name};\n\nALTER TABLE {new} RENAME TO {name};\n\n",
                    create_table_sql(tool, t, &new, false),
                    cols.join(", "),
                    select.join(", ")
                )
                .unwrap();
            }
            for ix in &t.indexes {
                s.push_str(&index_sql(tool, name, ix, tool == Tool::Legacy));
            }
            vec![s]
        }
    }
}

const ADJECTIVES: &[&str] = &[
    "happy",
    "nifty",
    "broken",
    "rare",
    "quick",
    "loose",
    "strong",
    "chubby",
    "narrow",
    "red",
    "confused",
    "perpetual",
    "lush",
    "wide",
];
const NOUNS: &[&str] = &[
    "william_stryker",
    "professor_monster",
    "cyclops",
    "the_call",
    "hiroim",
    "lord_hawal",
    "changeling",
    "ozymandias",
    "zemo",
    "lily_hollister",
    "saracen",
    "hellion",
    "calypso",
];

/// `<timestamp>` of step `i`, increasing.
fn timestamp(i: usize) -> String {
    format!(
        "2024{:02}{:02}{:02}{:02}{:02}",
        1 + i / 28,
        1 + i % 28,
        9 + i % 8,
        (i * 7) % 60,
        (i * 13) % 60
    )
}

/// atlas.sum's `h1:` values: base64 of a SHA-256 (atlas hashes names and contents).
fn h1(text: &str) -> String {
    let hex = schemagate::checksum::sha256_hex(text.as_bytes());
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("h1:");
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const PY_ADD_COLUMN: &str = r#"DESCRIPTION = "Add {column} to {table}"

import os
import sqlite3


def upgrade(conn):
    columns = {row[1] for row in conn.execute("PRAGMA table_info({table})")}
    if "{column}" not in columns:
        conn.execute("ALTER TABLE {table} ADD COLUMN {column} TEXT")


if __name__ == "__main__":
    # Run by hand: python {file} (with DB_PATH set).
    connection = sqlite3.connect(os.environ.get("DB_PATH", "app.db"))
    connection.execute("PRAGMA journal_mode = WAL")
    upgrade(connection)
    connection.commit()
"#;

/// Writes the evolution into `p`'s migrations folder as `tool` writes migrations; the
/// number of migrations.
fn write_folder(p: &Project, tool: Tool) -> usize {
    let steps = evolution();
    let mut journal = Vec::new();
    let mut sum = Vec::new();
    for (i, (name, ops)) in steps.iter().enumerate() {
        let (file, text) = match tool {
            Tool::Drizzle => {
                let tag = format!(
                    "{i:04}_{}_{}",
                    ADJECTIVES[i % ADJECTIVES.len()],
                    NOUNS[(i * 5) % NOUNS.len()]
                );
                journal.push(format!(
                    "    {{\n      \"idx\": {i},\n      \"version\": \"6\",\n      \"when\": {},\n      \"tag\": \"{tag}\",\n      \"breakpoints\": true\n    }}",
                    1_704_067_200_000u64 + i as u64 * 86_400_000
                ));
                (format!("{tag}.sql"), render(tool, ops, i))
            }
            Tool::Atlas => (format!("{}_{name}.sql", timestamp(i)), render(tool, ops, i)),
            Tool::Sqlx => (
                format!("{}_{name}.sql", timestamp(i)),
                format!("-- Add migration script here\n{}", render(tool, ops, i)),
            ),
            Tool::Legacy => match &ops[..] {
                [Op::AddColumn(table, c)] if i % 10 == 1 => {
                    let file = format!("{:03}_{name}.py", i + 1);
                    let text = PY_ADD_COLUMN
                        .replace("{table}", table)
                        .replace("{column}", &c.name)
                        .replace("{file}", &file);
                    (file, text)
                }
                _ => (
                    format!("{:03}_{name}.sql", i + 1),
                    format!("-- {}\n{}", name.replace('_', " "), render(tool, ops, i)),
                ),
            },
        };
        if tool == Tool::Atlas {
            sum.push(format!("{file} {}", h1(&text)));
        }
        p.file(&file, text);
    }
    match tool {
        Tool::Drizzle => {
            let meta = p.migrations().join("meta");
            std::fs::create_dir(&meta).unwrap();
            std::fs::write(
                meta.join("_journal.json"),
                format!(
                    "{{\n  \"version\": \"7\",\n  \"dialect\": \"sqlite\",\n  \"entries\": [\n{}\n  ]\n}}",
                    journal.join(",\n")
                ),
            )
            .unwrap();
        }
        Tool::Atlas => {
            let body = sum.join("\n");
            p.file("atlas.sum", format!("{}\n{body}\n", h1(&body)));
        }
        _ => {}
    }
    steps.len()
}

/// `check` (every rule, and the replay of the chain on an empty database) on the folder:
/// the exit code and the findings that are errors, naming rules left out.
fn errors_of(tool: Tool) -> (usize, i32, Vec<String>, serde_json::Value) {
    let p = Project::new();
    let n = write_folder(&p, tool);
    let (code, v, err) = run_json(
        schemagate(p.path())
            .args(["check", "--format", "json"])
            .env("GIT_CEILING_DIRECTORIES", p.path().parent().unwrap()),
    );
    assert!(
        v["dry_run"]["steps"]
            .as_array()
            .is_some_and(|s| s.len() == n && s.iter().all(|s| s["status"] == "ok")),
        "{err}\n{:#}",
        v["dry_run"]
    );
    let errors = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error" && !NAMING_RULES.iter().any(|r| f["rule"] == *r))
        .map(|f| format!("{} {}:{} {}", f["rule"], f["path"], f["line"], f["message"]))
        .collect();
    (n, code, errors, v)
}

fn assert_clean(tool: Tool) -> serde_json::Value {
    let (n, code, errors, v) = errors_of(tool);
    assert!(n >= 90, "{n} migrations");
    assert!(errors.is_empty(), "{errors:#?}");
    let naming = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "error" && NAMING_RULES.iter().any(|r| f["rule"] == *r));
    if !naming {
        assert_eq!(code, 0, "{v:#}");
    }
    v
}

fn count(v: &serde_json::Value, rule: &str, severity: &str) -> usize {
    findings(v, rule)
        .iter()
        .filter(|f| f["severity"] == severity)
        .count()
}

#[test]
fn a_drizzle_folder_has_no_errors() {
    let v = assert_clean(Tool::Drizzle);
    // Each rebuild's `PRAGMA foreign_keys=OFF` is info: schemagate already turned them off.
    assert_eq!(count(&v, "needs-no-transaction", "info"), ENTITIES.len());
    // The rebuilds' DROP TABLE is not destructive; the dropped columns are.
    let destructive = count(&v, "destructive-change", "warning");
    assert_eq!(destructive, ENTITIES.len() / 4, "{v:#}");
}

#[test]
fn an_atlas_folder_has_no_errors() {
    let v = assert_clean(Tool::Atlas);
    assert_eq!(count(&v, "needs-no-transaction", "info"), ENTITIES.len());
    assert_eq!(
        count(&v, "destructive-change", "warning"),
        ENTITIES.len() / 4
    );
}

#[test]
fn a_sqlx_folder_has_no_errors() {
    assert_clean(Tool::Sqlx);
}

#[test]
fn a_legacy_folder_with_python_migrations_has_no_errors() {
    let v = assert_clean(Tool::Legacy);
    let of = |rule: &str| -> Vec<String> {
        findings(&v, rule)
            .into_iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    // The dropped columns are marked with a reason.
    assert_eq!(of("destructive-change"), Vec::<String>::new());
    // ADD COLUMN in .sql files is reported once, by the static rule (with the dry run's
    // error folded in); the Python ones check PRAGMA table_info and are clean.
    let sql_add_columns: Vec<String> = evolution()
        .iter()
        .enumerate()
        .filter(|(i, (_, ops))| matches!(&ops[..], [Op::AddColumn(..)]) && i % 10 != 1)
        .map(|(i, (name, _))| format!("migrations/{:03}_{name}.sql", i + 1))
        .collect();
    assert_eq!(of("add-column-not-idempotent"), sql_add_columns);
    // What no static rule sees (a RENAME COLUMN or DROP COLUMN run twice) comes from the
    // dry run, once per file.
    let not_idempotent = of("not-idempotent");
    assert_eq!(not_idempotent.len(), ENTITIES.len(), "{not_idempotent:#?}");
    assert!(
        not_idempotent
            .iter()
            .all(|p| p.contains("_rename_") || p.contains("_drop_")),
        "{not_idempotent:#?}"
    );
}
