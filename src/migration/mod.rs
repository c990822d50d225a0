//! Migrations and discovery (pure: works on file names and bytes that the caller read).
//! What a file name says (version, kind) is [`crate::name`]'s.
//!
//! The legacy manager picked files with the glob `[0-9][0-9][0-9]_*.{py,sql}`. We accept the
//! same set plus versions of any digit count (`48_x.sql`, `1000_y.sql`), so that schemagate
//! sees every file the old manager ran and also the ones a team numbered past 999. Files
//! that look like migrations but that no version of the manager would run (`003-x.sql`,
//! `003_x.SQL`, `004_x.sql~`) are not migrations; the lint rule `unversioned-file` reports
//! them.

//! Migrations and discovery (pure: works on file names and bytes that the caller read).
//! What a file name says (version, kind) is [`crate::name`]'s; what it says in each tool's
//! layout, and which layout a folder follows, is [`crate::layout`]'s.
//!
//! The legacy manager picked files with the glob `[0-9][0-9][0-9]_*.{py,sql}`. We accept the
//! same set plus versions of any digit count (`48_x.sql`, `1000_y.sql`), so that schemagate
//! sees every file the old manager ran and also the ones a team numbered past 999. Files
//! that look like migrations but that no version of the manager would run (`003-x.sql`,
//! `004_x.sql~`) are not migrations; the lint rules `unversioned-file` and
//! `unsupported-migration` report them.
//!
//! A migration carries its Up SQL as a byte range of the file's text ([`Migration::up`]),
//! so errors keep the file's real line and column, and its Down SQL separately
//! ([`Migration::down`]): apply, dry run and lint only ever see the Up part.

mod discover;

use std::ops::Range;

pub use discover::{FolderEntry, FolderFiles, discover, discover_folder};

use crate::checksum::{self, Stored, Verdict};
pub use crate::layout::Layout;
pub use crate::name::{FileName, Kind, Version, parse_file_name};
use crate::sql::{self, Statement};

/// One migration file, read and decoded.
#[derive(Clone, Debug)]
pub struct Migration {
    pub version: Version,
    /// The version exactly as the layout's tool records it in its own history table (see
    /// [`crate::layout::names::Named::native_version`]): an integer's digits for sqlx,
    /// goose, golang-migrate and refinery, the digits as written for dbmate, diesel and
    /// legacy, the dotted version for Flyway.
    pub native_version: String,
    pub name: String,
    pub kind: Kind,
    /// Path inside the migrations folder (`001_x.sql`; diesel: `<version>_name/up.sql`).
    pub file_name: String,
    /// Path for display and reports: the migrations folder as the user gave it, joined with
    /// the file name, with `/` separators.
    pub path: String,
    /// The file's text exactly as read (BOM and line endings untouched).
    pub text: String,
    /// The Up SQL: the byte range of `text` that runs forward. The whole file, except in
    /// dbmate and goose files, where it is the Up section.
    pub up: Range<usize>,
    /// SQL that undoes the migration, where the layout has it.
    pub down: Option<DownSql>,
    /// SHA-256 of the normalised text: what new history rows store.
    pub checksum: String,
    /// MD5 the legacy manager would have stored for this file.
    pub legacy_checksum: String,
    pub description: String,
    /// Runs without a wrapping transaction: `-- schemagate:no-transaction` in a legacy
    /// file's leading comments, or the layout's own switch (sqlx `-- no-transaction`,
    /// dbmate `transaction:false`, goose `NO TRANSACTION`, diesel `run_in_transaction`).
    pub no_transaction: bool,
}

/// The SQL that undoes a migration: a Down section of the same file (dbmate, goose) or a
/// file of its own (sqlx and golang-migrate `.down.sql`, diesel `down.sql`, Flyway `U`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownSql {
    /// Path inside the migrations folder.
    pub file_name: String,
    /// Path for display (errors in the down SQL point here, with the file's line:column).
    pub path: String,
    /// The text of that file.
    pub text: String,
    /// The byte range of `text` that is the down SQL.
    pub span: Range<usize>,
    pub no_transaction: bool,
}

impl DownSql {
    pub fn sql(&self) -> &str {
        &self.text[self.span.clone()]
    }

    /// The down SQL's statements, with spans into [`DownSql::text`].
    pub fn statements(&self) -> Vec<Statement> {
        split_range(&self.text, &self.span)
    }
}

