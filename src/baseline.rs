//! Pull-request mode (pure): which findings of the working tree already exist on the merge
//! base, so the gate judges the change, not the history.
//!
//! The same analysis runs on both trees (`crate::analysis`); here its two sets of findings
//! are matched. A finding's identity is its rule, its file and a fingerprint of what it
//! points at, never its line number, so an edit above a finding does not make it new:
//!
//! - **file**: the finding's path, followed back through renames between base and working
//!   tree ([`crate::base::renames`], the detection `lint --base` reports renames with);
//! - **fingerprint**: for a finding on a line of a `.sql` file, the [`crate::sql::skeleton`]
//!   of the statement it points into (comments, whitespace and keyword case do not count);
//!   on a line of a `.py` file, that line's text with its whitespace collapsed; for a
//!   finding without a line, and for the dry-run rules (`migration-failed`,
//!   `not-idempotent`: "the same file fails with the same message"), the message with the
//!   file's own name and line/column numbers taken out; for `slow-migration`, nothing (its
//!   message holds a timing).
//!
//! Identities are counted, not just compared: two identical findings on the base and three
//! in the working tree leave one introduced.
//!
//! Two rules get their own test:
//! - `duplicate-version` (the folder rule) is introduced when the change adds or renames a
//!   file into a version another file holds: pre-existing when every file of the version
//!   was on the base with that version already. (The base comparison's own
//!   `duplicate-version`, like every base-comparison finding, is introduced by definition;
//!   the caller marks those before calling [`Baseline::mark`], which leaves marked
//!   findings alone.)
//! - A failed dry-run step is pre-existing when the same file fails with the same message
//!   on the base ([`Baseline::mark_steps`]).

use std::collections::HashMap;

use crate::lint::rules::{duplicate_version, migration_failed, not_idempotent, slow_migration};
use crate::migration::{Discovery, Kind, Migration};
use crate::report::{Finding, Step, StepStatus};
use crate::sql::{self, Statement};

/// The merge base's folder and the working tree's, with the renames between them.
pub struct Baseline<'a> {
    base: &'a Discovery,
    work: &'a Discovery,
    /// Working-tree path → base path, for renamed files.
    renamed_from: HashMap<&'a str, &'a str>,
}

/// What identifies a finding across the two trees.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    rule: String,
    /// The base path of the file (a renamed file keeps its base path).
    file: Option<String>,
    fingerprint: String,
}

/// One tree's files, with the statements of its `.sql` files split once.
struct Side<'a> {
    discovery: &'a Discovery,
    statements: HashMap<&'a str, Vec<Statement>>,
}

impl<'a> Side<'a> {
    fn new(discovery: &'a Discovery) -> Side<'a> {
        Side {
            discovery,
            statements: HashMap::new(),
        }
    }

    fn migration(&self, path: &str) -> Option<&'a Migration> {
        self.discovery.migrations.iter().find(|m| m.path == path)
    }

    fn fingerprint(&mut self, f: &Finding) -> String {
        let own_name = f
            .path
            .as_deref()
            .and_then(|p| self.migration(p))
            .map(|m| m.file_name.as_str());
        if f.rule == slow_migration::RULE.id {
            return String::new();
        }
        if f.rule == migration_failed::RULE.id || f.rule == not_idempotent::RULE.id {
            return normalise_message(&f.message, own_name);
        }
        let (Some(m), Some(line)) = (f.path.as_deref().and_then(|p| self.migration(p)), f.line)
        else {
            return normalise_message(&f.message, own_name);
        };
        let column = f.column.unwrap_or(1);
        match m.kind {
            Kind::Sql => {
                let statements = self
                    .statements
                    .entry(m.path.as_str())
                    .or_insert_with(|| sql::split(&m.text));
                offset_of(&m.text, line, column)
                    .and_then(|at| statements.iter().find(|s| s.span.contains(&at)))
                    .map(|s| sql::skeleton(s.text(&m.text)))
                    .unwrap_or_else(|| line_text(&m.text, line))
            }
            Kind::Python => line_text(&m.text, line),
        }
    }
}

