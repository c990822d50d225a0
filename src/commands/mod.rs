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
