//! Shell: reads a live database's schema into the pure [`crate::schema::Schema`] model
//! (the dry run diffs it before and after each step; `verify` compares the real database
//! with a replay).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rusqlite::Connection;

use crate::schema::{Object, ObjectKind, Schema, is_bookkeeping};

/// Reads the schema of the `main` database of `conn`.
pub fn read_schema(conn: &Connection) -> rusqlite::Result<Schema> {
    let mut rows = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let kind: String = r.get(0)?;
            let name: String = r.get(1)?;
            let table: String = r.get(2)?;
            let sql: Option<String> = r.get(3)?;
            rows.push((kind, name, table, sql));
        }
    }
    let mut schema = Schema::default();
    for (kind, name, table, sql) in rows {
        let Some(kind) = ObjectKind::parse(&kind) else {
            continue;
        };
        if is_bookkeeping(&name) || is_bookkeeping(&table) {
            continue;
        }
        let lines = match kind {
            ObjectKind::Table => table_lines(conn, &name, sql.as_deref())?,
            // Indexes without SQL are the automatic ones behind UNIQUE and PRIMARY KEY
            // constraints, already described with their table.
            ObjectKind::Index if sql.is_none() => continue,
            _ => vec![crate::sql::skeleton(sql.as_deref().unwrap_or_default())],
        };
        schema.objects.insert(
            (kind, name.to_lowercase()),
            Object {
                kind,
                name,
                table,
                lines,
            },
        );
    }
    Ok(schema)
}

struct ForeignKey {
    parent: String,
    from: Vec<String>,
    to: Vec<String>,
    on_update: String,
    on_delete: String,
}

