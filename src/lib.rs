//! schemagate: guards SQLite schema migrations in CI and at deploy time.
//!
//! Three layers; each imports only from the ones below it (`layers.rs` tests the core).
//!
//! **Core** (pure: no file, database, process or network access):
//! - [`layout`]: which tool's folder conventions apply; [`name`]: versions, kinds, what a
//!   file name says; [`migration`]: migrations and discovery over `(file name, bytes)`;
//!   [`checksum`]: legacy MD5, SHA-256, skeletons.
//! - [`sql`]: splitting, tokens, statement kinds; [`schema`]: the normalised schema model,
//!   its diff and comparison.
//! - [`plan`]: files against history rows, the one plan every command reads.
//! - [`config`]: the `schemagate.toml` model and every default ([`config::defaults`],
//!   [`config::Timeouts`]).
//! - [`lint`]: the rules (one per file) and the engine; [`base`]: the base-branch
//!   comparison; [`renumber`] and [`generate`]: plans for renaming and new files.
//! - [`baseline`]: pull-request mode, which findings already exist on the merge base;
//!   [`cascade`]: which failures of a replay follow from an earlier failed step.
//! - [`report`]: the report model and its renderers (text, json, sarif, github, comment).
//!
//! **Shell** (I/O): [`fsio`] (folder, config file, atomic writes), [`folder_cache`]
//! (`migrate`'s cache of the migrations folder: stamps instead of reads), the database ([`db`]
//! opening, [`introspect`], [`history`] tables and the one read-only history reader,
//! [`audit`], [`lock`], [`backup`]), applying ([`apply`]: [`apply::step`] one migration,
//! [`apply::run`] the whole `migrate` run), [`ops`] (the other operations that change a
//! database: repairs, restore, rollback, each in a locked [`ops::Session`] with a typed
//! result and progress events), [`dryrun`] (the dry run, in a [`scratch`] folder: private,
//! removed on signals and after a killed run), [`reversible`] (`check`'s up→down→up check
//! of down SQL), child interpreters
//! ([`pyrunner`]: Python migrations, and the AST scan whose results [`lint`] reads), [`git`]
//! and [`github`]. [`analysis`] is the pipeline of `lint` and `check` (lint, history, replay,
//! dry run), run on the working tree and, in pull-request mode, on the merge base. [`api`]
//! is the one-call API for Rust applications ([`auto_migrate`]).
//!
//! **CLI**: [`cli`] resolves flags into one validated context; [`commands`] has one thin
//! file per subcommand that parses, calls the library and renders.

pub mod analysis;
pub mod api;
pub mod apply;
pub mod audit;
pub mod backup;
pub mod base;
pub mod baseline;
pub mod cascade;
pub mod checksum;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod dryrun;
pub mod folder_cache;
pub mod fsio;
pub mod generate;
pub mod git;
pub mod github;
pub mod history;
pub mod introspect;
#[cfg(test)]
mod layers;
pub mod layout;
pub mod lint;
pub mod lock;
pub mod migration;
pub mod name;
pub mod ops;
pub mod plan;
pub mod pyrunner;
pub mod renumber;
pub mod report;
pub mod reversible;
pub mod schema;
pub mod scratch;
pub mod sql;
pub use api::{MigrateResult, MigrateStatus, auto_migrate};
