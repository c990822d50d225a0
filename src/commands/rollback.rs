//! `schemagate rollback [--to VERSION | --steps N]`: arguments in,
//! [`crate::ops::rollback`] runs the downgrades, its result printed as text or JSON.

use crate::cli::{Context, Format, Outcome, RollbackArgs};
use crate::ops::rollback::{self, RollbackRequest, RollbackStatus, RolledBack};
use crate::ops::{Event, parse_version};

use super::repair::timeouts;

pub fn run(ctx: &Context, args: &RollbackArgs) -> anyhow::Result<Outcome> {
    let to = args.to.as_deref().map(parse_version).transpose()?;
    let discovery = ctx.read_migrations()?;
    let target = ctx.require_database()?;
    // Every downgrade is Python.
    super::require_python(ctx, &discovery.migrations)?;
    let env: Vec<(String, String)> = target
        .env
        .as_deref()
        .map(crate::pyrunner::env_for)
        .unwrap_or_default();
    let req = RollbackRequest {
        db: target.database(),
        backup_dir: &target.backup_dir,
        migrations_dir: &ctx.migrations_dir,
        discovery: &discovery,
        to: to.as_ref(),
        steps: args.steps,
        reason: args.reason.as_deref(),
        python: &ctx.python,
        env: &env,
        timeouts: timeouts(ctx, args.lock.lock_timeout),
    };
    let report = rollback::rollback(&req, &mut |ev| match ev {
        Event::BackedUp(b) => ctx.log(format!("backed up {} to {}", target.display, b.display())),
        Event::Warning(w) => ctx.log(format!("warning: {w}")),
        Event::RolledBack(m) => ctx.log(format!("rolled back {}", m.path)),
    })?;
    if let Some(e) = &report.error {
        ctx.log(format!(
            "error: downgrade of {}{} failed and was rolled back: {}",
            e.path,
            e.line.map(|l| format!(":{l}")).unwrap_or_default(),
            e.message
        ));
    }
    ctx.emit(&render(ctx, &report)?)?;
    Ok(Outcome::from_ok(report.error.is_none()))
}

fn render(ctx: &Context, r: &RolledBack) -> anyhow::Result<String> {
    Ok(match ctx.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(r)?),
        _ => {
            let mut s = String::new();
            match (r.status, r.count) {
                (RollbackStatus::Current, _) => s.push_str("nothing to roll back\n"),
                (_, 0) => {}
                _ => s.push_str(&format!(
                    "rolled back {} in {}: {}\n",
                    if r.count == 1 {
                        "1 migration"
                    } else {
                        "migrations"
                    },
                    r.database,
                    r.rolled_back.join(", ")
                )),
            }
            if let Some(b) = &r.backup {
                s.push_str(&format!("backup taken before: {b}\n"));
            }
            if let Some(e) = &r.error {
                s.push_str(&format!("error: {} failed: {}\n", e.path, e.message));
            }
            s
        }
    })
}
