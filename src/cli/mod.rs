//! The command line: clap definitions, resolution of raw flags into one validated
//! [`Context`], and the exit-code policy. Subcommands live in `crate::commands`, one file each.

pub mod args;
pub mod context;
pub mod progress;
pub mod suggest;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use args::feeds;
pub use args::{
    ConfigArgs, DatabasesArgs, DbArgs, DirArgs, Feed, GlobalArgs, LockArgs, LogArgs, OutputArgs,
    ProjectArgs, PythonArgs, ReportArgs, TextOrJson,
};
pub use context::{Context, Target};

pub use crate::report::Format;
use crate::report::Gate;

/// What a command reports back to `main`: its findings decide between 0 and 1. Errors
/// (usage, configuration, environment) travel as `Err` and become exit code 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at or above the fail level.
    Clean,
    /// Findings at or above the fail level, or a migration failed.
    Findings,
}

impl Outcome {
    pub fn from_ok(ok: bool) -> Outcome {
        if ok {
            Outcome::Clean
        } else {
            Outcome::Findings
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "schemagate",
    version,
    about = "Guards SQLite schema migrations in CI and at deploy time.",
    after_help = "`schemagate COMMAND --help` lists the options of one command. Exit codes: 0 nothing at or above the fail level, 1 findings or a failed migration, 2 usage, configuration or environment error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Static checks of the migrations folder (no database needed).
    Lint(LintArgs),
    /// Apply pending migrations to a scratch copy of the database and report.
    DryRun(DryRunArgs),
    /// The CI entry point: lint, replay the chain on an empty database, dry-run on a copy.
    Check(CheckArgs),
    /// The deploy step: lock, verify, back up, apply pending migrations, record them.
    Migrate(MigrateArgs),
    /// Applied / pending / drifted / missing, per database.
    Status(StatusArgs),
    /// The pending migrations only.
    Pending(PendingArgs),
    /// Compare the real schema with a replay of the recorded migrations.
    Verify(VerifyArgs),
    /// Write a new migration with the next free version.
    Generate(GenerateArgs),
    /// Run `downgrade(conn)` of applied Python migrations, newest first.
    Rollback(RollbackArgs),
    /// Put a backup back in place (after backing up the current state).
    Restore(RestoreArgs),
    /// List the backups of a database.
    Backups(BackupsArgs),
    /// Record a migration as applied without running it (with the file's real checksum).
    MarkApplied(MarkAppliedArgs),
    /// Remove a history row.
    Forget(ForgetArgs),
    /// Move a history row from OLD to NEW after a renumbering (content must match).
    Rekey(RekeyArgs),
    /// Clear the marker a failed `no-transaction` migration left, once the database is
    /// checked: its statements before the failure stayed applied.
    Resolve(ResolveArgs),
    /// Resolve duplicate and out-of-order versions by moving files to free numbers.
    Renumber(RenumberArgs),
    /// Write schemagate.toml for an existing project.
    Init(InitArgs),
    /// List the lint rules, or print one rule's documentation.
    Rule(RuleArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a folder.
    Man(ManArgs),
}

impl Command {
    /// What [`Context::resolve`] reads, from whichever option groups the command has.
    pub fn settings(&self) -> GlobalArgs {
        let mut g = GlobalArgs::default();
        let args: &dyn Feed = match self {
            Command::Lint(a) => a,
            Command::DryRun(a) => a,
            Command::Check(a) => a,
            Command::Migrate(a) => a,
            Command::Status(a) => a,
            Command::Pending(a) => a,
            Command::Verify(a) => a,
            Command::Generate(a) => a,
            Command::Rollback(a) => a,
            Command::Restore(a) => a,
            Command::Backups(a) => a,
            Command::MarkApplied(a) => a,
            Command::Forget(a) => a,
            Command::Rekey(a) => a,
            Command::Resolve(a) => a,
            Command::Renumber(a) => a,
            Command::Init(a) => a,
            Command::Rule(_) | Command::Completions(_) | Command::Man(_) => return g,
        };
        args.feed(&mut g);
        g
    }
}

/// `--base REF` of `lint` and `check`.
const BASE_HELP: &str = "Pull-request mode: compare with the migrations folder at this git ref and mark each finding introduced or pre-existing (default in GitHub Actions: the pull request's base branch)";

/// `--gate` of `lint` and `check`.
const GATE_HELP: &str = "With a base, which findings decide the exit code: `introduced` (default) or `all` (default: `[ci] gate` in schemagate.toml)";

#[derive(Clone, Debug, Default, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Also compare the folder with this database's history (read-only; a missing file is
    /// a new database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Environment from schemagate.toml whose database to compare with.
    #[arg(long, value_name = "NAME", env = "SCHEMAGATE_ENV")]
    pub env: Option<String>,
    #[arg(long, value_name = "REF", help = BASE_HELP)]
    pub base: Option<String>,
    #[arg(long, value_enum, value_name = "WHICH", help = GATE_HELP)]
    pub gate: Option<Gate>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

impl Feed for LintArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        self.project.feed(g);
        DbArgs {
            db: self.db.clone(),
            env: self.env.clone(),
        }
        .feed(g);
        self.report.feed(g);
        self.python.feed(g);
        self.log.feed(g);
    }
}

#[derive(Clone, Debug, Default, Args)]
pub struct DryRunArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Keep the scratch database and print its path.
    #[arg(long)]
    pub keep_scratch: bool,
    /// Stop at the first failed migration (the later ones are reported as skipped) instead
    /// of rolling it back and going on.
    #[arg(long)]
    pub fail_fast: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(DryRunArgs => project, db, report, python, log);

#[derive(Clone, Debug, Default, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, value_name = "REF", help = BASE_HELP)]
    pub base: Option<String>,
    #[arg(long, value_enum, value_name = "WHICH", help = GATE_HELP)]
    pub gate: Option<Gate>,
    /// Stop the replay at the first failed migration (the later ones are reported as
    /// skipped) instead of rolling it back and going on.
    #[arg(long)]
    pub fail_fast: bool,
    /// Post or update the sticky pull-request comment (needs GITHUB_TOKEN).
    #[arg(long)]
    pub comment: bool,
    /// Inside GitHub Actions, do not write annotations, the job summary or outputs.
    #[arg(long)]
    pub no_github: bool,
    /// Also write a SARIF report to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif_file: Option<PathBuf>,
    /// Keep the scratch databases and print their paths.
    #[arg(long)]
    pub keep_scratch: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(CheckArgs => project, db, report, python, log);

#[derive(Clone, Debug, Default, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(VerifyArgs => project, db, report, python, log);

/// Checks `migrate` refuses on unless told otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Allow {
    /// Applied files whose content changed.
    Drift,
    /// Several files with one version.
    Duplicates,
    /// A pending file whose content is recorded under another version.
    RenamedApplied,
}

