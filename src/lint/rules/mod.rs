//! One rule per file. `ALL` is the registry; a test below keeps it honest.

use super::RuleDoc;

pub mod checksum_drift;
pub mod duplicate_version;
pub mod missing_file;
pub mod out_of_order_pending;
pub mod renamed_applied;
pub mod unverified_record;

pub const ALL: &[&RuleDoc] = &[
    &duplicate_version::RULE,
    &checksum_drift::RULE,
    &renamed_applied::RULE,
    &missing_file::RULE,
    &out_of_order_pending::RULE,
    &unverified_record::RULE,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleDoc> {
    ALL.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_unique_id_and_documented_headings() {
        let mut ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len(), "duplicate rule ids");
        for r in ALL {
            for h in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
            ] {
                assert!(r.docs.contains(h), "{} lacks {h}", r.id);
            }
        }
    }
}
