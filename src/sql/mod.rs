//! SQL script splitting, statement classification and normalisation.
//!
//! Statements end where SQLite's `sqlite3_complete()` (complete.c) says they
//! do: its 8-state machine, including the `CREATE [TEMP] TRIGGER ... END;`
//! and `EXPLAIN` handling, is run over the tokens of our `tokenize.c` lexer
//! (see [`tokens`] for why it is hand-written).
//!
//! complete.c has its own, cruder scanner; where it and tokenize.c disagree
//! we follow tokenize.c, because that is what `sqlite3_prepare` uses when the
//! statements are actually run. The cases are exotic:
//! * `\v`, and a UTF-8 BOM where a token may start, are whitespace
//!   (complete.c: other / part of a word), so `CREATE \vTRIGGER` starts a trigger;
//! * a Tcl-style variable `$a(x;y)` is one token, so its `;` ends nothing;
//! * a keyword glued behind a variable sigil or a number (`@end`, `1.end`) is
//!   part of that token; this only matters directly after `EXPLAIN`.
//!
//! Three departures from `sqlite3_complete`, each for text SQLite's library cannot run
//! anyway, so that one foreign construct is reported once and the statements after it
//! are read as they are:
//! * a line that starts with `.` where no statement is open is a command of the
//!   `sqlite3` shell (`.timeout 5000`) and ends at its line end, as in the shell;
//! * in a PostgreSQL routine (`CREATE [OR REPLACE] FUNCTION|PROCEDURE`, `DO`), a
//!   dollar-quoted body (`$$ ... $$`, `$tag$ ... $tag$`) is one string token, so its
//!   `END;` ends nothing;
//! * a PostgreSQL trigger (`CREATE TRIGGER ... EXECUTE FUNCTION f();`, no `BEGIN`) ends
//!   at its first `;` instead of waiting for an `END;`.

mod lines;
mod tokens;

pub use lines::LineIndex;
pub use tokens::{Token, TokenKind, Tokens, tokenize, tokens};

use std::ops::Range;

/// Token classes of complete.c.
const SEMI: usize = 0;
const WS: usize = 1;
const OTHER: usize = 2;
const EXPLAIN: usize = 3;
const CREATE: usize = 4;
const TEMP: usize = 5;
const TRIGGER: usize = 6;
const END: usize = 7;

/// State 1 means "a complete statement just ended"; states 5-7 are inside a
/// trigger body, where only `; END ;` finishes the statement.
const TRANS: [[u8; 8]; 8] = [
    //SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END
    [1, 0, 2, 3, 4, 2, 2, 2], // 0 INVALID
    [1, 1, 2, 3, 4, 2, 2, 2], // 1 START
    [1, 2, 2, 2, 2, 2, 2, 2], // 2 NORMAL
    [1, 3, 3, 2, 4, 2, 2, 2], // 3 EXPLAIN
    [1, 4, 2, 2, 2, 4, 5, 2], // 4 CREATE
    [6, 5, 5, 5, 5, 5, 5, 5], // 5 TRIGGER
    [6, 6, 5, 5, 5, 5, 5, 7], // 6 SEMI
    [1, 7, 5, 5, 5, 5, 5, 5], // 7 END
];

fn complete_class(tok: &Token, src: &str) -> usize {
    match tok.kind {
        TokenKind::Semicolon => SEMI,
        TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment => WS,
        TokenKind::Word => {
            let w = tok.text(src);
            let is = |kw: &str| w.eq_ignore_ascii_case(kw);
            if is("create") {
                CREATE
            } else if is("temp") || is("temporary") {
                TEMP
            } else if is("trigger") {
                TRIGGER
            } else if is("end") {
                END
            } else if is("explain") {
                EXPLAIN
            } else {
                OTHER
            }
        }
        _ => OTHER,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// From the first non-trivia token to the terminating `;` inclusive, or to
    /// the last token if unterminated.
    pub span: Range<usize>,
    /// Non-trivia tokens in `span` (absolute spans), including every `;`
    /// (inner trigger-body ones and the terminating one).
    pub tokens: Vec<Token>,
    /// Comments between the previous statement's last token and this one's
    /// first, so `-- schemagate:ignore RULE` can sit above a statement.
    pub leading_comments: Vec<Token>,
    /// Ended with a `;` that `sqlite3_complete` accepts.
    pub terminated: bool,
}

impl Statement {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.span.clone()).unwrap_or("")
    }

    /// Text of the `i`-th token if it is a bare word.
    pub fn word<'a>(&self, src: &'a str, i: usize) -> Option<&'a str> {
        self.tokens
            .get(i)
            .filter(|t| t.kind == TokenKind::Word)
            .and_then(|t| src.get(t.span.clone()))
    }

    /// The `i`-th token upper-cased, if it is a bare word.
    pub fn keyword(&self, src: &str, i: usize) -> Option<String> {
        self.word(src, i).map(str::to_ascii_uppercase)
    }

    /// Allocation-free `keyword(src, i) == Some(kw)` for an upper- or lower-case `kw`.
    pub fn is_keyword(&self, src: &str, i: usize, kw: &str) -> bool {
        self.word(src, i)
            .is_some_and(|w| w.eq_ignore_ascii_case(kw))
    }

    fn is_op(&self, src: &str, i: usize, op: &str) -> bool {
        self.tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Operator && t.text(src) == op)
    }
}

