//! `duplicate-content`: two migrations with the same content.

use std::collections::HashMap;

use crate::lint::RuleDoc;
use crate::migration::{Discovery, Migration};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "duplicate-content",
    default_severity: Severity::Warning,
    summary: "Two migration files with the same content",
    docs: r#"## What it does
Flags migration files whose content (ignoring a BOM and line endings) is identical to an
earlier migration's. Empty files are left to `empty-migration`.

## Why is this bad?
The same change applied twice either fails (the second `CREATE TABLE` finds the table) or,
worse, succeeds twice (`INSERT`, `UPDATE`). It usually means a file was copied to a new
version instead of being renamed, or a branch re-added a migration that main already has.

## Example
```text
migrations/004_add_tags.sql
migrations/007_add_tags.sql      -- same content as 004
```

## Use instead
Keep one of them. If the later one was a renumbering, delete the old file only if it was
never applied anywhere; otherwise delete the new one.
"#,
};

pub fn check(d: &Discovery, out: &mut Vec<Finding>) {
    let mut groups: HashMap<&str, Vec<&Migration>> = HashMap::new();
    for m in &d.migrations {
        if !m.text.trim_start_matches('\u{feff}').trim().is_empty() {
            groups.entry(&m.checksum).or_default().push(m);
        }
    }
    let mut groups: Vec<_> = groups.into_values().filter(|g| g.len() > 1).collect();
    groups.sort_by(|a, b| a[0].version.cmp(&b[0].version));
    for group in groups {
        let first = group[0];
        let all: Vec<String> = group.iter().map(|m| format!("`{}`", m.path)).collect();
        for m in &group[1..] {
            out.push(
                Finding::of(
                    &RULE,
                    format!(
                        "`{}` has the same content as `{}` (files: {})",
                        m.file_name,
                        first.file_name,
                        all.join(", ")
                    ),
                )
                .path(&m.path)
                .help(format!(
                    "keep one of them; if `{}` was applied anywhere, delete `{}`",
                    first.file_name, m.file_name
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::lint_files;

    fn run(files: &[(&str, &str)]) -> Vec<Finding> {
        lint_files(files, &LintInputs::default())
            .into_iter()
            .filter(|f| f.rule == RULE.id)
            .collect()
    }

    #[test]
    fn same_content_under_two_versions() {
        let f = run(&[
            ("004_a.sql", "CREATE TABLE IF NOT EXISTS t(x);\n"),
            ("007_b.sql", "CREATE TABLE IF NOT EXISTS t(x);\r\n"),
        ]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path.as_deref(), Some("m/007_b.sql"));
        assert!(f[0].message.contains("m/004_a.sql") && f[0].message.contains("m/007_b.sql"));
    }

    #[test]
    fn similar_or_empty_files_are_not_duplicates() {
        assert!(
            run(&[
                ("004_a.sql", "CREATE TABLE IF NOT EXISTS t(x);\n"),
                ("005_b.sql", "CREATE TABLE IF NOT EXISTS u(x);\n"),
                ("006_c.sql", ""),
                ("007_d.sql", "\n"),
            ])
            .is_empty()
        );
    }
}
