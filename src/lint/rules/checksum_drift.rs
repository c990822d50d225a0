//! `checksum-drift`: an applied migration's file changed since it was applied.

use crate::config::AcceptedChecksum;
use crate::lint::RuleDoc;
use crate::migration::Version;
use crate::plan::Plan;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "checksum-drift",
    default_severity: Severity::Error,
    summary: "An applied migration's file no longer matches the checksum recorded when it ran",
    docs: r#"## What it does
Compares each applied migration file with the checksum its `schema_versions` row recorded
(legacy MD5 rows and schemagate's SHA-256 rows alike; line-ending changes are not drift).

## Why is this bad?
The database was built by the old content. A fresh environment built from the new content
ends up with a different schema than production, and nobody notices until a query fails.
`migrate` refuses to run while an applied file has drifted.

## Example
`003_create_audit_log.sql` was applied, then edited to add a column.

## Use instead
Restore the applied file to what ran, and put the change in a new migration:
```sql
-- 006_audit_log_add_actor.sql
ALTER TABLE audit_log ADD COLUMN actor TEXT;
```
If the edit is harmless (a comment), record the reviewed exception with an
`[[accept-checksum]]` entry in schemagate.toml.
"#,
};

pub fn check(plan: &Plan<'_>) -> Vec<Finding> {
    check_accepting(plan, &[])
}

/// [`check`], minus the changes reviewed in `[[accept-checksum]]` entries (the version, the
/// stored checksum and the file's current checksum, SHA-256 or legacy MD5, all match).
pub fn check_accepting(plan: &Plan<'_>, accepted: &[AcceptedChecksum]) -> Vec<Finding> {
    plan.drifted()
        .filter_map(|e| {
            let m = e.migration?;
            let row = e.row?;
            let stored = row.checksum.as_deref().unwrap_or("");
            let is_accepted = accepted.iter().any(|a| {
                Version::parse(a.version.trim()).as_ref() == Some(&m.version)
                    && a.old.eq_ignore_ascii_case(stored)
                    && (a.new.eq_ignore_ascii_case(&m.checksum)
                        || a.new.eq_ignore_ascii_case(&m.legacy_checksum))
            });
            if is_accepted {
                return None;
            }
            Some(
                Finding::new(
                    RULE.id,
                    RULE.default_severity,
                    format!(
                        "{} was changed after it was applied (recorded checksum {}, file now {})",
                        m.path,
                        short(row.checksum.as_deref().unwrap_or("")),
                        short(&m.checksum),
                    ),
                )
                .path(m.path.clone())
                .help("restore the file to the content that was applied and put the change in a new migration"),
            )
        })
        .collect()
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::plan::HistoryRow;

    #[test]
    fn edited_applied_file_is_drift() {
        let d = discover("m", [("001_a.sql", b"CREATE TABLE a(x, y);".as_slice())]);
        let old = discover("m", [("001_a.sql", b"CREATE TABLE a(x);".as_slice())]);
        let rows = vec![HistoryRow {
            id: 1,
            version: "001".into(),
            applied_at: None,
            description: None,
            checksum: Some(old.migrations[0].legacy_checksum.clone()),
            file_name: None,
            skeleton: None,
        }];
        let plan = Plan::new(&d, &rows);
        let f = check(&plan);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path.as_deref(), Some("m/001_a.sql"));
        let same = Plan::new(&old, &rows);
        assert!(check(&same).is_empty());
        let accepted = AcceptedChecksum {
            version: "1".into(),
            old: rows[0].checksum.clone().unwrap(),
            new: d.migrations[0].checksum.clone(),
            reason: "reviewed".into(),
        };
        assert!(check_accepting(&plan, &[accepted]).is_empty());
    }
}