#[derive(Clone, Debug, Default, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Seconds each statement waits while the application holds the write lock (default:
    /// `[apply] busy_timeout`, else 10).
    #[arg(long, value_name = "SECONDS", value_parser = seconds())]
    pub busy_timeout: Option<u64>,
    /// Seconds one migration may run before it is killed and rolled back (default:
    /// `[apply] migration_timeout`, else no limit).
    #[arg(long, value_name = "SECONDS", value_parser = seconds())]
    pub migration_timeout: Option<u64>,
    /// Do not back up before applying.
    #[arg(long)]
    pub no_backup: bool,
    /// Apply despite these findings (repeatable).
    #[arg(long, value_enum, value_name = "CHECK")]
    pub allow: Vec<Allow>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(MigrateArgs => project, db, output, python, log);

#[derive(Clone, Debug, Default, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub databases: DatabasesArgs,
    /// Also list the audit trail of repairs, restores and rollbacks.
    #[arg(long)]
    pub audit: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(StatusArgs => project, databases, output, log);

#[derive(Clone, Debug, Default, Args)]
pub struct PendingArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(PendingArgs => project, db, output, log);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum)]
pub enum MigrationType {
    /// A `.sql` script.
    #[default]
    Sql,
    /// A `.py` file with `upgrade(conn)` and `downgrade(conn)`.
    Python,
}

