//! Cascades in a replay that keeps going (pure): which objects a failed migration would
//! have created, and whether a later failure is explained by one of them alone.
//!
//! A failed step is rolled back whole, so nothing it would have created exists. A later
//! step that then fails with "no such table: t", where the failed step's `CREATE TABLE t`
//! never happened, is not a second problem: fixing the first one fixes it. The replay marks
//! such a step `cascade_of` the first, so the root causes stand out in a folder where many
//! files fail.
//!
//! The objects are read from the migration's text, not from running it. For SQL that is
//! exact enough: `CREATE [TEMP] [UNIQUE|VIRTUAL] TABLE|INDEX|VIEW|TRIGGER [IF NOT EXISTS]
//! name`, and `ALTER TABLE ... ADD [COLUMN] c` / `RENAME [COLUMN] a TO b` / `RENAME TO n`.
//! For Python it is a best effort: the same patterns searched in the file with its quote
//! characters blanked, which finds the SQL of `conn.execute("CREATE TABLE ...")` but not
//! names built at run time.

use std::collections::BTreeSet;

use crate::migration::Kind;
use crate::sql::{self, Token, TokenKind};

/// A schema object a migration creates, or one a failure says is missing. Names are folded
/// the way SQLite compares them (quotes removed, ASCII case folded), without the schema.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Object {
    Table(String),
    View(String),
    Index(String),
    Trigger(String),
    /// A column, by name only: SQLite's messages do not always say whose.
    Column(String),
}

/// Builds an [`Object`] of one kind from a folded name.
type Make = fn(String) -> Object;

/// The objects the migration `text` (of `kind`) would create.
pub fn created(kind: Kind, text: &str) -> BTreeSet<Object> {
    let blanked;
    let text = match kind {
        Kind::Sql => text,
        Kind::Python => {
            blanked = text.replace(['"', '\''], " ");
            &blanked
        }
    };
    let toks: Vec<Token> = sql::tokens(text).filter(|t| !t.is_trivia()).collect();
    let scan = Scan {
        src: text,
        toks: &toks,
    };
    let mut out = BTreeSet::new();
    for i in 0..toks.len() {
        if scan.is_kw(i, "CREATE") {
            scan.create(i + 1, &mut out);
        } else if scan.is_kw(i, "ALTER") && scan.is_kw(i + 1, "TABLE") {
            scan.alter(i + 2, &mut out);
        }
    }
    out
}

/// The object a failure message (SQLite's, or Python's that quotes it) says is missing.
pub fn missing(message: &str) -> Option<Object> {
    const PATTERNS: [(&str, Make); 6] = [
        ("no such table: ", Object::Table),
        ("no such view: ", Object::View),
        ("no such index: ", Object::Index),
        ("no such trigger: ", Object::Trigger),
        ("no such column: ", Object::Column),
        (" has no column named ", Object::Column),
    ];
    PATTERNS.iter().find_map(|(prefix, make)| {
        let at = message.find(prefix)?;
        let rest = &message[at + prefix.len()..];
        let end = rest
            .find(|c: char| c.is_whitespace() || ",;()'\"".contains(c))
            .unwrap_or(rest.len());
        // `main.t`, `t.c`: the last part names the object.
        let name = rest[..end].rsplit('.').next().unwrap_or_default();
        (!name.is_empty()).then(|| make(fold(name)))
    })
}

/// Whether a failure that says `missing` is explained by `created`. SQLite says "no such
/// table" for a view too.
pub fn explains(created: &BTreeSet<Object>, missing: &Object) -> bool {
    match missing {
        Object::Table(n) => created.contains(missing) || created.contains(&Object::View(n.clone())),
        other => created.contains(other),
    }
}

/// Quotes removed, ASCII case folded.
fn fold(name: &str) -> String {
    let t = name.trim();
    let inner = match t.as_bytes().first() {
        Some(b'"' | b'`' | b'\'') if t.len() >= 2 => &t[1..t.len() - 1],
        Some(b'[') if t.ends_with(']') && t.len() >= 2 => &t[1..t.len() - 1],
        _ => t,
    };
    inner.to_ascii_lowercase()
}

struct Scan<'a> {
    src: &'a str,
    toks: &'a [Token],
}

