//! What a file name means in each layout, read the way each tool reads it (pure).
//!
//! - legacy: `<digits>_<name>.sql|.py` ([`crate::name::parse_file_name`]).
//! - sqlx (`sqlx-core/src/migrate/source.rs`): the name is split at its first `_`; the rest
//!   must end in `.sql`; the part before must parse as an `i64`. `.up.sql` and `.down.sql`
//!   make a reversible pair, anything else is a simple migration.
//! - golang-migrate (`source/parse.go`): `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, version a
//!   `uint64`; files without `.up.`/`.down.` are not migrations to it.
//! - dbmate: `^(\d+)_.*\.sql$`; the version is the digit string as written.
//! - goose (`NumericComponent`): `.sql` or `.go`, the part before the first `_` an `int64`
//!   above zero.
//! - Flyway and refinery: `V<version>__<name>.sql` (`U` undo, `R__<name>.sql` repeatable);
//!   Flyway writes version parts with `.` or `_` (`V1_2__x.sql` is version 1.2).
//! - diesel (`migrations_internals`): a folder `<version>_<name>` holding `up.sql` (and
//!   usually `down.sql`); the version is the part before the first `_` without its `-`.

use super::Layout;
use crate::name::{FileName, Kind, Version, parse_file_name};

/// What a file is in a layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A migration: the whole file, or (dbmate, goose) its Up section.
    Migration,
    /// The Down file of the migration with the same version (sqlx, golang-migrate).
    Down,
    /// A Flyway undo script: the down SQL of the `V` migration with the same version.
    Undo,
}

/// A file name that names a migration (or its down file) in a layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub version: Version,
    /// The version exactly as the tool records it in its history table: sqlx, goose,
    /// golang-migrate and refinery store integers (`0042` is recorded as `42`); dbmate
    /// and diesel store the digits as written (diesel without its `-`); Flyway the
    /// dotted version (`1_2` is `1.2`); legacy the digits as written.
    pub native_version: String,
    /// The name part between the version and the extension (`create_users`).
    pub name: String,
    pub kind: Kind,
    pub role: Role,
}

/// What a file name is to a layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Named(Named),
    /// Numbered like a migration, but nothing schemagate can run: `reason` says what it is.
    Unsupported {
        version: Option<String>,
        reason: String,
    },
    /// Not a migration of this layout.
    Other,
}

/// How `layout` reads the top-level file `file_name`.
pub fn parse(layout: Layout, file_name: &str) -> Parsed {
    match layout {
        Layout::Legacy => legacy(file_name),
        Layout::Sqlx => sqlx(file_name),
        Layout::GolangMigrate => golang_migrate(file_name),
        Layout::Dbmate => dbmate(file_name),
        Layout::Goose => goose(file_name),
        Layout::Flyway => flyway(file_name),
        // diesel reads folders only; a file is nothing to it.
        Layout::Diesel => unsupported_code(file_name).unwrap_or(Parsed::Other),
    }
}

/// A diesel migration folder name: `<version>_<name>`, the version digits (and `-`).
pub fn diesel_folder(folder: &str) -> Option<Named> {
    let (prefix, name) = folder.split_once('_')?;
    let digits: String = prefix.chars().filter(|c| *c != '-').collect();
    if !prefix.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let version = Version::parse(&digits)?;
    Some(Named {
        native_version: digits,
        version,
        name: name.to_string(),
        kind: Kind::Sql,
        role: Role::Migration,
    })
}

/// Names that may be a migration of some layout: a leading digit, a Flyway prefix, or a
/// `.sql` extension in any case. The shell reads these entries and refuses the ones it
/// cannot read as files (a partial view of the folder is how migrations get skipped).
pub fn looks_like_migration(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_digit())
        || flyway_prefixed(name)
        || name.to_ascii_lowercase().ends_with(".sql")
}

