//! `schemagate.toml` (pure): the model and `Config::parse`; finding and reading the file is
//! the shell's (`crate::fsio::discover_config`).
//!
//! Every key has a default so `lint` and `check` need no file. Unknown keys are errors:
//! a misspelt `keep_bakups` silently ignored would keep every backup forever.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::layout::LayoutSetting;
use crate::report::{Gate, Severity};

pub const FILE_NAME: &str = "schemagate.toml";

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub migrations: MigrationsConfig,
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
    /// Severity per rule id: `error`, `warning`, `info` or `off`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
    #[serde(default)]
    pub lint: LintConfig,
    #[serde(default)]
    pub apply: ApplyConfig,
    #[serde(default)]
    pub ci: CiConfig,
    /// Reviewed exceptions to checksum-drift: one old→new checksum for one version.
    #[serde(default, rename = "accept-checksum")]
    pub accept_checksum: Vec<AcceptedChecksum>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsConfig {
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
    /// Gap between generated versions (5 leaves room for hotfixes).
    #[serde(default = "default_step")]
    pub version_step: u32,
    /// Which tool's conventions the folder follows (`auto`: detected).
    #[serde(default)]
    pub layout: LayoutSetting,
}

impl Default for MigrationsConfig {
    fn default() -> Self {
        MigrationsConfig {
            dir: default_dir(),
            version_step: default_step(),
            layout: LayoutSetting::Auto,
        }
    }
}

fn default_dir() -> PathBuf {
    PathBuf::from("migrations")
}

fn default_step() -> u32 {
    1
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub database: PathBuf,
    /// Default: `<db dir>/backups`.
    pub backup_dir: Option<PathBuf>,
    /// How many backups of this database to keep (default: all).
    pub keep_backups: Option<usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    /// Oldest SQLite version the application reads the database with ("3.31" or "3.31.1");
    /// enables the `sqlite-version` rule.
    pub target_sqlite: Option<String>,
    /// Steps slower than this (milliseconds) get `slow-migration` (default
    /// [`defaults::SLOW_MIGRATION_MS`]).
    pub slow_migration_ms: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyConfig {
    /// Python interpreter for `.py` migrations (default [`defaults::PYTHON`]).
    pub python: Option<String>,
    /// Seconds a second migrator waits for the lock (default [`defaults::LOCK_TIMEOUT`]).
    pub lock_timeout: Option<u64>,
    /// Seconds each statement waits for a busy database (default
    /// [`defaults::BUSY_TIMEOUT`]).
    pub busy_timeout: Option<u64>,
    /// Seconds one migration may run before it is killed and rolled back (default: no
    /// limit; 0 means none too).
    pub migration_timeout: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CiConfig {
    /// In pull-request mode (a base is known), which findings decide the exit code:
    /// `introduced` (the default: only what the change brings in) or `all`. `--gate`
    /// overrides it.
    pub gate: Option<Gate>,
}

/// The default of every setting that has a flag or a key in `[apply]` / `[lint]`, in one
/// place: the CLI, the `ops` and `apply` modules and [`crate::auto_migrate`] all take them
/// from here (through [`Timeouts::resolve`] where a flag or the file can override them).
pub mod defaults {
    use std::time::Duration;

    /// How long a second migrator waits for the migrator lock (`--lock-timeout`,
    /// `[apply] lock_timeout`).
    pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

    /// How long a statement waits while another connection holds the database
    /// (`--busy-timeout`, `[apply] busy_timeout`), for every command that opens it.
    ///
    /// Decision: 10 s everywhere. `migrate` and the repairs always used 10 s; `dry-run`
    /// (and the read-only opens of `status`, `lint`) used 5 s and README's sample said 5.
    /// The longer of the two wins: an application's write transactions normally take
    /// milliseconds, 10 s rides out a slow batch job or a WAL checkpoint, and a deploy that
    /// cannot get in still fails soon enough to be retried. One number is easier to explain
    /// than a reader that gives up before the writer would.
    pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

    /// How long one migration may run before it is interrupted and rolled back
    /// (`--migration-timeout`, `[apply] migration_timeout`): no limit. 0 also means none.
    pub const MIGRATION_TIMEOUT: Option<Duration> = None;

    /// `slow-migration` reports dry-run steps slower than this (`[lint] slow_migration_ms`).
    pub const SLOW_MIGRATION_MS: u64 = 5000;

    /// The largest timeout in seconds, for every timeout flag and key: SQLite takes its
    /// busy timeout in milliseconds as a 32-bit number (2147483 s, about 24 days); larger
    /// values overflowed it (and the migration deadline) and panicked.
    pub const MAX_TIMEOUT_SECS: u64 = 2_147_483;

    /// Interpreter for `.py` migrations (`--python`, `SCHEMAGATE_PYTHON`, `[apply] python`).
    pub const PYTHON: &str = "python3";
}

/// The timeouts a command runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Wait for another migrator's lock.
    pub lock: Duration,
    /// Wait for another connection's write lock, per statement.
    pub busy: Duration,
    /// Interrupt (and roll back) a migration that runs longer; `None`: no limit.
    pub migration: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            lock: defaults::LOCK_TIMEOUT,
            busy: defaults::BUSY_TIMEOUT,
            migration: defaults::MIGRATION_TIMEOUT,
        }
    }
}

