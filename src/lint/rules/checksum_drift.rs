//! `checksum-drift`: an applied migration's file changed since it was applied.

use crate::checksum::{self, SkeletonVerdict, Stored, Verdict};
use crate::config::AcceptedChecksum;
use crate::lint::RuleDoc;
use crate::migration::{Migration, Version};
use crate::plan::{HistoryRow, Plan};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "checksum-drift",
    default_severity: Severity::Error,
    summary: "An applied migration's file no longer matches the checksum recorded when it ran",
    docs: r#"## What it does
Compares each applied migration file with the checksum its `schema_versions` row recorded
(legacy MD5 rows and schemagate's SHA-256 rows alike; line-ending and BOM changes are not
drift). Beside each row it writes, schemagate records a second hash of the text without
comments and whitespace, so a later change is classified: whitespace or comments only (a
warning) or a change of the statements (an error). Rows of the legacy manager have no such
hash, so their drift is an error. An `[[accept-checksum]]` entry in `schemagate.toml`
accepts one specific old→new change of one version, with a reason reviewed in the pull
request.

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
If the edit is harmless (a comment), record the reviewed exception in schemagate.toml
instead of turning the check off:
```toml
[[accept-checksum]]
version = "003"
old = "<checksum in the database>"
new = "<checksum of the file now>"
reason = "typo fixed in a comment, PR #123"
```
"#,
};

/// What changed in a drifted file, as far as the hashes recorded with its row tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Only line endings or a BOM. Both checksums normalise these away, so such a file is
    /// not drifted at all; the variant names the verdict for callers that classify a
    /// matching file too.
    LineEndings,
    /// The skeleton hash recorded beside the row still matches: only whitespace, comments
    /// or keyword case changed.
    WhitespaceOrComments,
    /// The skeleton differs: the statements changed.
    Content,
    /// No skeleton was recorded (a legacy row): the change cannot be classified.
    Unknown,
    /// The row's Python skeleton is of an earlier version that took `#` lines inside
    /// strings for comments, and the file has such lines: the change cannot be classified.
    Undecided,
}

/// Classifies how `m` differs from what `row` recorded; `None` when it does not differ.
pub fn classify(m: &Migration, row: &HistoryRow) -> Option<Change> {
    match m.verify(&row.stored()) {
        Verdict::Unverified => None,
        Verdict::Match => {
            let verbatim = match row.stored() {
                Stored::Sha256(h) => checksum::sha256_hex(m.text.as_bytes()) == h,
                Stored::Md5(h) => m.legacy_checksum == h,
                // Other tools' digests match only what the tool itself accepts.
                _ => true,
            };
            (!verbatim).then_some(Change::LineEndings)
        }
        Verdict::Mismatch => Some(match &row.skeleton {
            Some(s) => match checksum::compare_skeleton(m.kind, m.text.as_bytes(), s) {
                SkeletonVerdict::Same => Change::WhitespaceOrComments,
                SkeletonVerdict::Changed => Change::Content,
                SkeletonVerdict::Undecided => Change::Undecided,
            },
            None => Change::Unknown,
        }),
    }
}

/// The `[[accept-checksum]]` entry that accepts exactly this change: same version
/// (numerically), the row's checksum as `old`, the file's checksum (new or legacy form) as
/// `new`.
pub fn accepted<'c>(
    m: &Migration,
    row: &HistoryRow,
    accepted: &'c [AcceptedChecksum],
) -> Option<&'c AcceptedChecksum> {
    let stored = row.checksum.as_deref()?.trim();
    accepted.iter().find(|a| {
        Version::parse(a.version.trim()).is_some_and(|v| v == m.version)
            && a.old.trim().eq_ignore_ascii_case(stored)
            && (a.new.trim().eq_ignore_ascii_case(&m.checksum)
                || a.new.trim().eq_ignore_ascii_case(&m.legacy_checksum))
    })
}