impl<'a> Baseline<'a> {
    pub fn new(base: &'a Discovery, work: &'a Discovery) -> Baseline<'a> {
        let renamed_from = crate::base::renames(base, work)
            .into_iter()
            .map(|(b, w)| (w.path.as_str(), b.path.as_str()))
            .collect();
        Baseline {
            base,
            work,
            renamed_from,
        }
    }

    /// The base path of a working-tree path.
    fn identity<'p>(&self, path: &'p str) -> &'p str
    where
        'a: 'p,
    {
        self.renamed_from.get(path).copied().unwrap_or(path)
    }

    /// Sets `introduced` on every finding of `work` that has none yet, against the findings
    /// the same analysis gave on the base.
    pub fn mark(&self, work: &mut [Finding], base: &[Finding]) {
        let mut base_side = Side::new(self.base);
        let mut pool: HashMap<Key, usize> = HashMap::new();
        for f in base {
            let key = Key {
                rule: f.rule.clone(),
                file: f.path.clone(),
                fingerprint: base_side.fingerprint(f),
            };
            *pool.entry(key).or_default() += 1;
        }
        let mut work_side = Side::new(self.work);
        for f in work.iter_mut().filter(|f| f.introduced.is_none()) {
            if f.rule == duplicate_version::RULE.id
                && let Some(introduced) = self.duplicate_introduced(f)
            {
                f.introduced = Some(introduced);
                continue;
            }
            let key = Key {
                rule: f.rule.clone(),
                file: f.path.as_deref().map(|p| self.identity(p).to_string()),
                fingerprint: work_side.fingerprint(f),
            };
            let pre_existing = match pool.get_mut(&key) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            };
            f.introduced = Some(!pre_existing);
        }
    }

    /// `duplicate-version` of the folder rule: introduced unless every file of the version
    /// was on the base with that version. `None` when the finding names no file of the
    /// working tree (the generic match decides then).
    fn duplicate_introduced(&self, f: &Finding) -> Option<bool> {
        let m = self
            .work
            .migrations
            .iter()
            .find(|m| Some(m.path.as_str()) == f.path.as_deref())?;
        Some(self.work.by_version(&m.version).any(|g| {
            let on_base = self
                .base
                .migrations
                .iter()
                .find(|b| b.path == self.identity(&g.path));
            on_base.is_none_or(|b| b.version != g.version)
        }))
    }

    /// Sets `introduced` on the failed steps of `work`: `false` when the same file (following
    /// renames) fails with the same message in the base's run.
    pub fn mark_steps(&self, work: &mut [Step], base: &[Step]) {
        let file_name = |d: &Discovery, path: Option<&str>| {
            path.and_then(|p| d.migrations.iter().find(|m| m.path == p))
                .map(|m| m.file_name.clone())
        };
        let failures: Vec<(Option<&str>, String)> = base
            .iter()
            .filter(|s| s.status == StepStatus::Failed)
            .map(|s| {
                let message = s.error.as_ref().map_or("", |e| e.message.as_str());
                let name = file_name(self.base, s.path.as_deref());
                (
                    s.path.as_deref(),
                    normalise_message(message, name.as_deref()),
                )
            })
            .collect();
        for s in work.iter_mut().filter(|s| s.status == StepStatus::Failed) {
            let message = s.error.as_ref().map_or("", |e| e.message.as_str());
            let name = file_name(self.work, s.path.as_deref());
            let key = (
                s.path.as_deref().map(|p| self.identity(p)),
                normalise_message(message, name.as_deref()),
            );
            s.introduced = Some(!failures.contains(&key));
        }
    }
}

/// A message without what may differ between two runs of the same failure: the file's own
/// name (it may have been renamed) and line and column numbers (`line 12`, `:12:3`).
fn normalise_message(message: &str, own_name: Option<&str>) -> String {
    let text = match own_name {
        Some(name) if !name.is_empty() => message.replace(name, "<file>"),
        _ => message.to_string(),
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let positional = c == ':' || out.ends_with("line ");
        if positional && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('#');
        }
    }
    out
}

/// Byte offset of 1-based `line` and character `column` (a BOM is not a column, as in the
/// findings).
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    let skip = usize::from(line == 1 && rest.starts_with('\u{feff}'));
    let end = rest.find('\n').unwrap_or(rest.len());
    let within = rest[..end]
        .char_indices()
        .nth(column.saturating_sub(1) + skip)
        .map_or(end, |(i, _)| i);
    Some(start + within)
}

