//! `out-of-order-pending`: a pending file numbered below the newest applied version.

use crate::lint::RuleDoc;
use crate::plan::Plan;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "out-of-order-pending",
    default_severity: Severity::Warning,
    summary: "A pending migration has a lower version than one already applied",
    docs: r#"## What it does
Flags pending files whose version is below the newest version recorded in the database,
typically a branch merged after a later migration was deployed.

## Why is this bad?
The migration will run after migrations numbered above it, so this database ends up built
in a different order from a fresh one. That is harmless for independent changes and
broken for dependent ones.

## Example
`005_add_index.sql` is pending while `006_add_tags.sql` is applied.

## Use instead
Renumber the pending file above the newest applied version (`schemagate renumber`), or check
that it does not depend on the order and deploy it as is.
"#,
};

pub fn check(plan: &Plan<'_>) -> Vec<Finding> {
    let newest = plan
        .last_recorded()
        .map(|r| r.version.clone())
        .unwrap_or_default();
    plan.out_of_order
        .iter()
        .map(|m| {
            Finding::of(&RULE, format!(
                    "{} is pending but numbered below the newest applied version {newest}; it will run after migrations numbered above it",
                    m.path
                ),
            )
            .path(m.path.clone())
            .help("give it a version above the newest applied one, or make sure it does not depend on order")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::plan::HistoryRow;

    #[test]
    fn pending_below_applied_is_flagged() {
        let d = discover(
            "m",
            [
                ("005_a.sql", b"SELECT 1;".as_slice()),
                ("006_b.sql", b"SELECT 2;".as_slice()),
            ],
        );
        let rows = vec![HistoryRow {
            id: 1,
            version: "006".into(),
            applied_at: None,
            description: None,
            checksum: Some(d.migrations[1].checksum.clone()),
            file_name: None,
            skeleton: None,
            ..Default::default()
        }];
        let f = check(&Plan::new(&d, &rows));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path.as_deref(), Some("m/005_a.sql"));
        assert!(f[0].message.contains("006"));
    }
}
