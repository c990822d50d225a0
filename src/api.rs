//! The library entry point for Rust applications: the counterpart of the legacy manager's
//! `auto_migrate(db_path)`, returning what `migrate --format json` prints.

use std::path::Path;

use crate::layout::LayoutSetting;

pub use crate::apply::{MigrateOptions, MigrateResult, MigrateStatus};

/// Applies what is pending in `./migrations` (or `[migrations] dir` of the `schemagate.toml`
/// found from the working directory) to the database at `db_path`, creating it when it does
/// not exist. When something is pending on an existing database, a backup is written to
/// `<db dir>/backups/` first, as the legacy manager did. Never panics: every problem comes
/// back as status `error`.
///
/// ```no_run
/// let result = schemagate::auto_migrate("data/app.db");
/// if result.status == schemagate::MigrateStatus::Error {
///     eprintln!("migration failed: {:?}", result.error);
/// }
/// ```
pub fn auto_migrate(db_path: impl AsRef<Path>) -> MigrateResult {
    let config = std::env::current_dir()
        .ok()
        .and_then(|cwd| crate::fsio::discover_config(None, &cwd).ok());
    let layout = config
        .as_ref()
        .map_or(LayoutSetting::Auto, |(c, _)| c.migrations.layout);
    let dir = config
        .map(|(config, root)| match root {
            Some(root) if config.migrations.dir.is_relative() => root.join(&config.migrations.dir),
            _ => config.migrations.dir,
        })
        .unwrap_or_else(|| "migrations".into());
    let db = db_path.as_ref();
    let backups = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("backups");
    let opts = MigrateOptions {
        backup: crate::apply::BackupPolicy::Into {
            dir: backups,
            keep: None,
        },
        ..MigrateOptions::default()
    };
    migrate_folder(db, &dir, layout, &opts)
}

/// [`auto_migrate`] with an explicit migrations folder (its layout detected) and options.
pub fn auto_migrate_with(
    db_path: impl AsRef<Path>,
    migrations_dir: impl AsRef<Path>,
    opts: &MigrateOptions,
) -> MigrateResult {
    migrate_folder(
        db_path.as_ref(),
        migrations_dir.as_ref(),
        LayoutSetting::Auto,
        opts,
    )
}

fn migrate_folder(
    db: &Path,
    dir: &Path,
    layout: LayoutSetting,
    opts: &MigrateOptions,
) -> MigrateResult {
    let display = dir.to_string_lossy().replace('\\', "/");
    let discovery = match crate::fsio::read_migrations_folder(dir, &display, layout) {
        Ok(d) => d,
        Err(e) => return MigrateResult::failed(format!("{e:#}")),
    };
    if !discovery.errors.is_empty() {
        let all: Vec<String> = discovery.errors.iter().map(ToString::to_string).collect();
        return MigrateResult::failed(all.join("\n"));
    }
    match crate::apply::migrate(db, dir, &discovery, opts, &mut |_| {}) {
        Ok(r) => r,
        Err(e) => MigrateResult::failed(format!("{e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_migrate_applies_then_reports_current() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("migrations");
        std::fs::create_dir(&m).unwrap();
        std::fs::write(m.join("001_a.sql"), "CREATE TABLE a(x);").unwrap();
        std::fs::write(m.join("002_b.sql"), "CREATE TABLE b(x);").unwrap();
        let db = dir.path().join("app.db");
        let r = auto_migrate_with(&db, &m, &MigrateOptions::default());
        assert_eq!(r.status, MigrateStatus::Migrated, "{r:?}");
        assert_eq!(r.applied, ["001", "002"]);
        assert_eq!(r.count, 2);
        assert!(r.created);
        let json = serde_json::to_value(&r).unwrap();
        for key in ["status", "applied", "count", "backup", "error"] {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        let again = auto_migrate_with(&db, &m, &MigrateOptions::default());
        assert_eq!(again.status, MigrateStatus::Current);
        assert_eq!(again.count, 0);
    }

    #[test]
    fn missing_folder_is_an_error_result() {
        let dir = tempfile::tempdir().unwrap();
        let r = auto_migrate_with(
            dir.path().join("x.db"),
            dir.path().join("nope"),
            &MigrateOptions::default(),
        );
        assert_eq!(r.status, MigrateStatus::Error);
        assert!(!dir.path().join("x.db").exists());
    }

    #[test]
    fn another_tools_folder_is_refused_before_the_database_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("migrations");
        std::fs::create_dir(&m).unwrap();
        std::fs::write(
            m.join("20240101000000_a.sql"),
            "-- +goose Up\nCREATE TABLE a(x);\n-- +goose Down\nDROP TABLE a;\n",
        )
        .unwrap();
        let db = dir.path().join("app.db");
        let r = auto_migrate_with(&db, &m, &MigrateOptions::default());
        assert_eq!(r.status, MigrateStatus::Error);
        let message = r.error.unwrap().message;
        assert!(message.contains("run `goose up`"), "{message}");
        assert!(!db.exists());
    }
}