/// Splits a script into statements. Statements without any non-trivia token
/// (a stray `;`, a comment-only tail) are not returned. An unterminated
/// string or block comment is a real token, so it shows up as (part of) an
/// unterminated statement, just as `sqlite3_complete` calls it incomplete.
pub fn split(sql: &str) -> Vec<Statement> {
    split_with_trailing(sql).0
}

/// Comments after the last statement (all of them if there is none).
pub fn trailing_comments(sql: &str) -> Vec<Token> {
    split_with_trailing(sql).1
}

/// [`split`] and [`trailing_comments`] in one pass.
pub fn split_with_trailing(sql: &str) -> (Vec<Statement>, Vec<Token>) {
    let mut out = Vec::new();
    let mut cur: Vec<Token> = Vec::new();
    let mut leading = Vec::new();
    // Comments since the last non-trivia token we kept.
    let mut comments = Vec::new();
    let mut state = 0usize;
    let mut lexer = tokens(sql);
    while let Some(mut tok) = lexer.next() {
        if cur.is_empty() && !tok.is_trivia() && is_dot_command(sql, tok.span.start) {
            // The sqlite3 shell reads such a line as one command and starts afresh after
            // it; so do we, instead of gluing it to the next statement.
            let end = line_end(sql, tok.span.start);
            lexer.seek(end);
            let tok = Token {
                kind: TokenKind::DotCommand,
                span: tok.span.start..end,
            };
            leading = std::mem::take(&mut comments);
            cur.push(tok);
            out.push(finish(&mut cur, &mut leading, true));
            state = 1;
            continue;
        }
        if !cur.is_empty()
            && is_routine(&cur, sql)
            && let Some(end) = dollar_quote_end(sql, tok.span.start)
        {
            lexer.seek(end);
            tok = Token {
                kind: TokenKind::String,
                span: tok.span.start..end,
            };
        }
        state = usize::from(TRANS[state][complete_class(&tok, sql)]);
        if tok.is_trivia() {
            if tok.is_comment() {
                comments.push(tok);
            }
            continue;
        }
        let semi = tok.kind == TokenKind::Semicolon;
        if cur.is_empty() {
            // An empty statement; SQLite skips it too.
            if semi {
                continue;
            }
            leading = std::mem::take(&mut comments);
        } else {
            comments.clear();
        }
        if semi && state == 6 && is_postgres_trigger(&cur, sql) {
            state = 1;
        }
        cur.push(tok);
        if semi && state == 1 {
            out.push(finish(&mut cur, &mut leading, true));
        }
    }
    if !cur.is_empty() {
        out.push(finish(&mut cur, &mut leading, false));
    }
    (out, comments)
}

/// A line of the sqlite3 shell's own commands: `.` as the line's first byte, where no
/// statement is open (shell.c takes `zLine[0]=='.'` when no SQL is pending; comment lines
/// before it do not count as SQL, an indented `.` is SQL).
fn is_dot_command(sql: &str, at: usize) -> bool {
    let b = sql.as_bytes();
    b.get(at) == Some(&b'.') && (at == 0 || b[at - 1] == b'\n')
}

