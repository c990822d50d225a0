//! One rule per file. `ALL` is the registry; a test below keeps it honest.

use super::RuleDoc;

pub const ALL: &[&RuleDoc] = &[];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleDoc> {
    ALL.iter().copied().find(|r| r.id == id)
}
