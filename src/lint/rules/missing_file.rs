//! `missing-file`: a recorded migration has no file any more.

use crate::lint::RuleDoc;
use crate::plan::{Plan, State};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "missing-file",
    default_severity: Severity::Warning,
    summary: "A version recorded in the database has no migration file",
    docs: r#"## What it does
Flags `schema_versions` rows whose version no file in the migrations folder has.

## Why is this bad?
Either a file was deleted (a new environment will never get that change), or this database
was migrated by a newer release than the one being deployed (a downgrade deploy).

## Example
The database records `012`, the folder ends at `010_add_tags.sql`.

## Use instead
Restore the file from version control, or deploy the release that has it. If the row is
wrong, remove it with `schemagate forget 012 --reason ...`.
"#,
};

pub fn check(plan: &Plan<'_>, database: &str) -> Vec<Finding> {
    plan.entries
        .iter()
        .filter(|e| e.state == State::MissingFile)
        .map(|e| {
            let desc = e
                .row
                .and_then(|r| r.description.as_deref())
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            Finding::of(
                &RULE,
                format!(
                    "{database} records version {}{desc}, but no migration file has that version",
                    e.version
                ),
            )
            .help("restore the file from version control, or deploy the release that contains it")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::plan::HistoryRow;

    #[test]
    fn row_without_file_is_flagged() {
        let d = discover("m", [("001_a.sql", b"SELECT 1;".as_slice())]);
        let rows = vec![HistoryRow {
            id: 1,
            version: "012".into(),
            applied_at: None,
            description: Some("tags".into()),
            checksum: None,
            file_name: None,
            skeleton: None,
            ..Default::default()
        }];
        let f = check(&Plan::new(&d, &rows), "app.db");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("012 (tags)"), "{}", f[0].message);
        assert_eq!(f[0].severity, Severity::Warning);
    }
}