/// A numbered or Flyway-named file whose `.sql`/`.py` extension is not in lower case
/// (`002_x.SQL`): every tool matches extensions case-sensitively, so it would never run.
/// Returns the name it should have.
pub fn extension_case_variant(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    let lower = ext.to_ascii_lowercase();
    let numbered = name.starts_with(|c: char| c.is_ascii_digit()) || flyway_prefixed(name);
    (numbered && (lower == "sql" || lower == "py") && ext != lower)
        .then(|| format!("{stem}.{lower}"))
}

fn flyway_prefixed(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('V' | 'U' | 'R'))
        && (chars.next().is_some_and(|c| c.is_ascii_digit()) || name.starts_with("R__"))
}

/// The digits before the first `_`, when there are any.
fn numbered(file_name: &str) -> Option<(&str, &str)> {
    let (digits, rest) = file_name.split_once('_')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some((digits, rest))
}

/// A numbered file in a language no layout's SQL runner executes (`003_seed.go`,
/// `004_backfill.js`), or with an extension that is no migration at all (`004_x.sql~`).
fn unsupported_code(file_name: &str) -> Option<Parsed> {
    let (digits, _) = numbered(file_name)?;
    let ext = file_name.rsplit_once('.').map_or("", |(_, e)| e);
    let reason = match ext {
        // A `.sql` file the layout does not name as a migration is `unversioned-file`'s.
        "sql" => return None,
        "py" => "a Python migration, which only the legacy layout runs".to_string(),
        "go" => "a Go migration (goose compiles these into the application)".to_string(),
        "js" | "ts" | "mjs" | "cjs" => format!("a JavaScript migration (`.{ext}`)"),
        "rb" => "a Ruby migration".to_string(),
        "rs" => "a Rust migration".to_string(),
        "sh" => "a shell script".to_string(),
        "java" | "kt" => "a JVM migration".to_string(),
        "" => "a file without an extension".to_string(),
        other => format!("a `.{other}` file, not `.sql`"),
    };
    Some(Parsed::Unsupported {
        version: Some(digits.to_string()),
        reason,
    })
}

fn named(version: Version, native: String, name: &str, kind: Kind, role: Role) -> Parsed {
    Parsed::Named(Named {
        version,
        native_version: native,
        name: name.to_string(),
        kind,
        role,
    })
}

fn legacy(file_name: &str) -> Parsed {
    match parse_file_name(file_name) {
        Some(FileName {
            version,
            name,
            kind,
        }) => {
            let native = version.as_str().to_string();
            named(version, native, &name, kind, Role::Migration)
        }
        None => unsupported_code(file_name).unwrap_or(Parsed::Other),
    }
}

/// An integer version the way Rust's `i64::from_str` and Go's `strconv.ParseInt` read
/// digit strings: leading zeros allowed, the value must fit.
fn integer(digits: &str) -> Option<i64> {
    digits.parse::<i64>().ok()
}

fn sqlx(file_name: &str) -> Parsed {
    let Some((digits, rest)) = numbered(file_name) else {
        return Parsed::Other;
    };
    if !rest.ends_with(".sql") {
        return python_or_code(file_name, "sqlx");
    }
    let Some(n) = integer(digits) else {
        return Parsed::Unsupported {
            version: Some(digits.to_string()),
            reason: "a version too large for sqlx's 64-bit integer".into(),
        };
    };
    let version = Version::parse(digits).expect("digits");
    let (name, role) = if let Some(name) = rest.strip_suffix(".up.sql") {
        (name, Role::Migration)
    } else if let Some(name) = rest.strip_suffix(".down.sql") {
        (name, Role::Down)
    } else {
        (rest.trim_end_matches(".sql"), Role::Migration)
    };
    named(version, n.to_string(), name, Kind::Sql, role)
}

