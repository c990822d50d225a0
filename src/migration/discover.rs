//! From the entries of a folder to the migrations of its layout (pure: the shell lists the
//! folder and reads the files, `crate::fsio::read_migrations_dir`).

use super::{
    Discovery, DownSql, FolderError, Kind, Migration, MissingUp, Unsupported, check_complete,
    decode, join_display,
};
use crate::layout::names::{self, Named, Parsed, Role};
use crate::layout::{Layout, LayoutSetting, Seen, sections};
use crate::name::FileName;
use crate::sql::LineIndex;

/// The files of a folder that a layout reads: `(file name, bytes)`.
pub type FolderFiles = Vec<(String, Vec<u8>)>;

/// One entry of the migrations folder, as the shell found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FolderEntry {
    /// A regular file (or a symbolic link to one) and its bytes. The shell reads the bytes
    /// of files whose name looks like a migration ([`names::looks_like_migration`]) and may
    /// leave them empty for the others.
    File { name: String, bytes: Vec<u8> },
    /// A folder and the regular files in it that a layout reads (diesel: `up.sql`,
    /// `down.sql`, `metadata.toml`).
    Folder { name: String, files: FolderFiles },
    /// Something that cannot be read as a file (a dangling symbolic link, a link loop, a
    /// FIFO): `what` says which. `name` may be `folder/file` for an entry inside a folder.
    Unreadable { name: String, what: String },
    /// A name that is not valid UTF-8, shown lossily.
    NonUtf8Name { lossy: String },
}

/// Discovers migrations among `(file name, bytes)` files of one folder, detecting the
/// layout from them.
pub fn discover<'a>(
    dir_display: &str,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Discovery {
    let entries = files
        .into_iter()
        .map(|(name, bytes)| FolderEntry::File {
            name: name.to_string(),
            bytes: bytes.to_vec(),
        })
        .collect();
    discover_folder(dir_display, LayoutSetting::Auto, entries)
}

