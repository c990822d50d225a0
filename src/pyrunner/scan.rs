//! Reads every Python migration of a folder through the interpreter's own `ast`, in one
//! request to the run's Python runner (see `scan.py`, and [`super::runner`] for the
//! runner: `check` scans and then dry-runs on the same process), for `lint`. The rules stay
//! pure over the returned [`PythonAst`].

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use super::runner::{self, Error, Submitted};
use crate::lint::py_scan::{self, PythonAst};
use crate::migration::{Discovery, Kind};

const SCRIPT: &str = include_str!("scan.py");

/// Parsing takes milliseconds per file: only a wedged interpreter gets here, and lint then
/// goes on without the Python rules instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Serialize)]
struct Input<'a> {
    path: &'a str,
    text: &'a str,
}

/// An interpreter that is reading the folder's Python migrations.
pub struct Scan {
    python: String,
    state: State,
}

enum State {
    /// The folder has no Python migration.
    Nothing,
    Running(Box<Submitted>),
    /// Why the scan could not start.
    Failed(String),
}

/// Sends every `.py` migration of `d` to a runner for `python` and returns while it reads
/// them. No interpreter is started when the folder has no Python migration.
pub fn start(python: &str, d: &Discovery) -> Scan {
    let inputs: Vec<Input<'_>> = d
        .migrations
        .iter()
        .filter(|m| m.kind == Kind::Python)
        .map(|m| Input {
            path: &m.path,
            // Python's importer drops a BOM before compiling; ast.parse on a str would not.
            text: m.text.strip_prefix('\u{feff}').unwrap_or(&m.text),
        })
        .collect();
    let state = if inputs.is_empty() {
        State::Nothing
    } else {
        match serde_json::to_string(&inputs) {
            Ok(input) => {
                let mut request = Map::new();
                request.insert("op".into(), "scan".into());
                request.insert("source".into(), SCRIPT.into());
                request.insert("input".into(), input.into());
                match runner::submit(python, request) {
                    Ok(submitted) => State::Running(Box::new(submitted)),
                    Err(e) => State::Failed(why(python, &e)),
                }
            }
            Err(e) => State::Failed(e.to_string()),
        }
    };
    Scan {
        python: python.to_string(),
        state,
    }
}

/// Why the scan failed, as the start of the one warning.
fn why(python: &str, e: &Error) -> String {
    match e {
        Error::NotFound { reason, .. } if reason == "not found" => {
            format!("`{python}` was not found")
        }
        Error::NotFound { reason, .. } => {
            format!("`{python}` could not read the Python migrations ({reason})")
        }
        Error::Timeout(_) => format!(
            "`{python}` did not finish reading the Python migrations within {} s and was killed",
            TIMEOUT.as_secs()
        ),
        other => format!("`{python}` could not read the Python migrations ({other})"),
    }
}

impl Scan {
    /// The AST data, or the one warning to print when Python rules must be skipped.
    /// `Ok(None)` when there was nothing to read.
    pub fn finish(self) -> Result<Option<PythonAst>, String> {
        let skipped = |why: String| {
            format!(
                "{why}; Python migrations were not linted (install python3 or pass --python PATH)"
            )
        };
        let python = &self.python;
        let submitted = match self.state {
            State::Nothing => return Ok(None),
            State::Failed(why) => return Err(skipped(why)),
            State::Running(submitted) => submitted,
        };
        let reply = submitted
            .wait(Some(TIMEOUT), None)
            .map_err(|e| skipped(why(python, &e)))?;
        let output = match (reply.message.get("ok"), reply.message.get("output")) {
            (Some(Value::Bool(true)), Some(Value::String(output))) => output,
            _ => {
                let message = reply
                    .message
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                return Err(skipped(format!(
                    "`{python}` could not read the Python migrations ({message})"
                )));
            }
        };
        let ast = py_scan::from_json(output).map_err(|e| {
            skipped(format!(
                "`{python}` printed unexpected output ({e}); is it Python 3.8 or newer?"
            ))
        })?;
        Ok(Some(ast))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    /// A folder `m` of files named and written as given.
    fn folder<const N: usize>(files: [(&str, &str); N]) -> Discovery {
        discover("m", files.map(|(name, text)| (name, text.as_bytes())))
    }

    #[test]
    fn reads_python_migrations_and_starts_nothing_without_them() {
        let d = folder([
            ("001_a.sql", "CREATE TABLE t (x);"),
            (
                "002_b.py",
                "\u{feff}def upgrade(conn):\n    conn.execute('SELECT 1')\n",
            ),
        ]);
        let ast = start("python3", &d).finish().unwrap().unwrap();
        let file = &ast["m/002_b.py"];
        assert_eq!(file.function("upgrade").map(|f| f.line), Some(1));
        assert_eq!(file.sql[0].value, "SELECT 1");

        let d = folder([("001_a.sql", "CREATE TABLE t (x);")]);
        assert_eq!(start("/nonexistent/python3", &d).finish(), Ok(None));
    }

    #[test]
    fn an_interpreter_that_cannot_scan_is_one_warning() {
        let d = folder([("002_b.py", "X = 1\n")]);
        let missing = start("/nonexistent/python3", &d).finish().unwrap_err();
        assert_eq!(
            missing,
            "`/nonexistent/python3` was not found; Python migrations were not linted (install python3 or pass --python PATH)"
        );
        let failing = start("false", &d).finish().unwrap_err();
        assert!(
            failing.starts_with("`false` could not read the Python migrations (exit status: 1"),
            "{failing}"
        );
    }
}
