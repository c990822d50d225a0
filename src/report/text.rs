//! Text rendering for people, like a compiler: `path:line:col: severity[rule]: message`, a
//! code frame with the offending span underlined, the help, and a summary line.
//!
//! In pull-request mode the findings the change introduces are shown in full; pre-existing
//! ones get one line per rule and severity ("12 pre-existing errors unchanged from main,
//! not blocking"), and are listed in full only when asked (`-v`).

use std::fmt::Write;

use super::{Finding, Report, Severity, StepStatus};

/// Where the renderer finds the text of a file, to draw code frames (pure: the caller
/// already holds the migration texts).
pub type Sources<'a> = &'a dyn Fn(&str) -> Option<&'a str>;

/// Whether to emit colour escapes. On stdout, anstream strips them when the output is not a
/// terminal or `NO_COLOR` is set, so callers pass `color: true` there and `false` for files.
pub struct Style {
    pub color: bool,
}

fn paint(style: &Style, code: &str, text: &str) -> String {
    if style.color && !text.is_empty() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn severity_label(style: &Style, s: Severity) -> String {
    match s {
        Severity::Error => paint(style, "1;31", "error"),
        Severity::Warning => paint(style, "1;33", "warning"),
        Severity::Info => paint(style, "1;36", "info"),
    }
}

fn underline_code(s: Severity) -> &'static str {
    match s {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "1;36",
    }
}

/// Spaces (tabs kept, so the caret lines up in any tab width) as wide as `chars` chars of
/// `line`.
fn pad(line: &str, chars: usize) -> String {
    line.chars()
        .take(chars)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect()
}

pub fn render_finding(out: &mut String, f: &Finding, sources: Sources<'_>, style: &Style) {
    let location = match (&f.path, f.line, f.column) {
        (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}: "),
        (Some(p), Some(l), None) => format!("{p}:{l}: "),
        (Some(p), None, _) => format!("{p}: "),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{}{}{}: {}",
        paint(style, "1", &location),
        severity_label(style, f.severity),
        paint(style, "2", &format!("[{}]", f.rule)),
        f.message
    );
    if let (Some(path), Some(line)) = (&f.path, f.line)
        && let Some(text) = sources(path)
    {
        frame(out, f, text, line, style);
    }
    if let Some(help) = &f.help {
        // Continuation lines (a TOML snippet, a list) stay under the help's text.
        let help = help.replace('\n', "\n          ");
        let _ = writeln!(out, "  = {}: {help}", paint(style, "1", "help"));
    }
    if let Some(diff) = &f.diff {
        for l in diff.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
}

/// The offending line(s) with the span underlined: the first line from the column to the
/// end of the span (or of the line), and for a span over several lines its last line too.
fn frame(out: &mut String, f: &Finding, text: &str, line: usize, style: &Style) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line_text = |n: usize| {
        text.split('\n')
            .nth(n.saturating_sub(1))
            .map(|l| l.trim_end_matches('\r'))
    };
    let Some(first) = line_text(line) else {
        return;
    };
    let end_line = f.end_line.filter(|e| *e > line);
    let last = end_line.and_then(|e| line_text(e).map(|t| (e, t)));
    let gutter = last.map_or(line, |(e, _)| e).to_string().len();
    let bar = paint(style, "1;34", "|");
    let marks = |s: &str| paint(style, underline_code(f.severity), s);
    let _ = writeln!(out, "{:gutter$} {bar}", "");
    let _ = writeln!(
        out,
        "{} {bar} {first}",
        paint(style, "1;34", &format!("{line:>gutter$}"))
    );
    if let Some(col) = f.column {
        let col = col.max(1);
        let len = first.chars().count();
        let width = match (end_line, f.end_column) {
            (None, Some(end)) if end > col => end - col,
            _ => len.saturating_sub(col - 1),
        }
        .max(1);
        let _ = writeln!(
            out,
            "{:gutter$} {bar} {}{}",
            "",
            pad(first, col - 1),
            marks(&"^".repeat(width))
        );
    }
    if let Some((e, last_text)) = last {
        if e > line + 1 {
            let _ = writeln!(
                out,
                "{} {bar}",
                paint(style, "1;34", &format!("{:>gutter$}", "..."))
            );
        }
        let _ = writeln!(
            out,
            "{} {bar} {last_text}",
            paint(style, "1;34", &format!("{e:>gutter$}"))
        );
        let indent = last_text.chars().take_while(|c| c.is_whitespace()).count();
        let end = f
            .end_column
            .map_or(last_text.chars().count(), |c| c.saturating_sub(1));
        let width = end.saturating_sub(indent).max(1);
        let _ = writeln!(
            out,
            "{:gutter$} {bar} {}{}",
            "",
            pad(last_text, indent),
            marks(&"^".repeat(width))
        );
    }
}

