//! `schemagate lint` and `schemagate rule`, run as the real binary on folders in temp dirs.

mod history;
mod output;
mod rules;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{self, schemagate};

/// The shared temp project with a by-value builder, as these tests chain it.
struct Project(common::Project);

impl Project {
    fn new() -> Project {
        Project(common::Project::new())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn file(self, name: &str, text: &str) -> Project {
        self.0.file(name, text);
        self
    }

    fn config(self, text: &str) -> Project {
        self.0.config(text);
        self
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = schemagate(self.path());
        c.args(args);
        c
    }

    /// `lint --format json` → (exit code, findings).
    fn json(&self, extra: &[&str]) -> (i32, Vec<Value>) {
        let mut args = vec!["lint", "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.cmd(&args).output().unwrap();
        let code = out.status.code().unwrap();
        assert!(
            code != 2,
            "lint failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["report_version"], 1);
        assert_eq!(report["command"], "lint");
        assert!(report["tool"]["sqlite_version"].as_str().is_some());
        (code, report["findings"].as_array().unwrap().clone())
    }
}

fn of_rule<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["rule"] == rule).collect()
}

fn at(findings: &[&Value]) -> Vec<(String, u64, u64)> {
    findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
