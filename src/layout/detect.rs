//! Which layout a folder follows, from what is in it (pure), and the evidence to name in
//! the output ("layout: dbmate, from `-- migrate:up` markers in 12 files").
//!
//! Each tool leaves marks no other tool leaves: diesel's `<version>_name/up.sql` folders,
//! Flyway's `V<n>__name.sql` names, dbmate's `-- migrate:up` and goose's `-- +goose Up`
//! markers. `.up.sql`/`.down.sql` pairs are written by both sqlx and golang-migrate: plain
//! `.sql` files beside them (golang-migrate would skip those) or the comment sqlx-cli puts in
//! new files (`-- Add migration script here`) say sqlx; without either the folder is
//! ambiguous and `[migrations] layout` must say which. A folder with none of these marks is
//! legacy. Marks of two tools in one folder are an error naming the files of each: it is
//! not clear which files a deploy would run.

use super::{Layout, names, sections};

/// What detection looks at: the top-level files (with their text when it decoded) and the
/// folders (whether they hold an `up.sql`).
#[derive(Clone, Debug, Default)]
pub struct Seen<'a> {
    pub files: Vec<(&'a str, Option<&'a str>)>,
    pub folders: Vec<(&'a str, bool)>,
}

/// The layout, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub layout: Layout,
    pub evidence: String,
}

/// A folder that does not follow one layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// Marks of several layouts: each family with its files.
    Mixed(Vec<(String, Vec<String>)>),
    /// `.up.sql`/`.down.sql` pairs and nothing that says sqlx or golang-migrate.
    Ambiguous(Vec<String>),
}

impl Conflict {
    /// The message: every family and the files that carry its marks (the first few of each).
    pub fn message(&self) -> String {
        let list = |files: &[String]| {
            const SHOWN: usize = 5;
            let mut s = files
                .iter()
                .take(SHOWN)
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if files.len() > SHOWN {
                s.push_str(&format!(" and {} more", files.len() - SHOWN));
            }
            s
        };
        match self {
            Conflict::Mixed(families) => format!(
                "the migrations folder mixes the layouts of several tools: {}; a deploy runs the files of one tool only. Move the other files out, or set `[migrations] layout` in schemagate.toml to the tool that deploys this folder (the other files are then reported)",
                families
                    .iter()
                    .map(|(what, files)| format!("{what} ({})", list(files)))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Conflict::Ambiguous(files) => format!(
                "`.up.sql`/`.down.sql` pairs ({}) are written by both sqlx and golang-migrate, and nothing in the folder says which (they record history in different tables); set `[migrations] layout = \"sqlx\"` or `\"golang-migrate\"` in schemagate.toml",
                list(files)
            ),
        }
    }
}

/// The comments sqlx-cli writes into the files it creates.
const SQLX_TEMPLATES: [&str; 3] = [
    "-- Add migration script here",
    "-- Add up migration script here",
    "-- Add down migration script here",
];

fn plural(n: usize) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{n} files")
    }
}

