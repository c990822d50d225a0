//! The engine's view of SQL: a [`SqlUnit`] is one piece of SQL text (a `.sql` file, or a
//! string literal of a Python migration) split into statements, each parsed with SQLite's
//! grammar; a [`StatementCtx`] is what a statement rule sees.

use std::ops::Range;

use sqlite3_parser::ast::{Cmd, Stmt};
use sqlite3_parser::lexer::sql::{Error as ParseError, Parser};
use sqlite3_parser::{Bump, FallibleIterator};

use super::RuleDoc;
use super::py_scan::PySql;
use super::rules::sqlite_version::SqliteVersion;
use crate::migration::Migration;
use crate::report::Finding;
use crate::sql::{self, LineIndex, Statement, StatementKind, Token, TokenKind};

/// Where a unit's SQL text comes from.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    /// The whole `.sql` file.
    File,
    /// A string literal passed to `conn.execute(...)` in a Python migration.
    Python(&'a PySql),
}

pub struct SqlUnit<'a> {
    pub migration: &'a Migration,
    pub sql: &'a str,
    pub statements: Vec<Statement>,
    pub kinds: Vec<StatementKind>,
    pub origin: Origin<'a>,
    lines: LineIndex,
    bom: bool,
}

impl<'a> SqlUnit<'a> {
    /// The Up SQL of a `.sql` migration (the whole file, or its Up section), with the
    /// file's positions. A Down section is not linted as SQL that runs forward.
    pub fn file(m: &'a Migration) -> SqlUnit<'a> {
        SqlUnit::with_statements(m, &m.text, m.up_statements(), Origin::File)
    }

    pub fn python(m: &'a Migration, lit: &'a PySql) -> SqlUnit<'a> {
        SqlUnit::new(m, &lit.value, Origin::Python(lit))
    }

    fn new(migration: &'a Migration, text: &'a str, origin: Origin<'a>) -> SqlUnit<'a> {
        SqlUnit::with_statements(migration, text, sql::split(text), origin)
    }

    fn with_statements(
        migration: &'a Migration,
        text: &'a str,
        statements: Vec<Statement>,
        origin: Origin<'a>,
    ) -> SqlUnit<'a> {
        let kinds = statements.iter().map(|s| sql::classify(s, text)).collect();
        SqlUnit {
            migration,
            sql: text,
            statements,
            kinds,
            origin,
            lines: LineIndex::new(text),
            bom: text.starts_with('\u{feff}'),
        }
    }

    pub fn is_python(&self) -> bool {
        matches!(self.origin, Origin::Python(_))
    }

    /// The enclosing top-level function of a Python literal.
    pub fn function(&self) -> Option<&'a str> {
        match self.origin {
            Origin::Python(lit) => lit.function.as_deref(),
            Origin::File => None,
        }
    }

    /// The file says `-- schemagate:no-transaction` (Python migrations always run in one).
    pub fn no_transaction(&self) -> bool {
        !self.is_python() && self.migration.no_transaction
    }

    /// 1-based line and column in the migration file of a byte offset of `sql`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let (line, col) = self.lines.line_col(offset);
        match self.origin {
            Origin::File => {
                // Editors do not show a BOM, so it does not count as a column.
                if self.bom && line == 1 && col > 1 {
                    (line, col - 1)
                } else {
                    (line, col)
                }
            }
            Origin::Python(lit) if lit.exact => {
                if line == 1 {
                    (lit.line, lit.column + col - 1)
                } else {
                    (lit.line + line - 1, col)
                }
            }
            // Escapes make offsets inside the value unreliable: point at the literal.
            Origin::Python(lit) => (lit.line, lit.column),
        }
    }

    /// A finding of `rule` (default severity) over the byte range `span` of `sql`.
    pub fn finding(
        &self,
        rule: &RuleDoc,
        message: impl Into<String>,
        span: Range<usize>,
    ) -> Finding {
        let (line, column) = self.position(span.start);
        let mut f = Finding::of(rule, message)
            .path(&self.migration.path)
            .at(line, column);
        if span.end > span.start
            && (matches!(self.origin, Origin::File)
                || matches!(self.origin, Origin::Python(l) if l.exact))
        {
            let (end_line, end_column) = self.position(span.end);
            if end_line != line {
                f.end_line = Some(end_line);
            }
            f.end_column = Some(end_column);
        }
        f
    }
}

/// Why SQLite's grammar rejected a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// Byte offset in the unit's text.
    pub offset: usize,
}

/// Parses one statement with `sqlite3-parser` (a port of SQLite's own `parse.y`).
pub fn parse<'b>(bump: &'b Bump, src: &'b str, stmt: &Statement) -> Result<Stmt<'b>, SyntaxError> {
    let text = stmt.text(src);
    let start = stmt.span.start;
    // The parser is young and documents that it may still panic on odd input; a statement
    // it cannot read must be reported, never crash the lint.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut parser = Parser::new(bump, text.as_bytes());
        parser.next()
    }));
    match result {
        Ok(Ok(Some(Cmd::Stmt(s) | Cmd::Explain(s) | Cmd::ExplainQueryPlan(s)))) => Ok(s),
        Ok(Ok(None)) => Err(SyntaxError {
            message: "incomplete statement".into(),
            offset: start,
        }),
        Ok(Err(e)) => Err(syntax_error(&e, text, start)),
        Err(_) => Err(SyntaxError {
            message: "the SQL parser could not read this statement".into(),
            offset: start,
        }),
    }
}