pub fn render(report: &Report, sources: Sources<'_>, style: &Style) -> String {
    render_listing(report, sources, style, false)
}

fn plural_noun(s: Severity, n: usize) -> &'static str {
    match (s, n == 1) {
        (Severity::Error, true) => "error",
        (Severity::Error, false) => "errors",
        (Severity::Warning, true) => "warning",
        (Severity::Warning, false) => "warnings",
        (Severity::Info, true) => "info finding",
        (Severity::Info, false) => "info findings",
    }
}

/// One line per rule and severity for the pre-existing findings of a pull-request-mode
/// report (nothing without a base).
pub fn preexisting_lines(report: &Report, listed: bool) -> Vec<String> {
    let Some(base) = &report.base else {
        return Vec::new();
    };
    let mut groups: std::collections::BTreeMap<(&str, std::cmp::Reverse<Severity>), usize> =
        std::collections::BTreeMap::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.introduced == Some(false))
    {
        *groups
            .entry((f.rule.as_str(), std::cmp::Reverse(f.severity)))
            .or_default() += 1;
    }
    let blocking = match base.gate {
        super::Gate::All => "blocking (gate: all)",
        super::Gate::Introduced => "not blocking",
    };
    let more = if listed { "" } else { "; -v lists them" };
    groups
        .into_iter()
        .map(|((rule, std::cmp::Reverse(severity)), n)| {
            format!(
                "{rule}: {n} pre-existing {} unchanged from {}, {blocking}{more}",
                plural_noun(severity, n),
                base.reference
            )
        })
        .collect()
}

