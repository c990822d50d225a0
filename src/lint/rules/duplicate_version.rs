//! `duplicate-version`: several files claim one version.

use crate::lint::RuleDoc;
use crate::migration::{Discovery, Migration};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "duplicate-version",
    default_severity: Severity::Error,
    summary: "Two or more migration files have numerically equal versions",
    docs: r#"## What it does
Flags versions that more than one file in the migrations folder claims, such as
`004_add_email.sql` and `004_add_tags.py`, or `48_x.sql` and `048_y.sql` (versions are
compared as numbers).

## Why is this bad?
The history table records one row per version. Once one of the files is applied, the other
counts as applied too and never runs, or it runs on one server and not on another depending
on which file was applied first. `migrate` refuses to run while duplicates exist.

## Example
```text
migrations/004_add_email.sql
migrations/004_add_tags.sql
```

## Use instead
Give the later file the next free version (`schemagate renumber` does it for files that are
neither applied nor merged):
```text
migrations/004_add_email.sql
migrations/005_add_tags.sql
```
"#,
};

pub fn check(discovery: &Discovery) -> Vec<Finding> {
    discovery
        .duplicates()
        .into_iter()
        .map(|(version, files)| {
            let names: Vec<&str> = files.iter().map(|m| m.path.as_str()).collect();
            Finding::of(
                &RULE,
                format!(
                    "version {version} is claimed by {} files: {}",
                    files.len(),
                    names.join(", ")
                ),
            )
            .path(files[files.len() - 1].path.clone())
            .help("give all but one of them a new, unused version (`schemagate renumber` plans it)")
        })
        .collect()
}

/// A new file that takes a version the base already uses: a duplicate in the merged view,
/// even when the base's file is not in this working tree (it landed after the fork).
pub fn on_base(new: &Migration, taken: &Migration, label: &str) -> Finding {
    Finding::of(
        &RULE,
        format!(
            "{} takes version {}, which {} already has on {label}; after the merge two files would share it",
            new.file_name, new.version, taken.file_name
        ),
    )
    .path(&new.path)
    .help(format!(
        "renumber the new file above the newest version on {label} (`schemagate renumber --base {label} --write`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    #[test]
    fn numerically_equal_versions_are_one_version() {
        let d = discover(
            "m",
            [
                ("048_a.sql", b"SELECT 1;".as_slice()),
                ("48_b.sql", b"SELECT 2;".as_slice()),
                ("049_c.sql", b"SELECT 3;".as_slice()),
            ],
        );
        let f = check(&d);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("m/048_a.sql"), "{}", f[0].message);
        assert!(f[0].message.contains("m/48_b.sql"), "{}", f[0].message);
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn distinct_versions_are_fine() {
        let d = discover(
            "m",
            [
                ("999_a.sql", b"".as_slice()),
                ("1000_b.sql", b"".as_slice()),
            ],
        );
        assert!(check(&d).is_empty());
    }
}
