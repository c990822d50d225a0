//! `python-upgrade-missing`: a Python migration without `upgrade(conn)`.

use crate::lint::RuleDoc;
use crate::lint::py_scan::PyFile;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "python-upgrade-missing",
    default_severity: Severity::Error,
    summary: "A Python migration without a top-level `upgrade(conn)` function",
    docs: r#"## What it does
Flags `.py` migrations that do not define a module-level `def upgrade(conn)`, or define it
without a parameter for the connection, or as `async def`. When the file defines
`migrate()` or `rollback()` (names some other tools use), the message says to rename them to
`upgrade()` and `downgrade()`.

## Why is this bad?
schemagate, like the legacy manager, imports the file and calls `upgrade(conn)`. Without it
the migration fails at deploy time, after the backup and possibly after other migrations of
the same deploy were applied.

## Example
```python
def migrate(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
```

## Use instead
```python
def upgrade(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
```
"#,
};

pub fn check(m: &Migration, py: &PyFile, out: &mut Vec<Finding>) {
    let finding = |msg: String, line: usize, col: usize, help: String| {
        Finding::of(&RULE, msg)
            .path(&m.path)
            .at(line, col)
            .help(help)
    };
    if let Some(up) = py.function("upgrade") {
        if up.is_async {
            out.push(finding(
                "`upgrade` is `async def`: calling it runs nothing".into(),
                up.line,
                up.column,
                "make it a plain `def upgrade(conn):`".into(),
            ));
        } else if up.params == 0 && !up.varargs {
            out.push(finding(
                "`upgrade()` takes no parameter, but it is called as `upgrade(conn)`".into(),
                up.line,
                up.column,
                "declare it as `def upgrade(conn):`".into(),
            ));
        }
        return;
    }
    let wrong: Vec<_> = ["migrate", "rollback"]
        .iter()
        .filter_map(|n| py.function(n))
        .collect();
    let (line, col) = wrong.first().map_or((1, 1), |f| (f.line, f.column));
    let help = if wrong.is_empty() {
        "define `def upgrade(conn):` (and optionally `def downgrade(conn):`) at module level"
            .to_string()
    } else {
        let renames: Vec<String> = wrong
            .iter()
            .map(|f| {
                let to = if f.name == "migrate" {
                    "upgrade"
                } else {
                    "downgrade"
                };
                format!("`{}()` to `{to}()`", f.name)
            })
            .collect();
        format!(
            "schemagate calls `upgrade(conn)` (and `downgrade(conn)` for rollbacks): rename {}",
            renames.join(" and ")
        )
    };
    out.push(finding(
        "no module-level `upgrade(conn)` function: this migration cannot be applied".into(),
        line,
        col,
        help,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, py};

    #[test]
    fn migrate_instead_of_upgrade_gets_the_hint() {
        let text = "DESCRIPTION = 'x'\n\n\ndef migrate(conn):\n    pass\n\n\ndef rollback(conn):\n    pass\n";
        let f = py(RULE.id, "002_x.py", text);
        assert_eq!(at(&f), [(4, 1)]);
        let help = f[0].help.as_deref().unwrap();
        assert!(help.contains("rename `migrate()` to `upgrade()`"), "{help}");
        assert!(help.contains("`rollback()` to `downgrade()`"), "{help}");
    }

    #[test]
    fn missing_nested_or_parameterless_upgrade() {
        assert_eq!(at(&py(RULE.id, "002_x.py", "X = 1\n")), [(1, 1)]);
        let nested = "class M:\n    def upgrade(self, conn):\n        pass\n";
        assert_eq!(py(RULE.id, "002_x.py", nested).len(), 1);
        let no_param = "def upgrade():\n    pass\n";
        assert!(
            py(RULE.id, "002_x.py", no_param)[0]
                .message
                .contains("no parameter")
        );
    }

    #[test]
    fn a_real_upgrade_is_clean() {
        let text = "def upgrade(conn, *args):\n    conn.execute('SELECT 1')\n";
        assert!(py(RULE.id, "002_x.py", text).is_empty());
    }
}
