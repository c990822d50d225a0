//! `schemagate rule [NAME]`: the rules' documentation, from the code.

use std::fmt::Write;

use anyhow::bail;
use serde::Serialize;

use crate::cli::{Format, GlobalArgs, Outcome, RuleArgs};
use crate::lint::{RuleDoc, rules};

#[derive(Serialize)]
struct RuleJson<'a> {
    id: &'a str,
    default_severity: &'a str,
    summary: &'a str,
    docs: &'a str,
}

pub fn run(args: &RuleArgs, global: &GlobalArgs) -> anyhow::Result<Outcome> {
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
    let out = match global.format.unwrap_or(Format::Text) {
        Format::Json => {
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
        _ => render(&selected),
    };
    let mut stdout = anstream::stdout().lock();
    std::io::Write::write_all(&mut stdout, out.as_bytes())?;
    Ok(Outcome::Clean)
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
