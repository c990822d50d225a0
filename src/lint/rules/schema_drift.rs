//! schema-drift: the real schema differs from a replay of the recorded migrations.

use crate::lint::RuleDoc;
use crate::report::{Finding, Severity};
use crate::schema::Drift;

pub const RULE: RuleDoc = RuleDoc {
    id: "schema-drift",
    default_severity: Severity::Error,
    summary: "The database's schema differs from what its recorded migrations produce",
    docs: r#"## What it does
`verify` replays the migrations recorded as applied on an empty scratch database and
compares the result with the real database: tables and their columns (name, type,
constraints), indexes, triggers and views. Each difference is reported with the object and,
where it can be known, the migration that should have created it.

## Why is this bad?
The history table says the migration ran, but its effect is not there (a row inserted by
hand with `sqlite3 ... INSERT INTO schema_versions`, a restore of an older backup, a
migration that failed half-way under the legacy manager), or the schema was changed by
hand. Later migrations and the application assume a schema the database does not have.

## Example
```text
schema_versions says 003 is applied, but table audit_log does not exist
```

## Use instead
Find out what happened. If the migration never ran, remove its history row
(`schemagate forget 003 --reason ...`) and run `schemagate migrate`; if the schema was
changed by hand, capture the change in a new migration.
"#,
};

/// `by`: the migration that created or last changed the object in the replay.
pub fn finding(drift: &Drift, by: Option<&str>, database: &str) -> Finding {
    let o = drift.object();
    let label = o.label();
    // The version of the migration that creates the object, for a command to paste.
    let version = by
        .and_then(|path| path.rsplit('/').next())
        .and_then(crate::name::parse_file_name)
        .map(|f| f.version);
    let (msg, help) = match drift {
        Drift::Missing(_) => (
            match by {
                Some(m) => format!(
                    "{label} is missing from {database}, but {m}, recorded as applied, creates it"
                ),
                None => format!("{label} is missing from {database}"),
            },
            match &version {
                Some(v) => format!(
                    "the migration was recorded but never ran: `schemagate forget {v} --reason ...` then `schemagate migrate`"
                ),
                None => "a recorded migration did not run: forget the version of the one that creates it (with a reason), then run `schemagate migrate`".to_string(),
            },
        ),
        Drift::Unexpected(_) => (
            format!("{label} is in {database}, but no recorded migration creates it"),
            "capture the manual change in a new migration, or remove the object".to_string(),
        ),
        Drift::Changed {
            missing,
            unexpected,
            ..
        } => {
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!("expected {}", missing.join(", ")));
            }
            if !unexpected.is_empty() {
                parts.push(format!("found {}", unexpected.join(", ")));
            }
            let by = by
                .map(|m| format!(" (last changed by {m})"))
                .unwrap_or_default();
            (
                format!(
                    "{label} in {database} differs from the replay{by}: {}",
                    parts.join("; ")
                ),
                "a recorded migration did not run completely, or the schema was changed by hand: capture the difference in a new migration".to_string(),
            )
        }
    };
    let mut f = Finding::of(&RULE, msg).help(help);
    if let Some(m) = by {
        f = f.path(m);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Object, ObjectKind};

    #[test]
    fn a_missing_table_names_the_migration() {
        let o = Object {
            kind: ObjectKind::Table,
            name: "audit_log".into(),
            table: "audit_log".into(),
            lines: vec![],
        };
        let f = finding(
            &Drift::Missing(o),
            Some("migrations/003_audit.sql"),
            "app.db",
        );
        assert!(
            f.message.contains("table audit_log is missing"),
            "{}",
            f.message
        );
        assert!(f.message.contains("003_audit.sql"));
        assert_eq!(f.path.as_deref(), Some("migrations/003_audit.sql"));
    }
}
