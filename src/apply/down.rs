//! Running a migration's down SQL (shell): `rollback` where the layout has down SQL, and
//! `check`'s reversibility check. The down SQL runs the way an Up runs: one `BEGIN
//! IMMEDIATE` transaction with whatever must commit with it (the history change and the
//! audit row), transaction control denied, foreign keys off before BEGIN and new violations
//! checked before COMMIT, the migration timeout. It always runs in a transaction, even when
//! the tool would run it without one (`transaction:false`, `NO TRANSACTION`): a statement
//! that cannot (VACUUM) then fails and changes nothing, which is what a rollback needs.

use std::time::Duration;

use rusqlite::Connection;

use super::guard::Guard;
use super::schema_checks::foreign_key_violations;
use super::step::{
    StepError, StepErrorKind, begin, commit, explain_denial, rollback, run_split, set_deadline,
    sqlite_message, step_failure,
};
use crate::history::RecordStatement;
use crate::migration::{DownSql, Migration};
use crate::sql::LineIndex;

/// How to run one down SQL.
#[derive(Clone, Copy, Debug)]
pub struct DownOptions {
    /// `false`: run it, then roll back.
    pub commit: bool,
    pub busy_timeout: Duration,
    pub migration_timeout: Option<Duration>,
}

/// An error in the down SQL, at the down file's line and column.
fn at_down(
    m: &Migration,
    down: &DownSql,
    mut e: StepError,
    idx: &LineIndex,
    offset: usize,
) -> StepError {
    let (line, column) = idx.line_col(offset);
    e.path = Some(down.path.clone());
    e.line = Some(line);
    e.column = Some(column);
    if e.message.is_empty() {
        e.message = format!("the down SQL of {} failed", m.path);
    }
    e
}

/// Runs `m`'s down SQL on `conn` (which must have no open transaction), then `record`, in one
/// transaction. Returns the number of statements run.
pub fn run_down(
    conn: &mut Connection,
    m: &Migration,
    record: &[RecordStatement],
    opts: &DownOptions,
) -> Result<usize, StepError> {
    let Some(down) = &m.down else {
        return Err(StepError::new(
            StepErrorKind::Refused,
            m,
            "this migration has no down SQL",
        ));
    };
    if !conn.is_autocommit() {
        rollback(conn);
    }
    let fk_on = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
        .unwrap_or(0)
        == 1;
    if fk_on {
        let _ = conn.execute_batch("PRAGMA foreign_keys = OFF");
    }
    let result = in_transaction(conn, m, down, record, opts);
    if fk_on {
        let _ = conn.execute_batch("PRAGMA foreign_keys = ON");
    }
    result
}

fn in_transaction(
    conn: &mut Connection,
    m: &Migration,
    down: &DownSql,
    record: &[RecordStatement],
    opts: &DownOptions,
) -> Result<usize, StepError> {
    let idx = LineIndex::new(&down.text);
    begin(conn, m, opts.busy_timeout)?;
    let body = (|| {
        let before = foreign_key_violations(conn).map_err(|e| step_failure(m, &e))?;
        let guard = Guard::install(conn, true);
        set_deadline(conn, Some(opts.migration_timeout));
        let ran = run_split(conn, &down.text, down.statements(), &|e, offset| {
            at_down(m, down, step_failure(m, e), &idx, offset)
        });
        set_deadline(conn, None);
        let denied = guard.remove(conn);
        let count = ran.map_err(|e| explain_denial(e, denied))?;
        let after = foreign_key_violations(conn).map_err(|e| step_failure(m, &e))?;
        let (after, before) = (after.unwrap_or_default(), before.unwrap_or_default());
        if let Some((table, rowid, parent, _)) = after.difference(&before).next() {
            let mut e = StepError::new(
                StepErrorKind::Failed,
                m,
                format!(
                    "the down SQL leaves a new foreign key violation ({table} row {} references a missing row of {parent}); rolled back",
                    rowid.map_or("?".to_string(), |r| r.to_string())
                ),
            );
            e.path = Some(down.path.clone());
            return Err(e);
        }
        crate::history::execute_record(conn, record, &m.description).map_err(|e| {
            StepError::new(
                StepErrorKind::Failed,
                m,
                format!(
                    "cannot record the rollback: {}; rolled back",
                    sqlite_message(&e)
                ),
            )
        })?;
        Ok(count)
    })();
    match body {
        Ok(count) if opts.commit => {
            commit(conn, m)?;
            Ok(count)
        }
        Ok(count) => {
            rollback(conn);
            Ok(count)
        }
        Err(e) => {
            rollback(conn);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Layout, LayoutSetting};
    use crate::migration::{FolderEntry, discover_folder};

    fn dbmate(text: &str) -> Migration {
        let d = discover_folder(
            "m",
            LayoutSetting::Fixed(Layout::Dbmate),
            vec![FolderEntry::File {
                name: "20230101000000_x.sql".into(),
                bytes: text.as_bytes().to_vec(),
            }],
        );
        d.migrations.into_iter().next().unwrap()
    }

    fn tables(conn: &Connection) -> Vec<String> {
        let mut s = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    const OPTS: DownOptions = DownOptions {
        commit: true,
        busy_timeout: Duration::from_secs(1),
        migration_timeout: None,
    };

    #[test]
    fn down_runs_with_its_record_and_errors_point_into_the_down_section() {
        let m = dbmate("-- migrate:up\nCREATE TABLE a(x);\n-- migrate:down\nDROP TABLE a;\n");
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE a(x); CREATE TABLE log(v);")
            .unwrap();
        let record = [RecordStatement {
            sql: "INSERT INTO log VALUES ('down')".into(),
            params: Default::default(),
        }];
        assert_eq!(run_down(&mut conn, &m, &record, &OPTS).unwrap(), 1);
        assert_eq!(tables(&conn), ["log"]);

        let bad = dbmate(
            "-- migrate:up\nCREATE TABLE b(x);\n-- migrate:down\nDROP TABLE b;\n  DROP TABLE nope;\n",
        );
        conn.execute_batch("CREATE TABLE b(x);").unwrap();
        let e = run_down(&mut conn, &bad, &record, &OPTS).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("m/20230101000000_x.sql"));
        assert_eq!((e.line, e.column), (Some(5), Some(3)), "{e}");
        assert_eq!(tables(&conn), ["b", "log"], "nothing of it stays");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn transaction_control_in_down_sql_is_denied() {
        let m =
            dbmate("-- migrate:up\nCREATE TABLE a(x);\n-- migrate:down\nDROP TABLE a;\nCOMMIT;\n");
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE a(x);").unwrap();
        let e = run_down(&mut conn, &m, &[], &OPTS).unwrap_err();
        assert_eq!(e.kind, StepErrorKind::Refused, "{e}");
        assert_eq!(tables(&conn), ["a"]);
    }
}
