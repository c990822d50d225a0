//! The integration tests, in one binary: each module was a test binary of its own, and
//! each of those linked the whole crate graph (octocrab and tokio included) again.
//!
//! Every test runs the real binary, real SQLite files in a fresh temp dir
//! ([`common::Project`] or a `tempfile::tempdir()`), real `python3` and real `git`.
//! A test that pins a bug that once happened says so in its doc comment.
//!
//! One module a topic; `cargo test --test it <module>::` runs one of them.

mod common;

mod action;
mod base;
mod check;
mod dry_run;
mod faults;
mod generate_init;
mod github;
mod lint;
mod migrate;
mod ops;
mod python_runner;
mod report_schema;
mod status;
mod verify;
