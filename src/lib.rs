//! schemagate: guards SQLite schema migrations in CI and at deploy time.
//!
//! The pure core (no file, database or network access): [`migration`] (names, versions,
//! discovery), [`checksum`], [`sql`] (splitting and tokens), [`plan`], [`lint`] and
//! [`report`] (model and renderers). [`config`] is `schemagate.toml` (parsing is pure,
//! finding the file is not) and every default ([`config::defaults`], [`config::Timeouts`]).
//!
//! The shell does the I/O: the database ([`db`] opening, [`history`] tables and the one
//! read-only history reader, [`lock`], [`backup`], [`schema`]); [`apply`], the executor
//! ([`apply::step`]: one migration; [`apply::run`]: the whole `migrate` run); [`ops`], the
//! other operations that change a database (repairs, restore, rollback), each in a locked
//! [`ops::Session`] with a typed result; [`dryrun`] on scratch copies; [`audit`]; Python,
//! git and GitHub modules; [`fsio`].
//!
//! [`cli`] and [`commands`] are a thin layer on top: they parse arguments, call the library
//! and render. [`auto_migrate`] is the one-call API for Rust applications.

pub mod api;
pub mod apply;
pub mod audit;
pub mod backup;
pub mod base;
pub mod checksum;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod dryrun;
pub mod fsio;
pub mod generate;
pub mod git;
pub mod github;
pub mod history;
pub mod lint;
pub mod lock;
pub mod migration;
pub mod ops;
pub mod plan;
pub mod python;
pub mod renumber;
pub mod report;
pub mod schema;
pub mod sql;
pub use api::{MigrateResult, MigrateStatus, auto_migrate};
