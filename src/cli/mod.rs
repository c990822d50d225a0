//! The command line: clap definitions, resolution of raw flags into one validated
//! [`Context`], and the exit-code policy. Subcommands live in `crate::commands`, one file each.

pub mod context;
pub mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use context::{Context, Target};

use crate::report::FailOn;
pub use crate::report::Format;

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
    about = "Guards SQLite schema migrations in CI and at deploy time."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Debug, Default, Args)]
pub struct GlobalArgs {
    /// Migrations folder (default: `[migrations] dir` from schemagate.toml, else `migrations`).
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Database file (repeatable for `status`).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Vec<PathBuf>,
    /// Environment from schemagate.toml whose database to use (repeatable for `status`).
    #[arg(
        long = "env",
        global = true,
        value_name = "NAME",
        env = "SCHEMAGATE_ENV",
        value_delimiter = ','
    )]
    pub envs: Vec<String>,
    /// Config file (default: schemagate.toml found by walking up from the working directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Write machine output (json, sarif) to FILE instead of stdout.
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Less output (logs and progress off).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// More output (repeat for more).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, global = true, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Python interpreter for `.py` migrations.
    #[arg(long, global = true, env = "SCHEMAGATE_PYTHON", value_name = "PATH")]
    pub python: Option<String>,
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
    Pending,
    /// Compare the real schema with a replay of the recorded migrations.
    Verify,
    /// Write a new migration with the next free version.
    Generate(GenerateArgs),
    /// Run `downgrade(conn)` of applied Python migrations, newest first.
    Rollback(RollbackArgs),
    /// Put a backup back in place (after backing up the current state).
    Restore(RestoreArgs),
    /// List the backups of a database.
    Backups,
    /// Record a migration as applied without running it (with the file's real checksum).
    MarkApplied(RepairArgs),
    /// Remove a history row.
    Forget(RepairArgs),
    /// Move a history row from OLD to NEW after a renumbering (content must match).
    Rekey(RekeyArgs),
    /// Resolve duplicate versions by moving later duplicates to free numbers.
    Renumber(RenumberArgs),
    /// Write schemagate.toml for an existing project.
    Init(InitArgs),
    /// Print a rule's documentation (all rules without NAME).
    Rule(RuleArgs),
}

#[derive(Clone, Debug, Default, Args)]
pub struct LintArgs {
    /// Also compare with the migrations folder at this git ref (default in GitHub Actions:
    /// the pull request's base branch).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct DryRunArgs {
    /// Keep the scratch database and print its path.
    #[arg(long)]
    pub keep_scratch: bool,
}

#[derive(Clone, Debug, Default, Args)]
pub struct CheckArgs {
    /// Also compare with the migrations folder at this git ref (default in GitHub Actions:
    /// the pull request's base branch).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
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
}

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
    /// Seconds to wait for another migrator's lock.
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
    /// Seconds each statement waits while the application holds the write lock.
    #[arg(long, value_name = "SECONDS")]
    pub busy_timeout: Option<u64>,
    /// Seconds one migration may run before it is killed and rolled back.
    #[arg(long, value_name = "SECONDS")]
    pub migration_timeout: Option<u64>,
    /// Do not back up before applying.
    #[arg(long)]
    pub no_backup: bool,
    /// Apply despite these findings (repeatable): drift, duplicates, renamed-applied.
    #[arg(long, value_enum, value_name = "CHECK")]
    pub allow: Vec<Allow>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct StatusArgs {
    /// Every environment in schemagate.toml.
    #[arg(long)]
    pub all_envs: bool,
    /// Also list the audit trail of repairs, restores and rollbacks.
    #[arg(long)]
    pub audit: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum)]
pub enum MigrationType {
    #[default]
    Sql,
    Python,
}

#[derive(Clone, Debug, Args)]
pub struct GenerateArgs {
    /// Descriptive name, e.g. `add_user_email` (lower case, digits and underscores).
    pub name: String,
    #[arg(long = "type", value_enum, default_value_t)]
    pub kind: MigrationType,
    /// Also stay above the newest version on this git ref.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct RollbackArgs {
    /// Roll back every migration above VERSION.
    #[arg(long, value_name = "VERSION", conflicts_with = "steps")]
    pub to: Option<String>,
    /// Roll back the newest N migrations (default 1).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct RestoreArgs {
    /// Backup file (default: the newest backup of the database).
    #[arg(long, value_name = "FILE")]
    pub backup: Option<PathBuf>,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
}

#[derive(Clone, Debug, Args)]
pub struct RepairArgs {
    pub version: String,
    /// Why (recorded in the audit table).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
}

#[derive(Clone, Debug, Args)]
pub struct RekeyArgs {
    pub old: String,
    pub new: String,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct RenumberArgs {
    /// Rename the files (with `git mv` inside a git work tree); default: print the plan.
    #[arg(long)]
    pub write: bool,
    /// Never renumber files present at this git ref.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

#[derive(Clone, Debug, Default, Args)]
pub struct InitArgs {
    /// Overwrite an existing schemagate.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Debug, Default, Args)]
pub struct RuleArgs {
    pub name: Option<String>,
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
    // `rule` and `init` work anywhere, even with a broken config file.
    match &cli.command {
        Command::Rule(a) => return commands::rule::run(a, &cli.global),
        Command::Init(a) => return commands::init::run(a, &cli.global),
        _ => {}
    }
    let ctx = Context::resolve(&cli.global)?;
    // SARIF and annotations describe findings in files; the other commands report state, so
    // asking them for it is a mistake to point out rather than silently print text.
    let reports_findings = matches!(
        cli.command,
        Command::Lint(_) | Command::DryRun(_) | Command::Check(_) | Command::Verify
    );
    if matches!(ctx.format, Format::Sarif | Format::Github) && !reports_findings {
        anyhow::bail!(
            "--format {} is available for lint, check, dry-run and verify; use --format json or text here",
            if ctx.format == Format::Sarif {
                "sarif"
            } else {
                "github"
            }
        );
    }
    match cli.command {
        Command::Lint(a) => commands::lint::run(&ctx, &a),
        Command::DryRun(a) => commands::dry_run::run(&ctx, &a),
        Command::Check(a) => commands::check::run(&ctx, &a),
        Command::Migrate(a) => commands::migrate::run(&ctx, &a),
        Command::Status(a) => commands::status::run(&ctx, &a),
        Command::Pending => commands::pending::run(&ctx),
        Command::Verify => commands::verify::run(&ctx),
        Command::Generate(a) => commands::generate::run(&ctx, &a),
        Command::Rollback(a) => commands::rollback::run(&ctx, &a),
        Command::Restore(a) => commands::restore::run(&ctx, &a),
        Command::Backups => commands::backups::run(&ctx),
        Command::MarkApplied(a) => commands::repair::mark_applied(&ctx, &a),
        Command::Forget(a) => commands::repair::forget(&ctx, &a),
        Command::Rekey(a) => commands::repair::rekey(&ctx, &a),
        Command::Renumber(a) => commands::renumber::run(&ctx, &a),
        Command::Rule(_) | Command::Init(_) => unreachable!("handled above"),
    }
}
