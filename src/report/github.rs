//! GitHub Actions renderings (pure): workflow-command annotations, the job-summary Markdown
//! and the `$GITHUB_OUTPUT` file text. Writing them where GitHub reads them is the shell's
//! job (`crate::github`).

use std::fmt::Write;

use super::{Finding, Report, Severity, markdown};

/// Escapes a command's message the way GitHub's toolkit does (`escapeData` in
/// `@actions/core`): the runner unescapes exactly these, so a message keeps its `%`, and a
/// line break cannot end the command early.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property (`escapeProperty`): as data, plus `:` and `,`, which would
/// otherwise end the property list or the property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// How report paths (relative to the working directory, or absolute) become the
/// repository-relative paths GitHub places annotations and code-scanning alerts on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoPaths {
    /// The working directory relative to the repository root (`""` at the root).
    pub prefix: String,
    /// The repository root as an absolute path, to relativise absolute report paths.
    pub root: Option<String>,
}

impl RepoPaths {
    pub fn new(prefix: &str, root: Option<&str>) -> RepoPaths {
        RepoPaths {
            prefix: prefix.replace('\\', "/").trim_matches('/').to_string(),
            root: root.map(|r| r.replace('\\', "/").trim_end_matches('/').to_string()),
        }
    }

    pub fn map(&self, path: &str) -> String {
        let path = path.replace('\\', "/");
        if let Some(root) = &self.root
            && let Some(rest) = path.strip_prefix(root.as_str())
            && let Some(rest) = rest.strip_prefix('/')
        {
            return rest.to_string();
        }
        let mut rel = path.as_str();
        while let Some(rest) = rel.strip_prefix("./") {
            rel = rest;
        }
        if self.prefix.is_empty() || rel.starts_with('/') {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }
}

fn command_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// One `::error file=...,line=...,col=...,title=RULE::message` line for a finding.
///
/// GitHub only accepts a column range on a single line, so a finding that spans lines gets
/// `line`/`endLine` and no column. GitHub's `endColumn` is inclusive; the report's
/// `end_column` is just past the span.
pub fn annotation(f: &Finding, paths: &RepoPaths) -> String {
    let mut props: Vec<(&str, String)> = Vec::new();
    if let Some(path) = &f.path {
        props.push(("file", paths.map(path)));
        if let Some(line) = f.line {
            props.push(("line", line.to_string()));
            match f.end_line {
                Some(end) if end != line => props.push(("endLine", end.to_string())),
                _ => {
                    if let Some(col) = f.column {
                        props.push(("col", col.to_string()));
                        if let Some(end) = f.end_column.filter(|&e| e > col + 1) {
                            props.push(("endColumn", (end - 1).to_string()));
                        }
                    }
                }
            }
        }
    }
    props.push(("title", f.rule.clone()));
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    format!(
        "::{} {}::{}",
        command_name(f.severity),
        props.join(","),
        escape_data(&message)
    )
}

/// Every finding as an annotation, one per line. In pull-request mode only the findings the
/// change introduces: an annotation on a line the pull request did not touch is noise in
/// its diff (the job summary and the comment still list the pre-existing ones).
pub fn annotations(report: &Report, paths: &RepoPaths) -> String {
    let mut out = String::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.introduced != Some(false))
    {
        out.push_str(&annotation(f, paths));
        out.push('\n');
    }
    out
}