/// Statements of `text[range]`, with spans into `text`.
fn split_range(text: &str, range: &Range<usize>) -> Vec<Statement> {
    let base = range.start;
    let mut statements = sql::split(&text[range.clone()]);
    for s in &mut statements {
        let shift = |r: &mut Range<usize>| *r = r.start + base..r.end + base;
        shift(&mut s.span);
        for t in s.tokens.iter_mut().chain(s.leading_comments.iter_mut()) {
            shift(&mut t.span);
        }
    }
    statements
}

impl Migration {
    /// Builds a legacy migration from a recognised file name and the file's bytes.
    pub fn new(
        dir_display: &str,
        parsed: FileName,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Migration, FolderError> {
        let path = join_display(dir_display, file_name);
        let text = decode(&path, bytes)?;
        let description = match parsed.kind {
            Kind::Sql => sql_description(text),
            Kind::Python => python_description(text),
        }
        .unwrap_or_else(|| match parsed.kind {
            Kind::Sql => format!("SQL Migration {}", parsed.version),
            Kind::Python => format!("Python Migration {}", parsed.version),
        });
        if parsed.kind == Kind::Sql {
            check_complete(&path, text, &(0..text.len()))?;
        }
        Ok(Migration {
            checksum: checksum::sha256(parsed.kind, bytes),
            legacy_checksum: checksum::legacy(parsed.kind, bytes),
            no_transaction: parsed.kind == Kind::Sql && declares_no_transaction(text),
            description,
            path,
            file_name: file_name.to_string(),
            native_version: parsed.version.as_str().to_string(),
            version: parsed.version,
            name: parsed.name,
            kind: parsed.kind,
            up: 0..text.len(),
            down: None,
            text: text.to_string(),
        })
    }

    /// The Up SQL.
    pub fn up_sql(&self) -> &str {
        &self.text[self.up.clone()]
    }

    /// The Up SQL's statements, with spans into [`Migration::text`] (so positions are the
    /// file's).
    pub fn up_statements(&self) -> Vec<Statement> {
        split_range(&self.text, &self.up)
    }
}

/// Decodes a migration file; never lossily, because the bytes we would run would not be the
/// bytes the author wrote.
fn decode<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, FolderError> {
    std::str::from_utf8(bytes).map_err(|e| FolderError::NotUtf8 {
        path: path.to_string(),
        byte: e.valid_up_to(),
    })
}

/// SQL that SQLite would read only in part: a NUL byte ends the statement text SQLite sees
/// (everything after it is silently dropped), and an unterminated `/*` comment swallows the
/// rest of the file without an error. Both are refused before any command runs anything.
fn check_complete(path: &str, text: &str, range: &Range<usize>) -> Result<(), FolderError> {
    let part = &text[range.clone()];
    if let Some(i) = part.find('\0') {
        return Err(FolderError::Nul {
            path: path.to_string(),
            byte: range.start + i,
        });
    }
    if part.contains("/*") {
        for t in sql::tokens(part) {
            if t.kind == sql::TokenKind::Unterminated && t.text(part).starts_with("/*") {
                let (line, column) = sql::LineIndex::new(text).line_col(range.start + t.span.start);
                return Err(FolderError::UnterminatedComment {
                    path: path.to_string(),
                    line,
                    column,
                });
            }
        }
    }
    Ok(())
}

impl Migration {
    /// Compares the file with the checksum stored when it was applied, using the digests
    /// computed once at discovery (see [`checksum::verify`] for the rules).
    pub fn verify(&self, stored: &Stored) -> Verdict {
        match stored {
            Stored::Sha256(h) if *h == self.checksum => Verdict::Match,
            Stored::Md5(h) if *h == self.legacy_checksum => Verdict::Match,
            Stored::Unverified(_) => Verdict::Unverified,
            // Rare: a line-ending or BOM variant of a legacy row; the full rules decide.
            Stored::Md5(_) => checksum::verify(self.kind, self.text.as_bytes(), stored),
            Stored::Sha256(_) => Verdict::Mismatch,
            Stored::SipHash13(stored) => checksum::verify_refinery(
                checksum::refinery_name(&self.file_name).unwrap_or(&self.name),
                self.version.number().and_then(|n| i64::try_from(n).ok()),
                self.text.as_bytes(),
                *stored,
            ),
            Stored::Sha384(_) | Stored::Crc32(_) => {
                checksum::verify(self.kind, self.text.as_bytes(), stored)
            }
        }
    }
}

/// Why a folder cannot be used as it is: every command refuses it (exit 2) before any
/// change, because acting on a partial view of the folder is how migrations get skipped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FolderError {
    /// Not valid UTF-8: never decoded lossily, because the bytes we would run would not be
    /// the bytes the author wrote.
    #[error(
        "{path}: not valid UTF-8 (first invalid byte at offset {byte}); save the file as UTF-8"
    )]
    NotUtf8 { path: String, byte: usize },
    #[error(
        "{path}: a NUL byte at offset {byte}; SQLite would stop reading the SQL there and silently drop the rest. Remove it (was the file saved as UTF-16?)"
    )]
    Nul { path: String, byte: usize },
    #[error(
        "{path}:{line}:{column}: a `/*` comment that is never closed swallows the rest of the SQL, which SQLite would silently skip; close it with `*/`"
    )]
    UnterminatedComment {
        path: String,
        line: usize,
        column: usize,
    },
    /// A directory entry named like a migration that cannot be read as one.
    #[error("{path}: {what}")]
    Entry { path: String, what: String },
    /// The folder follows no single layout.
    #[error("{dir}: {message}")]
    Layout { dir: String, message: String },
}

