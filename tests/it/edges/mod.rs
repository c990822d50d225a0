//! Issue 12, "trust at the edges": one regression test (at least) per item, named after
//! the bug it pins. The table of bad inputs is `crate::bad_input_table`.

mod backups;
mod generate;
mod github_timeout;
mod lock;
mod messages;
mod numbers;
mod output;
pub mod read_only;
mod resolve;
mod scratch;

use crate::common::output;

/// A panic is exit 101 and "panicked at" on stderr: never acceptable.
pub fn no_panic(out: &str) {
    assert!(!out.contains("panicked at"), "{out}");
}

/// The output of an assert, checked for panics.
pub fn checked(a: &assert_cmd::assert::Assert) -> String {
    let out = output(a);
    no_panic(&out);
    out
}
