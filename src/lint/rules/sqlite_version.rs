//! `sqlite-version`: syntax newer than the SQLite the application reads the database with.

use std::fmt;

use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};
use crate::sql::{StatementKind as K, TokenKind};

pub const RULE: RuleDoc = RuleDoc {
    id: "sqlite-version",
    default_severity: Severity::Error,
    summary: "SQL that needs a newer SQLite than `[lint] target_sqlite`",
    docs: r#"## What it does
When `[lint] target_sqlite` is set in `schemagate.toml` (the oldest SQLite library that
opens the database: Python's `sqlite3.sqlite_version` on the servers, a mobile app's
SQLite...), flags syntax that version does not know, naming the version it needs:
UPSERT `ON CONFLICT ... DO` (3.24.0), `RENAME COLUMN` and window functions (3.25.0),
`VACUUM INTO` (3.27.0), `NULLS FIRST/LAST` and `FILTER` (3.30.0), generated columns (3.31.0),
`iif()` (3.32.0), `UPDATE ... FROM` and `sqlite_schema` (3.33.0), `DROP COLUMN`,
`RETURNING` and `MATERIALIZED` CTEs (3.35.0), `STRICT` tables (3.37.0), `->`/`->>`,
`unixepoch()` and `format()` (3.38.0), `RIGHT`/`FULL JOIN` and `IS DISTINCT FROM` (3.39.0),
`unhex()` (3.41.0), `octet_length()` and `timediff()` (3.43.0), `concat()`,
`concat_ws()` and `string_agg()` (3.44.0), `jsonb` functions (3.45.0), digit separators
`1_000` (3.46.0), `if()` (3.48.0). Off when `target_sqlite` is not set.

## Why is this bad?
schemagate and the CI run a recent bundled SQLite, so the migration passes every check, and
then the application's older library fails on it: at deploy (`near "DROP": syntax error`)
or, worse, later, when it reads a `STRICT` table or a view that uses `->>`
("malformed database schema").

## Example
```toml
[lint]
target_sqlite = "3.31"
```
```sql
ALTER TABLE users DROP COLUMN legacy_flag;
```

## Use instead
Rebuild the table (create the new table, copy, drop, rename), or raise `target_sqlite`
once every reader runs a newer SQLite.
"#,
};

/// A SQLite version such as 3.31.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SqliteVersion(pub u32, pub u32, pub u32);

