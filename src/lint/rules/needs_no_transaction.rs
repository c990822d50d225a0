//! `needs-no-transaction`: statements that cannot run inside the migration's transaction.

use crate::layout::Layout;
use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};
use crate::sql::StatementKind as K;

pub const RULE: RuleDoc = RuleDoc {
    id: "needs-no-transaction",
    default_severity: Severity::Error,
    summary: "VACUUM, PRAGMA journal_mode or PRAGMA foreign_keys = OFF in a migration that runs in a transaction",
    docs: r#"## What it does
Flags statements that cannot work inside a transaction, in migrations that run in one (every
migration unless the file opts out: `-- schemagate:no-transaction` on the first line, or
the opt-out of the layout's own tool; Python migrations always run in one):
- `VACUUM` and `VACUUM INTO` fail ("cannot VACUUM from within a transaction");
- `PRAGMA journal_mode = ...` fails ("cannot change into wal mode from within a transaction");
- `PRAGMA foreign_keys = OFF` is silently ignored inside a transaction.

`PRAGMA foreign_keys = OFF` in a `.sql` file that schemagate's executor runs (the legacy
layout) is only *info*: the executor already turns foreign keys off before its `BEGIN`
and looks for new foreign key violations before `COMMIT`, so the statement does nothing
and nothing depends on it. It stays an error where the no-op matters: in Python
migrations (the runner's connection keeps the interpreter's SQLite default), and in
folders of other layouts, whose own tool runs the file in its transaction without turning
foreign keys off (drizzle's and Prisma's generated table rebuilds meet exactly this).
`= ON` is not flagged: ignoring it cannot delete anything.

## Why is this bad?
The migration runs in one transaction with its history row. The first two make the
migration fail on every database; the third is worse where it matters: it does nothing,
and a table rebuild that relied on `foreign_keys = OFF` silently cascades deletes into
child tables.

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

/// Who runs the file's transaction, for the messages.
fn runner(layout: Layout) -> &'static str {
    match layout {
        Layout::Legacy => "schemagate",
        Layout::Sqlx => "sqlx",
        Layout::Dbmate => "dbmate",
        Layout::Goose => "goose",
        Layout::GolangMigrate => "golang-migrate",
        Layout::Flyway => "Flyway (or refinery)",
        Layout::Diesel => "diesel",
    }
}

/// How a file of this layout asks its tool to run it without a transaction.
fn opt_out(layout: Layout) -> &'static str {
    match layout {
        Layout::Legacy => "its own migration whose first line is `-- schemagate:no-transaction`",
        Layout::Sqlx => "its own migration whose first line is `-- no-transaction`",
        Layout::Dbmate => "its own migration marked `-- migrate:up transaction:false`",
        Layout::Goose => "its own migration marked `-- +goose NO TRANSACTION`",
        Layout::GolangMigrate => {
            "its own migration, run with the sqlite3 driver's `x-no-tx-wrap=true`"
        }
        Layout::Flyway => {
            "its own migration with `executeInTransaction=false` in its script config file"
        }
        Layout::Diesel => {
            "its own migration whose `metadata.toml` says `run_in_transaction = false`"
        }
    }
}

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    if s.unit.no_transaction() {
        return;
    }
    let layout = s.layout;
    let runner = runner(layout);
    let help = if s.unit.is_python() {
        "move it to its own .sql migration whose first line is `-- schemagate:no-transaction`"
            .to_string()
    } else {
        format!("move it to {}", opt_out(layout))
    };
    match s.kind {
        K::Vacuum => out.push(
            s.finding(
                &RULE,
                format!("VACUUM cannot run inside the transaction {runner} runs each migration in"),
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
            let span = s.span(0, s.last_token());
            if s.is_kw(name, "journal_mode") {
                out.push(
                    s.finding(
                        &RULE,
                        format!("PRAGMA journal_mode cannot be changed inside the transaction {runner} runs each migration in"),
                        span,
                    )
                    .help(help),
                );
            } else if s.is_kw(name, "foreign_keys") && turns_off(s, name + 2) {
                out.push(foreign_keys_off(s, layout, span, help));
            }
        }
        _ => {}
    }
}