/// End of the line that holds `at`, before its `\r\n` or `\n`.
fn line_end(sql: &str, at: usize) -> usize {
    let end = sql[at..].find('\n').map_or(sql.len(), |i| at + i);
    if end > at && sql.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// The statement so far is a PostgreSQL routine (`CREATE [OR REPLACE] FUNCTION|PROCEDURE`
/// or `DO`): SQLite rejects it at its first words whatever follows, so reading its
/// dollar-quoted body as one token changes no statement SQLite could run, and keeps the
/// body's own `;` and `END` from splitting it into pieces that look like statements.
fn is_routine(cur: &[Token], sql: &str) -> bool {
    let word = |i: usize, kw: &str| {
        cur.get(i)
            .is_some_and(|t| t.kind == TokenKind::Word && t.text(sql).eq_ignore_ascii_case(kw))
    };
    let object = if word(1, "OR") && word(2, "REPLACE") {
        3
    } else {
        1
    };
    word(0, "DO") || (word(0, "CREATE") && (word(object, "FUNCTION") || word(object, "PROCEDURE")))
}

/// A trigger in PostgreSQL's form, `CREATE TRIGGER ... EXECUTE FUNCTION f();`, at its
/// first `;`: no `BEGIN` came, so SQLite rejects it whatever follows, and its `;` ends it
/// (complete.c would wait for an `END;` and take the following statements into it).
fn is_postgres_trigger(cur: &[Token], sql: &str) -> bool {
    let word =
        |t: &Token, kw: &str| t.kind == TokenKind::Word && t.text(sql).eq_ignore_ascii_case(kw);
    !cur.iter().any(|t| word(t, "BEGIN"))
        && cur.windows(2).any(|w| {
            word(&w[0], "EXECUTE") && (word(&w[1], "FUNCTION") || word(&w[1], "PROCEDURE"))
        })
}

/// End of the PostgreSQL dollar-quoted string (`$$ ... $$`, `$tag$ ... $tag$`) that starts
/// at `at`, when it is one and is closed.
fn dollar_quote_end(sql: &str, at: usize) -> Option<usize> {
    let rest = sql.get(at..)?;
    let tag = rest.strip_prefix('$')?;
    let tag_len = tag
        .bytes()
        .enumerate()
        .take_while(|&(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()))
        .count();
    if tag.as_bytes().get(tag_len) != Some(&b'$') {
        return None;
    }
    let delimiter = &rest[..tag_len + 2];
    let body = at + delimiter.len();
    sql[body..]
        .find(delimiter)
        .map(|i| body + i + delimiter.len())
}

fn finish(cur: &mut Vec<Token>, leading: &mut Vec<Token>, terminated: bool) -> Statement {
    let tokens = std::mem::take(cur);
    Statement {
        span: tokens[0].span.start..tokens[tokens.len() - 1].span.end,
        tokens,
        leading_comments: std::mem::take(leading),
        terminated,
    }
}

/// Coarse classification used by the executor and the lint rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    Begin,
    /// `COMMIT` or `END`.
    Commit,
    /// `ROLLBACK` without `TO`.
    Rollback,
    Savepoint,
    Release,
    RollbackTo,
    CreateTable,
    CreateIndex,
    CreateView,
    CreateTrigger,
    CreateVirtualTable,
    DropTable,
    DropIndex,
    DropView,
    DropTrigger,
    AlterTable,
    /// Also `REPLACE INTO` and `INSERT OR ...`.
    Insert,
    Update,
    Delete,
    /// Also a bare `VALUES (...)`.
    Select,
    Pragma,
    Vacuum,
    Attach,
    Detach,
    Reindex,
    Analyze,
    /// Including anything under `EXPLAIN`, which runs nothing.
    Other,
    /// A command of the sqlite3 shell (`.timeout 5000`), which SQLite's library cannot run.
    DotCommand,
}

pub fn classify(stmt: &Statement, src: &str) -> StatementKind {
    use StatementKind::*;
    let kw = |i: usize, k: &str| stmt.is_keyword(src, i, k);
    if stmt
        .tokens
        .first()
        .is_some_and(|t| t.kind == TokenKind::DotCommand)
    {
        return DotCommand;
    }
    let Some(first) = stmt.word(src, 0) else {
        return Other;
    };
    match first.to_ascii_uppercase().as_str() {
        "BEGIN" => Begin,
        "COMMIT" | "END" => Commit,
        "ROLLBACK" => {
            let to = if kw(1, "TRANSACTION") { 2 } else { 1 };
            if kw(to, "TO") { RollbackTo } else { Rollback }
        }
        "SAVEPOINT" => Savepoint,
        "RELEASE" => Release,
        "CREATE" => {
            let i = if kw(1, "TEMP") || kw(1, "TEMPORARY") {
                2
            } else {
                1
            };
            match stmt.keyword(src, i).as_deref() {
                Some("TABLE") => CreateTable,
                Some("INDEX") => CreateIndex,
                Some("UNIQUE") if kw(i + 1, "INDEX") => CreateIndex,
                Some("VIEW") => CreateView,
                Some("TRIGGER") => CreateTrigger,
                Some("VIRTUAL") if kw(i + 1, "TABLE") => CreateVirtualTable,
                _ => Other,
            }
        }
        "DROP" => match stmt.keyword(src, 1).as_deref() {
            Some("TABLE") => DropTable,
            Some("INDEX") => DropIndex,
            Some("VIEW") => DropView,
            Some("TRIGGER") => DropTrigger,
            _ => Other,
        },
        "ALTER" if kw(1, "TABLE") => AlterTable,
        "WITH" => after_with(stmt, src).map_or(Other, |i| dml(stmt, src, i)),
        "PRAGMA" => Pragma,
        "VACUUM" => Vacuum,
        "ATTACH" => Attach,
        "DETACH" => Detach,
        "REINDEX" => Reindex,
        "ANALYZE" => Analyze,
        _ => dml(stmt, src, 0),
    }
}

fn dml(stmt: &Statement, src: &str, i: usize) -> StatementKind {
    let kw = |k: &str| stmt.is_keyword(src, i, k);
    if kw("INSERT") || kw("REPLACE") {
        StatementKind::Insert
    } else if kw("UPDATE") {
        StatementKind::Update
    } else if kw("DELETE") {
        StatementKind::Delete
    } else if kw("SELECT") || kw("VALUES") {
        StatementKind::Select
    } else {
        StatementKind::Other
    }
}

