//! The whole `migrate` run, in the shape of sqlx's `migrator.rs`: lock, re-read history
//! under the lock, refuse on the history findings ([`crate::lint::deploy_findings`]),
//! validate pending Python migrations, `quick_check`, back up, apply each pending migration
//! with [`super::apply_one`], stop at the first failure, report progress as [`Event`]s.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::signal::interrupted;
use super::step::{ApplyOptions, StepErrorKind, StepResult, apply_one, python_failure};
use crate::config::{RuleLevel, Timeouts};
use crate::folder_cache::Memo;
use crate::history;
use crate::migration::{Discovery, Kind, Migration};
use crate::ops::Locked;
use crate::plan::{Plan, State};
use crate::pyrunner;
use crate::report::{Finding, Location, Severity};

/// Checks `migrate` refuses on, unless overridden.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub drift: bool,
    pub duplicates: bool,
    pub renamed_applied: bool,
}

/// Where and whether to back up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackupPolicy {
    Skip,
    Into { dir: PathBuf, keep: Option<usize> },
}

/// Settings of a `migrate` run.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Create the database when it does not exist (a new environment).
    pub create: bool,
    pub timeouts: Timeouts,
    pub backup: BackupPolicy,
    pub overrides: Overrides,
    pub python: String,
    pub env: Vec<(String, String)>,
    /// `[rules]` from schemagate.toml (severity overrides of the history rules).
    pub rules: std::collections::BTreeMap<String, RuleLevel>,
    /// `[[accept-checksum]]` from schemagate.toml: reviewed drift that does not block.
    pub accepted: Vec<crate::config::AcceptedChecksum>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            create: true,
            timeouts: Timeouts::default(),
            backup: BackupPolicy::Skip,
            overrides: Overrides::default(),
            python: crate::config::defaults::PYTHON.into(),
            env: Vec::new(),
            rules: Default::default(),
            accepted: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MigrateStatus {
    /// Nothing was pending.
    Current,
    /// Everything pending was applied.
    Migrated,
    /// Refused, or a migration failed (what was applied before it stays applied).
    Error,
}

/// The result of a run: the legacy `auto_migrate` keys (`status`, `applied`, `count`) plus
/// `backup` and `error` (docs/report.md), and a few more facts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MigrateResult {
    pub status: MigrateStatus,
    /// Versions applied by this run, in order.
    pub applied: Vec<String>,
    pub count: usize,
    /// The backup made before applying, if any.
    pub backup: Option<String>,
    pub error: Option<Location>,
    /// The database did not exist and was created by this run.
    #[serde(default)]
    pub created: bool,
    /// Why the run refused to apply (drift, duplicates, renamed-applied), and other
    /// history findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// What kind of failure stopped the run (`environment`: the database stayed locked,
    /// no Python; the CLI exits 2 for those, 1 for the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StepErrorKind>,
}