fn syntax_error(e: &ParseError, text: &str, start: usize) -> SyntaxError {
    use ParseError::*;
    let (message, pos) = match e {
        ParserError(p, pos) => (p.to_string(), pos),
        UnrecognizedToken(pos) => ("unrecognized token".to_string(), pos),
        UnterminatedLiteral(pos) => ("unterminated string or quoted name".to_string(), pos),
        UnterminatedBracket(pos) => ("missing `]`".to_string(), pos),
        UnterminatedBlockComment(pos) => ("unterminated `/*` comment".to_string(), pos),
        BadVariableName(pos) => ("malformed parameter name".to_string(), pos),
        BadNumber(pos) => ("malformed number".to_string(), pos),
        ExpectedEqualsSign(pos) => ("expected `=` after `!`".to_string(), pos),
        MalformedBlobLiteral(pos) => ("malformed blob literal".to_string(), pos),
        MalformedHexInteger(pos) => ("malformed hexadecimal number".to_string(), pos),
        other => (other.to_string(), &None),
    };
    let offset = pos.as_ref().map_or(0, |p| {
        // Pos is 1-based, with the column counted in bytes.
        let line_start: usize = text
            .split_inclusive('\n')
            .take(p.line.saturating_sub(1))
            .map(str::len)
            .sum();
        (line_start + p.column.saturating_sub(1)).min(text.len())
    });
    SyntaxError {
        message,
        offset: start + offset,
    }
}

/// What a statement rule sees: one statement, its tokens, its parse tree when SQLite's
/// grammar accepts it, and the unit around it.
pub struct StatementCtx<'u, 'a, 'b> {
    pub unit: &'u SqlUnit<'a>,
    pub index: usize,
    pub stmt: &'u Statement,
    pub kind: StatementKind,
    pub ast: Option<&'u Stmt<'b>>,
    pub target: Option<SqliteVersion>,
    pub layout: crate::layout::Layout,
}

impl StatementCtx<'_, '_, '_> {
    pub fn src(&self) -> &str {
        self.unit.sql
    }

    pub fn tokens(&self) -> &[Token] {
        &self.stmt.tokens
    }

    pub fn text(&self, i: usize) -> &str {
        self.stmt
            .tokens
            .get(i)
            .map_or("", |t| t.text(self.unit.sql))
    }

    /// Token `i` is the bare word `kw` (any case).
    pub fn is_kw(&self, i: usize, kw: &str) -> bool {
        self.stmt.is_keyword(self.unit.sql, i, kw)
    }

    pub fn is_op(&self, i: usize, op: &str) -> bool {
        self.stmt
            .tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Operator && t.text(self.unit.sql) == op)
    }

    /// Bytes from the start of token `from` to the end of token `to`.
    pub fn span(&self, from: usize, to: usize) -> Range<usize> {
        let toks = &self.stmt.tokens;
        let last = toks.len().saturating_sub(1);
        let (a, b) = (from.min(last), to.min(last).max(from.min(last)));
        match (toks.get(a), toks.get(b)) {
            (Some(x), Some(y)) => x.span.start..y.span.end,
            _ => self.stmt.span.clone(),
        }
    }

    /// Index of the last token of the group starting at `i`: the matching `)` when token
    /// `i` is `(`, else `i` itself.
    pub fn group_end(&self, i: usize) -> usize {
        if !self.is_op(i, "(") {
            return i;
        }
        let mut depth = 0usize;
        for j in i..self.stmt.tokens.len() {
            if self.is_op(j, "(") {
                depth += 1;
            } else if self.is_op(j, ")") {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
        }
        self.stmt.tokens.len().saturating_sub(1)
    }

    /// Parenthesis depth before each token.
    pub fn depths(&self) -> Vec<usize> {
        let mut depth = 0usize;
        (0..self.stmt.tokens.len())
            .map(|i| {
                if self.is_op(i, ")") {
                    depth = depth.saturating_sub(1);
                }
                let d = depth;
                if self.is_op(i, "(") {
                    depth += 1;
                }
                d
            })
            .collect()
    }

    /// The statement without its terminating `;`.
    pub fn last_token(&self) -> usize {
        let n = self.stmt.tokens.len();
        if n > 1 && self.stmt.tokens[n - 1].kind == TokenKind::Semicolon {
            n - 2
        } else {
            n.saturating_sub(1)
        }
    }

    pub fn finding(
        &self,
        rule: &RuleDoc,
        message: impl Into<String>,
        span: Range<usize>,
    ) -> Finding {
        self.unit.finding(rule, message, span)
    }

    /// Statements of the same unit before this one.
    pub fn earlier(&self) -> impl Iterator<Item = (&Statement, StatementKind)> {
        self.unit.statements[..self.index]
            .iter()
            .zip(self.unit.kinds[..self.index].iter().copied())
    }

    /// Statements of the same unit after this one.
    pub fn later(&self) -> impl Iterator<Item = (&Statement, StatementKind)> {
        self.unit.statements[self.index + 1..]
            .iter()
            .zip(self.unit.kinds[self.index + 1..].iter().copied())
    }
}

/// An identifier as SQLite compares it: quotes removed, ASCII case folded.
pub fn ident(text: &str) -> String {
    let t = text.trim();
    let inner = match t.as_bytes().first() {
        Some(b'"') | Some(b'`') | Some(b'\'') if t.len() >= 2 => &t[1..t.len() - 1],
        Some(b'[') if t.ends_with(']') && t.len() >= 2 => &t[1..t.len() - 1],
        _ => t,
    };
    inner.to_ascii_lowercase()
}
