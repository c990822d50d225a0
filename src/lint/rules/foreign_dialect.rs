//! `foreign-dialect`: syntax from PostgreSQL, MySQL or SQL Server.

use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};
use crate::sql::{StatementKind as K, TokenKind};

pub const RULE: RuleDoc = RuleDoc {
    id: "foreign-dialect",
    default_severity: Severity::Error,
    summary: "Syntax of another database (SERIAL, `::` casts, AUTO_INCREMENT, MATERIALIZED VIEW, ...)",
    docs: r#"## What it does
Flags constructs of other databases that SQLite rejects, or worse, accepts and ignores:
`SERIAL`/`BIGSERIAL` key columns, `::` casts, `AUTO_INCREMENT`, `CREATE MATERIALIZED VIEW`,
`CREATE EXTENSION`, `CREATE SEQUENCE`, `CREATE FUNCTION`/`PROCEDURE` (with their
`$$ ... $$` bodies, read as one piece), `DO` blocks, `CREATE OR REPLACE`, `EXECUTE
FUNCTION` triggers, `TRUNCATE`, `ILIKE`, `ALTER TABLE ... ALTER COLUMN`, `MODIFY`, `ADD
CONSTRAINT`, `ADD COLUMN IF NOT EXISTS`, `ENGINE=...`, `CREATE INDEX CONCURRENTLY`,
identity columns, and functions SQLite does not have (`now()`, `getdate()`,
`gen_random_uuid()`, `uuid_generate_v4()`, `newid()`).

`SERIAL` matters on a key column (`id SERIAL PRIMARY KEY`, or a column named in the
table's `PRIMARY KEY (...)`): an error. On any other column SQLite reads it as a plain
type name (NUMERIC affinity), which is only info: the column just is not filled in as
PostgreSQL's sequence would fill it.

## Why is this bad?
Most of these fail with a bare `syntax error`. Some are silently accepted: SQLite takes
`id INTEGER AUTO_INCREMENT` and `id SERIAL PRIMARY KEY` as type names, so the column is
*not* the rowid alias, is not auto-incremented, and inserts without an id store NULL; `DEFAULT (now())` is accepted by
`CREATE TABLE` and fails on the first insert.

## Example
```sql
CREATE TABLE IF NOT EXISTS events (id SERIAL PRIMARY KEY, at TIMESTAMP DEFAULT now());
SELECT payload::json FROM events;
```

## Use instead
```sql
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
SELECT json(payload) FROM events;
```
"#,
};

const FUNCTIONS: &[(&str, &str)] = &[
    ("now", "CURRENT_TIMESTAMP or datetime('now')"),
    ("getdate", "CURRENT_TIMESTAMP or datetime('now')"),
    ("sysdatetime", "CURRENT_TIMESTAMP or datetime('now')"),
    ("gen_random_uuid", "lower(hex(randomblob(16)))"),
    ("uuid_generate_v4", "lower(hex(randomblob(16)))"),
    ("newid", "lower(hex(randomblob(16)))"),
];

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    let mut found: Vec<Found> = Vec::new();
    let n = s.tokens().len();
    let src = s.src();
    for i in 0..n {
        let tok = &s.tokens()[i];
        let text = tok.text(src);
        // `x::int`: SQLite lexes `:` `:int`.
        if matches!(tok.kind, TokenKind::Illegal | TokenKind::Variable)
            && text.starts_with(':')
            && s.tokens()
                .get(i + 1)
                .is_some_and(|t| t.span.start == tok.span.end && t.text(src).starts_with(':'))
        {
            found.push(Found::new(
                i,
                i + 1,
                "`::` casts are PostgreSQL syntax".into(),
                "use `CAST(x AS type)`".into(),
            ));
            continue;
        }
        if tok.kind != TokenKind::Word {
            continue;
        }
        let kw = |k: &str| s.is_kw(i, k);
        if kw("AUTO_INCREMENT") {
            found.push(Found::new(
                i,
                i,
                "`AUTO_INCREMENT` is MySQL syntax; SQLite reads it as part of the type name and the column does not auto-increment".into(),
                "declare the column `INTEGER PRIMARY KEY` (it takes the next id by itself; add AUTOINCREMENT only if ids must never be reused)".into(),
            ));
        } else if kw("ILIKE") {
            found.push(Found::new(
                i,
                i,
                "`ILIKE` is PostgreSQL syntax".into(),
                "SQLite's LIKE is already case-insensitive for ASCII: use `LIKE`".into(),
            ));
        } else if s.is_op(i + 1, "(")
            && let Some((f, instead)) = FUNCTIONS.iter().find(|(f, _)| text.eq_ignore_ascii_case(f))
        {
            found.push(Found::new(
                i,
                s.group_end(i + 1),
                format!("SQLite has no `{f}()` function"),
                format!("use {instead}"),
            ));
        } else if kw("IDENTITY") && i > 0 && s.is_kw(i - 1, "AS") {
            found.push(Found::new(
                i,
                i,
                "identity columns are PostgreSQL/SQL Server syntax".into(),
                "declare the column `INTEGER PRIMARY KEY`".into(),
            ));
        } else if kw("ENGINE") && s.is_op(i + 1, "=") {
            found.push(Found::new(
                i,
                i + 2,
                "`ENGINE=` is MySQL syntax".into(),
                "remove it".into(),
            ));
        }
    }
    statement_level(s, &mut found);
    for f in found {
        let mut finding = s
            .finding(&RULE, f.message, s.span(f.from, f.to))
            .help(f.help);
        if let Some(severity) = f.severity {
            finding.severity = severity;
        }
        out.push(finding);
    }
}

