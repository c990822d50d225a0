//! What the Python AST scan tells us about Python migrations: the model the Python rules
//! read, and the JSON it arrives in. Pure; the shell (`pyrunner::scan`) runs the scan
//! (`scan.py`, through Python's own `ast`) and hands its output to [`from_json`].

use std::collections::HashMap;

use serde::Deserialize;

/// Python AST data per migration path (`Migration::path`).
pub type PythonAst = HashMap<String, PyFile>;

/// Reads the scan's output: a JSON array with one [`PyFile`] per migration.
pub fn from_json(json: &str) -> serde_json::Result<PythonAst> {
    let files: Vec<PyFile> = serde_json::from_str(json)?;
    Ok(files.into_iter().map(|f| (f.path.clone(), f)).collect())
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PyFile {
    pub path: String,
    /// `SyntaxError` (or a file Python refuses to read); nothing else is filled then.
    pub error: Option<PySyntaxError>,
    /// Top-level `def`s.
    pub functions: Vec<PyFunction>,
    /// String literals passed to `.execute(...)`, `.executescript(...)`, `.executemany(...)`.
    pub sql: Vec<PySql>,
}

impl PyFile {
    pub fn function(&self, name: &str) -> Option<&PyFunction> {
        self.functions.iter().find(|f| f.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PySyntaxError {
    pub message: String,
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PyFunction {
    pub name: String,
    pub line: usize,
    pub column: usize,
    /// Positional parameters.
    pub params: usize,
    pub varargs: bool,
    pub is_async: bool,
    /// The body is only `pass`, a docstring or `...`.
    pub empty: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PySql {
    /// Enclosing top-level function (`None` at module level).
    pub function: Option<String>,
    pub method: String,
    pub value: String,
    /// Where the value's first character sits in the file when `exact`, else where the
    /// literal starts.
    pub line: usize,
    pub column: usize,
    /// The literal's body is its value verbatim, so every offset maps to a real position.
    pub exact: bool,
    pub call_line: usize,
    pub call_end_line: usize,
    /// Runs only when the file is run by itself, never by a migration runner: inside
    /// `if __name__ == "__main__":`, or in the `if conn is None:` branch of a function
    /// whose caller did not pass a connection. Not part of the migration.
    #[serde(default)]
    pub standalone: bool,
}
