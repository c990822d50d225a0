//! Folder layouts (pure): which tool's conventions a migrations folder follows.
//!
//! schemagate started with the legacy layout (`NNN_name.sql|.py`, history in
//! `schema_versions`). Folders written for other tools name their files, split their Up
//! and Down SQL and record their history their own way; the layout says which, so that
//! discovery reads the files as that tool does (a Down section is never run forward) and
//! the history is read from that tool's own table.

pub mod detect;
pub mod names;
pub mod sections;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use detect::{Conflict, Detected, Seen, detect};

/// A migration tool's folder conventions.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `NNN_name.sql|.py`, history in `schema_versions` (the Python manager schemagate
    /// replaces; the only layout `migrate` applies).
    Legacy,
    /// sqlx: `<version>_name.sql`, or `.up.sql`/`.down.sql` pairs; `_sqlx_migrations`.
    Sqlx,
    /// dbmate: `-- migrate:up` / `-- migrate:down` sections; `schema_migrations`.
    Dbmate,
    /// goose: `-- +goose Up` / `-- +goose Down` sections; `goose_db_version`.
    Goose,
    /// golang-migrate: `N_name.up.sql` / `N_name.down.sql`; `schema_migrations` with `dirty`.
    GolangMigrate,
    /// Flyway and refinery: `V<n>__name.sql` (`U` undo, `R` repeatable);
    /// `flyway_schema_history` / `refinery_schema_history`.
    Flyway,
    /// diesel: one folder per migration with `up.sql` and `down.sql`;
    /// `__diesel_schema_migrations`.
    Diesel,
}

impl Layout {
    pub const ALL: [Layout; 7] = [
        Layout::Legacy,
        Layout::Sqlx,
        Layout::Dbmate,
        Layout::Goose,
        Layout::GolangMigrate,
        Layout::Flyway,
        Layout::Diesel,
    ];

    /// The name used in `schemagate.toml` and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Legacy => "legacy",
            Layout::Sqlx => "sqlx",
            Layout::Dbmate => "dbmate",
            Layout::Goose => "goose",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Flyway => "flyway",
            Layout::Diesel => "diesel",
        }
    }

    pub fn parse(s: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The layout's own tool, as people call it in prose.
    pub fn tool(self) -> &'static str {
        match self {
            Layout::Legacy => "the legacy Python manager",
            Layout::Sqlx => "sqlx",
            Layout::Dbmate => "dbmate",
            Layout::Goose => "goose",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Flyway => "Flyway/refinery",
            Layout::Diesel => "diesel",
        }
    }

    /// Whether the tool orders versions as text (file names, a text history column), so
    /// that `9` comes after `10` when the widths differ: legacy, dbmate and diesel. The
    /// others compare integers (sqlx, goose, golang-migrate) or version parts (Flyway).
    pub fn orders_versions_as_text(self) -> bool {
        matches!(self, Layout::Legacy | Layout::Dbmate | Layout::Diesel)
    }
}

impl Default for Layout {
    /// Until a folder says otherwise, the layout schemagate was written for.
    fn default() -> Layout {
        Layout::Legacy
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[migrations] layout`: detected from the folder (`auto`, the default) or fixed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LayoutSetting {
    #[default]
    Auto,
    Fixed(Layout),
}

impl LayoutSetting {
    pub fn parse(s: &str) -> Option<LayoutSetting> {
        match s {
            "auto" => Some(LayoutSetting::Auto),
            other => Layout::parse(other).map(LayoutSetting::Fixed),
        }
    }
}

impl Serialize for LayoutSetting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LayoutSetting::Auto => s.serialize_str("auto"),
            LayoutSetting::Fixed(l) => s.serialize_str(l.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for LayoutSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LayoutSetting::parse(&s).ok_or_else(|| {
            let names: Vec<&str> = std::iter::once("auto")
                .chain(Layout::ALL.iter().map(|l| l.as_str()))
                .collect();
            serde::de::Error::custom(format!(
                "unknown layout `{s}`; expected one of: {}",
                names.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for l in Layout::ALL {
            assert_eq!(Layout::parse(l.as_str()), Some(l));
        }
        assert_eq!(LayoutSetting::parse("auto"), Some(LayoutSetting::Auto));
        assert_eq!(
            LayoutSetting::parse("golang-migrate"),
            Some(LayoutSetting::Fixed(Layout::GolangMigrate))
        );
        assert_eq!(LayoutSetting::parse("liquibase"), None);
    }
}