pub fn detect(seen: &Seen<'_>) -> Result<Detected, Conflict> {
    let mut diesel = Vec::new();
    for (name, has_up) in &seen.folders {
        if *has_up && names::diesel_folder(name).is_some() {
            diesel.push(format!("{name}/up.sql"));
        }
    }
    let (mut flyway, mut dbmate, mut goose, mut pairs) = (vec![], vec![], vec![], vec![]);
    let (mut plain_sql, mut python, mut sqlx_template) = (vec![], vec![], vec![]);
    for (name, text) in &seen.files {
        let name = name.to_string();
        if matches!(names::parse(Layout::Flyway, &name), names::Parsed::Named(_))
            || (name.starts_with("R__") && name.ends_with(".sql"))
        {
            flyway.push(name);
            continue;
        }
        if matches!(names::parse(Layout::Legacy, &name), names::Parsed::Named(n) if n.kind == crate::name::Kind::Python)
        {
            python.push(name);
            continue;
        }
        let names::Parsed::Named(_) = names::parse(Layout::Dbmate, &name) else {
            continue;
        };
        let text = text.unwrap_or("");
        if SQLX_TEMPLATES
            .iter()
            .any(|t| text.lines().any(|l| l.trim() == *t))
        {
            sqlx_template.push(name.clone());
        }
        let marked_dbmate = sections::has_dbmate_marker(text);
        let marked_goose = sections::has_goose_marker(text);
        if marked_dbmate {
            dbmate.push(name.clone());
        }
        if marked_goose {
            goose.push(name.clone());
        }
        if name.ends_with(".up.sql") || name.ends_with(".down.sql") {
            pairs.push(name);
        } else if !marked_dbmate && !marked_goose {
            plain_sql.push(name);
        }
    }
    // A file with both kinds of markers is counted in both families: it is a conflict.
    let families: Vec<(Layout, &str, &Vec<String>)> = [
        (
            Layout::Diesel,
            "diesel `<version>_name/up.sql` folders",
            &diesel,
        ),
        (Layout::Flyway, "Flyway `V<n>__name.sql` files", &flyway),
        (Layout::Dbmate, "dbmate `-- migrate:up` markers", &dbmate),
        (Layout::Goose, "goose `-- +goose Up` markers", &goose),
        (Layout::GolangMigrate, "`.up.sql`/`.down.sql` pairs", &pairs),
    ]
    .into_iter()
    .filter(|(_, _, files)| !files.is_empty())
    .collect();
    let mixed = |mut families: Vec<(String, Vec<String>)>, extra: &[(&str, &Vec<String>)]| {
        for (what, files) in extra {
            if !files.is_empty() {
                families.push((what.to_string(), (*files).clone()));
            }
        }
        Conflict::Mixed(families)
    };
    let strong = |families: &[(Layout, &str, &Vec<String>)]| {
        families
            .iter()
            .map(|(_, what, files)| (what.to_string(), (*files).clone()))
            .collect::<Vec<_>>()
    };
    match families.as_slice() {
        [] => {
            if !sqlx_template.is_empty() && python.is_empty() {
                return Ok(Detected {
                    layout: Layout::Sqlx,
                    evidence: format!(
                        "the `-- Add migration script here` comments sqlx-cli writes ({})",
                        plural(sqlx_template.len())
                    ),
                });
            }
            let n = plain_sql.len() + python.len();
            Ok(Detected {
                layout: Layout::Legacy,
                evidence: if n == 0 {
                    "no migration files of any tool".into()
                } else {
                    format!(
                        "numbered `.sql`/`.py` files without another tool's marks ({})",
                        plural(n)
                    )
                },
            })
        }
        [(layout, _, files)] => {
            let layout = *layout;
            let python_conflict = [("numbered `.py` files (legacy Python migrations)", &python)];
            if !python.is_empty() {
                return Err(mixed(strong(&families), &python_conflict));
            }
            match layout {
                Layout::Diesel | Layout::Flyway if !plain_sql.is_empty() => Err(mixed(
                    strong(&families),
                    &[("numbered `.sql` files", &plain_sql)],
                )),
                // Files without markers in a marker folder: the tool refuses them, which is
                // what `missing-up-section` reports; a minority of marked files is more
                // likely an accident in a legacy folder.
                Layout::Dbmate | Layout::Goose if plain_sql.len() > files.len() => Err(mixed(
                    strong(&families),
                    &[("numbered `.sql` files without markers", &plain_sql)],
                )),
                Layout::GolangMigrate if !plain_sql.is_empty() => Ok(Detected {
                    layout: Layout::Sqlx,
                    evidence: format!(
                        "`.up.sql`/`.down.sql` pairs beside plain `.sql` files, which only sqlx runs ({})",
                        plural(files.len() + plain_sql.len())
                    ),
                }),
                Layout::GolangMigrate if !sqlx_template.is_empty() => Ok(Detected {
                    layout: Layout::Sqlx,
                    evidence: format!(
                        "the `-- Add up migration script here` comments sqlx-cli writes ({})",
                        plural(sqlx_template.len())
                    ),
                }),
                Layout::GolangMigrate => Err(Conflict::Ambiguous((*files).clone())),
                _ => {
                    let what = match layout {
                        Layout::Diesel => "`<version>_name/up.sql` folders",
                        Layout::Flyway => "`V<n>__name.sql` file names",
                        Layout::Dbmate => "`-- migrate:up` markers",
                        _ => "`-- +goose Up` markers",
                    };
                    let unit = match layout {
                        Layout::Diesel if files.len() == 1 => "1 folder".to_string(),
                        Layout::Diesel => format!("{} folders", files.len()),
                        _ => plural(files.len()),
                    };
                    Ok(Detected {
                        layout,
                        evidence: format!("{what} ({unit})"),
                    })
                }
            }
        }
        _ => Err(mixed(strong(&families), &[])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files<'a>(f: &'a [(&'a str, &'a str)]) -> Seen<'a> {
        Seen {
            files: f.iter().map(|(n, t)| (*n, Some(*t))).collect(),
            folders: Vec::new(),
        }
    }

    #[test]
    fn each_tool_by_its_marks() {
        let d = detect(&files(&[
            (
                "20200101_a.sql",
                "-- migrate:up\nSELECT 1;\n-- migrate:down\n",
            ),
            ("20200102_b.sql", "-- migrate:up\nSELECT 1;\n"),
        ]))
        .unwrap();
        assert_eq!(d.layout, Layout::Dbmate);
        assert_eq!(d.evidence, "`-- migrate:up` markers (2 files)");
        let d = detect(&files(&[("00001_a.sql", "-- +goose Up\nSELECT 1;\n")])).unwrap();
        assert_eq!(d.layout, Layout::Goose);
        let d = detect(&files(&[("V1__a.sql", "SELECT 1;"), ("R__v.sql", "")])).unwrap();
        assert_eq!(d.layout, Layout::Flyway);
        let seen = Seen {
            files: vec![("README.md", None)],
            folders: vec![("2023-01-01-000000_a", true), ("notes", false)],
        };
        assert_eq!(detect(&seen).unwrap().layout, Layout::Diesel);
        let d = detect(&files(&[("001_a.sql", "SELECT 1;"), ("002_b.py", "")])).unwrap();
        assert_eq!(d.layout, Layout::Legacy);
        assert_eq!(detect(&Seen::default()).unwrap().layout, Layout::Legacy);
    }

    #[test]
    fn sqlx_or_golang_migrate() {
        let pairs = [("1_a.up.sql", "SELECT 1;"), ("1_a.down.sql", "SELECT 1;")];
        assert!(matches!(
            detect(&files(&pairs)),
            Err(Conflict::Ambiguous(_))
        ));
        let with_plain = [pairs[0], pairs[1], ("2_b.sql", "SELECT 1;")];
        assert_eq!(detect(&files(&with_plain)).unwrap().layout, Layout::Sqlx);
        let templated = [
            ("1_a.up.sql", "-- Add up migration script here\n"),
            pairs[1],
        ];
        assert_eq!(detect(&files(&templated)).unwrap().layout, Layout::Sqlx);
        let simple = [(
            "20230101120000_a.sql",
            "-- Add migration script here\nSELECT 1;",
        )];
        assert_eq!(detect(&files(&simple)).unwrap().layout, Layout::Sqlx);
    }

    #[test]
    fn mixed_folders_name_the_files_of_each_tool() {
        let err = detect(&files(&[
            ("001_a.sql", "-- migrate:up\nSELECT 1;\n"),
            ("002_b.sql", "-- +goose Up\nSELECT 1;\n"),
        ]))
        .unwrap_err();
        let m = err.message();
        assert!(
            m.contains("`001_a.sql`") && m.contains("`002_b.sql`"),
            "{m}"
        );
        assert!(m.contains("dbmate") && m.contains("goose"), "{m}");
        let err = detect(&files(&[("V1__a.sql", ""), ("002_b.sql", "SELECT 1;")])).unwrap_err();
        assert!(err.message().contains("`002_b.sql`"));
        // One stray marker among many plain files is not a dbmate folder.
        let err = detect(&files(&[
            ("001_a.sql", "-- migrate:up\n"),
            ("002_b.sql", "SELECT 1;"),
            ("003_c.sql", "SELECT 1;"),
        ]))
        .unwrap_err();
        assert!(matches!(err, Conflict::Mixed(_)));
    }
}
