//! `schemagate status`: applied / pending / drifted / missing, one row per database.

use std::fmt::Write as _;

use crate::audit::{self, AuditRow};
use crate::cli::{Context, Format, Outcome, StatusArgs, Target};
use crate::migration::Discovery;
use crate::plan::{Plan, State};
use crate::report::Report;

pub fn run(ctx: &Context, args: &StatusArgs) -> anyhow::Result<Outcome> {
    let mut targets: Vec<Target> = ctx.targets.clone();
    if args.databases.all_envs {
        for t in ctx.all_env_targets() {
            if !targets.iter().any(|x| x.path == t.path && x.env == t.env) {
                targets.push(t);
            }
        }
    }
    if targets.is_empty() {
        anyhow::bail!(
            "no database given: pass --db FILE, --env NAME or --all-envs (environments are defined in schemagate.toml)"
        );
    }
    if args.audit {
        return print_trail(ctx, &targets);
    }
    let discovery = ctx.read_migrations()?;
    let mut reports = Vec::new();
    for t in &targets {
        reports.push(database_report(ctx, &discovery, t, "status")?);
    }
    let ok = reports.iter().all(|r| r.report.summary.ok);
    match ctx.format {
        Format::Json => {
            let value = if reports.len() == 1 {
                serde_json::to_value(&reports[0].report)?
            } else {
                serde_json::json!({
                    "report_version": crate::report::REPORT_VERSION,
                    "databases": reports.iter().map(|r| &r.report).collect::<Vec<_>>(),
                })
            };
            ctx.emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        }
        _ => ctx.emit(&render_text(ctx, &discovery, &reports))?,
    }
    Ok(Outcome::from_ok(ok))
}

/// One database's report, plus what the text table needs.
pub struct DatabaseReport {
    pub report: Report,
    pub display: String,
    pub env: Option<String>,
    pub exists: bool,
    pub last: Option<(String, Option<String>)>,
    /// Each marker with its remedy (the tool's own fix), as the text report shows it.
    pub dirty: Vec<String>,
}

/// Reads one database without modifying it (a missing one is new: everything pending,
/// [`super::INSPECTING`]) and builds the status report from the one plan.
pub fn database_report(
    ctx: &Context,
    discovery: &Discovery,
    t: &Target,
    command: &str,
) -> anyhow::Result<DatabaseReport> {
    let history = super::read_history(t, discovery.layout, super::INSPECTING)?;
    let rows = history.rows;
    let plan = Plan::new(discovery, &rows);
    let mut report = Report::new(command, &ctx.dir_display);
    report.set_layout(discovery);
    report.database = Some(super::database_info(t));
    report.set_migrations(&plan);
    report.findings = crate::lint::deploy_findings(
        discovery,
        &plan,
        &history.dirty,
        &t.display,
        &ctx.config.rules,
        &ctx.config.accept_checksum,
    );
    ctx.selection.with_target(t).complete_report(&mut report);
    report.finish(ctx.fail_on);
    let last = plan
        .last_recorded()
        .map(|r| (r.version.clone(), r.applied_at.clone()));
    Ok(DatabaseReport {
        exists: history.exists,
        report,
        display: t.display.clone(),
        env: t.env.clone(),
        last,
        dirty: history
            .dirty
            .iter()
            .map(|m| format!("{m}\n  {}", m.remedy()))
            .collect(),
    })
}

