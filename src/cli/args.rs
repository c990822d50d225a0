//! The options, one small group per concern, flattened into the subcommands that use
//! them: `schemagate COMMAND --help` lists only what COMMAND reads, each with help text.
//!
//! Every group feeds the same [`GlobalArgs`], the plain input of [`super::Context::resolve`]
//! (the one place flags meet the config file). A new option that several commands share is
//! a field of a group here (or a new group with a [`Feed`] impl, flattened where used); an
//! option of one command is a field of that command's struct in `super`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::report::{FailOn, Format};

/// Every setting [`super::Context::resolve`] reads, whichever group the command's options
/// came from. Commands that lack an option leave its field at the default.
#[derive(Clone, Debug, Default)]
pub struct GlobalArgs {
    pub dir: Option<PathBuf>,
    pub db: Vec<PathBuf>,
    pub envs: Vec<String>,
    pub config: Option<PathBuf>,
    pub format: Option<Format>,
    pub output: Option<PathBuf>,
    pub quiet: bool,
    pub verbose: u8,
    pub fail_on: Option<FailOn>,
    pub python: Option<String>,
}

/// A group of options that contributes to [`GlobalArgs`].
pub trait Feed {
    fn feed(&self, g: &mut GlobalArgs);
}

/// `-q` / `-v`: how much goes to stderr.
#[derive(Clone, Debug, Default, Args)]
pub struct LogArgs {
    /// Less output: no progress or log lines on stderr (errors still print).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// More output: debug lines (repeatable; `check -v` also shows the replay's schema diffs).
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Feed for LogArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.quiet = self.quiet;
        g.verbose = self.verbose;
    }
}

/// `--config`: which schemagate.toml.
#[derive(Clone, Debug, Default, Args)]
pub struct ConfigArgs {
    /// Config file (default: schemagate.toml, found by walking up from the working
    /// directory; none is needed).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl Feed for ConfigArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.config.clone_from(&self.config);
    }
}

/// `--dir`: the migrations folder.
#[derive(Clone, Debug, Default, Args)]
pub struct DirArgs {
    /// Migrations folder (default: `[migrations] dir` from schemagate.toml, else
    /// `migrations`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl Feed for DirArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.dir.clone_from(&self.dir);
    }
}

/// `--config` and `--dir`: the project's settings and its migrations folder.
#[derive(Clone, Debug, Default, Args)]
pub struct ProjectArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub dir: DirArgs,
}

impl Feed for ProjectArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        self.config.feed(g);
        self.dir.feed(g);
    }
}

/// `--db` / `--env`: the one database a command works on.
#[derive(Clone, Debug, Default, Args)]
pub struct DbArgs {
    /// Database file (SQLite).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Environment from schemagate.toml whose database to use.
    #[arg(long, value_name = "NAME", env = "SCHEMAGATE_ENV")]
    pub env: Option<String>,
}

impl Feed for DbArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.db.extend(self.db.clone());
        g.envs.extend(self.env.clone());
    }
}

/// `--db` / `--env` / `--all-envs` of `status`: any number of databases.
#[derive(Clone, Debug, Default, Args)]
pub struct DatabasesArgs {
    /// Database file (repeatable).
    #[arg(long, value_name = "FILE")]
    pub db: Vec<PathBuf>,
    /// Environment from schemagate.toml (repeatable, or comma-separated).
    #[arg(
        long = "env",
        value_name = "NAME",
        env = "SCHEMAGATE_ENV",
        value_delimiter = ','
    )]
    pub envs: Vec<String>,
    /// Every environment in schemagate.toml.
    #[arg(long)]
    pub all_envs: bool,
}

impl Feed for DatabasesArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.db.extend(self.db.iter().cloned());
        g.envs.extend(self.envs.iter().cloned());
    }
}

/// `--format`, `-o` and `--fail-on` of the commands that report findings in files (lint,
/// check, dry-run, verify): these also speak SARIF and GitHub annotations.
#[derive(Clone, Debug, Default, Args)]
pub struct ReportArgs {
    /// Output format: text for people, json (report version 1, schema/report-v1.json),
    /// sarif (SARIF 2.1.0 for code scanning) or github (workflow annotations).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1 (default: error).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
}

impl Feed for ReportArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.format = self.format;
        g.output.clone_from(&self.output);
        g.fail_on = self.fail_on;
    }
}

/// The formats of commands that report state rather than findings in files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

impl From<TextOrJson> for Format {
    fn from(f: TextOrJson) -> Format {
        match f {
            TextOrJson::Text => Format::Text,
            TextOrJson::Json => Format::Json,
        }
    }
}

/// `--format text|json` and `-o` of the other commands.
#[derive(Clone, Debug, Default, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<TextOrJson>,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl Feed for OutputArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.format = self.format.map(Format::from);
        g.output.clone_from(&self.output);
    }
}

/// `--python`: the interpreter for `.py` migrations.
#[derive(Clone, Debug, Default, Args)]
pub struct PythonArgs {
    /// Python interpreter for `.py` migrations (default: `[apply] python`, else python3).
    #[arg(long, env = "SCHEMAGATE_PYTHON", value_name = "PATH")]
    pub python: Option<String>,
}

impl Feed for PythonArgs {
    fn feed(&self, g: &mut GlobalArgs) {
        g.python.clone_from(&self.python);
    }
}

/// `--lock-timeout` of every command that takes the migrator lock.
#[derive(Clone, Debug, Default, Args)]
pub struct LockArgs {
    /// Seconds to wait for another migrator's lock before giving up (default:
    /// `[apply] lock_timeout`, else 60).
    #[arg(long, value_name = "SECONDS", value_parser = super::seconds())]
    pub lock_timeout: Option<u64>,
}

/// Implements [`Feed`] for a command's argument struct by feeding the listed groups.
macro_rules! feeds {
    ($ty:ty => $($field:ident),* $(,)?) => {
        impl $crate::cli::args::Feed for $ty {
            fn feed(&self, g: &mut $crate::cli::args::GlobalArgs) {
                $( $crate::cli::args::Feed::feed(&self.$field, g); )*
            }
        }
    };
}
pub(crate) use feeds;
