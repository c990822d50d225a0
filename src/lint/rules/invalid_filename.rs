//! `invalid-filename`: migration names the team did not mean to write.

use crate::layout::Layout;
use crate::lint::RuleDoc;
use crate::migration::{Discovery, Kind};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "invalid-filename",
    default_severity: Severity::Warning,
    summary: "Migration file names with spaces, upper case, copy artefacts or no description",
    docs: r#"## What it does
Flags migration files whose name is not `NNN_lower_case_description.sql` (or `.py`):
spaces, upper-case letters, characters other than `a-z`, `0-9` and `_`, a missing
description (`005_.sql`), and copy artefacts such as `005_add_tags 2.sql`,
`005_add_tags copy.sql` or `005_add_tags (1).sql`.

In a folder of another tool (sqlx, dbmate, goose, golang-migrate, Flyway, diesel) the
tool's own naming is accepted: hyphens (`20230101120000_create-users.sql`), upper case
(Flyway's `V2__Add_people.sql`), the `.up.sql`/`.down.sql` suffixes and diesel's
`2023-01-01-000000_name` folders; copies, spaces and missing descriptions are still
flagged.

## Why is this bad?
The legacy manager picked files with the glob `[0-9][0-9][0-9]_*.{py,sql}`, so a copy that a
file manager made next to a migration *is* a migration: it runs (again) on the next deploy.
Spaces and mixed case make names awkward in shells and differ between case-insensitive
(macOS, Windows) and case-sensitive file systems.

## Example
```text
migrations/005_add_tags.sql
migrations/005_add_tags 2.sql
migrations/006_Add User Email.sql
```

## Use instead
```text
migrations/005_add_tags.sql
migrations/006_add_user_email.sql
```
Delete copies; rename the others before they are applied anywhere.
"#,
};

pub fn check(d: &Discovery, out: &mut Vec<Finding>) {
    let legacy = d.layout == Layout::Legacy;
    for m in &d.migrations {
        let Some(problem) = problem(&m.name).filter(|p| legacy || p.in_any_layout()) else {
            continue;
        };
        let ext = match m.kind {
            Kind::Sql => "sql",
            Kind::Python => "py",
        };
        let suggested = if legacy {
            format!("{}_{}.{ext}", m.version, suggest(&m.name))
        } else {
            // The tool's own shape, with only the name part changed.
            m.file_name.replacen(&m.name, &suggest(&m.name), 1)
        };
        let help = match problem {
            Problem::Copy => format!(
                "this looks like a copy made by a file manager, and it would run as a migration: delete it, or give it a new version and a name like `{suggested}`"
            ),
            Problem::NoDescription => format!(
                "add a description after the version, e.g. `{}_add_user_email.{ext}`",
                m.version
            ),
            _ => format!("rename it to `{suggested}` before it is applied anywhere"),
        };
        out.push(
            Finding::of(&RULE, format!("`{}` {}", m.file_name, problem.describe()))
                .path(&m.path)
                .help(help),
        );
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    Copy,
    NoDescription,
    Spaces,
    UpperCase,
    OtherChars,
}

impl Problem {
    /// Problems whatever the tool's naming conventions (the others are legacy-only: other
    /// tools write hyphens and upper case themselves).
    fn in_any_layout(self) -> bool {
        matches!(
            self,
            Problem::Copy | Problem::NoDescription | Problem::Spaces
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Problem::Copy => "looks like a copy of another migration",
            Problem::NoDescription => "has no description after the version",
            Problem::Spaces => "contains spaces",
            Problem::UpperCase => "contains upper-case letters",
            Problem::OtherChars => "contains characters other than a-z, 0-9 and _",
        }
    }
}

fn problem(name: &str) -> Option<Problem> {
    if copy_suffix(name).is_some() {
        Some(Problem::Copy)
    } else if name.trim_matches(['_', ' ']).is_empty() {
        Some(Problem::NoDescription)
    } else if name.contains(char::is_whitespace) {
        Some(Problem::Spaces)
    } else if name.chars().any(|c| c.is_ascii_uppercase()) {
        Some(Problem::UpperCase)
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Some(Problem::OtherChars)
    } else {
        None
    }
}

/// Where a copy suffix starts: ` 2`, ` copy`, ` copy 3`, ` - Copy`, ` (1)`, `-copy`.
fn copy_suffix(name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    let trimmed = lower.trim_end();
    // ` (1)`
    if let Some(open) = trimmed.rfind(" (")
        && trimmed.ends_with(')')
        && trimmed[open + 2..trimmed.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit())
        && trimmed.len() > open + 3
    {
        return Some(open);
    }
    // ` copy`, ` - copy`, `-copy`, ` copy 2`
    let no_number = trimmed.trim_end_matches(|c: char| c.is_ascii_digit());
    let base = if no_number.len() < trimmed.len() && no_number.ends_with(' ') {
        no_number.trim_end()
    } else {
        trimmed
    };
    for suffix in [" - copy", " copy", "-copy"] {
        if let Some(stem) = base.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return Some(stem.len());
        }
    }
    // ` 2`
    let digits = trimmed.len() - no_number.len();
    if digits > 0 && no_number.ends_with(' ') && !no_number.trim().is_empty() {
        return Some(no_number.trim_end().len());
    }
    None
}

