//! The base-branch comparison (pure): the migrations folder at the base ref against the
//! working tree.
//!
//! Files are matched by file name. When the history is there, the folder at the fork point
//! (merge base) tells this branch's changes apart from the base's own progress: a file the
//! base added after the branch forked is not "deleted" by the branch, and a file the base
//! edited is not the branch's edit. Without it (shallow clones) the base's tip is all we
//! know, which is also what a pull request's merge commit is compared with in CI.

use std::collections::{HashMap, HashSet};

use similar::TextDiff;

use crate::checksum;
use crate::lint::rules::{
    deleted_migration, duplicate_version, modified_migration, out_of_order, renamed_migration,
};
use crate::migration::{Discovery, Migration};
use crate::report::Finding;

/// The migrations folder on the base branch.
#[derive(Debug, Default)]
pub struct BaseView {
    /// The ref as resolved (`main`, `origin/main`), for messages.
    pub label: String,
    /// The folder at the base's tip.
    pub tip: Discovery,
    /// The folder where the working tree's branch forked from the base, when it differs
    /// from the tip and the history to find it is present.
    pub fork: Option<Discovery>,
}

/// Content at least this similar (character ratio of the normalised texts) counts as
/// "nearly the same" for rename detection: a comment or a column tweak, not a new file.
const RENAME_SIMILARITY: f32 = 0.85;

fn by_name(d: &Discovery) -> HashMap<&str, &Migration> {
    d.migrations
        .iter()
        .map(|m| (m.file_name.as_str(), m))
        .collect()
}

/// Every base-branch finding for the working tree `work`.
pub fn compare(base: &BaseView, work: &Discovery) -> Vec<Finding> {
    let label = base.label.as_str();
    let work_names = by_name(work);
    let tip_names = by_name(&base.tip);
    let fork_names = base.fork.as_ref().map(by_name);
    let mut findings = Vec::new();

    // Same name, other content.
    for b in &base.tip.migrations {
        let Some(w) = work_names.get(b.file_name.as_str()) else {
            continue;
        };
        if b.checksum == w.checksum {
            continue;
        }
        let untouched_by_branch = fork_names
            .as_ref()
            .and_then(|f| f.get(b.file_name.as_str()))
            .is_some_and(|f| f.checksum == w.checksum);
        if untouched_by_branch {
            continue;
        }
        let (diff, first_line) = file_diff(b, w, label);
        findings.push(modified_migration::finding(w, label, diff, first_line));
    }

    // Files of the base the working tree no longer has under that name. A file the base
    // gained after the fork was never in this branch: not gone.
    let gone: Vec<&Migration> = base
        .tip
        .migrations
        .iter()
        .filter(|b| !work_names.contains_key(b.file_name.as_str()))
        .filter(|b| {
            fork_names
                .as_ref()
                .is_none_or(|f| f.contains_key(b.file_name.as_str()))
        })
        .collect();
    // Files of the working tree the base does not have; a file the base deleted after the
    // fork is not new on this branch.
    let new: Vec<&Migration> = work
        .migrations
        .iter()
        .filter(|w| !tip_names.contains_key(w.file_name.as_str()))
        .filter(|w| {
            fork_names
                .as_ref()
                .and_then(|f| f.get(w.file_name.as_str()))
                .is_none_or(|f| f.checksum != w.checksum)
        })
        .collect();

    let mut rename_targets: HashSet<&str> = HashSet::new();
    for (old, target) in pair_renames(&gone, &new) {
        match target {
            Some((target, identical)) => {
                rename_targets.insert(target.file_name.as_str());
                findings.push(renamed_migration::finding(old, target, label, identical));
            }
            None => findings.push(deleted_migration::finding(old, label)),
        }
    }

    let newest = base.tip.max_version();
    for n in new {
        if rename_targets.contains(n.file_name.as_str()) {
            continue;
        }
        let taken: Vec<&Migration> = base.tip.by_version(&n.version).collect();
        if let Some(first) = taken.first() {
            findings.push(duplicate_version::on_base(n, first, label));
        } else if let Some(newest) = newest
            && n.version <= *newest
        {
            findings.push(out_of_order::finding(n, newest, label));
        }
    }
    findings
}

/// For each file of `gone`, the file of `new` it was renamed to (and whether the content is
/// identical), or `None` when it was deleted. An identical file wins over a similar one;
/// each new file is the target of one rename at most.
fn pair_renames<'a>(
    gone: &[&'a Migration],
    new: &[&'a Migration],
) -> Vec<(&'a Migration, Option<(&'a Migration, bool)>)> {
    let mut taken: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for old in gone {
        let candidates = new
            .iter()
            .filter(|n| n.kind == old.kind && !taken.contains(n.file_name.as_str()));
        let exact = candidates
            .clone()
            .find(|n| n.checksum == old.checksum)
            .map(|n| (*n, true));
        let near = || {
            candidates
                .map(|n| (*n, similarity(old, n)))
                .filter(|(_, r)| *r >= RENAME_SIMILARITY)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(n, _)| (n, false))
        };
        let target = exact.or_else(near);
        if let Some((t, _)) = target {
            taken.insert(t.file_name.as_str());
        }
        out.push((*old, target));
    }
    out
}

