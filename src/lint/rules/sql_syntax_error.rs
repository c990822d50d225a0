//! `sql-syntax-error`: a statement SQLite's grammar cannot read.

use crate::lint::{RuleDoc, StatementCtx, SyntaxError};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "sql-syntax-error",
    default_severity: Severity::Error,
    summary: "A statement that SQLite's grammar rejects",
    docs: r#"## What it does
Parses every statement with a port of SQLite's own grammar (`parse.y`) and reports the ones
it rejects, at the token where parsing stopped, with SQLite's message (`near "X": syntax
error`), including unterminated strings and comments. Statements that `foreign-dialect`
already explains are not reported twice.

Lines of the `sqlite3` shell's own commands (`.timeout 5000`, `.bail on`: a line that
starts with `.` where no statement is open) are reported as what they are: the shell runs
them, SQLite's library (and so schemagate, and every migration tool) cannot. Each ends at
its line end, as in the shell, so the statement after it is read on its own.

## Why is this bad?
The migration fails on every database. Finding it in the pull request is cheaper than at
deploy time.

## Example
```sql
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, name TEXT,);
```

## Use instead
```sql
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, name TEXT);
```
"#,
};

pub fn report(s: &StatementCtx<'_, '_, '_>, e: &SyntaxError, out: &mut Vec<Finding>) {
    // Underline the token the parser stopped at.
    let end = s
        .tokens()
        .iter()
        .find(|t| t.span.start <= e.offset && e.offset < t.span.end)
        .map_or(e.offset, |t| t.span.end);
    out.push(
        s.finding(
            &RULE,
            format!("SQLite cannot parse this statement: {}", e.message),
            e.offset..end,
        )
        .help("fix the statement; `schemagate dry-run` shows SQLite's own error for it"),
    );
}

/// A sqlite3 shell command (`.timeout 5000`) in a migration.
pub fn dot_command(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    let text = s.stmt.text(s.src()).trim_end();
    let name = text.split_whitespace().next().unwrap_or(text);
    let help = match name {
        ".timeout" => {
            "remove it: schemagate waits for locks itself (`--busy-timeout`, `[timeouts] busy`)"
        }
        ".bail" => {
            "remove it: a migration already stops at its first failing statement and is rolled back"
        }
        _ => {
            "remove it, or do what it does in SQL (a `PRAGMA`, a statement) or in a Python migration"
        }
    };
    out.push(
        s.finding(
            &RULE,
            format!("`{text}` is a command of the sqlite3 shell, not SQL: SQLite's library cannot run it, so no migration runner can"),
            s.stmt.span.clone(),
        )
        .help(help),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, sql};

    #[test]
    fn syntax_errors_point_at_the_token() {
        let text =
            "-- x\nCREATE TABLE IF NOT EXISTS t (a TEXT,);\nSELECT 1;\nSELEC 2;\nSELECT 'open;\n";
        let f = sql(RULE.id, text);
        assert_eq!(at(&f), [(2, 38), (4, 1), (5, 8)]);
        assert!(
            f[0].message.contains("near \")\": syntax error"),
            "{}",
            f[0].message
        );
    }

    /// Regression: `.timeout 5000` was one syntax error that swallowed the statement
    /// after it, which was then never linted.
    #[test]
    fn sqlite3_shell_commands_are_named_and_end_at_their_line() {
        let text = "-- setup\n.timeout 5000\r\n.bail on\nCREATE TABLE IF NOT EXISTS t (x,);\n  .indented\n;\n";
        let f = sql(RULE.id, text);
        let msgs: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(at(&f), [(2, 1), (3, 1), (4, 33), (5, 3)], "{msgs:#?}");
        assert!(
            msgs[0].starts_with("`.timeout 5000` is a command of the sqlite3 shell"),
            "{}",
            msgs[0]
        );
        assert_eq!(f[0].end_column, Some(14));
        assert!(f[0].help.as_deref().unwrap().contains("--busy-timeout"));
        assert!(
            msgs[1].starts_with("`.bail on` is a command"),
            "{}",
            msgs[1]
        );
        // Indented, it is not a shell command but SQL, as in the shell.
        assert!(msgs[3].contains("cannot parse"), "{}", msgs[3]);
    }

    #[test]
    fn valid_sqlite_is_clean() {
        let text = r#"CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, x TEXT COLLATE NOCASE, y AS (x || 'z'), CHECK (id > 0)) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS t AFTER UPDATE OF x ON a WHEN NEW.x <> OLD.x BEGIN
  INSERT INTO log VALUES ('a;b'); UPDATE a SET x = 1 WHERE id = NEW.id;
END;
INSERT INTO a(id, x) VALUES (1, 'a') ON CONFLICT(id) DO UPDATE SET x = excluded.x WHERE a.x IS NOT excluded.x;
SELECT json_extract(x, '$.a'), x ->> '$.b', row_number() OVER (PARTITION BY x ORDER BY id) FROM a;
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT n FROM c;
CREATE VIRTUAL TABLE IF NOT EXISTS f USING fts5(body, tokenize = 'porter');
PRAGMA table_info(a);
REPLACE INTO a VALUES (1, 'b');
ALTER TABLE a RENAME COLUMN x TO y;
UPDATE a SET y = b.y FROM (SELECT 1 AS id, 'q' AS y) AS b WHERE a.id = b.id;
"#;
        assert!(sql(RULE.id, text).is_empty(), "{:#?}", sql(RULE.id, text));
    }

    /// Statements SQLite runs must never get a syntax error: each is first run on a real
    /// (bundled) SQLite, then linted.
    #[test]
    fn agrees_with_sqlite_on_valid_statements() {
        let setup = "CREATE TABLE t (x, y); CREATE TABLE u (x); CREATE VIEW v AS SELECT x FROM t; CREATE INDEX i ON t(x);";
        let statements = [
            "CREATE INDEX IF NOT EXISTS i2 ON t(lower(x)) WHERE x IS NOT NULL;",
            "INSERT INTO t DEFAULT VALUES;",
            "SELECT * FROM t NATURAL JOIN u;",
            "CREATE TABLE IF NOT EXISTS w (id INTEGER PRIMARY KEY, x) WITHOUT ROWID;",
            "SELECT x FROM t ORDER BY x COLLATE NOCASE DESC NULLS LAST LIMIT 1 OFFSET 2;",
            "UPDATE OR IGNORE t SET x = 1 WHERE y = 2;",
            "DELETE FROM t WHERE rowid IN (SELECT rowid FROM t LIMIT 1);",
            "SELECT printf('%d', 1), glob('a*', 'ab'), x'ff', -1e3, 0x1F;",
            "CREATE TABLE IF NOT EXISTS \"order\" (\"group\" TEXT, [select] INT, `from` INT);",
            "SELECT CAST(x AS REAL), typeof(x), x ISNULL, x NOTNULL, x NOT NULL FROM t;",
            "SELECT j.value FROM t, json_each('[1,2]') AS j;",
            "CREATE TRIGGER IF NOT EXISTS tv INSTEAD OF INSERT ON v BEGIN INSERT INTO t(x) VALUES (NEW.x); SELECT RAISE(IGNORE); END;",
            "CREATE TABLE IF NOT EXISTS g (x INTEGER CHECK (x IN (1, 2)) DEFAULT 1, y TEXT AS (upper(x)) STORED, z AS (x + 1) VIRTUAL);",
            "WITH a AS MATERIALIZED (SELECT 1) SELECT * FROM a;",
            "SELECT 1 WHERE 1 IS NOT DISTINCT FROM 1;",
            "SELECT * FROM t RIGHT JOIN u ON t.x = u.x;",
            "SELECT '{\"a\":1}' -> '$.a', '{\"a\":1}' ->> 'a';",
            "SELECT * FROM t INDEXED BY i WHERE x = 1;",
            "SELECT count(*) FILTER (WHERE x > 1), group_concat(x, ',') FROM t;",
            "SELECT * FROM t NOT INDEXED;",
            "VALUES (1), (2);",
            "CREATE VIEW IF NOT EXISTS v2 (a, b) AS SELECT 1, 2;",
            "INSERT INTO u(x) SELECT x FROM t WHERE true ON CONFLICT DO NOTHING;",
            "SELECT x, rank() OVER w FROM t WINDOW w AS (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW);",
            "SELECT CASE x WHEN 1 THEN 'a' ELSE 'b' END, x BETWEEN 1 AND 2, x LIKE 'a%' ESCAPE '\\' FROM t;",
            "REINDEX;",
            "ANALYZE;",
            "PRAGMA optimize;",
            "SELECT * FROM (SELECT 1 UNION SELECT 2 EXCEPT SELECT 3 INTERSECT SELECT 1);",
            "SELECT x FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = t.x) AND x NOT IN (1, 2);",
            "UPDATE t SET (x, y) = (1, 2) WHERE x = 0;",
            "INSERT OR REPLACE INTO t (x, y) VALUES (1, 2), (3, 4) RETURNING *;",
            "CREATE UNIQUE INDEX IF NOT EXISTS i3 ON t(x COLLATE NOCASE DESC, y);",
            "DROP VIEW IF EXISTS v2;",
            "SELECT strftime('%s', 'now'), datetime('now', '-1 day'), date(), time(), julianday('now');",
            "SELECT 1 AS \"a;b\", 'it''s' AS c;",
            "CREATE TEMP TABLE IF NOT EXISTS s AS SELECT * FROM t;",
            "SAVEPOINT sp; RELEASE sp;",
            "SELECT x FROM t GROUP BY x HAVING count(*) > 1;",
            "ALTER TABLE u ADD COLUMN z TEXT DEFAULT 'a' COLLATE NOCASE REFERENCES t(x) ON DELETE SET NULL;",
            "ALTER TABLE u RENAME TO u2;",
        ];
        for sql in statements {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch(setup).unwrap();
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("SQLite rejects {sql}: {e}"));
            for rule in [
                RULE.id,
                "foreign-dialect",
                "add-column-invalid",
                "needs-no-transaction",
            ] {
                let f = crate::lint::testing::sql(rule, sql);
                assert!(f.is_empty(), "{sql}: {f:#?}");
            }
        }
    }
}