impl FolderError {
    /// The file or folder the error is about.
    pub fn path(&self) -> &str {
        match self {
            FolderError::NotUtf8 { path, .. }
            | FolderError::Nul { path, .. }
            | FolderError::UnterminatedComment { path, .. }
            | FolderError::Entry { path, .. } => path,
            FolderError::Layout { dir, .. } => dir,
        }
    }
}

pub fn join_display(dir: &str, file_name: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        file_name.to_string()
    } else {
        format!("{dir}/{file_name}")
    }
}

/// The legacy manager used the first line as the description when it was a `--` comment.
fn sql_description(text: &str) -> Option<String> {
    let first = text.trim_start_matches('\u{feff}').lines().next()?;
    let rest = first.trim().strip_prefix("--")?.trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The module-level `DESCRIPTION = "..."` assignment the legacy manager read with
/// `getattr(module, "DESCRIPTION", ...)`. We read it without running Python: a top-level
/// assignment of one string literal (single, double or triple quotes). A computed value
/// would not be seen here; the Python runner reports the real value when it applies the file.
fn python_description(text: &str) -> Option<String> {
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("DESCRIPTION") else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim();
        let rest = rest.trim_start_matches(['r', 'u', 'R', 'U']);
        for quote in ["\"\"\"", "'''", "\"", "'"] {
            if let Some(body) = rest.strip_prefix(quote)
                && let Some(end) = body.find(quote)
            {
                return Some(body[..end].to_string());
            }
        }
    }
    None
}

/// `-- schemagate:no-transaction` among the comment lines at the top of the file.
pub fn declares_no_transaction(text: &str) -> bool {
    for line in text.trim_start_matches('\u{feff}').lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            return false;
        };
        if comment.trim() == "schemagate:no-transaction" {
            return true;
        }
    }
    false
}

/// The result of looking at a folder listing.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The tool whose conventions the folder follows.
    pub layout: Layout,
    /// Why: "set in schemagate.toml", or the marks detection found ("`-- migrate:up` markers
    /// (12 files)").
    pub evidence: String,
    /// Ordered by version, then file name (the order the legacy manager applied duplicates in).
    pub migrations: Vec<Migration>,
    /// Why the folder cannot be used as it is (undecodable files, odd entries, mixed
    /// layouts): every command refuses to go on.
    pub errors: Vec<FolderError>,
    /// `.sql` files, and `.py` files other than `__init__.py`, that are not migrations of the
    /// layout (names inside the folder).
    pub unversioned: Vec<String>,
    /// Numbered files that are migrations to some tool, but nothing schemagate can run.
    pub unsupported: Vec<Unsupported>,
    /// Files whose Up SQL the layout's tool would not find (a marker file without an Up
    /// section, a down file without its up file).
    pub missing_up: Vec<MissingUp>,
}

/// A numbered file that schemagate cannot run (`003_seed.go`, a Flyway repeatable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    pub path: String,
    pub file_name: String,
    /// The version its name gives, when it has one.
    pub version: Option<String>,
    /// What it is ("a Go migration (goose compiles ...)").
    pub reason: String,
}