/// Files of `base` that `work` holds under another name, as `(base file, work file)`: the
/// same rename detection as [`compare`], between two folders. A finding keeps its identity
/// across such a rename (`crate::baseline`).
pub fn renames<'a>(
    base: &'a Discovery,
    work: &'a Discovery,
) -> Vec<(&'a Migration, &'a Migration)> {
    let work_names = by_name(work);
    let base_names = by_name(base);
    let gone: Vec<&Migration> = base
        .migrations
        .iter()
        .filter(|b| !work_names.contains_key(b.file_name.as_str()))
        .collect();
    let new: Vec<&Migration> = work
        .migrations
        .iter()
        .filter(|w| !base_names.contains_key(w.file_name.as_str()))
        .collect();
    pair_renames(&gone, &new)
        .into_iter()
        .filter_map(|(old, target)| target.map(|(t, _)| (old, t)))
        .collect()
}

fn similarity(a: &Migration, b: &Migration) -> f32 {
    let (a, b) = (checksum::normalise(&a.text), checksum::normalise(&b.text));
    TextDiff::configure()
        .timeout(std::time::Duration::from_millis(200))
        .diff_chars(a.as_ref(), b.as_ref())
        .ratio()
}

/// Unified diff base → working tree (normalised line endings) and the first changed line of
/// the working-tree file (1-based).
fn file_diff(base: &Migration, work: &Migration, label: &str) -> (String, usize) {
    let (a, b) = (
        checksum::normalise(&base.text),
        checksum::normalise(&work.text),
    );
    let diff = TextDiff::from_lines(a.as_ref(), b.as_ref());
    let first_line = diff
        .ops()
        .iter()
        .find(|op| op.tag() != similar::DiffTag::Equal)
        .map_or(1, |op| op.new_range().start + 1);
    let line_count = b.lines().count().max(1);
    let text = diff
        .unified_diff()
        .header(&format!("{} ({label})", base.path), &work.path)
        .to_string();
    (text, first_line.min(line_count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    fn view(tip: Discovery) -> BaseView {
        BaseView {
            label: "main".into(),
            tip,
            fork: None,
        }
    }

    #[test]
    fn a_clean_addition_gives_nothing() {
        let tip = discover("m", [("001_a.sql", b"a\n".as_slice())]);
        let work = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                ("002_b.sql", b"CREATE TABLE b(x);\n".as_slice()),
            ],
        );
        assert!(compare(&view(tip), &work).is_empty());
    }

    #[test]
    fn a_new_file_with_a_version_the_base_has_is_a_duplicate() {
        let tip = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                ("002_b.sql", b"CREATE TABLE b(x);\n".as_slice()),
            ],
        );
        let work = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                ("002_b.sql", b"CREATE TABLE b(x);\n".as_slice()),
                ("002_other.sql", b"CREATE TABLE other(y, z);\n".as_slice()),
            ],
        );
        let f = compare(&view(tip), &work);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, "duplicate-version");
        assert_eq!(f[0].path.as_deref(), Some("m/002_other.sql"));
        assert!(f[0].message.contains("002_b.sql"));
    }

    #[test]
    fn a_collision_with_a_file_that_landed_on_the_base_after_the_fork_is_found() {
        let fork = discover("m", [("001_a.sql", b"a\n".as_slice())]);
        let tip = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                ("002_theirs.sql", b"CREATE TABLE t(x);\n".as_slice()),
            ],
        );
        let work = discover(
            "m",
            [
                ("001_a.sql", b"a\n".as_slice()),
                (
                    "002_ours.sql",
                    b"CREATE TABLE o(completely, different);\n".as_slice(),
                ),
            ],
        );
        let v = BaseView {
            label: "main".into(),
            tip,
            fork: Some(fork),
        };
        let f = compare(&v, &work);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, "duplicate-version");
        assert_eq!(f[0].path.as_deref(), Some("m/002_ours.sql"));
    }

    #[test]
    fn renames_pair_exact_and_similar_files_and_leave_new_ones_alone() {
        let base = discover(
            "m",
            [
                ("001_a.sql", b"CREATE TABLE a(x);\n".as_slice()),
                (
                    "002_b.sql",
                    b"CREATE TABLE b(x, y, z, and_a_long_column_name);\n".as_slice(),
                ),
                ("003_c.sql", b"CREATE TABLE c(x);\n".as_slice()),
            ],
        );
        let work = discover(
            "m",
            [
                ("001_a.sql", b"CREATE TABLE a(x);\n".as_slice()),
                (
                    "004_b.sql",
                    b"CREATE TABLE b(x, y, z, and_a_long_column_name2);\n".as_slice(),
                ),
                ("005_c.sql", b"CREATE TABLE c(x);\n".as_slice()),
                ("006_d.sql", b"DROP TABLE totally_different;\n".as_slice()),
            ],
        );
        let pairs: Vec<(&str, &str)> = renames(&base, &work)
            .into_iter()
            .map(|(b, w)| (b.file_name.as_str(), w.file_name.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("002_b.sql", "004_b.sql"), ("003_c.sql", "005_c.sql")]
        );
    }

    #[test]
    fn first_changed_line_points_into_the_new_file() {
        let tip = discover("m", [("001_a.sql", b"one\ntwo\nthree\n".as_slice())]);
        let work = discover("m", [("001_a.sql", b"one\ntwo\nTHREE\n".as_slice())]);
        let f = compare(&view(tip), &work);
        assert_eq!(f[0].line, Some(3));
    }
}
