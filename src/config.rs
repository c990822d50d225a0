//! `schemagate.toml` (pure): the model and `Config::parse`; finding and reading the file is
//! the shell's (`crate::fsio::discover_config`).
//!
//! Every key has a default so `lint` and `check` need no file. Unknown keys are errors:
//! a misspelt `keep_bakups` silently ignored would keep every backup forever.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::report::Severity;

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
}

impl Default for MigrationsConfig {
    fn default() -> Self {
        MigrationsConfig {
            dir: default_dir(),
            version_step: default_step(),
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
    /// Steps slower than this (milliseconds) get `slow-migration`.
    pub slow_migration_ms: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyConfig {
    /// Python interpreter for `.py` migrations (default `python3`).
    pub python: Option<String>,
    /// Seconds a second migrator waits for the lock.
    pub lock_timeout: Option<u64>,
    /// Seconds each statement waits for a busy database.
    pub busy_timeout: Option<u64>,
    /// Seconds one migration may run before it is killed and rolled back.
    pub migration_timeout: Option<u64>,
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
}