#[derive(Clone, Debug, Args)]
pub struct GenerateArgs {
    /// Descriptive name, e.g. `add_user_email` (lower case, digits and underscores).
    pub name: String,
    /// Kind of migration file to write.
    #[arg(long = "type", value_enum, default_value_t)]
    pub kind: MigrationType,
    /// Also stay above the newest version on this git ref.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(GenerateArgs => project, output, log);

/// `--reason` where it may be left out.
const OPTIONAL_REASON_HELP: &str = "Why (recorded in the audit table)";

#[derive(Clone, Debug, Default, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Roll back every migration above VERSION.
    #[arg(long, value_name = "VERSION", conflicts_with = "steps")]
    pub to: Option<String>,
    /// Roll back the newest N migrations (default 1).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    #[arg(long, value_name = "TEXT", help = OPTIONAL_REASON_HELP)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(RollbackArgs => project, db, output, python, log);

#[derive(Clone, Debug, Default, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Backup file (default: the newest backup of the database).
    #[arg(long, value_name = "FILE")]
    pub backup: Option<PathBuf>,
    #[arg(long, value_name = "TEXT", help = OPTIONAL_REASON_HELP)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(RestoreArgs => config, db, output, log);

#[derive(Clone, Debug, Default, Args)]
pub struct BackupsArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(BackupsArgs => config, db, output, log);

#[derive(Clone, Debug, Args)]
pub struct MarkAppliedArgs {
    /// Version of the migration file to record (e.g. 043); an unverified row of that
    /// version (`manual`, empty or NULL checksum) gets the file's real checksum.
    pub version: String,
    /// Why (required; recorded in the audit table).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(MarkAppliedArgs => project, db, output, log);

#[derive(Clone, Debug, Args)]
pub struct ForgetArgs {
    /// Version whose history row to remove (the migration becomes pending again).
    pub version: String,
    /// Why (required; recorded in the audit table with the removed row).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(ForgetArgs => config, db, output, log);

#[derive(Clone, Debug, Args)]
#[command(group = clap::ArgGroup::new("outcome").required(true).args(["applied", "rolled_back"]))]
pub struct ResolveArgs {
    /// Version whose marker to clear (the failed `-- schemagate:no-transaction` migration).
    pub version: String,
    /// You finished what the migration started by hand: record it as applied.
    #[arg(long)]
    pub applied: bool,
    /// You undid what the migration did: it is pending again and runs at the next migrate.
    #[arg(long)]
    pub rolled_back: bool,
    /// What you checked and did (required; recorded in the audit table).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(ResolveArgs => project, db, output, log);

#[derive(Clone, Debug, Args)]
pub struct RekeyArgs {
    /// The version the history row is recorded under now.
    pub old: String,
    /// The version of the renumbered file (it must have the content recorded for OLD).
    pub new: String,
    #[arg(long, value_name = "TEXT", help = OPTIONAL_REASON_HELP)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}
feeds!(RekeyArgs => project, db, output, log);

#[derive(Clone, Debug, Default, Args)]
pub struct RenumberArgs {
    /// Rename the files (with `git mv` inside a git work tree); default: print the plan.
    #[arg(long)]
    pub write: bool,
    /// Never renumber files present at this git ref, and move new files numbered at or
    /// below its newest version above it.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Database whose applied files keep their numbers (must exist).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Environment from schemagate.toml whose applied files keep their numbers.
    #[arg(long, value_name = "NAME", env = "SCHEMAGATE_ENV")]
    pub env: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

impl Feed for RenumberArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        self.project.feed(g);
        DbArgs {
            db: self.db.clone(),
            env: self.env.clone(),
        }
        .feed(g);
        self.output.feed(g);
        self.log.feed(g);
    }
}

#[derive(Clone, Debug, Default, Args)]
pub struct InitArgs {
    /// Migrations folder to write into the file (default: found by searching the
    /// working directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// File to write (default: schemagate.toml in the working directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub log: LogArgs,
}

impl Feed for InitArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.dir.clone_from(&self.dir);
        g.config.clone_from(&self.config);
        self.log.feed(g);
    }
}

#[derive(Clone, Debug, Default, Args)]
pub struct RuleArgs {
    /// Rule id (e.g. duplicate-version): print its documentation.
    #[arg(value_name = "RULE")]
    pub name: Option<String>,
    /// Print every rule's documentation.
    #[arg(long, conflicts_with = "name")]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<TextOrJson>,
}

#[derive(Clone, Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Clone, Debug, Default, Args)]
pub struct ManArgs {
    /// Write schemagate.1 and one schemagate-COMMAND.1 per command into DIR instead of
    /// printing schemagate.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Entry point used by `main`: parse, run, turn the result into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 for usage errors and 0 for --help/--version, as we want.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            anstream::eprintln!(
                "{}: {e:#}",
                crate::report::text::severity_label(
                    &crate::report::text::Style { color: true },
                    crate::report::Severity::Error
                )
            );
            ExitCode::from(2)
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    use crate::commands;
    // These work anywhere, even with a broken config file.
    match &cli.command {
        Command::Rule(a) => return commands::rule::run(a),
        Command::Init(a) => return commands::init::run(a, &cli.command.settings()),
        Command::Completions(a) => return commands::docs::completions(a),
        Command::Man(a) => return commands::docs::man(a),
        _ => {}
    }
    let ctx = Context::resolve(&cli.command.settings())?;
    // Suggested commands in an error act on the same project and database when pasted.
    run_command(&ctx, cli.command)
        .map_err(|e| anyhow::anyhow!("{}", ctx.selection.complete(&format!("{e:#}"))))
}

fn run_command(ctx: &Context, command: Command) -> anyhow::Result<Outcome> {
    use crate::commands;
    match command {
        Command::Lint(a) => commands::lint::run(ctx, &a),
        Command::DryRun(a) => commands::dry_run::run(ctx, &a),
        Command::Check(a) => commands::check::run(ctx, &a),
        Command::Migrate(a) => commands::migrate::run(ctx, &a),
        Command::Status(a) => commands::status::run(ctx, &a),
        Command::Pending(_) => commands::pending::run(ctx),
        Command::Verify(_) => commands::verify::run(ctx),
        Command::Generate(a) => commands::generate::run(ctx, &a),
        Command::Rollback(a) => commands::rollback::run(ctx, &a),
        Command::Restore(a) => commands::restore::run(ctx, &a),
        Command::Backups(_) => commands::backups::run(ctx),
        Command::MarkApplied(a) => commands::repair::mark_applied(ctx, &a),
        Command::Forget(a) => commands::repair::forget(ctx, &a),
        Command::Rekey(a) => commands::repair::rekey(ctx, &a),
        Command::Resolve(a) => commands::repair::resolve(ctx, &a),
        Command::Renumber(a) => commands::renumber::run(ctx, &a),
        Command::Rule(_) | Command::Init(_) | Command::Completions(_) | Command::Man(_) => {
            unreachable!("handled above")
        }
    }
}

/// Seconds for a timeout flag: SQLite's busy timeout is an `int` of milliseconds, so more
/// than this would overflow it (and a panic or a wrapped value is no answer).
pub(crate) fn seconds() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(0..=crate::config::defaults::MAX_TIMEOUT_SECS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn long_names(cmd: &clap::Command) -> Vec<&str> {
        cmd.get_arguments().filter_map(|a| a.get_long()).collect()
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_option_and_argument_has_help_text() {
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                assert!(
                    arg.get_help().is_some(),
                    "`schemagate {} --help`: {id} has no help text",
                    sub.get_name()
                );
            }
        }
    }