fn golang_migrate(file_name: &str) -> Parsed {
    let Some((digits, rest)) = numbered(file_name) else {
        return Parsed::Other;
    };
    let direction = [(".up.", Role::Migration), (".down.", Role::Down)]
        .into_iter()
        .filter_map(|(marker, role)| rest.rfind(marker).map(|i| (i, marker, role)))
        .max_by_key(|(i, _, _)| *i);
    let Some((at, marker, role)) = direction else {
        return python_or_code(file_name, "golang-migrate");
    };
    // golang-migrate reads every extension (the driver decides what it means).
    let ext = &rest[at + marker.len()..];
    if ext != "sql" {
        return Parsed::Unsupported {
            version: Some(digits.to_string()),
            reason: format!("a golang-migrate `.{ext}` migration (another database driver's)"),
        };
    }
    let Ok(n) = digits.parse::<u64>() else {
        return Parsed::Unsupported {
            version: Some(digits.to_string()),
            reason: "a version too large for golang-migrate's 64-bit integer".into(),
        };
    };
    let version = Version::parse(digits).expect("digits");
    named(version, n.to_string(), &rest[..at], Kind::Sql, role)
}

fn dbmate(file_name: &str) -> Parsed {
    let Some((digits, rest)) = numbered(file_name) else {
        return Parsed::Other;
    };
    let Some(name) = rest.strip_suffix(".sql") else {
        return python_or_code(file_name, "dbmate");
    };
    let version = Version::parse(digits).expect("digits");
    named(
        version,
        digits.to_string(),
        name,
        Kind::Sql,
        Role::Migration,
    )
}

fn goose(file_name: &str) -> Parsed {
    let Some((digits, rest)) = numbered(file_name) else {
        return Parsed::Other;
    };
    let Some(name) = rest.strip_suffix(".sql") else {
        return python_or_code(file_name, "goose");
    };
    match integer(digits) {
        Some(n) if n > 0 => {
            let version = Version::parse(digits).expect("digits");
            named(version, n.to_string(), name, Kind::Sql, Role::Migration)
        }
        Some(_) => Parsed::Unsupported {
            version: Some(digits.to_string()),
            reason: "version 0, which goose refuses (migration IDs must be greater than zero)"
                .into(),
        },
        None => Parsed::Unsupported {
            version: Some(digits.to_string()),
            reason: "a version too large for goose's 64-bit integer".into(),
        },
    }
}

fn flyway(file_name: &str) -> Parsed {
    if let Some(rest) = file_name.strip_prefix("R__") {
        return if rest.ends_with(".sql") {
            Parsed::Unsupported {
                version: None,
                reason: "a Flyway repeatable migration (Flyway re-applies it whenever it changes, after the versioned ones); schemagate does not apply repeatables".into(),
            }
        } else {
            Parsed::Other
        };
    }
    let role = match file_name.chars().next() {
        Some('V') => Role::Migration,
        Some('U') => Role::Undo,
        _ => return unsupported_code(file_name).unwrap_or(Parsed::Other),
    };
    let Some((version_text, rest)) = file_name[1..].split_once("__") else {
        return Parsed::Other;
    };
    let dotted = version_text.replace('_', ".");
    let Some(version) = Version::parse_dotted(&dotted) else {
        return Parsed::Other;
    };
    // `V1__x.sql.conf`: Flyway's per-script settings, read with the script.
    if rest.ends_with(".sql.conf") {
        return Parsed::Other;
    }
    match rest.strip_suffix(".sql") {
        Some(name) if !name.is_empty() => named(version, dotted, name, Kind::Sql, role),
        Some(_) => Parsed::Other,
        None => Parsed::Unsupported {
            version: Some(dotted),
            reason: match rest.rsplit_once('.') {
                Some((_, ext)) => format!("a Flyway `.{ext}` migration, not `.sql`"),
                None => "a file without an extension".into(),
            },
        },
    }
}

