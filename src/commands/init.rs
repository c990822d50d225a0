//! `schemagate init`: writes schemagate.toml for an existing project by finding the
//! migrations folder and the databases that already hold a `schema_versions` table.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::cli::{GlobalArgs, InitArgs, Outcome};
use crate::config::{Config, Environment, FILE_NAME};

/// Folders never searched: they are large, generated, or hold copies of databases
/// (backups must not become environments).
const SKIP: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    "venv",
    ".venv",
    "__pycache__",
    "backups",
    ".tox",
    "dist",
    "build",
];
const MAX_DEPTH: usize = 4;

pub fn run(args: &InitArgs, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let root = std::env::current_dir().context("cannot read the working directory")?;
    let target = global
        .config
        .clone()
        .unwrap_or_else(|| root.join(FILE_NAME));
    if target.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            target.display()
        );
    }
    let dir = match &global.dir {
        Some(d) => d.clone(),
        None => find_migrations_dir(&root).ok_or_else(|| {
            anyhow::anyhow!(
                "no migrations folder found under {} (pass --dir DIR)",
                root.display()
            )
        })?,
    };
    let mut config = Config::default();
    config.migrations.dir = dir.clone();
    let mut databases = Vec::new();
    walk(&root, 0, &mut |path| {
        if is_database_name(path) && has_schema_versions(path) {
            databases.push(path.strip_prefix(&root).unwrap_or(path).to_path_buf());
        }
    });
    databases.sort();
    for db in databases {
        let name = unique(&config, env_name(&db));
        config.environments.insert(
            name,
            Environment {
                database: db,
                backup_dir: None,
                keep_backups: Some(20),
            },
        );
    }
    let text = render(&config);
    crate::fsio::write_atomic(&target, text.as_bytes())?;
    if !global.quiet {
        anstream::eprintln!(
            "wrote {} (migrations: {}, environments: {})",
            target.display(),
            dir.display(),
            if config.environments.is_empty() {
                "none found".to_string()
            } else {
                config
                    .environments
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    Ok(Outcome::Clean)
}

fn walk(dir: &Path, depth: usize, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            let name = e.file_name();
            if depth < MAX_DEPTH && !SKIP.iter().any(|s| name == *s) {
                walk(&path, depth + 1, f);
            }
        } else if ft.is_file() {
            f(&path);
        }
    }
}

/// A folder named `migrations` holding migration files, else any folder holding them.
fn find_migrations_dir(root: &Path) -> Option<PathBuf> {
    let holds_migrations = |d: &Path| {
        std::fs::read_dir(d).ok().is_some_and(|rd| {
            rd.flatten().any(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| crate::migration::parse_file_name(n).is_some())
            })
        })
    };
    let mut candidates = Vec::new();
    walk_dirs(root, 0, &mut |d| {
        if holds_migrations(d) {
            candidates.push(d.to_path_buf());
        }
    });
    candidates.sort_by_key(|d| {
        (
            d.file_name().is_none_or(|n| n != "migrations"),
            d.components().count(),
        )
    });
    candidates
        .into_iter()
        .next()
        .map(|d| d.strip_prefix(root).map(Path::to_path_buf).unwrap_or(d))
}

fn walk_dirs(dir: &Path, depth: usize, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) && !SKIP.iter().any(|s| e.file_name() == *s) {
            f(&e.path());
            if depth < MAX_DEPTH {
                walk_dirs(&e.path(), depth + 1, f);
            }
        }
    }
}

fn is_database_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("db" | "sqlite" | "sqlite3")
    )
}

/// Opened read-only: `init` must not create journals or touch a live database.
fn has_schema_versions(path: &Path) -> bool {
    matches!(crate::db::open_read_only(path), Ok(Some(conn)) if crate::db::table_exists(&conn, "schema_versions").unwrap_or(false))
}

/// `data/prod/architect.db` -> prod; `data/architect.db` -> dev (the legacy layout).
fn env_name(db: &Path) -> String {
    let parent = db
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let known = ["prod", "production", "qa", "staging", "test", "dev"];
    if let Some(k) = known.iter().find(|k| parent.eq_ignore_ascii_case(k)) {
        return (*k).to_string();
    }
    "dev".to_string()
}

fn unique(config: &Config, name: String) -> String {
    if !config.environments.contains_key(&name) {
        return name;
    }
    (2..)
        .map(|i| format!("{name}{i}"))
        .find(|n| !config.environments.contains_key(n))
        .expect("some suffix is free")
}

/// The examples under the settings `init` wrote: every line that starts with `# ` followed
/// by a table header or a `key = value` is valid TOML once the `# ` is removed, and none
/// of these tables is written above, so uncommenting any of them (or pasting the
/// `[[accept-checksum]]` block a drift message prints) never makes a duplicate key.
const EXAMPLES: &str = r##"
# Examples: remove the "# " in front of a table and its keys to use them.

