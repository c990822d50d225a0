//! Runs Python in one child interpreter per run (shell): the migration runner ([`runner`],
//! the shell side of `.py` migrations) and the AST scan that `lint` reads Python migrations
//! with ([`scan`]), both requests to the same persistent runner process, watched by the
//! child-process [`supervisor`].

pub mod runner;
pub mod scan;
pub mod supervisor;

pub use runner::{
    Direction, Error, Job, RecordStatement, RunOutput, check_available, env_for, run, validate,
};
