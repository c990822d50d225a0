//! The renumbering plan for duplicate versions (pure).
//!
//! The legacy documentation resolved duplicates by hand along a `RENUMBER_PLAN.md`; a file
//! that was already applied somewhere got renamed too, and the next deploy ran it again
//! under its new number. Here the rules are fixed: in each group of files sharing a version,
//! one file keeps the number — the one applied in the database, else the one present on the
//! base branch, else the oldest in git history, else the first in apply order — and the
//! others move to the next free numbers after the newest version known anywhere (folder,
//! database, base branch), in version order. A file that is applied or on the base branch
//! is never moved; a group with two such files cannot be resolved by renaming and is
//! reported as a conflict.
//!
//! With a base branch, a file the base does not have whose version is not above the
//! base's newest (what `out-of-order` and a duplicate "on the base" report in a pull
//! request) moves too: above every known version, so after the merge it runs last, as it
//! would have on the databases that are up to date with the base.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::migration::{Discovery, Kind, Migration, Version};

/// What the planner knows besides the folder.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// File names recorded as applied in the database (`--db`).
    pub applied: HashSet<String>,
    /// File names present in the migrations folder at the base ref (`--base`).
    pub on_base: HashSet<String>,
    /// Commit time (seconds) at which git history first added each file; files never
    /// committed are absent and count as the newest.
    pub first_added: HashMap<String, i64>,
    /// Versions known outside the folder (database rows, base branch): new numbers go above
    /// them too, so a moved file never lands on a number used elsewhere.
    pub other_versions: Vec<Version>,
    /// Gap between new numbers (`[migrations] version_step`, at least 1).
    pub step: u32,
    /// Newest version on the base branch (`--base`): files not on the base and numbered at
    /// or below it move.
    pub base_newest: Option<Version>,
}

/// Why a file keeps its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeepReason {
    Applied,
    OnBase,
    OldestInGit,
    FirstInFolder,
}

