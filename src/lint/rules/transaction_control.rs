//! `transaction-control`: BEGIN/COMMIT/ROLLBACK/SAVEPOINT in a migration.

use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};
use crate::sql::StatementKind as K;

pub const RULE: RuleDoc = RuleDoc {
    id: "transaction-control",
    default_severity: Severity::Error,
    summary: "BEGIN, COMMIT, ROLLBACK or SAVEPOINT outside a trigger body",
    docs: r#"## What it does
Flags `BEGIN`, `COMMIT`/`END`, `ROLLBACK`, `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` statements
in a migration (in `.sql` files and in SQL passed to `conn.execute(...)` in Python). The same
words inside a `CREATE TRIGGER ... BEGIN ... END` body are not statements and are not
flagged. Files marked `-- schemagate:no-transaction` manage their own transactions and are
not checked.

## Why is this bad?
schemagate runs each migration and its history row in one transaction, so a failure leaves
nothing behind. A `COMMIT` inside the file ends that transaction early: the first half of the
migration is committed without its history row, and a failure later leaves the database
half-migrated, which is exactly what the legacy manager used to do. SQLite also refuses a
nested `BEGIN` ("cannot start a transaction within a transaction").

## Example
```sql
BEGIN;
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);
COMMIT;
```

## Use instead
```sql
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY);
```
"#,
};

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    if !matches!(
        s.kind,
        K::Begin | K::Commit | K::Rollback | K::Savepoint | K::Release | K::RollbackTo
    ) || s.unit.no_transaction()
    {
        return;
    }
    let word = s.text(0).to_ascii_uppercase();
    let help = if s.unit.is_python() {
        "remove it: schemagate runs upgrade(conn) inside one transaction with its history row"
    } else {
        "remove it: schemagate wraps each migration and its history row in one transaction (a file that must manage its own transactions starts with `-- schemagate:no-transaction`)"
    };
    out.push(
        s.finding(
            &RULE,
            format!("`{word}` inside a migration breaks the one transaction schemagate runs it in"),
            s.span(0, s.last_token()),
        )
        .help(help),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, sql};

    #[test]
    fn begin_and_commit_are_flagged() {
        let text =
            "BEGIN TRANSACTION;\nCREATE TABLE IF NOT EXISTS t(x);\n  COMMIT;\nSAVEPOINT a;\nEND;\n";
        let f = sql(RULE.id, text);
        assert_eq!(at(&f), [(1, 1), (3, 3), (4, 1), (5, 1)]);
        assert_eq!(f[0].end_column, Some(18));
    }

    #[test]
    fn the_same_words_in_a_trigger_body_are_not() {
        let text = r#"CREATE TRIGGER IF NOT EXISTS trg AFTER INSERT ON t
BEGIN
    INSERT INTO log VALUES ('begin; commit; end');
    SELECT CASE WHEN NEW.x THEN 1 END;
END;
SELECT 'COMMIT';
"#;
        assert!(sql(RULE.id, text).is_empty());
    }

    #[test]
    fn no_transaction_files_may_manage_their_own() {
        let text = "-- schemagate:no-transaction\nBEGIN;\nCOMMIT;\n";
        assert!(sql(RULE.id, text).is_empty());
    }
}
