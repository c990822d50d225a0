//! One rule per file. `ALL` is the registry; the tests below keep it honest.
//!
//! A rule file exports `pub const RULE: RuleDoc` and a pure check function over the
//! engine's data: folder rules take the [`Discovery`], statement rules a
//! [`StatementCtx`], Python rules the migration and its [`PyFile`](super::py_scan::PyFile).

pub mod add_column_invalid;
pub mod add_column_not_idempotent;
pub mod deleted_migration;
pub mod destructive_change;
pub mod down_not_reversible;
pub mod duplicate_content;
pub mod empty_migration;
pub mod foreign_dialect;
pub mod invalid_filename;
pub mod migration_failed;
pub mod missing_up_section;
pub mod modified_migration;
pub mod needs_no_transaction;
pub mod not_idempotent;
pub mod out_of_order;
pub mod python_syntax_error;
pub mod python_upgrade_missing;
pub mod renamed_migration;
pub mod robust_statements;
pub mod schema_drift;
pub mod slow_migration;
pub mod sql_syntax_error;
pub mod sqlite_version;
pub mod transaction_control;
pub mod unsupported_migration;
pub mod unversioned_file;
pub mod version_width;

pub mod checksum_drift;
pub mod dirty_database;
pub mod duplicate_version;
pub mod invalid_history_row;
pub mod missing_file;
pub mod out_of_order_pending;
pub mod renamed_applied;
pub mod unverified_record;

use super::{LintInputs, RuleDoc, StatementCtx};
use crate::migration::Discovery;
use crate::report::Finding;

pub const ALL: &[&RuleDoc] = &[
    &duplicate_version::RULE,
    &invalid_filename::RULE,
    &unversioned_file::RULE,
    &duplicate_content::RULE,
    &version_width::RULE,
    &unsupported_migration::RULE,
    &missing_up_section::RULE,
    &robust_statements::RULE,
    &add_column_not_idempotent::RULE,
    &add_column_invalid::RULE,
    &transaction_control::RULE,
    &needs_no_transaction::RULE,
    &sqlite_version::RULE,
    &destructive_change::RULE,
    &foreign_dialect::RULE,
    &empty_migration::RULE,
    &sql_syntax_error::RULE,
    &python_syntax_error::RULE,
    &python_upgrade_missing::RULE,
    &checksum_drift::RULE,
    &renamed_applied::RULE,
    &missing_file::RULE,
    &out_of_order_pending::RULE,
    &unverified_record::RULE,
    &invalid_history_row::RULE,
    &dirty_database::RULE,
    &modified_migration::RULE,
    &renamed_migration::RULE,
    &deleted_migration::RULE,
    &out_of_order::RULE,
    &migration_failed::RULE,
    &not_idempotent::RULE,
    &slow_migration::RULE,
    &down_not_reversible::RULE,
    &schema_drift::RULE,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleDoc> {
    ALL.iter().copied().find(|r| r.id == id)
}

pub(crate) fn folder_rules(d: &Discovery, inputs: &LintInputs, out: &mut Vec<Finding>) {
    invalid_filename::check(d, out);
    unversioned_file::check(d, &inputs.dir, out);
    duplicate_content::check(d, out);
    version_width::check(d, out);
    unsupported_migration::check(d, out);
    missing_up_section::check(d, out);
    out.extend(duplicate_version::check(d));
}

pub(crate) fn statement_rules(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    robust_statements::check(s, out);
    add_column_not_idempotent::check(s, out);
    add_column_invalid::check(s, out);
    transaction_control::check(s, out);
    needs_no_transaction::check(s, out);
    sqlite_version::check(s, out);
    destructive_change::check(s, out);
    foreign_dialect::check(s, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_docs_with_the_four_headings() {
        for r in ALL {
            assert!(!r.summary.trim().is_empty(), "{} has no summary", r.id);
            for h in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
            ] {
                assert!(r.docs.contains(h), "{} docs lack `{h}`", r.id);
            }
            assert!(
                r.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{} is not kebab-case",
                r.id
            );
        }
    }

    #[test]
    fn rule_ids_are_unique() {
        let mut ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id in the registry");
    }

    #[test]
    fn every_rule_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lint/rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".rs") else {
                continue;
            };
            if stem == "mod" {
                continue;
            }
            let id = stem.replace('_', "-");
            assert!(find(&id).is_some(), "rules/{name} is not in ALL (id {id})");
        }
    }
}
