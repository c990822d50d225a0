//! `dirty-database`: the history says a migration stopped half-way, so the database is in a
//! state nobody recorded and the deploying tool refuses to go on.

use crate::lint::RuleDoc;
use crate::plan::{DirtyMarker, RowOrigin};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "dirty-database",
    default_severity: Severity::Error,
    summary: "The history marks a migration as stopped half-way: the deploying tool refuses to go on",
    docs: r#"## What it does
Reads what the history table says about a migration that did not finish, and reports it
with the fix the deploying tool asks for:
- golang-migrate: `schema_migrations.dirty` is true (`migrate force V`);
- sqlx: a `_sqlx_migrations` row with `success = false` (fix the database, delete the row);
- Flyway: a `flyway_schema_history` row with `success = false` (`flyway repair`);
- legacy: a `schemagate_state` marker of a migration that ran without a transaction and
  failed or was interrupted (`schemagate resolve`).

`lint --db`, `check --db`, `dry-run --db`, `status` and `pending` report it; `migrate`
refuses to run.

## Why is this bad?
A migration that stopped half-way left some of its statements applied and others not.
The tool that deploys the folder refuses to run anything until someone has looked at the
database and said which it is, so the next deploy fails whatever the pull request holds. A
dry run on a copy of that database applies the pending migrations as if nothing were
wrong: it would pass where the deploy stops.

## Example
```text
golang-migrate's schema_migrations: version = 3, dirty = true
```

## Use instead
Check the database by hand, finish or undo what the migration left, then tell the tool
which state it is in, with its own command (`migrate force 3`, `flyway repair`, ...).
"#,
};

/// One finding per marker.
pub fn check(dirty: &[DirtyMarker], database: &str) -> Vec<Finding> {
    dirty
        .iter()
        .map(|m| {
            // A tool's marker says already that the tool runs nothing until it is fixed.
            let message = if m.origin == RowOrigin::SchemaVersions {
                format!(
                    "{database}: {m} (schemagate_state); `schemagate migrate` runs nothing until it is resolved"
                )
            } else {
                format!("{database}: {m}")
            };
            Finding::of(&RULE, message).help(m.remedy())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(origin: RowOrigin, version: &str, state: &str) -> DirtyMarker {
        DirtyMarker {
            version: version.into(),
            file_name: None,
            state: state.into(),
            started_at: None,
            message: None,
            origin,
        }
    }

    #[test]
    fn each_tool_gets_its_own_fix() {
        let found = check(
            &[
                marker(RowOrigin::GolangMigrate, "3", "dirty"),
                marker(RowOrigin::Sqlx, "20240101000000", "failed"),
                marker(RowOrigin::Flyway, "1.1", "failed"),
                marker(RowOrigin::SchemaVersions, "007", "failed"),
            ],
            "app.db",
        );
        assert!(found.iter().all(|f| f.severity == Severity::Error));
        let help: Vec<&str> = found.iter().map(|f| f.help.as_deref().unwrap()).collect();
        assert!(help[0].contains("`migrate force 3`"), "{}", help[0]);
        assert!(
            help[1].contains("DELETE FROM _sqlx_migrations WHERE version = 20240101000000"),
            "{}",
            help[1]
        );
        assert!(help[2].contains("`flyway repair`"), "{}", help[2]);
        assert!(help[3].contains("`schemagate resolve 007"), "{}", help[3]);
        assert_eq!(
            found[0].message,
            "app.db: golang-migrate marks migration 3 dirty in schema_migrations"
        );
        assert!(
            found[3]
                .message
                .ends_with("`schemagate migrate` runs nothing until it is resolved"),
            "{}",
            found[3].message
        );
    }

    #[test]
    fn a_clean_history_has_no_finding() {
        assert!(check(&[], "app.db").is_empty());
    }
}
