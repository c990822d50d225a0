//! Text rendering for people: `path:line:col: severity[rule]: message`, a code frame around
//! the offending line, the help, and a summary line.

use std::fmt::Write;

use super::{Finding, Report, Severity, StepStatus};

/// Where the renderer finds the text of a file, to draw code frames (pure: the caller
/// already holds the migration texts).
pub type Sources<'a> = &'a dyn Fn(&str) -> Option<&'a str>;

/// Colours are decided by the caller's stream (anstream strips them when the output is
/// not a terminal or `NO_COLOR` is set), so the renderer always emits them.
pub struct Style {
    pub color: bool,
}

fn paint(style: &Style, code: &str, text: &str) -> String {
    if style.color {
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

pub fn render_finding(out: &mut String, f: &Finding, sources: Sources<'_>, style: &Style) {
    let location = match (&f.path, f.line, f.column) {
        (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}: "),
        (Some(p), Some(l), None) => format!("{p}:{l}: "),
        (Some(p), None, _) => format!("{p}: "),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{}{}[{}]: {}",
        paint(style, "1", &location),
        severity_label(style, f.severity),
        f.rule,
        f.message
    );
    if let (Some(path), Some(line)) = (&f.path, f.line)
        && let Some(text) = sources(path)
        && let Some(src_line) = text.lines().nth(line.saturating_sub(1))
    {
        let gutter = line.to_string().len();
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{line} | {}", src_line.trim_end_matches('\r'));
        if let Some(col) = f.column {
            let width = match (f.end_line, f.end_column) {
                (None | Some(_), Some(end))
                    if f.end_line.is_none_or(|e| e == line) && end > col =>
                {
                    end - col
                }
                _ => src_line.chars().count().saturating_sub(col - 1).max(1),
            };
            let pad: String = src_line
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(
                out,
                "{:gutter$} | {pad}{}",
                "",
                paint(style, "1;31", &"^".repeat(width))
            );
        }
    }
    if let Some(help) = &f.help {
        let _ = writeln!(out, "  = {}: {help}", paint(style, "1", "help"));
    }
    if let Some(diff) = &f.diff {
        for l in diff.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
}

pub fn render(report: &Report, sources: Sources<'_>, style: &Style) -> String {
    let mut out = String::new();
    for f in &report.findings {
        render_finding(&mut out, f, sources, style);
        out.push('\n');
    }
    if let Some(dry) = &report.dry_run {
        let _ = writeln!(out, "dry run on {} ({} steps)", dry.source, dry.steps.len());
        for s in &dry.steps {
            let status = match s.status {
                StepStatus::Ok => paint(style, "32", "ok"),
                StepStatus::Failed => paint(style, "1;31", "FAILED"),
                StepStatus::Skipped => paint(style, "2", "skipped"),
            };
            let _ = writeln!(
                out,
                "  {:>6}  {status:<8} {:>9.1} ms",
                s.version, s.duration_ms
            );
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
    let s = &report.summary;
    let verdict = if s.ok {
        paint(style, "1;32", "ok")
    } else {
        paint(style, "1;31", "failed")
    };
    let _ = writeln!(
        out,
        "{verdict}: {} error(s), {} warning(s), {} info; {} applied, {} pending",
        s.errors, s.warnings, s.infos, s.applied, s.pending
    );
    out
}
