//! One rule per file. `ALL` is the registry; a test below keeps it honest.

use super::RuleDoc;

pub mod deleted_migration;
pub mod migration_failed;
pub mod modified_migration;
pub mod not_idempotent;
pub mod out_of_order;
pub mod renamed_migration;
pub mod schema_drift;
pub mod slow_migration;

pub const ALL: &[&RuleDoc] = &[
    &modified_migration::RULE,
    &renamed_migration::RULE,
    &deleted_migration::RULE,
    &out_of_order::RULE,
    &migration_failed::RULE,
    &not_idempotent::RULE,
    &slow_migration::RULE,
    &schema_drift::RULE,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleDoc> {
    ALL.iter().copied().find(|r| r.id == id)
}
