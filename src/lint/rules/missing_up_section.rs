//! `missing-up-section`: a migration whose Up SQL its tool would not find.

use crate::lint::RuleDoc;
use crate::migration::Discovery;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "missing-up-section",
    default_severity: Severity::Error,
    summary: "A dbmate/goose file without an Up section, a down file without its up file, a diesel folder without up.sql",
    docs: r#"## What it does
Flags migrations whose Up SQL the folder's tool would not find:
- a dbmate file without a `-- migrate:up` line, or with `-- migrate:down` first;
- a goose file without a `-- +goose Up` line, or with `-- +goose Down` first;
- SQL above the Up marker (it belongs to no section: dbmate and goose refuse the file);
- a `.down.sql` file (sqlx, golang-migrate) without the `.up.sql` of its version;
- a diesel migration folder without `up.sql`.

schemagate runs nothing of such a file (a Down section is never run forward), and the
tool itself refuses it at deploy time.

## Why is this bad?
The markers are comments to SQLite: a file that lost its `-- migrate:up` line still looks
like SQL, but dbmate refuses to run it (and older tools ran its Down SQL as part of the
Up). The schema change it holds never reaches production, and the deploy stops there.

## Example
```sql
CREATE TABLE users (id INTEGER PRIMARY KEY);

-- migrate:down
DROP TABLE users;
```

## Use instead
```sql
-- migrate:up
CREATE TABLE users (id INTEGER PRIMARY KEY);

-- migrate:down
DROP TABLE users;
```
"#,
};

pub fn check(d: &Discovery, out: &mut Vec<Finding>) {
    for m in &d.missing_up {
        let mut f = Finding::of(&RULE, m.message.clone())
            .path(&m.path)
            .help("start the file with the layout's Up marker (`-- migrate:up`, `-- +goose Up`), or give the down file its up file; nothing of it runs until then");
        if let (Some(line), Some(column)) = (m.line, m.column) {
            f = f.at(line, column);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::lint_files;

    #[test]
    fn a_marker_file_without_up_is_an_error_and_runs_nothing() {
        let up = "-- migrate:up\nCREATE TABLE a(x);\n-- migrate:down\nDROP TABLE a;\n";
        let no_up = "CREATE TABLE b(x);\n-- migrate:down\nDROP TABLE b;\n";
        let f: Vec<_> = lint_files(
            &[("001_a.sql", up), ("002_b.sql", up), ("003_b.sql", no_up)],
            &LintInputs::default(),
        );
        let mine: Vec<_> = f.iter().filter(|f| f.rule == RULE.id).collect();
        assert_eq!(mine.len(), 1, "{f:#?}");
        assert_eq!(mine[0].severity, Severity::Error);
        assert_eq!(mine[0].path.as_deref(), Some("m/003_b.sql"));
        assert!(mine[0].message.contains("no `-- migrate:up`"));
        // The Down SQL of that file is not linted as forward SQL either.
        assert!(
            !f.iter()
                .any(|f| f.path.as_deref() == Some("m/003_b.sql") && f.rule == "destructive-change"),
            "{f:#?}"
        );
    }
}
