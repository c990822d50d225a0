//! Raw flags resolved once into validated settings; the rest of the program never looks at
//! clap types or the config file again.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::{Format, GlobalArgs};
use crate::config::{Config, TimeoutFlags, Timeouts};
use crate::migration::Discovery;
use crate::report::FailOn;

/// A database the command works on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    /// As shown to the user.
    pub display: String,
    /// Environment name when chosen with `--env`.
    pub env: Option<String>,
    pub backup_dir: PathBuf,
    pub keep_backups: Option<usize>,
}

impl Target {
    /// The database as the library's operations take it.
    pub fn database(&self) -> crate::ops::Database<'_> {
        crate::ops::Database {
            path: &self.path,
            display: &self.display,
        }
    }

    fn new(
        path: PathBuf,
        env: Option<String>,
        backup_dir: Option<PathBuf>,
        keep_backups: Option<usize>,
    ) -> Target {
        let parent = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Target {
            display: path.display().to_string(),
            backup_dir: backup_dir.unwrap_or_else(|| parent.join("backups")),
            path,
            env,
            keep_backups,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Context {
    pub config: Config,
    /// Folder that holds schemagate.toml (paths in it are relative to it).
    pub config_root: Option<PathBuf>,
    pub migrations_dir: PathBuf,
    /// The migrations folder as shown in reports and used as prefix of file paths.
    pub dir_display: String,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub quiet: bool,
    pub verbose: u8,
    pub fail_on: FailOn,
    pub python: String,
    pub targets: Vec<Target>,
    /// Environment names given with --env (also passed to Python migrations as `ENV`).
    pub env_names: Vec<String>,
    /// The config file read, if any.
    pub config_path: Option<PathBuf>,
    /// The options that chose the project and database, for suggested commands.
    pub selection: super::suggest::Selection,
}

impl Context {
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Context> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let (config, config_root) = crate::fsio::discover_config(args.config.as_deref(), &cwd)?;
        let from_config = |p: &Path| -> PathBuf {
            match &config_root {
                Some(root) if p.is_relative() => display_relative(&root.join(p), &cwd),
                _ => p.to_path_buf(),
            }
        };
        let migrations_dir = match &args.dir {
            Some(d) => d.clone(),
            None => from_config(&config.migrations.dir),
        };
        let dir_display = migrations_dir.to_string_lossy().replace('\\', "/");

        let mut targets = Vec::new();
        for db in &args.db {
            targets.push(Target::new(db.clone(), None, None, None));
        }
        for name in &args.envs {
            let Some(env) = config.environments.get(name) else {
                let known: Vec<_> = config.environments.keys().map(String::as_str).collect();
                if config_root.is_none() {
                    bail!(
                        "environment `{name}` is not defined: no schemagate.toml found (run `schemagate init`, or pass --db FILE)"
                    );
                }
                bail!(
                    "environment `{name}` is not defined in schemagate.toml (known: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            };
            targets.push(Target::new(
                from_config(&env.database),
                Some(name.clone()),
                env.backup_dir.as_deref().map(from_config),
                env.keep_backups,
            ));
        }

        let config_path = args.config.clone().or_else(|| {
            config_root
                .as_ref()
                .map(|r| r.join(crate::config::FILE_NAME))
        });
        let ctx = Context {
            python: args
                .python
                .clone()
                .or_else(|| config.apply.python.clone())
                .unwrap_or_else(|| crate::config::defaults::PYTHON.to_string()),
            fail_on: args.fail_on.unwrap_or_default(),
            format: args.format.unwrap_or(Format::Text),
            output: args.output.clone(),
            quiet: args.quiet,
            verbose: args.verbose,
            env_names: args.envs.clone(),
            selection: super::suggest::Selection::of(args),
            config,
            config_root,
            migrations_dir,
            dir_display,
            targets,
            config_path,
        };
        if let Some(out) = &ctx.output {
            ctx.refuse_output_onto_input(out, "--output")?;
        }
        Ok(ctx)
    }

    /// Refuses to write `path` (given with `flag`) when it is a file the command reads: a
    /// database (and its journals and lock), a file in its backup folder, a migration, the
    /// config file. `-o app.db` used to replace the database with a JSON report. Compared
    /// by device and inode when the file exists (symlinks, hard links, `./x` and `x` are
    /// the same file), else by the canonical folder and the name.
    pub fn refuse_output_onto_input(&self, path: &Path, flag: &str) -> anyhow::Result<()> {
        let refuse = |what: String| -> anyhow::Result<()> {
            bail!(
                "refusing to write {flag} {}: it is {what}, which this command reads; choose another file (nothing was written)",
                path.display()
            )
        };
        for t in &self.targets {
            for suffix in ["", "-wal", "-shm", "-journal", ".migrate.lock"] {
                let mut p = t.path.as_os_str().to_owned();
                p.push(suffix);
                if same_file(path, Path::new(&p)) {
                    return refuse(if suffix.is_empty() {
                        format!("the database {}", t.display)
                    } else {
                        format!("a file of the database {} ({suffix})", t.display)
                    });
                }
            }
            if in_folder(path, &t.backup_dir) {
                return refuse(format!(
                    "in the backup folder {} of {}",
                    t.backup_dir.display(),
                    t.display
                ));
            }
        }
        if let Some(c) = &self.config_path
            && same_file(path, c)
        {
            return refuse(format!("the config file {}", c.display()));
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if in_folder(path, &self.migrations_dir)
            && name.is_some_and(|n| crate::migration::parse_file_name(&n).is_some())
        {
            return refuse(format!("a migration in {}", self.dir_display));
        }
        Ok(())
    }

    /// Every environment of the config file, as targets (for `status --all-envs`).
    pub fn all_env_targets(&self) -> Vec<Target> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let resolve = |p: &Path| match &self.config_root {
            Some(root) if p.is_relative() => display_relative(&root.join(p), &cwd),
            _ => p.to_path_buf(),
        };
        self.config
            .environments
            .iter()
            .map(|(name, env)| {
                Target::new(
                    resolve(&env.database),
                    Some(name.clone()),
                    env.backup_dir.as_deref().map(resolve),
                    env.keep_backups,
                )
            })
            .collect()
    }

    /// The command's timeouts: its flags, else `[apply]`, else the defaults.
    pub fn timeouts(&self, flags: TimeoutFlags) -> Timeouts {
        Timeouts::resolve(flags, &self.config.apply)
    }

    /// At most one database; `None` when neither --db nor --env was given.
    pub fn database(&self) -> anyhow::Result<Option<&Target>> {
        match self.targets.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => bail!("this command works on one database; pass a single --db or --env"),
        }
    }

    /// Exactly one database.
    pub fn require_database(&self) -> anyhow::Result<&Target> {
        self.database()?.ok_or_else(|| {
            anyhow::anyhow!("no database given: pass --db FILE or --env NAME (environments are defined in schemagate.toml)")
        })
    }

    /// Reads the migrations folder. A missing folder or an undecodable file is an error
    /// (exit 2): acting on a partial view of the folder is how migrations get skipped.
    pub fn read_migrations(&self) -> anyhow::Result<Discovery> {
        self.checked(crate::fsio::read_migrations_folder(
            &self.migrations_dir,
            &self.dir_display,
            self.config.migrations.layout,
        )?)
    }

    /// [`Context::read_migrations`] for `migrate`, through the folder cache
    /// ([`crate::folder_cache`]) when the cache has a place: the cached discovery when the
    /// folder is unchanged, else the full read to do (stored for the next run). `-v` says
    /// which it was.
    pub fn migrations_for_deploy(&self) -> anyhow::Result<crate::apply::FolderRead<'_>> {
        use crate::apply::FolderRead;
        use crate::folder_cache::{Found, Source};
        let Some(cache_dir) = crate::folder_cache::default_dir() else {
            self.debug(
                "migrations folder: no cache folder (neither XDG_CACHE_HOME nor HOME is set)",
            );
            return Ok(FolderRead::Later(Box::new(|| self.read_migrations())));
        };
        let found = crate::folder_cache::lookup_folder(
            &self.migrations_dir,
            &self.dir_display,
            self.config.migrations.layout,
            &cache_dir,
        )?;
        let said = |source: &Source| {
            if let Source::Disk { why, stored } = source {
                self.debug(format!(
                    "migrations folder: read in full ({why}){}",
                    if *stored {
                        "; cached for the next run"
                    } else {
                        ""
                    }
                ));
            }
        };
        match found {
            Found::Concluded { memo, rest, files } => {
                self.debug(format!(
                    "migrations folder: {files} files unchanged since the cache in {}, where `migrate` last found the database current with them",
                    cache_dir.display()
                ));
                Ok(FolderRead::Concluded(
                    memo,
                    Box::new(move || {
                        let (d, source) = rest.discovery()?;
                        said(&source);
                        Ok((self.checked(d)?, source == Source::Cache))
                    }),
                ))
            }
            Found::Cached(d, memo) => {
                self.debug(format!(
                    "migrations folder: {} files unchanged since the cache in {}",
                    d.migrations.len(),
                    cache_dir.display()
                ));
                Ok(FolderRead::Cached(self.checked(d)?, memo))
            }
            Found::Miss(miss) => Ok(FolderRead::Later(Box::new(move || {
                let (d, source) = miss.read()?;
                said(&source);
                self.checked(d)
            }))),
        }
    }

    /// A discovery without errors (they are the command's error), its layout said by `-v`.
    fn checked(&self, d: Discovery) -> anyhow::Result<Discovery> {
        if !d.errors.is_empty() {
            let all: Vec<String> = d.errors.iter().map(ToString::to_string).collect();
            bail!("{}", all.join("\n"));
        }
        if d.layout != crate::layout::Layout::Legacy {
            self.debug(format!("layout: {}, from {}", d.layout, d.evidence));
        }
        Ok(d)
    }

    /// Prints the command's main output to `--output` or stdout.
    pub fn emit(&self, text: &str) -> anyhow::Result<()> {
        match &self.output {
            Some(path) => crate::fsio::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write --output {}", path.display())),
            None => {
                let mut out = anstream::stdout().lock();
                out.write_all(text.as_bytes())
                    .context("cannot write to stdout")?;
                out.flush().context("cannot write to stdout")
            }
        }
    }

    /// Logs and progress on stderr (silenced by -q).
    pub fn log(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            anstream::eprintln!("{}", msg.as_ref());
        }
    }

    /// Extra detail on stderr with -v.
    pub fn debug(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 && !self.quiet {
            anstream::eprintln!("{}", msg.as_ref());
        }
    }

    pub fn text_style(&self) -> crate::report::text::Style {
        // anstream decides per stream whether escape codes survive (terminal, NO_COLOR).
        crate::report::text::Style { color: true }
    }
}

/// Whether two paths name the same file: by device and inode when both exist, else by
/// canonical folder and name.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (canonical_location(a), canonical_location(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The canonical folder of `p` joined with its name (the file itself may not exist).
fn canonical_location(p: &Path) -> Option<PathBuf> {
    let name = p.file_name()?;
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(parent.canonicalize().ok()?.join(name))
}

/// Whether `p` would be a file directly inside `folder`.
fn in_folder(p: &Path, folder: &Path) -> bool {
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), folder.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `root/rel` shown relative to the working directory when it lies beneath it, so messages
/// print `migrations/001_x.sql` rather than an absolute path.
fn display_relative(path: &Path, cwd: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    match abs.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        Ok(_) => PathBuf::from("."),
        Err(_) => normalise(&abs),
    }
}

/// Removes `.` and `..` components lexically (the path may not exist yet).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