/// A file without an Up part the tool would run, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingUp {
    pub path: String,
    /// 1-based line and column of the problem in the file (a misplaced marker), if any.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Discovery {
    pub fn by_version(&self, version: &Version) -> impl Iterator<Item = &Migration> {
        self.migrations
            .iter()
            .filter(move |m| &m.version == version)
    }

    /// Versions that more than one file claims, with those files in apply order.
    pub fn duplicates(&self) -> Vec<(&Version, Vec<&Migration>)> {
        self.migrations
            .chunk_by(|a, b| a.version == b.version)
            .filter(|files| files.len() > 1)
            .map(|files| (&files[0].version, files.iter().collect()))
            .collect()
    }

    /// The largest version in the folder.
    pub fn max_version(&self) -> Option<&Version> {
        self.migrations.iter().map(|m| &m.version).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(names: &[&str]) -> Discovery {
        discover(
            "migrations",
            names.iter().map(|n| (*n, b"SELECT 1;".as_slice())),
        )
    }

    #[test]
    fn discovers_what_the_legacy_glob_found_and_longer_versions() {
        let d = disc(&[
            "__init__.py",
            "manager.py",
            "RENUMBER_PLAN.md",
            "1000_y.sql",
            "999_x.sql",
            "004_fix_schema 2.sql",
            "002_add_testing.py",
            "001_init.sql",
            "003-bad.sql",
            "003_x.SQL",
            "004_x.sql~",
        ]);
        let names: Vec<_> = d.migrations.iter().map(|m| m.file_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "001_init.sql",
                "002_add_testing.py",
                "004_fix_schema 2.sql",
                "999_x.sql",
                "1000_y.sql"
            ]
        );
        assert_eq!(d.unversioned, ["003-bad.sql", "manager.py"]);
        assert_eq!(d.layout, Layout::Legacy);
        // Numbered, but never run: a backup copy, and an upper-case extension.
        assert_eq!(d.unsupported[0].file_name, "004_x.sql~");
        assert_eq!(d.errors.len(), 1);
        assert!(d.errors[0].to_string().contains("migrations/003_x.SQL"));
    }

    #[test]
    fn duplicates_group_numerically_equal_versions() {
        let d = disc(&["48_a.sql", "048_b.sql", "049_c.py", "050_d.sql"]);
        let dups = d.duplicates();
        assert_eq!(dups.len(), 1);
        let files: Vec<_> = dups[0].1.iter().map(|m| m.file_name.as_str()).collect();
        assert_eq!(files, ["048_b.sql", "48_a.sql"]);
    }

    #[test]
    fn descriptions_follow_the_legacy_rules() {
        let m = |name: &str, text: &str| {
            let p = parse_file_name(name).unwrap();
            Migration::new("m", p, name, text.as_bytes())
                .unwrap()
                .description
        };
        assert_eq!(
            m("001_a.sql", "-- Create users\nCREATE TABLE u(x);"),
            "Create users"
        );
        assert_eq!(m("001_a.sql", "CREATE TABLE u(x);"), "SQL Migration 001");
        assert_eq!(
            m("002_b.py", "DESCRIPTION = 'Add testing'\n"),
            "Add testing"
        );
        assert_eq!(m("002_b.py", "DESCRIPTION = \"\"\"Multi\"\"\"\n"), "Multi");
        assert_eq!(
            m("002_b.py", "def upgrade(conn): pass\n"),
            "Python Migration 002"
        );
    }

    #[test]
    fn non_utf8_is_an_error_naming_the_file() {
        let d = discover("migrations", [("003_x.sql", b"SELECT '\xe9';".as_slice())]);
        assert!(d.migrations.is_empty());
        assert_eq!(
            d.errors,
            [FolderError::NotUtf8 {
                path: "migrations/003_x.sql".into(),
                byte: 8
            }]
        );
        assert!(d.errors[0].to_string().contains("not valid UTF-8"));
    }

    #[test]
    fn no_transaction_header() {
        assert!(declares_no_transaction(
            "-- Vacuum\n-- schemagate:no-transaction\nVACUUM;"
        ));
        assert!(!declares_no_transaction(
            "VACUUM;\n-- schemagate:no-transaction"
        ));
    }
}
