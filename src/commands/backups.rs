//! `schemagate backups`: the backups of a database, oldest first, with their time, size and
//! the newest version each one holds (what `restore` would bring back).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::cli::{Context, Format, Outcome};

#[derive(Debug, Serialize)]
struct Listed {
    path: String,
    /// Modification time, seconds since the Unix epoch.
    modified: Option<u64>,
    size: u64,
    /// Newest version in the backup's `schema_versions`; None when it has no history.
    newest_version: Option<String>,
    /// Why the backup could not be read (it is listed anyway: `restore` would refuse it).
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let target = ctx.require_database()?;
    let files = crate::backup::list_backups(&target.path, &target.backup_dir)?;
    let listed: Vec<Listed> = files
        .iter()
        .map(|b| {
            let (newest_version, problem) = match crate::backup::newest_version(&b.path) {
                Ok(v) => (v, None),
                Err(e) => (None, Some(format!("{e:#}"))),
            };
            Listed {
                path: b.path.display().to_string(),
                modified: b
                    .modified
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
                size: b.size,
                newest_version,
                problem,
            }
        })
        .collect();
    match ctx.format {
        Format::Json => {
            let value = serde_json::json!({
                "database": target.display,
                "backup_dir": target.backup_dir.display().to_string(),
                "backups": listed,
            });
            ctx.emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        }
        _ => ctx.emit(&render_text(
            &target.display,
            &target.backup_dir.display().to_string(),
            files.iter().map(|b| b.modified).collect(),
            &listed,
        ))?,
    }
    Ok(Outcome::Clean)
}

fn render_text(db: &str, dir: &str, times: Vec<Option<SystemTime>>, listed: &[Listed]) -> String {
    if listed.is_empty() {
        return format!("no backups of {db} in {dir}\n");
    }
    let mut out = format!("backups of {db} in {dir} (oldest first):\n");
    for (b, t) in listed.iter().zip(times) {
        let when = t
            .map(crate::backup::timestamp)
            .unwrap_or_else(|| "unknown time".into());
        let version = match (&b.newest_version, &b.problem) {
            (_, Some(p)) => format!("unreadable: {p}"),
            (Some(v), None) => format!("newest version {v}"),
            (None, None) => "no history".into(),
        };
        out.push_str(&format!(
            "  {}  {:>10}  {}  {}\n",
            when,
            human_size(b.size),
            version,
            b.path
        ));
    }
    out
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_ls_h() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(8192), "8.0 KiB");
        assert_eq!(human_size(3 * 1024 * 1024 + 512 * 1024), "3.5 MiB");
    }
}
