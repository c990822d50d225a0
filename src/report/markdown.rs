//! Markdown pieces shared by the GitHub job summary and the pull-request comment (pure).
//!
//! Everything that comes from a migration file or a rule message is untrusted text: it is
//! escaped so that it cannot break a table, close a `<details>` block or inject HTML.
//!
//! In pull-request mode the findings table holds what the change introduces; the
//! pre-existing findings are folded into a collapsed `<details>` block below it.

use std::fmt::Write;

use super::{Finding, Report, Severity, Step, StepStatus};

/// Escapes text for a table cell or a line of prose: HTML special characters become entities
/// (GitHub renders inline HTML), `|` cannot end the cell, line breaks stay inside it, and
/// Markdown emphasis and links are shown as typed. Inline code spans (`` `...` ``), which
/// rule messages use for SQL, stay code spans: their content is shown verbatim by GitHub,
/// so it needs no escaping beyond the cell's `|`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '`'
            && let Some(end) = rest[1..].find('`')
            && end > 0
        {
            let code = &rest[1..=end];
            out.push('`');
            for c in code.chars() {
                match c {
                    '|' => out.push_str("\\|"),
                    '\r' | '\n' => out.push(' '),
                    c => out.push(c),
                }
            }
            out.push('`');
            rest = &rest[end + 2..];
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\r' => {}
            '\n' => out.push_str("<br>"),
            '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Escapes text inside an HTML element such as `<summary>`, where GitHub does not apply
/// Markdown (so Markdown escapes would show as backslashes).
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace(['\r', '\n'], " ")
}

/// A fenced code block whose fence is longer than any backtick run inside `body`, so a diff
/// that contains ``` cannot end it early.
pub fn fenced(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let body = body.trim_end_matches('\n');
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

/// A path or location as inline code (verbatim), or as escaped text when it holds a
/// backtick that would end the code span.
pub fn code(text: &str) -> String {
    if text.is_empty() || text.contains('`') {
        escape(text)
    } else {
        escape(&format!("`{text}`"))
    }
}

pub fn severity_badge(s: Severity) -> &'static str {
    match s {
        Severity::Error => "❌ error",
        Severity::Warning => "⚠️ warning",
        Severity::Info => "ℹ️ info",
    }
}