/// Drift findings for the plan, except the changes `accepted_checksums` lets through.
/// Content changes (and unclassifiable ones) are errors; whitespace or comment changes are
/// warnings.
pub fn check(plan: &Plan<'_>, accepted_checksums: &[AcceptedChecksum]) -> Vec<Finding> {
    plan.drifted()
        .filter_map(|e| {
            let m = e.migration?;
            let row = e.row?;
            let change = classify(m, row)?;
            if accepted(m, row, accepted_checksums).is_some() {
                return None;
            }
            let old = row.checksum.as_deref().unwrap_or("").trim();
            let (severity, what) = match change {
                Change::LineEndings => return None,
                Change::WhitespaceOrComments => (
                    Severity::Warning,
                    "only in whitespace or comments".to_string(),
                ),
                Change::Content => (RULE.default_severity, "in its statements".to_string()),
                Change::Unknown => (
                    RULE.default_severity,
                    "(the row was not written by schemagate, so whether only whitespace or comments changed cannot be told)".to_string(),
                ),
                Change::Undecided => (
                    RULE.default_severity,
                    "(the row was recorded by an earlier schemagate, whose Python skeleton took lines starting with `#` inside strings for comments; this file has such lines, so whether only whitespace or comments changed cannot be told)".to_string(),
                ),
            };
            let accept = format!(
                "\n[[accept-checksum]]\nversion = \"{}\"\nold = \"{old}\"\nnew = \"{}\"\nreason = \"...\"",
                m.version, m.checksum
            );
            let stale = accepted_checksums
                .iter()
                .filter(|a| Version::parse(a.version.trim()).is_some_and(|v| v == m.version))
                .map(|a| {
                    format!(
                        " (the [[accept-checksum]] entry for {} accepts {} -> {}, which is not this change)",
                        a.version,
                        short(&a.old),
                        short(&a.new)
                    )
                })
                .next()
                .unwrap_or_default();
            let help = match change {
                Change::WhitespaceOrComments => format!(
                    "restore the applied text, or accept this reviewed change in schemagate.toml{stale}:{accept}"
                ),
                _ => format!(
                    "restore the file to the content that was applied and put the change in a new migration; if the database really has the new content, accept it in schemagate.toml{stale}:{accept}"
                ),
            };
            Some(
                Finding::new(
                    RULE.id,
                    severity,
                    format!(
                        "changed after it was applied, {what} (recorded checksum {}, file now {})",
                        short(old),
                        short(&m.checksum),
                    ),
                )
                .path(m.path.clone())
                .help(help),
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
    use crate::migration::{Kind, discover};

    const OLD: &str = "-- Audit\nCREATE TABLE IF NOT EXISTS a (x);\n";

    /// A row as schemagate writes it (SHA-256 and skeleton) or as the legacy manager did.
    fn row(text: &str, schemagate: bool) -> HistoryRow {
        let old = discover("m", [("001_a.sql", text.as_bytes())]);
        let m = &old.migrations[0];
        HistoryRow {
            id: 1,
            version: "001".into(),
            applied_at: None,
            description: None,
            checksum: Some(if schemagate {
                m.checksum.clone()
            } else {
                m.legacy_checksum.clone()
            }),
            file_name: schemagate.then(|| "001_a.sql".into()),
            skeleton: schemagate.then(|| checksum::skeleton_hash(Kind::Sql, text.as_bytes())),
            ..Default::default()
        }
    }

    fn drift(now: &str, row: &HistoryRow, accepted: &[AcceptedChecksum]) -> Vec<Finding> {
        let d = discover("m", [("001_a.sql", now.as_bytes())]);
        let rows = vec![row.clone()];
        check(&Plan::new(&d, &rows), accepted)
    }

    #[test]
    fn line_endings_only_is_not_drift() {
        let crlf = OLD.replace('\n', "\r\n");
        for schemagate in [true, false] {
            assert!(drift(&crlf, &row(OLD, schemagate), &[]).is_empty());
        }
        let d = discover("m", [("001_a.sql", crlf.as_bytes())]);
        assert_eq!(
            classify(&d.migrations[0], &row(OLD, true)),
            Some(Change::LineEndings)
        );
    }

    #[test]
    fn whitespace_or_comments_only_is_a_warning() {
        let now = "-- Audit log (see #12)\ncreate table if not exists a (\n    x\n);\n";
        let f = drift(now, &row(OLD, true), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].message.contains("only in whitespace or comments"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].help
                .as_deref()
                .unwrap()
                .contains("[[accept-checksum]]\nversion = \"001\"")
        );
    }

    #[test]
    fn content_changes_are_errors() {
        let now = "-- Audit\nCREATE TABLE IF NOT EXISTS a (x, y);\n";
        let f = drift(now, &row(OLD, true), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("in its statements"));
        // a legacy row has no skeleton: even a comment edit cannot be told apart
        let f = drift(
            "-- Audit!\nCREATE TABLE IF NOT EXISTS a (x);\n",
            &row(OLD, false),
            &[],
        );
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("cannot be told"));
    }

    /// Regression (issue 12.12): a line starting with `#` inside a string was taken for a
    /// comment, so editing it was "whitespace or comments only".
    #[test]
    fn a_python_string_is_content_even_where_a_line_starts_with_hash() {
        let old = "def upgrade(conn):\n    conn.executescript(\"\"\"\n# keep\nUPDATE t SET v = '#1';\n\"\"\")  # tidy\n";
        let new = "def upgrade(conn):\n    conn.executescript(\"\"\"\n# drop\nUPDATE t SET v = '#1';\n\"\"\")  # tidy\n";
        let comment_only = "# header\ndef upgrade(conn):\n    conn.executescript(\"\"\"\n# keep\nUPDATE t SET v = '#1';\n\"\"\")  # tidier\n";
        let d = |text: &str| discover("m", [("002_p.py", text.as_bytes())]);
        let r = HistoryRow {
            id: 1,
            version: "002".into(),
            applied_at: None,
            description: None,
            checksum: Some(d(old).migrations[0].checksum.clone()),
            file_name: Some("002_p.py".into()),
            skeleton: Some(checksum::skeleton_hash(Kind::Python, old.as_bytes())),
            ..HistoryRow::default()
        };
        assert_eq!(classify(&d(new).migrations[0], &r), Some(Change::Content));
        assert_eq!(
            classify(&d(comment_only).migrations[0], &r),
            Some(Change::WhitespaceOrComments)
        );
    }

    #[test]
    fn an_accepted_checksum_silences_exactly_that_change() {
        let now = "-- Audit\nCREATE TABLE IF NOT EXISTS a (x, y);\n";
        let r = row(OLD, false);
        let new = discover("m", [("001_a.sql", now.as_bytes())]).migrations[0]
            .checksum
            .clone();
        let entry = |version: &str, old: &str, new: &str| AcceptedChecksum {
            version: version.into(),
            old: old.into(),
            new: new.into(),
            reason: "reviewed in #12".into(),
        };
        let old = r.checksum.clone().unwrap();
        assert!(drift(now, &r, &[entry("1", &old.to_uppercase(), &new)]).is_empty());
        // another version, another old or another new checksum: still drift
        assert_eq!(drift(now, &r, &[entry("002", &old, &new)]).len(), 1);
        let f = drift(now, &r, &[entry("001", &"0".repeat(32), &new)]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].help
                .as_deref()
                .unwrap()
                .contains("which is not this change")
        );
        let edited_again = "-- Audit\nCREATE TABLE IF NOT EXISTS a (x, y, z);\n";
        assert_eq!(
            drift(edited_again, &r, &[entry("001", &old, &new)]).len(),
            1
        );
    }
}
