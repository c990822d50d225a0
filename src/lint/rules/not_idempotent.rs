//! not-idempotent: running a migration a second time fails or changes the schema.

use crate::lint::RuleDoc;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "not-idempotent",
    default_severity: Severity::Warning,
    summary: "Running the migration a second time fails or changes the schema",
    docs: r#"## What it does
After a migration succeeds in the dry run, runs it a second time on the scratch copy inside
a transaction that is always rolled back. If the second run fails, or changes the schema,
the migration is not re-runnable.

## Why is this bad?
The legacy workflow re-ran migrations after partial failures and restores, and its docs ask
for migrations that can run twice. A migration that cannot is a trap for the next person
who restores a backup taken between the schema change and the history row, or who repairs
the history table by hand.

## Example
```sql
ALTER TABLE users ADD COLUMN email TEXT;   -- second run: duplicate column name: email
```

## Use instead
Guard the change. SQLite has no `ADD COLUMN IF NOT EXISTS`, so add columns in a Python
migration that checks first:
```python
def upgrade(conn):
    columns = {row[1] for row in conn.execute("PRAGMA table_info(users)")}
    if "email" not in columns:
        conn.execute("ALTER TABLE users ADD COLUMN email TEXT")
```
and use `CREATE ... IF NOT EXISTS` / `DROP ... IF EXISTS` in SQL migrations.
"#,
};

/// `line`/`column`: where the second run failed, when it did.
pub fn finding(m: &Migration, reason: &str, at: Option<(usize, usize)>) -> Finding {
    let mut f = Finding::of(&RULE, format!("{} cannot run twice: {reason}", m.file_name),
    )
    .path(&m.path)
    .help(match m.kind {
        crate::migration::Kind::Sql => "use IF NOT EXISTS / IF EXISTS; for ADD COLUMN, use a Python migration that checks PRAGMA table_info first",
        crate::migration::Kind::Python => "check the current schema before changing it (PRAGMA table_info, sqlite_master)",
    });
    if let Some((l, c)) = at {
        f = f.at(l, c);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    #[test]
    fn the_reason_and_place_are_in_the_finding() {
        let d = discover(
            "m",
            [("002_email.sql", b"ALTER TABLE u ADD COLUMN e;\n".as_slice())],
        );
        let f = finding(
            &d.migrations[0],
            "the second run fails: duplicate column name: e",
            Some((1, 1)),
        );
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.path.as_deref(), Some("m/002_email.sql"));
        assert!(f.message.contains("duplicate column name"));
        assert!(f.help.unwrap().contains("PRAGMA table_info"));
    }
}