pub fn location(f: &Finding) -> String {
    match (&f.path, f.line, f.column) {
        (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}"),
        (Some(p), Some(l), None) => format!("{p}:{l}"),
        (Some(p), None, _) => p.clone(),
        (None, ..) => String::new(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "❌ failed" / "✅ passed" with the counts, on one line.
pub fn verdict_line(report: &Report) -> String {
    let s = &report.summary;
    let verdict = if s.ok { "✅ passed" } else { "❌ failed" };
    if let (Some(base), Some(errors)) = (&report.base, s.introduced_errors) {
        let warnings = s.introduced_warnings.unwrap_or_default();
        let infos = s.introduced_infos.unwrap_or_default();
        let pre = (s.errors + s.warnings + s.infos).saturating_sub(errors + warnings + infos);
        let blocking = match base.gate {
            super::Gate::All => "blocking",
            super::Gate::Introduced => "not blocking",
        };
        return format!(
            "**{verdict}**: {}, {}, {} introduced by this change · {pre} pre-existing on {} ({blocking}) · {} applied, {} pending",
            plural(errors, "error", "errors"),
            plural(warnings, "warning", "warnings"),
            plural(infos, "info", "info"),
            code(&base.reference),
            s.applied,
            s.pending
        );
    }
    format!(
        "**{verdict}**: {}, {}, {} · {} applied, {} pending",
        plural(s.errors, "error", "errors"),
        plural(s.warnings, "warning", "warnings"),
        plural(s.infos, "info", "info"),
        s.applied,
        s.pending
    )
}

/// The findings table, errors first (so a cut table still shows what blocks the merge),
/// rows `0..limit`, or a sentence when there is none.
pub fn findings_table(out: &mut String, findings: &[Finding], limit: usize, max_message: usize) {
    if findings.is_empty() {
        out.push_str("No findings.\n");
        return;
    }
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out.push_str("| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
    for f in ordered.into_iter().take(limit) {
        let loc = location(f);
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            severity_badge(f.severity),
            f.rule,
            code(&loc),
            escape(&truncate(&f.message, max_message))
        );
    }
    if findings.len() > limit {
        let rest = findings.len() - limit;
        let noun = if rest == 1 { "finding" } else { "findings" };
        let _ = writeln!(out, "\n…and {rest} more {noun}.");
    }
}

/// `<details>` blocks with each finding's help and diff.
pub fn finding_details(out: &mut String, findings: &[Finding]) {
    for f in findings
        .iter()
        .filter(|f| f.help.is_some() || f.diff.is_some())
    {
        let loc = location(f);
        let _ = write!(
            out,
            "<details><summary><code>{}</code>",
            escape_html(&f.rule)
        );
        if !loc.is_empty() {
            let _ = write!(out, " at {}", escape_html(&loc));
        }
        out.push_str("</summary>\n\n");
        if let Some(help) = &f.help {
            let _ = writeln!(out, "{}\n", escape(help));
        }
        if let Some(diff) = &f.diff {
            out.push_str(&fenced("diff", diff));
            out.push('\n');
        }
        out.push_str("</details>\n\n");
    }
}

fn step_status(s: &Step) -> String {
    match s.status {
        StepStatus::Ok => "✅ ok".to_string(),
        StepStatus::Skipped => "⏭️ skipped".to_string(),
        StepStatus::Failed => {
            let mut label = "❌ failed".to_string();
            if let Some(root) = &s.cascade_of {
                label.push_str(&format!(" (cascade of {})", escape(root)));
            }
            if s.introduced == Some(false) {
                label.push_str(" (pre-existing)");
            }
            match &s.error {
                Some(e) => {
                    let at = match (&e.path, e.line, e.column) {
                        (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}: "),
                        (Some(p), Some(l), None) => format!("{p}:{l}: "),
                        _ => String::new(),
                    };
                    format!("{label}: {}", escape(&format!("{at}{}", e.message)))
                }
                None => label,
            }
        }
    }
}

/// The dry-run table and, with `diffs`, one collapsible schema diff per step that changed
/// the schema.
pub fn dry_run_section(out: &mut String, report: &Report, diffs: bool) {
    let Some(dry) = &report.dry_run else { return };
    let _ = writeln!(
        out,
        "### Dry run on {} ({})\n",
        escape(&dry.source),
        plural(dry.steps.len(), "step", "steps")
    );
    if dry.steps.is_empty() {
        out.push_str("Nothing was pending.\n\n");
        return;
    }
    out.push_str("| Version | Migration | Status | Time | Statements |\n|---|---|---|---:|---:|\n");
    for s in &dry.steps {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} ms | {} |",
            escape(&s.version),
            s.path.as_deref().map(code).unwrap_or_default(),
            step_status(s),
            s.duration_ms,
            s.statements.map(|n| n.to_string()).unwrap_or_default()
        );
    }
    out.push('\n');
    if diffs {
        for s in dry
            .steps
            .iter()
            .filter(|s| !s.schema_diff.trim().is_empty())
        {
            let file = match &s.path {
                Some(p) => format!(" ({})", escape_html(p)),
                None => String::new(),
            };
            let _ = write!(
                out,
                "<details><summary>Schema diff of {}{file}</summary>\n\n{}\n</details>\n\n",
                escape_html(&s.version),
                fenced("diff", &s.schema_diff)
            );
        }
    }
}

/// Cuts `text` to at most `max` characters (on a char boundary), marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The findings the change introduces (every finding without a base) and the pre-existing
/// ones, apart.
pub fn split_findings(report: &Report) -> (Vec<Finding>, Vec<Finding>) {
    report
        .findings
        .iter()
        .cloned()
        .partition(|f| f.introduced != Some(false))
}

/// The collapsed block of pre-existing findings (nothing when there is none): a table of
/// the first `limit` rows with messages cut at `max_message` characters.
pub fn preexisting_section(out: &mut String, report: &Report, limit: usize, max_message: usize) {
    let (_, pre) = split_findings(report);
    let Some(base) = &report.base else { return };
    if pre.is_empty() {
        return;
    }
    let blocking = match base.gate {
        super::Gate::All => "blocking: the gate is `all`",
        super::Gate::Introduced => "not blocking",
    };
    let _ = write!(
        out,
        "<details><summary>{} unchanged from {} ({})</summary>\n\n",
        plural(pre.len(), "pre-existing finding", "pre-existing findings"),
        escape_html(&base.reference),
        escape_html(blocking)
    );
    findings_table(out, &pre, limit, max_message);
    out.push_str("\n</details>\n\n");
}

/// The full Markdown body shared by the job summary and the comment: verdict, findings,
/// their details, the pre-existing findings folded, the dry run.
pub fn full_body(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", verdict_line(report));
    let (introduced, _) = split_findings(report);
    out.push_str("### Findings\n\n");
    findings_table(&mut out, &introduced, usize::MAX, usize::MAX);
    out.push('\n');
    finding_details(&mut out, &introduced);
    preexisting_section(&mut out, report, usize::MAX, usize::MAX);
    dry_run_section(&mut out, report, true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_untrusted_text_inside_its_cell() {
        assert_eq!(
            escape("a|b <details> & *x*\r\nnext"),
            "a\\|b &lt;details&gt; &amp; \\*x\\*<br>next"
        );
    }

    #[test]
    fn code_spans_stay_code_and_their_content_verbatim() {
        assert_eq!(
            escape("write `CREATE TABLE IF NOT EXISTS a_b` <now>"),
            "write `CREATE TABLE IF NOT EXISTS a_b` &lt;now&gt;"
        );
        assert_eq!(escape("`a|b\nc`"), "`a\\|b c`");
        // A lone or empty pair of backticks is text.
        assert_eq!(escape("it`s"), "it\\`s");
        assert_eq!(escape("``x"), "\\`\\`x");
    }

    #[test]
    fn fence_is_longer_than_any_backtick_run_in_the_body() {
        assert_eq!(fenced("diff", "+a\n"), "```diff\n+a\n```\n");
        assert_eq!(fenced("", "x ```` y"), "`````\nx ```` y\n`````\n");
    }

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