impl Scan<'_> {
    fn is_kw(&self, i: usize, kw: &str) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Word && t.text(self.src).eq_ignore_ascii_case(kw))
    }

    /// The (possibly schema-qualified) name starting at token `i`, and the index after it.
    fn name(&self, i: usize) -> Option<(String, usize)> {
        let is_name = |t: &Token| {
            matches!(
                t.kind,
                TokenKind::Word | TokenKind::QuotedIdent | TokenKind::String
            )
        };
        let first = self.toks.get(i).filter(|t| is_name(t))?;
        let dotted = self
            .toks
            .get(i + 1)
            .is_some_and(|t| t.kind == TokenKind::Operator && t.text(self.src) == ".");
        match self.toks.get(i + 2).filter(|t| dotted && is_name(t)) {
            Some(second) => Some((fold(second.text(self.src)), i + 3)),
            None => Some((fold(first.text(self.src)), i + 1)),
        }
    }

    /// After `CREATE`.
    fn create(&self, mut i: usize, out: &mut BTreeSet<Object>) {
        if self.is_kw(i, "TEMP") || self.is_kw(i, "TEMPORARY") {
            i += 1;
        }
        if self.is_kw(i, "UNIQUE") || self.is_kw(i, "VIRTUAL") {
            i += 1;
        }
        let make: Make = if self.is_kw(i, "TABLE") {
            Object::Table
        } else if self.is_kw(i, "INDEX") {
            Object::Index
        } else if self.is_kw(i, "VIEW") {
            Object::View
        } else if self.is_kw(i, "TRIGGER") {
            Object::Trigger
        } else {
            return;
        };
        i += 1;
        if self.is_kw(i, "IF") && self.is_kw(i + 1, "NOT") && self.is_kw(i + 2, "EXISTS") {
            i += 3;
        }
        if let Some((name, _)) = self.name(i) {
            out.insert(make(name));
        }
    }

    /// After `ALTER TABLE`.
    fn alter(&self, i: usize, out: &mut BTreeSet<Object>) {
        let Some((_, mut i)) = self.name(i) else {
            return;
        };
        if self.is_kw(i, "ADD") {
            i += 1;
            if self.is_kw(i, "COLUMN") {
                i += 1;
            }
            if let Some((col, _)) = self.name(i) {
                out.insert(Object::Column(col));
            }
        } else if self.is_kw(i, "RENAME") {
            i += 1;
            if self.is_kw(i, "TO") {
                if let Some((table, _)) = self.name(i + 1) {
                    out.insert(Object::Table(table));
                }
                return;
            }
            if self.is_kw(i, "COLUMN") {
                i += 1;
            }
            if let Some((_, after)) = self.name(i)
                && self.is_kw(after, "TO")
                && let Some((col, _)) = self.name(after + 1)
            {
                out.insert(Object::Column(col));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(kind: Kind, text: &str) -> Vec<Object> {
        created(kind, text).into_iter().collect()
    }

    #[test]
    fn sql_creates_tables_indexes_views_triggers_and_columns() {
        let sql = "CREATE TABLE IF NOT EXISTS \"Users\" (id INTEGER PRIMARY KEY);\n\
                   create unique index if not exists main.users_id on users(id);\n\
                   CREATE TEMP VIEW v AS SELECT 1;\n\
                   CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END;\n\
                   CREATE VIRTUAL TABLE docs USING fts5(body);\n\
                   ALTER TABLE users ADD COLUMN email TEXT;\n\
                   ALTER TABLE users ADD nick TEXT;\n\
                   ALTER TABLE users RENAME COLUMN nick TO handle;\n\
                   ALTER TABLE old RENAME TO new;";
        assert_eq!(
            names(Kind::Sql, sql),
            vec![
                Object::Table("docs".into()),
                Object::Table("new".into()),
                Object::Table("users".into()),
                Object::View("v".into()),
                Object::Index("users_id".into()),
                Object::Trigger("t".into()),
                Object::Column("email".into()),
                Object::Column("handle".into()),
                Object::Column("nick".into()),
            ]
        );
    }

    #[test]
    fn python_is_read_through_its_string_literals() {
        let py = "def upgrade(conn):\n    conn.execute(\"CREATE TABLE IF NOT EXISTS tags (id)\")\n    conn.execute('''\n        CREATE INDEX tags_id ON tags(id)\n    ''')\n";
        assert_eq!(
            names(Kind::Python, py),
            vec![
                Object::Table("tags".into()),
                Object::Index("tags_id".into())
            ]
        );
    }

    #[test]
    fn missing_objects_are_read_from_sqlite_messages() {
        assert_eq!(
            missing("no such table: main.posts"),
            Some(Object::Table("posts".into()))
        );
        assert_eq!(
            missing("OperationalError: no such column: u.Email"),
            Some(Object::Column("email".into()))
        );
        assert_eq!(
            missing("table users has no column named nick"),
            Some(Object::Column("nick".into()))
        );
        assert_eq!(
            missing("error in view v: no such table: main.t"),
            Some(Object::Table("t".into()))
        );
        assert_eq!(missing("near \"SERIAL\": syntax error"), None);
    }

    #[test]
    fn a_missing_table_is_explained_by_a_view_of_that_name_too() {
        let c = created(Kind::Sql, "CREATE VIEW recent AS SELECT 1;");
        assert!(explains(&c, &Object::Table("recent".into())));
        assert!(!explains(&c, &Object::Table("other".into())));
        assert!(!explains(&c, &Object::Column("recent".into())));
    }
}
