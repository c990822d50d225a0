//! `invalid-history-row`: a history row whose version is not a clean version number, or
//! that records a version another row already records.

use crate::lint::RuleDoc;
use crate::plan::{DuplicateRow, HistoryRow, OddRow, Plan, RowOrigin, RowVersion};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "invalid-history-row",
    default_severity: Severity::Error,
    summary: "A history row's version is not a clean version number, or repeats another row's version",
    docs: r#"## What it does
Checks every row of the history table (`schema_versions`, or the tool's own table for other
layouts) against what a version is: a run of ASCII digits (in Flyway's
`flyway_schema_history` also dotted digits, `1.1`, as Flyway writes the version of
`V1.1__x.sql`). Each row that is not is named with its table, row id and value:
- whitespace around the number (`' 2'`): a warning. Where versions compare as numbers the
  row still counts for its version (it most likely records that migration; running it a
  second time is the worse mistake). dbmate and diesel compare versions as text, so there
  it matches no file, as it does for the tool.
- something that reads like a number but is not a version (`2.0`, `-1`, `+2`, `1e3`,
  full-width digits): an error. No file matches it, so if it meant version 2, migration
  002 is pending and would run a second time; nobody can tell without looking.
- no number at all (`abc`, an empty string, NULL): a warning. It cannot record any
  migration and is ignored.
- a second row for a version that already has one (`001` and `1`, or `' 1'`): an error.
  Which row is right (and whether the migration ran twice) is not recorded anywhere. The
  plan uses the row whose checksum matches the file, else the first one.

## Why is this bad?
The history is the only record of what ran. Rows written by hand (`sqlite3 ... INSERT`)
or by a buggy script make it ambiguous, and an ambiguous history is how a migration runs
twice or never. Before this rule such rows were read silently: `' 2'` counted as 002,
`2.0` was ignored, and a duplicate `001` showed up as a "missing file".

## Example
```sql
INSERT INTO schema_versions (version, description, checksum) VALUES ('2.0', 'hotfix', 'manual');
```

## Use instead
Correct or remove the row once you know what it records, for example:
```sql
UPDATE schema_versions SET version = '002' WHERE id = 7;
DELETE FROM schema_versions WHERE id = 9;
```
For another tool's table, fix it with that tool. `schemagate migrate` refuses while an
error of this rule stands.
"#,
};

pub fn check(plan: &Plan<'_>, database: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = plan.odd_rows.iter().map(|o| odd(o, database)).collect();
    out.extend(plan.duplicate_rows.iter().map(|d| duplicate(d, database)));
    out
}

/// How to fix a row: SQL for `schema_versions`, the tool for the others.
fn fix(row: &HistoryRow, sql: String) -> String {
    if row.origin == RowOrigin::SchemaVersions {
        sql
    } else {
        format!("correct or remove the row with {}", row.origin.tool())
    }
}

fn odd(o: &OddRow<'_>, database: &str) -> Finding {
    let row = o.row;
    let label = row.label();
    let remove = || {
        fix(
            row,
            format!("DELETE FROM schema_versions WHERE id = {}", row.id),
        )
    };
    let (severity, message, help) = match &o.version {
        RowVersion::Padded(_) if row.origin.compares_text() => (
            Severity::Warning,
            format!(
                "{database}: {label} has whitespace around the number; {} compares versions as text, so it matches no file (as for {} itself)",
                row.origin.tool(),
                row.origin.tool()
            ),
            fix(row, String::new()),
        ),
        RowVersion::Padded(v) => (
            Severity::Warning,
            format!(
                "{database}: {label} has whitespace around the number; it is read as version {v}"
            ),
            fix(
                row,
                format!(
                    "write the version without whitespace: UPDATE schema_versions SET version = '{v}' WHERE id = {}",
                    row.id
                ),
            ),
        ),
        RowVersion::NumberLike => (
            RULE.default_severity,
            format!(
                "{database}: {label} looks like a number but is not a version (a run of digits); no file matches it, so if it meant a version, that migration would run again"
            ),
            fix(
                row,
                format!(
                    "correct it to the version it records (UPDATE schema_versions SET version = '...' WHERE id = {}), or remove it",
                    row.id
                ),
            ),
        ),
        RowVersion::Empty => (
            Severity::Warning,
            format!(
                "{database}: {label} has no version; it cannot record any migration and is ignored"
            ),
            remove(),
        ),
        RowVersion::NotANumber => (
            Severity::Warning,
            format!(
                "{database}: {label} is not a version number; it cannot record any migration and is ignored"
            ),
            remove(),
        ),
        RowVersion::Clean(_) => unreachable!("clean rows are not odd"),
    };
    let mut f = Finding::of(&RULE, message);
    f.severity = severity;
    if help.is_empty() { f } else { f.help(help) }
}

