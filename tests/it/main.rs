//! The integration tests, in one binary (the way ripgrep keeps them): there were fourteen,
//! and each linked the whole crate graph (octocrab, tokio, wiremock) again.
//!
//! Every test starts from a fresh temp dir ([`common::Project`], or a `tempfile::tempdir()`
//! with [`common::schemagate`]) and runs the real binary on real SQLite files, with real
//! `python3` and real `git`. A test that pins a bug that once happened says what happened
//! in its doc comment.
//!
//! One module a topic, with submodules where a topic holds more than one idea;
//! `cargo test --test it faults::` runs one of them.

mod common;

mod action;
mod bad_input_table;
mod base;
mod check;
mod cli_docs;
mod dry_run;
mod edges;
mod faults;
mod generate_init;
mod github;
mod hints;
mod init_roundtrip;
mod keep_going;
mod layouts;
mod lint;
mod migrate;
mod missing;
mod native_history;
mod noop;
mod ops;
mod persistent_runner;
mod pr_mode;
mod pre_commit;
mod progress;
mod properties;
mod python_runner;
mod real_folders;
mod report_schema;
mod repository;
mod rule_precision;
mod status;
mod tool_tables;
mod verify;
mod wheel;