impl MigrateResult {
    /// Nothing pending, nothing applied (yet).
    fn current(created: bool) -> MigrateResult {
        MigrateResult {
            status: MigrateStatus::Current,
            applied: Vec::new(),
            count: 0,
            backup: None,
            error: None,
            created,
            findings: Vec::new(),
            failure: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> MigrateResult {
        MigrateResult {
            status: MigrateStatus::Error,
            applied: Vec::new(),
            count: 0,
            backup: None,
            error: Some(Location {
                message: message.into(),
                path: None,
                line: None,
                column: None,
            }),
            created: false,
            findings: Vec::new(),
            failure: Some(StepErrorKind::Environment),
        }
    }
}

/// Progress of a run, for the CLI's log.
#[derive(Debug)]
pub enum Event<'a> {
    Created(&'a Path),
    Waiting(&'a str),
    /// A backup of the database is about to be written into this folder.
    BackingUp(&'a Path),
    BackedUp(&'a Path),
    Pruned(&'a Path),
    /// This many migrations are about to be applied (each then gets `Applying` and
    /// `Applied` or `Skipped`, up to a failure).
    Pending(usize),
    Applying(&'a Migration),
    Applied(&'a Migration, &'a StepResult),
    Skipped(&'a Migration, &'a str),
}

/// Whether a finding stops `migrate` (error severity, not overridden).
pub fn blocks(f: &Finding, o: &Overrides) -> bool {
    use crate::lint::rules::{checksum_drift, duplicate_version, renamed_applied};
    let overridden = [
        (checksum_drift::RULE.id, o.drift),
        (duplicate_version::RULE.id, o.duplicates),
        (renamed_applied::RULE.id, o.renamed_applied),
    ]
    .iter()
    .any(|(id, allowed)| *allowed && f.rule == *id);
    f.severity == Severity::Error && !overridden
}

/// The deploy step. `Err` is an environment problem (exit 2: lock timeout, unusable
/// database, backup failure, no Python); a refusal or a failed migration is an `Ok` result
/// with status `error` (exit 1).
pub fn migrate(
    db_path: &Path,
    migrations_dir: &Path,
    discovery: &Discovery,
    opts: &MigrateOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<MigrateResult> {
    run(
        db_path,
        migrations_dir,
        &mut Folder::Read(discovery),
        &|| anyhow::bail!("a read migrations folder is never read again"),
        opts,
        on_event,
    )
}

/// How [`migrate_reading`] gets the migrations folder.
pub enum FolderRead<'a> {
    /// From the folder cache (`crate::folder_cache`), with the memo to record a "current"
    /// conclusion in.
    Cached(Discovery, Memo),
    /// Unchanged since `migrate` concluded "current, nothing to report" on it: when the
    /// history and the settings are unchanged too, that is the answer again; otherwise
    /// `rest` gives the discovery (`true`: from the cache).
    Concluded(
        Memo,
        Box<dyn FnOnce() -> anyhow::Result<(Discovery, bool)> + Send + 'a>,
    ),
    /// To be read on a thread of its own while the lock is taken and the database opened
    /// and its history read: with nothing pending, those two are the whole run.
    Later(Box<dyn FnOnce() -> anyhow::Result<Discovery> + Send + 'a>),
}

/// [`migrate`] on a folder given by `first`. A folder still being read is waited for
/// before anything is created or changed, and its errors are reported first, as when it
/// is read before.
///
/// A discovery from the folder cache, or a memo of the last conclusion on it, is only
/// trusted to conclude that the database is current with nothing to report; the history is
/// then read without the side table ([`crate::history::read_lean`]). Anything else
/// (something pending, drift, any finding, a refusal) is decided again on `read_again()`, a
/// full read, and the whole history. The discovery is returned unless the memo answered.
/// The cache is looked up before the database is opened, not beside it: on a hit the
/// rest is a few milliseconds, and a second thread cost more than it saved.
pub fn migrate_reading(
    db_path: &Path,
    migrations_dir: &Path,
    first: FolderRead<'_>,
    read_again: impl Fn() -> anyhow::Result<Discovery> + Sync,
    opts: &MigrateOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<(MigrateResult, Option<Discovery>)> {
    std::thread::scope(|s| {
        let mut folder = match first {
            FolderRead::Cached(d, memo) => Folder::Owned(d, Some(memo)),
            FolderRead::Concluded(memo, rest) => Folder::Concluded(memo, rest),
            FolderRead::Later(read) => Folder::Reading(s.spawn(read)),
        };
        let result = run(
            db_path,
            migrations_dir,
            &mut folder,
            &read_again,
            opts,
            on_event,
        );
        if matches!(folder, Folder::Reading(_)) {
            // `run` stopped before it needed the folder: its errors still come first.
            folder.wait()?;
        }
        let result = result?;
        match folder {
            Folder::Owned(d, _) => Ok((result, Some(d))),
            // The memo answered: current, nothing to report, nothing of the folder to show.
            Folder::Concluded(..) => Ok((result, None)),
            _ => unreachable!("waited for above"),
        }
    })
}

/// The migrations folder, perhaps still being read.
enum Folder<'s, 'd, 'a> {
    Read(&'d Discovery),
    Reading(std::thread::ScopedJoinHandle<'s, anyhow::Result<Discovery>>),
    /// Unchanged since `migrate` concluded "current" on it, not decoded yet.
    Concluded(
        Memo,
        Box<dyn FnOnce() -> anyhow::Result<(Discovery, bool)> + Send + 'a>,
    ),
    /// Read; with its memo when from the folder cache.
    Owned(Discovery, Option<Memo>),
    /// Reading it failed (the error was returned).
    Failed,
}

impl Folder<'_, '_, '_> {
    fn wait(&mut self) -> anyhow::Result<()> {
        match std::mem::replace(self, Folder::Failed) {
            Folder::Reading(handle) => {
                let read = handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                *self = Folder::Owned(read, None);
            }
            Folder::Concluded(memo, rest) => {
                let (read, cached) = rest()?;
                *self = Folder::Owned(read, cached.then_some(memo));
            }
            Folder::Failed => anyhow::bail!("the migrations folder could not be read"),
            other => *self = other,
        }
        Ok(())
    }

    /// Whether the discovery comes from the folder cache.
    fn cached(&self) -> bool {
        matches!(self, Folder::Owned(_, Some(_)) | Folder::Concluded(..))
    }

    fn get(&self) -> &Discovery {
        match self {
            Folder::Read(d) => d,
            Folder::Owned(d, _) => d,
            _ => unreachable!("Folder::get before Folder::wait"),
        }
    }

    /// `result`; when it is an error, reading the folder is waited for, and its error, if
    /// any, comes first.
    fn first<T>(&mut self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        if result.is_err() {
            self.wait()?;
        }
        result
    }
}

/// What a "current, nothing to report" conclusion depends on besides the folder.
fn memo_inputs<'a>(
    display: &'a str,
    opts: &'a MigrateOptions,
    rows: &'a [crate::plan::HistoryRow],
) -> crate::folder_cache::Inputs<'a> {
    crate::folder_cache::Inputs {
        database: display,
        rules: &opts.rules,
        accepted: &opts.accepted,
        rows,
    }
}

/// Reads the migrations folder in full, not from the cache (see [`migrate_reading`]).
type ReadAgain<'a> = &'a (dyn Fn() -> anyhow::Result<Discovery> + Sync);

fn run(
    db_path: &Path,
    migrations_dir: &Path,
    folder: &mut Folder<'_, '_, '_>,
    read_again: ReadAgain<'_>,
    opts: &MigrateOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<MigrateResult> {
    use anyhow::Context as _;
    let existed = folder.first(crate::db::probe(db_path))? != crate::db::FileState::Missing;
    if !existed {
        // Nothing is created before the folder is known to be readable, and deployable:
        // another tool's database is that tool's to create and write.
        folder.wait()?;
        history::refuse_foreign_writes(folder.get().layout, "migrate")?;
        if !opts.create {
            anyhow::bail!("database {} does not exist", db_path.display());
        }
        if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        }
    }
    let session = Locked::acquire(db_path, &opts.timeouts, &mut |holder| {
        on_event(Event::Waiting(holder))
    })
    .and_then(|locked| locked.open(opts.create));
    let mut session = folder.first(session)?;
    let created = session.created;
    if created {
        // A database file SQLite created but never wrote is 0 bytes, which the next run
        // would refuse as "truncated"; the history table makes it a real, new database.
        session
            .conn
            .execute_batch(history::CREATE_TABLE)
            .map_err(|e| session.explain(e))?;
    }
    // Announced once the new database is kept: a refused run removes it again
    // (`Session::discard`), and "created a new database" must not be said of it.
    let announce_created = |on_event: &mut dyn FnMut(Event<'_>)| {
        if created {
            on_event(Event::Created(db_path));
        }
    };

    let dirty = history::dirty(&session.conn).map_err(|e| session.explain(e));
    // From here on an error leaves nothing behind: the session (its lock file, a database
    // it created) is discarded first.
    let dirty = match folder.first(dirty) {
        Ok(d) => d,
        Err(e) => {
            session.discard();
            return Err(e);
        }
    };
    if let Some(d) = dirty.first() {
        let d = d.clone();
        session.discard();
        anyhow::bail!(
            "database {} is in an unknown state: {d}. The statements before the failure stayed applied: check the database by hand, finish or undo them, then run `schemagate resolve {v} --applied --reason \"finished by hand\"` or `schemagate resolve {v} --rolled-back --reason \"undone by hand\"`",
            db_path.display(),
            v = d.version,
        );
    }
    // Re-read under the lock: what another migrator applied while we waited is not pending.
    // Without the side table when the folder came from the cache: then only a database
    // with nothing to do or report is concluded on these rows.
    let lean = folder.cached();
    let rows = if lean {
        session.history_lean()
    } else {
        session.history()
    };
    let display = db_path.display().to_string();
    if let (Folder::Concluded(memo, _), Ok(rows)) = (&*folder, &rows)
        && !created
        && memo.holds(&memo_inputs(&display, opts, rows))
    {
        return Ok(MigrateResult::current(created));
    }
    let rows = folder.first(rows).and_then(|rows| {
        folder.wait()?;
        Ok(rows)
    });
    let mut rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            session.discard();
            return Err(e);
        }
    };
    if folder.cached() {
        let d = folder.get();
        let current = history::refuse_foreign_writes(d.layout, "migrate").is_ok() && {
            let plan = Plan::new(d, &rows);
            let findings = crate::lint::deploy_findings(
                d,
                &plan,
                &dirty,
                &display,
                &opts.rules,
                &opts.accepted,
            );
            findings.is_empty() && is_current(&plan)
        };
        if current {
            if let Folder::Owned(_, Some(memo)) = &*folder
                && !created
            {
                memo.remember(&memo_inputs(&display, opts, &rows));
            }
            announce_created(on_event);
            return Ok(MigrateResult::current(created));
        }
        // Whatever is to be done or reported is decided on the files themselves.
        match read_again() {
            Ok(d) => *folder = Folder::Owned(d, None),
            Err(e) => {
                session.discard();
                return Err(e);
            }
        }
    }
    if lean {
        rows = match session.history() {
            Ok(rows) => rows,
            Err(e) => {
                session.discard();
                return Err(e);
            }
        };
    }
    let discovery = folder.get();
    // Nothing was changed yet: another tool's database is that tool's to write.
    if let Err(e) = history::refuse_foreign_writes(discovery.layout, "migrate") {
        session.discard();
        return Err(e);
    }
    let plan = Plan::new(discovery, &rows);
    // The markers were refused above with the whole story; none is left here.
    let findings = crate::lint::deploy_findings(
        discovery,
        &plan,
        &dirty,
        &display,
        &opts.rules,
        &opts.accepted,
    );
    let mut result = MigrateResult::current(created);
    let blocking: Vec<Finding> = findings
        .iter()
        .filter(|f| blocks(f, &opts.overrides))
        .cloned()
        .collect();
    if !blocking.is_empty() {
        session.discard();
        result.status = MigrateStatus::Error;
        result.created = false;
        result.error = Some(Location {
            message: format!(
                "refusing to apply: {} problem{} with the migrations or the history (see the findings); nothing was applied",
                blocking.len(),
                if blocking.len() == 1 { "" } else { "s" }
            ),
            path: None,
            line: None,
            column: None,
        });
        result.findings = findings;
        result.failure = Some(StepErrorKind::Refused);
        return Ok(result);
    }
    result.findings = findings;

    let pending: Vec<&Migration> = plan.pending().collect();
    if pending.is_empty() {
        announce_created(on_event);
        return Ok(result);
    }
    if pending.iter().any(|m| m.kind == Kind::Python)
        && let Err(e) = pyrunner::check_available(&opts.python)
    {
        session.discard();
        anyhow::bail!("{e} (a Python migration is pending; nothing was applied)");
    }
    // Import errors and a missing upgrade() are found before anything is backed up or
    // applied, not half-way through the chain.
    for m in pending.iter().filter(|m| m.kind == Kind::Python) {
        let file = migrations_dir.join(&m.file_name);
        let checked = pyrunner::validate(
            &opts.python,
            m,
            &file,
            pyrunner::Direction::Upgrade,
            &opts.env,
            opts.timeouts.migration,
        );
        if let Err(e) = checked {
            let e = python_failure(m, e);
            if e.kind == StepErrorKind::Environment {
                session.discard();
                anyhow::bail!("{e}");
            }
            session.discard();
            result.status = MigrateStatus::Error;
            result.created = false;
            let mut loc: Location = (&e).into();
            loc.message = format!(
                "{} (found before applying anything; nothing was applied)",
                loc.message
            );
            result.error = Some(loc);
            result.failure = Some(e.kind);
            return Ok(result);
        }
    }

    announce_created(on_event);
    if !created {
        // A damaged b-tree must stop us before we back it up or add to it.
        crate::db::quick_check(&session.conn)
            .map_err(|e| e.context(format!("database {}", db_path.display())))?;
    }
    if let BackupPolicy::Into { dir, keep } = &opts.backup
        && !created
    {
        on_event(Event::BackingUp(dir));
        let path = crate::backup::create(
            db_path,
            dir,
            opts.timeouts.busy.max(Duration::from_secs(30)),
        )?;
        on_event(Event::BackedUp(&path));
        result.backup = Some(path.display().to_string());
        crate::db::failpoint("after_backup");
        if let Some(keep) = keep {
            for p in crate::backup::prune(db_path, dir, *keep, Some(&path))? {
                on_event(Event::Pruned(&p));
            }
        }
    }

    let apply_opts = ApplyOptions {
        record_history: true,
        commit: true,
        busy_timeout: opts.timeouts.busy,
        migration_timeout: opts.timeouts.migration,
        python: &opts.python,
        env: &opts.env,
    };
    on_event(Event::Pending(pending.len()));
    let mut versions_done: Vec<&crate::migration::Version> = plan
        .entries
        .iter()
        .filter(|e| e.state.is_recorded())
        .map(|e| &e.version)
        .collect();
    for m in pending {
        if interrupted() {
            result.status = MigrateStatus::Error;
            result.count = result.applied.len();
            result.failure = Some(StepErrorKind::Interrupted);
            result.error = Some(Location {
                message: format!(
                    "interrupted by a signal before {}; the database is intact at the last applied migration",
                    m.path
                ),
                path: None,
                line: None,
                column: None,
            });
            return Ok(result);
        }
        if versions_done.contains(&&m.version) {
            // Only reachable with --allow duplicates: the legacy manager also ran the first
            // file of a version and skipped the rest.
            on_event(Event::Skipped(m, "its version is already applied"));
            continue;
        }
        on_event(Event::Applying(m));
        let file = migrations_dir.join(&m.file_name);
        match apply_one(&mut session.conn, db_path, &file, m, &apply_opts) {
            Ok(step) => {
                crate::db::failpoint(&format!("applied:{}", m.version));
                if step.already_applied {
                    on_event(Event::Skipped(m, "another process recorded it meanwhile"));
                } else {
                    on_event(Event::Applied(m, &step));
                    result.applied.push(m.version.to_string());
                }
                versions_done.push(&m.version);
            }
            Err(e) => {
                result.status = MigrateStatus::Error;
                result.count = result.applied.len();
                let mut loc: Location = (&e).into();
                if let Some(d) = &e.detail {
                    loc.message = format!("{}\n{}", loc.message, d.trim_end());
                }
                result.error = Some(loc);
                result.failure = Some(e.kind);
                return Ok(result);
            }
        }
    }
    result.count = result.applied.len();
    if result.count > 0 {
        result.status = MigrateStatus::Migrated;
    }
    drop(session);
    Ok(result)
}

/// Every file applied as it is and every row matched to its file: nothing pending, drifted,
/// unverified or missing, no odd, duplicate or renamed rows, nothing out of order.
fn is_current(plan: &Plan<'_>) -> bool {
    plan.entries.iter().all(|e| e.state == State::Applied)
        && plan.renamed_applied.is_empty()
        && plan.out_of_order.is_empty()
        && plan.odd_rows.is_empty()
        && plan.duplicate_rows.is_empty()
}
