//! `schemagate rule [NAME | --all]`: the rules, from the code. Without a name, one line
//! per rule (id, default severity, summary); with a name, its documentation; `--all`,
//! every rule's documentation. `--format json` always carries the docs.

use std::fmt::Write;

use anyhow::bail;
use serde::Serialize;

use crate::cli::{Outcome, RuleArgs, TextOrJson};
use crate::lint::{RuleDoc, rules};

#[derive(Serialize)]
struct RuleJson<'a> {
    id: &'a str,
    default_severity: &'a str,
    summary: &'a str,
    docs: &'a str,
}

pub fn run(args: &RuleArgs) -> anyhow::Result<Outcome> {
    let selected: Vec<&RuleDoc> = match &args.name {
        None => rules::ALL.to_vec(),
        Some(name) => match rules::find(name) {
            Some(r) => vec![r],
            None => {
                let close: Vec<&str> = rules::ALL
                    .iter()
                    .map(|r| r.id)
                    .filter(|id| id.contains(name.as_str()) || name.contains(id))
                    .collect();
                let hint = if close.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", close.join(", "))
                };
                bail!("unknown rule `{name}`{hint}; run `schemagate rule` to list every rule")
            }
        },
    };
    let out = match args.format.unwrap_or(TextOrJson::Text) {
        TextOrJson::Json => {
            let items: Vec<RuleJson<'_>> = selected
                .iter()
                .map(|r| RuleJson {
                    id: r.id,
                    default_severity: r.default_severity.as_str(),
                    summary: r.summary,
                    docs: r.docs,
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&items)?;
            s.push('\n');
            s
        }
        TextOrJson::Text if args.name.is_none() && !args.all => list(&selected),
        TextOrJson::Text => render(&selected),
    };
    let mut stdout = anstream::stdout().lock();
    std::io::Write::write_all(&mut stdout, out.as_bytes())?;
    Ok(Outcome::Clean)
}

/// One line per rule: id, default severity, summary; then how to read more.
pub fn list(selected: &[&RuleDoc]) -> String {
    let id_width = selected.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in selected {
        let _ = writeln!(
            out,
            "{:id_width$}  {:7}  {}",
            r.id,
            r.default_severity.as_str(),
            r.summary
        );
    }
    out.push_str(
        "\n`schemagate rule RULE` prints a rule's documentation; `schemagate rule --all` prints every rule's.\n",
    );
    out
}

/// Markdown: one section per rule.
pub fn render(selected: &[&RuleDoc]) -> String {
    let mut out = String::new();
    for (i, r) in selected.iter().enumerate() {
        if i > 0 {
            out.push_str("\n---\n\n");
        }
        let _ = writeln!(
            out,
            "# {} (default: {})\n\n{}\n\n{}",
            r.id,
            r.default_severity.as_str(),
            r.summary,
            r.docs.trim_end()
        );
    }
    out
}
