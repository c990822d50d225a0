//! A normalised snapshot of a database's schema: what the dry run diffs before and after
//! each step, and what `verify` compares between the real database and a replay.
//!
//! Tables are described by their columns (`PRAGMA table_xinfo`: name, declared type, NOT
//! NULL, default, primary key), foreign keys and UNIQUE constraints rather than by their
//! `CREATE TABLE` text, because that text depends on how the table got its columns (one
//! CREATE, or a CREATE plus ALTERs) while the schema the application sees does not.
//! Indexes, triggers and views are described by their SQL with comments, whitespace and
//! keyword case normalised (`crate::sql::skeleton`).
//!
//! Pure: [`crate::introspect`] reads a live database into this model.
//!
//! The bookkeeping tables (`schema_versions` and schemagate's own `schemagate_*` tables)
//! and SQLite's internal `sqlite_*` objects are left out: they are not the application's
//! schema.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use similar::TextDiff;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Table,
    View,
    Index,
    Trigger,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::View => "view",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectKind> {
        match s {
            "table" => Some(ObjectKind::Table),
            "view" => Some(ObjectKind::View),
            "index" => Some(ObjectKind::Index),
            "trigger" => Some(ObjectKind::Trigger),
            _ => None,
        }
    }
}

/// One schema object and the lines that describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub kind: ObjectKind,
    pub name: String,
    /// The table an index or trigger belongs to (the object itself for tables and views).
    pub table: String,
    /// Normalised description, one fact per line (`column email TEXT NOT NULL`).
    pub lines: Vec<String>,
}

impl Object {
    /// `table users`, `index idx_users_email on users`.
    pub fn label(&self) -> String {
        match self.kind {
            ObjectKind::Index | ObjectKind::Trigger if self.table != self.name => {
                format!("{} {} on {}", self.kind.as_str(), self.name, self.table)
            }
            _ => format!("{} {}", self.kind.as_str(), self.name),
        }
    }
}

/// Objects keyed by kind and case-folded name (SQLite names are case-insensitive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub objects: BTreeMap<(ObjectKind, String), Object>,
}

/// Tables that record migrations rather than hold the application's data: schemagate's,
/// SQLite's, and the history tables of the tools whose folders schemagate reads (a replay
/// does not create them, so `verify` must not call them drift).
pub fn is_bookkeeping(name: &str) -> bool {
    const TOOL_TABLES: [&str; 6] = [
        "_sqlx_migrations",
        "schema_migrations",
        "goose_db_version",
        "flyway_schema_history",
        "refinery_schema_history",
        "__diesel_schema_migrations",
    ];
    let lower = name.to_ascii_lowercase();
    lower == "schema_versions"
        || lower.starts_with("schemagate_")
        || lower.starts_with("sqlite_")
        || TOOL_TABLES.contains(&lower.as_str())
}

impl Schema {
    /// The text form: one block per object, sorted, for diffs and for people.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for o in self.objects.values() {
            let _ = writeln!(out, "{}", o.label());
            for l in &o.lines {
                let _ = writeln!(out, "  {l}");
            }
        }
        out
    }

    pub fn get(&self, kind: ObjectKind, name: &str) -> Option<&Object> {
        self.objects.get(&(kind, name.to_lowercase()))
    }
}

/// Unified diff of two schema texts (empty when they are equal).
pub fn diff(before: &Schema, after: &Schema) -> String {
    let (a, b) = (before.text(), after.text());
    if a == b {
        return String::new();
    }
    TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(2)
        .header("schema before", "schema after")
        .to_string()
}

/// Objects whose description differs between two snapshots (added, removed or changed).
pub fn changed_objects(before: &Schema, after: &Schema) -> Vec<(ObjectKind, String)> {
    let mut keys: Vec<&(ObjectKind, String)> =
        before.objects.keys().chain(after.objects.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.objects.get(*k) != after.objects.get(*k))
        .cloned()
        .collect()
}

/// How the real schema differs from the expected one for one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    /// Expected (the replay has it) but absent from the real database.
    Missing(Object),
    /// In the real database but not produced by any recorded migration.
    Unexpected(Object),
    /// Present in both, described differently: lines only the replay has, lines only the
    /// real database has.
    Changed {
        expected: Object,
        missing: Vec<String>,
        unexpected: Vec<String>,
    },
}

impl Drift {
    pub fn object(&self) -> &Object {
        match self {
            Drift::Missing(o) | Drift::Unexpected(o) => o,
            Drift::Changed { expected, .. } => expected,
        }
    }
}

/// Every difference between `expected` (a replay) and `actual` (the real database).
pub fn compare(expected: &Schema, actual: &Schema) -> Vec<Drift> {
    let mut out = Vec::new();
    for (key, e) in &expected.objects {
        match actual.objects.get(key) {
            None => out.push(Drift::Missing(e.clone())),
            Some(a) if a.lines != e.lines => out.push(Drift::Changed {
                expected: e.clone(),
                missing: e
                    .lines
                    .iter()
                    .filter(|l| !a.lines.contains(l))
                    .cloned()
                    .collect(),
                unexpected: a
                    .lines
                    .iter()
                    .filter(|l| !e.lines.contains(l))
                    .cloned()
                    .collect(),
            }),
            Some(_) => {}
        }
    }
    for (key, a) in &actual.objects {
        if !expected.objects.contains_key(key) {
            out.push(Drift::Unexpected(a.clone()));
        }
    }
    out
}
