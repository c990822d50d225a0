//! Down SQL serves `rollback` (atomically with the tool's own revert of its history row and
//! the audit row) and `check`'s up→down→up check, and nothing else.

use rusqlite::Connection;

use super::{CHAIN, WITH_DOWN, fixture, rules};
use crate::common::{Project, findings, json, output};

fn query(p: &Project, sql: &str) -> Vec<String> {
    let conn = Connection::open(p.db()).unwrap();
    let mut s = conn.prepare(sql).unwrap();
    s.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn objects(p: &Project) -> Vec<String> {
    query(
        p,
        "SELECT type || ' ' || name FROM sqlite_schema
          WHERE name IN ('users', 'posts', 'posts_user_id', 'posts_touch', 'post_counts')
          ORDER BY name",
    )
}

/// The versions the tool's own table still records as applied.
fn native_applied(layout: &str, p: &Project) -> Vec<String> {
    let sql = match layout {
        "sqlx" => "SELECT CAST(version AS TEXT) FROM _sqlx_migrations ORDER BY version",
        "dbmate" => "SELECT version FROM schema_migrations ORDER BY version",
        "goose" => {
            "SELECT CAST(version_id AS TEXT) FROM goose_db_version WHERE version_id > 0 ORDER BY id"
        }
        "golang-migrate" => {
            "SELECT CAST(version AS TEXT) || ' dirty=' || dirty FROM schema_migrations"
        }
        _ => "SELECT version FROM __diesel_schema_migrations ORDER BY version",
    };
    query(p, sql)
}

#[test]
fn rollback_runs_the_down_sql_and_forgets_the_row_as_the_tool_does() {
    for layout in WITH_DOWN {
        let f = fixture(layout);
        let p = f.project();
        f.applied_database(&p);
        let a = p
            .run(&["rollback", "--reason", "bad deploy", "--format", "json"])
            .code(0);
        let report = json(&a);
        assert_eq!(report["status"], "rolled-back", "{layout}: {}", output(&a));
        assert_eq!(report["count"], 1);
        assert!(
            p.path().join(report["backup"].as_str().unwrap()).exists(),
            "{layout}: {report:#}"
        );
        // The view of the last migration is gone; what came before is untouched.
        assert_eq!(
            objects(&p),
            [
                "table posts",
                "trigger posts_touch",
                "index posts_user_id",
                "table users"
            ],
            "{layout}"
        );
        let v = &f.native_versions;
        let expected: Vec<String> = match layout {
            "golang-migrate" => vec!["2 dirty=0".into()],
            _ => vec![v[0].clone(), v[1].clone()],
        };
        assert_eq!(native_applied(layout, &p), expected, "{layout}");
        let audit = query(
            &p,
            "SELECT command || ' ' || versions || ' ' || reason FROM schemagate_audit",
        );
        assert_eq!(audit.len(), 1, "{layout}");
        assert!(audit[0].starts_with("rollback "), "{layout}: {audit:?}");
        assert!(audit[0].ends_with(" bad deploy"), "{layout}: {audit:?}");

        // Two more steps: back to an empty schema, and an empty (or no) history.
        p.run(&["rollback", "--steps", "2"]).code(0);
        assert!(objects(&p).is_empty(), "{layout}: {:?}", objects(&p));
        assert!(native_applied(layout, &p).is_empty(), "{layout}");
        p.run(&["rollback"]).code(2);
    }
}

#[test]
fn a_failing_down_leaves_nothing_behind_and_names_the_down_file() {
    let f = fixture("golang-migrate");
    let p = f.project();
    p.file(
        "000003_add_post_counts.down.sql",
        "DROP VIEW post_counts;\nDROP TABLE does_not_exist;\n",
    );
    f.applied_database(&p);
    let a = p.run(&["rollback", "--format", "json"]).code(1);
    let report = json(&a);
    assert_eq!(report["status"], "error");
    assert_eq!(
        report["error"]["path"],
        "migrations/000003_add_post_counts.down.sql"
    );
    assert_eq!(report["error"]["line"], 2);
    assert!(objects(&p).contains(&"view post_counts".to_string()));
    assert_eq!(native_applied("golang-migrate", &p), ["3 dirty=0"]);
    assert!(
        query(
            &p,
            "SELECT name FROM sqlite_schema WHERE name = 'schemagate_audit'"
        )
        .is_empty()
    );
}

#[test]
fn rollback_refuses_without_down_sql_and_for_flyway() {
    let f = fixture("dbmate");
    let p = f.project();
    // An empty Down section is no way back.
    p.file(
        "20240201080000_add_post_counts.sql",
        format!("-- migrate:up\n{}\n-- migrate:down\n", CHAIN[2].up),
    );
    f.applied_database(&p);
    let out = output(&p.run(&["rollback"]).code(2));
    assert!(out.contains("it has no down SQL"), "{out}");
    assert!(out.contains("nothing was rolled back"), "{out}");
    assert_eq!(native_applied("dbmate", &p).len(), 3);

    let p = fixture("flyway").project();
    std::fs::create_dir_all(p.db().parent().unwrap()).unwrap();
    Connection::open(p.db())
        .unwrap()
        .execute_batch("CREATE TABLE t(x);")
        .unwrap();
    let out = output(&p.run(&["rollback"]).code(2));
    assert!(out.contains("flyway undo"), "{out}");
}

#[test]
fn check_verifies_that_down_gives_back_the_schema() {
    for layout in WITH_DOWN {
        let p = fixture(layout).project();
        let report = json(
            &p.cmd()
                .args(["check", "--format", "json"])
                .assert()
                .success(),
        );
        assert!(
            !rules(&report).contains(&"down-not-reversible".to_string()),
            "{layout}: {report:#}"
        );
    }
    // A Down that forgets the index and the trigger, and one that fails.
    let p = fixture("dbmate").project();
    p.file(
        "20240112141500_create_posts.sql",
        format!(
            "-- migrate:up\n{}\n-- migrate:down\nDROP TABLE IF EXISTS posts_old;\n",
            CHAIN[1].up
        ),
    );
    p.file(
        "20240201080000_add_post_counts.sql",
        format!(
            "-- migrate:up\n{}\n-- migrate:down\nDROP VIEW counts;\n",
            CHAIN[2].up
        ),
    );
    let report = json(
        &p.cmd()
            .args(["check", "--format", "json"])
            .assert()
            .success(),
    );
    let found = findings(&report, "down-not-reversible");
    assert_eq!(found.len(), 2, "{report:#}");
    let posts = found[0]["message"].as_str().unwrap();
    assert!(posts.contains("20240112141500_create_posts.sql"), "{posts}");
    assert!(posts.contains("table posts"), "{posts}");
    let view = &found[1];
    assert!(
        view["message"]
            .as_str()
            .unwrap()
            .contains("no such view: counts"),
        "{view}"
    );
    assert_eq!(view["line"], 6, "{view}");
}