/// Discovers the migrations of a folder in the layout `setting` gives, or the one its
/// entries show.
pub fn discover_folder(
    dir_display: &str,
    setting: LayoutSetting,
    entries: Vec<FolderEntry>,
) -> Discovery {
    let mut d = Discovery::default();
    let path = |name: &str| join_display(dir_display, name);
    let mut files: FolderFiles = Vec::new();
    let mut folders: Vec<(String, FolderFiles)> = Vec::new();
    for e in entries {
        match e {
            FolderEntry::File { name, bytes } => match names::extension_case_variant(&name) {
                Some(fixed) => d.errors.push(FolderError::Entry {
                    path: path(&name),
                    what: format!(
                        "the extension is not in lower case, so no migration tool runs this file; rename it to `{fixed}` (or move it out of the migrations folder)"
                    ),
                }),
                None => files.push((name, bytes)),
            },
            FolderEntry::Folder { name, files: inner } => folders.push((name, inner)),
            FolderEntry::Unreadable { name, what } => {
                let top = name.split('/').next().unwrap_or(&name);
                if name.contains('/') || names::looks_like_migration(top) {
                    d.errors.push(FolderError::Entry {
                        path: path(&name),
                        what: format!(
                            "{what}, named like a migration: schemagate cannot read it, and a migration that is skipped silently is a schema change that never happens; fix or remove it"
                        ),
                    });
                }
            }
            FolderEntry::NonUtf8Name { lossy } => {
                if names::looks_like_migration(&lossy) {
                    d.errors.push(FolderError::Entry {
                        path: path(&lossy),
                        what: "the file name is not valid UTF-8, so it cannot be matched or recorded as a migration; rename it".into(),
                    });
                }
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    folders.sort_by(|a, b| a.0.cmp(&b.0));

    let texts: Vec<Option<&str>> = files
        .iter()
        .map(|(name, bytes)| {
            let code = name.ends_with(".sql") || name.ends_with(".py");
            (code && names::looks_like_migration(name))
                .then(|| std::str::from_utf8(bytes).ok())
                .flatten()
        })
        .collect();
    let (layout, evidence) = match setting {
        LayoutSetting::Fixed(l) => (l, "`[migrations] layout` in schemagate.toml".to_string()),
        LayoutSetting::Auto => {
            let seen = Seen {
                files: files
                    .iter()
                    .zip(&texts)
                    .map(|((n, _), t)| (n.as_str(), *t))
                    .collect(),
                folders: folders
                    .iter()
                    .map(|(n, inner)| (n.as_str(), inner.iter().any(|(f, _)| f == "up.sql")))
                    .collect(),
            };
            match crate::layout::detect(&seen) {
                Ok(found) => (found.layout, found.evidence),
                Err(conflict) => {
                    d.errors.push(FolderError::Layout {
                        dir: dir_display.to_string(),
                        message: conflict.message(),
                    });
                    d.evidence = "no single layout".into();
                    return d;
                }
            }
        }
    };
    d.layout = layout;
    d.evidence = evidence;

    let mut downs: Vec<(Named, &str, &[u8])> = Vec::new();
    let flyway_settings: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|(n, _)| layout == Layout::Flyway && n.ends_with(".sql.conf"))
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    // Decoding, checking and hashing each file is most of the work for a large folder; it
    // is independent per file, so it runs on several threads (the result is the same).
    let found = par_map(&files, |(name, bytes)| match names::parse(layout, name) {
        Parsed::Named(n) if n.role == Role::Migration => {
            let no_tx = match layout {
                Layout::Flyway => flyway_settings
                    .iter()
                    .find(|(conf, _)| conf.strip_suffix(".conf") == Some(name.as_str()))
                    .is_some_and(|(_, b)| flyway_no_transaction(b)),
                _ => false,
            };
            Found::Built(Box::new(build_any(
                dir_display,
                layout,
                n,
                name,
                bytes,
                no_tx,
            )))
        }
        Parsed::Named(n) => Found::Down(n),
        Parsed::Unsupported { version, reason } => Found::Unsupported(Unsupported {
            path: path(name),
            file_name: name.clone(),
            version,
            reason,
        }),
        Parsed::Other => {
            let code = name.ends_with(".sql") || name.ends_with(".py");
            let settings = layout == Layout::Flyway && name.ends_with(".sql.conf");
            Found::Other(code && name != "__init__.py" && !settings)
        }
    });
    for (found, (name, bytes)) in found.into_iter().zip(&files) {
        match found {
            Found::Built(built) => match *built {
                Ok((m, missing)) => {
                    d.missing_up.extend(missing);
                    d.migrations.push(m);
                }
                Err(e) => d.errors.push(e),
            },
            Found::Down(n) => downs.push((n, name, bytes)),
            Found::Unsupported(u) => d.unsupported.push(u),
            Found::Other(true) => d.unversioned.push(name.clone()),
            Found::Other(false) => {}
        }
    }
    for (name, inner) in &folders {
        folder(&mut d, dir_display, layout, name, inner);
    }
    for (n, name, bytes) in downs {
        pair_down(&mut d, dir_display, layout, n, name, bytes);
    }
    d.migrations.sort_by(|a, b| {
        a.version
            .cmp(&b.version)
            .then_with(|| a.file_name.cmp(&b.file_name))
    });
    d.unversioned.sort();
    d.unsupported.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    d.missing_up.sort_by(|a, b| a.path.cmp(&b.path));
    d
}

/// What one file of the folder turned out to be.
enum Found {
    Built(Box<Result<(Migration, Vec<MissingUp>), FolderError>>),
    Down(Named),
    Unsupported(Unsupported),
    /// Not a migration; `true`: a `.sql`/`.py` file that `unversioned-file` reports.
    Other(bool),
}

/// `f` over `items`, on up to four threads for a long list (in order).
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    /// Fewer items than this per thread are done faster than a thread starts.
    const SHARE: usize = 128;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let share = items.len().div_ceil(threads).max(SHARE);
    if items.len() <= share {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(share)
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Builds the migration `n` names (or the reason it cannot be used).
fn build_any(
    dir: &str,
    layout: Layout,
    n: Named,
    file_name: &str,
    bytes: &[u8],
    no_transaction: bool,
) -> Result<(Migration, Vec<MissingUp>), FolderError> {
    if layout == Layout::Legacy {
        let parsed = FileName {
            version: n.version,
            name: n.name,
            kind: n.kind,
        };
        let m = Migration::new(dir, parsed, file_name, bytes)?;
        return match down_marker_error(&m) {
            Some(e) => Err(e),
            None => Ok((m, Vec::new())),
        };
    }
    let (m, missing) = build(dir, layout, n, file_name, bytes, no_transaction)?;
    match down_marker_error_in(layout, &m) {
        Some(e) => Err(e),
        None => Ok((m, missing)),
    }
}

/// A migration of a layout other than legacy: its Up and Down parts, its description and
/// transaction switch the way its tool reads them.
fn build(
    dir: &str,
    layout: Layout,
    n: Named,
    file_name: &str,
    bytes: &[u8],
    no_transaction: bool,
) -> Result<(Migration, Vec<MissingUp>), FolderError> {
    let path = join_display(dir, file_name);
    let text = decode(&path, bytes)?;
    let whole = 0..text.len();
    let (up, down, up_no_tx, problems) = match layout {
        Layout::Dbmate | Layout::Goose => {
            let s = if layout == Layout::Dbmate {
                sections::dbmate(text)
            } else {
                sections::goose(text)
            };
            // A file without an Up section runs nothing.
            let up = s.up.clone().unwrap_or(text.len()..text.len());
            let down = s.down.clone().map(|span| (span, s.down_no_transaction));
            (up, down, s.up_no_transaction, s.problems)
        }
        // sqlx reads `-- no-transaction` at the very start of the file.
        Layout::Sqlx => (
            whole,
            None,
            text.starts_with("-- no-transaction"),
            Vec::new(),
        ),
        _ => (whole, None, no_transaction, Vec::new()),
    };
    check_complete(&path, text, &up)?;
    if let Some((span, _)) = &down {
        check_complete(&path, text, span)?;
    }
    let index = (!problems.is_empty()).then(|| LineIndex::new(text));
    let missing = problems
        .into_iter()
        .map(|p| {
            let (line, column) = index.as_ref().expect("built").line_col(p.offset);
            MissingUp {
                path: path.clone(),
                line: Some(line),
                column: Some(column),
                message: p.message,
            }
        })
        .collect();
    let description = match layout {
        // What the tool itself records as the description.
        Layout::Sqlx | Layout::Flyway => n.name.replace('_', " "),
        _ => n.name.clone(),
    };
    let m = Migration {
        checksum: crate::checksum::sha256(Kind::Sql, bytes),
        legacy_checksum: crate::checksum::legacy(Kind::Sql, bytes),
        description,
        no_transaction: up_no_tx,
        down: down
            .map(|(span, no_transaction)| DownSql {
                file_name: file_name.to_string(),
                path: path.clone(),
                text: text.to_string(),
                span,
                no_transaction,
            })
            .filter(has_statements),
        up,
        path,
        file_name: file_name.to_string(),
        native_version: n.native_version,
        version: n.version,
        name: n.name,
        kind: Kind::Sql,
        text: text.to_string(),
    };
    Ok((m, missing))
}

/// A dbmate or goose Down marker in a layout that runs whole files: the Down SQL would run
/// forward. Refused: a Down section is never executed forward.
fn down_marker_error(m: &Migration) -> Option<FolderError> {
    down_marker_error_in(Layout::Legacy, m)
}

fn down_marker_error_in(layout: Layout, m: &Migration) -> Option<FolderError> {
    if m.kind != Kind::Sql || matches!(layout, Layout::Dbmate | Layout::Goose) {
        return None;
    }
    let (offset, marker) = sections::down_marker(&m.text)?;
    let (line, _) = LineIndex::new(&m.text).line_col(offset);
    let tool = if marker.contains("goose") {
        "goose"
    } else {
        "dbmate"
    };
    Some(FolderError::Entry {
        path: format!("{}:{line}", m.path),
        what: format!(
            "`{marker}` marks a Down section, but the {layout} layout runs the whole file, so the Down SQL would run forward; set `[migrations] layout = \"{tool}\"` in schemagate.toml, or move the Down SQL out of the file"
        ),
    })
}

/// Flyway's `V1__x.sql.conf`: `executeInTransaction=false` runs the script without one.
fn flyway_no_transaction(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).lines().any(|l| {
        l.split_once('=').is_some_and(|(k, v)| {
            k.trim() == "executeInTransaction" && v.trim().eq_ignore_ascii_case("false")
        })
    })
}

/// diesel's `metadata.toml`: `run_in_transaction = false`.
fn diesel_no_transaction(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("run_in_transaction").and_then(toml::Value::as_bool))
        == Some(false)
}

/// A folder: a diesel migration, or (in any other layout) an entry to refuse when it is
/// named like a migration.
fn folder(d: &mut Discovery, dir: &str, layout: Layout, name: &str, inner: &[(String, Vec<u8>)]) {
    let file = |f: &str| {
        inner
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, b)| b.as_slice())
    };
    if layout != Layout::Diesel {
        let named = matches!(names::parse(layout, name), Parsed::Named(_));
        if named || file("up.sql").is_some() {
            d.errors.push(FolderError::Entry {
                path: join_display(dir, name),
                what: if named {
                    format!(
                        "a folder named like a migration: the {layout} layout runs files, so it would be skipped silently; rename it or move it out of the migrations folder"
                    )
                } else {
                    format!(
                        "a diesel migration folder (it holds `up.sql`), but the layout is {layout}, which would skip it silently; set `[migrations] layout = \"diesel\"` or move it out"
                    )
                },
            });
        }
        return;
    }
    let Some(n) = names::diesel_folder(name) else {
        return;
    };
    let Some(up) = file("up.sql") else {
        d.missing_up.push(MissingUp {
            path: join_display(dir, name),
            line: None,
            column: None,
            message: "no `up.sql` in this diesel migration folder: diesel refuses the folder, and schemagate runs nothing of it".into(),
        });
        return;
    };
    let no_tx = file("metadata.toml").is_some_and(diesel_no_transaction);
    let up_name = format!("{name}/up.sql");
    match build(dir, layout, n, &up_name, up, no_tx) {
        Ok((mut m, _)) => {
            if let Some(bytes) = file("down.sql") {
                match down_file(dir, &format!("{name}/down.sql"), bytes, no_tx) {
                    Ok(down) => m.down = Some(down).filter(has_statements),
                    Err(e) => d.errors.push(e),
                }
            }
            d.migrations.push(m);
        }
        Err(e) => d.errors.push(e),
    }
}