/// The Markdown appended to `$GITHUB_STEP_SUMMARY`.
pub fn summary_markdown(report: &Report) -> String {
    let mut out = String::new();
    let target = match &report.database {
        Some(db) => format!(" on {}", markdown::escape(&db.path)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "## schemagate {}{target}\n",
        markdown::escape(&report.command)
    );
    out.push_str(&markdown::full_body(report));
    out
}

/// The step outputs, in the order they are written.
pub fn outputs(report: &Report, report_path: Option<&str>) -> Vec<(&'static str, String)> {
    let s = &report.summary;
    vec![
        ("ok", s.ok.to_string()),
        ("errors", s.errors.to_string()),
        ("warnings", s.warnings.to_string()),
        ("infos", s.infos.to_string()),
        ("pending", s.pending.to_string()),
        ("report-path", report_path.unwrap_or_default().to_string()),
    ]
}

/// `$GITHUB_OUTPUT` text in the delimiter form GitHub's toolkit writes
/// (`name<<DELIM`, the value, `DELIM`), which carries any value, multi-line included. The
/// caller picks a delimiter that occurs in no value ([`delimiter_is_safe`]).
pub fn outputs_text(outputs: &[(&str, String)], delimiter: &str) -> String {
    let mut out = String::new();
    for (name, value) in outputs {
        let _ = write!(out, "{name}<<{delimiter}\n{value}\n{delimiter}\n");
    }
    out
}

/// Whether `delimiter` can frame every output (it must not occur in a name or a value).
pub fn delimiter_is_safe(outputs: &[(&str, String)], delimiter: &str) -> bool {
    outputs
        .iter()
        .all(|(k, v)| !k.contains(delimiter) && !v.contains(delimiter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DryRun, FailOn, Step, StepStatus};

    fn report() -> Report {
        let mut r = Report::new("check", "migrations");
        r.findings.push(
            Finding::new(
                "duplicate-version",
                Severity::Error,
                "version 004 is used by 2 files: 004_a.sql, 004_b.sql",
            )
            .path("migrations/004_b.sql")
            .at(1, 1)
            .help("renumber the later file: `schemagate renumber --write`"),
        );
        let mut multi = Finding::new(
            "robust-statements",
            Severity::Warning,
            "100% sure: CREATE TABLE t, without IF NOT EXISTS\nfails when run twice",
        )
        .path("migrations/003_t.sql")
        .at(2, 1);
        multi.end_line = Some(5);
        multi.end_column = Some(3);
        r.findings.push(multi);
        let mut one_line = Finding::new("slow-migration", Severity::Info, "took 2.1 s")
            .path("./migrations/005_c.sql")
            .at(3, 5);
        one_line.end_column = Some(9);
        r.findings.push(one_line);
        r.findings.push(Finding::new(
            "out-of-order",
            Severity::Error,
            "no file: a, b",
        ));
        r.dry_run = Some(DryRun {
            source: "empty".into(),
            steps: vec![
                Step {
                    version: "003".into(),
                    path: Some("migrations/003_t.sql".into()),
                    status: StepStatus::Ok,
                    duration_ms: 1.25,
                    statements: Some(2),
                    schema_diff: "+CREATE TABLE t (id INTEGER)\n".into(),
                    error: None,
                    cascade_of: None,
                    introduced: None,
                },
                Step {
                    version: "004".into(),
                    path: Some("migrations/004_b.sql".into()),
                    status: StepStatus::Failed,
                    duration_ms: 0.5,
                    statements: Some(1),
                    schema_diff: String::new(),
                    error: Some(crate::report::Location {
                        message: "no such table: x".into(),
                        path: Some("migrations/004_b.sql".into()),
                        line: Some(1),
                        column: Some(15),
                    }),
                    cascade_of: None,
                    introduced: None,
                },
            ],
        });
        r.finish(FailOn::Error);
        r
    }

    #[test]
    fn escaping_matches_the_toolkit() {
        assert_eq!(escape_data("100%\r\n: ,"), "100%25%0D%0A: ,");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn annotations_snapshot() {
        insta::assert_snapshot!(annotations(&report(), &RepoPaths::default()));
    }

    #[test]
    fn annotation_paths_are_relative_to_the_repository() {
        let r = report();
        let dup = r
            .findings
            .iter()
            .find(|f| f.rule == "duplicate-version")
            .unwrap();
        let line = annotation(dup, &RepoPaths::new("app/db/", None));
        assert!(line.contains("file=app/db/migrations/004_b.sql,"), "{line}");
        assert_eq!(RepoPaths::new("sub", None).map("./m/x.sql"), "sub/m/x.sql");
        assert_eq!(RepoPaths::default().map("m\\x.sql"), "m/x.sql");
        let rooted = RepoPaths::new("sub", Some("/home/runner/work/r/r/"));
        assert_eq!(rooted.map("/home/runner/work/r/r/m/x.sql"), "m/x.sql");
        assert_eq!(rooted.map("/elsewhere/x.sql"), "/elsewhere/x.sql");
    }

    #[test]
    fn pre_existing_findings_get_no_annotation() {
        let mut r = report();
        for f in &mut r.findings {
            f.introduced = Some(f.rule != "duplicate-version");
        }
        let text = annotations(&r, &RepoPaths::default());
        assert!(!text.contains("duplicate-version"), "{text}");
        assert!(text.contains("title=robust-statements"), "{text}");
        // Without a base (introduced absent) every finding is annotated.
        assert_eq!(
            annotations(&report(), &RepoPaths::default())
                .lines()
                .count(),
            4
        );
    }

    #[test]
    fn summary_snapshot() {
        insta::assert_snapshot!(summary_markdown(&report()));
    }

    #[test]
    fn outputs_use_the_delimiter_form() {
        let outs = outputs(&report(), Some("/tmp/r.json"));
        assert!(delimiter_is_safe(&outs, "ghadelimiter_1"));
        assert!(!delimiter_is_safe(
            &[("k", "a ghadelimiter_1".into())],
            "ghadelimiter_1"
        ));
        insta::assert_snapshot!(outputs_text(&outs, "ghadelimiter_1"));
    }
}