fn suggest(name: &str) -> String {
    let base = &name[..copy_suffix(name).unwrap_or(name.len())];
    let mut out = String::new();
    for c in base.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "description".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::lint_files;

    fn flagged(name: &str) -> Vec<Finding> {
        lint_files(&[(name, "SELECT 1;")], &LintInputs::default())
            .into_iter()
            .filter(|f| f.rule == RULE.id)
            .collect()
    }

    #[test]
    fn copy_artefacts_spaces_case_and_missing_descriptions() {
        let f = flagged("005_add_tags 2.sql");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path.as_deref(), Some("m/005_add_tags 2.sql"));
        assert!(f[0].message.contains("copy"), "{}", f[0].message);
        assert!(f[0].help.as_deref().unwrap().contains("delete it"));
        for name in [
            "005_add_tags copy.sql",
            "005_add_tags - Copy.sql",
            "005_add_tags (1).sql",
            "005_add_tags copy 2.py",
        ] {
            assert!(
                flagged(name)[0].message.contains("copy"),
                "{name} is a copy"
            );
        }
        assert!(flagged("006_Add User.sql")[0].message.contains("spaces"));
        let upper = flagged("006_AddUser.sql");
        assert!(upper[0].message.contains("upper-case"));
        assert!(
            upper[0]
                .help
                .as_deref()
                .unwrap()
                .contains("`006_adduser.sql`")
        );
        assert!(flagged("007_.sql")[0].message.contains("no description"));
        assert!(flagged("008_fix.v2.sql")[0].message.contains("characters"));
    }

    fn flagged_in(layout: Layout, names: &[&str]) -> Vec<Finding> {
        let entries = names
            .iter()
            .map(|n| crate::migration::FolderEntry::File {
                name: n.to_string(),
                bytes: b"SELECT 1;".to_vec(),
            })
            .collect();
        let d = crate::migration::discover_folder(
            "m",
            crate::layout::LayoutSetting::Fixed(layout),
            entries,
        );
        let mut out = Vec::new();
        check(&d, &mut out);
        out
    }

    #[test]
    fn each_layout_keeps_its_own_naming() {
        let clean = [
            (Layout::Sqlx, "20230101120000_create-users.up.sql"),
            (Layout::Sqlx, "20230101120000_create-users.down.sql"),
            (Layout::Sqlx, "2_AddIndex.sql"),
            (Layout::GolangMigrate, "000001_create_users_table.up.sql"),
            (Layout::Flyway, "V2__Add_people.sql"),
            (Layout::Flyway, "V1_1__init.sql"),
            (Layout::Dbmate, "20230101120000_create-users.sql"),
            (Layout::Goose, "00001_CreateUsers.sql"),
        ];
        for (layout, name) in clean {
            assert!(flagged_in(layout, &[name]).is_empty(), "{layout} {name}");
        }
        let copy = flagged_in(Layout::Sqlx, &["20230101120000_create-users copy.sql"]);
        assert_eq!(copy.len(), 1);
        assert!(
            copy[0]
                .help
                .as_deref()
                .unwrap()
                .contains("`20230101120000_create_users.sql`"),
            "{:?}",
            copy[0].help
        );
        assert_eq!(flagged_in(Layout::Flyway, &["V3__Add people.sql"]).len(), 1);
    }

    #[test]
    fn near_misses_are_clean() {
        for name in [
            "005_add_tags.sql",
            "005_add_tags_2.sql",
            "010_v2_users.py",
            "1000_add_copy_column.sql",
            "011_copy_settings.sql",
        ] {
            assert!(flagged(name).is_empty(), "{name}");
        }
    }
}
