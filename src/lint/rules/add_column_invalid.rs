//! `add-column-invalid`: ADD COLUMN forms that SQLite rejects on a table with rows.

use sqlite3_parser::ast::{AlterTableBody, ColumnConstraint, Expr, Literal, Stmt, UnaryOperator};

use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "add-column-invalid",
    default_severity: Severity::Error,
    summary: "ALTER TABLE ... ADD COLUMN that SQLite rejects (NOT NULL without default, PRIMARY KEY, UNIQUE, non-constant default)",
    docs: r#"## What it does
Flags `ALTER TABLE ... ADD COLUMN` definitions that SQLite refuses:
- `NOT NULL` without a default, or with `DEFAULT NULL`;
- `PRIMARY KEY` or `UNIQUE`;
- a default that is not a constant: `CURRENT_TIMESTAMP`, `CURRENT_DATE`, `CURRENT_TIME`,
  or an expression such as `(datetime('now'))` or `(1 + 1)` (a parenthesised constant
  such as `(0)` is fine);
- a `GENERATED ... STORED` column.

## Why is this bad?
SQLite adds a column by editing the table's `CREATE TABLE` text, without rewriting rows, so
every existing row must get the same constant value. These forms fail with "Cannot add a
NOT NULL column with default value NULL", "Cannot add a column with non-constant default",
"Cannot add a PRIMARY KEY column" and so on. Recent SQLite versions only check the NOT NULL
and default cases when the table has rows, so the migration passes on an empty development
database and fails in production.

## Example
```sql
ALTER TABLE users ADD COLUMN created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE users ADD COLUMN email TEXT NOT NULL;
```

## Use instead
```sql
ALTER TABLE users ADD COLUMN created_at TIMESTAMP;
UPDATE users SET created_at = CURRENT_TIMESTAMP WHERE created_at IS NULL;
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
```
For a real non-constant default, `UNIQUE` or a key, rebuild the table (create the new
table, copy the rows, drop the old one, rename; see https://sqlite.org/lang_altertable.html#otheralter).
"#,
};

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    let Some(Stmt::AlterTable(table, AlterTableBody::AddColumn(def))) = s.ast else {
        return;
    };
    let table = table.to_string();
    let column = def.col_name.0;
    let mut not_null = false;
    let mut default: Option<&Expr<'_>> = None;
    let mut generated = false;
    let rebuild = "rebuild the table instead (create the new table, copy the rows, drop the old one, rename the new one)";
    for c in def.constraints {
        match &c.constraint {
            ColumnConstraint::PrimaryKey { .. } => out.push(
                s.finding(
                    &RULE,
                    format!("SQLite cannot add a PRIMARY KEY column (`{column}` on `{table}`)"),
                    keyword(s, "PRIMARY", 1),
                )
                .help(rebuild),
            ),
            ColumnConstraint::Unique(_) => out.push(
                s.finding(
                    &RULE,
                    format!("SQLite cannot add a UNIQUE column (`{column}` on `{table}`)"),
                    keyword(s, "UNIQUE", 0),
                )
                .help(format!(
                    "add the column without UNIQUE, then `CREATE UNIQUE INDEX IF NOT EXISTS idx_{}_{} ON {table}({column})`",
                    crate::lint::ident(&table),
                    crate::lint::ident(column)
                )),
            ),
            ColumnConstraint::NotNull {
                nullable: false, ..
            } => not_null = true,
            ColumnConstraint::Default(e) => default = Some(e),
            ColumnConstraint::Generated { typ, .. } => {
                generated = true;
                if typ.as_ref().is_some_and(|t| t.0.eq_ignore_ascii_case("STORED")) {
                    out.push(
                        s.finding(
                            &RULE,
                            format!("SQLite cannot add a STORED generated column (`{column}`)"),
                            keyword(s, "STORED", 0),
                        )
                        .help("make it VIRTUAL (the default), or rebuild the table"),
                    );
                }
            }
            _ => {}
        }
    }
    if generated {
        return;
    }
    if default.is_some_and(is_null) {
        default = None;
    }
    if not_null && default.is_none() {
        out.push(
            s.finding(
                &RULE,
                format!(
                    "SQLite cannot add the NOT NULL column `{column}` without a non-NULL default when `{table}` has rows"
                ),
                keyword(s, "NOT", 1),
            )
            .help(format!(
                "give it a default (`NOT NULL DEFAULT ''` or `DEFAULT 0`), or add it as nullable and fill it with `UPDATE {table} SET {column} = ...`"
            )),
        );
    }
    if let Some(e) = default
        && !is_constant(e)
    {
        out.push(
            s.finding(
                &RULE,
                format!(
                    "SQLite cannot add a column with a non-constant default (`{column}` on `{table}`) when the table has rows"
                ),
                keyword(s, "DEFAULT", usize::MAX),
            )
            .help(format!(
                "add `{column}` without that default, then `UPDATE {table} SET {column} = <expression> WHERE {column} IS NULL`; or {rebuild}"
            )),
        );
    }
}

