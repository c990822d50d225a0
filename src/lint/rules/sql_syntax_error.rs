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
}