/// A construct found between tokens `from` and `to`.
struct Found {
    from: usize,
    to: usize,
    message: String,
    help: String,
    /// `None`: the rule's default.
    severity: Option<Severity>,
}

impl Found {
    fn new(from: usize, to: usize, message: String, help: String) -> Found {
        Found {
            from,
            to,
            message,
            help,
            severity: None,
        }
    }
}

fn statement_level(s: &StatementCtx<'_, '_, '_>, found: &mut Vec<Found>) {
    let mut add = |from: usize, to: usize, m: &str, h: &str| {
        found.push(Found::new(from, to, m.to_string(), h.to_string()))
    };
    let replace = s.is_kw(1, "OR") && s.is_kw(2, "REPLACE");
    let object = if replace { 3 } else { 1 };
    if s.is_kw(0, "CREATE") && (s.is_kw(object, "FUNCTION") || s.is_kw(object, "PROCEDURE")) {
        // The body (`AS $$ ... $$`) is one token: the splitter keeps it whole.
        add(
            0,
            object,
            "SQLite has no stored functions or procedures (`CREATE FUNCTION` is PostgreSQL/MySQL syntax)",
            "register functions from the application (`sqlite3_create_function`); put logic that runs on writes in a trigger (`CREATE TRIGGER ... BEGIN ... END`)",
        );
    } else if s.is_kw(0, "DO") {
        add(
            0,
            0,
            "`DO` blocks are PostgreSQL syntax; SQLite has no procedural language",
            "write the statements themselves; conditional logic goes in a Python migration",
        );
    } else if s.is_kw(0, "CREATE") && replace {
        add(
            0,
            2,
            "SQLite has no `CREATE OR REPLACE` (PostgreSQL/MySQL syntax)",
            "drop the object first (`DROP VIEW IF EXISTS v;`), then create it",
        );
    } else if s.kind == K::CreateTrigger
        && let Some(i) = (0..s.tokens().len()).find(|&i| {
            s.is_kw(i, "EXECUTE") && (s.is_kw(i + 1, "FUNCTION") || s.is_kw(i + 1, "PROCEDURE"))
        })
    {
        add(
            i,
            i + 1,
            "`EXECUTE FUNCTION` triggers are PostgreSQL syntax",
            "write the trigger's statements in its body: `CREATE TRIGGER ... BEGIN ...; END`",
        );
    } else if s.is_kw(0, "CREATE") {
        let k = if s.is_kw(1, "UNIQUE") { 2 } else { 1 };
        if s.is_kw(1, "MATERIALIZED") {
            add(
                0,
                2,
                "SQLite has no materialized views",
                "create a table and fill it with `INSERT INTO ... SELECT`, or use a plain `CREATE VIEW`",
            );
        } else if s.is_kw(1, "EXTENSION") {
            add(
                0,
                1,
                "`CREATE EXTENSION` is PostgreSQL syntax",
                "SQLite extensions are loaded by the application (`load_extension`), not by a migration",
            );
        } else if s.is_kw(1, "SEQUENCE") {
            add(
                0,
                1,
                "SQLite has no sequences",
                "use an `INTEGER PRIMARY KEY` column",
            );
        } else if s.is_kw(k, "INDEX") && s.is_kw(k + 1, "CONCURRENTLY") {
            add(
                k + 1,
                k + 1,
                "`CREATE INDEX CONCURRENTLY` is PostgreSQL syntax",
                "remove CONCURRENTLY",
            );
        }
    } else if s.is_kw(0, "TRUNCATE") {
        add(
            0,
            1,
            "SQLite has no `TRUNCATE`",
            "use `DELETE FROM table` (SQLite optimises a DELETE without WHERE)",
        );
    } else if s.is_kw(0, "COMMENT") && s.is_kw(1, "ON") {
        add(
            0,
            1,
            "`COMMENT ON` is PostgreSQL syntax",
            "write the comment as a `--` comment in the migration",
        );
    } else if s.kind == K::AlterTable {
        let k = if s.is_op(3, ".") { 5 } else { 3 };
        let col = if s.is_kw(k + 1, "COLUMN") {
            k + 2
        } else {
            k + 1
        };
        if s.is_kw(k, "ADD") && s.is_kw(col, "IF") {
            add(
                k,
                col + 2,
                "SQLite has no `ADD COLUMN IF NOT EXISTS` (PostgreSQL syntax)",
                "move it into a Python migration that checks `PRAGMA table_info(table)` before `ALTER TABLE ... ADD COLUMN`",
            );
        } else if s.is_kw(k, "DROP") && s.is_kw(col, "IF") {
            add(
                k,
                col + 1,
                "SQLite has no `DROP COLUMN IF EXISTS` (PostgreSQL syntax)",
                "move it into a Python migration that checks `PRAGMA table_info(table)` before `ALTER TABLE ... DROP COLUMN`",
            );
        } else if s.is_kw(k, "ALTER") || s.is_kw(k, "MODIFY") || s.is_kw(k, "CHANGE") {
            add(
                k,
                k,
                "SQLite cannot change a column's definition (ALTER/MODIFY/CHANGE COLUMN is PostgreSQL/MySQL syntax)",
                "rebuild the table: create the new table, copy the rows, drop the old one, rename the new one (https://sqlite.org/lang_altertable.html#otheralter)",
            );
        } else if (s.is_kw(k, "ADD") || s.is_kw(k, "DROP")) && s.is_kw(k + 1, "CONSTRAINT") {
            add(
                k,
                k + 1,
                "SQLite cannot add or drop constraints on an existing table",
                "rebuild the table with the constraint (https://sqlite.org/lang_altertable.html#otheralter), or use a unique index for uniqueness",
            );
        }
    }
    serial_columns(s, found);
}