# Lint settings:
# [lint]
# target_sqlite = "3.31"        # oldest SQLite library the application reads the database with
# slow_migration_ms = 5000      # dry-run steps slower than this get slow-migration

# Defaults of migrate and the repairs (flags override them):
# [apply]
# python = "python3"
# lock_timeout = 60             # seconds a second migrator waits for the lock
# busy_timeout = 10             # seconds a statement waits for the application's write lock
# migration_timeout = 600       # seconds before a migration is killed and rolled back

# Severity per rule: error | warning | info | off (list the rules with `schemagate rule`):
# [rules]
# destructive-change = "error"

# A reviewed exception to checksum-drift (a drift message prints the entry to paste here):
# [[accept-checksum]]
# version = "004"
# old = "<checksum recorded in the database>"
# new = "<checksum of the file now>"
# reason = "typo fixed in a comment, PR #123"
"##;

/// The migrations folder and the environments found, then [`EXAMPLES`]. Tables that would
/// be empty (`[rules]`, `[lint]`, `[apply]`, `accept-checksum = []`) are left out: written
/// empty, they would collide with the examples and with a pasted `[[accept-checksum]]`.
fn render(config: &Config) -> String {
    let mut out = String::from(
        "# schemagate configuration. Every setting has a default; unknown keys are errors.\n\n",
    );
    let mut table = toml::Table::try_from(config).unwrap_or_default();
    table.retain(|_, v| match v {
        toml::Value::Table(t) => !t.is_empty() && !is_all_default(t),
        toml::Value::Array(a) => !a.is_empty(),
        _ => true,
    });
    // The folder first, then the environments (a Table sorts its keys).
    let order = |k: &str| match k {
        "migrations" => 0,
        "environments" => 1,
        _ => 2,
    };
    let mut keys: Vec<String> = table.keys().cloned().collect();
    keys.sort_by_key(|k| order(k));
    for (i, key) in keys.into_iter().enumerate() {
        let mut one = toml::Table::new();
        if let Some(v) = table.remove(&key) {
            one.insert(key, v);
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&toml::to_string_pretty(&one).unwrap_or_default());
    }
    out.push_str(EXAMPLES);
    out
}

/// `[lint]` and `[apply]` of a default config serialise to nothing but absent keys.
fn is_all_default(t: &toml::Table) -> bool {
    t.values()
        .all(|v| matches!(v, toml::Value::Table(inner) if inner.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_follow_the_legacy_layout() {
        assert_eq!(env_name(Path::new("data/prod/architect.db")), "prod");
        assert_eq!(env_name(Path::new("data/architect.db")), "dev");
        assert_eq!(env_name(Path::new("db/qa/app.sqlite")), "qa");
    }

    #[test]
    fn rendered_config_parses_back() {
        let mut c = Config::default();
        c.environments.insert(
            "prod".into(),
            Environment {
                database: "data/prod/architect.db".into(),
                backup_dir: None,
                keep_backups: Some(20),
            },
        );
        let text = render(&c);
        assert_eq!(Config::parse(&text, "t").unwrap(), c);
    }

    /// Every example uncommented, then the block a drift message prints pasted at the end:
    /// still a valid config (once `accept-checksum = []` and an empty `[rules]` made both
    /// a duplicate-key error).
    #[test]
    fn examples_stay_valid_when_uncommented_and_a_drift_entry_is_pasted() {
        let mut c = Config::default();
        c.environments.insert(
            "dev".into(),
            Environment {
                database: "data/architect.db".into(),
                backup_dir: None,
                keep_backups: Some(20),
            },
        );
        let text = render(&c);
        let uncommented = uncomment_examples(&text);
        assert!(uncommented.contains("\n[rules]\n"), "{uncommented}");
        let pasted = format!(
            "{uncommented}\n[[accept-checksum]]\nversion = \"001\"\nold = \"a\"\nnew = \"b\"\nreason = \"...\"\n"
        );
        let parsed = Config::parse(&pasted, "t").unwrap_or_else(|e| panic!("{e:#}\n{pasted}"));
        assert_eq!(parsed.accept_checksum.len(), 2);
        assert_eq!(parsed.apply.lock_timeout, Some(60));
        assert_eq!(parsed.lint.target_sqlite.as_deref(), Some("3.31"));
        assert_eq!(parsed.environments, c.environments);
    }

    /// Removes `# ` in front of table headers and `key = value` lines.
    pub(crate) fn uncomment_examples(text: &str) -> String {
        text.lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.split_once(" = ").is_some_and(|(k, _)| {
                            k.trim()
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                        }) =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
