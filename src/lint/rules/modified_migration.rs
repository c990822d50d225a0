//! modified-migration: a migration merged on the base branch was edited.

use crate::lint::RuleDoc;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "modified-migration",
    default_severity: Severity::Error,
    summary: "A migration that is already on the base branch was edited",
    docs: r#"## What it does
Compares the migrations folder with the base branch (`--base REF`, in GitHub Actions the
pull request's base) and flags every file present on the base whose content changed. The
finding carries a unified diff of the change.

## Why is this bad?
A merged migration has usually run somewhere already: on a colleague's database, on QA,
on production. Editing it changes nothing there (the database records it as applied), so
environments silently diverge, and the next `migrate` refuses to run because the
checksum no longer matches.

## Example
```diff
 -- 003_create_audit_log.sql (already on main)
-CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY, action TEXT);
+CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY, action TEXT, actor TEXT);
```

## Use instead
Revert the edit and write a new migration that makes the change:
```sql
-- 006_add_audit_actor.sql
ALTER TABLE audit_log ADD COLUMN actor TEXT;
```
"#,
};

/// `diff` is the unified diff base → working tree; `first_line` the first changed line of
/// the working-tree file.
pub fn finding(m: &Migration, base_label: &str, diff: String, first_line: usize) -> Finding {
    let mut f = Finding::of(&RULE, format!(
            "{} is already on {base_label} and was edited; databases that applied it will not see the change",
            m.file_name
        ),
    )
    .path(&m.path)
    .at(first_line, 1)
    .help(format!(
        "revert the edit (`git checkout {base_label} -- {}`) and put the change in a new migration",
        m.path
    ));
    f.diff = Some(diff);
    f
}

#[cfg(test)]
mod tests {
    use crate::base::{BaseView, compare};
    use crate::migration::discover;

    #[test]
    fn an_edited_merged_file_is_flagged_with_its_diff() {
        let base = discover("m", [("001_a.sql", b"CREATE TABLE a(x);\n".as_slice())]);
        let work = discover("m", [("001_a.sql", b"CREATE TABLE a(x, y);\n".as_slice())]);
        let view = BaseView {
            label: "main".into(),
            tip: base,
            fork: None,
        };
        let f = compare(&view, &work);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "modified-migration");
        assert_eq!(f[0].path.as_deref(), Some("m/001_a.sql"));
        assert_eq!(f[0].line, Some(1));
        let diff = f[0].diff.as_deref().unwrap();
        assert!(diff.contains("-CREATE TABLE a(x);"), "{diff}");
        assert!(diff.contains("+CREATE TABLE a(x, y);"), "{diff}");
    }

    #[test]
    fn line_endings_alone_are_not_an_edit() {
        let base = discover("m", [("001_a.sql", b"CREATE TABLE a(x);\n".as_slice())]);
        let work = discover("m", [("001_a.sql", b"CREATE TABLE a(x);\r\n".as_slice())]);
        let view = BaseView {
            label: "main".into(),
            tip: base,
            fork: None,
        };
        assert!(compare(&view, &work).is_empty());
    }

    #[test]
    fn an_edit_made_on_the_base_after_the_fork_is_not_this_branch_s() {
        let fork = discover("m", [("001_a.sql", b"old\n".as_slice())]);
        let tip = discover("m", [("001_a.sql", b"new on main\n".as_slice())]);
        let work = discover("m", [("001_a.sql", b"old\n".as_slice())]);
        let view = BaseView {
            label: "main".into(),
            tip,
            fork: Some(fork),
        };
        assert!(compare(&view, &work).is_empty());
    }
}
