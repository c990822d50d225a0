//! slow-migration: a migration took long in the dry run.

use crate::lint::RuleDoc;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "slow-migration",
    default_severity: Severity::Info,
    summary: "A migration took longer than `[lint] slow_migration_ms` in the dry run",
    docs: r#"## What it does
Reports migrations whose dry run took longer than the threshold (`[lint] slow_migration_ms`
in schemagate.toml, default 5000 ms). Timed on a copy of the real database it predicts the
time the deploy holds the write lock.

## Why is this bad?
Each migration runs in one `BEGIN IMMEDIATE` transaction: while it runs, the application
cannot write. A table rebuild or a full-table `UPDATE` on a large table can block writers
for a long time.

## Example
```sql
UPDATE events SET payload = json_set(payload, '$.v', 2);  -- 40 million rows
```

## Use instead
Schedule it in a maintenance window, or split the data change into batches run by the
application, keeping the schema change itself small.
"#,
};

pub fn check(m: &Migration, duration_ms: f64, threshold_ms: u64) -> Option<Finding> {
    (duration_ms > threshold_ms as f64).then(|| {
        Finding::of(&RULE, format!(
                "{} took {:.0} ms in the dry run (threshold {threshold_ms} ms); the application cannot write while it runs",
                m.file_name, duration_ms
            ),
        )
        .path(&m.path)
        .help("run it in a maintenance window, or move the data change into batches")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    #[test]
    fn only_steps_above_the_threshold_are_reported() {
        let d = discover("m", [("001_a.sql", b"x".as_slice())]);
        assert!(check(&d.migrations[0], 10.0, 5000).is_none());
        let f = check(&d.migrations[0], 6000.0, 5000).unwrap();
        assert_eq!(f.severity, Severity::Info);
        assert!(f.message.contains("6000 ms"));
    }
}
