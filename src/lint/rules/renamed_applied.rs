//! `renamed-applied`: a pending file holds content already applied under another version.

use crate::lint::RuleDoc;
use crate::plan::Plan;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "renamed-applied",
    default_severity: Severity::Error,
    summary: "A pending file's content is recorded as applied under another version",
    docs: r#"## What it does
Flags a pending migration whose checksum equals the checksum of a row recorded under a
different version: the file was renumbered (or copied) after it was applied.

## Why is this bad?
`migrate` would run the same migration a second time under its new number. A second
`CREATE TABLE` fails; a second `UPDATE ... SET balance = balance * 2` silently corrupts
data. `migrate` refuses to run in this case.

## Example
`007_add_tags.sql` was applied, then renamed to `009_add_tags.sql`.

## Use instead
Move the history row to the new number (`schemagate rekey 007 009`), or rename the file back.
"#,
};

pub fn check(plan: &Plan<'_>) -> Vec<Finding> {
    plan.renamed_applied
        .iter()
        .map(|r| {
            Finding::of(&RULE, format!(
                    "{} is pending, but its content was already applied as version {}; applying it would run it twice",
                    r.migration.path, r.row.version
                ),
            )
            .path(r.migration.path.clone())
            .help(format!(
                "if the file was renumbered, move the row: `schemagate rekey {} {}`",
                r.row.version, r.migration.version
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::plan::HistoryRow;

    #[test]
    fn renumbered_file_is_flagged() {
        let d = discover("m", [("009_t.sql", b"CREATE TABLE t(x);".as_slice())]);
        let rows = vec![HistoryRow {
            id: 1,
            version: "007".into(),
            applied_at: None,
            description: None,
            checksum: Some(d.migrations[0].checksum.clone()),
            file_name: None,
            skeleton: None,
            ..Default::default()
        }];
        let f = check(&Plan::new(&d, &rows));
        assert_eq!(f.len(), 1);
        assert!(f[0].help.as_deref().unwrap().contains("rekey 007 009"));
    }
}
