//! Migrations and discovery (pure: works on file names and bytes that the caller read).
//! What a file name says (version, kind) is [`crate::name`]'s.
//!
//! The legacy manager picked files with the glob `[0-9][0-9][0-9]_*.{py,sql}`. We accept the
//! same set plus versions of any digit count (`48_x.sql`, `1000_y.sql`), so that schemagate
//! sees every file the old manager ran and also the ones a team numbered past 999. Files
//! that look like migrations but that no version of the manager would run (`003-x.sql`,
//! `003_x.SQL`, `004_x.sql~`) are not migrations; the lint rule `unversioned-file` reports
//! them.

use crate::checksum::{self, Stored, Verdict};
pub use crate::name::{FileName, Kind, Version, parse_file_name};

/// One migration file, read and decoded.
#[derive(Clone, Debug)]
pub struct Migration {
    pub version: Version,
    pub name: String,
    pub kind: Kind,
    /// File name inside the migrations folder.
    pub file_name: String,
    /// Path for display and reports: the migrations folder as the user gave it, joined with
    /// the file name, with `/` separators.
    pub path: String,
    /// The file's text exactly as read (BOM and line endings untouched).
    pub text: String,
    /// SHA-256 of the normalised text: what new history rows store.
    pub checksum: String,
    /// MD5 the legacy manager would have stored for this file.
    pub legacy_checksum: String,
    pub description: String,
    /// `-- schemagate:no-transaction` in the file's leading comments.
    pub no_transaction: bool,
}

impl Migration {
    /// Builds a migration from a recognised file name and the file's bytes.
    pub fn new(
        dir_display: &str,
        parsed: FileName,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Migration, Utf8Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Utf8Error {
            path: join_display(dir_display, file_name),
            byte: e.valid_up_to(),
        })?;
        let description = match parsed.kind {
            Kind::Sql => sql_description(text),
            Kind::Python => python_description(text),
        }
        .unwrap_or_else(|| match parsed.kind {
            Kind::Sql => format!("SQL Migration {}", parsed.version),
            Kind::Python => format!("Python Migration {}", parsed.version),
        });
        Ok(Migration {
            checksum: checksum::sha256(parsed.kind, bytes),
            legacy_checksum: checksum::legacy(parsed.kind, bytes),
            no_transaction: parsed.kind == Kind::Sql && declares_no_transaction(text),
            description,
            path: join_display(dir_display, file_name),
            file_name: file_name.to_string(),
            version: parsed.version,
            name: parsed.name,
            kind: parsed.kind,
            text: text.to_string(),
        })
    }
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
        }
    }
}

/// A migration file that is not valid UTF-8: never decoded lossily, because the bytes we
/// would run would not be the bytes the author wrote.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: not valid UTF-8 (first invalid byte at offset {byte}); save the file as UTF-8")]
pub struct Utf8Error {
    pub path: String,
    pub byte: usize,
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
    /// Ordered by version, then file name (the order the legacy manager applied duplicates in).
    pub migrations: Vec<Migration>,
    /// Files that could not be decoded.
    pub errors: Vec<Utf8Error>,
    /// `.sql`/`.py` files (other than `__init__.py`) that are not migrations.
    pub unversioned: Vec<String>,
}

impl Discovery {
    pub fn by_version(&self, version: &Version) -> impl Iterator<Item = &Migration> {
        self.migrations
            .iter()
            .filter(move |m| &m.version == version)
    }

    /// Versions that more than one file claims, with those files in apply order.
    pub fn duplicates(&self) -> Vec<(&Version, Vec<&Migration>)> {
        let mut out: Vec<(&Version, Vec<&Migration>)> = Vec::new();
        for m in &self.migrations {
            match out.last_mut() {
                Some((v, files)) if **v == m.version => files.push(m),
                _ => out.push((&m.version, vec![m])),
            }
        }
        out.retain(|(_, files)| files.len() > 1);
        out
    }

    /// The largest version in the folder.
    pub fn max_version(&self) -> Option<&Version> {
        self.migrations.iter().map(|m| &m.version).max()
    }
}

/// Discovers migrations among `(file name, bytes)` entries of one folder.
pub fn discover<'a>(
    dir_display: &str,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Discovery {
    let mut d = Discovery::default();
    for (file_name, bytes) in files {
        match parse_file_name(file_name) {
            Some(parsed) => match Migration::new(dir_display, parsed, file_name, bytes) {
                Ok(m) => d.migrations.push(m),
                Err(e) => d.errors.push(e),
            },
            None => {
                let code = file_name.ends_with(".sql") || file_name.ends_with(".py");
                if code && file_name != "__init__.py" {
                    d.unversioned.push(file_name.to_string());
                }
            }
        }
    }
    d.sort();
    d
}

impl Discovery {
    /// One discovery of a folder from the discoveries of parts of its listing (the shell
    /// reads a large folder on several threads); the same as discovering it whole.
    pub fn merge(parts: impl IntoIterator<Item = Discovery>) -> Discovery {
        let mut d = Discovery::default();
        for part in parts {
            d.migrations.extend(part.migrations);
            d.errors.extend(part.errors);
            d.unversioned.extend(part.unversioned);
        }
        d.sort();
        d
    }

    fn sort(&mut self) {
        self.migrations.sort_by(|a, b| {
            a.version
                .cmp(&b.version)
                .then_with(|| a.file_name.cmp(&b.file_name))
        });
        self.unversioned.sort();
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
        assert_eq!(d.errors[0].path, "migrations/003_x.sql");
        assert_eq!(d.errors[0].byte, 8);
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