/// Index of the main statement's first token after
/// `WITH [RECURSIVE] name[(cols)] AS [NOT] [MATERIALIZED] (...) [, ...]`:
/// the first token after a top-level `)` that is neither `,` nor `AS`.
fn after_with(stmt: &Statement, src: &str) -> Option<usize> {
    let mut depth = 0usize;
    for i in 1..stmt.tokens.len() {
        if stmt.is_op(src, i, "(") {
            depth += 1;
        } else if stmt.is_op(src, i, ")") {
            depth = depth.saturating_sub(1);
            if depth == 0 && !stmt.is_op(src, i + 1, ",") && !stmt.is_keyword(src, i + 1, "AS") {
                return Some(i + 1);
            }
        }
    }
    None
}

/// `BEGIN`, `COMMIT`/`END` and `ROLLBACK` (not savepoint statements).
pub fn is_transaction_control(kind: StatementKind) -> bool {
    matches!(
        kind,
        StatementKind::Begin | StatementKind::Commit | StatementKind::Rollback
    )
}

/// Normalised form of `sql` for telling "only whitespace or comments changed"
/// from a real change: comments dropped, bare words upper-cased, everything
/// else (strings, quoted identifiers, numbers) kept byte for byte, tokens
/// joined by one space except next to operators and `;`. Depends only on the
/// token sequence, so any whitespace/comment/keyword-case edit keeps it.
pub fn skeleton(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut after_word = false;
    for tok in tokens(sql) {
        let text = tok.text(sql);
        match tok.kind {
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment => {}
            TokenKind::Operator | TokenKind::Semicolon => {
                out.push_str(text);
                after_word = false;
            }
            kind => {
                if after_word {
                    out.push(' ');
                }
                let start = out.len();
                out.push_str(text);
                if kind == TokenKind::Word {
                    out[start..].make_ascii_uppercase();
                }
                after_word = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::StatementKind::*;
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).iter().map(|s| s.text(sql)).collect()
    }

    fn sqlite_complete(sql: &str) -> bool {
        let c = std::ffi::CString::new(sql).expect("no NUL in test input");
        // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
        unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) != 0 }
    }

    /// Deterministic xorshift, so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len())]
        }
    }

    #[test]
    fn semicolons_inside_literals_and_comments_do_not_split() {
        let sql = "SELECT ';', 'it''s;', \"a;b\", `c;d`, [e;f], x'3b' -- g;h\n /* i;j */ FROM t; SELECT 2;";
        assert_eq!(texts(sql).len(), 2);
        assert!(texts(sql)[0].ends_with("FROM t;"));
        assert_eq!(texts(sql)[1], "SELECT 2;");
    }

    #[test]
    fn trigger_bodies() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET x=1; INSERT INTO c VALUES(';'); END;\nSELECT 1;";
        let st = split(sql);
        assert_eq!(st.len(), 2);
        assert!(st[0].terminated && st[0].text(sql).ends_with("END;"));
        assert_eq!(
            st[0]
                .tokens
                .iter()
                .filter(|t| t.kind == TokenKind::Semicolon)
                .count(),
            3
        );
        assert_eq!(classify(&st[0], sql), CreateTrigger);

        let temp = "create temp trigger t before delete on a begin delete from b; end; select 2;";
        assert_eq!(texts(temp).len(), 2);
        let case = "CREATE TEMPORARY TRIGGER t AFTER UPDATE ON a BEGIN SELECT CASE WHEN new.x THEN 1 ELSE 2 END; SELECT 3; END; SELECT 4;";
        assert_eq!(texts(case)[1], "SELECT 4;");
        let explain = "EXPLAIN CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END; SELECT 2;";
        assert_eq!(texts(explain)[1], "SELECT 2;");
        // Missing the final `END;`: the rest of the file is the trigger.
        let open = "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2;";
        let st = split(open);
        assert_eq!(st.len(), 1);
        assert!(!st[0].terminated);
        assert_eq!(st[0].span, 0..open.len());
    }

    #[test]
    fn unterminated_empty_and_comment_only() {
        let st = split("SELECT 1; SELECT 2");
        assert_eq!((st.len(), st[1].terminated), (2, false));
        assert_eq!(st[1].span, 10..18);
        assert!(split("").is_empty());
        assert!(split("  \n; ;").is_empty());
        let only = "-- a\n/* b */\n";
        assert!(split(only).is_empty());
        assert_eq!(trailing_comments(only).len(), 2);
        // An unterminated comment is not trivia: SQLite calls it incomplete.
        let st = split("SELECT 1; /* oops;");
        assert_eq!(st.len(), 2);
        assert_eq!(st[1].tokens[0].kind, TokenKind::Unterminated);
        let st = split("SELECT 'oops; SELECT 2;");
        assert_eq!((st.len(), st[0].terminated), (1, false));
    }

    #[test]
    fn leading_and_trailing_comments() {
        let sql = "-- schemagate:ignore R1\nCREATE TABLE a(x /* inner */); ; /* b */ -- c\nDROP TABLE a; -- tail\n";
        let (st, tail) = split_with_trailing(sql);
        let lead = |i: usize| -> Vec<&str> {
            st[i].leading_comments.iter().map(|t| t.text(sql)).collect()
        };
        assert_eq!(lead(0), ["-- schemagate:ignore R1"]);
        assert_eq!(lead(1), ["/* b */", "-- c"]);
        assert_eq!(
            tail.iter().map(|t| t.text(sql)).collect::<Vec<_>>(),
            ["-- tail"]
        );
        let (st, tail) = split_with_trailing("SELECT 1 -- x");
        assert!(!st[0].terminated);
        assert_eq!(tail.len(), 1);
    }

    #[test]
    fn bom_crlf_and_multibyte_positions() {
        let sql = "\u{feff}SELECT 1;\r\n  SELECT 'é€';\r\n\r\n\té; SELECT 2;";
        let st = split(sql);
        assert_eq!(st.len(), 4);
        assert_eq!(st[0].text(sql), "SELECT 1;");
        assert_eq!(st[0].keyword(sql, 0).as_deref(), Some("SELECT"));
        let idx = LineIndex::new(sql);
        let pos: Vec<_> = st.iter().map(|s| idx.line_col(s.span.start)).collect();
        // The BOM is one char on line 1.
        assert_eq!(pos, [(1, 2), (2, 3), (4, 2), (4, 5)]);
        assert_eq!(idx.line_col(st[1].span.end), (2, 15));
        assert_eq!(idx.line_text(sql, 2), "  SELECT 'é€';");
    }

    #[test]
    fn two_hundred_statements_map_to_expected_lines() {
        let mut sql = String::new();
        let mut expected = Vec::new();
        let mut line = 1;
        for i in 0..200 {
            if i % 4 == 0 {
                sql.push_str("-- note; 'not a string\r\n");
                line += 1;
            }
            let col = if i % 3 == 0 {
                sql.push_str("\t ");
                3
            } else {
                1
            };
            expected.push((line, col));
            let stmt = match i % 5 {
                0 => format!("CREATE TABLE t{i}(\n  a TEXT DEFAULT ';',\n  b \"x;\"\n);\n"),
                1 => format!("INSERT INTO t VALUES ('ü;{i}');\n"),
                2 => "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
                    .into(),
                3 => "/* a\n;b */ SELECT 1;\n".into(),
                _ => "BEGIN; COMMIT;\n".into(),
            };
            if i % 5 == 3 {
                // The statement starts after the two-line leading comment.
                *expected.last_mut().unwrap() = (line + 1, 7);
            }
            line += stmt.matches('\n').count();
            sql.push_str(&stmt);
        }
        let idx = LineIndex::new(&sql);
        let st = split(&sql);
        let got: Vec<_> = st
            .iter()
            .filter(|s| !s.is_keyword(&sql, 0, "COMMIT"))
            .map(|s| idx.line_col(s.span.start))
            .collect();
        assert_eq!(got, expected);
        assert!(st.iter().all(|s| s.terminated));
        assert_eq!(st.len(), 240);
    }

    /// `sqlite3_complete(prefix)` must hold exactly after the `;` tokens where
    /// no statement is still open.
    fn check_against_sqlite(sql: &str) {
        let stmts = split(sql);
        // We treat a leading BOM as whitespace; complete.c would glue it to the next word.
        let skip = if sql.starts_with('\u{feff}') { 3 } else { 0 };
        for semi in tokenize(sql)
            .iter()
            .filter(|t| t.kind == TokenKind::Semicolon)
        {
            let p = semi.span.end;
            let open = stmts.iter().any(|s| {
                s.span.start < p && (p < s.span.end || (p == s.span.end && !s.terminated))
            });
            let theirs = sqlite_complete(&sql[skip..p]);
            assert_eq!(!open, theirs, "{sql:?} at {p}: {:?}", &sql[..p]);
            assert_eq!(
                split(&sql[..p]).iter().all(|s| s.terminated),
                theirs,
                "{:?}",
                &sql[..p]
            );
        }
    }

    const CORPUS: &[&str] = &[
        "SELECT 1;",
        "SELECT 1; SELECT 2;",
        ";",
        ";;; SELECT 1;;",
        "SELECT ';';",
        "SELECT 'it''s; fine';",
        "SELECT \"a;b\" FROM t;",
        "SELECT \"a\"\";b\" FROM t;",
        "SELECT `a;b` FROM t;",
        "SELECT [a;b] FROM t;",
        "SELECT 1 -- ; comment\n;",
        "SELECT /* ; */ 1;",
        "SELECT x';'; SELECT 2;",
        "SELECT X'00ff'; SELECT 2;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET x=1; INSERT INTO c VALUES(';'); END;",
        "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END; SELECT 2;",
        "CREATE TEMPORARY TRIGGER t BEFORE DELETE ON a BEGIN DELETE FROM b; END;",
        "create trigger t after update on a begin select case when new.x then 1 else 2 end; end;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT CASE WHEN 1 THEN 2 END; SELECT 3; END; SELECT 4;",
        "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON a FOR EACH ROW WHEN new.x > 0 BEGIN SELECT RAISE(ABORT, 'no;'); END ; SELECT 1;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END -- c\n; SELECT 2;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; /* x */ END /* y */ ;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;; END;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; ENDX; END;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; \"END\"; END;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT end; END;",
        "CREATE TRIGGER t BEGIN SELECT x.end; END;",
        "CREATE TABLE trigger(x); SELECT 1;",
        "CREATE TABLE t(x); CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; DROP TRIGGER tr;",
        "CREATE VIEW v AS SELECT 1; CREATE TRIGGER tr INSTEAD OF INSERT ON v BEGIN SELECT 2; END;",
        "EXPLAIN CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;",
        "EXPLAIN QUERY PLAN SELECT 1; SELECT 2;",
        "EXPLAIN SELECT 1; CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;",
        "EXPLAIN EXPLAIN CREATE TRIGGER t BEGIN x; END;",
        "EXPLAIN x CREATE TRIGGER t BEGIN x; END;",
        "CREATE explain TRIGGER; SELECT 1;",
        "CREATE TEMP TEMP TRIGGER x; y; END;",
        "SELECT * FROM trigger; CREATE /*c*/ TRIGGER t BEGIN x; END;",
        "CREATE-- c\nTRIGGER t BEGIN x; END;",
        "CREATE\tTRIGGER t BEGIN x; END;",
        "CREATE\"x\"TRIGGER t BEGIN x; END;",
        "SELECT 1 /* unterminated ;",
        "SELECT 'unterminated ;",
        "SELECT \"unterminated ; ",
        "SELECT [unterminated ; ",
        "SELECT 1; -- trailing ; comment",
        "SELECT 1; /* trailing ; */",
        "SELECT $a, :b, @c, ?1, ?; SELECT 2;",
        "SELECT a->>'$.x;' , b->'y' FROM t;",
        "SELECT 1.5e3, .5, 0x1F, 1e; SELECT 2;",
        "SELECT 'a' || 'b;c';",
        "INSERT INTO t VALUES('a', \"b\", `c`, [d]);",
        "BEGIN; CREATE TABLE a(x); COMMIT;",
        "BEGIN IMMEDIATE; END TRANSACTION;",
        "SELECT 'é;ü'; SELECT '😀'; SELECT ü;",
        "\r\nSELECT 1;\r\nSELECT 2;\r\n",
        "SELECT 1\n;\n;\nSELECT 2\n;",
        "CREATE TRIGGER \"t;\" AFTER INSERT ON [a;] BEGIN SELECT ';'; END;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END; END;",
        "END; CREATE; TRIGGER; TEMP; EXPLAIN;",
        "create temp view v as select 1; create temp trigger t instead of delete on v begin select 1; end;",
        "WITH x AS (SELECT ';') SELECT * FROM x;",
        "SELECT 1 --\n; SELECT 2",
        "SELECT/**/1;SELECT--\n2;",
        "CREATE TRIGGER t BEGIN SELECT 1; END/**/;",
        "CREATE TRIGGER t BEGIN SELECT 1;END;",
        "CREATE TRIGGER t BEGIN SELECT 1;\nEND\n;\nSELECT 1;",
        "CREATE TRIGGER t BEGIN SELECT 1; END x; END;",
        "\u{feff}CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END; SELECT 2;",
    ];

    #[test]
    fn agrees_with_sqlite3_complete_on_corpus() {
        assert!(CORPUS.len() >= 50);
        for sql in CORPUS {
            check_against_sqlite(sql);
        }
    }

    #[test]
    fn agrees_with_sqlite3_complete_on_combinations() {
        // Sigils end in a space: glued to `(` they would form Tcl variables, a
        // documented difference from complete.c.
        const PIECES: &[&str] = &[
            "SELECT 1",
            ";",
            ";",
            ";",
            "';'",
            "'a''b;'",
            "\";\"",
            "`;`",
            "[;]",
            "-- ;\n",
            "/* ; */",
            "CREATE",
            "TEMP",
            "TEMPORARY",
            "TRIGGER",
            "t",
            "BEGIN",
            "END",
            "end",
            "EXPLAIN",
            "CASE WHEN 1 THEN 2 END",
            "x'00'",
            "$v ",
            ":v ",
            "@v ",
            "?1",
            "(",
            ")",
            ",",
            "1.5",
            "\n",
            "é",
            "end;",
            "create trigger tr after insert on a begin",
            "update b set x=1;",
            "insert into c values(';');",
            "'",
            "\"",
            "`",
            "[",
            "]",
            "/*",
            "*/",
            "-",
        ];
        const SEPS: &[&str] = &[" ", " ", "", "\n", "\r\n", " -- c;\n", "/*;*/", "\t"];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let mut sql = String::new();
            for _ in 0..1 + rng.below(12) {
                sql.push_str(rng.pick(PIECES));
                sql.push_str(rng.pick(SEPS));
            }
            check_against_sqlite(&sql);
        }
        // Character soup over the bytes complete.c cares about.
        const CHARS: &[&str] = &[
            ";", ";", "'", "\"", "`", "[", "]", "-", "/", "*", "\n", " ", "a", "x", "0", "(", ")",
            "é", "END", "end", "CREATE ", "TRIGGER ", "TEMP ", "EXPLAIN ",
        ];
        for _ in 0..3000 {
            let sql: String = (0..rng.below(40)).map(|_| rng.pick(CHARS)).collect();
            check_against_sqlite(&sql);
        }
    }

    #[test]
    fn sqlite3_shell_commands_end_at_their_line() {
        let sql = "-- c\n.timeout 5000\r\n.bail on\nCREATE TABLE a(x);\nSELECT 1\n.5;\n  .not_a_command\n;";
        let st = split(sql);
        let got: Vec<(&str, StatementKind, bool)> = st
            .iter()
            .map(|s| (s.text(sql), classify(s, sql), s.terminated))
            .collect();
        assert_eq!(
            got,
            [
                (".timeout 5000", DotCommand, true),
                (".bail on", DotCommand, true),
                ("CREATE TABLE a(x);", CreateTable, true),
                // Inside an open statement a `.` line is part of it, as in the shell.
                ("SELECT 1\n.5;", Select, true),
                (".not_a_command\n;", Other, true),
            ]
        );
        assert_eq!(st[0].leading_comments.len(), 1);
        assert_eq!(texts(".headers on"), [".headers on"]);
        // A BOM before it: the shell sees a byte that is not `.` first.
        assert_eq!(classify(&split("\u{feff}.x")[0], "\u{feff}.x"), Other);
    }

    #[test]
    fn postgres_routine_bodies_are_one_token() {
        let sql = "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nDO $x$ BEGIN PERFORM 1; END $x$;\nSELECT $$;\nSELECT $$;";
        assert_eq!(
            texts(sql),
            [
                "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;",
                "DO $x$ BEGIN PERFORM 1; END $x$;",
                // Anywhere else `$$` is what SQLite reads: a parameter name.
                "SELECT $$;",
                "SELECT $$;",
            ]
        );
        // Unclosed: no body, SQLite's reading.
        assert_eq!(texts("DO $$ BEGIN; END;").len(), 2);
        // Glued to the body: `$$BEGIN` lexes as one variable, the body still ends at `$$`.
        assert_eq!(
            texts("CREATE FUNCTION f() AS $$BEGIN; END;$$;SELECT 1;").len(),
            2
        );
        // A PostgreSQL trigger has no body: it ends at its `;`.
        assert_eq!(
            texts(
                "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\nSELECT 1;"
            ),
            [
                "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();",
                "SELECT 1;"
            ]
        );
    }

    #[test]
    fn documented_differences_from_complete_c() {
        // tokenize.c: one Tcl variable; complete.c would see `;`.
        assert_eq!(
            texts("SELECT $a(x;y); SELECT 2;"),
            ["SELECT $a(x;y);", "SELECT 2;"]
        );
        // tokenize.c: \v and a BOM are whitespace, so this is a trigger.
        for ws in ["\u{b}", "\u{feff}"] {
            let sql = format!("CREATE {ws}TRIGGER t BEGIN SELECT 1; END;");
            assert_eq!(split(&sql).len(), 1);
        }
    }

    #[test]
    fn never_panics_and_tokens_cover_input() {
        let mut inputs: Vec<String> = CORPUS.iter().map(|s| s.to_string()).collect();
        let alphabet: Vec<char> =
            ";'\"`[]-/*\n\r\t\u{b}\u{c} \0aeEnNdx0$@:#?(),.|<>=!^~é€😀\u{feff}"
                .chars()
                .collect();
        let mut rng = Rng(42);
        for _ in 0..500 {
            inputs.push(
                (0..rng.below(30))
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect(),
            );
        }
        for input in &inputs {
            for (cut, _) in input.char_indices().chain([(input.len(), ' ')]) {
                let sql = &input[..cut];
                let toks = tokenize(sql);
                let mut pos = 0;
                for t in &toks {
                    assert_eq!(t.span.start, pos, "{sql:?}");
                    assert!(
                        t.span.end > pos && sql.is_char_boundary(t.span.end),
                        "{sql:?}"
                    );
                    pos = t.span.end;
                }
                assert_eq!(pos, sql.len());
                let (stmts, _) = split_with_trailing(sql);
                for s in &stmts {
                    let _ = (classify(s, sql), s.keyword(sql, 0), s.text(sql));
                    assert!(s.span.end <= sql.len());
                }
                let _ = skeleton(sql);
                let idx = LineIndex::new(sql);
                for off in 0..=sql.len() + 1 {
                    let _ = idx.line_col(off);
                }
            }
        }
        // A statement used with the wrong source must not panic either.
        let st = &split("SELECT 123456789;")[0];
        assert_eq!((st.text("x"), st.keyword("x", 0)), ("", None));
        let _ = classify(st, "x");
    }

    fn kind(sql: &str) -> StatementKind {
        classify(&split(sql)[0], sql)
    }

    #[test]
    fn classify_each_kind() {
        let cases = [
            ("BEGIN;", Begin),
            ("BEGIN IMMEDIATE TRANSACTION;", Begin),
            ("commit;", Commit),
            ("END TRANSACTION;", Commit),
            ("ROLLBACK;", Rollback),
            ("ROLLBACK TRANSACTION;", Rollback),
            ("ROLLBACK TO sp;", RollbackTo),
            ("ROLLBACK TRANSACTION TO SAVEPOINT sp;", RollbackTo),
            ("SAVEPOINT sp;", Savepoint),
            ("RELEASE SAVEPOINT sp;", Release),
            ("CREATE TABLE a(x);", CreateTable),
            ("CREATE TEMP TABLE a(x);", CreateTable),
            ("CREATE TEMPORARY TABLE a(x);", CreateTable),
            ("CREATE INDEX i ON a(x);", CreateIndex),
            ("CREATE UNIQUE INDEX i ON a(x);", CreateIndex),
            ("CREATE VIEW v AS SELECT 1;", CreateView),
            ("CREATE TEMP VIEW v AS SELECT 1;", CreateView),
            (
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;",
                CreateTrigger,
            ),
            (
                "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;",
                CreateTrigger,
            ),
            ("CREATE VIRTUAL TABLE f USING fts5(x);", CreateVirtualTable),
            ("DROP TABLE IF EXISTS a;", DropTable),
            ("DROP INDEX i;", DropIndex),
            ("DROP VIEW v;", DropView),
            ("DROP TRIGGER t;", DropTrigger),
            ("ALTER TABLE a ADD COLUMN y;", AlterTable),
            ("INSERT INTO a VALUES(1);", Insert),
            ("INSERT OR REPLACE INTO a VALUES(1);", Insert),
            ("REPLACE INTO a VALUES(1);", Insert),
            ("UPDATE a SET x=1;", Update),
            ("DELETE FROM a;", Delete),
            ("SELECT 1;", Select),
            ("VALUES (1);", Select),
            ("PRAGMA foreign_keys = ON;", Pragma),
            ("VACUUM;", Vacuum),
            ("ATTACH 'x.db' AS x;", Attach),
            ("DETACH x;", Detach),
            ("REINDEX;", Reindex),
            ("ANALYZE;", Analyze),
            ("WITH x AS (SELECT 1) DELETE FROM a WHERE y IN x;", Delete),
            (
                "WITH RECURSIVE x(n) AS (SELECT 1 UNION SELECT n+1 FROM x), y AS NOT MATERIALIZED (SELECT (2)) INSERT INTO a SELECT * FROM x;",
                Insert,
            ),
            ("WITH x AS (SELECT 1) UPDATE a SET b = 1;", Update),
            ("WITH x AS (SELECT 1) SELECT * FROM x;", Select),
            ("WITH x AS (SELECT 1)", Other),
            ("EXPLAIN SELECT 1;", Other),
            ("CREATE UNIQUE TABLE a;", Other),
            ("ALTER a;", Other),
            ("'str';", Other),
        ];
        for (sql, want) in cases {
            assert_eq!(kind(sql), want, "{sql}");
        }
        assert!(is_transaction_control(kind("BEGIN IMMEDIATE;")));
        assert!(is_transaction_control(kind("END;")));
        assert!(is_transaction_control(kind("ROLLBACK;")));
        assert!(!is_transaction_control(kind("ROLLBACK TO sp;")));
        assert!(!is_transaction_control(kind("SAVEPOINT sp;")));
        assert!(!is_transaction_control(kind("RELEASE sp;")));
    }

    #[test]
    fn skeletons() {
        assert_eq!(skeleton("CREATE TABLE a(x)"), "CREATE TABLE A(X)");
        assert_eq!(
            skeleton("create   table a ( x ) -- c"),
            skeleton("CREATE TABLE a(x)")
        );
        assert_eq!(
            skeleton("\u{feff}INSERT /* c */ INTO \"T\" VALUES ('Abc  d',\n x'AB', 1.0 ) ;"),
            "INSERT INTO \"T\" VALUES('Abc  d',x'AB',1.0);"
        );
        assert_ne!(skeleton("SELECT 'a'"), skeleton("SELECT 'A'"));
        assert_ne!(skeleton("SELECT \"a\""), skeleton("SELECT \"A\""));
        assert_ne!(skeleton("SELECT 1"), skeleton("SELECT 1.0"));
        // Separate tokens stay separate even when glued in the source.
        assert_eq!(skeleton("SELECT\"a\"b/**/c"), "SELECT \"a\" B C");
        assert_eq!(skeleton("SELECT 1 - -1"), "SELECT 1--1");
    }

    /// `cargo test --release -- --ignored --nocapture perf`
    #[test]
    #[ignore]
    fn perf_thousand_files() {
        let file: String = (0..4)
            .map(|i| {
                format!(
                    "-- migration step {i}\nCREATE TABLE t{i} (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL DEFAULT 'x;y'\n);\nCREATE INDEX i{i} ON t{i}(name);\n"
                )
            })
            .collect();
        let files: Vec<String> = (0..1000).map(|i| format!("{file}-- {i}\n")).collect();
        let start = std::time::Instant::now();
        let n: usize = files.iter().map(|f| split(f).len()).sum();
        let took = start.elapsed();
        println!(
            "{n} statements from 1000 files ({} lines each) in {took:?}",
            file.lines().count()
        );
        assert_eq!(n, 8000);
    }
}
