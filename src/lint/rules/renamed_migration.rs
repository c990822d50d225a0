//! renamed-migration: a migration merged on the base branch now lives under another name.

use crate::lint::RuleDoc;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "renamed-migration",
    default_severity: Severity::Error,
    summary: "A migration on the base branch was renamed or renumbered",
    docs: r#"## What it does
Flags a file that exists on the base branch but not in the working tree when the same (or
nearly the same) content appears under another file name or version.

## Why is this bad?
Databases record applied migrations by version. A renumbered file looks new to every
database that already applied it under the old number, so `migrate` would run it a
second time (a duplicate table, a doubled data fix). A renamed file with the same version
loses the link between the history row and the file.

## Example
```text
main:    migrations/004_add_user_email.py
branch:  migrations/007_add_user_email.py
```

## Use instead
Keep merged migrations where they are. If two branches collided on a version, renumber
the migration that has not been merged (`schemagate renumber`); if a database already
recorded the old number, move its history row with `schemagate rekey OLD NEW`.
"#,
};

pub fn finding(old: &Migration, new: &Migration, base_label: &str, identical: bool) -> Finding {
    let how = if identical {
        "with the same content"
    } else {
        "with nearly the same content"
    };
    Finding::of(&RULE, format!(
            "{} on {base_label} was renamed: {} → {} ({how}); databases that applied version {} would run it again as {}",
            old.file_name, old.file_name, new.file_name, old.version, new.version
        ),
    )
    .path(&new.path)
    .help(format!(
        "move it back (`git mv {} {}`); a merged migration keeps its file name and version",
        new.path, old.path
    ))
}

#[cfg(test)]
mod tests {
    use crate::base::{BaseView, compare};
    use crate::migration::discover;

    const BODY: &[u8] = b"-- users\nCREATE TABLE IF NOT EXISTS users (\n  id INTEGER PRIMARY KEY,\n  email TEXT NOT NULL,\n  name TEXT\n);\n";

    #[test]
    fn a_renumbered_file_names_old_and_new() {
        let tip = discover(
            "m",
            [("001_a.sql", b"x\n".as_slice()), ("002_users.sql", BODY)],
        );
        let work = discover(
            "m",
            [("001_a.sql", b"x\n".as_slice()), ("007_users.sql", BODY)],
        );
        let f = compare(
            &BaseView {
                label: "main".into(),
                tip,
                fork: None,
            },
            &work,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, "renamed-migration");
        assert_eq!(f[0].path.as_deref(), Some("m/007_users.sql"));
        assert!(
            f[0].message.contains("002_users.sql → 007_users.sql"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn nearly_the_same_content_is_still_a_rename() {
        let tip = discover("m", [("002_users.sql", BODY)]);
        let mut edited = BODY.to_vec();
        edited.extend_from_slice(b"-- reviewed\n");
        let work = discover("m", [("002_user_table.sql", edited.as_slice())]);
        let f = compare(
            &BaseView {
                label: "main".into(),
                tip,
                fork: None,
            },
            &work,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, "renamed-migration");
        assert!(f[0].message.contains("nearly"));
    }
}
