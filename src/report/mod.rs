//! The report model (pure): one model, several renderings (`text`, `json`, `sarif`,
//! `github`, the pull-request comment).
//!
//! The JSON rendering *is* this model, versioned by `report_version`; fields other tools
//! may rely on are listed in docs/report.md and described by the JSON Schema in
//! `schema/report-v1.json`. New fields may be added; existing ones never change meaning.

pub mod comment;
pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const REPORT_VERSION: u32 = 1;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule's identity and documentation (the rules themselves live in `crate::lint`; the
/// renderers take the registry as an argument, so the report model depends on no rule).
#[derive(Debug)]
pub struct RuleDoc {
    /// Stable kebab-case id.
    pub id: &'static str,
    pub default_severity: Severity,
    /// One line: what it flags.
    pub summary: &'static str,
    /// Markdown with the headings `## What it does`, `## Why is this bad?`, `## Example`,
    /// `## Use instead`.
    pub docs: &'static str,
}

/// Output formats of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

/// One problem found by a rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable kebab-case rule id (`schemagate rule ID` prints its documentation).
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// Path of the file the finding is about, as shown to the user (relative to the
    /// working directory when the migrations folder was given relatively).
    pub path: Option<String>,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Last line of the offending span when it covers several lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    /// 1-based column just past the offending span on `end_line` (or `line`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    /// How to fix it.
    pub help: Option<String>,
    /// Extra detail such as a unified diff (modified migrations, drift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Pull-request mode only (absent without a base): `true` when the change under review
    /// brings this finding in, `false` when the same finding (rule, file identity following
    /// renames, statement fingerprint; never the line number) exists on the merge base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<bool>,
    /// The version of an earlier failed migration whose missing object alone explains this
    /// failure (`migration-failed` in a replay that kept going): fix that one first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade_of: Option<String>,
}

impl Finding {
    pub fn new(rule: &str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity,
            message: message.into(),
            path: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            help: None,
            diff: None,
            introduced: None,
            cascade_of: None,
        }
    }

    /// A finding of `rule` at its default severity: rule files build their findings this
    /// way, so a rule's id and default severity are written in one place only.
    pub fn of(rule: &RuleDoc, message: impl Into<String>) -> Finding {
        Finding::new(rule.id, rule.default_severity, message)
    }

    pub fn path(mut self, path: impl Into<String>) -> Finding {
        self.path = Some(path.into());
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Finding {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    /// Whether this finding decides the exit code under `gate`: pre-existing findings
    /// (`introduced: false`) only count with [`Gate::All`]; without a base everything counts.
    pub fn gated(&self, gate: Gate) -> bool {
        gate == Gate::All || self.introduced != Some(false)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// Version of the SQLite library schemagate ran migrations with.
    pub sqlite_version: String,
}

impl Tool {
    pub fn current() -> Tool {
        Tool {
            name: "schemagate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            sqlite_version: rusqlite::version().into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatabaseInfo {
    pub path: String,
    pub exists: bool,
    /// Environment name from the config file, when the database was chosen with `--env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationInfo {
    pub version: String,
    pub name: String,
    /// Path of the file (absent for `missing-file`).
    pub path: Option<String>,
    pub kind: Option<crate::migration::Kind>,
    /// SHA-256 of the normalised file content.
    pub checksum: Option<String>,
    pub state: crate::plan::State,
    /// When the history row says it was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Ok,
    Failed,
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    pub message: String,
    pub path: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub status: StepStatus,
    pub duration_ms: f64,
    /// Statements executed (SQL migrations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<usize>,
    /// Unified diff of the normalised schema before and after the step.
    pub schema_diff: String,
    pub error: Option<Location>,
    /// A failed step whose failure follows from an earlier failed step (its version): the
    /// object this step needs is one that step would have created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade_of: Option<String>,
    /// Pull-request mode, failed steps only: `false` when the same file fails with the same
    /// message on the merge base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<bool>,
}

impl Step {
    /// A step with only its identity and status (the run loop fills in the rest).
    pub fn new(version: impl Into<String>, path: Option<String>, status: StepStatus) -> Step {
        Step {
            version: version.into(),
            path,
            status,
            duration_ms: 0.0,
            statements: None,
            schema_diff: String::new(),
            error: None,
            cascade_of: None,
            introduced: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DryRun {
    /// `empty`, or the path of the database that was copied.
    pub source: String,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub applied: usize,
    pub pending: usize,
    /// No finding at or above the fail level and no failed step. In pull-request mode with
    /// the default gate only introduced findings and failed steps count.
    pub ok: bool,
    /// Pull-request mode only: how many of `errors`, `warnings`, `infos` the change
    /// introduces (the rest exist on the merge base already).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_errors: Option<usize>,
    /// Pull-request mode only: introduced warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_warnings: Option<usize>,
    /// Pull-request mode only: introduced infos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_infos: Option<usize>,
}

/// Which findings decide the exit code in pull-request mode (`--gate`, `[ci] gate`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// Only findings the change introduces (and failed steps it introduces).
    #[default]
    Introduced,
    /// Every finding, as without a base.
    All,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Introduced => "introduced",
            Gate::All => "all",
        }
    }
}

/// The base a pull-request-mode report was compared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BaseInfo {
    /// The ref as resolved (`main`, `origin/main`).
    pub reference: String,
    /// The commit the findings were compared with: where the working tree's branch forked
    /// from the base (the base's tip when that history is absent).
    pub commit: String,
    /// Which findings decided the exit code.
    pub gate: Gate,
}

/// The folder layout: which tool's conventions the migrations follow, and why schemagate
/// thinks so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LayoutInfo {
    pub name: crate::layout::Layout,
    /// "`-- migrate:up` markers (12 files)", or "`[migrations] layout` in schemagate.toml".
    pub evidence: String,
}

/// The report every command that inspects a folder or database produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub report_version: u32,
    pub tool: Tool,
    pub command: String,
    pub migrations_dir: String,
    /// The folder's layout (absent in reports written before layouts existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<LayoutInfo>,
    pub database: Option<DatabaseInfo>,
    /// Pull-request mode: the base the findings were compared with (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseInfo>,
    pub migrations: Vec<MigrationInfo>,
    pub findings: Vec<Finding>,
    pub dry_run: Option<DryRun>,
    pub summary: Summary,
}

/// The level at which findings fail the run (`--fail-on`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Never,
}

