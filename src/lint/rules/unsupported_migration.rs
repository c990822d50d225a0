//! `unsupported-migration`: numbered files that are migrations to some tool, but that
//! schemagate cannot run.

use crate::lint::RuleDoc;
use crate::migration::Discovery;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "unsupported-migration",
    default_severity: Severity::Warning,
    summary: "A numbered migration schemagate cannot run (.go, .js, a Flyway repeatable, ...), left out of the replay",
    docs: r#"## What it does
Flags files in the migrations folder that carry a version but that schemagate cannot run:
code migrations (goose's `00003_seed.go`, `004_backfill.js`), Flyway repeatable migrations
(`R__views.sql`), a Flyway undo script without its `V` migration, numbered files with
another extension (`004_add_tags.sql~`, `005_notes.txt`). The message names the version
that the replay and the dry runs leave out.

## Why is this bad?
The replay on an empty database and the dry run only apply what schemagate can run. A
version it skips silently makes every later migration run against a schema that is
missing that step: a later failure looks like a bug in the later file, and a passing
replay proves less than it says.

## Example
```text
migrations/00002_create_users.sql
migrations/00003_backfill_users.go
migrations/00004_add_index.sql
```

## Use instead
Keep schema changes in SQL migrations, and data backfills that need code in their own
job. When a numbered file is not a migration at all (a backup copy, notes), move it out of
the migrations folder. To accept a known code migration, silence the rule in
`schemagate.toml`:
```toml
[rules]
unsupported-migration = "off"
```
"#,
};

pub fn check(d: &Discovery, out: &mut Vec<Finding>) {
    for u in &d.unsupported {
        let left_out = match &u.version {
            Some(v) => format!("version {v} is left out of the replay and the dry runs"),
            None => "it is left out of the replay and the dry runs".to_string(),
        };
        let code = !u.reason.starts_with("a `.") && !u.reason.contains("Flyway");
        let help = if code {
            "apply it with the tool it was written for, and keep schema changes that later migrations depend on in SQL; if it is not a migration, move it out of the migrations folder"
        } else {
            "if it is a copy or notes, move it out of the migrations folder; if it is a migration, give it the layout's `.sql` name"
        };
        out.push(
            Finding::of(
                &RULE,
                format!(
                    "`{}` is {}: schemagate cannot run it, so {left_out}",
                    u.file_name, u.reason
                ),
            )
            .path(&u.path)
            .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::lint_files;

    #[test]
    fn names_the_version_left_out() {
        let f: Vec<_> = lint_files(
            &[
                ("001_a.sql", "CREATE TABLE a(x);"),
                ("002_seed.js", "module.exports = {}"),
                ("003_a.sql~", "CREATE TABLE a(x);"),
                ("notes.md", ""),
            ],
            &LintInputs::default(),
        )
        .into_iter()
        .filter(|f| f.rule == RULE.id)
        .collect();
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!(f[0].path.as_deref(), Some("m/002_seed.js"));
        assert!(
            f[0].message.contains("version 002 is left out"),
            "{}",
            f[0].message
        );
        assert!(f[1].message.contains("`.sql~`"), "{}", f[1].message);
    }
}
