//! `needs-no-transaction`: statements that cannot run inside the migration's transaction.

use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};
use crate::sql::StatementKind as K;

pub const RULE: RuleDoc = RuleDoc {
    id: "needs-no-transaction",
    default_severity: Severity::Error,
    summary: "VACUUM, PRAGMA journal_mode or PRAGMA foreign_keys = OFF in a migration that runs in a transaction",
    docs: r#"## What it does
Flags statements that cannot work inside a transaction, in migrations that run in one (every
migration unless the file starts with `-- schemagate:no-transaction`; Python migrations
always do):
- `VACUUM` and `VACUUM INTO` fail ("cannot VACUUM from within a transaction");
- `PRAGMA journal_mode = ...` fails ("cannot change into wal mode from within a transaction");
- `PRAGMA foreign_keys = OFF` is silently ignored inside a transaction (`= ON` is not
  flagged: schemagate runs migrations with foreign keys on, so ignoring it is harmless).

## Why is this bad?
schemagate runs each migration in one transaction with its history row. The first two make
the migration fail on every database; the third is worse: it does nothing, and a table
rebuild that relied on `foreign_keys = OFF` silently cascades deletes into child tables.

## Example
```sql
PRAGMA journal_mode = WAL;
VACUUM;
```

## Use instead
A separate migration that declares it runs outside a transaction:
```sql
-- schemagate:no-transaction
PRAGMA journal_mode = WAL;
```
(Python migrations cannot do this: move such statements to a `.sql` migration.)
"#,
};

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    if s.unit.no_transaction() {
        return;
    }
    let help = if s.unit.is_python() {
        "move it to its own .sql migration whose first line is `-- schemagate:no-transaction`"
    } else {
        "move it to its own migration whose first line is `-- schemagate:no-transaction`"
    };
    match s.kind {
        K::Vacuum => out.push(
            s.finding(
                &RULE,
                "VACUUM cannot run inside the transaction schemagate runs each migration in",
                s.span(0, s.last_token()),
            )
            .help(help),
        ),
        K::Pragma => {
            let name = if s.is_op(2, ".") { 3 } else { 1 };
            let sets = s.is_op(name + 1, "=") || s.is_op(name + 1, "(");
            if !sets {
                return;
            }
            let message = if s.is_kw(name, "journal_mode") {
                "PRAGMA journal_mode cannot be changed inside the transaction schemagate runs each migration in"
            } else if s.is_kw(name, "foreign_keys") && turns_off(s, name + 2) && !s.unit.is_python()
            {
                // Turning them on is harmless when ignored (schemagate's bundled SQLite has
                // them on); turning them off is what a table rebuild relies on. Python's
                // sqlite3 starts with them off, so there the no-op changes nothing.
                "PRAGMA foreign_keys = OFF is silently ignored inside the transaction schemagate runs each migration in: foreign keys stay on, and a table rebuild then cascades deletes into child tables"
            } else {
                return;
            };
            out.push(
                s.finding(&RULE, message, s.span(0, s.last_token()))
                    .help(help),
            );
        }
        _ => {}
    }
}

fn turns_off(s: &StatementCtx<'_, '_, '_>, i: usize) -> bool {
    let v = s.text(i).trim_matches(['\'', '"']).to_ascii_lowercase();
    matches!(v.as_str(), "off" | "0" | "false" | "no")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, sql};

    #[test]
    fn vacuum_and_pragmas_in_a_transactional_file() {
        let text = "-- tidy\nVACUUM;\nPRAGMA journal_mode = WAL;\nPRAGMA main.foreign_keys=OFF;\nVACUUM INTO 'x.db';\n";
        let f = sql(RULE.id, text);
        assert_eq!(at(&f), [(2, 1), (3, 1), (4, 1), (5, 1)]);
        assert!(f[2].message.contains("silently ignored"));
    }

    #[test]
    fn queries_other_pragmas_and_no_transaction_files_are_fine() {
        let text = "PRAGMA journal_mode;\nPRAGMA foreign_key_check;\nPRAGMA user_version = 3;\nSELECT 'VACUUM';\nPRAGMA foreign_keys = ON;\n";
        assert!(sql(RULE.id, text).is_empty());
        let marked = "-- schemagate:no-transaction\nPRAGMA journal_mode = WAL;\nVACUUM;\n";
        assert!(sql(RULE.id, marked).is_empty());
    }
}
