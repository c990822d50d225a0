//! Suppression comments (pure):
//! - `-- schemagate:ignore RULE[, RULE] [-- reason]` among the comments right before a SQL
//!   statement silences those rules for that statement;
//! - `-- schemagate:ignore-file RULE[, RULE]` anywhere in a file silences them for the file;
//! - in Python, `# schemagate:ignore RULE` on the line(s) before a statement and
//!   `# schemagate:ignore-file RULE` anywhere.
//!
//! Applied after every rule ran (also to base-branch and history findings that carry the
//! file's path).

use std::collections::HashMap;

use super::py_scan::{PyFile, PythonAst};
use crate::migration::{Discovery, Kind, Migration};
use crate::report::Finding;
use crate::sql::{self, LineIndex};

/// What a file's comments silence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSuppressions {
    pub file: Vec<String>,
    /// `(first line, last line, rules)`.
    pub ranges: Vec<(usize, usize, Vec<String>)>,
}

impl FileSuppressions {
    pub fn silences(&self, f: &Finding) -> bool {
        let hit = |rules: &[String]| rules.contains(&f.rule);
        if hit(&self.file) {
            return true;
        }
        let Some(line) = f.line else {
            return false;
        };
        self.ranges
            .iter()
            .any(|(a, b, rules)| *a <= line && line <= *b && hit(rules))
    }
}

/// A parsed `schemagate:ignore` / `schemagate:ignore-file` comment body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub whole_file: bool,
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

/// Parses the text of a comment without its `--`, `#` or `/* */` markers.
pub fn parse_directive(comment: &str) -> Option<Directive> {
    let body = comment.trim().strip_prefix("schemagate:")?;
    let (whole_file, rest) = if let Some(r) = body.strip_prefix("ignore-file") {
        (true, r)
    } else if let Some(r) = body.strip_prefix("ignore") {
        (false, r)
    } else {
        return None;
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let (rules, reason) = match rest.split_once("--") {
        Some((r, why)) => (r, Some(why.trim().to_string()).filter(|w| !w.is_empty())),
        None => (rest, None),
    };
    let rules: Vec<String> = rules
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    if rules.is_empty() {
        return None;
    }
    Some(Directive {
        whole_file,
        rules,
        reason,
    })
}

fn comment_body(text: &str) -> &str {
    if let Some(t) = text.strip_prefix("--") {
        t
    } else if let Some(t) = text.strip_prefix("/*") {
        t.strip_suffix("*/").unwrap_or(t)
    } else {
        text.strip_prefix('#').unwrap_or(text)
    }
}

/// The suppressions of a `.sql` file.
pub fn for_sql(text: &str) -> FileSuppressions {
    let mut s = FileSuppressions::default();
    let lines = LineIndex::new(text);
    let (statements, trailing) = sql::split_with_trailing(text);
    let file_level = |c: &sql::Token, s: &mut FileSuppressions| {
        if let Some(d) = parse_directive(comment_body(c.text(text)))
            && d.whole_file
        {
            s.file.extend(d.rules);
        }
    };
    for c in &trailing {
        file_level(c, &mut s);
    }
    for st in &statements {
        for c in &st.leading_comments {
            match parse_directive(comment_body(c.text(text))) {
                Some(d) if d.whole_file => s.file.extend(d.rules),
                Some(d) => {
                    let first = lines.line_col(st.span.start).0;
                    let last = lines.line_col(st.span.end.saturating_sub(1)).0;
                    s.ranges.push((first, last, d.rules));
                }
                None => {}
            }
        }
        // `ignore-file` may also sit inside a statement (e.g. in a trigger body).
        for t in sql::tokens(st.text(text)) {
            if t.is_comment() {
                let c = t.text(st.text(text));
                if let Some(d) = parse_directive(comment_body(c))
                    && d.whole_file
                {
                    s.file.extend(d.rules);
                }
            }
        }
    }
    s
}

/// The suppressions of a `.py` file: whole-line `#` comments. A statement-level one covers
/// the next code line and, when that line starts a `conn.execute(...)` call, the whole call.
pub fn for_python(text: &str, py: Option<&PyFile>) -> FileSuppressions {
    let mut s = FileSuppressions::default();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(d) = parse_directive(comment) else {
            continue;
        };
        if d.whole_file {
            s.file.extend(d.rules);
            continue;
        }
        // The next line that is not blank or a comment (1-based).
        let Some(next) = (i + 1..lines.len())
            .find(|&j| {
                let t = lines[j].trim();
                !t.is_empty() && !t.starts_with('#')
            })
            .map(|j| j + 1)
        else {
            continue;
        };
        let end = py
            .into_iter()
            .flat_map(|p| &p.sql)
            .filter(|lit| lit.call_line == next)
            .map(|lit| lit.call_end_line)
            .max()
            .unwrap_or(next);
        s.ranges.push((next, end, d.rules));
    }
    s
}

