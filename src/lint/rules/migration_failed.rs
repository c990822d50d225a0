//! migration-failed: a migration failed when the dry run applied it.

use crate::lint::RuleDoc;
use crate::report::{Finding, Location, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "migration-failed",
    default_severity: Severity::Error,
    summary: "A migration failed in the dry run (or left the database inconsistent)",
    docs: r#"## What it does
Applies the pending migrations to a scratch copy of the database (or to an empty database,
replaying the whole chain) with the same executor as `migrate`, and reports every one that
fails: `file:line:column` of the failing statement and SQLite's message, or the traceback
line and Python's message. A failed migration is rolled back and the later ones still run;
a failure caused only by an object that an earlier failed migration would have created is
marked as a cascade of it (`cascade_of`), so the root causes stand out. With `--fail-fast`
the run stops at the first failure and the migrations after it are reported as skipped.
After the last step it also runs `PRAGMA foreign_key_check` and `PRAGMA integrity_check`
on the scratch copy and reports what they find.

## Why is this bad?
The deploy would stop at this migration. Finding it on a copy, in the pull request, is
much cheaper than finding it during the release, and the real database is never touched.

## Example
```sql
-- 006_index_nickname.sql: the column was never added
CREATE INDEX IF NOT EXISTS users_nickname ON users(nickname);
```

## Use instead
Fix the migration so it runs on the schema the earlier migrations produce:
```sql
ALTER TABLE users ADD COLUMN nickname TEXT;
CREATE INDEX IF NOT EXISTS users_nickname ON users(nickname);
```
"#,
};

/// The failure of one step (`error.path/line/column` say where).
/// The failure of one step. `stopped`: the run stopped here (`--fail-fast`) rather than
/// rolling the migration back and going on.
pub fn finding(error: &Location, replay: bool, stopped: bool) -> Finding {
    let what = if replay {
        "fails when the chain is replayed on an empty database"
    } else {
        "fails in the dry run"
    };
    let help = if stopped {
        "fix the statement; the migrations after it were not run (skipped)"
    } else {
        "fix the statement; this migration was rolled back and the ones after it still ran"
    };
    let mut f = Finding::of(&RULE, format!("this migration {what}: {}", error.message)).help(help);
    f.path = error.path.clone();
    f.line = error.line;
    f.column = error.column.or(error.line.map(|_| 1));
    f
}

/// Problems `PRAGMA foreign_key_check` / `integrity_check` find after the last step.
/// Marks `f` as following from the failure of `root` (a version).
pub fn cascade(mut f: Finding, root: &str) -> Finding {
    f.help = Some(format!(
        "this follows from the failure of migration {root}, which would have created what is missing here: fix that one first"
    ));
    f.cascade_of = Some(root.to_string());
    f
}

pub fn consistency(check: &str, problems: &[String], source: &str) -> Finding {
    let shown: Vec<&str> = problems.iter().take(10).map(String::as_str).collect();
    let more = problems.len().saturating_sub(shown.len());
    let mut msg = format!(
        "after the last migration, PRAGMA {check} on the copy of {source} reports {} problem(s): {}",
        problems.len(),
        shown.join("; ")
    );
    if more > 0 {
        msg.push_str(&format!("; and {more} more"));
    }
    Finding::of(&RULE, msg).help(
        "the migrations leave the database inconsistent (for foreign keys: rows whose parent is gone); fix the data in a migration before the schema change",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finding_points_at_the_failing_statement() {
        let e = Location {
            message: "no such column: nickname".into(),
            path: Some("migrations/006_x.sql".into()),
            line: Some(3),
            column: Some(1),
        };
        let f = finding(&e, false, false);
        assert_eq!(f.rule, "migration-failed");
        assert_eq!((f.line, f.column), (Some(3), Some(1)));
        assert!(f.message.contains("no such column: nickname"));
    }

    #[test]
    fn consistency_problems_are_counted_and_capped() {
        let problems: Vec<String> = (0..12).map(|i| format!("row {i}")).collect();
        let f = consistency("foreign_key_check", &problems, "app.db");
        assert!(f.message.contains("12 problem(s)"));
        assert!(f.message.contains("and 2 more"));
    }
}
