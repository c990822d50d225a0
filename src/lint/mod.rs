//! Lint rules and the engine that runs them (pure: Python migrations are read through
//! `python3` by the shell, `pyrunner::scan`, and arrive here as a [`PythonAst`]).
//!
//! Every rule lives in its own file under `rules/` with its documentation (what it flags,
//! why it matters on SQLite, an example, what to write instead) and its tests; the docs
//! are what `schemagate rule NAME` prints.
//!
//! The pipeline, for any command that lints:
//! 1. `pyrunner::scan` (shell): Python AST data for `.py` files, a [`PythonAst`];
//! 2. [`lint_folder`]: every folder, statement and Python rule, at default severities;
//! 3. other findings are appended by the commands: [`history_findings`] over the plan
//!    (`--db`), `crate::git::compare_with_base` (`--base`), the dry run;
//! 4. [`rules::not_idempotent::settle`]: one report per statement for the re-run rules;
//! 5. [`suppress::apply`]: `-- schemagate:ignore` comments;
//! 6. [`apply_severities`]: `[rules]` from `schemagate.toml` (validated first with
//!    [`check_rule_config`]).

pub mod py_scan;
pub mod rules;
pub mod suppress;
mod unit;

use std::collections::BTreeMap;

use sqlite3_parser::Bump;

pub use py_scan::PythonAst;
pub use rules::sqlite_version::SqliteVersion;
pub use unit::{Origin, SqlUnit, StatementCtx, SyntaxError, ident};

use crate::config::{AcceptedChecksum, Config, RuleLevel};
use crate::layout::{Layout, LayoutSetting};
use crate::migration::{Discovery, Kind, Migration};
use crate::plan::{DirtyMarker, Plan};
use crate::report::Finding;
pub use crate::report::RuleDoc;

/// Everything besides the folder that the rules read.
#[derive(Clone, Debug)]
pub struct LintInputs {
    /// The migrations folder as shown to the user (prefix of paths of files that are not
    /// migrations; migrations carry their own `path`).
    pub dir: String,
    /// Python AST data; `None` when Python could not be run (Python rules are skipped).
    pub python: Option<PythonAst>,
    /// `[lint] target_sqlite`; `None` turns `sqlite-version` off.
    pub target_sqlite: Option<SqliteVersion>,
    /// Whose conventions the folder follows, which decides who runs the files and how:
    /// schemagate's executor (legacy) or the layout's own tool. Rules whose findings
    /// depend on the runner read it (`needs-no-transaction`, the re-run rules).
    pub layout: Layout,
}

impl Default for LintInputs {
    fn default() -> LintInputs {
        LintInputs {
            dir: String::new(),
            python: None,
            target_sqlite: None,
            layout: Layout::Legacy,
        }
    }
}

impl LintInputs {
    /// The inputs the config file decides (Python data is added by the caller).
    pub fn from_config(config: &Config) -> anyhow::Result<LintInputs> {
        let target_sqlite = match &config.lint.target_sqlite {
            Some(v) => Some(SqliteVersion::parse(v).ok_or_else(|| {
                anyhow::anyhow!(
                    "schemagate.toml: [lint] target_sqlite = \"{v}\" is not a SQLite version; write it like \"3.31\" or \"3.31.1\""
                )
            })?),
            None => None,
        };
        Ok(LintInputs {
            target_sqlite,
            layout: configured_layout(config),
            ..LintInputs::default()
        })
    }
}

/// `[migrations] layout` when it names one. `auto` needs the folder to detect it, which is
/// the caller's; until then it means the layout schemagate has always read.
pub fn configured_layout(config: &Config) -> Layout {
    match config.migrations.layout {
        LayoutSetting::Fixed(layout) => layout,
        LayoutSetting::Auto => Layout::Legacy,
    }
}

/// Every folder, statement and Python rule over the folder, at default severities,
/// before suppression comments and `[rules]` are applied.
pub fn lint_folder(d: &Discovery, inputs: &LintInputs) -> Vec<Finding> {
    let mut out = lint_sql_files(d, inputs);
    out.extend(lint_python_files(d, inputs));
    out
}

/// Folder rules and `.sql` files (no Python data needed, so a caller can run this while
/// `python3` is still reading the `.py` files).
pub fn lint_sql_files(d: &Discovery, inputs: &LintInputs) -> Vec<Finding> {
    let mut out = Vec::new();
    rules::folder_rules(d, inputs, &mut out);
    for m in d.migrations.iter().filter(|m| m.kind == Kind::Sql) {
        let unit = SqlUnit::file(m);
        rules::empty_migration::check_sql(&unit, &mut out);
        lint_unit(&unit, inputs, &mut out);
    }
    out
}