/// Span of the top-level keyword `kw` and the `extra` tokens after it (`usize::MAX`: the
/// whole default expression).
fn keyword(s: &StatementCtx<'_, '_, '_>, kw: &str, extra: usize) -> std::ops::Range<usize> {
    let depths = s.depths();
    let Some(i) = (0..s.tokens().len()).find(|&i| depths[i] == 0 && s.is_kw(i, kw)) else {
        return s.stmt.span.clone();
    };
    let end = if extra == usize::MAX {
        // DEFAULT [+|-] literal, or DEFAULT ( ... )
        let mut j = i + 1;
        if s.is_op(j, "-") || s.is_op(j, "+") {
            j += 1;
        }
        s.group_end(j)
    } else {
        i + extra
    };
    s.span(i, end.min(s.last_token()))
}

fn is_null(e: &Expr<'_>) -> bool {
    match e {
        Expr::Literal(Literal::Null) => true,
        Expr::Parenthesized(v) if v.len() == 1 => is_null(&v[0]),
        _ => false,
    }
}

/// What SQLite's `sqlite3ValueFromExpr` (used by ADD COLUMN) can evaluate: literals, signed
/// literals, casts of those, and any of them in parentheses (which SQLite's grammar drops).
fn is_constant(e: &Expr<'_>) -> bool {
    match e {
        Expr::Literal(Literal::CurrentDate | Literal::CurrentTime | Literal::CurrentTimestamp) => {
            false
        }
        Expr::Literal(_) | Expr::Id(_) | Expr::Name(_) => true,
        Expr::Unary(UnaryOperator::Negative | UnaryOperator::Positive, inner) => is_constant(inner),
        Expr::Parenthesized(v) if v.len() == 1 => is_constant(&v[0]),
        Expr::Cast { expr, .. } => is_constant(expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, sql};

    #[test]
    fn current_timestamp_and_not_null_without_default_are_errors() {
        let text = "-- x\nALTER TABLE t ADD COLUMN c TIMESTAMP DEFAULT CURRENT_TIMESTAMP;\nALTER TABLE t ADD COLUMN d TEXT NOT NULL;\n";
        let f = sql(RULE.id, text);
        assert_eq!(at(&f), [(2, 38), (3, 33)]);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].end_column, Some(63));
        assert!(f[0].message.contains("non-constant default"));
        assert!(f[1].message.contains("NOT NULL"));
    }

    #[test]
    fn constant_defaults_are_fine() {
        let text = "ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'x';\nALTER TABLE t ADD COLUMN d INT NOT NULL DEFAULT 0;\nALTER TABLE t ADD COLUMN e INT DEFAULT (-1);\n";
        assert!(sql(RULE.id, text).is_empty());
    }

    /// The rule must say "rejected" exactly when SQLite rejects the statement on a table
    /// that has rows. Checked against the real (bundled) SQLite.
    #[test]
    fn agrees_with_sqlite() {
        let cases = [
            "TEXT DEFAULT 'x'",
            "INT DEFAULT 1",
            "INT DEFAULT -1",
            "INT DEFAULT +1",
            "INT DEFAULT (1)",
            "INT DEFAULT (-1)",
            "INT DEFAULT ((1))",
            "INT DEFAULT (-(1))",
            "INT DEFAULT (1+1)",
            "TIMESTAMP DEFAULT CURRENT_TIMESTAMP",
            "DATE DEFAULT CURRENT_DATE",
            "TEXT DEFAULT (CURRENT_TIMESTAMP)",
            "TEXT DEFAULT (datetime('now'))",
            "INT DEFAULT TRUE",
            "INT DEFAULT abc",
            "TEXT DEFAULT \"x\"",
            "INT DEFAULT (CAST('1' AS INT))",
            "BLOB DEFAULT x'00'",
            "TEXT DEFAULT NULL",
            "INT DEFAULT (NULL)",
            "INT DEFAULT 0x10",
            "INT DEFAULT -'x'",
            "INT DEFAULT ('a' COLLATE nocase)",
            "INT NOT NULL",
            "INT NOT NULL DEFAULT NULL",
            "INT NOT NULL DEFAULT (NULL)",
            "INT NOT NULL DEFAULT 0",
            "INT DEFAULT 1 NOT NULL",
            "INT NOT NULL DEFAULT (1+1)",
            "INT NOT NULL ON CONFLICT IGNORE DEFAULT 1",
            "TEXT COLLATE nocase NOT NULL DEFAULT ''",
            "INT PRIMARY KEY",
            "INT CONSTRAINT pk PRIMARY KEY",
            "INT UNIQUE",
            "INT AS (1)",
            "INT AS (1) STORED",
            "INT GENERATED ALWAYS AS (a * 2) VIRTUAL",
            "INT NOT NULL AS (1)",
            "INT REFERENCES t(a)",
            "INT CHECK (c IS NULL OR c > 0)",
        ];
        for case in cases {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch("CREATE TABLE t(a); INSERT INTO t VALUES (1);")
                .unwrap();
            let stmt = format!("ALTER TABLE t ADD COLUMN c {case};");
            let sqlite_rejects = conn.execute_batch(&stmt).is_err();
            let flagged = !sql(RULE.id, &stmt).is_empty();
            assert_eq!(flagged, sqlite_rejects, "{stmt}");
        }
    }
}
