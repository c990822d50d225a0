//! Commands that messages suggest, completed so that they work when pasted.
//!
//! The library writes a suggestion as it would be typed in the project folder with no
//! options: `` `schemagate rekey 005 008` ``. Whoever ran the command that printed it may
//! have chosen the database (`--db data/prod.db`, `--env prod`), the folder (`--dir`) or
//! the config file (`--config`): pasted without them, the suggestion would act on another
//! database or none ("no database given"). So every `` `schemagate COMMAND ...` `` in a
//! finding's help or an error message gets the same choices appended, for the options
//! COMMAND has and the suggestion does not already set.

use clap::CommandFactory;

use super::{Cli, GlobalArgs};
use crate::report::Report;

/// The options that chose the project and the database, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `--config FILE` and `--dir DIR`, as (option, value).
    project: Vec<(&'static str, String)>,
    /// `--db FILE` / `--env NAME`, as (option, value); only one database is carried.
    database: Option<(&'static str, String)>,
}

impl Selection {
    pub fn of(args: &GlobalArgs) -> Selection {
        let mut project = Vec::new();
        if let Some(c) = &args.config {
            project.push(("--config", c.display().to_string()));
        }
        if let Some(d) = &args.dir {
            project.push(("--dir", d.display().to_string()));
        }
        let databases: Vec<(&'static str, String)> = args
            .db
            .iter()
            .map(|d| ("--db", d.display().to_string()))
            .chain(args.envs.iter().map(|e| ("--env", e.clone())))
            .collect();
        Selection {
            project,
            // Several databases (`status`): a suggestion is about one of them, and
            // which one is for the reader to say.
            database: match databases.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            },
        }
    }

    /// The same project, with `target` as the database (`status` reports several).
    pub fn with_target(&self, target: &super::Target) -> Selection {
        Selection {
            project: self.project.clone(),
            database: Some(match &target.env {
                Some(env) => ("--env", env.clone()),
                None => ("--db", target.display.clone()),
            }),
        }
    }

    /// `text` with every backquoted schemagate command completed.
    pub fn complete(&self, text: &str) -> String {
        if self.project.is_empty() && self.database.is_none() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("`schemagate ") {
            let Some(len) = rest[start + 1..].find('`') else {
                break;
            };
            let command = &rest[start + 1..start + 1 + len];
            out.push_str(&rest[..=start]);
            out.push_str(&self.complete_command(command));
            out.push('`');
            rest = &rest[start + 2 + len..];
        }
        out.push_str(rest);
        out
    }

    fn complete_command(&self, command: &str) -> String {
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some(sub) = words
            .get(1)
            .and_then(|name| Cli::command().find_subcommand(name).cloned())
        else {
            return command.to_string();
        };
        let has = |id: &str| sub.get_arguments().any(|a| a.get_id() == id);
        let given = |option: &str| words.contains(&option);
        let mut out = command.to_string();
        for (option, value) in &self.project {
            if has(&option[2..]) && !given(option) {
                out.push_str(&format!(" {option} {}", shell_quote(value)));
            }
        }
        if let Some((option, value)) = &self.database
            && has("db")
            && !given("--db")
            && !given("--env")
        {
            out.push_str(&format!(" {option} {}", shell_quote(value)));
        }
        out
    }

    /// Every finding's help in `report`, completed.
    pub fn complete_report(&self, report: &mut Report) {
        for f in &mut report.findings {
            if let Some(help) = &f.help {
                f.help = Some(self.complete(help));
            }
        }
    }
}

/// `value` as one shell word: as it is when it holds only characters no shell treats
/// specially, else in single quotes.
fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn selection(db: &[&str], envs: &[&str], dir: Option<&str>) -> Selection {
        Selection::of(&GlobalArgs {
            db: db.iter().map(PathBuf::from).collect(),
            envs: envs.iter().map(|s| s.to_string()).collect(),
            dir: dir.map(PathBuf::from),
            ..GlobalArgs::default()
        })
    }

    #[test]
    fn the_database_and_folder_follow_the_suggestion() {
        let s = selection(&["data/app.db"], &[], Some("db/migrations"));
        assert_eq!(
            s.complete("if the file was renumbered, move the row: `schemagate rekey 005 008`"),
            "if the file was renumbered, move the row: `schemagate rekey 005 008 --dir db/migrations --db data/app.db`"
        );
        // `forget` does not read the folder; two commands in one text.
        assert_eq!(
            s.complete("`schemagate forget 003 --reason ...` then `schemagate migrate`"),
            "`schemagate forget 003 --reason ... --db data/app.db` then `schemagate migrate --dir db/migrations --db data/app.db`"
        );
        // No database options on `rule`; options already there are kept.
        assert_eq!(
            s.complete("`schemagate rule x` and `schemagate status --env prod`"),
            "`schemagate rule x` and `schemagate status --env prod --dir db/migrations`"
        );
    }

    #[test]
    fn environments_and_odd_paths_are_pasteable() {
        let s = selection(&[], &["prod"], None);
        assert_eq!(
            s.complete("`schemagate backups`"),
            "`schemagate backups --env prod`"
        );
        let s = selection(&["my data/it's.db"], &[], None);
        assert_eq!(
            s.complete("`schemagate pending`"),
            r"`schemagate pending --db 'my data/it'\''s.db'`"
        );
    }

    #[test]
    fn several_databases_or_none_leave_the_text_alone() {
        let text = "run `schemagate migrate` again";
        assert_eq!(selection(&["a.db", "b.db"], &[], None).complete(text), text);
        assert_eq!(selection(&[], &[], None).complete(text), text);
        assert_eq!(
            selection(&["a.db"], &[], None).complete("a ` lone backquote `schemagate"),
            "a ` lone backquote `schemagate"
        );
    }
}