/// Python rules and the SQL literals of `.py` files; nothing when `inputs.python` is `None`.
pub fn lint_python_files(d: &Discovery, inputs: &LintInputs) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(ast) = &inputs.python else {
        return out;
    };
    for m in d.migrations.iter().filter(|m| m.kind == Kind::Python) {
        if let Some(py) = ast.get(&m.path) {
            lint_python(m, py, inputs, &mut out);
        }
    }
    out
}

fn lint_python(m: &Migration, py: &py_scan::PyFile, inputs: &LintInputs, out: &mut Vec<Finding>) {
    if rules::python_syntax_error::check(m, py, out) {
        return;
    }
    rules::python_upgrade_missing::check(m, py, out);
    rules::empty_migration::check_python(m, py, out);
    // What only runs when the file is run by hand is not part of the migration.
    for lit in py.sql.iter().filter(|lit| !lit.standalone) {
        lint_unit(&SqlUnit::python(m, lit), inputs, out);
    }
}

/// Runs every statement rule over one unit.
pub fn lint_unit(unit: &SqlUnit<'_>, inputs: &LintInputs, out: &mut Vec<Finding>) {
    let bump = Bump::new();
    let parsed: Vec<_> = unit
        .statements
        .iter()
        .map(|s| unit::parse(&bump, unit.sql, s))
        .collect();
    for (index, stmt) in unit.statements.iter().enumerate() {
        let ctx = StatementCtx {
            unit,
            index,
            stmt,
            kind: unit.kinds[index],
            ast: parsed[index].as_ref().ok(),
            target: inputs.target_sqlite,
            layout: inputs.layout,
        };
        if ctx.kind == crate::sql::StatementKind::DotCommand {
            rules::sql_syntax_error::dot_command(&ctx, out);
            continue;
        }
        let before = out.len();
        rules::statement_rules(&ctx, out);
        let dialect = out[before..]
            .iter()
            .any(|f| f.rule == rules::foreign_dialect::RULE.id);
        // A foreign construct already explains why SQLite would reject the statement.
        if let (Err(e), false) = (&parsed[index], dialect) {
            rules::sql_syntax_error::report(&ctx, e, out);
        }
    }
}

/// One report per statement for the re-run rules (see [`rules::not_idempotent::settle`]),
/// suppression comments, then `[rules]` severities: what every command that lints applies
/// to its findings (lint rules, and the base-branch, history or dry-run findings it adds).
pub fn finish(
    findings: Vec<Finding>,
    d: &Discovery,
    inputs: &LintInputs,
    rules_cfg: &BTreeMap<String, RuleLevel>,
) -> Vec<Finding> {
    let python = inputs.python.as_ref();
    let findings = rules::not_idempotent::settle(findings, d, python, inputs.layout);
    apply_severities(suppress::apply(findings, d, python), rules_cfg)
}

/// The history rules (`lint --db`) over the one plan and the history's markers of
/// migrations that stopped half-way, at default severities: dirty-database, drift (with
/// `[[accept-checksum]]` applied), renamed-applied, missing-file, out-of-order-pending,
/// unverified-record, invalid-history-row. `duplicate-version` is a folder rule and not
/// repeated here.
pub fn history_findings(
    plan: &Plan<'_>,
    dirty: &[DirtyMarker],
    database: &str,
    accepted: &[AcceptedChecksum],
) -> Vec<Finding> {
    let mut out = rules::dirty_database::check(dirty, database);
    out.extend(rules::checksum_drift::check(plan, accepted));
    out.extend(rules::renamed_applied::check(plan));
    out.extend(rules::missing_file::check(plan, database));
    out.extend(rules::out_of_order_pending::check(plan));
    out.extend(rules::unverified_record::check(plan));
    out.extend(rules::invalid_history_row::check(plan, database));
    out
}

/// The one history check of a database against the folder: `duplicate-version` plus
/// [`history_findings`], at the severities `[rules]` gives. `status` shows these and
/// `migrate` refuses on the errors among them; `lint --db` and `check --db` report the
/// same findings through [`lint_folder`] and [`history_findings`]; `dry-run` reports
/// `dirty-database` ([`rules::dirty_database::check`]), the one history finding that says
/// the deploy would not even start.
pub fn deploy_findings(
    d: &Discovery,
    plan: &Plan<'_>,
    dirty: &[DirtyMarker],
    database: &str,
    levels: &BTreeMap<String, RuleLevel>,
    accepted: &[AcceptedChecksum],
) -> Vec<Finding> {
    let mut out = rules::duplicate_version::check(d);
    out.extend(history_findings(plan, dirty, database, accepted));
    apply_severities(out, levels)
}

