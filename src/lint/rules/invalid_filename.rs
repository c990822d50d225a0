//! `invalid-filename`: migration names the team did not mean to write.

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
    for m in &d.migrations {
        let Some(problem) = problem(&m.name) else {
            continue;
        };
        let ext = match m.kind {
            Kind::Sql => "sql",
            Kind::Python => "py",
        };
        let suggested = format!("{}_{}.{ext}", m.version, suggest(&m.name));
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
