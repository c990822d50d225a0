//! `destructive-change`: statements that throw data away.

use crate::lint::{RuleDoc, StatementCtx, ident};
use crate::report::{Finding, Severity};
use crate::sql::{Statement, StatementKind as K};

pub const RULE: RuleDoc = RuleDoc {
    id: "destructive-change",
    default_severity: Severity::Warning,
    summary: "DROP TABLE, DROP COLUMN, or DELETE/UPDATE without WHERE",
    docs: r#"## What it does
Flags `DROP TABLE`, `ALTER TABLE ... DROP COLUMN`, and `DELETE` or `UPDATE` without a
`WHERE` clause. Not flagged: dropping a table the same file created, the drop inside a
table rebuild in either order of SQLite's procedure (create `new_x`, copy the rows with
`INSERT INTO new_x ... SELECT ... FROM x`, drop `x`, rename `new_x` to `x`, as drizzle,
atlas and Prisma generate it; or rename `x` to `old_x`, create `x`, copy from `old_x`,
drop `old_x`), an `UPDATE` that fills a column the same file added, and anything in a
Python `downgrade()`. A "rebuild" that never copies the rows is flagged: it empties the
table.

## Why is this bad?
These statements lose data that no later migration can bring back; the only way back is a
backup. They deserve a second look in review, and often a two-step rollout (stop using the
column, deploy, then drop it).

## Example
```sql
DROP TABLE legacy_sessions;
DELETE FROM audit_log;
```

## Use instead
Make sure the data is really unused (or copied elsewhere), then silence the finding for
that statement with a reason the reviewer can read:
```sql
-- schemagate:ignore destructive-change -- sessions moved to redis in #412
DROP TABLE IF EXISTS legacy_sessions;
```
"#,
};

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    if s.unit.function() == Some("downgrade") {
        return;
    }
    let src = s.src();
    match s.kind {
        K::DropTable => {
            let name = ident(s.text(s.last_token()));
            let created_here = s.earlier().any(|(st, k)| {
                matches!(k, K::CreateTable | K::CreateVirtualTable)
                    && created_name(st, src).as_deref() == Some(name.as_str())
            });
            // A table rebuild moves the rows before it drops the table, in either order of
            // SQLite's procedure: create `new` → copy → drop `t` → rename `new` to `t`, or
            // rename `t` to `old` → create `t` → copy → drop `old`. Both have a rename to
            // the dropped name whose other side was filled from the dropped table earlier.
            let copied_into = |target: &str| {
                s.earlier().any(|(st, k)| {
                    k == K::Insert
                        && copy_of(st, src)
                            .is_some_and(|(into, reads)| into == target && reads.contains(&name))
                })
            };
            let rebuilt = s.earlier().chain(s.later()).any(|(st, k)| {
                k == K::AlterTable
                    && renamed(st, src).is_some_and(|(from, to)| to == name && copied_into(&from))
            });
            if created_here || rebuilt {
                return;
            }
            out.push(
                s.finding(
                    &RULE,
                    format!("`DROP TABLE` deletes `{}` and all its rows", s.text(s.last_token())),
                    s.span(0, s.last_token()),
                )
                .help("make sure nothing reads it any more (and that a backup exists), then mark the statement `-- schemagate:ignore destructive-change -- <reason>`"),
            );
        }
        K::AlterTable => {
            let k = if s.is_op(3, ".") { 5 } else { 3 };
            if !s.is_kw(k, "DROP") {
                return;
            }
            let col = if s.is_kw(k + 1, "COLUMN") {
                k + 2
            } else {
                k + 1
            };
            out.push(
                s.finding(
                    &RULE,
                    format!("`DROP COLUMN {}` deletes the column's data", s.text(col)),
                    s.span(k, col),
                )
                .help("stop using the column in a release first, then drop it; mark the statement `-- schemagate:ignore destructive-change -- <reason>`"),
            );
        }
        K::Delete | K::Update => {
            let depths = s.depths();
            let has_where = (0..s.tokens().len()).any(|i| depths[i] == 0 && s.is_kw(i, "WHERE"));
            if has_where || (s.kind == K::Update && fills_new_columns(s, &depths)) {
                return;
            }
            let verb = if s.kind == K::Delete {
                "DELETE"
            } else {
                "UPDATE"
            };
            let what = if s.kind == K::Delete {
                "deletes every row"
            } else {
                "rewrites every row"
            };
            let start = (0..s.tokens().len())
                .find(|&i| s.is_kw(i, verb))
                .unwrap_or(0);
            out.push(
                s.finding(
                    &RULE,
                    format!("`{verb}` without WHERE {what} of the table"),
                    s.span(start, s.last_token()),
                )
                .help("add a WHERE clause, or mark the statement `-- schemagate:ignore destructive-change -- <reason>` if every row is meant"),
            );
        }
        _ => {}
    }
}