fn table_lines(conn: &Connection, name: &str, sql: Option<&str>) -> rusqlite::Result<Vec<String>> {
    let sql = sql.unwrap_or_default();
    let skeleton = crate::sql::skeleton(sql);
    // Virtual tables (FTS and friends) may need a module this build lacks to be
    // introspected; their CREATE statement says everything that matters.
    if skeleton.starts_with("CREATE VIRTUAL TABLE") {
        return Ok(vec![skeleton]);
    }
    let mut lines = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
    )?;
    let mut q = stmt.query([name])?;
    while let Some(r) = q.next()? {
        let col: String = r.get(0)?;
        let ty: String = r.get(1)?;
        let not_null: bool = r.get(2)?;
        let default: Option<String> = r.get(3)?;
        let pk: i64 = r.get(4)?;
        let hidden: i64 = r.get(5)?;
        let mut l = format!("column {col}");
        if !ty.is_empty() {
            let _ = write!(l, " {}", ty.to_uppercase());
        }
        if pk > 0 {
            let _ = write!(l, " PRIMARY KEY({pk})");
        }
        if not_null {
            l.push_str(" NOT NULL");
        }
        if let Some(d) = default {
            let _ = write!(l, " DEFAULT {d}");
        }
        match hidden {
            2 => l.push_str(" GENERATED VIRTUAL"),
            3 => l.push_str(" GENERATED STORED"),
            _ => {}
        }
        lines.push(l);
    }
    drop(q);
    drop(stmt);

    let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let mut q = stmt.query([name])?;
    while let Some(r) = q.next()? {
        let id: i64 = r.get(0)?;
        let parent: String = r.get(1)?;
        let from: String = r.get(2)?;
        let to: Option<String> = r.get(3)?;
        let on_update: String = r.get(4)?;
        let on_delete: String = r.get(5)?;
        let e = fks.entry(id).or_insert_with(|| ForeignKey {
            parent,
            from: Vec::new(),
            to: Vec::new(),
            on_update,
            on_delete,
        });
        e.from.push(from);
        e.to.push(to.unwrap_or_default());
    }
    drop(q);
    drop(stmt);
    for fk in fks.into_values() {
        let mut l = format!(
            "foreign key ({}) references {}({})",
            fk.from.join(", "),
            fk.parent,
            fk.to.join(", ")
        );
        if fk.on_update != "NO ACTION" {
            let _ = write!(l, " ON UPDATE {}", fk.on_update);
        }
        if fk.on_delete != "NO ACTION" {
            let _ = write!(l, " ON DELETE {}", fk.on_delete);
        }
        lines.push(l);
    }

    // UNIQUE constraints (origin `u`) live in automatic indexes; name them by columns
    // because their generated names depend on declaration order.
    let mut uniques = Vec::new();
    let mut stmt =
        conn.prepare("SELECT name FROM pragma_index_list(?1) WHERE origin = 'u' ORDER BY name")?;
    let names: Vec<String> = stmt
        .query_map([name], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    for idx in names {
        let mut stmt = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
        let cols: Vec<Option<String>> = stmt
            .query_map([&idx], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let cols: Vec<String> = cols
            .into_iter()
            .map(|c| c.unwrap_or_else(|| "<expr>".into()))
            .collect();
        uniques.push(format!("unique ({})", cols.join(", ")));
    }
    uniques.sort();
    lines.extend(uniques);

    let upper = skeleton.to_uppercase();
    if upper.contains("WITHOUT ROWID") {
        lines.push("without rowid".into());
    }
    if upper.ends_with(" STRICT") || upper.contains(") STRICT") {
        lines.push("strict".into());
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Drift, changed_objects, compare, diff};

    fn db(sql: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c
    }

    #[test]
    fn tables_are_described_by_columns_not_by_how_they_were_built() {
        let one =
            db("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT '');");
        let two = db("create   table users (id integer primary key);\n\
             ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';");
        let (a, b) = (read_schema(&one).unwrap(), read_schema(&two).unwrap());
        assert_eq!(a, b, "{}\n---\n{}", a.text(), b.text());
        assert!(compare(&a, &b).is_empty());
    }

    #[test]
    fn bookkeeping_and_internal_tables_are_left_out() {
        let c = db(
            "CREATE TABLE schema_versions (id INTEGER PRIMARY KEY, version TEXT UNIQUE);\n\
                    CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE);\n\
                    INSERT INTO t(name) VALUES ('x');",
        );
        let s = read_schema(&c).unwrap();
        let text = s.text();
        assert!(!text.contains("schema_versions"), "{text}");
        assert!(!text.contains("sqlite_"), "{text}");
        assert!(text.contains("unique (name)"), "{text}");
    }

    #[test]
    fn the_diff_shows_a_new_table_and_index() {
        let c = db("CREATE TABLE a (x);");
        let before = read_schema(&c).unwrap();
        c.execute_batch("CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\nCREATE INDEX IF NOT EXISTS tags_name ON tags(name);").unwrap();
        let after = read_schema(&c).unwrap();
        let d = diff(&before, &after);
        assert!(d.contains("+table tags"), "{d}");
        assert!(d.contains("+  column name TEXT"), "{d}");
        assert!(d.contains("+index tags_name on tags"), "{d}");
        assert_eq!(
            changed_objects(&before, &after),
            vec![
                (ObjectKind::Table, "tags".to_string()),
                (ObjectKind::Index, "tags_name".to_string())
            ]
        );
        assert_eq!(diff(&after, &after), "");
    }

    #[test]
    fn compare_names_missing_changed_and_unexpected_objects() {
        let expected = read_schema(&db(
            "CREATE TABLE a (x, y);\nCREATE TABLE b (z);\nCREATE VIEW v AS SELECT x FROM a;",
        ))
        .unwrap();
        let actual = read_schema(&db(
            "CREATE TABLE a (x);\nCREATE VIEW v AS SELECT x FROM a;\nCREATE TABLE c (w);",
        ))
        .unwrap();
        let d = compare(&expected, &actual);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(
            matches!(&d[0], Drift::Changed { missing, .. } if missing == &["column y".to_string()])
        );
        assert!(matches!(&d[1], Drift::Missing(o) if o.name == "b"));
        assert!(matches!(&d[2], Drift::Unexpected(o) if o.name == "c"));
    }

    #[test]
    fn foreign_keys_and_triggers_are_part_of_the_schema() {
        let c = db("CREATE TABLE p (id INTEGER PRIMARY KEY);\n\
                    CREATE TABLE ch (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id) ON DELETE CASCADE);\n\
                    CREATE TRIGGER tr AFTER INSERT ON ch BEGIN SELECT 1; END;");
        let t = read_schema(&c).unwrap().text();
        assert!(
            t.contains("foreign key (p_id) references p(id) ON DELETE CASCADE"),
            "{t}"
        );
        assert!(t.contains("trigger tr on ch"), "{t}");
    }
}
