//! not-idempotent: running a migration a second time fails or changes the schema.

use crate::layout::Layout;
use crate::lint::py_scan::PythonAst;
use crate::lint::{RuleDoc, SqlUnit};
use crate::migration::{Discovery, Kind, Migration};
use crate::report::{Finding, Severity};

use super::{add_column_not_idempotent, robust_statements};

pub const RULE: RuleDoc = RuleDoc {
    id: "not-idempotent",
    default_severity: Severity::Warning,
    summary: "Running the migration a second time fails or changes the schema",
    docs: r#"## What it does
After a migration succeeds in the dry run, runs it a second time on the scratch copy inside
a transaction that is always rolled back. If the second run fails, or changes the schema,
the migration is not re-runnable.

## Why is this bad?
The legacy workflow re-ran migrations after partial failures and restores, and its docs ask
for migrations that can run twice. A migration that cannot is a trap for the next person
who restores a backup taken between the schema change and the history row, or who repairs
the history table by hand.

## Example
```sql
ALTER TABLE users ADD COLUMN email TEXT;   -- second run: duplicate column name: email
```

## Use instead
Guard the change. SQLite has no `ADD COLUMN IF NOT EXISTS`, so add columns in a Python
migration that checks first:
```python
def upgrade(conn):
    columns = {row[1] for row in conn.execute("PRAGMA table_info(users)")}
    if "email" not in columns:
        conn.execute("ALTER TABLE users ADD COLUMN email TEXT")
```
and use `CREATE ... IF NOT EXISTS` / `DROP ... IF EXISTS` in SQL migrations.

## One report per statement, and only where files are re-run
`robust-statements` and `add-column-not-idempotent` predict the same property from the
text. Where one of them already flags the statement the second run failed at, that
finding is the one report (with the dry run's error added to it) and this one is left
out. The three rules are warnings in the legacy layout, whose workflow re-ran files; in
folders of other layouts (sqlx, dbmate, goose, ...) the tool records each file once and
never runs it again, so they are info there.
"#,
};

/// The layout's own workflow re-runs migration files: the legacy manager's documentation
/// asked for migrations that can run twice (retries after partial failures, restores).
/// The other tools record each file once and never run it again.
pub fn reruns_files(layout: Layout) -> bool {
    layout == Layout::Legacy
}

/// A finding of one of the re-run rules, at the severity the layout calls for: info where
/// the tool never re-runs a file.
pub fn for_layout(mut f: Finding, layout: Layout) -> Finding {
    if !reruns_files(layout) {
        f.severity = Severity::Info;
        f.message.push_str(&format!(
            " ({layout} records each migration once and does not re-run it, so this matters only to someone who runs the file again by hand)"
        ));
    }
    f
}

/// One report per statement, at the layout's severity: a `not-idempotent` finding of the
/// dry run is folded into the `robust-statements` or `add-column-not-idempotent` finding
/// of the statement its second run failed at (which gains the dry run's error), and the
/// rest are info in layouts whose tool never re-runs a file. Runs over the raw findings,
/// before suppression comments and `[rules]`, so silencing the static finding silences
/// the statement.
pub fn settle(
    findings: Vec<Finding>,
    d: &Discovery,
    python: Option<&PythonAst>,
    layout: Layout,
) -> Vec<Finding> {
    let is_static = |f: &Finding| {
        f.rule == robust_statements::RULE.id || f.rule == add_column_not_idempotent::RULE.id
    };
    let mut findings = findings;
    let mut folded = vec![false; findings.len()];
    for i in 0..findings.len() {
        if findings[i].rule != RULE.id {
            continue;
        }
        let dynamic = &findings[i];
        let Some(target) = findings.iter().position(|g| {
            is_static(g) && g.path == dynamic.path && same_statement(d, python, g, dynamic)
        }) else {
            continue;
        };
        let error = dry_run_error(&dynamic.message);
        folded[i] = true;
        let target = &mut findings[target];
        if !target.message.contains(&error) {
            target
                .message
                .push_str(&format!(" (the dry run's second run fails here: {error})"));
        }
    }
    findings
        .into_iter()
        .zip(folded)
        .filter(|(_, folded)| !folded)
        .map(|(f, _)| {
            if f.rule == RULE.id {
                for_layout(f, layout)
            } else {
                f
            }
        })
        .collect()
}

/// SQLite's error in a `not-idempotent` message (`NAME cannot run twice: the second run
/// fails: ERROR`).
fn dry_run_error(message: &str) -> String {
    let reason = message
        .split_once("cannot run twice: ")
        .map_or(message, |(_, reason)| reason);
    reason
        .strip_prefix("the second run fails: ")
        .unwrap_or(reason)
        .to_string()
}

/// Whether a static finding `stat` and the dry run's `dynamic` finding are about the same
/// statement of the same file.
fn same_statement(
    d: &Discovery,
    python: Option<&PythonAst>,
    stat: &Finding,
    dynamic: &Finding,
) -> bool {
    let (Some(path), Some(line)) = (dynamic.path.as_deref(), dynamic.line) else {
        return false;
    };
    let Some(m) = d.migrations.iter().find(|m| m.path == path) else {
        return false;
    };
    let (Some(sl), Some(sc)) = (stat.line, stat.column) else {
        return false;
    };
    match m.kind {
        Kind::Sql => {
            let at = (line, dynamic.column.unwrap_or(1));
            let unit = SqlUnit::file(m);
            unit.statements.iter().any(|st| {
                let start = unit.position(st.span.start);
                let end = unit.position(st.span.end);
                let inside = |p: (usize, usize)| start <= p && p <= end;
                inside(at) && inside((sl, sc))
            })
        }
        // The dry run knows the line of the failing call; the static finding sits on the
        // literal passed to it.
        Kind::Python => python.and_then(|ast| ast.get(path)).is_some_and(|py| {
            py.sql.iter().any(|lit| {
                let call = lit.call_line..=lit.call_end_line;
                call.contains(&line) && call.contains(&sl)
            })
        }),
    }
}

/// `line`/`column`: where the second run failed, when it did.
pub fn finding(m: &Migration, reason: &str, at: Option<(usize, usize)>) -> Finding {
    let mut f = Finding::of(&RULE, format!("{} cannot run twice: {reason}", m.file_name),
    )
    .path(&m.path)
    .help(match m.kind {
        crate::migration::Kind::Sql => "use IF NOT EXISTS / IF EXISTS; for ADD COLUMN, use a Python migration that checks PRAGMA table_info first",
        crate::migration::Kind::Python => "check the current schema before changing it (PRAGMA table_info, sqlite_master)",
    });
    if let Some((l, c)) = at {
        f = f.at(l, c);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    #[test]
    fn the_reason_and_place_are_in_the_finding() {
        let d = discover(
            "m",
            [("002_email.sql", b"ALTER TABLE u ADD COLUMN e;\n".as_slice())],
        );
        let f = finding(
            &d.migrations[0],
            "the second run fails: duplicate column name: e",
            Some((1, 1)),
        );
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.path.as_deref(), Some("m/002_email.sql"));
        assert!(f.message.contains("duplicate column name"));
        assert!(f.help.unwrap().contains("PRAGMA table_info"));
    }

    fn dry_run_finding(d: &Discovery, name: &str, at: (usize, usize), reason: &str) -> Finding {
        let m = d.migrations.iter().find(|m| m.file_name == name).unwrap();
        finding(m, &format!("the second run fails: {reason}"), Some(at))
    }

    /// Regression: an unguarded ADD COLUMN was reported by `add-column-not-idempotent`, by
    /// the dry run of `check` and again by its replay: one property, three reports.
    #[test]
    fn the_dry_run_finding_folds_into_the_statement_s_static_finding() {
        let files = [
            (
                "001_init.sql",
                "-- init\nCREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS t (x);\n",
            ),
            (
                "002_email.sql",
                "-- email\nALTER TABLE users ADD COLUMN email TEXT;\n",
            ),
            (
                "003_seed.sql",
                "CREATE TABLE IF NOT EXISTS u (x UNIQUE);\nINSERT INTO u VALUES (1);\n",
            ),
        ];
        let d = discover("m", files.map(|(n, t)| (n, t.as_bytes())));
        let mut findings = crate::lint::lint_folder(
            &d,
            &crate::lint::LintInputs {
                dir: "m".into(),
                ..Default::default()
            },
        );
        findings.retain(|f| f.rule != "destructive-change");
        // "already exists" points inside the statement, not at its start.
        findings.push(dry_run_finding(
            &d,
            "001_init.sql",
            (2, 14),
            "table users already exists",
        ));
        findings.push(dry_run_finding(
            &d,
            "002_email.sql",
            (2, 1),
            "duplicate column name: email",
        ));
        // No static rule sees this one: it stays.
        findings.push(dry_run_finding(
            &d,
            "003_seed.sql",
            (2, 1),
            "UNIQUE constraint failed: u.x",
        ));
        let out = settle(findings, &d, None, Layout::Legacy);
        let rules: Vec<(&str, Option<&str>)> = out
            .iter()
            .map(|f| (f.rule.as_str(), f.path.as_deref()))
            .collect();
        assert_eq!(
            rules,
            [
                ("robust-statements", Some("m/001_init.sql")),
                ("add-column-not-idempotent", Some("m/002_email.sql")),
                ("not-idempotent", Some("m/003_seed.sql")),
            ]
        );
        assert!(
            out[0]
                .message
                .ends_with("(the dry run's second run fails here: table users already exists)"),
            "{}",
            out[0].message
        );
        assert!(out[1].message.contains("duplicate column name: email"));
        assert_eq!(out[2].severity, Severity::Warning);
    }

    #[test]
    fn other_layouts_get_info() {
        let d = discover(
            "m",
            [(
                "20240101000000_seed.sql",
                b"INSERT INTO u VALUES (1);\n".as_slice(),
            )],
        );
        let f = dry_run_finding(
            &d,
            "20240101000000_seed.sql",
            (1, 1),
            "UNIQUE constraint failed: u.x",
        );
        let out = settle(vec![f.clone()], &d, None, Layout::Sqlx);
        assert_eq!(out[0].severity, Severity::Info);
        assert!(
            out[0].message.contains("sqlx records each migration once"),
            "{}",
            out[0].message
        );
        assert_eq!(
            settle(vec![f], &d, None, Layout::Legacy)[0].severity,
            Severity::Warning
        );
    }
}
