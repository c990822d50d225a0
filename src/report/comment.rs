//! The sticky pull-request comment body (pure): a function of the report alone, found again
//! on the next run by its hidden marker.

use std::fmt::Write;

use super::{Report, markdown};

/// The hidden first line that identifies our comment among the pull request's comments.
pub const MARKER: &str = "<!-- schemagate:sticky-comment -->";

/// GitHub rejects comment bodies longer than this many characters.
pub const MAX_CHARS: usize = 65_536;

fn header(out: &mut String, report: &Report) {
    let _ = writeln!(out, "{MARKER}");
    let _ = writeln!(out, "## schemagate {}\n", markdown::escape(&report.command));
    let s = &report.summary;
    let verdict = if s.ok {
        "The migrations pass: nothing blocks the merge."
    } else {
        "The migrations do not pass: the findings below block the merge."
    };
    let _ = writeln!(out, "{verdict}\n");
}

fn footer(out: &mut String, report: &Report, run_url: Option<&str>) {
    out.push_str("\n---\n");
    let _ = write!(
        out,
        "<sub>schemagate {} · updated on every push",
        markdown::escape(&report.tool.version)
    );
    if let Some(url) = run_url {
        let _ = write!(out, " · [workflow run]({url})");
    }
    out.push_str("</sub>\n");
}

fn full(report: &Report, run_url: Option<&str>) -> String {
    let mut out = String::new();
    header(&mut out, report);
    out.push_str(&markdown::full_body(report));
    footer(&mut out, report, run_url);
    out
}

/// The short form: verdict, counts, the first `rows` findings with cut messages, the dry-run
/// table without diffs, and a pointer to the full report.
fn short(report: &Report, run_url: Option<&str>, rows: usize) -> String {
    let mut out = String::new();
    header(&mut out, report);
    let _ = writeln!(out, "{}\n", markdown::verdict_line(report));
    out.push_str("### Findings\n\n");
    let (introduced, _) = markdown::split_findings(report);
    markdown::findings_table(&mut out, &introduced, rows, 200);
    out.push('\n');
    markdown::preexisting_section(&mut out, report, rows, 200);
    markdown::dry_run_section(&mut out, report, false);
    out.push_str(
        "> [!NOTE]\n> The full report is longer than a pull-request comment may be; \
         it is in the job summary of the workflow run.\n",
    );
    footer(&mut out, report, run_url);
    out
}

/// The comment body: the full report, or the short form when the full one would exceed
/// GitHub's limit. `run_url` links the workflow run when known.
pub fn body(report: &Report, run_url: Option<&str>) -> String {
    let full = full(report, run_url);
    if full.chars().count() <= MAX_CHARS {
        return full;
    }
    let mut rows = report.findings.len().min(200);
    loop {
        let text = short(report, run_url, rows);
        if text.chars().count() <= MAX_CHARS || rows == 0 {
            return text;
        }
        rows /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DryRun, FailOn, Finding, Severity, Step, StepStatus};

    fn report() -> Report {
        let mut r = Report::new("check", "migrations");
        r.tool.version = "0.0.0-test".into();
        r.findings.push(
            Finding::new(
                "duplicate-version",
                Severity::Error,
                "version 004 is used by 2 files",
            )
            .path("migrations/004_b.sql")
            .at(1, 1)
            .help("renumber the later file"),
        );
        r.findings.push(
            Finding::new(
                "robust-statements",
                Severity::Warning,
                "CREATE TABLE | <b>x</b>",
            )
            .path("migrations/003_t.sql")
            .at(2, 1),
        );
        r.dry_run = Some(DryRun {
            source: "empty".into(),
            steps: vec![Step {
                version: "003".into(),
                path: Some("migrations/003_t.sql".into()),
                status: StepStatus::Ok,
                duration_ms: 1.25,
                statements: Some(2),
                schema_diff: "+CREATE TABLE t (id INTEGER)\n".into(),
                error: None,
                cascade_of: None,
                introduced: None,
            }],
        });
        r.finish(FailOn::Error);
        r
    }

    #[test]
    fn comment_snapshot() {
        insta::assert_snapshot!(body(
            &report(),
            Some("https://github.com/o/r/actions/runs/1")
        ));
    }

    #[test]
    fn clean_comment_snapshot() {
        let mut r = Report::new("check", "migrations");
        r.tool.version = "0.0.0-test".into();
        r.finish(FailOn::Error);
        insta::assert_snapshot!(body(&r, None));
    }

    #[test]
    fn pre_existing_findings_are_folded() {
        let mut r = report();
        r.base = Some(crate::report::BaseInfo {
            reference: "main".into(),
            commit: "abc".into(),
            gate: crate::report::Gate::Introduced,
        });
        r.findings[0].introduced = Some(false);
        r.findings[1].introduced = Some(true);
        r.finish(FailOn::Error);
        insta::assert_snapshot!(body(&r, None));
    }

    #[test]
    fn short_form_snapshot() {
        insta::assert_snapshot!(short(
            &report(),
            Some("https://github.com/o/r/actions/runs/1"),
            1
        ));
    }

    #[test]
    fn a_report_too_long_for_a_comment_gets_the_short_form() {
        let mut r = report();
        let diff: String = (0..2000).map(|i| format!("+column_{i} TEXT\n")).collect();
        for i in 0..400 {
            r.findings.push(
                Finding::new("robust-statements", Severity::Warning, "x".repeat(500))
                    .path(format!("migrations/{i:03}_t.sql"))
                    .at(1, 1)
                    .help("h".repeat(300)),
            );
        }
        if let Some(d) = r.dry_run.as_mut() {
            d.steps[0].schema_diff = diff;
        }
        r.finish(FailOn::Error);
        assert!(full(&r, None).chars().count() > MAX_CHARS);
        let text = body(&r, None);
        assert!(text.chars().count() <= MAX_CHARS);
        assert!(text.starts_with(MARKER));
        assert!(
            text.contains("more findings"),
            "the short form says what it left out"
        );
        assert!(text.contains("job summary"));
        assert!(
            !text.contains("+column_1 TEXT"),
            "no diffs in the short form"
        );
    }
}