/// Down SQL with nothing to run (an empty `-- migrate:down` section, an empty `down.sql`)
/// is no way back: `rollback` refuses the migration instead of forgetting it.
fn has_statements(down: &DownSql) -> bool {
    !down.statements().is_empty()
}

/// A down file, whole.
fn down_file(
    dir: &str,
    file_name: &str,
    bytes: &[u8],
    no_transaction: bool,
) -> Result<DownSql, FolderError> {
    let path = join_display(dir, file_name);
    let text = decode(&path, bytes)?;
    check_complete(&path, text, &(0..text.len()))?;
    Ok(DownSql {
        file_name: file_name.to_string(),
        path,
        span: 0..text.len(),
        text: text.to_string(),
        no_transaction,
    })
}

/// Attaches a `.down.sql` (or Flyway `U`) file to its migration: the one with the same
/// version and name, else the only one with the same version.
fn pair_down(
    d: &mut Discovery,
    dir: &str,
    layout: Layout,
    n: Named,
    file_name: &str,
    bytes: &[u8],
) {
    let path = join_display(dir, file_name);
    let same_name = d
        .migrations
        .iter()
        .position(|m| m.version == n.version && m.name == n.name);
    let same_version: Vec<usize> = d
        .migrations
        .iter()
        .enumerate()
        .filter(|(_, m)| m.version == n.version)
        .map(|(i, _)| i)
        .collect();
    let target = same_name.or(match same_version.as_slice() {
        [one] => Some(*one),
        _ => None,
    });
    let Some(i) = target.filter(|i| d.migrations[*i].down.is_none()) else {
        let v = &n.native_version;
        if n.role == Role::Undo {
            d.unsupported.push(Unsupported {
                path,
                file_name: file_name.to_string(),
                version: Some(v.clone()),
                reason: format!(
                    "a Flyway undo script without its `V{v}__` migration (refinery reads `U` files as unversioned migrations instead; schemagate never runs an undo script forward)"
                ),
            });
        } else if same_version.is_empty() {
            d.missing_up.push(MissingUp {
                path,
                line: None,
                column: None,
                message: format!(
                    "a down file without an up file for version {v}: {} has nothing to apply for it",
                    layout.tool()
                ),
            });
        } else {
            d.unsupported.push(Unsupported {
                path,
                file_name: file_name.to_string(),
                version: Some(v.clone()),
                reason: format!(
                    "a second down file for version {v}, which cannot be paired with one migration"
                ),
            });
        }
        return;
    };
    let no_tx = layout == Layout::Sqlx && bytes.starts_with(b"-- no-transaction");
    match down_file(dir, file_name, bytes, no_tx) {
        Ok(down) => d.migrations[i].down = Some(down).filter(has_statements),
        Err(e) => d.errors.push(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(layout: LayoutSetting, f: &[(&str, &str)]) -> Discovery {
        let entries = f
            .iter()
            .map(|(n, t)| FolderEntry::File {
                name: n.to_string(),
                bytes: t.as_bytes().to_vec(),
            })
            .collect();
        discover_folder("m", layout, entries)
    }

    const DBMATE: &str = "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n";

    #[test]
    fn dbmate_up_is_a_span_and_down_is_separate() {
        let d = files(LayoutSetting::Auto, &[("20230101000000_users.sql", DBMATE)]);
        assert_eq!(d.layout, Layout::Dbmate);
        let m = &d.migrations[0];
        assert_eq!(
            m.up_sql(),
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\n"
        );
        let st = m.up_statements();
        assert_eq!(st.len(), 1);
        let (line, col) = LineIndex::new(&m.text).line_col(st[0].span.start);
        assert_eq!((line, col), (2, 1), "positions are the file's");
        let down = m.down.as_ref().unwrap();
        assert_eq!(down.sql(), "DROP TABLE users;\n");
        assert_eq!(down.statements()[0].text(&down.text), "DROP TABLE users;");
        assert_eq!(m.native_version, "20230101000000");
        assert_eq!(m.description, "users");
    }

    #[test]
    fn pairs_and_folders() {
        let d = files(
            LayoutSetting::Fixed(Layout::GolangMigrate),
            &[
                ("000001_a.up.sql", "CREATE TABLE a(x);"),
                ("000001_a.down.sql", "DROP TABLE a;"),
                ("000002_b.down.sql", "DROP TABLE b;"),
            ],
        );
        assert_eq!(d.migrations.len(), 1);
        assert_eq!(d.migrations[0].native_version, "1");
        assert_eq!(
            d.migrations[0].down.as_ref().unwrap().path,
            "m/000001_a.down.sql"
        );
        assert!(
            d.missing_up[0]
                .message
                .contains("down file without an up file")
        );

        let entries = vec![
            FolderEntry::Folder {
                name: "2023-01-01-000000_users".into(),
                files: vec![
                    ("up.sql".into(), b"CREATE TABLE u(x);".to_vec()),
                    ("down.sql".into(), b"DROP TABLE u;".to_vec()),
                    (
                        "metadata.toml".into(),
                        b"run_in_transaction = false\n".to_vec(),
                    ),
                ],
            },
            FolderEntry::Folder {
                name: "2023-01-02-000000_empty".into(),
                files: vec![],
            },
        ];
        let d = discover_folder("m", LayoutSetting::Auto, entries);
        assert_eq!((d.layout, d.migrations.len()), (Layout::Diesel, 1));
        let m = &d.migrations[0];
        assert_eq!(m.file_name, "2023-01-01-000000_users/up.sql");
        assert_eq!(m.native_version, "20230101000000");
        assert!(m.no_transaction);
        assert_eq!(m.down.as_ref().unwrap().sql(), "DROP TABLE u;");
        assert!(d.missing_up[0].path.ends_with("2023-01-02-000000_empty"));
    }

    #[test]
    fn a_down_marker_never_runs_forward_in_a_whole_file_layout() {
        let d = files(
            LayoutSetting::Fixed(Layout::Legacy),
            &[("001_users.sql", DBMATE)],
        );
        assert!(d.migrations.is_empty());
        let e = d.errors[0].to_string();
        assert!(e.starts_with("m/001_users.sql:4:"), "{e}");
        assert!(e.contains("would run forward"), "{e}");
    }

    #[test]
    fn nul_bytes_and_open_comments_are_refused() {
        let d = files(
            LayoutSetting::Auto,
            &[("001_a.sql", "CREATE TABLE a(x);\0DROP TABLE a;")],
        );
        assert_eq!(
            d.errors,
            [FolderError::Nul {
                path: "m/001_a.sql".into(),
                byte: 18
            }]
        );
        let d = files(
            LayoutSetting::Auto,
            &[(
                "001_a.sql",
                "CREATE TABLE a(x);\n/* later\nCREATE TABLE b(x);\n",
            )],
        );
        assert!(
            d.errors[0]
                .to_string()
                .starts_with("m/001_a.sql:2:1: a `/*` comment")
        );
        // A closed comment is fine.
        let d = files(LayoutSetting::Auto, &[("001_a.sql", "/* x */ SELECT 1;")]);
        assert!(d.errors.is_empty());
    }

    #[test]
    fn odd_entries_named_like_migrations_are_errors() {
        let entries = vec![
            FolderEntry::Unreadable {
                name: "002_x.sql".into(),
                what: "a dangling symbolic link".into(),
            },
            FolderEntry::Unreadable {
                name: "notes.md".into(),
                what: "a FIFO".into(),
            },
            FolderEntry::NonUtf8Name {
                lossy: "003_\u{fffd}.sql".into(),
            },
            FolderEntry::File {
                name: "004_x.SQL".into(),
                bytes: b"SELECT 1;".to_vec(),
            },
            FolderEntry::Folder {
                name: "005_x.sql".into(),
                files: vec![],
            },
        ];
        let d = discover_folder("m", LayoutSetting::Auto, entries);
        let paths: Vec<_> = d.errors.iter().map(FolderError::path).collect();
        assert_eq!(
            paths,
            [
                "m/002_x.sql",
                "m/003_\u{fffd}.sql",
                "m/004_x.SQL",
                "m/005_x.sql"
            ]
        );
        assert!(d.errors[2].to_string().contains("`004_x.sql`"));
    }

    #[test]
    fn unsupported_numbered_files() {
        let d = files(
            LayoutSetting::Auto,
            &[
                ("00001_a.sql", "-- +goose Up\nCREATE TABLE a(x);\n"),
                ("00002_seed.go", "package migrations"),
            ],
        );
        assert_eq!(d.layout, Layout::Goose);
        assert_eq!(d.unsupported[0].file_name, "00002_seed.go");
        assert_eq!(d.unsupported[0].version.as_deref(), Some("00002"));
        let d = files(
            LayoutSetting::Auto,
            &[
                ("V1__a.sql", "CREATE TABLE a(x);"),
                ("U1__a.sql", "DROP TABLE a;"),
                ("U2__b.sql", "DROP TABLE b;"),
                ("R__views.sql", "CREATE VIEW v AS SELECT 1;"),
            ],
        );
        assert_eq!(
            d.migrations[0].down.as_ref().unwrap().file_name,
            "U1__a.sql"
        );
        let names: Vec<_> = d.unsupported.iter().map(|u| u.file_name.as_str()).collect();
        assert_eq!(names, ["R__views.sql", "U2__b.sql"]);
    }

    #[test]
    fn mixed_layouts_are_one_error_naming_the_files() {
        let d = files(
            LayoutSetting::Auto,
            &[
                ("001_a.sql", DBMATE),
                ("002_b.sql", "-- +goose Up\nSELECT 1;\n"),
            ],
        );
        assert!(d.migrations.is_empty());
        let e = d.errors[0].to_string();
        assert!(e.starts_with("m: the migrations folder mixes"), "{e}");
        assert!(e.contains("`002_b.sql`"), "{e}");
    }
}
