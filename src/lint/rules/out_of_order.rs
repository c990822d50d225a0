//! out-of-order: a new migration numbered at or below the base branch's newest.

use crate::lint::RuleDoc;
use crate::migration::{Migration, Version};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "out-of-order",
    default_severity: Severity::Error,
    summary: "A new migration is not numbered above the newest one on the base branch",
    docs: r#"## What it does
Flags a migration added by the branch whose version is not above the newest version on
the base branch.

## Why is this bad?
Every database that is up to date with the base branch has recorded its newest version.
A new migration numbered below it sorts into the middle of the chain: the legacy manager
applied it on some databases and not on others depending on when they were migrated, and
a fresh database applies it in a different order than production did.

## Example
```text
main:    001 002 003 005
branch:  adds 004_add_index.sql
```

## Use instead
Give it the next free number (`schemagate generate NAME --base main` picks it, or
`schemagate renumber --base main --write` moves it).
"#,
};

pub fn finding(m: &Migration, newest: &Version, base_label: &str) -> Finding {
    Finding::of(
        &RULE,
        format!(
            "{} is new, but its version {} is not above {}, the newest on {base_label}",
            m.file_name, m.version, newest
        ),
    )
    .path(&m.path)
    .help(format!(
        "renumber it above {newest} (`schemagate renumber --base {base_label} --write`)"
    ))
}

#[cfg(test)]
mod tests {
    use crate::base::{BaseView, compare};
    use crate::migration::discover;

    #[test]
    fn a_new_file_below_the_newest_is_flagged_and_one_above_is_not() {
        let tip = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                ("005_e.sql", b"e\n".as_slice()),
            ],
        );
        let work = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                ("004_d.sql", b"d d d\n".as_slice()),
                ("005_e.sql", b"e\n".as_slice()),
                ("006_f.sql", b"f f f\n".as_slice()),
            ],
        );
        let f = compare(
            &BaseView {
                label: "main".into(),
                tip,
                fork: None,
            },
            &work,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, "out-of-order");
        assert_eq!(f[0].path.as_deref(), Some("m/004_d.sql"));
        assert!(f[0].message.contains("005"));
    }
}