fn render_text(ctx: &Context, d: &Discovery, reports: &[DatabaseReport]) -> String {
    let mut rows = vec![[
        "DATABASE".to_string(),
        "ENV".into(),
        "APPLIED".into(),
        "PENDING".into(),
        "DRIFT".into(),
        "UNVERIFIED".into(),
        "LAST APPLIED".into(),
        "STATE".into(),
    ]];
    for r in reports {
        let count = |s: State| r.report.migrations.iter().filter(|m| m.state == s).count();
        let pending = count(State::Pending);
        let drift = count(State::Drifted);
        let state = if !r.exists {
            "new".to_string()
        } else if !r.dirty.is_empty() {
            "dirty".to_string()
        } else if drift > 0 {
            "drift".to_string()
        } else if pending > 0 {
            format!("{pending} pending")
        } else {
            "current".to_string()
        };
        rows.push([
            r.display.clone(),
            r.env.clone().unwrap_or_else(|| "-".into()),
            r.report.summary.applied.to_string(),
            pending.to_string(),
            drift.to_string(),
            count(State::Unverified).to_string(),
            match &r.last {
                Some((v, Some(at))) => format!("{v} at {at}"),
                Some((v, None)) => v.clone(),
                None => "-".into(),
            },
            state,
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    if d.layout != crate::layout::Layout::Legacy {
        let _ = writeln!(out, "layout: {}, from {}\n", d.layout, d.evidence);
    }
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    if let [one] = reports {
        let _ = writeln!(out);
        for m in &one.report.migrations {
            let _ = writeln!(
                out,
                "  {:>6}  {:<12} {}",
                m.version,
                m.state.as_str(),
                m.path.as_deref().unwrap_or(&m.name)
            );
        }
    }
    let style = ctx.text_style();
    let sources = |p: &str| {
        d.migrations
            .iter()
            .find(|m| m.path == p)
            .map(|m| m.text.as_str())
    };
    for r in reports {
        for dirty in &r.dirty {
            let _ = writeln!(out, "\n{}: {dirty}", r.display);
        }
        if !r.report.findings.is_empty() {
            out.push('\n');
        }
        for f in &r.report.findings {
            crate::report::text::render_finding(&mut out, f, &sources, &style);
        }
    }
    out
}

/// The audit trail as a table for people.
fn render_audit(db_display: &str, rows: &[AuditRow]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        let _ = writeln!(out, "audit trail of {db_display}: empty");
        return out;
    }
    let _ = writeln!(out, "audit trail of {db_display}:");
    let header = ["when", "command", "versions", "reason", "backup", "tool"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.at.clone(),
                r.command.clone(),
                if r.versions.is_empty() {
                    "-".into()
                } else {
                    r.versions.join(",")
                },
                r.reason.clone().unwrap_or_else(|| "-".into()),
                r.backup.clone().unwrap_or_else(|| "-".into()),
                r.tool_version.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, row: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ");
            }
        }
        let _ = writeln!(out, "  {}", s.trim_end());
    };
    line(&mut out, &header.map(str::to_string));
    for row in &cells {
        line(&mut out, row);
    }
    out
}

/// `status --audit`: the trail of each database (text: one table per database; JSON: one
/// entry per database). A database that does not exist yet has an empty trail.
fn print_trail(ctx: &Context, targets: &[Target]) -> anyhow::Result<Outcome> {
    if targets.is_empty() {
        anyhow::bail!(
            "no database given: pass --db FILE or --env NAME (or --all-envs) to list the audit trail"
        );
    }
    let mut text = String::new();
    let mut entries = Vec::new();
    for t in targets {
        let rows = match crate::db::open_read_only(&t.path)? {
            Some(conn) => audit::audit_rows(&conn)
                .map_err(|e| e.context(format!("database {}", t.display)))?,
            None => Vec::new(),
        };
        let label = match &t.env {
            Some(env) => format!("{} ({env})", t.display),
            None => t.display.clone(),
        };
        text.push_str(&render_audit(&label, &rows));
        entries.push(serde_json::json!({
            "database": t.display,
            "env": t.env,
            "exists": t.path.exists(),
            "audit": rows,
        }));
    }
    match ctx.format {
        Format::Json => ctx.emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({ "databases": entries }))?
        ))?,
        _ => ctx.emit(&text)?,
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn text_lists_every_row() {
        let conn = Connection::open_in_memory().unwrap();
        audit::record(
            &conn,
            &audit::Entry::new("mark-applied")
                .versions(["007"])
                .reason(Some("applied by hand in 2023")),
        )
        .unwrap();
        let text = render_audit("data/app.db", &audit::audit_rows(&conn).unwrap());
        assert!(text.contains("audit trail of data/app.db:"), "{text}");
        assert!(text.contains("mark-applied"), "{text}");
        assert!(text.contains("applied by hand in 2023"), "{text}");
        assert_eq!(render_audit("x.db", &[]), "audit trail of x.db: empty\n");
    }
}
