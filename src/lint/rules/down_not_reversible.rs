//! `down-not-reversible`: a migration's down SQL does not take it back.

use crate::lint::RuleDoc;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "down-not-reversible",
    default_severity: Severity::Warning,
    summary: "Down SQL that fails, or does not give back the schema from before its Up",
    docs: r#"## What it does
`check` replays the chain on an empty database and, for each migration with down SQL (a
dbmate `-- migrate:down` or goose `-- +goose Down` section, a sqlx or golang-migrate
`.down.sql` file, a diesel `down.sql`), runs Up, then Down, then Up again on a copy: the
Down must run, leave the schema exactly as it was before the Up, and the second Up must
give the same schema as the first. Migrations without down SQL are not checked.

## Why is this bad?
Down SQL runs when something already went wrong: `schemagate rollback`, `dbmate rollback`
or `goose down` in the middle of an incident. A Down that fails, forgets an index, or
leaves a table behind that the next Up cannot create again turns a rollback into a manual
repair of production.

## Example
```sql
-- migrate:up
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE INDEX users_email ON users (email);

-- migrate:down
DROP INDEX users_email;
```

## Use instead
```sql
-- migrate:down
DROP INDEX users_email;
DROP TABLE users;
```
Undo every object the Up creates or changes, in reverse order. When a change cannot be
undone (data is lost), leave the Down section empty so that `rollback` refuses it, rather
than writing one that looks reversible.
"#,
};

/// A finding on `m`'s down SQL; `at`: a position in the down file (path, line, column).
pub fn finding(m: &Migration, reason: &str, at: Option<(&str, usize, usize)>) -> Finding {
    let down = m.down.as_ref().map_or(m.path.as_str(), |d| d.path.as_str());
    let mut f = Finding::of(
        &RULE,
        format!("the down SQL of {} does not take it back: {reason}", m.file_name),
    )
    .path(down)
    .help("make the Down undo exactly what the Up does (every table, column, index, view and trigger), in reverse order; leave it empty if the change cannot be undone");
    if let Some((path, line, column)) = at {
        f = f.path(path).at(line, column);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Layout, LayoutSetting};
    use crate::migration::{FolderEntry, discover_folder};

    #[test]
    fn points_at_the_down_file() {
        let d = discover_folder(
            "m",
            LayoutSetting::Fixed(Layout::GolangMigrate),
            vec![
                FolderEntry::File {
                    name: "1_a.up.sql".into(),
                    bytes: b"CREATE TABLE a(x);".to_vec(),
                },
                FolderEntry::File {
                    name: "1_a.down.sql".into(),
                    bytes: b"SELECT 1;".to_vec(),
                },
            ],
        );
        let f = finding(&d.migrations[0], "table a remains", None);
        assert_eq!(f.path.as_deref(), Some("m/1_a.down.sql"));
        assert!(f.message.contains("1_a.up.sql"), "{}", f.message);
        assert_eq!(f.severity, Severity::Warning);
    }
}