impl KeepReason {
    fn describe(self) -> &'static str {
        match self {
            KeepReason::Applied => "applied in the database",
            KeepReason::OnBase => "present on the base branch",
            KeepReason::OldestInGit => "oldest in git history",
            KeepReason::FirstInFolder => "first in apply order",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kept {
    pub version: String,
    pub file_name: String,
    pub reason: KeepReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub old_version: String,
    pub new_version: String,
}

/// A group that renaming cannot fix: several of its files must keep their number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub version: String,
    pub files: Vec<String>,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RenumberPlan {
    pub kept: Vec<Kept>,
    pub moves: Vec<Move>,
    pub conflicts: Vec<Conflict>,
}

impl RenumberPlan {
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty() && self.conflicts.is_empty()
    }
}

fn file_name_for(version: &Version, m: &Migration) -> String {
    let ext = match m.kind {
        Kind::Sql => "sql",
        Kind::Python => "py",
    };
    format!("{version}_{}.{ext}", m.name)
}

pub fn plan(discovery: &Discovery, facts: &Facts) -> RenumberPlan {
    let mut out = RenumberPlan::default();
    let mut movers: Vec<&Migration> = Vec::new();

    for (version, files) in discovery.duplicates() {
        let protection = |m: &Migration| {
            if facts.applied.contains(&m.file_name) {
                Some(KeepReason::Applied)
            } else if facts.on_base.contains(&m.file_name) {
                Some(KeepReason::OnBase)
            } else {
                None
            }
        };
        let protected: Vec<(&Migration, KeepReason)> = files
            .iter()
            .filter_map(|m| protection(m).map(|r| (*m, r)))
            .collect();
        if protected.len() > 1 {
            let names: Vec<String> = protected.iter().map(|(m, _)| m.file_name.clone()).collect();
            let why: Vec<String> = protected
                .iter()
                .map(|(m, r)| format!("{} is {}", m.file_name, r.describe()))
                .collect();
            out.conflicts.push(Conflict {
                version: version.to_string(),
                files: names,
                message: format!(
                    "version {version}: {}; renaming either would run it again where it is already applied or merged. Keep one, and turn the other into a new migration (schemagate generate NAME), then forget or rekey the history rows as needed",
                    why.join(", ")
                ),
            });
            // The unprotected files of the group still move: that part is safe.
            movers.extend(files.iter().filter(|m| protection(m).is_none()));
            continue;
        }
        let (keeper, reason) = match protected.first() {
            Some((m, r)) => (*m, *r),
            None => {
                // Oldest commit first; never-committed files last; then apply order.
                let oldest = files
                    .iter()
                    .enumerate()
                    .min_by_key(|(i, m)| {
                        (
                            facts
                                .first_added
                                .get(&m.file_name)
                                .copied()
                                .unwrap_or(i64::MAX),
                            *i,
                        )
                    })
                    .map(|(_, m)| *m)
                    .unwrap_or(files[0]);
                let reason = if facts.first_added.contains_key(&oldest.file_name) {
                    KeepReason::OldestInGit
                } else {
                    KeepReason::FirstInFolder
                };
                (oldest, reason)
            }
        };
        out.kept.push(Kept {
            version: keeper.version.to_string(),
            file_name: keeper.file_name.clone(),
            reason,
        });
        movers.extend(files.iter().filter(|m| !std::ptr::eq(**m, keeper)));
    }

    // New on this branch, but numbered into the base's past.
    if let Some(base_newest) = &facts.base_newest {
        let behind: Vec<&Migration> = discovery
            .migrations
            .iter()
            .filter(|m| m.version <= *base_newest)
            .filter(|m| !facts.on_base.contains(&m.file_name))
            .filter(|m| !facts.applied.contains(&m.file_name))
            .filter(|m| !movers.iter().any(|x| std::ptr::eq(*x, *m)))
            .collect();
        // A file kept in its duplicate group moves anyway: its number is still behind.
        out.kept
            .retain(|k| !behind.iter().any(|m| m.file_name == k.file_name));
        movers.extend(behind);
        // In apply order (version, then name), as the files would have run.
        movers.sort_by(|a, b| {
            a.version
                .cmp(&b.version)
                .then_with(|| a.file_name.cmp(&b.file_name))
        });
    }

    let newest = discovery
        .migrations
        .iter()
        .map(|m| &m.version)
        .chain(facts.other_versions.iter())
        .chain(facts.base_newest.iter())
        .max();
    let width = discovery.max_version().map_or(3, Version::width);
    let mut next = newest.and_then(Version::number).unwrap_or(0);
    let step = u128::from(facts.step.max(1));
    for m in movers {
        next += step;
        let version = Version::from_number(next, width);
        out.moves.push(Move {
            from: m.file_name.clone(),
            to: file_name_for(&version, m),
            old_version: m.version.to_string(),
            new_version: version.to_string(),
        });
    }
    out
}

/// The plan for people; `rerun` is the command that writes it (the same options plus
/// `--write`), suggested when nothing was written.
pub fn render_text(dir_display: &str, plan: &RenumberPlan, written: bool, rerun: &str) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "{dir_display}: no duplicate or out-of-order versions, nothing to renumber"
        );
        return out;
    }
    let verb = if written { "renamed" } else { "would rename" };
    for k in &plan.kept {
        let _ = writeln!(
            out,
            "version {}: keep {} ({})",
            k.version,
            k.file_name,
            k.reason.describe()
        );
    }
    for m in &plan.moves {
        let _ = writeln!(out, "  {verb} {} -> {}", m.from, m.to);
    }
    for c in &plan.conflicts {
        let _ = writeln!(out, "conflict: {}", c.message);
    }
    if !written && !plan.moves.is_empty() && plan.conflicts.is_empty() {
        let _ = writeln!(out, "run `{rerun}` to rename these files");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    fn folder(names: &[&str]) -> Discovery {
        discover(
            "m",
            names.iter().map(|n| (*n, n.as_bytes())), // distinct content per file
        )
    }

    fn facts() -> Facts {
        Facts {
            step: 1,
            ..Facts::default()
        }
    }

    fn moves(p: &RenumberPlan) -> Vec<(&str, &str)> {
        p.moves
            .iter()
            .map(|m| (m.from.as_str(), m.to.as_str()))
            .collect()
    }

    #[test]
    fn no_duplicates_no_plan() {
        let d = folder(&["001_a.sql", "002_b.py"]);
        assert!(plan(&d, &facts()).is_empty());
    }

    #[test]
    fn later_duplicates_move_above_the_newest_version_in_version_order() {
        let d = folder(&[
            "001_a.sql",
            "002_b.sql",
            "002_c.py",
            "004_d.sql",
            "004_e.sql",
            "004_f.sql",
            "005_g.sql",
        ]);
        let p = plan(&d, &facts());
        assert_eq!(
            moves(&p),
            [
                ("002_c.py", "006_c.py"),
                ("004_e.sql", "007_e.sql"),
                ("004_f.sql", "008_f.sql")
            ]
        );
        assert_eq!(p.kept[0].file_name, "002_b.sql");
        assert_eq!(p.kept[0].reason, KeepReason::FirstInFolder);
        assert!(p.conflicts.is_empty());
    }

    #[test]
    fn the_applied_file_keeps_its_number() {
        let d = folder(&["003_a.sql", "003_b.sql", "003_c.sql"]);
        let mut f = facts();
        f.applied.insert("003_b.sql".into());
        let p = plan(&d, &f);
        assert_eq!(p.kept[0].file_name, "003_b.sql");
        assert_eq!(p.kept[0].reason, KeepReason::Applied);
        assert_eq!(
            moves(&p),
            [("003_a.sql", "004_a.sql"), ("003_c.sql", "005_c.sql")]
        );
    }

    #[test]
    fn base_branch_then_git_age_decide_without_a_database() {
        let d = folder(&["003_a.sql", "003_b.sql", "007_x.sql", "007_y.sql"]);
        let mut f = facts();
        f.on_base.insert("003_b.sql".into());
        f.first_added.insert("007_y.sql".into(), 100);
        f.first_added.insert("007_x.sql".into(), 200);
        let p = plan(&d, &f);
        assert_eq!(p.kept[0].reason, KeepReason::OnBase);
        assert_eq!(p.kept[1].file_name, "007_y.sql");
        assert_eq!(p.kept[1].reason, KeepReason::OldestInGit);
        assert_eq!(
            moves(&p),
            [("003_a.sql", "008_a.sql"), ("007_x.sql", "009_x.sql")]
        );
    }

    #[test]
    fn new_numbers_stay_above_versions_known_elsewhere_and_follow_the_step() {
        let d = folder(&["010_a.sql", "010_b.sql"]);
        let mut f = facts();
        f.other_versions.push(Version::parse("020").unwrap());
        f.step = 5;
        let p = plan(&d, &f);
        assert_eq!(moves(&p), [("010_b.sql", "025_b.sql")]);
    }

    #[test]
    fn numerically_equal_versions_are_duplicates_and_width_is_kept() {
        let d = folder(&["48_a.sql", "048_b.sql", "099_c.sql"]);
        let p = plan(&d, &facts());
        assert_eq!(moves(&p), [("48_a.sql", "100_a.sql")]);
    }

    #[test]
    fn two_protected_files_are_a_conflict_not_a_rename() {
        let d = folder(&["003_a.sql", "003_b.sql", "003_c.sql"]);
        let mut f = facts();
        f.applied.insert("003_a.sql".into());
        f.on_base.insert("003_b.sql".into());
        let p = plan(&d, &f);
        assert_eq!(p.conflicts.len(), 1);
        assert_eq!(p.conflicts[0].files, ["003_a.sql", "003_b.sql"]);
        assert!(p.conflicts[0].message.contains("applied in the database"));
        assert_eq!(moves(&p), [("003_c.sql", "004_c.sql")]);
        let text = render_text("m", &p, false, "schemagate renumber --write");
        assert!(text.contains("conflict: version 003"), "{text}");
    }

    #[test]
    fn text_says_what_would_happen() {
        let d = folder(&["001_a.sql", "001_b.sql"]);
        let rerun = "schemagate renumber --base main --write";
        let text = render_text("m", &plan(&d, &facts()), false, rerun);
        assert_eq!(
            text,
            "version 001: keep 001_a.sql (first in apply order)\n  would rename 001_b.sql -> 002_b.sql\nrun `schemagate renumber --base main --write` to rename these files\n"
        );
        assert_eq!(
            render_text("m", &RenumberPlan::default(), false, rerun),
            "m: no duplicate or out-of-order versions, nothing to renumber\n"
        );
    }

    #[test]
    fn new_files_numbered_behind_the_base_move_above_it() {
        // main: 001 002 005; this branch added 003 and 004 (and a duplicate 002).
        let d = folder(&[
            "001_a.sql",
            "002_b.sql",
            "002_mine.sql",
            "003_c.sql",
            "004_d.sql",
            "005_e.sql",
            "006_f.sql",
        ]);
        let mut f = facts();
        f.on_base = ["001_a.sql", "002_b.sql", "005_e.sql"]
            .map(String::from)
            .into();
        f.base_newest = Version::parse("005");
        let p = plan(&d, &f);
        assert_eq!(
            moves(&p),
            [
                ("002_mine.sql", "007_mine.sql"),
                ("003_c.sql", "008_c.sql"),
                ("004_d.sql", "009_d.sql")
            ]
        );
        // 006 is above the base: it stays.
        assert!(p.kept.iter().all(|k| k.file_name != "003_c.sql"));
    }

    #[test]
    fn a_new_duplicate_of_a_file_only_the_base_has_moves() {
        // The base added 003_theirs.sql after this branch forked and added 003_mine.sql:
        // the working folder has one 003, the merge would have two.
        let d = folder(&["001_a.sql", "002_b.sql", "003_mine.sql"]);
        let mut f = facts();
        f.on_base = ["001_a.sql", "002_b.sql", "003_theirs.sql"]
            .map(String::from)
            .into();
        f.base_newest = Version::parse("003");
        assert_eq!(moves(&plan(&d, &f)), [("003_mine.sql", "004_mine.sql")]);
    }
}
