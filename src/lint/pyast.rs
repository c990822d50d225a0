//! Shell step: reads every Python migration of a folder through `python3`'s own `ast`, in one
//! process (see `python_ast.py`). The rules stay pure over the returned [`PythonAst`].

use std::io::Write;
use std::process::{Child, Command, Stdio};

use serde::Serialize;

use super::python::{PyFile, PythonAst};
use crate::migration::{Discovery, Kind};

const SCRIPT: &str = include_str!("python_ast.py");

#[derive(Serialize)]
struct Input<'a> {
    path: &'a str,
    text: &'a str,
}

/// A running `python3` that is reading the folder's Python migrations.
pub struct Job {
    child: Option<Child>,
    writer: Option<std::thread::JoinHandle<std::io::Result<()>>>,
    python: String,
    spawn_error: Option<String>,
}

/// Starts `python` on every `.py` migration of `d`. Returns a job that does nothing when the
/// folder has no Python migration (no interpreter is started then).
pub fn start(python: &str, d: &Discovery) -> Job {
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
    let mut job = Job {
        child: None,
        writer: None,
        python: python.to_string(),
        spawn_error: None,
    };
    if inputs.is_empty() {
        return job;
    }
    let payload = match serde_json::to_vec(&inputs) {
        Ok(p) => p,
        Err(e) => {
            job.spawn_error = Some(e.to_string());
            return job;
        }
    };
    // -I: ignore PYTHON* variables and the user's site folder; -S: skip `site` (faster start,
    // only the standard library is used).
    let spawned = Command::new(python)
        .args(["-I", "-S", "-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    match spawned {
        Ok(mut child) => {
            if let Some(mut stdin) = child.stdin.take() {
                // Written from a thread so a large folder cannot deadlock on full pipes.
                job.writer = Some(std::thread::spawn(move || stdin.write_all(&payload)));
            }
            job.child = Some(child);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            job.spawn_error = Some(format!("`{python}` was not found"));
        }
        Err(e) => job.spawn_error = Some(format!("cannot run `{python}`: {e}")),
    }
    job
}

impl Job {
    /// The AST data, or the one warning to print when Python rules must be skipped.
    /// `Ok(None)` when there was nothing to read.
    pub fn finish(mut self) -> Result<Option<PythonAst>, String> {
        let skipped = |why: String| {
            format!(
                "{why}; Python migrations were not linted (install python3 or pass --python PATH)"
            )
        };
        if let Some(e) = self.spawn_error.take() {
            return Err(skipped(e));
        }
        let Some(child) = self.child.take() else {
            return Ok(None);
        };
        let output = child.wait_with_output();
        let wrote = self.writer.take().map(|w| w.join());
        let output = output.map_err(|e| skipped(format!("`{}` failed: {e}", self.python)))?;
        if !output.status.success() || !matches!(wrote, Some(Ok(Ok(())))) {
            let msg = String::from_utf8_lossy(&output.stderr);
            let last = msg
                .lines()
                .last()
                .unwrap_or("no message")
                .trim()
                .to_string();
            return Err(skipped(format!(
                "`{}` could not read the Python migrations ({}: {last})",
                self.python, output.status
            )));
        }
        let stdout = output.stdout;
        let files: Vec<PyFile> = serde_json::from_slice(&stdout).map_err(|e| {
            skipped(format!(
                "`{}` printed unexpected output ({e}); is it Python 3.8 or newer?",
                self.python
            ))
        })?;
        Ok(Some(
            files.into_iter().map(|f| (f.path.clone(), f)).collect(),
        ))
    }
}
