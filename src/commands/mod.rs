//! One file per subcommand; each is a thin layer over the library.

pub mod backups;
pub mod check;
pub mod dry_run;
pub mod generate;
pub mod init;
pub mod lint;
pub mod migrate;
pub mod pending;
pub mod renumber;
pub mod repair;
pub mod restore;
pub mod rollback;
pub mod rule;
pub mod status;
pub mod verify;

/// The error of a command that a later part of the project builds.
pub(crate) fn not_yet(name: &str) -> anyhow::Error {
    anyhow::anyhow!("`schemagate {name}` is not available in this build yet")
}
