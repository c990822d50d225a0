//! `schemagate restore [--backup FILE]`: arguments in, [`crate::ops::restore`] does the
//! work (under the lock, through a staging copy and SQLite's backup API), its result
//! printed as text or JSON.

use crate::cli::{Context, Format, Outcome, RestoreArgs};
use crate::ops::Event;
use crate::ops::restore::{self, RestoreRequest, Restored};

use super::repair::timeouts;

pub fn run(ctx: &Context, args: &RestoreArgs) -> anyhow::Result<Outcome> {
    let target = ctx.require_database()?;
    if let (Some(out), Some(backup)) = (&ctx.output, &args.backup)
        && crate::cli::context::same_file(out, backup)
    {
        anyhow::bail!(
            "refusing to write --output {}: it is the backup this command restores; choose another file (nothing was changed)",
            out.display()
        );
    }
    let req = RestoreRequest {
        db: target.database(),
        backup_dir: &target.backup_dir,
        backup: args.backup.as_deref(),
        reason: args.reason.as_deref(),
        timeouts: timeouts(ctx, args.lock.lock_timeout),
    };
    let restored = restore::restore(&req, &mut |ev| {
        if let Event::BackedUp(b) = ev {
            ctx.log(format!(
                "backed up the current state of {} to {}",
                target.display,
                b.display()
            ));
        }
    })?;
    ctx.emit(&render(ctx, &restored)?)?;
    Ok(Outcome::Clean)
}

fn render(ctx: &Context, r: &Restored) -> anyhow::Result<String> {
    Ok(match ctx.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(r)?),
        _ => {
            let mut s = format!("restored {} from {}\n", r.database, r.restored_from);
            if let Some(b) = &r.backup {
                s.push_str(&format!("the replaced state was backed up to {b}\n"));
            }
            if r.no_longer_applied.is_empty() {
                s.push_str("no version is un-applied by this restore\n");
            } else {
                s.push_str(&format!(
                    "no longer applied: {}\n",
                    r.no_longer_applied.join(", ")
                ));
            }
            if !r.now_applied.is_empty() {
                s.push_str(&format!("now applied: {}\n", r.now_applied.join(", ")));
            }
            s
        }
    })
}
