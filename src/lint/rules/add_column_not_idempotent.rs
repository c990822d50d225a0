//! `add-column-not-idempotent`: ADD COLUMN in a .sql file cannot be re-run.

use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};
use crate::sql::StatementKind;

pub const RULE: RuleDoc = RuleDoc {
    id: "add-column-not-idempotent",
    default_severity: Severity::Warning,
    summary: "ALTER TABLE ... ADD COLUMN, which SQLite cannot guard with IF NOT EXISTS",
    docs: r#"## What it does
Flags `ALTER TABLE ... ADD COLUMN` in `.sql` migrations, and in Python migrations that never
look at `PRAGMA table_info`.

## Why is this bad?
SQLite has no `ADD COLUMN IF NOT EXISTS` (that is PostgreSQL syntax; SQLite rejects it). So
the statement fails with "duplicate column name" whenever it meets a database that already
has the column: a retry after a half-applied run of the legacy manager, a column added by
hand to fix production, a restored backup. The legacy documentation's answer was a Python
migration that checks the table first.

## Example
```sql
ALTER TABLE users ADD COLUMN email TEXT;
```

## Use instead
A Python migration (`NNN_add_user_email.py`):
```python
def upgrade(conn):
    columns = {row[1] for row in conn.execute("PRAGMA table_info(users)")}
    if "email" not in columns:
        conn.execute("ALTER TABLE users ADD COLUMN email TEXT")
```

A warning in the legacy layout, whose workflow re-ran files; info in folders of other
layouts, whose tool runs each file once (see `not-idempotent`, which this finding replaces
for the statement when the dry run's second run fails there).
"#,
};

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    if s.kind != StatementKind::AlterTable {
        return;
    }
    // ALTER TABLE [schema.]name ADD [COLUMN] column
    let k = if s.is_op(3, ".") { 5 } else { 3 };
    if !s.is_kw(k, "ADD") {
        return;
    }
    let col = if s.is_kw(k + 1, "COLUMN") {
        k + 2
    } else {
        k + 1
    };
    if s.is_kw(col, "IF") {
        return; // `foreign-dialect` explains that one
    }
    if s.unit.is_python() {
        let text = s.unit.migration.text.to_ascii_lowercase();
        if text.contains("table_info") || s.unit.function() == Some("downgrade") {
            return;
        }
    }
    let table: String = (2..k).map(|i| s.text(i)).collect();
    let column = s.text(col).to_string();
    out.push(super::not_idempotent::for_layout(
        s.finding(
            &RULE,
            format!(
                "`ALTER TABLE {table} ADD COLUMN {column}` fails if the column already exists, and SQLite has no ADD COLUMN IF NOT EXISTS"
            ),
            s.span(0, col),
        )
        .help(format!(
            "move it into a Python migration that checks `PRAGMA table_info({table})` first: `if \"{}\" not in {{r[1] for r in conn.execute(\"PRAGMA table_info({table})\")}}: conn.execute(\"ALTER TABLE {table} ADD COLUMN ...\")`",
            crate::lint::ident(&column)
        )),
        s.layout,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, py, sql};

    #[test]
    fn add_column_in_sql() {
        let f = sql(
            RULE.id,
            "-- x\nALTER TABLE users ADD COLUMN email TEXT;\nalter table main.users add age INT;\n",
        );
        assert_eq!(at(&f), [(2, 1), (3, 1)]);
        let help = f[0].help.as_deref().unwrap();
        assert!(help.contains("PRAGMA table_info(users)"), "{help}");
        assert!(!help.contains("IF NOT EXISTS"), "{help}");
    }

    #[test]
    fn info_in_layouts_whose_tool_never_re_runs_a_file() {
        let sqlx = crate::lint::LintInputs {
            layout: crate::layout::Layout::Sqlx,
            ..Default::default()
        };
        let f = crate::lint::testing::sql_with(
            RULE.id,
            "ALTER TABLE users ADD COLUMN email TEXT;\n",
            &sqlx,
        );
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn other_alters_and_guarded_python_are_clean() {
        let text = "ALTER TABLE users RENAME TO people;\nALTER TABLE people RENAME COLUMN a TO b;\nSELECT 'ALTER TABLE t ADD COLUMN c';\n";
        assert!(sql(RULE.id, text).is_empty());
        let guarded = r#"
def upgrade(conn):
    cols = {r[1] for r in conn.execute("PRAGMA table_info(users)")}
    if "email" not in cols:
        conn.execute("ALTER TABLE users ADD COLUMN email TEXT")
"#;
        assert!(py(RULE.id, "004_x.py", guarded).is_empty());
    }

    #[test]
    fn unguarded_python_is_flagged_at_its_line() {
        let text =
            "def upgrade(conn):\n    conn.execute(\"ALTER TABLE users ADD COLUMN email TEXT\")\n";
        assert_eq!(at(&py(RULE.id, "004_x.py", text)), [(2, 19)]);
    }
}
