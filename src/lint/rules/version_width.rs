//! `version-width`: versions written with a different number of digits than the rest.

use std::collections::HashMap;

use crate::layout::Layout;
use crate::lint::RuleDoc;
use crate::migration::{Discovery, Version};
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "version-width",
    default_severity: Severity::Warning,
    summary: "A version padded to a different number of digits than the other migrations",
    docs: r#"## What it does
Flags migrations whose version has a different digit count than most of the folder
(`48_x.sql` or `0048_x.sql` among `047_...`, `049_...`). A version that simply outgrew
the padding (`1000_x.sql` after `999_y.sql`) is fine.

## Why is this bad?
Versions are compared as numbers, but file listings, `ls`, review tools and the legacy
manager's `version TEXT` history column compare them as text: `48` sorts after `047` and
after `100`, and a history row `48` does not look like `048` to the legacy manager.
Mixed widths are also how numerically equal duplicates (`48`/`048`) slip in.

## Example
```text
migrations/047_add_tags.sql
migrations/48_add_index.sql
```

Only layouts whose tool orders versions as text are checked: legacy, dbmate (files in
name order, versions as strings) and diesel. sqlx, goose and golang-migrate compare
integers and Flyway compares version parts, so `1_x.sql`, `2_y.sql`, ..., `10_z.sql` is a
clean folder there.

## Use instead
```text
migrations/047_add_tags.sql
migrations/048_add_index.sql
```
Rename before the migration is applied anywhere (`schemagate generate` pads for you).
"#,
};

pub fn check(d: &Discovery, out: &mut Vec<Finding>) {
    if !d.layout.orders_versions_as_text() {
        return;
    }
    // Zero-padded versions show the team's convention; without any, the most common width.
    let padded: Vec<&Version> = d
        .migrations
        .iter()
        .map(|m| &m.version)
        .filter(|v| v.as_str().starts_with('0') && v.width() > 1)
        .collect();
    let sample: Vec<&Version> = if padded.is_empty() {
        d.migrations.iter().map(|m| &m.version).collect()
    } else {
        padded
    };
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for v in sample {
        *counts.entry(v.width()).or_default() += 1;
    }
    // Ties go to the narrower width.
    let Some(width) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(w, _)| *w)
    else {
        return;
    };
    for m in &d.migrations {
        let v = &m.version;
        let w = v.width();
        let outgrew = w > width && !v.as_str().starts_with('0');
        if w == width || outgrew {
            continue;
        }
        let padded = v
            .number()
            .map(|n| Version::from_number(n, width).to_string())
            .unwrap_or_else(|| v.to_string());
        // diesel writes its versions with `-` in the folder name: no exact new name.
        let renamed = match m.file_name.strip_prefix(v.as_str()) {
            Some(rest) => format!("rename it to `{padded}{rest}`"),
            None => format!("pad its version to {width} digits"),
        };
        let why = match d.layout {
            Layout::Legacy => "the legacy manager compares versions as text".to_string(),
            other => format!("{} orders versions as text", other.tool()),
        };
        out.push(
            Finding::of(
                &RULE,
                format!("version `{v}` has {w} digit(s) while the other migrations use {width}"),
            )
            .path(&m.path)
            .help(format!("{renamed} before it is applied anywhere ({why})")),
        );
    }
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
    fn short_and_over_padded_versions() {
        let f = run(&["047_a.sql", "48_b.sql", "0049_c.sql", "050_d.sql"]);
        let paths: Vec<_> = f.iter().map(|f| f.path.clone().unwrap()).collect();
        assert_eq!(paths, ["m/48_b.sql", "m/0049_c.sql"]);
        assert!(f[0].help.as_deref().unwrap().contains("`048_b.sql`"));
        assert!(f[1].help.as_deref().unwrap().contains("`049_c.sql`"));
    }

    #[test]
    fn integer_versions_are_never_flagged() {
        for layout in [
            Layout::Sqlx,
            Layout::Goose,
            Layout::GolangMigrate,
            Layout::Flyway,
        ] {
            let names: Vec<String> = (1..=12)
                .map(|i| match layout {
                    Layout::Flyway => format!("V{i}__step.sql"),
                    Layout::GolangMigrate => format!("{i}_step.up.sql"),
                    _ => format!("{i}_step.sql"),
                })
                .collect();
            let entries = names
                .iter()
                .map(|n| crate::migration::FolderEntry::File {
                    name: n.clone(),
                    bytes: b"-- +goose Up\nSELECT 1;".to_vec(),
                })
                .collect();
            let d = crate::migration::discover_folder(
                "m",
                crate::layout::LayoutSetting::Fixed(layout),
                entries,
            );
            assert_eq!(d.migrations.len(), 12, "{layout}");
            let mut out = Vec::new();
            check(&d, &mut out);
            assert!(out.is_empty(), "{layout}: {out:?}");
        }
    }

    #[test]
    fn outgrowing_the_padding_is_fine() {
        assert!(run(&["998_a.sql", "999_b.sql", "1000_c.sql", "1001_d.sql"]).is_empty());
        assert!(run(&["001_a.sql"]).is_empty());
        assert!(
            run(&[
                "098_a.sql",
                "999_b.sql",
                "1000_c.sql",
                "1001_d.sql",
                "1002_e.sql"
            ])
            .is_empty()
        );
    }
}