/// `SERIAL`/`BIGSERIAL`/`SMALLSERIAL` as a column *type* (a column may well be named
/// `serial`): the word right after a column name, at the start of a column definition.
///
/// Where it matters is a key column: `id SERIAL PRIMARY KEY` is not `INTEGER PRIMARY KEY`,
/// so the column is not the rowid alias, ids are not assigned, and inserts without one
/// store NULL (a non-integer primary key of a rowid table accepts NULL). Anywhere else the
/// word is only a type name to SQLite (NUMERIC affinity, as `DECIMAL` would be); the
/// column is not filled in as PostgreSQL's sequence would, which is info, not an error.
fn serial_columns(s: &StatementCtx<'_, '_, '_>, found: &mut Vec<Found>) {
    let column_start = |i: usize| match s.kind {
        K::CreateTable => i >= 2 && (s.is_op(i - 2, "(") || s.is_op(i - 2, ",")),
        K::AlterTable => i >= 2 && (s.is_kw(i - 2, "ADD") || s.is_kw(i - 2, "COLUMN")),
        _ => false,
    };
    let depths = s.depths();
    let want = if s.kind == K::CreateTable { 1 } else { 0 };
    for (i, depth) in depths.iter().enumerate() {
        let serial = ["SERIAL", "BIGSERIAL", "SMALLSERIAL"]
            .iter()
            .any(|w| s.is_kw(i, w));
        if !serial || *depth != want || !column_start(i) {
            continue;
        }
        let word = s.text(i).to_ascii_uppercase();
        if is_key_column(s, &depths, i - 1, want) {
            found.push(Found {
                from: i,
                to: i,
                message: format!(
                    "`{word}` is a PostgreSQL type; SQLite takes it as a plain type name, so this key column is not the rowid alias and is not assigned automatically (inserts without an id store NULL)"
                ),
                help: "declare the column `INTEGER PRIMARY KEY` (add AUTOINCREMENT only if ids must never be reused)".into(),
                severity: None,
            });
        } else {
            found.push(Found {
                from: i,
                to: i,
                message: format!(
                    "`{word}` is a PostgreSQL type; SQLite takes it as a plain type name (NUMERIC affinity) and does not fill the column in"
                ),
                help: "write the type SQLite reads (`INTEGER`), and set the value on insert".into(),
                severity: Some(Severity::Info),
            });
        }
    }
}