/// Every rule id `[rules]` and suppression comments may name.
pub fn known_rule_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = rules::ALL.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids
}

/// `[rules]` may only name rules that exist: a typo there would silently keep a rule on
/// (or off).
pub fn check_rule_config(rules_cfg: &BTreeMap<String, RuleLevel>) -> anyhow::Result<()> {
    let known = known_rule_ids();
    let unknown: Vec<&str> = rules_cfg
        .keys()
        .map(String::as_str)
        .filter(|id| !known.contains(id))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "schemagate.toml: unknown rule {} in [rules] (run `schemagate rule` to list the rules)",
        unknown
            .iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Applies `[rules]` severities: `off` drops the rule's findings, a level replaces the
/// default.
pub fn apply_severities(
    findings: Vec<Finding>,
    rules_cfg: &BTreeMap<String, RuleLevel>,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut f| match rules_cfg.get(&f.rule) {
            None => Some(f),
            Some(level) => level.severity().map(|s| {
                f.severity = s;
                f
            }),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the rule tests: lint one file through the whole engine.

    use super::*;
    use crate::migration::discover;

    pub fn lint_files(files: &[(&str, &str)], inputs: &LintInputs) -> Vec<Finding> {
        let d = discover("m", files.iter().map(|(n, t)| (*n, t.as_bytes())));
        let inputs = LintInputs {
            dir: "m".into(),
            ..inputs.clone()
        };
        lint_folder(&d, &inputs)
    }

    /// Findings of `rule` for one `.sql` file named `001_x.sql`.
    pub fn sql(rule: &str, text: &str) -> Vec<Finding> {
        sql_with(rule, text, &LintInputs::default())
    }

    pub fn sql_with(rule: &str, text: &str, inputs: &LintInputs) -> Vec<Finding> {
        lint_files(&[("001_x.sql", text)], inputs)
            .into_iter()
            .filter(|f| f.rule == rule)
            .collect()
    }

    /// `(line, column)` of each finding.
    pub fn at(findings: &[Finding]) -> Vec<(usize, usize)> {
        findings
            .iter()
            .map(|f| (f.line.unwrap_or(0), f.column.unwrap_or(0)))
            .collect()
    }

    /// Python AST data as the real `python3` would return it (tests use the real one).
    pub fn python_ast(files: &[(&str, &str)]) -> PythonAst {
        let d = discover("m", files.iter().map(|(n, t)| (*n, t.as_bytes())));
        crate::pyrunner::scan::start("python3", &d)
            .finish()
            .expect("python3 is installed on the test machine")
            .unwrap_or_default()
    }

    /// Findings of `rule` for one Python migration, read by the real `python3`.
    pub fn py(rule: &str, name: &str, text: &str) -> Vec<Finding> {
        let inputs = LintInputs {
            python: Some(python_ast(&[(name, text)])),
            ..LintInputs::default()
        };
        lint_files(&[(name, text)], &inputs)
            .into_iter()
            .filter(|f| f.rule == rule)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    #[test]
    fn unknown_rule_ids_in_config_are_errors() {
        let mut cfg = BTreeMap::new();
        cfg.insert("robust-statements".to_string(), RuleLevel::Off);
        assert!(check_rule_config(&cfg).is_ok());
        cfg.insert("robust-statement".to_string(), RuleLevel::Off);
        let e = check_rule_config(&cfg).unwrap_err().to_string();
        assert!(e.contains("`robust-statement`"), "{e}");
    }

    #[test]
    fn severities_replace_defaults_and_off_drops() {
        let f = |rule: &str| Finding::new(rule, Severity::Warning, "m");
        let mut cfg = BTreeMap::new();
        cfg.insert("destructive-change".to_string(), RuleLevel::Error);
        cfg.insert("robust-statements".to_string(), RuleLevel::Off);
        let out = apply_severities(
            vec![
                f("destructive-change"),
                f("robust-statements"),
                f("version-width"),
            ],
            &cfg,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].severity, Severity::Error);
        assert_eq!(out[1].severity, Severity::Warning);
    }

    #[test]
    fn bad_target_sqlite_is_a_config_error() {
        let mut c = Config::default();
        c.lint.target_sqlite = Some("three".into());
        assert!(LintInputs::from_config(&c).is_err());
        c.lint.target_sqlite = Some("3.31.1".into());
        assert!(LintInputs::from_config(&c).unwrap().target_sqlite.is_some());
    }
}