/// Line `line` (1-based) with its whitespace collapsed.
fn line_text(text: &str, line: usize) -> String {
    text.lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;
    use crate::report::{Location, Severity};

    fn folder(files: &[(&str, &str)]) -> Discovery {
        discover("m", files.iter().map(|(n, t)| (*n, t.as_bytes())))
    }

    fn at(rule: &str, path: &str, line: usize, column: usize) -> Finding {
        Finding::new(
            rule,
            Severity::Warning,
            "CREATE TABLE without IF NOT EXISTS",
        )
        .path(path)
        .at(line, column)
    }

    fn marks(findings: &[Finding]) -> Vec<Option<bool>> {
        findings.iter().map(|f| f.introduced).collect()
    }

    #[test]
    fn a_finding_moved_down_by_an_edit_above_it_is_pre_existing() {
        let base = folder(&[("001_a.sql", "-- a\nCREATE TABLE t (x);\n")]);
        let work = folder(&[(
            "001_a.sql",
            "-- a\n-- ten more lines of comments\n\n\n\n\n\n\n\n\n\nCREATE   table t (x);\n",
        )]);
        let mut found = vec![at("robust-statements", "m/001_a.sql", 12, 1)];
        Baseline::new(&base, &work)
            .mark(&mut found, &[at("robust-statements", "m/001_a.sql", 2, 1)]);
        assert_eq!(marks(&found), [Some(false)]);
    }

    #[test]
    fn a_changed_statement_or_another_rule_or_file_is_introduced() {
        let base = folder(&[("001_a.sql", "CREATE TABLE t (x);\n")]);
        let work = folder(&[
            ("001_a.sql", "CREATE TABLE t (x, y);\n"),
            ("002_b.sql", "CREATE TABLE t (x);\n"),
        ]);
        let mut found = vec![
            at("robust-statements", "m/001_a.sql", 1, 1),
            at("robust-statements", "m/002_b.sql", 1, 1),
            at("destructive-change", "m/001_a.sql", 1, 1),
        ];
        Baseline::new(&base, &work)
            .mark(&mut found, &[at("robust-statements", "m/001_a.sql", 1, 1)]);
        assert_eq!(marks(&found), [Some(true), Some(true), Some(true)]);
    }

    #[test]
    fn identities_are_counted() {
        let text = "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n";
        let base = folder(&[("001_a.sql", "INSERT INTO t VALUES (1);\n")]);
        let work = folder(&[("001_a.sql", text)]);
        let mut found = vec![
            at("robust-statements", "m/001_a.sql", 1, 1),
            at("robust-statements", "m/001_a.sql", 2, 1),
        ];
        Baseline::new(&base, &work)
            .mark(&mut found, &[at("robust-statements", "m/001_a.sql", 1, 1)]);
        assert_eq!(marks(&found), [Some(false), Some(true)]);
    }

    #[test]
    fn a_renamed_file_keeps_its_findings() {
        let text = "-- tags\nCREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\n";
        let base = folder(&[("003_tags.sql", text)]);
        let work = folder(&[("004_tags.sql", text)]);
        let mut found = vec![at("robust-statements", "m/004_tags.sql", 2, 1)];
        Baseline::new(&base, &work).mark(
            &mut found,
            &[at("robust-statements", "m/003_tags.sql", 2, 1)],
        );
        assert_eq!(marks(&found), [Some(false)]);
    }

    #[test]
    fn python_findings_match_by_line_text() {
        let base = folder(&[(
            "002_p.py",
            "def upgrade(conn):\n    conn.execute(\"DROP TABLE t\")\n",
        )]);
        let work = folder(&[(
            "002_p.py",
            "import os\n\n\ndef upgrade(conn):\n    conn.execute(\"DROP TABLE t\")\n",
        )]);
        let mut found = vec![at("destructive-change", "m/002_p.py", 5, 18)];
        Baseline::new(&base, &work)
            .mark(&mut found, &[at("destructive-change", "m/002_p.py", 2, 18)]);
        assert_eq!(marks(&found), [Some(false)]);
    }

    #[test]
    fn already_marked_findings_are_left_alone() {
        let d = folder(&[("001_a.sql", "CREATE TABLE t (x);\n")]);
        let mut f = at("robust-statements", "m/001_a.sql", 1, 1);
        f.introduced = Some(true);
        let mut found = vec![f];
        Baseline::new(&d, &d).mark(&mut found, &[at("robust-statements", "m/001_a.sql", 1, 1)]);
        assert_eq!(marks(&found), [Some(true)]);
    }

    fn dup(path: &str) -> Finding {
        Finding::new("duplicate-version", Severity::Error, "version 004 twice").path(path)
    }

    #[test]
    fn duplicates_already_on_the_base_are_pre_existing() {
        let files = [("004_a.sql", "SELECT 1;"), ("004_b.sql", "SELECT 2;")];
        let base = folder(&files);
        let mut with_new = files.to_vec();
        with_new.push(("005_c.sql", "SELECT 3;"));
        let work = folder(&with_new);
        let mut found = vec![dup("m/004_b.sql")];
        Baseline::new(&base, &work).mark(&mut found, &[dup("m/004_b.sql")]);
        assert_eq!(marks(&found), [Some(false)]);
    }

    #[test]
    fn a_file_added_or_renamed_into_a_taken_version_is_an_introduced_duplicate() {
        let base = folder(&[
            ("004_a.sql", "SELECT 1;"),
            ("005_b.sql", "CREATE TABLE b (long_enough_to_be_similar);"),
        ]);
        let added = folder(&[
            ("004_a.sql", "SELECT 1;"),
            ("004_new.sql", "SELECT 2;"),
            ("005_b.sql", "CREATE TABLE b (long_enough_to_be_similar);"),
        ]);
        let mut found = vec![dup("m/004_new.sql")];
        Baseline::new(&base, &added).mark(&mut found, &[]);
        assert_eq!(marks(&found), [Some(true)]);

        let renamed = folder(&[
            ("004_a.sql", "SELECT 1;"),
            ("004_b.sql", "CREATE TABLE b (long_enough_to_be_similar);"),
        ]);
        let mut found = vec![dup("m/004_b.sql")];
        Baseline::new(&base, &renamed).mark(&mut found, &[]);
        assert_eq!(marks(&found), [Some(true)]);
    }

    #[test]
    fn messages_lose_line_numbers_and_the_file_s_own_name() {
        assert_eq!(
            normalise_message("003_x.py line 12: m/003_x.py:4:2: boom", Some("003_x.py")),
            "<file> line #: m/<file>:#:#: boom"
        );
        assert_eq!(
            normalise_message("no such table: t2", None),
            "no such table: t2"
        );
    }

    fn failed(path: &str, message: &str) -> Step {
        let mut s = Step::new("003", Some(path.into()), StepStatus::Failed);
        s.error = Some(Location {
            message: message.into(),
            path: Some(path.into()),
            line: Some(3),
            column: Some(1),
        });
        s
    }

    #[test]
    fn a_step_failing_the_same_way_on_the_base_is_pre_existing() {
        let base = folder(&[("003_x.sql", "CREATE INDEX i ON t(x);")]);
        let work = folder(&[("003_x.sql", "\n\nCREATE INDEX i ON t(x);")]);
        let mut steps = vec![
            failed("m/003_x.sql", "no such table: main.t"),
            Step::new("004", Some("m/004_y.sql".into()), StepStatus::Ok),
        ];
        let b = Baseline::new(&base, &work);
        b.mark_steps(
            &mut steps,
            &[failed("m/003_x.sql", "no such table: main.t")],
        );
        assert_eq!(steps[0].introduced, Some(false));
        assert_eq!(steps[1].introduced, None);
        b.mark_steps(
            &mut steps,
            &[failed("m/003_x.sql", "no such table: main.u")],
        );
        assert_eq!(steps[0].introduced, Some(true));
    }

    #[test]
    fn replay_failures_match_by_message_not_statement() {
        let base = folder(&[("003_x.sql", "CREATE INDEX i ON t(x);")]);
        let work = folder(&[("003_x.sql", "-- moved\nCREATE INDEX i ON t(x);")]);
        let f = |line| {
            Finding::new(
                "migration-failed",
                Severity::Error,
                "this migration fails when the chain is replayed on an empty database: no such table: main.t",
            )
            .path("m/003_x.sql")
            .at(line, 1)
        };
        let mut found = vec![f(2)];
        Baseline::new(&base, &work).mark(&mut found, &[f(1)]);
        assert_eq!(marks(&found), [Some(false)]);
    }

    #[test]
    fn offsets_count_characters_and_skip_a_bom() {
        assert_eq!(offset_of("ab\ncd", 2, 2), Some(4));
        assert_eq!(offset_of("\u{feff}ab", 1, 2), Some(4));
        assert_eq!(offset_of("é x", 1, 3), Some(3));
        assert_eq!(offset_of("a", 3, 1), None);
    }
}