/// Table name of `CREATE [TEMP] TABLE [IF NOT EXISTS] [schema.]name`.
fn created_name(st: &Statement, src: &str) -> Option<String> {
    let mut i = (0..st.tokens.len()).find(|&i| st.is_keyword(src, i, "TABLE"))? + 1;
    if st.is_keyword(src, i, "IF") {
        i += 3;
    }
    let tok = |i: usize| st.tokens.get(i).map(|t| t.text(src));
    if tok(i + 1) == Some(".") {
        i += 2;
    }
    tok(i).map(ident)
}

/// `(x, name)` of `ALTER TABLE [schema.]x RENAME TO name`.
fn renamed(st: &Statement, src: &str) -> Option<(String, String)> {
    let tok = |i: usize| st.tokens.get(i).map(|t| t.text(src));
    let from = if tok(3) == Some(".") { 4 } else { 2 };
    if !st.is_keyword(src, from + 1, "RENAME") || !st.is_keyword(src, from + 2, "TO") {
        return None;
    }
    Some((ident(tok(from)?), ident(tok(from + 3)?)))
}

/// `(target, tables read)` of `INSERT INTO [schema.]target ... SELECT ... FROM a JOIN b`:
/// the statement copies rows of `a` and `b` into `target`.
fn copy_of(st: &Statement, src: &str) -> Option<(String, Vec<String>)> {
    let tok = |i: usize| st.tokens.get(i).map(|t| t.text(src));
    let into = (0..st.tokens.len()).find(|&i| st.is_keyword(src, i, "INTO"))?;
    let target = if tok(into + 2) == Some(".") {
        into + 3
    } else {
        into + 1
    };
    let mut reads = Vec::new();
    for i in target + 1..st.tokens.len() {
        if st.is_keyword(src, i, "FROM") || st.is_keyword(src, i, "JOIN") {
            let table = if tok(i + 2) == Some(".") {
                i + 3
            } else {
                i + 1
            };
            if let Some(t) = tok(table).filter(|t| *t != "(") {
                reads.push(ident(t));
            }
        }
    }
    Some((ident(tok(target)?), reads))
}

