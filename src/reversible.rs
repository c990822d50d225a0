//! Shell: `check`'s reversibility check. On a scratch database, each migration of the chain
//! is applied in order; for each one with down SQL, a copy of the database is taken right
//! after its Up, and on the copy the Down runs, then the Up again: the Down must run and give
//! back the schema from before the Up, and the second Up must give the same schema as the
//! first. The copy is thrown away, so the chain goes on from the first Up whatever the Down
//! did. Nothing here touches the user's database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::Connection;

use crate::apply::down::{DownOptions, run_down};
use crate::apply::{ApplyOptions, apply_one};
use crate::lint::rules::down_not_reversible;
use crate::migration::{Kind, Migration};
use crate::report::Finding;
use crate::schema::{self, Schema};

#[derive(Clone, Debug)]
pub struct Options {
    /// The migrations folder on disk.
    pub migrations_dir: PathBuf,
    pub busy_timeout: Duration,
    pub migration_timeout: Option<Duration>,
}

fn read_schema(conn: &Connection) -> anyhow::Result<Schema> {
    crate::introspect::read_schema(conn).context("cannot read the schema of the scratch database")
}

fn objects(list: &[(schema::ObjectKind, String)]) -> String {
    list.iter()
        .map(|(k, n)| format!("{} {n}", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `down-not-reversible` findings for the migrations of `steps` (in apply order) that have
/// down SQL. Stops at the first Up that fails: the replay reports it.
pub fn check(steps: &[&Migration], opts: &Options) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    if !steps.iter().any(|m| m.down.is_some()) {
        return Ok(findings);
    }
    let dir = tempfile::Builder::new()
        .prefix("schemagate-reversible-")
        .tempdir()
        .context("cannot create a temporary folder for the reversibility check")?;
    let path = dir.path().join("scratch.db");
    let mut conn = open(&path, opts)?;
    let apply = ApplyOptions {
        record_history: false,
        commit: true,
        busy_timeout: opts.busy_timeout,
        migration_timeout: opts.migration_timeout,
        python: "python3",
        env: &[],
    };
    for m in steps {
        // Python migrations have no down SQL; a chain that needs one cannot go on here.
        if m.kind == Kind::Python {
            break;
        }
        let before = read_schema(&conn)?;
        let file = opts.migrations_dir.join(&m.file_name);
        if apply_one(&mut conn, &path, &file, m, &apply).is_err() {
            break;
        }
        if m.down.is_none() {
            continue;
        }
        let after_up = read_schema(&conn)?;
        let mut copy = Connection::open_in_memory().context("cannot open a scratch copy")?;
        crate::backup::copy(
            &conn,
            &mut copy,
            opts.busy_timeout.max(Duration::from_secs(5)),
        )?;
        findings.extend(round_trip(
            &mut copy, m, &file, &before, &after_up, &apply, opts,
        )?);
    }
    Ok(findings)
}

fn open(path: &Path, opts: &Options) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)
        .with_context(|| format!("cannot create the scratch database {}", path.display()))?;
    crate::db::setup_write_connection(&conn, opts.busy_timeout)?;
    // The scratch database is thrown away: durability buys nothing here.
    conn.pragma_update(None, "synchronous", "OFF")?;
    Ok(conn)
}

/// Down, then Up again, on `copy` (at `after_up`).
fn round_trip(
    copy: &mut Connection,
    m: &Migration,
    file: &Path,
    before: &Schema,
    after_up: &Schema,
    apply: &ApplyOptions<'_>,
    opts: &Options,
) -> anyhow::Result<Option<Finding>> {
    let down = DownOptions {
        commit: true,
        busy_timeout: opts.busy_timeout,
        migration_timeout: opts.migration_timeout,
    };
    if let Err(e) = run_down(copy, m, &[], &down) {
        let at = match (&e.path, e.line, e.column) {
            (Some(p), Some(l), Some(c)) => Some((p.as_str(), l, c)),
            _ => None,
        };
        return Ok(Some(down_not_reversible::finding(
            m,
            &format!("it fails: {}", e.message),
            at,
        )));
    }
    let after_down = read_schema(copy)?;
    let left = schema::changed_objects(before, &after_down);
    if !left.is_empty() {
        return Ok(Some(down_not_reversible::finding(
            m,
            &format!(
                "after it, the schema is not the one from before the Up ({} differ)",
                objects(&left)
            ),
            None,
        )));
    }
    // The scratch copy lives in memory: `apply_one` only needs a path for Python.
    if let Err(e) = apply_one(copy, Path::new(":memory:"), file, m, apply) {
        return Ok(Some(down_not_reversible::finding(
            m,
            &format!("the Up fails when run again after it: {}", e.message),
            None,
        )));
    }
    let again = read_schema(copy)?;
    let changed = schema::changed_objects(after_up, &again);
    Ok((!changed.is_empty()).then(|| {
        down_not_reversible::finding(
            m,
            &format!(
                "Up, Down and Up again give another schema than the first Up ({} differ)",
                objects(&changed)
            ),
            None,
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Layout, LayoutSetting};
    use crate::migration::{FolderEntry, discover_folder};

    fn dbmate(files: &[(&str, &str)]) -> crate::migration::Discovery {
        discover_folder(
            "m",
            LayoutSetting::Fixed(Layout::Dbmate),
            files
                .iter()
                .map(|(n, t)| FolderEntry::File {
                    name: n.to_string(),
                    bytes: t.as_bytes().to_vec(),
                })
                .collect(),
        )
    }

    fn run(d: &crate::migration::Discovery) -> Vec<Finding> {
        let steps: Vec<&Migration> = d.migrations.iter().collect();
        let opts = Options {
            migrations_dir: PathBuf::from("m"),
            busy_timeout: Duration::from_secs(1),
            migration_timeout: None,
        };
        check(&steps, &opts).unwrap()
    }

    #[test]
    fn a_down_that_forgets_an_object_is_reported_and_the_chain_goes_on() {
        let d = dbmate(&[
            (
                "1_users.sql",
                "-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);\nCREATE INDEX users_email ON users(email);\n-- migrate:down\nDROP TABLE users;\n",
            ),
            (
                "2_posts.sql",
                "-- migrate:up\nCREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));\n-- migrate:down\nDROP INDEX nope;\n",
            ),
            (
                "3_tags.sql",
                "-- migrate:up\nCREATE TABLE tags(id);\nCREATE INDEX tags_id ON tags(id);\n-- migrate:down\nDROP INDEX tags_id;\n",
            ),
        ]);
        let f = run(&d);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].message.contains("2_posts.sql"), "{}", f[0].message);
        assert!(
            f[0].message.contains("no such index: nope"),
            "{}",
            f[0].message
        );
        assert_eq!((f[0].line, f[0].column), (Some(4), Some(1)));
        assert!(f[1].message.contains("table tags"), "{}", f[1].message);
    }

    #[test]
    fn reversible_chains_are_clean_and_no_down_means_no_check() {
        let d = dbmate(&[(
            "1_users.sql",
            "-- migrate:up\nCREATE TABLE users(id);\nCREATE INDEX u ON users(id);\n-- migrate:down\nDROP INDEX u;\nDROP TABLE users;\n",
        )]);
        assert!(run(&d).is_empty());
        let d = dbmate(&[("1_users.sql", "-- migrate:up\nCREATE TABLE users(id);\n")]);
        assert!(d.migrations[0].down.is_none());
        assert!(run(&d).is_empty());
    }
}
