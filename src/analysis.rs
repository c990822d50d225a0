//! Shell: the analysis behind `lint` and `check`, run on the working tree and, in
//! pull-request mode, on the merge base too.
//!
//! One analysis of a folder ([`analyse`]):
//! 1. the lint rules: folder, `.sql` statements, and `.py` files read by `python3`
//!    (`pyrunner::scan`, one process, running while the `.sql` files are linted);
//! 2. with a database (`--db`): the history rules over the plan of that folder;
//! 3. for `check`: a replay of the whole chain on an empty database and, with a database, a
//!    dry run of what is pending on a copy of it;
//! 4. suppression comments and `[rules]` severities (`lint::finish`).
//!
//! Pull-request mode ([`run`] with a base ref): the base comparison is added to the working
//! tree's findings (introduced by definition: it describes the change), the same analysis
//! runs on the folder at the merge base, and [`crate::baseline`] marks every other finding
//! introduced or pre-existing. The base's files are written to a private temporary folder
//! (mode 0700, removed afterwards) because the replay imports Python migrations from real
//! files; their paths inside it are rewritten to the real folder's in the base's messages,
//! so a message that names its file matches across the two runs.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::baseline::Baseline;
use crate::config::Config;
use crate::dryrun::{self, ApplyExecutor, Executor, Options, Source};
use crate::lint::{self, LintInputs};
use crate::migration::{Discovery, FolderEntry, Migration};
use crate::plan::{DirtyMarker, HistoryRow, Plan};
use crate::report::{BaseInfo, DryRun, Finding, Gate};

/// A migrations folder to analyse: what was discovered in it, and where its files are (the
/// replay runs them from there).
#[derive(Clone, Copy, Debug)]
pub struct Tree<'a> {
    pub discovery: &'a Discovery,
    pub dir: &'a Path,
}

/// The database given with `--db` / `--env`.
#[derive(Clone, Copy, Debug)]
pub struct Database<'a> {
    /// Its history rows (none for a database that does not exist yet).
    pub rows: &'a [HistoryRow],
    /// What the history says stopped half-way (`dirty-database`).
    pub dirty: &'a [DirtyMarker],
    /// As shown to the user.
    pub display: &'a str,
    /// `check`: where the copy to dry-run on comes from.
    pub source: Source<'a>,
}

/// What the analysis runs, besides the folder.
#[derive(Clone, Debug)]
pub struct Settings<'a> {
    /// The migrations folder as shown to the user (prefix of every path in the findings).
    pub dir_display: &'a str,
    pub config: &'a Config,
    /// Interpreter that reads the `.py` files for lint.
    pub python: &'a str,
    /// `check`: replay (and dry-run) with these options; `None` for `lint`.
    pub dry_run: Option<Options>,
    pub database: Option<Database<'a>>,
    /// Wraps the executor of each replay or dry run, e.g. to draw a progress line.
    pub watch: Option<Watch<'a>>,
}

/// Wraps an executor for a run of `steps` migrations named by `label` ("replay",
/// "dry run"); the CLI's progress line is one.
/// The signature of a [`Watch`].
pub type WrapExecutor<'a> =
    dyn for<'e> Fn(&'e dyn Executor, usize, &str) -> Box<dyn Executor + 'e> + 'a;

#[derive(Clone, Copy)]
pub struct Watch<'a>(pub &'a WrapExecutor<'a>);

/// Gives a closure the signature [`Watch`] needs (Rust infers a higher-ranked closure
/// signature only from a bound at the closure's creation).
pub fn watcher<F>(f: F) -> F
where
    F: for<'e> Fn(&'e dyn Executor, usize, &str) -> Box<dyn Executor + 'e>,
{
    f
}

impl std::fmt::Debug for Watch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// `exec`, wrapped by the settings' [`Watch`] when there is one.
fn watched<'e>(
    settings: &Settings<'_>,
    exec: &'e dyn Executor,
    steps: usize,
    label: &str,
) -> Box<dyn Executor + 'e> {
    match settings.watch {
        Some(Watch(wrap)) => wrap(exec, steps, label),
        None => Box::new(Plain(exec)),
    }
}

/// An executor passed through as it is.
struct Plain<'e>(&'e dyn Executor);

impl Executor for Plain<'_> {
    fn apply(
        &self,
        db: &Path,
        m: &Migration,
        file: &Path,
    ) -> Result<dryrun::Applied, dryrun::Failure> {
        self.0.apply(db, m, file)
    }
}

/// The result of [`analyse`] or [`run`].
#[derive(Debug, Default)]
pub struct Analysis {
    /// Finished: suppression comments and `[rules]` severities applied, one finding per
    /// rule and place.
    pub findings: Vec<Finding>,
    /// The run the report shows: the dry run on the database's copy, else the replay.
    pub dry_run: Option<DryRun>,
    /// Notes for the log (scratch databases kept with `--keep-scratch`).
    pub notes: Vec<String>,
    /// Warnings for the log (Python rules skipped because `python3` could not run).
    pub warnings: Vec<String>,
    /// Pull-request mode: what the findings were compared with.
    pub base: Option<BaseInfo>,
}