/// A numbered file that is not `.sql` in a SQL-only layout: a legacy Python migration, or
/// code.
fn python_or_code(file_name: &str, tool: &str) -> Parsed {
    if file_name.ends_with(".py") {
        let (digits, _) = numbered(file_name).expect("numbered");
        return Parsed::Unsupported {
            version: Some(digits.to_string()),
            reason: format!("a Python migration, which {tool} does not run"),
        };
    }
    unsupported_code(file_name).unwrap_or(Parsed::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named_of(layout: Layout, name: &str) -> Named {
        match parse(layout, name) {
            Parsed::Named(n) => n,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn sqlx_names() {
        let n = named_of(Layout::Sqlx, "20230101120000_create-users.up.sql");
        assert_eq!(
            (n.native_version.as_str(), n.name.as_str(), &n.role),
            ("20230101120000", "create-users", &Role::Migration)
        );
        let d = named_of(Layout::Sqlx, "0042_x.down.sql");
        assert_eq!((d.native_version.as_str(), &d.role), ("42", &Role::Down));
        assert_eq!(named_of(Layout::Sqlx, "1_simple.sql").name, "simple");
        assert!(matches!(
            parse(Layout::Sqlx, "99999999999999999999_x.sql"),
            Parsed::Unsupported { .. }
        ));
        assert_eq!(parse(Layout::Sqlx, "schema.sql"), Parsed::Other);
    }

    #[test]
    fn golang_migrate_names() {
        let n = named_of(Layout::GolangMigrate, "000001_create_users.up.sql");
        assert_eq!(
            (n.native_version.as_str(), n.name.as_str()),
            ("1", "create_users")
        );
        assert_eq!(
            named_of(Layout::GolangMigrate, "2_a.b.down.sql").name,
            "a.b"
        );
        assert_eq!(parse(Layout::GolangMigrate, "3_plain.sql"), Parsed::Other);
        assert!(matches!(
            parse(Layout::GolangMigrate, "4_x.up.json"),
            Parsed::Unsupported { .. }
        ));
    }

    #[test]
    fn dbmate_and_goose_names() {
        let d = named_of(Layout::Dbmate, "20200101000000_x.sql");
        assert_eq!(d.native_version, "20200101000000");
        let g = named_of(Layout::Goose, "00002_add_index.sql");
        assert_eq!(g.native_version, "2");
        match parse(Layout::Goose, "00003_seed.go") {
            Parsed::Unsupported { version, reason } => {
                assert_eq!(version.as_deref(), Some("00003"));
                assert!(reason.contains("Go"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(Layout::Goose, "0_x.sql"),
            Parsed::Unsupported { .. }
        ));
    }

    #[test]
    fn flyway_names() {
        let v = named_of(Layout::Flyway, "V1_2__Add_people.sql");
        assert_eq!(
            (v.native_version.as_str(), v.name.as_str(), &v.role),
            ("1.2", "Add_people", &Role::Migration)
        );
        assert_eq!(named_of(Layout::Flyway, "U3__undo.sql").role, Role::Undo);
        assert!(matches!(
            parse(Layout::Flyway, "R__views.sql"),
            Parsed::Unsupported { version: None, .. }
        ));
        assert_eq!(
            parse(Layout::Flyway, "V1_missing_separator.sql"),
            Parsed::Other
        );
        assert_eq!(parse(Layout::Flyway, "001_legacy.sql"), Parsed::Other);
    }

    #[test]
    fn diesel_folders() {
        let n = diesel_folder("2023-01-15-093000_create_users").unwrap();
        assert_eq!(
            (n.native_version.as_str(), n.name.as_str()),
            ("20230115093000", "create_users")
        );
        assert_eq!(n.version.as_str(), "20230115093000");
        assert!(diesel_folder("notes").is_none());
        assert!(diesel_folder("x-1_a").is_none());
    }

    #[test]
    fn unsupported_and_case_variants() {
        assert!(matches!(
            parse(Layout::Legacy, "004_backfill.js"),
            Parsed::Unsupported { .. }
        ));
        assert_eq!(parse(Layout::Legacy, "notes.md"), Parsed::Other);
        assert_eq!(
            extension_case_variant("002_x.SQL").as_deref(),
            Some("002_x.sql")
        );
        assert_eq!(
            extension_case_variant("V2__x.Sql").as_deref(),
            Some("V2__x.sql")
        );
        assert_eq!(extension_case_variant("002_x.sql"), None);
        assert_eq!(extension_case_variant("SCHEMA.SQL"), None);
        assert!(looks_like_migration("002_x.sql"));
        assert!(looks_like_migration("R__views.sql"));
        assert!(looks_like_migration("schema.SQL"));
        assert!(!looks_like_migration("README.md"));
        assert!(!looks_like_migration("Vendor.txt"));
    }
}