/// `UPDATE t SET a = ..., b = ...` where every assigned column was added to `t` earlier
/// in the same file: a backfill of new columns, not a rewrite of existing data.
fn fills_new_columns(s: &StatementCtx<'_, '_, '_>, depths: &[usize]) -> bool {
    let src = s.src();
    let Some(set) = (0..s.tokens().len()).find(|&i| depths[i] == 0 && s.is_kw(i, "SET")) else {
        return false;
    };
    let table = ident(s.text(set - 1));
    let mut assigned = Vec::new();
    let mut i = set + 1;
    while i < s.tokens().len() {
        if depths[i] == 0 && (i == set + 1 || s.is_op(i - 1, ",")) && s.is_op(i + 1, "=") {
            assigned.push(ident(s.text(i)));
        }
        if depths[i] == 0 && (s.is_kw(i, "FROM") || s.is_kw(i, "RETURNING")) {
            break;
        }
        i += 1;
    }
    let added: Vec<(String, String)> = s
        .earlier()
        .filter(|(_, k)| *k == K::AlterTable)
        .filter_map(|(st, _)| {
            let k = if st.tokens.get(3).is_some_and(|t| t.text(src) == ".") {
                5
            } else {
                3
            };
            if !st.is_keyword(src, k, "ADD") {
                return None;
            }
            let col = if st.is_keyword(src, k + 1, "COLUMN") {
                k + 2
            } else {
                k + 1
            };
            Some((
                ident(st.tokens.get(k - 1)?.text(src)),
                ident(st.tokens.get(col)?.text(src)),
            ))
        })
        .collect();
    !assigned.is_empty()
        && assigned
            .iter()
            .all(|c| added.iter().any(|(t, a)| *t == table && a == c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, py, sql};

    #[test]
    fn drops_and_unfiltered_writes() {
        let text = "DROP TABLE sessions;\nALTER TABLE users DROP COLUMN legacy;\nDELETE FROM audit_log;\nUPDATE users SET name = lower(name);\nWITH x AS (SELECT 1) DELETE FROM t;\n";
        let f = sql(RULE.id, text);
        assert_eq!(at(&f), [(1, 1), (2, 19), (3, 1), (4, 1), (5, 22)]);
    }

    #[test]
    fn filtered_writes_rebuilds_scratch_tables_and_backfills_are_not_destructive() {
        let text = r#"DELETE FROM audit_log WHERE at < '2020-01-01';
UPDATE users SET name = (SELECT name FROM t WHERE t.id = users.id) WHERE id > 0;
CREATE TABLE IF NOT EXISTS users_new (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO users_new SELECT id, name FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE TEMP TABLE scratch AS SELECT 1 AS x;
DROP TABLE scratch;
ALTER TABLE users ADD COLUMN active INTEGER;
UPDATE users SET active = 1;
CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON users BEGIN DELETE FROM cache; END;
"#;
        assert!(sql(RULE.id, text).is_empty());
    }

    /// Regression: the rename-first order of a rebuild was reported as destroying the
    /// renamed table.
    #[test]
    fn rebuilds_in_both_orders_are_not_destructive() {
        let drizzle = "PRAGMA foreign_keys=OFF;--> statement-breakpoint\nCREATE TABLE `__new_todos` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`title` text NOT NULL\n);\n--> statement-breakpoint\nINSERT INTO `__new_todos`(\"id\", \"title\") SELECT \"id\", \"title\" FROM `todos`;--> statement-breakpoint\nDROP TABLE `todos`;--> statement-breakpoint\nALTER TABLE `__new_todos` RENAME TO `todos`;--> statement-breakpoint\nPRAGMA foreign_keys=ON;\n";
        let rename_first = "ALTER TABLE users RENAME TO users_old;\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\nINSERT INTO users (id, name) SELECT id, coalesce(name, '') FROM main.users_old;\nDROP TABLE users_old;\n";
        let atlas = "-- Create \"new_users\" table\nCREATE TABLE `new_users` (`id` integer NOT NULL, PRIMARY KEY (`id`));\n-- Copy rows from old table \"users\" to new temporary table \"new_users\"\nINSERT INTO `new_users` (`id`) SELECT `id` FROM `users`;\n-- Drop \"users\" table after copying rows\nDROP TABLE `users`;\n-- Rename temporary table \"new_users\" to \"users\"\nALTER TABLE `new_users` RENAME TO `users`;\n";
        for text in [drizzle, rename_first, atlas] {
            assert!(
                sql(RULE.id, text).is_empty(),
                "{text}\n{:#?}",
                sql(RULE.id, text)
            );
        }
    }

    #[test]
    fn a_rebuild_that_never_copies_the_rows_empties_the_table() {
        let create_first = "CREATE TABLE users_new (id INTEGER PRIMARY KEY);\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;\n";
        assert_eq!(at(&sql(RULE.id, create_first)), [(2, 1)]);
        let rename_first = "ALTER TABLE users RENAME TO users_old;\nCREATE TABLE users (id INTEGER PRIMARY KEY);\nINSERT INTO users SELECT id FROM other;\nDROP TABLE users_old;\n";
        assert_eq!(at(&sql(RULE.id, rename_first)), [(4, 1)]);
    }

    #[test]
    fn python_downgrades_may_drop() {
        let text = "def upgrade(conn):\n    conn.execute(\"DROP TABLE old\")\n\ndef downgrade(conn):\n    conn.execute(\"DROP TABLE new\")\n";
        assert_eq!(at(&py(RULE.id, "004_x.py", text)), [(2, 19)]);
    }
}