/// Pull-request mode, when a base is known.
#[derive(Clone, Copy, Debug)]
pub struct PullRequest<'a> {
    /// The base ref (`--base`, or the pull request's base inside GitHub Actions).
    pub reference: &'a str,
    pub gate: Gate,
}

/// Analyses the working tree `work` and, with `pr`, the merge base, and marks the findings.
/// An unknown base is an error (exit 2) before anything slow runs.
pub fn run(
    work: Tree<'_>,
    settings: &Settings<'_>,
    pr: Option<PullRequest<'_>>,
) -> anyhow::Result<Analysis> {
    let Some(pr) = pr else {
        return analyse(work, settings, Vec::new());
    };
    let base = crate::git::load_pr_base(
        work.dir,
        settings.dir_display,
        pr.reference,
        work.discovery.layout,
    )?;
    let mut comparison = crate::base::compare(&base.view, work.discovery);
    for f in &mut comparison {
        f.introduced = Some(true);
    }
    let mut head = analyse(work, settings, comparison)?;

    let base_discovery = base.discovery(settings.dir_display, work.discovery.layout);
    let before = match &settings.dry_run {
        Some(_) => {
            let folder = materialise(&base.entries)?;
            let mut base_settings = settings.clone();
            if let Some(opts) = &mut base_settings.dry_run {
                opts.keep_scratch = false;
            }
            let tree = Tree {
                discovery: &base_discovery,
                dir: folder.path(),
            };
            let mut before = analyse(tree, &base_settings, Vec::new())?;
            rewrite_paths(&mut before, folder.path(), work.dir);
            before
        }
        None => {
            let tree = Tree {
                discovery: &base_discovery,
                dir: work.dir,
            };
            analyse(tree, settings, Vec::new())?
        }
    };
    let baseline = Baseline::new(&base_discovery, work.discovery);
    baseline.mark(&mut head.findings, &before.findings);
    if let (Some(now), Some(then)) = (&mut head.dry_run, &before.dry_run) {
        baseline.mark_steps(&mut now.steps, &then.steps);
    }
    head.base = Some(BaseInfo {
        reference: base.view.label,
        commit: base.commit,
        gate: pr.gate,
    });
    Ok(head)
}

/// One analysis of one folder. `extra` findings (the base comparison) go through the same
/// suppression and severities.
pub fn analyse(
    tree: Tree<'_>,
    settings: &Settings<'_>,
    extra: Vec<Finding>,
) -> anyhow::Result<Analysis> {
    let d = tree.discovery;
    let mut out = Analysis::default();
    let (mut findings, inputs) = lint_folder(d, settings, &mut out.warnings)?;
    findings.extend(extra);

    let rows = settings.database.map_or(&[][..], |db| db.rows);
    let plan = Plan::new(d, rows);
    if let Some(db) = &settings.database {
        findings.extend(lint::history_findings(
            &plan,
            db.dirty,
            db.display,
            &settings.config.accept_checksum,
        ));
    }

    if let Some(template) = &settings.dry_run {
        let opts = Options {
            migrations_dir: tree.dir.to_path_buf(),
            ..template.clone()
        };
        let exec = executor(&opts);
        let all: Vec<&Migration> = d.migrations.iter().collect();
        let replay = dryrun::run(
            Source::Empty,
            &all,
            &Options {
                replay: true,
                ..opts.clone()
            },
            watched(settings, &exec, all.len(), "replay").as_ref(),
        )?;
        if let Some(kept) = &replay.kept {
            out.notes
                .push(format!("replay database kept at {}", kept.display()));
        }
        // Down SQL is only ever run here, on a copy of the replay: up, down, up again.
        findings.extend(crate::reversible::check(
            &all,
            &crate::reversible::Options {
                migrations_dir: tree.dir.to_path_buf(),
                busy_timeout: opts.busy_timeout,
                migration_timeout: opts.migration_timeout,
            },
        )?);
        match &settings.database {
            Some(db) => {
                let pending: Vec<&Migration> = plan.pending().collect();
                let copy_opts = Options {
                    replay: false,
                    ..opts
                };
                let run = dryrun::run(
                    db.source,
                    &pending,
                    &copy_opts,
                    watched(settings, &exec, pending.len(), "dry run").as_ref(),
                )?;
                if let Some(kept) = &run.kept {
                    out.notes.push(format!(
                        "scratch copy of {} kept at {}",
                        db.display,
                        kept.display()
                    ));
                }
                // The dry run on the real data speaks first; the replay adds what only a
                // fresh database shows.
                findings.extend(run.findings);
                findings.extend(replay.findings);
                out.dry_run = Some(run.dry_run);
            }
            None => {
                findings.extend(replay.findings);
                out.dry_run = Some(replay.dry_run);
            }
        }
    }
    out.findings = lint::finish(dedup(findings), d, &inputs, &settings.config.rules);
    Ok(out)
}

