//! `python-syntax-error`: a Python migration that does not compile.

use crate::lint::RuleDoc;
use crate::lint::py_scan::PyFile;
use crate::migration::Migration;
use crate::report::{Finding, Severity};

pub const RULE: RuleDoc = RuleDoc {
    id: "python-syntax-error",
    default_severity: Severity::Error,
    summary: "A Python migration that Python cannot compile",
    docs: r#"## What it does
Compiles every `.py` migration with the configured Python's own parser (`ast.parse`, without
importing or running it) and reports syntax errors at their line and column.

## Why is this bad?
The migration fails on import at deploy time, after the backup was taken and possibly after
earlier migrations of the same deploy were applied.

## Example
```python
def upgrade(conn)
    conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
```

## Use instead
```python
def upgrade(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
```
"#,
};

/// Reports the file's syntax error; true when there was one (other Python rules then have
/// nothing to read).
pub fn check(m: &Migration, py: &PyFile, out: &mut Vec<Finding>) -> bool {
    let Some(e) = &py.error else {
        return false;
    };
    let mut f = Finding::of(
        &RULE,
        format!("Python cannot compile this migration: {}", e.message),
    )
    .path(&m.path)
    .help(format!(
        "fix the syntax; `python3 -m py_compile {}` shows the same error",
        m.path
    ));
    if let Some(line) = e.line {
        f = f.at(line, e.column.unwrap_or(1).max(1));
    }
    out.push(f);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{at, py};

    #[test]
    fn syntax_errors_have_a_line() {
        let f = py(
            RULE.id,
            "002_x.py",
            "DESCRIPTION = 'x'\n\ndef upgrade(conn)\n    pass\n",
        );
        assert_eq!(at(&f), [(3, 18)]);
        assert!(f[0].message.contains("expected ':'"), "{}", f[0].message);
    }

    #[test]
    fn valid_python_is_clean() {
        let text = "import sqlite3\n\ndef upgrade(conn: sqlite3.Connection) -> None:\n    match 1:\n        case _:\n            pass\n";
        assert!(py(RULE.id, "002_x.py", text).is_empty());
    }
}