impl SqliteVersion {
    /// Accepts `3.31` and `3.31.1`.
    pub fn parse(s: &str) -> Option<SqliteVersion> {
        let mut parts = s.trim().split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = match parts.next() {
            Some(p) => p?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(SqliteVersion(major, minor, patch))
    }
}

impl fmt::Display for SqliteVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

const fn v(minor: u32) -> SqliteVersion {
    SqliteVersion(3, minor, 0)
}

/// Functions by the version that added them.
const FUNCTIONS: &[(&str, SqliteVersion)] = &[
    ("iif", v(32)),
    ("unixepoch", v(38)),
    ("format", v(38)),
    ("unhex", v(41)),
    ("octet_length", v(43)),
    ("timediff", v(43)),
    ("concat", v(44)),
    ("concat_ws", v(44)),
    ("string_agg", v(44)),
    ("if", v(48)),
];

/// `(feature, version it needs, first token, last token)` for every new construct in the
/// statement.
fn features(s: &StatementCtx<'_, '_, '_>) -> Vec<(String, SqliteVersion, usize, usize)> {
    let mut found: Vec<(String, SqliteVersion, usize, usize)> = Vec::new();
    let mut add = |name: &str, version, from, to| {
        if !found.iter().any(|f| f.0 == name) {
            found.push((name.to_string(), version, from, to));
        }
    };
    let n = s.tokens().len();
    let depths = s.depths();
    let src = s.src();
    let mut on_conflict = false;
    for i in 0..n {
        let tok = &s.tokens()[i];
        let text = tok.text(src);
        match tok.kind {
            TokenKind::Operator if text == "->" || text == "->>" => {
                add(&format!("the `{text}` operator"), v(38), i, i)
            }
            TokenKind::Number if text.contains('_') => {
                add("digit separators in numbers", v(46), i, i)
            }
            TokenKind::Word | TokenKind::QuotedIdent
                if crate::lint::ident(text) == "sqlite_schema" =>
            {
                add("the name `sqlite_schema`", v(33), i, i)
            }
            _ => {}
        }
        if tok.kind != TokenKind::Word {
            continue;
        }
        let kw = |k: &str| s.is_kw(i, k);
        let next = |k: &str| s.is_kw(i + 1, k);
        let prev_close = i > 0 && s.is_op(i - 1, ")");
        if s.is_op(i + 1, "(")
            && let Some((name, version)) =
                FUNCTIONS.iter().find(|(f, _)| text.eq_ignore_ascii_case(f))
        {
            // `CREATE TABLE IF NOT EXISTS` never puts `(` after IF.
            add(&format!("the {name}() function"), *version, i, i);
        } else if kw("jsonb") || (text.len() > 6 && text[..6].eq_ignore_ascii_case("jsonb_")) {
            if s.is_op(i + 1, "(") {
                add("jsonb functions", v(45), i, i);
            }
        } else if kw("ON") && next("CONFLICT") {
            on_conflict = true;
        } else if kw("DO") && on_conflict && (next("NOTHING") || next("UPDATE")) {
            add("UPSERT (`ON CONFLICT ... DO`)", v(24), i, i + 1);
        } else if kw("OVER") && prev_close {
            add("window functions (`OVER`)", v(25), i, i);
        } else if kw("FILTER") && prev_close && s.is_op(i + 1, "(") {
            add("aggregate `FILTER` clauses", v(30), i, i);
        } else if kw("NULLS") && (next("FIRST") || next("LAST")) {
            add("`NULLS FIRST/LAST`", v(30), i, i + 1);
        } else if kw("RETURNING") && matches!(s.kind, K::Insert | K::Update | K::Delete) {
            add("`RETURNING`", v(35), i, i);
        } else if kw("MATERIALIZED") && i > 0 && (s.is_kw(i - 1, "AS") || s.is_kw(i - 1, "NOT")) {
            add("`MATERIALIZED` common table expressions", v(35), i, i);
        } else if (kw("RIGHT") || kw("FULL"))
            && (next("JOIN") || (next("OUTER") && s.is_kw(i + 2, "JOIN")))
        {
            add("`RIGHT` and `FULL` joins", v(39), i, i);
        } else if kw("DISTINCT")
            && next("FROM")
            && i > 0
            && (s.is_kw(i - 1, "IS") || s.is_kw(i - 1, "NOT"))
        {
            add("`IS [NOT] DISTINCT FROM`", v(39), i, i + 1);
        } else if kw("FROM") && s.kind == K::Update && depths[i] == 0 {
            add("`UPDATE ... FROM`", v(33), i, i);
        } else if kw("STRICT")
            && s.kind == K::CreateTable
            && depths[i] == 0
            && prev_or_comma_after_paren(s, i)
        {
            add("`STRICT` tables", v(37), i, i);
        } else if kw("INTO") && s.kind == K::Vacuum {
            add("`VACUUM INTO`", v(27), 0, i);
        } else if column_context(s, &depths, i)
            && ((kw("GENERATED") && next("ALWAYS")) || (kw("AS") && s.is_op(i + 1, "(")))
        {
            add("generated columns", v(31), i, i);
        }
    }
    if s.kind == K::AlterTable {
        let k = if s.is_op(3, ".") { 5 } else { 3 };
        if s.is_kw(k, "DROP") {
            add("`ALTER TABLE ... DROP COLUMN`", v(35), k, k + 1);
        } else if s.is_kw(k, "RENAME") && !s.is_kw(k + 1, "TO") {
            add("`ALTER TABLE ... RENAME COLUMN`", v(25), k, k + 1);
        }
    }
    found
}

/// Inside a column definition: depth 1 of `CREATE TABLE (...)`, or an `ALTER TABLE ADD`.
fn column_context(s: &StatementCtx<'_, '_, '_>, depths: &[usize], i: usize) -> bool {
    match s.kind {
        K::CreateTable => depths[i] == 1,
        K::AlterTable => depths[i] == 0,
        _ => false,
    }
}

/// `) STRICT` or `) WITHOUT ROWID, STRICT`.
fn prev_or_comma_after_paren(s: &StatementCtx<'_, '_, '_>, i: usize) -> bool {
    i > 0 && (s.is_op(i - 1, ")") || s.is_op(i - 1, ","))
}

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    let Some(target) = s.target else {
        return;
    };
    for (name, needs, from, to) in features(s) {
        if needs > target {
            out.push(
                s.finding(
                    &RULE,
                    format!(
                        "{name} needs SQLite {needs}, but `target_sqlite` is {target}"
                    ),
                    s.span(from, to),
                )
                .help(format!(
                    "write it without {name}, or raise `[lint] target_sqlite` to {needs} once every program that opens the database uses SQLite {needs} or newer"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::{at, sql, sql_with};

    fn target(v: &str) -> LintInputs {
        LintInputs {
            target_sqlite: SqliteVersion::parse(v),
            ..LintInputs::default()
        }
    }

    #[test]
    fn versions_parse() {
        assert_eq!(SqliteVersion::parse("3.31"), Some(SqliteVersion(3, 31, 0)));
        assert_eq!(
            SqliteVersion::parse("3.31.1"),
            Some(SqliteVersion(3, 31, 1))
        );
        assert!(SqliteVersion::parse("3").is_none());
        assert!(SqliteVersion::parse("3.x").is_none());
        assert!(SqliteVersion(3, 31, 1) > SqliteVersion(3, 31, 0));
    }

    #[test]
    fn new_syntax_is_flagged_with_the_version_it_needs() {
        let text = r#"CREATE TABLE IF NOT EXISTS a (x INT, y INT GENERATED ALWAYS AS (x * 2)) STRICT;
ALTER TABLE a DROP COLUMN y;
ALTER TABLE a RENAME COLUMN x TO z;
DELETE FROM a WHERE z = 1 RETURNING z;
SELECT data ->> '$.name', unixepoch(), iif(1, 2, 3) FROM a;
INSERT INTO a(z) VALUES (1) ON CONFLICT(z) DO NOTHING;
SELECT row_number() OVER (ORDER BY z) FROM a;
"#;
        let f = sql_with(RULE.id, text, &target("3.22"));
        let msgs: Vec<_> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            at(&f),
            [
                (1, 44),
                (1, 73),
                (2, 15),
                (3, 15),
                (4, 27),
                (5, 13),
                (5, 27),
                (5, 40),
                (6, 44),
                (7, 21)
            ],
            "{msgs:#?}"
        );
        assert!(msgs[1].contains("STRICT") && msgs[1].contains("3.37.0"));
        assert!(msgs[0].contains("generated columns needs SQLite 3.31.0"));
        assert!(msgs[2].contains("DROP COLUMN") && msgs[2].contains("3.35.0"));
        assert!(msgs[9].contains("window"));
    }

    #[test]
    fn old_enough_syntax_and_no_target_are_clean() {
        let text = r#"CREATE TABLE IF NOT EXISTS a (x INT ON CONFLICT REPLACE, "if" TEXT);
ALTER TABLE a RENAME TO b;
INSERT OR REPLACE INTO b(x) VALUES (1);
UPDATE b SET x = (SELECT max(x) FROM b) WHERE x = 1;
SELECT "returning", strict FROM b;
CREATE TABLE IF NOT EXISTS c AS SELECT x FROM b;
"#;
        assert!(sql_with(RULE.id, text, &target("3.22")).is_empty());
        let newer = "ALTER TABLE a DROP COLUMN y;\nCREATE TABLE IF NOT EXISTS t(x) STRICT;\n";
        assert!(sql_with(RULE.id, newer, &target("3.37.2")).is_empty());
        assert!(sql(RULE.id, newer).is_empty(), "off without target_sqlite");
    }
}