/// The lint rules over the folder, before suppression and severities, with the inputs they
/// read (suppression needs the Python data too). Config errors (unknown rule ids, a bad
/// `target_sqlite`) are `Err`.
fn lint_folder(
    d: &Discovery,
    settings: &Settings<'_>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<(Vec<Finding>, LintInputs)> {
    lint::check_rule_config(&settings.config.rules)?;
    let mut inputs = LintInputs::from_config(settings.config)?;
    inputs.dir = settings.dir_display.to_string();
    inputs.layout = d.layout;
    // python3 reads the .py files while we lint the .sql files.
    let scan = crate::pyrunner::scan::start(settings.python, d);
    let mut findings = lint::lint_sql_files(d, &inputs);
    match scan.finish() {
        Ok(ast) => inputs.python = ast,
        Err(warning) => warnings.push(warning),
    }
    findings.extend(lint::lint_python_files(d, &inputs));
    Ok((findings, inputs))
}

/// The executor of `migrate`, pointed at scratch databases.
pub fn executor(opts: &Options) -> ApplyExecutor {
    ApplyExecutor {
        python: opts.python.clone(),
        env: opts.env.clone(),
        busy_timeout: opts.busy_timeout,
        migration_timeout: opts.migration_timeout,
    }
}

/// One finding per rule and place: the replay and the dry run, or the base comparison and
/// the folder rules, may find the same thing. The first one stays.
fn dedup(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    findings
        .into_iter()
        // Findings with no file at all (history rows) differ by their message; keyed by
        // place alone, every such finding of a rule would become one.
        .filter(|f| {
            let what = f.path.is_none().then(|| f.message.clone());
            seen.insert((f.rule.clone(), f.path.clone(), f.line, f.column, what))
        })
        .collect()
}

/// Writes the base's files (and diesel-style migration folders) into a new private
/// temporary folder.
fn materialise(entries: &[FolderEntry]) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("schemagate-base-")
        .tempdir()
        .context("cannot create a temporary folder for the base branch's migrations")?;
    // The base's migrations may hold anything a migration holds; nobody else reads them.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .context("cannot make the base branch's temporary folder private")?;
    }
    // Names come from a git tree: one path component each, but never trusted to be.
    let plain = |name: &str| {
        !(name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']))
    };
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).with_context(|| {
            format!(
                "cannot write the base branch's migrations to a temporary folder ({})",
                path.display()
            )
        })
    };
    for entry in entries {
        match entry {
            FolderEntry::File { name, bytes } if plain(name) => {
                write(&dir.path().join(name), bytes)?;
            }
            FolderEntry::Folder { name, files } if plain(name) => {
                let sub = dir.path().join(name);
                std::fs::create_dir(&sub)
                    .with_context(|| format!("cannot create {}", sub.display()))?;
                for (file, bytes) in files.iter().filter(|(f, _)| plain(f)) {
                    write(&sub.join(file), bytes)?;
                }
            }
            _ => {}
        }
    }
    Ok(dir)
}

/// Replaces the temporary folder's path with the real one in the base's messages.
fn rewrite_paths(analysis: &mut Analysis, from: &Path, to: &Path) {
    let pairs: Vec<(String, String)> = [
        (from.to_path_buf(), to.to_path_buf()),
        (
            from.canonicalize().unwrap_or_else(|_| from.to_path_buf()),
            std::path::absolute(to).unwrap_or_else(|_| PathBuf::from(to)),
        ),
    ]
    .into_iter()
    .map(|(a, b)| (a.display().to_string(), b.display().to_string()))
    .filter(|(a, _)| !a.is_empty())
    .collect();
    let fix = |text: &mut String| {
        for (a, b) in &pairs {
            if text.contains(a.as_str()) {
                *text = text.replace(a.as_str(), b);
            }
        }
    };
    for f in &mut analysis.findings {
        fix(&mut f.message);
    }
    if let Some(dry) = &mut analysis.dry_run {
        for s in &mut dry.steps {
            if let Some(e) = &mut s.error {
                fix(&mut e.message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_folder_is_private_and_holds_only_plain_names() {
        let file = |name: &str, bytes: &[u8]| FolderEntry::File {
            name: name.to_string(),
            bytes: bytes.to_vec(),
        };
        let files = vec![
            file("001_a.sql", b"SELECT 1;"),
            file("helpers.py", b"X = 1\n"),
            file("../escape.sql", b"no"),
            file("..", b"no"),
        ];
        let dir = materialise(&files).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["001_a.sql", "helpers.py"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
