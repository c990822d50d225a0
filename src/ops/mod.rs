//! The operations that change a database by hand (shell), owned by the library: the
//! repairs (`mark-applied`, `forget`, `rekey`), `restore` and `rollback`. (The deploy step,
//! `migrate`, is [`crate::apply::migrate`].) Each works in a [`Session`] (migrator lock +
//! write connection), takes typed inputs, writes its audit row together with its change,
//! returns a typed result and reports progress through an [`Event`] callback, the way
//! `migrate` does. `commands/*` parse the arguments and render the result, nothing else.

use std::path::Path;

use crate::migration::{Migration, Version};

pub mod repair;
pub mod restore;
pub mod rollback;
pub mod session;

pub use session::{Locked, Session};

/// The database an operation works on.
#[derive(Clone, Copy, Debug)]
pub struct Database<'a> {
    pub path: &'a Path,
    /// As shown to the user, in messages and results.
    pub display: &'a str,
}

/// Progress of an operation, for the caller's log.
#[derive(Debug)]
pub enum Event<'a> {
    /// The state before the change was backed up to this file.
    BackedUp(&'a Path),
    /// A downgrade ran; its history rows are gone.
    RolledBack(&'a Migration),
    /// Something tolerated along the way (e.g. a `conn.commit()` a downgrade called).
    Warning(&'a str),
}

/// A version typed by the user (`004`, `4`).
pub fn parse_version(s: &str) -> anyhow::Result<Version> {
    match Version::parse(s.trim()) {
        Some(v) => Ok(v),
        None => anyhow::bail!("`{s}` is not a migration version (expected digits, e.g. 004)"),
    }
}
