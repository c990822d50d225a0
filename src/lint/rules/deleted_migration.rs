//! deleted-migration: a migration merged on the base branch is gone.

use crate::lint::RuleDoc;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "deleted-migration",
    default_severity: Severity::Error,
    summary: "A migration that is on the base branch was deleted",
    docs: r#"## What it does
Flags a file present on the base branch that the working tree no longer has (and that was
not merely renamed: that is `renamed-migration`).

## Why is this bad?
Databases that applied it keep its history row and its schema changes; a fresh database
(a new developer, a test run, a new environment) no longer gets them. The chain stops
describing the schema, and later migrations that depend on it fail on fresh databases
only.

## Example
```text
main:    migrations/003_create_audit_log.sql
branch:  (deleted)
```

## Use instead
Restore the file. To undo what it did, write a new migration (for example
`DROP TABLE IF EXISTS audit_log;`).
"#,
};

pub fn finding(old: &Migration, base_label: &str) -> Finding {
    Finding::of(&RULE, format!(
            "{} is on {base_label} but was deleted; fresh databases would no longer get version {}",
            old.file_name, old.version
        ),
    )
    .path(&old.path)
    .help(format!(
        "restore it (`git checkout {base_label} -- {}`) and undo its effect in a new migration if needed",
        old.path
    ))
}

#[cfg(test)]
mod tests {
    use crate::base::{BaseView, compare};
    use crate::migration::discover;

    #[test]
    fn a_deleted_file_is_named_by_its_base_path() {
        let tip = discover(
            "m",
            [
                ("001_a.sql", b"CREATE TABLE a(x);\n".as_slice()),
                ("002_b.sql", b"CREATE TABLE b(y);\n".as_slice()),
            ],
        );
        let work = discover("m", [("001_a.sql", b"CREATE TABLE a(x);\n".as_slice())]);
        let f = compare(
            &BaseView {
                label: "main".into(),
                tip,
                fork: None,
            },
            &work,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, "deleted-migration");
        assert_eq!(f[0].path.as_deref(), Some("m/002_b.sql"));
    }

    #[test]
    fn a_file_added_on_the_base_after_the_fork_is_not_a_deletion() {
        let fork = discover("m", [("001_a.sql", b"a\n".as_slice())]);
        let tip = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                ("002_b.sql", b"b\n".as_slice()),
            ],
        );
        let work = discover("m", [("001_a.sql", b"a\n".as_slice())]);
        let f = compare(
            &BaseView {
                label: "main".into(),
                tip,
                fork: Some(fork),
            },
            &work,
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