/// [`render`]; in pull-request mode with `list_preexisting`, the pre-existing findings are
/// shown in full after the introduced ones.
pub fn render_listing(
    report: &Report,
    sources: Sources<'_>,
    style: &Style,
    list_preexisting: bool,
) -> String {
    let mut out = String::new();
    // The legacy layout is the default world; another tool's folder is named up front.
    if let Some(l) = report
        .layout
        .as_ref()
        .filter(|l| l.name != crate::layout::Layout::Legacy)
    {
        let _ = writeln!(
            out,
            "{} {}, from {}\n",
            paint(style, "1", "layout:"),
            l.name,
            l.evidence
        );
    }
    for f in report
        .findings
        .iter()
        .filter(|f| f.introduced != Some(false))
    {
        render_finding(&mut out, f, sources, style);
        out.push('\n');
    }
    let preexisting: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.introduced == Some(false))
        .collect();
    if list_preexisting && !preexisting.is_empty() {
        let reference = report.base.as_ref().map_or("", |b| b.reference.as_str());
        let _ = writeln!(
            out,
            "{}\n",
            paint(
                style,
                "1",
                &format!("pre-existing findings (unchanged from {reference}):")
            )
        );
        for f in preexisting {
            render_finding(&mut out, f, sources, style);
            out.push('\n');
        }
    }
    if let Some(dry) = &report.dry_run {
        let _ = writeln!(out, "dry run on {} ({} steps)", dry.source, dry.steps.len());
        for s in &dry.steps {
            // Padded before painting: escape codes would count towards the width.
            let status = match s.status {
                StepStatus::Ok => paint(style, "32", &format!("{:<8}", "ok")),
                StepStatus::Failed => paint(style, "1;31", &format!("{:<8}", "FAILED")),
                StepStatus::Skipped => paint(style, "2", &format!("{:<8}", "skipped")),
            };
            let statements = s
                .statements
                .map(|n| format!("  {n} statement(s)"))
                .unwrap_or_default();
            let name = s
                .path
                .as_deref()
                .map(|p| format!("  {p}"))
                .unwrap_or_default();
            let mut notes = String::new();
            if let Some(root) = &s.cascade_of {
                notes.push_str(&format!("  (cascade of {root})"));
            }
            if s.introduced == Some(false) {
                notes.push_str("  (pre-existing)");
            }
            let _ = writeln!(
                out,
                "  {:>6}  {status} {:>9.1} ms{statements}{name}{notes}",
                s.version, s.duration_ms
            );
            // The schema change of the step, without the diff's file header.
            for l in s
                .schema_diff
                .lines()
                .filter(|l| !l.starts_with("--- ") && !l.starts_with("+++ "))
            {
                let l = match l.chars().next() {
                    Some('+') => paint(style, "32", l),
                    Some('-') => paint(style, "31", l),
                    _ => l.to_string(),
                };
                let _ = writeln!(out, "          {l}");
            }
            if let Some(e) = &s.error {
                let at = match (&e.path, e.line, e.column) {
                    (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}: "),
                    (Some(p), Some(l), None) => format!("{p}:{l}: "),
                    _ => String::new(),
                };
                let _ = writeln!(out, "          {at}{}", e.message);
            }
        }
        out.push('\n');
    }
    let lines = preexisting_lines(report, list_preexisting);
    for l in &lines {
        let _ = writeln!(out, "{} {l}", paint(style, "1;36", "note:"));
    }
    if !lines.is_empty() {
        out.push('\n');
    }
    let s = &report.summary;
    let verdict = if s.ok {
        paint(style, "1;32", "ok")
    } else {
        paint(style, "1;31", "failed")
    };
    let counts = match (&report.base, s.introduced_errors) {
        (Some(base), Some(errors)) => {
            let warnings = s.introduced_warnings.unwrap_or_default();
            let infos = s.introduced_infos.unwrap_or_default();
            let pre = (s.errors + s.warnings + s.infos).saturating_sub(errors + warnings + infos);
            format!(
                "{errors} error(s), {warnings} warning(s), {infos} info introduced; {pre} pre-existing unchanged from {}",
                base.reference
            )
        }
        _ => format!(
            "{} error(s), {} warning(s), {} info",
            s.errors, s.warnings, s.infos
        ),
    };
    if report.database.is_none() && report.dry_run.is_none() {
        let _ = writeln!(
            out,
            "{verdict}: {counts} in {} migration(s)",
            report.migrations.len()
        );
    } else {
        let _ = writeln!(
            out,
            "{verdict}: {counts}; {} applied, {} pending",
            s.applied, s.pending
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(f: &Finding, text: &str) -> String {
        let mut out = String::new();
        let src = |_: &str| Some(text);
        render_finding(&mut out, f, &src, &Style { color: false });
        out
    }

    #[test]
    fn frame_underlines_the_span() {
        let mut f = Finding::new("robust-statements", Severity::Warning, "msg")
            .path("m/001_x.sql")
            .at(2, 3)
            .help("do this");
        f.end_column = Some(8);
        let out = plain(&f, "-- x\n  DROP TABLE t;\n");
        insta::assert_snapshot!(out, @r"
        m/001_x.sql:2:3: warning[robust-statements]: msg
          |
        2 |   DROP TABLE t;
          |   ^^^^^
          = help: do this
        ");
    }

    #[test]
    fn multi_line_spans_show_their_last_line() {
        let mut f = Finding::new("transaction-control", Severity::Error, "msg")
            .path("p")
            .at(9, 1);
        f.end_line = Some(11);
        f.end_column = Some(5);
        let text = "\n\n\n\n\n\n\n\nBEGIN\n  x\nEND;\n";
        let out = plain(&f, text);
        insta::assert_snapshot!(out, @r"
        p:9:1: error[transaction-control]: msg
           |
         9 | BEGIN
           | ^^^^^
        ... |
        11 | END;
           | ^^^^
        ");
    }

    #[test]
    fn colours_only_when_asked() {
        let f = Finding::new("x", Severity::Error, "m").path("p").at(1, 1);
        let mut out = String::new();
        let src = |_: &str| Some("SELECT 1;");
        render_finding(&mut out, &f, &src, &Style { color: true });
        assert!(out.contains("\x1b[1;31merror"));
        assert!(!plain(&f, "SELECT 1;").contains('\x1b'));
    }
}
