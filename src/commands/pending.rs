//! `schemagate pending`: the migrations `migrate` would apply, in order.

use std::fmt::Write as _;

use crate::cli::{Context, Format, Outcome};
use crate::plan::State;

pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let target = ctx.require_database()?;
    let discovery = ctx.read_migrations()?;
    let mut r = super::status::database_report(ctx, &discovery, target, "pending")?;
    r.report.migrations.retain(|m| m.state == State::Pending);
    match ctx.format {
        Format::Json => ctx.emit(&format!("{}\n", serde_json::to_string_pretty(&r.report)?))?,
        _ => {
            let mut out = String::new();
            if r.report.migrations.is_empty() {
                let _ = writeln!(out, "{}: nothing pending", r.display);
            }
            for m in &r.report.migrations {
                let _ = writeln!(
                    out,
                    "{}  {}",
                    m.version,
                    m.path.as_deref().unwrap_or(&m.name)
                );
            }
            if !r.exists {
                ctx.log(format!(
                    "{} does not exist yet: everything is pending",
                    r.display
                ));
            }
            ctx.emit(&out)?;
        }
    }
    Ok(Outcome::Clean)
}
