//! Lint rules and the engine that runs them (pure).
//!
//! Every rule lives in its own file under `rules/` with its documentation (what it flags,
//! why it matters on SQLite, an example, what to write instead) and its tests; the docs
//! are what `schemagate rule NAME` prints.

pub mod rules;

use crate::report::Severity;

/// A rule's identity and documentation.
#[derive(Debug)]
pub struct RuleDoc {
    /// Stable kebab-case id.
    pub id: &'static str,
    pub default_severity: Severity,
    /// One line: what it flags.
    pub summary: &'static str,
    /// Markdown with the headings `## What it does`, `## Why is this bad?`, `## Example`,
    /// `## Use instead`.
    pub docs: &'static str,
}
