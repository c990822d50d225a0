//! `empty-migration`: a migration that changes nothing.

use crate::lint::py_scan::PyFile;
use crate::lint::{RuleDoc, SqlUnit};
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "empty-migration",
    default_severity: Severity::Warning,
    summary: "A migration with no SQL statement, or an upgrade() that does nothing",
    docs: r#"## What it does
Flags `.sql` migrations without any statement (empty, or only comments) and Python
migrations whose `upgrade(conn)` body is only `pass`, a docstring or `...`.

## Why is this bad?
The migration is recorded as applied although it did nothing. Usually the content was lost
(a bad merge, an editor that did not save, a generated template never filled in); once it is
applied anywhere, adding the statements later means editing an applied migration.

## Example
```sql
-- Add index on users.email
```

## Use instead
```sql
-- Add index on users.email
CREATE INDEX IF NOT EXISTS idx_users_email ON users(email);
```
If an empty migration is intended (a placeholder for a version used elsewhere), say so:
`-- schemagate:ignore-file empty-migration -- placeholder for 042 on the release branch`.
"#,
};

pub fn check_sql(unit: &SqlUnit<'_>, out: &mut Vec<Finding>) {
    if unit.statements.is_empty() {
        out.push(
            Finding::of(&RULE, "the migration contains no SQL statement")
                .path(&unit.migration.path)
                .help("add the statements, or delete the file if it was created by mistake"),
        );
    }
}

pub fn check_python(m: &Migration, py: &PyFile, out: &mut Vec<Finding>) {
    if let Some(f) = py.function("upgrade")
        && f.empty
    {
        out.push(
            Finding::of(&RULE, "`upgrade(conn)` does nothing")
                .path(&m.path)
                .at(f.line, f.column)
                .help("write the migration, or delete the file if it was created by mistake"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, py, sql};

    #[test]
    fn comment_only_sql_and_pass_only_python() {
        let f = sql(RULE.id, "-- Add index\n/* later; */\n;\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, None);
        let f = py(
            RULE.id,
            "002_x.py",
            "DESCRIPTION = 'x'\n\ndef upgrade(conn):\n    \"\"\"Later.\"\"\"\n    pass\n",
        );
        assert_eq!(at(&f), [(3, 1)]);
    }

    #[test]
    fn one_statement_is_enough() {
        assert!(sql(RULE.id, "-- x\nSELECT 1").is_empty());
        assert!(
            py(
                RULE.id,
                "002_x.py",
                "def upgrade(conn):\n    conn.execute('SELECT 1')\n"
            )
            .is_empty()
        );
    }
}
