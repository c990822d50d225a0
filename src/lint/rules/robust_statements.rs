//! `robust-statements`: CREATE without IF NOT EXISTS, DROP without IF EXISTS.

use crate::lint::{RuleDoc, StatementCtx};
use crate::report::{Finding, Severity};
use crate::sql::StatementKind as K;

pub const RULE: RuleDoc = RuleDoc {
    id: "robust-statements",
    default_severity: Severity::Warning,
    summary: "CREATE TABLE/INDEX/VIEW/TRIGGER without IF NOT EXISTS, DROP without IF EXISTS",
    docs: r#"## What it does
Flags `CREATE TABLE`, `CREATE INDEX`, `CREATE VIEW`, `CREATE TRIGGER` and
`CREATE VIRTUAL TABLE` without `IF NOT EXISTS`, and `DROP TABLE/INDEX/VIEW/TRIGGER` without
`IF EXISTS`. Temporary objects are not flagged.

## Why is this bad?
A migration sometimes meets a database that already has the change: a retry after a
half-applied run of the legacy manager (which did not use one transaction per migration),
a database restored from a backup taken mid-deploy, or a table created by hand. Without the
guard, the migration fails with "table users already exists" and blocks every later one.

## Example
```sql
CREATE TABLE users (id INTEGER PRIMARY KEY);
DROP INDEX idx_users_name;
```

## Use instead
```sql
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);
DROP INDEX IF EXISTS idx_users_name;
```
`ALTER TABLE ... ADD COLUMN` has no such guard in SQLite: see `add-column-not-idempotent`.

A warning in the legacy layout, whose workflow re-ran files; info in folders of other
layouts, whose tool runs each file once (see `not-idempotent`, which this finding replaces
for the statement when the dry run's second run fails there).
"#,
};

pub fn check(s: &StatementCtx<'_, '_, '_>, out: &mut Vec<Finding>) {
    let create = matches!(
        s.kind,
        K::CreateTable | K::CreateIndex | K::CreateView | K::CreateTrigger | K::CreateVirtualTable
    );
    let drop = matches!(
        s.kind,
        K::DropTable | K::DropIndex | K::DropView | K::DropTrigger
    );
    if !create && !drop {
        return;
    }
    if s.is_kw(1, "TEMP") || s.is_kw(1, "TEMPORARY") {
        return;
    }
    // Index of the object keyword (TABLE, INDEX, ...).
    let mut k = 1;
    while k < s.tokens().len()
        && !["TABLE", "INDEX", "VIEW", "TRIGGER"]
            .iter()
            .any(|kw| s.is_kw(k, kw))
    {
        k += 1;
    }
    let guarded = if create {
        s.is_kw(k + 1, "IF") && s.is_kw(k + 2, "NOT") && s.is_kw(k + 3, "EXISTS")
    } else {
        s.is_kw(k + 1, "IF") && s.is_kw(k + 2, "EXISTS")
    };
    if guarded {
        return;
    }
    let name_end = if s.is_op(k + 2, ".") { k + 3 } else { k + 1 };
    let head: Vec<String> = (0..=k).map(|i| s.text(i).to_ascii_uppercase()).collect();
    let head = head.join(" ");
    let name: String = (k + 1..=name_end).map(|i| s.text(i)).collect();
    let (guard, why) = if create {
        ("IF NOT EXISTS", "fails when the object already exists")
    } else {
        ("IF EXISTS", "fails when the object is already gone")
    };
    out.push(super::not_idempotent::for_layout(
        s.finding(
            &RULE,
            format!("`{head} {name}` without {guard} {why}"),
            s.span(0, name_end),
        )
        .help(format!(
            "write `{head} {guard} {name}` so a re-run against a database that already has the change does not fail"
        )),
        s.layout,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, py, sql};

    #[test]
    fn unguarded_create_and_drop() {
        let text = r#"-- Users
CREATE TABLE users (id INTEGER PRIMARY KEY);
  CREATE UNIQUE INDEX idx_u ON users(id);
CREATE VIEW main.v AS SELECT 1;
CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END;
DROP TABLE old;
CREATE VIRTUAL TABLE f USING fts5(body);
"#;
        let f = sql(RULE.id, text);
        assert_eq!(at(&f), [(2, 1), (3, 3), (4, 1), (5, 1), (6, 1), (7, 1)]);
        assert_eq!(f[0].end_column, Some(19));
        assert!(
            f[0].help
                .as_deref()
                .unwrap()
                .contains("CREATE TABLE IF NOT EXISTS users")
        );
        assert!(
            f[2].help
                .as_deref()
                .unwrap()
                .contains("CREATE VIEW IF NOT EXISTS main.v")
        );
        assert!(
            f[4].help
                .as_deref()
                .unwrap()
                .contains("DROP TABLE IF EXISTS old")
        );
    }

    #[test]
    fn a_warning_where_files_are_re_run_and_info_elsewhere() {
        let text = "CREATE TABLE users (id INTEGER PRIMARY KEY);\n";
        assert_eq!(sql(RULE.id, text)[0].severity, Severity::Warning);
        let goose = crate::lint::LintInputs {
            layout: crate::layout::Layout::Goose,
            ..Default::default()
        };
        let f = crate::lint::testing::sql_with(RULE.id, text, &goose);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(
            f[0].message.contains("goose records each migration once"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn guarded_temporary_and_other_statements_are_clean() {
        let text = r#"CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);
create unique index if not exists idx_u on users(id);
CREATE TEMP TABLE scratch (x);
DROP TABLE IF EXISTS old;
DROP TRIGGER IF EXISTS t;
INSERT INTO users(id) VALUES (1);
-- CREATE TABLE in a comment;
SELECT 'CREATE TABLE x';
"#;
        assert!(sql(RULE.id, text).is_empty());
    }

    #[test]
    fn python_literals_are_linted_at_their_line_in_the_py_file() {
        let text = "DESCRIPTION = 'x'\r\n\r\ndef upgrade(conn):\r\n    conn.execute(\"\"\"\r\n        CREATE TABLE tags (id INTEGER PRIMARY KEY)\r\n    \"\"\")\r\n    conn.execute('DROP INDEX i')\r\n    conn.execute(\"SELECT 1; \\\n CREATE INDEX j ON t(x)\")\r\n    conn.execute(f\"CREATE TABLE {name} (x)\")\r\n";
        let f = py(RULE.id, "004_x.py", text);
        // exact positions for plain literals; the literal's start when escapes make
        // offsets unreliable; f-strings are not SQL we can read.
        assert_eq!(at(&f), [(5, 9), (7, 19), (8, 18)]);
        assert_eq!(f[0].end_column, Some(26));
    }
}