fn foreign_keys_off(
    s: &StatementCtx<'_, '_, '_>,
    layout: Layout,
    span: std::ops::Range<usize>,
    help: String,
) -> Finding {
    if s.unit.is_python() {
        return s
            .finding(
                &RULE,
                "PRAGMA foreign_keys = OFF is silently ignored inside the transaction schemagate runs upgrade(conn) in: foreign keys stay as the interpreter's SQLite sets them, and where that is on, a table rebuild cascades deletes into child tables",
                span,
            )
            .help(help);
    }
    if layout == Layout::Legacy {
        // The executor (`apply::step`) turns foreign keys off before BEGIN and diffs the
        // violations before COMMIT: the statement is a no-op nothing relies on.
        let mut f = s
            .finding(
                &RULE,
                "PRAGMA foreign_keys = OFF does nothing here, and nothing needs it: schemagate turns foreign keys off before each .sql migration's transaction and checks for new foreign key violations before COMMIT",
                span,
            )
            .help("it can stay (it is harmless) or go; a table rebuild in this file is safe either way");
        f.severity = Severity::Info;
        return f;
    }
    s.finding(
        &RULE,
        format!("PRAGMA foreign_keys = OFF is silently ignored inside the transaction {} runs each migration in: foreign keys stay on where the connection enables them, and a table rebuild then cascades deletes into child tables", runner(layout)),
        span,
    )
    .help(help)
}

fn turns_off(s: &StatementCtx<'_, '_, '_>, i: usize) -> bool {
    let v = s.text(i).trim_matches(['\'', '"']).to_ascii_lowercase();
    matches!(v.as_str(), "off" | "0" | "false" | "no")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::{at, py, sql, sql_with};

    #[test]
    fn vacuum_and_journal_mode_in_a_transactional_file() {
        let text = "-- tidy\nVACUUM;\nPRAGMA journal_mode = WAL;\nVACUUM INTO 'x.db';\n";
        let f = sql(RULE.id, text);
        assert_eq!(at(&f), [(2, 1), (3, 1), (4, 1)]);
        assert!(f.iter().all(|f| f.severity == Severity::Error));
    }

    /// Regression: drizzle's and atlas's generated table rebuilds start with
    /// `PRAGMA foreign_keys=OFF`; schemagate's executor has already turned them off, so
    /// an error there was false.
    #[test]
    fn foreign_keys_off_in_a_legacy_sql_file_is_info() {
        for text in [
            "PRAGMA foreign_keys=OFF;--> statement-breakpoint\nCREATE TABLE `__new_t` (`id` integer);\n",
            "PRAGMA main.foreign_keys = off;\n",
            "PRAGMA foreign_keys = 0;\n",
        ] {
            let f = sql(RULE.id, text);
            assert_eq!(at(&f), [(1, 1)], "{text}");
            assert_eq!(f[0].severity, Severity::Info);
            assert!(
                f[0].message.contains("does nothing here"),
                "{}",
                f[0].message
            );
            assert!(f[0].message.contains("before COMMIT"), "{}", f[0].message);
        }
    }

    #[test]
    fn foreign_keys_off_is_an_error_where_the_no_op_matters() {
        let text = "def upgrade(conn):\n    conn.execute(\"PRAGMA foreign_keys = OFF\")\n";
        let f = py(RULE.id, "004_x.py", text);
        assert_eq!(at(&f), [(2, 19)]);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("silently ignored"));

        let dbmate = LintInputs {
            layout: Layout::Dbmate,
            ..LintInputs::default()
        };
        let f = sql_with(RULE.id, "PRAGMA foreign_keys = OFF;\n", &dbmate);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("dbmate runs"), "{}", f[0].message);
        assert!(
            f[0].help.as_deref().unwrap().contains("transaction:false"),
            "{:?}",
            f[0].help
        );
    }

    /// Regression: code that only runs when the file is run by hand (no connection from a
    /// runner) was linted as part of `upgrade()`.
    #[test]
    fn code_for_running_the_file_by_hand_is_not_the_migration() {
        let text = r#"import os
import sqlite3


def upgrade(conn=None):
    if conn is None:
        conn = sqlite3.connect(os.environ["DB_PATH"])
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("VACUUM")


def downgrade(connection):
    if not connection:
        connection = sqlite3.connect("app.db")
        connection.execute("PRAGMA foreign_keys = OFF")


if __name__ == "__main__":
    c = sqlite3.connect(os.environ.get("DB_PATH", "app.db"))
    c.execute("PRAGMA journal_mode = WAL")
    upgrade(c)
"#;
        // Only the VACUUM that `upgrade(conn)` runs under a runner.
        assert_eq!(at(&py(RULE.id, "005_x.py", text)), [(9, 19)]);
    }

    #[test]
    fn queries_other_pragmas_and_no_transaction_files_are_fine() {
        let text = "PRAGMA journal_mode;\nPRAGMA foreign_key_check;\nPRAGMA user_version = 3;\nSELECT 'VACUUM';\nPRAGMA foreign_keys = ON;\n";
        assert!(sql(RULE.id, text).is_empty());
        let marked = "-- schemagate:no-transaction\nPRAGMA journal_mode = WAL;\nVACUUM;\nPRAGMA foreign_keys = OFF;\n";
        assert!(sql(RULE.id, marked).is_empty());
    }
}
