//! `unversioned-file`: SQL or numbered Python files in the folder that no manager will run.

use crate::layout::Layout;
use crate::lint::RuleDoc;
use crate::migration::{Discovery, join_display};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "unversioned-file",
    default_severity: Severity::Warning,
    summary: "A .sql or numbered .py file in the migrations folder that will never be applied",
    docs: r#"## What it does
Flags `.sql` files in the migrations folder whose name does not start with a version and
`_` (`003-add-tags.sql`, `add_tags.sql`, `3a_tags.sql`), and `.py` files that start with a
digit but are not named like a migration. Python helpers such as `manager.py` or
`__init__.py` are not flagged.

In a folder of another tool, names are read the way that tool reads them: a plain
`3_x.sql` is never run by golang-migrate (it runs `3_x.up.sql`), a `001_x.sql` never by
Flyway (`V1__x.sql`), a top-level `.sql` file never by diesel (`<version>_x/up.sql`).

## Why is this bad?
The file looks like a migration to a reviewer but is never applied: the schema change it
holds silently does not happen in any environment.

## Example
```text
migrations/003-add-tags.sql
```

## Use instead
```text
migrations/003_add_tags.sql
```
Or move files that are not migrations (schema dumps, notes) out of the folder.
"#,
};

/// `dir` is the migrations folder as shown to the user (`LintInputs::dir`).
pub fn check(d: &Discovery, dir: &str, out: &mut Vec<Finding>) {
    for name in &d.unversioned {
        let is_sql = name.ends_with(".sql");
        if !is_sql && !name.starts_with(|c: char| c.is_ascii_digit()) {
            continue; // a Python helper module
        }
        let help = match suggest(name).map(|s| in_layout(d.layout, &s)) {
            Some(s) => format!(
                "rename it to `{s}` if it is a migration, or move it out of the migrations folder"
            ),
            None => format!(
                "name it `{}` if it is a migration, or move it out of the migrations folder",
                in_layout(d.layout, "NNN_description.sql")
            ),
        };
        let what = match d.layout {
            Layout::Legacy => "a migration".to_string(),
            other => format!("a {other} migration"),
        };
        out.push(
            Finding::of(
                &RULE,
                format!("`{name}` is not named like {what}, so it is never applied"),
            )
            .path(join_display(dir, name))
            .help(help),
        );
    }
}

/// A legacy-style name (`003_add_tags.sql`) in the layout's own shape.
fn in_layout(layout: Layout, legacy: &str) -> String {
    let (version, rest) = legacy.split_once('_').unwrap_or(("NNN", legacy));
    let stem = rest.strip_suffix(".sql").unwrap_or(rest);
    match layout {
        Layout::GolangMigrate => format!("{version}_{stem}.up.sql"),
        Layout::Flyway => format!("V{}__{stem}.sql", version.trim_start_matches('0')),
        Layout::Diesel => format!("{version}_{stem}/up.sql"),
        _ => legacy.to_string(),
    }
}

/// `003-add-tags.sql` → `003_add_tags.sql`.
fn suggest(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let rest: String = stem[digits..]
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let rest = rest.trim_matches('_');
    if rest.is_empty() {
        return None;
    }
    Some(format!("{}_{rest}.{ext}", &stem[..digits]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::lint_files;

    fn run(names: &[&str]) -> Vec<Finding> {
        let files: Vec<(&str, &str)> = names.iter().map(|n| (*n, "SELECT 1;")).collect();
        lint_files(&files, &LintInputs::default())
            .into_iter()
            .filter(|f| f.rule == RULE.id)
            .collect()
    }

    #[test]
    fn flags_sql_and_numbered_python_that_never_run() {
        let f = run(&["001_init.sql", "003-add-tags.sql", "schema.sql", "4x.py"]);
        let paths: Vec<_> = f.iter().map(|f| f.path.clone().unwrap()).collect();
        assert_eq!(paths, ["m/003-add-tags.sql", "m/4x.py", "m/schema.sql"]);
        assert!(f[0].help.as_deref().unwrap().contains("`003_add_tags.sql`"));
        assert_eq!(f[0].line, None);
    }

    #[test]
    fn names_are_read_the_way_the_layout_reads_them() {
        let entries = ["000001_a.up.sql", "3_plain.sql"]
            .iter()
            .map(|n| crate::migration::FolderEntry::File {
                name: n.to_string(),
                bytes: b"SELECT 1;".to_vec(),
            })
            .collect();
        let d = crate::migration::discover_folder(
            "m",
            crate::layout::LayoutSetting::Fixed(Layout::GolangMigrate),
            entries,
        );
        let mut out = Vec::new();
        check(&d, "m", &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("golang-migrate migration"),
            "{}",
            out[0].message
        );
        assert!(
            out[0].help.as_deref().unwrap().contains("`3_plain.up.sql`"),
            "{:?}",
            out[0].help
        );
    }

    #[test]
    fn python_helpers_are_not_migrations() {
        assert!(run(&["001_init.sql", "manager.py", "__init__.py", "notes.md"]).is_empty());
    }
}