fn duplicate(d: &DuplicateRow<'_>, database: &str) -> Finding {
    Finding::of(
        &RULE,
        format!(
            "{database}: {} records the same version as row {} (version '{}'); which one is right is not recorded, the plan uses row {}",
            d.extra.label(),
            d.kept.id,
            d.kept.version.escape_debug(),
            d.kept.id
        ),
    )
    .help(fix(
        d.extra,
        format!(
            "once you know which row is right, remove the other: DELETE FROM schema_versions WHERE id = {}",
            d.extra.id
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::plan::State;

    fn row(id: i64, version: &str) -> HistoryRow {
        HistoryRow {
            id,
            version: version.into(),
            checksum: Some("manual".into()),
            ..HistoryRow::default()
        }
    }

    #[test]
    fn every_odd_row_is_named_with_its_severity() {
        let d = discover(
            "m",
            [
                ("001_a.sql", b"SELECT 1;".as_slice()),
                ("002_b.sql", b"SELECT 2;".as_slice()),
            ],
        );
        let rows = vec![
            row(1, "001"),
            row(2, " 2"),
            row(3, "2.0"),
            row(4, "abc"),
            row(5, "-1"),
            row(6, ""),
        ];
        let plan = Plan::new(&d, &rows);
        let f = check(&plan, "app.db");
        let got: Vec<(Severity, bool)> = f
            .iter()
            .map(|f| (f.severity, f.message.contains("schema_versions row")))
            .collect();
        assert_eq!(
            got,
            [
                (Severity::Warning, true),
                (Severity::Error, true),
                (Severity::Warning, true),
                (Severity::Error, true),
                (Severity::Warning, true),
            ]
        );
        assert!(
            f[0].message.contains("row 2 (version ' 2')"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("read as version 2"),
            "{}",
            f[0].message
        );
        assert!(f[1].message.contains("'2.0'"), "{}", f[1].message);
        assert!(f[3].message.contains("'-1'"), "{}", f[3].message);
        assert!(
            f[4].message.contains("row 6 (version '')"),
            "{}",
            f[4].message
        );
        // ' 2' counts as 002 (decided: see the module docs of `plan`); the others match nothing.
        let states: Vec<State> = plan.entries.iter().map(|e| e.state).collect();
        assert_eq!(states, [State::Unverified, State::Unverified]);
        assert_eq!(plan.entries[1].row.unwrap().id, 2);
    }

    #[test]
    fn a_second_row_for_a_version_is_a_duplicate_not_a_missing_file() {
        let d = discover("m", [("001_a.sql", b"SELECT 1;".as_slice())]);
        let good = d.migrations[0].checksum.clone();
        let rows = vec![
            row(1, "1"),
            HistoryRow {
                checksum: Some(good),
                ..row(2, "001")
            },
            row(3, "012"),
            row(4, "12"),
        ];
        let plan = Plan::new(&d, &rows);
        assert_eq!(
            plan.count(State::MissingFile),
            1,
            "one entry for 012, none for 001"
        );
        let f = check(&plan, "app.db");
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.severity == Severity::Error));
        // The row whose checksum matches the file is the one the plan uses.
        assert!(
            f[0].message
                .contains("row 1 (version '1') records the same version as row 2"),
            "{}",
            f[0].message
        );
        assert_eq!(plan.entries[0].state, State::Applied);
        assert!(
            f[1].message
                .contains("row 4 (version '12') records the same version as row 3"),
            "{}",
            f[1].message
        );
        assert!(f[1].help.as_deref().unwrap().contains("WHERE id = 4"));
    }

    #[test]
    fn text_tables_keep_padded_rows_apart_from_their_file() {
        let d = discover("m", [("2_b.sql", b"SELECT 2;".as_slice())]);
        let rows = vec![HistoryRow {
            origin: RowOrigin::Dbmate,
            ..row(1, " 2")
        }];
        let plan = Plan::new(&d, &rows);
        assert_eq!(plan.entries[0].state, State::Pending, "dbmate would run it");
        let f = check(&plan, "app.db");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("dbmate compares versions as text"),
            "{}",
            f[0].message
        );
        assert!(f[0].help.as_deref().unwrap().contains("with dbmate"));
    }
}
