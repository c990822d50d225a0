//! What `schemagate generate` writes (pure): the next free version and the templates.
//!
//! The templates follow our own rules, so a freshly generated file lints clean: statements
//! that can run twice (`IF NOT EXISTS`), and a Python `upgrade` that never calls
//! `conn.commit()` (schemagate commits the migration together with its history row).

use crate::migration::{Kind, Version};

/// Why a name was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the migration name is empty; pass a descriptive name such as add_user_email")]
    Empty,
    #[error(
        "`{0}` is not a valid migration name: use lower-case letters, digits and underscores (e.g. add_user_email); it becomes part of a file name inside the migrations folder"
    )]
    Invalid(String),
}

/// Accepts `add_user_email`; refuses anything that could leave the folder or break the
/// naming convention (`../x`, `a/b`, spaces, upper case, a leading version).
pub fn validate_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let starts_ok = name.as_bytes()[0].is_ascii_lowercase();
    if !ok_chars || !starts_ok || name.len() > 100 {
        return Err(NameError::Invalid(name.to_string()));
    }
    Ok(())
}

/// Why no next version can be given.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error(
        "version {version} is too large to count on from ({digits} digits; `generate` counts up to {} digits): name the new file by hand, with a version above it",
        u128::MAX.to_string().len() - 1
    )]
    TooLarge { version: String, digits: usize },
}

/// The version after every known one, `step` above the newest, zero-padded like the folder
/// (the most common digit count, 3 by convention). An empty folder starts at `step`.
/// A version too large to count with is an error: skipping it (or wrapping around) gave a
/// version below it, `000…001`, that sorted before everything.
pub fn next_version<'a>(
    known: impl IntoIterator<Item = &'a Version>,
    step: u32,
) -> Result<Version, VersionError> {
    let known: Vec<&Version> = known.into_iter().collect();
    let mut widths = std::collections::BTreeMap::<usize, usize>::new();
    for v in &known {
        *widths.entry(v.width()).or_default() += 1;
    }
    // Most common width; ties go to the wider one so a 999 -> 1000 folder keeps growing.
    let width = widths
        .iter()
        .max_by_key(|(w, n)| (**n, **w))
        .map_or(3, |(w, _)| *w);
    // 38 digits always fit in a u128 with room for the step; longer ones may not.
    let limit = u128::MAX.to_string().len() - 1;
    let too_large = |v: &Version| VersionError::TooLarge {
        version: v.as_str().to_string(),
        digits: v.as_str().trim_start_matches('0').len(),
    };
    let mut newest = 0u128;
    for v in &known {
        if v.as_str().trim_start_matches('0').len() > limit {
            return Err(too_large(v));
        }
        newest = newest.max(v.number().ok_or_else(|| too_large(v))?);
    }
    let next = newest
        .checked_add(u128::from(step))
        .filter(|n| n.to_string().len() <= limit)
        .ok_or_else(|| VersionError::TooLarge {
            version: newest.to_string(),
            digits: newest.to_string().len(),
        })?;
    Ok(Version::from_number(next, width))
}

fn title(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

pub fn file_name(version: &Version, name: &str, kind: Kind) -> String {
    let ext = match kind {
        Kind::Sql => "sql",
        Kind::Python => "py",
    };
    format!("{version}_{name}.{ext}")
}

pub fn template(name: &str, kind: Kind) -> String {
    let title = title(name);
    match kind {
        Kind::Sql => format!(
            "-- {title}
-- Each statement must be safe to run twice: CREATE ... IF NOT EXISTS, DROP ... IF EXISTS.
-- SQLite has no ADD COLUMN IF NOT EXISTS: add columns in a Python migration
-- (`schemagate generate NAME --type python`) that checks PRAGMA table_info first.
-- schemagate runs the whole file in one transaction: no BEGIN/COMMIT here.

CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY
);
"
        ),
        Kind::Python => format!(
            "\"\"\"{title}.\"\"\"

DESCRIPTION = \"{title}\"


def _columns(conn, table):
    return {{row[1] for row in conn.execute(f\"PRAGMA table_info({{table}})\")}}


def upgrade(conn):
    # schemagate runs this in one transaction and commits it together with the history
    # row: do not call conn.commit(). Keep it safe to run twice.
    pass


def downgrade(conn):
    # Undo upgrade() for `schemagate rollback`; leave it out if the change cannot be undone.
    pass
"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(v: &[&str]) -> Vec<Version> {
        v.iter().map(|s| Version::parse(s).unwrap()).collect()
    }

    #[test]
    fn next_version_follows_the_folder() {
        assert_eq!(next_version(&versions(&[]), 1).unwrap().as_str(), "001");
        assert_eq!(next_version(&versions(&[]), 5).unwrap().as_str(), "005");
        assert_eq!(
            next_version(&versions(&["001", "002", "010"]), 1)
                .unwrap()
                .as_str(),
            "011"
        );
        assert_eq!(
            next_version(&versions(&["005", "010", "015"]), 5)
                .unwrap()
                .as_str(),
            "020"
        );
        assert_eq!(
            next_version(&versions(&["998", "999"]), 1)
                .unwrap()
                .as_str(),
            "1000"
        );
        assert_eq!(
            next_version(&versions(&["0001", "0002"]), 1)
                .unwrap()
                .as_str(),
            "0003"
        );
    }

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        assert!(validate_name("add_user_email").is_ok());
        for bad in [
            "",
            "../etc/passwd",
            "a/b",
            "Add",
            "with space",
            "_x",
            "1_x",
            "x.sql",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_name_the_change() {
        assert!(template("add_user_email", Kind::Sql).starts_with("-- Add user email\n"));
        let py = template("add_user_email", Kind::Python);
        assert!(py.contains("DESCRIPTION = \"Add user email\""));
        assert!(py.contains("def upgrade(conn):"));
        assert!(!py.contains("conn.commit()\n"));
    }

    /// Issue 12.13: past u128, the long version was skipped (or the sum wrapped) and the
    /// "next" version was `000…001`, below everything.
    #[test]
    fn versions_too_large_to_count_on_are_refused() {
        let long = "9".repeat(39);
        let e = next_version(&versions(&["001", &long]), 1).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        assert!(e.to_string().contains(&long), "{e}");
        let max38 = "9".repeat(38);
        assert!(next_version(&versions(&[&max38]), 1).is_err());
        let ok = format!("{}1", "0".repeat(60));
        assert_eq!(
            next_version(&versions(&[&ok]), 1).unwrap().as_str().len(),
            61
        );
        assert!(next_version(&versions(&["001"]), u32::MAX).is_ok());
    }
}
