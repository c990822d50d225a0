//! `unverified-record`: a history row whose checksum was never a digest.

use crate::lint::RuleDoc;
use crate::plan::{Plan, RowOrigin, State};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "unverified-record",
    default_severity: Severity::Info,
    summary: "A migration is recorded with a checksum such as `manual`, empty or NULL",
    docs: r#"## What it does
Lists applied migrations whose `schema_versions.checksum` is not an MD5 or SHA-256 digest:
`manual` and `manual-skip` (rows inserted by hand, as the legacy docs advised), an empty
string or NULL. For a folder of another tool, its history table is read instead: a tool
that records no checksums (dbmate, goose, golang-migrate, diesel), golang-migrate's one
current version and a Flyway baseline get one finding per database that sums up the
migrations they count as applied; a sqlx, Flyway or refinery row without a checksum that
can be recomputed is listed like a `manual` row.

## Why is this bad?
Nothing can tell whether the file still matches what was applied: such a row is neither a
match nor drift. It is usually fine, but worth knowing.

## Example
```sql
INSERT INTO schema_versions (version, description, checksum) VALUES ('004', 'hotfix', 'manual');
```

## Use instead
Record the file's real checksum with `schemagate mark-applied 004 --reason ...` once you have
checked the database has that migration's changes. For another tool's table, `schemagate
verify` compares the real schema with a replay of the applied migrations.
"#,
};

/// One finding per unverified file; for a tool that records no checksums at all (dbmate,
/// goose, golang-migrate, diesel, a Flyway baseline) one finding for all its rows, since no
/// row of it could ever be verified.
pub fn check(plan: &Plan<'_>) -> Vec<Finding> {
    let unverified = || plan.entries.iter().filter(|e| e.state == State::Unverified);
    let mut out = Vec::new();
    let mut summarised: Vec<RowOrigin> = Vec::new();
    for e in unverified() {
        let Some(row) = e.row else {
            continue;
        };
        let origin = row.origin;
        if origin.records_checksums() || summarised.contains(&origin) {
            continue;
        }
        summarised.push(origin);
        let versions: Vec<&str> = unverified()
            .filter(|e| e.migration.is_some() && e.row.is_some_and(|r| r.origin == origin))
            .map(|e| e.version.as_str())
            .collect();
        let range = match versions.as_slice() {
            [one] => one.to_string(),
            [first, .., last] => format!("{first} to {last}"),
            [] => continue,
        };
        let (migrations, files) = match versions.len() {
            1 => ("1 migration".to_string(), "its file"),
            n => (format!("{n} migrations"), "their files"),
        };
        let message = match origin {
            RowOrigin::GolangMigrate => format!(
                "golang-migrate records only the current version ({}) and no checksums: {migrations} ({range}) counted as applied cannot be verified against {files}",
                row.version
            ),
            RowOrigin::FlywayBaseline => format!(
                "Flyway's baseline at version {} counts {migrations} ({range}) as applied with no checksum: {files} cannot be verified",
                row.version
            ),
            _ => format!(
                "{} records no checksums: {migrations} ({range}) recorded as applied cannot be verified against {files}",
                origin.tool()
            ),
        };
        out.push(Finding::of(&RULE, message).help(
            "`schemagate verify` compares the database's schema with a replay of the applied migrations",
        ));
    }
    out.extend(unverified().filter_map(|e| {
        let m = e.migration?;
        let origin = e.row.map_or(RowOrigin::SchemaVersions, |r| r.origin);
        if !origin.records_checksums() {
            return None;
        }
        let stored = e
            .row
            .and_then(|r| r.checksum.clone())
            .map(|c| format!("`{c}`"))
            .unwrap_or_else(|| "NULL".into());
        let help = if origin == RowOrigin::SchemaVersions {
            format!(
                "after checking the database, record the real checksum: `schemagate mark-applied {} --reason ...`",
                m.version
            )
        } else {
            format!(
                "{} stored no checksum schemagate can recompute for this row",
                origin.tool()
            )
        };
        Some(
            Finding::of(
                &RULE,
                format!(
                    "{} is recorded as applied with checksum {stored}, so its content cannot be verified",
                    m.path
                ),
            )
            .path(m.path.clone())
            .help(help),
        )
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::plan::HistoryRow;

    #[test]
    fn manual_and_null_rows_are_listed() {
        let d = discover(
            "m",
            [
                ("001_a.sql", b"SELECT 1;".as_slice()),
                ("002_b.sql", b"SELECT 2;".as_slice()),
            ],
        );
        let row = |id, v: &str, c: Option<&str>| HistoryRow {
            id,
            version: v.into(),
            applied_at: None,
            description: None,
            checksum: c.map(str::to_string),
            file_name: None,
            skeleton: None,
            ..Default::default()
        };
        let rows = vec![row(1, "001", Some("manual")), row(2, "002", None)];
        let f = check(&Plan::new(&d, &rows));
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("`manual`"));
        assert!(f[1].message.contains("NULL"));
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn a_tool_without_checksums_gets_one_summary() {
        let d = discover(
            "m",
            [
                ("1_a.sql", b"SELECT 1;".as_slice()),
                ("2_b.sql", b"SELECT 2;".as_slice()),
                ("3_c.sql", b"SELECT 3;".as_slice()),
            ],
        );
        let current = vec![HistoryRow {
            id: 1,
            version: "2".into(),
            origin: RowOrigin::GolangMigrate,
            ..Default::default()
        }];
        let f = check(&Plan::new(&d, &current));
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "golang-migrate records only the current version (2) and no checksums: 2 migrations (1 to 2) counted as applied cannot be verified against their files"
        );
        let baseline = vec![HistoryRow {
            origin: RowOrigin::FlywayBaseline,
            version: "1".into(),
            ..current[0].clone()
        }];
        let f = check(&Plan::new(&d, &baseline));
        assert_eq!(
            f[0].message,
            "Flyway's baseline at version 1 counts 1 migration (1) as applied with no checksum: its file cannot be verified"
        );
    }
}