    #[test]
    fn commands_list_only_the_options_they_use() {
        let cli = Cli::command();
        let sub = |name: &str| cli.find_subcommand(name).unwrap();
        for name in ["rule", "completions", "man", "init", "generate"] {
            let longs = long_names(sub(name));
            for absent in ["db", "env", "python", "fail-on"] {
                assert!(!longs.contains(&absent), "{name} lists --{absent}");
            }
        }
        for name in ["restore", "backups", "forget"] {
            assert!(
                !long_names(sub(name)).contains(&"dir"),
                "{name} lists --dir"
            );
        }
        // SARIF and annotations describe findings in files: only these four offer them.
        for s in cli.get_subcommands() {
            let Some(format) = s.get_arguments().find(|a| a.get_id() == "format") else {
                continue;
            };
            let values: Vec<String> = format
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            let reports = matches!(s.get_name(), "lint" | "check" | "dry-run" | "verify");
            assert_eq!(
                values.contains(&"sarif".to_string()),
                reports,
                "{}: {values:?}",
                s.get_name()
            );
        }
    }

    #[test]
    fn flags_reach_the_context_settings() {
        let cli = Cli::try_parse_from([
            "schemagate",
            "check",
            "--db",
            "a.db",
            "--dir",
            "m",
            "--format",
            "json",
            "--fail-on",
            "warning",
            "--python",
            "py",
            "-q",
        ])
        .unwrap();
        let g = cli.command.settings();
        assert_eq!(g.db, vec![PathBuf::from("a.db")]);
        assert_eq!(g.dir, Some(PathBuf::from("m")));
        assert_eq!(g.format, Some(Format::Json));
        assert_eq!(g.fail_on, Some(crate::report::FailOn::Warning));
        assert_eq!(g.python.as_deref(), Some("py"));
        assert!(g.quiet);
        let cli = Cli::try_parse_from([
            "schemagate",
            "status",
            "--db",
            "a.db",
            "--db",
            "b.db",
            "--format",
            "json",
        ])
        .unwrap();
        let g = cli.command.settings();
        assert_eq!(g.db.len(), 2);
        assert_eq!(g.format, Some(Format::Json));
    }
}