pub fn for_migration(m: &Migration, python: Option<&PythonAst>) -> FileSuppressions {
    match m.kind {
        Kind::Sql => for_sql(&m.text),
        Kind::Python => for_python(&m.text, python.and_then(|p| p.get(&m.path))),
    }
}

/// Drops the findings that a suppression comment in their file silences.
pub fn apply(findings: Vec<Finding>, d: &Discovery, python: Option<&PythonAst>) -> Vec<Finding> {
    let mut cache: HashMap<&str, FileSuppressions> = HashMap::new();
    let by_path: HashMap<&str, &Migration> =
        d.migrations.iter().map(|m| (m.path.as_str(), m)).collect();
    findings
        .into_iter()
        .filter(|f| {
            let Some(m) = f.path.as_deref().and_then(|p| by_path.get(p)) else {
                return true;
            };
            let s = cache
                .entry(m.path.as_str())
                .or_insert_with(|| for_migration(m, python));
            !s.silences(f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintInputs;
    use crate::lint::testing::{lint_files, python_ast};

    #[test]
    fn directives_parse() {
        let d = parse_directive(
            " schemagate:ignore robust-statements, destructive-change -- moved to redis",
        )
        .unwrap();
        assert!(!d.whole_file);
        assert_eq!(d.rules, ["robust-statements", "destructive-change"]);
        assert_eq!(d.reason.as_deref(), Some("moved to redis"));
        assert!(
            parse_directive("schemagate:ignore-file empty-migration")
                .unwrap()
                .whole_file
        );
        assert!(parse_directive("schemagate:ignore").is_none());
        assert!(parse_directive("schemagate:ignored x").is_none());
        assert!(parse_directive("plain comment").is_none());
    }

    fn lint_and_suppress(files: &[(&str, &str)], python: bool) -> Vec<Finding> {
        let d = crate::migration::discover("m", files.iter().map(|(n, t)| (*n, t.as_bytes())));
        let ast = python.then(|| python_ast(files));
        let inputs = LintInputs {
            python: ast.clone(),
            dir: "m".into(),
            ..LintInputs::default()
        };
        let _ = lint_files;
        apply(super::super::lint_folder(&d, &inputs), &d, ast.as_ref())
    }

    #[test]
    fn statement_and_file_directives_in_sql() {
        let text = r#"-- Cleanup
-- schemagate:ignore destructive-change, robust-statements -- sessions moved to redis
DROP TABLE sessions;
DROP TABLE carts;
"#;
        let f = lint_and_suppress(&[("001_x.sql", text)], false);
        let lines: Vec<_> = f.iter().map(|f| (f.rule.as_str(), f.line)).collect();
        assert_eq!(
            lines,
            [
                ("robust-statements", Some(4)),
                ("destructive-change", Some(4))
            ]
        );
        let file = "-- schemagate:ignore-file destructive-change\nDROP TABLE IF EXISTS a;\nDROP TABLE IF EXISTS b;\n";
        assert!(lint_and_suppress(&[("001_x.sql", file)], false).is_empty());
        let other_rule = "-- schemagate:ignore robust-statements\nDROP TABLE IF EXISTS a;\n";
        assert_eq!(
            lint_and_suppress(&[("001_x.sql", other_rule)], false).len(),
            1
        );
    }

    #[test]
    fn python_directives() {
        let text = r#"def upgrade(conn):
    # schemagate:ignore robust-statements -- created by the app at startup
    conn.execute("""
        CREATE TABLE t (x)
    """)
    conn.execute("CREATE TABLE u (x)")
"#;
        let f = lint_and_suppress(&[("002_x.py", text)], true);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].line, Some(6));
        let file =
            "# schemagate:ignore-file python-upgrade-missing\ndef migrate(conn):\n    pass\n";
        assert!(lint_and_suppress(&[("002_x.py", file)], true).is_empty());
    }
}
