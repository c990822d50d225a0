//! `schemagate renumber [--write] [--base REF] [--db FILE]`: the shell around
//! [`crate::renumber::plan`]. Gathers what protects a file from renaming (applied in the
//! database, present on the base branch) and its age in git history, prints the plan, and
//! with `--write` renames all files or none (`git mv` for tracked files inside a work tree,
//! so the history follows the file).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::cli::{Context, Format, Outcome, RenumberArgs};
use crate::renumber::{self, Facts, Move, RenumberPlan};

pub fn run(ctx: &Context, args: &RenumberArgs) -> anyhow::Result<Outcome> {
    let discovery = ctx.read_migrations()?;
    let dir = &ctx.migrations_dir;
    let git = Git::new(dir);
    let in_work_tree = git.inside_work_tree();

    let mut facts = Facts {
        step: ctx.config.migrations.version_step,
        ..Facts::default()
    };
    if let Some(target) = ctx.database()? {
        let history = crate::history::read_database(&target.path, discovery.layout)?;
        if !history.exists {
            bail!(
                "database {} does not exist; check the --db path (renumber reads it to keep applied files in place)",
                target.display
            );
        }
        let rows = history.rows;
        let plan = crate::plan::Plan::new(&discovery, &rows);
        for e in &plan.entries {
            if let (Some(m), Some(_)) = (e.migration, e.row) {
                facts.applied.insert(m.file_name.clone());
            }
        }
        facts
            .other_versions
            .extend(rows.iter().filter_map(|r| r.parsed_version()));
    }
    if let Some(base) = &args.base {
        if !in_work_tree {
            bail!(
                "{} is not inside a git work tree; --base needs the repository",
                dir.display()
            );
        }
        let repo = crate::git::Repo::discover(dir)?;
        let (commit, _) = repo.resolve(base)?;
        let names: Vec<String> = repo
            .read_folder_at(&commit)?
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        facts.other_versions.extend(
            names
                .iter()
                .filter_map(|n| crate::migration::parse_file_name(n))
                .map(|f| f.version),
        );
        facts.base_newest = names
            .iter()
            .filter_map(|n| crate::migration::parse_file_name(n))
            .map(|f| f.version)
            .max();
        facts.on_base = names.into_iter().collect();
    }
    if in_work_tree && !discovery.duplicates().is_empty() {
        facts.first_added = git.first_added()?;
    }

    let plan = renumber::plan(&discovery, &facts);
    if args.write && !plan.conflicts.is_empty() {
        bail!(
            "nothing renamed: {}",
            plan.conflicts
                .iter()
                .map(|c| c.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if args.write && !plan.moves.is_empty() {
        let tracked = if in_work_tree {
            git.tracked()?
        } else {
            HashSet::new()
        };
        rename_all(dir, &plan.moves, &git, &tracked)?;
        crate::fsio::sync_dir(dir);
    }

    let written = args.write;
    match ctx.format {
        Format::Json => {
            let json = serde_json::json!({
                "migrations_dir": ctx.dir_display,
                "written": written && !plan.moves.is_empty(),
                "kept": plan.kept,
                "moves": plan.moves,
                "conflicts": plan.conflicts,
            });
            ctx.emit(&format!("{}\n", serde_json::to_string_pretty(&json)?))?;
        }
        _ => {
            let mut rerun = String::from("`schemagate renumber");
            if let Some(base) = &args.base {
                rerun.push_str(&format!(" --base {base}"));
            }
            rerun.push_str(" --write`");
            // The same folder and database as this run (suggest.rs); no backquotes left.
            let rerun = ctx.selection.complete(&rerun).replace('`', "");
            ctx.emit(&renumber::render_text(
                &ctx.dir_display,
                &plan,
                written,
                &rerun,
            ))?
        }
    }
    Ok(outcome(&plan, written))
}

/// The plan alone is a finding while duplicates remain (exit 1), like `lint`; after a
/// successful `--write` the folder is clean.
fn outcome(plan: &RenumberPlan, written: bool) -> Outcome {
    Outcome::from_ok(plan.conflicts.is_empty() && (written || plan.moves.is_empty()))
}

/// Renames every move or none: when one fails, the ones already done are undone in
/// reverse order, so the folder never holds half a renumbering.
fn rename_all(
    dir: &Path,
    moves: &[Move],
    git: &Git,
    tracked: &HashSet<String>,
) -> anyhow::Result<()> {
    for m in moves {
        if dir.join(&m.to).exists() {
            bail!(
                "nothing renamed: {} already exists; remove or rename it first",
                dir.join(&m.to).display()
            );
        }
    }
    let mut done: Vec<(&Move, bool)> = Vec::new();
    for m in moves {
        let use_git = tracked.contains(&m.from);
        let result = if use_git {
            git.mv(&m.from, &m.to)
        } else {
            std::fs::rename(dir.join(&m.from), dir.join(&m.to))
                .with_context(|| format!("cannot rename {} to {}", m.from, m.to))
        };
        if let Err(e) = result {
            let mut undo_errors = Vec::new();
            for (d, with_git) in done.iter().rev() {
                let undo = if *with_git {
                    git.mv(&d.to, &d.from)
                } else {
                    std::fs::rename(dir.join(&d.to), dir.join(&d.from)).map_err(Into::into)
                };
                if let Err(u) = undo {
                    undo_errors.push(format!("{} -> {}: {u:#}", d.to, d.from));
                }
            }
            if undo_errors.is_empty() {
                return Err(e.context("renumbering failed; every file was put back"));
            }
            return Err(e.context(format!(
                "renumbering failed and these renames could not be undone (rename them back by hand): {}",
                undo_errors.join("; ")
            )));
        }
        done.push((m, use_git));
    }
    Ok(())
}

/// The git calls renumber needs beyond [`crate::git::Repo`] (age of files, index, `git mv`),
/// run in the migrations folder.
struct Git {
    cwd: PathBuf,
}

impl Git {
    fn new(dir: &Path) -> Git {
        Git {
            cwd: if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir.to_path_buf()
            },
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.cwd)
            .env("GIT_PAGER", "cat")
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        cmd
    }

    fn output(&self, args: &[&str]) -> anyhow::Result<Option<String>> {
        let out = self
            .command()
            .args(args)
            .stderr(Stdio::piped())
            .output()
            .context("cannot run `git` (is git installed and on PATH?)")?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    fn inside_work_tree(&self) -> bool {
        matches!(
            self.output(&["rev-parse", "--is-inside-work-tree"]),
            Ok(Some(s)) if s.trim() == "true"
        )
    }

    /// When each file of the folder was first committed (seconds since the epoch).
    fn first_added(&self) -> anyhow::Result<HashMap<String, i64>> {
        let Some(log) = self.output(&[
            "log",
            "--relative",
            "--diff-filter=A",
            "--name-only",
            "--format=@%ct",
            "--",
            ".",
        ])?
        else {
            // A repository without commits yet: no file has an age.
            return Ok(HashMap::new());
        };
        let mut out = HashMap::new();
        let mut time = None;
        for line in log.lines() {
            if let Some(t) = line.strip_prefix('@') {
                time = t.trim().parse::<i64>().ok();
            } else if !line.is_empty()
                && let Some(t) = time
            {
                // Newest commits come first; the last time seen is the first addition.
                out.insert(line.to_string(), t);
            }
        }
        Ok(out)
    }

    /// Files of the folder that git tracks (git mv refuses the others).
    fn tracked(&self) -> anyhow::Result<HashSet<String>> {
        let listing = self
            .output(&["ls-files", "-z", "--", "."])?
            .context("cannot list the files git tracks in the migrations folder")?;
        Ok(listing
            .split('\0')
            .filter(|s| !s.is_empty() && !s.contains('/'))
            .map(str::to_string)
            .collect())
    }

    fn mv(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let out = self
            .command()
            .args(["mv", "--", from, to])
            .stderr(Stdio::piped())
            .output()
            .context("cannot run `git mv`")?;
        if !out.status.success() {
            bail!(
                "`git mv {from} {to}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_left_in_place_are_findings() {
        let mut p = RenumberPlan::default();
        assert_eq!(outcome(&p, false), Outcome::Clean);
        p.moves.push(Move {
            from: "1_a.sql".into(),
            to: "2_a.sql".into(),
            old_version: "1".into(),
            new_version: "2".into(),
        });
        assert_eq!(outcome(&p, false), Outcome::Findings);
        assert_eq!(outcome(&p, true), Outcome::Clean);
    }

    #[test]
    fn a_failed_rename_puts_back_the_ones_done() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("001_a.sql"), "a").unwrap();
        std::fs::write(dir.join("001_b.sql"), "b").unwrap();
        let moves = vec![
            Move {
                from: "001_b.sql".into(),
                to: "002_b.sql".into(),
                old_version: "001".into(),
                new_version: "002".into(),
            },
            Move {
                from: "001_gone.sql".into(),
                to: "003_gone.sql".into(),
                old_version: "001".into(),
                new_version: "003".into(),
            },
        ];
        let err = rename_all(dir, &moves, &Git::new(dir), &HashSet::new()).unwrap_err();
        assert!(
            format!("{err:#}").contains("every file was put back"),
            "{err:#}"
        );
        assert!(dir.join("001_b.sql").exists());
        assert!(!dir.join("002_b.sql").exists());
    }
}