impl FailOn {
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Never => false,
        }
    }
}

impl Report {
    pub fn new(command: &str, migrations_dir: &str) -> Report {
        Report {
            report_version: REPORT_VERSION,
            tool: Tool::current(),
            command: command.to_string(),
            migrations_dir: migrations_dir.to_string(),
            layout: None,
            database: None,
            base: None,
            migrations: Vec::new(),
            findings: Vec::new(),
            dry_run: None,
            summary: Summary::default(),
        }
    }

    /// Which findings decide the exit code: [`BaseInfo::gate`] in pull-request mode,
    /// everything otherwise.
    pub fn gate(&self) -> Gate {
        self.base.as_ref().map_or(Gate::All, |b| b.gate)
    }

    /// Sorts findings (by path, line, column, rule) and recomputes the summary counts.
    /// Call once all findings, migrations and steps (and `base`) are in.
    pub fn finish(&mut self, fail_on: FailOn) {
        self.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule).cmp(&(&b.path, b.line, b.column, &b.rule))
        });
        let gate = self.gate();
        let count = |s| self.findings.iter().filter(|f| f.severity == s).count();
        let introduced = |s| {
            self.base.as_ref().map(|_| {
                self.findings
                    .iter()
                    .filter(|f| f.severity == s && f.introduced != Some(false))
                    .count()
            })
        };
        let failed_step = self.dry_run.as_ref().is_some_and(|d| {
            d.steps.iter().any(|s| {
                s.status == StepStatus::Failed && (gate == Gate::All || s.introduced != Some(false))
            })
        });
        self.summary = Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            introduced_errors: introduced(Severity::Error),
            introduced_warnings: introduced(Severity::Warning),
            introduced_infos: introduced(Severity::Info),
            applied: self
                .migrations
                .iter()
                .filter(|m| m.state.is_recorded())
                .count(),
            pending: self
                .migrations
                .iter()
                .filter(|m| m.state == crate::plan::State::Pending)
                .count(),
            ok: !failed_step
                && !self
                    .findings
                    .iter()
                    .any(|f| f.gated(gate) && fail_on.fails(f.severity)),
        };
    }

    /// Records the folder's layout and why.
    pub fn set_layout(&mut self, d: &crate::migration::Discovery) {
        self.layout = Some(LayoutInfo {
            name: d.layout,
            evidence: d.evidence.clone(),
        });
    }

    /// Fills `migrations` from the plan.
    pub fn set_migrations(&mut self, plan: &crate::plan::Plan<'_>) {
        self.migrations = plan
            .entries
            .iter()
            .map(|e| MigrationInfo {
                version: e.version.to_string(),
                name: e
                    .migration
                    .map(|m| m.name.clone())
                    .or_else(|| e.row.and_then(|r| r.description.clone()))
                    .unwrap_or_default(),
                path: e.migration.map(|m| m.path.clone()),
                kind: e.migration.map(|m| m.kind),
                checksum: e.migration.map(|m| m.checksum.clone()),
                state: e.state,
                applied_at: e.row.and_then(|r| r.applied_at.clone()),
            })
            .collect();
    }
}

/// The machine renderings of `--format json|sarif|github`, for any command. `None` for
/// `text`, which needs the file sources for its code frames (`text::render`). `rules` is
/// the rule registry SARIF describes (`crate::lint::rules::ALL`).
///
/// Paths are rendered as the report holds them; inside GitHub Actions, where annotations
/// and SARIF need repository-relative paths, use `crate::github::render`.
pub fn render(report: &Report, format: Format, rules: &[&RuleDoc]) -> Option<String> {
    render_with(report, format, rules, &github::RepoPaths::default())
}

/// [`render`] with report paths mapped to repository-relative ones.
pub fn render_with(
    report: &Report,
    format: Format,
    rules: &[&RuleDoc],
    paths: &github::RepoPaths,
) -> Option<String> {
    match format {
        Format::Text => None,
        Format::Json => Some(json::render(report)),
        Format::Sarif => Some(sarif::render(report, rules, paths)),
        Format::Github => Some(github::annotations(report, paths)),
    }
}