/// The column named by token `name` is a primary key: `PRIMARY KEY` in its own definition,
/// or in a table constraint `PRIMARY KEY (..., name, ...)`.
fn is_key_column(
    s: &StatementCtx<'_, '_, '_>,
    depths: &[usize],
    name: usize,
    depth: usize,
) -> bool {
    let n = s.tokens().len();
    let own_end = (name + 1..n)
        .find(|&j| depths[j] == depth && (s.is_op(j, ",") || s.is_op(j, ")")))
        .unwrap_or(n);
    if (name + 1..own_end).any(|j| s.is_kw(j, "PRIMARY") && s.is_kw(j + 1, "KEY")) {
        return true;
    }
    let column = crate::lint::ident(s.text(name));
    (0..n).any(|j| {
        depths[j] == depth
            && s.is_kw(j, "PRIMARY")
            && s.is_kw(j + 1, "KEY")
            && s.is_op(j + 2, "(")
            && (j + 3..s.group_end(j + 2)).any(|k| crate::lint::ident(s.text(k)) == column)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, sql};

    #[test]
    fn other_databases_syntax() {
        let text = r#"CREATE TABLE IF NOT EXISTS e (id SERIAL PRIMARY KEY, at TIMESTAMP DEFAULT now());
SELECT payload::json FROM e;
CREATE TABLE IF NOT EXISTS m (id INTEGER AUTO_INCREMENT);
CREATE MATERIALIZED VIEW v AS SELECT 1;
CREATE EXTENSION pgcrypto;
ALTER TABLE e ADD COLUMN IF NOT EXISTS note TEXT;
ALTER TABLE e ALTER COLUMN at SET NOT NULL;
TRUNCATE TABLE e;
"#;
        let f = sql(RULE.id, text);
        let msgs: Vec<_> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            at(&f),
            [
                (1, 75),
                (1, 34),
                (2, 15),
                (3, 42),
                (4, 1),
                (5, 1),
                (6, 15),
                (7, 15),
                (8, 1)
            ],
            "{msgs:#?}"
        );
        assert!(f[1].message.contains("SERIAL"));
        assert!(f[6].help.as_deref().unwrap().contains("PRAGMA table_info"));
    }

    #[test]
    fn serial_is_an_error_on_key_columns_and_info_elsewhere() {
        let text = "CREATE TABLE IF NOT EXISTS a (id BIGSERIAL PRIMARY KEY, n SERIAL);\nCREATE TABLE IF NOT EXISTS b (\n  id bigserial NOT NULL,\n  x TEXT,\n  PRIMARY KEY (id)\n);\nALTER TABLE a ADD COLUMN seq smallserial;\n";
        let f = sql(RULE.id, text);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.line.unwrap(), f.column.unwrap(), f.severity))
            .collect();
        assert_eq!(
            got,
            [
                (1, 34, Severity::Error),
                (1, 59, Severity::Info),
                (3, 6, Severity::Error),
                (7, 30, Severity::Info),
            ],
            "{f:#?}"
        );
        assert!(
            f[0].message.contains("not the rowid alias"),
            "{}",
            f[0].message
        );
        assert!(f[1].message.contains("plain type name"), "{}", f[1].message);
    }

    /// Regression: `END;` inside a PostgreSQL function body was reported as transaction
    /// control, and the body's pieces as syntax errors; it is one foreign construct.
    #[test]
    fn postgres_function_bodies_are_one_finding() {
        let text = "CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nCREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION touch();\nDO $body$ BEGIN PERFORM 1; END $body$;\nCREATE TABLE IF NOT EXISTS after (x);\n";
        let all = crate::lint::testing::lint_files(&[("001_x.sql", text)], &Default::default());
        let rules: Vec<(&str, usize)> = all
            .iter()
            .filter(|f| f.rule != "robust-statements")
            .map(|f| (f.rule.as_str(), f.line.unwrap()))
            .collect();
        assert_eq!(
            rules,
            [
                ("foreign-dialect", 1),
                ("foreign-dialect", 7),
                ("foreign-dialect", 8),
            ],
            "{all:#?}"
        );
        assert!(
            all[0].message.contains("stored functions"),
            "{}",
            all[0].message
        );
    }

    #[test]
    fn look_alikes_that_are_sqlite_are_clean() {
        let text = r#"CREATE TABLE IF NOT EXISTS devices (id INTEGER PRIMARY KEY AUTOINCREMENT, serial TEXT, now TEXT);
SELECT serial, now FROM devices WHERE serial LIKE 'a::b' AND now = :now;
SELECT CAST(x AS INTEGER), 'x::int' FROM devices; -- x::int
CREATE VIEW IF NOT EXISTS v AS SELECT 1;
"#;
        assert!(sql(RULE.id, text).is_empty());
    }
}