/// Timeout flags as given on the command line, in seconds (`None`: not given; not every
/// command has every flag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeoutFlags {
    pub lock: Option<u64>,
    pub busy: Option<u64>,
    pub migration: Option<u64>,
}

impl Timeouts {
    /// Each timeout from its flag, else `[apply]` in schemagate.toml, else [`defaults`].
    /// A migration timeout of 0 means no limit.
    pub fn resolve(flags: TimeoutFlags, apply: &ApplyConfig) -> Timeouts {
        // Flags and keys are checked against the limit where they are read; a library
        // caller's out-of-range number is capped rather than panicking later.
        let cap = |s: u64| s.min(defaults::MAX_TIMEOUT_SECS);
        let secs = |flag: Option<u64>, key: Option<u64>, default: Duration| {
            flag.or(key)
                .map_or(default, |s| Duration::from_secs(cap(s)))
        };
        Timeouts {
            lock: secs(flags.lock, apply.lock_timeout, defaults::LOCK_TIMEOUT),
            busy: secs(flags.busy, apply.busy_timeout, defaults::BUSY_TIMEOUT),
            migration: match flags.migration.or(apply.migration_timeout) {
                Some(0) => None,
                Some(s) => Some(Duration::from_secs(cap(s))),
                None => defaults::MIGRATION_TIMEOUT,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    Error,
    Warning,
    Info,
    Off,
}

impl RuleLevel {
    pub fn severity(self) -> Option<Severity> {
        match self {
            RuleLevel::Error => Some(Severity::Error),
            RuleLevel::Warning => Some(Severity::Warning),
            RuleLevel::Info => Some(Severity::Info),
            RuleLevel::Off => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedChecksum {
    pub version: String,
    /// The checksum stored in the database.
    pub old: String,
    /// The checksum of the file as it is now.
    pub new: String,
    pub reason: String,
}

impl Config {
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        if config.migrations.version_step == 0 {
            bail!("{origin}: migrations.version_step must be at least 1");
        }
        for (name, env) in &config.environments {
            if env.database.as_os_str().is_empty() {
                bail!("{origin}: environments.{name}.database is empty");
            }
        }
        let apply = &config.apply;
        for (key, value) in [
            ("lock_timeout", apply.lock_timeout),
            ("busy_timeout", apply.busy_timeout),
            ("migration_timeout", apply.migration_timeout),
        ] {
            if let Some(v) = value.filter(|v| *v > defaults::MAX_TIMEOUT_SECS) {
                bail!(
                    "{origin}: apply.{key} = {v} is too large: at most {} seconds (about 24 days)",
                    defaults::MAX_TIMEOUT_SECS
                );
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file() {
        let c = Config::parse("", "t").unwrap();
        assert_eq!(c.migrations.dir, PathBuf::from("migrations"));
        assert_eq!(c.migrations.version_step, 1);
        assert_eq!(c.migrations.layout, LayoutSetting::Auto);
        let c = Config::parse("[migrations]\nlayout = \"dbmate\"\n", "t").unwrap();
        assert_eq!(
            c.migrations.layout,
            LayoutSetting::Fixed(crate::layout::Layout::Dbmate)
        );
        let e = Config::parse("[migrations]\nlayout = \"liquibase\"\n", "t").unwrap_err();
        assert!(e.to_string().contains("unknown layout `liquibase`"), "{e}");
    }

    #[test]
    fn the_design_sketch_parses() {
        let c = Config::parse(
            r#"
[migrations]
dir = "migrations"
version_step = 5

[environments.dev]
database = "data/architect.db"

[environments.prod]
database = "data/prod/architect.db"
backup_dir = "data/prod/backups"
keep_backups = 20

[rules]
destructive-change = "error"

[lint]
target_sqlite = "3.31"

[[accept-checksum]]
version = "004"
old = "aaa"
new = "bbb"
reason = "comment typo fixed in PR #12"
"#,
            "t",
        )
        .unwrap();
        assert_eq!(c.environments["prod"].keep_backups, Some(20));
        assert_eq!(c.rules["destructive-change"], RuleLevel::Error);
        assert_eq!(c.accept_checksum[0].version, "004");
    }

    #[test]
    fn ci_gate() {
        assert_eq!(Config::parse("", "t").unwrap().ci.gate, None);
        let c = Config::parse("[ci]\ngate = \"all\"\n", "t").unwrap();
        assert_eq!(c.ci.gate, Some(Gate::All));
        let c = Config::parse("[ci]\ngate = \"introduced\"\n", "t").unwrap();
        assert_eq!(c.ci.gate, Some(Gate::Introduced));
        assert!(Config::parse("[ci]\ngate = \"new\"\n", "t").is_err());
    }

    #[test]
    fn timeouts_come_from_the_flag_then_the_file_then_the_defaults() {
        let apply = ApplyConfig {
            lock_timeout: Some(5),
            busy_timeout: Some(3),
            migration_timeout: Some(0),
            ..ApplyConfig::default()
        };
        let t = Timeouts::resolve(
            TimeoutFlags {
                lock: Some(7),
                ..TimeoutFlags::default()
            },
            &apply,
        );
        assert_eq!(t.lock, std::time::Duration::from_secs(7));
        assert_eq!(t.busy, std::time::Duration::from_secs(3));
        assert_eq!(t.migration, None, "0 is no limit");
        assert_eq!(
            Timeouts::resolve(TimeoutFlags::default(), &ApplyConfig::default()),
            Timeouts::default()
        );
    }

    #[test]
    fn typos_are_errors() {
        let e = Config::parse(
            "[environments.prod]\ndatabase='x'\nkeep_bakups=3\n",
            "schemagate.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("keep_bakups"), "{e}");
        let e = Config::parse("[migrations]\nversion_step = 0\n", "schemagate.toml").unwrap_err();
        assert!(e.to_string().contains("version_step"), "{e}");
    }

    /// Issue 12.9: `busy_timeout = 2147484` panicked in SQLite's millisecond conversion.
    #[test]
    fn timeouts_past_the_limit_are_errors_naming_the_key() {
        let e = Config::parse("[apply]\nbusy_timeout = 2147484\n", "schemagate.toml").unwrap_err();
        assert!(
            e.to_string()
                .contains("apply.busy_timeout = 2147484 is too large"),
            "{e}"
        );
        Config::parse("[apply]\nbusy_timeout = 2147483\n", "t").unwrap();
        let e = Config::parse("[apply]\nmigration_timeout = -1\n", "schemagate.toml").unwrap_err();
        assert!(e.to_string().contains("migration_timeout"), "{e}");
        let t = Timeouts::resolve(
            TimeoutFlags {
                migration: Some(u64::MAX),
                ..TimeoutFlags::default()
            },
            &ApplyConfig::default(),
        );
        assert_eq!(
            t.migration,
            Some(Duration::from_secs(defaults::MAX_TIMEOUT_SECS))
        );
    }
}
