//! Lexer following SQLite's `tokenize.c` (`sqlite3GetToken`).
//!
//! Hand-written rather than built on `sqlite3-parser` 0.17: its `Splitter`
//! throws whitespace and comments away (we need comments for
//! `-- schemagate:ignore` directives and full coverage of the input), and it
//! reports unterminated literals as errors instead of tokens, so the tokens
//! could not cover the input without gaps.
//!
//! Deliberate departures from `tokenize.c`, none of which change where a
//! statement ends:
//! * unterminated strings, quoted identifiers, blobs and block comments are
//!   [`TokenKind::Unterminated`] (SQLite: `TK_ILLEGAL`, or a comment);
//! * a NUL byte is an ordinary byte inside literals and comments (C stops
//!   there) and a one-byte [`TokenKind::Illegal`] elsewhere;
//! * `::` is not an operator in SQLite, so it lexes as SQLite does (an illegal
//!   `:`, or a variable such as `:name`), not as [`TokenKind::Operator`].

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Whitespace,
    LineComment,
    BlockComment,
    /// Keyword or bare identifier.
    Word,
    /// `"x"`, `` `x` `` or `[x]`.
    QuotedIdent,
    String,
    /// `x'..'` with an even number of hex digits.
    Blob,
    Number,
    /// `?`, `?1`, `:a`, `@a`, `#a`, `$a`, including Tcl-style `$a(..)` and `$a::b`.
    Variable,
    Semicolon,
    /// Punctuation and operators, including `( ) , .`, `->`, `->>` and `||`.
    Operator,
    /// Unterminated string, quoted identifier, blob or block comment: runs to end of input.
    Unterminated,
    Illegal,
    /// A command of the `sqlite3` shell (`.timeout 5000`), to the end of its line. Only
    /// [`super::split`] makes these: it depends on where a statement starts, which a
    /// context-free lexer cannot know.
    DotCommand,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Range<usize>,
}

impl Token {
    /// Whitespace and complete comments: what SQLite skips between tokens.
    pub fn is_trivia(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
        )
    }

    pub fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::LineComment | TokenKind::BlockComment)
    }

    /// The token's text, or `""` if `src` is not the text it was lexed from.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.span.clone()).unwrap_or("")
    }
}

/// Lazy token stream over `sql`; [`tokenize`] collects it.
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    src: &'a [u8],
    pos: usize,
}

pub fn tokens(sql: &str) -> Tokens<'_> {
    Tokens {
        src: sql.as_bytes(),
        pos: 0,
    }
}

impl Tokens<'_> {
    /// Goes on lexing at byte `pos` (a char boundary), after a token the splitter made
    /// itself.
    pub(crate) fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }
}

/// Every byte of `sql` belongs to exactly one token, in order.
pub fn tokenize(sql: &str) -> Vec<Token> {
    tokens(sql).collect()
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let rest = self.src.get(self.pos..).filter(|r| !r.is_empty())?;
        let (kind, len) = lex(rest);
        // Every arm consumes at least one byte and stops before an ASCII byte
        // or at the end, so spans always fall on char boundaries.
        let start = self.pos;
        self.pos += len.clamp(1, rest.len());
        Some(Token {
            kind,
            span: start..self.pos,
        })
    }
}

const BOM: &[u8] = "\u{feff}".as_bytes();

/// `sqlite3Isspace`: unlike `u8::is_ascii_whitespace` this includes `\v`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `IdChar` from tokenize.c: every byte of a non-ASCII char counts.
pub(crate) fn is_id(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn find(z: &[u8], from: usize, b: u8) -> Option<usize> {
    z.get(from..)?
        .iter()
        .position(|&c| c == b)
        .map(|p| p + from)
}

/// Kind and byte length of the token at the start of `z` (non-empty).
fn lex(z: &[u8]) -> (TokenKind, usize) {
    use TokenKind::*;
    let n = z.len();
    let at = |i: usize| z.get(i).copied().unwrap_or(0);
    match z[0] {
        // tokenize.c treats a UTF-8 BOM as a space wherever a token may start.
        c if is_space(c) || z.starts_with(BOM) => {
            let mut i = 0;
            loop {
                if i < n && is_space(z[i]) {
                    i += 1;
                } else if z[i..].starts_with(BOM) {
                    i += BOM.len();
                } else {
                    break (Whitespace, i);
                }
            }
        }
        b'-' if at(1) == b'-' => (LineComment, find(z, 2, b'\n').unwrap_or(n)),
        b'-' if at(1) == b'>' => (Operator, if at(2) == b'>' { 3 } else { 2 }),
        b'/' if at(1) == b'*' => match z[2..].windows(2).position(|w| w == b"*/") {
            Some(p) => (BlockComment, p + 4),
            None => (Unterminated, n),
        },
        q @ (b'\'' | b'"' | b'`') => {
            let mut i = 1;
            loop {
                match find(z, i, q) {
                    None => break (Unterminated, n),
                    // A doubled delimiter is an escaped one.
                    Some(j) if at(j + 1) == q => i = j + 2,
                    Some(j) => break (if q == b'\'' { String } else { QuotedIdent }, j + 1),
                }
            }
        }
        b'[' => match find(z, 1, b']') {
            Some(j) => (QuotedIdent, j + 1),
            None => (Unterminated, n),
        },
        b'x' | b'X' if at(1) == b'\'' => {
            let mut i = 2;
            while i < n && z[i].is_ascii_hexdigit() {
                i += 1;
            }
            if at(i) == b'\'' && i % 2 == 0 {
                (Blob, i + 1)
            } else {
                match find(z, i, b'\'') {
                    Some(j) => (Illegal, j + 1),
                    None => (Unterminated, n),
                }
            }
        }
        b'0'..=b'9' => number(z),
        b'.' if at(1).is_ascii_digit() => number(z),
        b'?' => {
            let digits = z[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            (Variable, 1 + digits)
        }
        b'$' | b'@' | b'#' | b':' => variable(z),
        b';' => (Semicolon, 1),
        b'<' => (
            Operator,
            if matches!(at(1), b'=' | b'>' | b'<') {
                2
            } else {
                1
            },
        ),
        b'>' => (Operator, if matches!(at(1), b'=' | b'>') { 2 } else { 1 }),
        b'=' => (Operator, if at(1) == b'=' { 2 } else { 1 }),
        b'|' => (Operator, if at(1) == b'|' { 2 } else { 1 }),
        b'!' if at(1) == b'=' => (Operator, 2),
        b'(' | b')' | b',' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'~' | b'.' => (Operator, 1),
        c if is_id(c) => (Word, 1 + z[1..].iter().take_while(|&&b| is_id(b)).count()),
        _ => (Illegal, 1),
    }
}

fn number(z: &[u8]) -> (TokenKind, usize) {
    let n = z.len();
    let at = |i: usize| z.get(i).copied().unwrap_or(0);
    // `_` is SQLite's digit separator (3.46+); older versions lex the same
    // run as one illegal token, so the token boundary is the same either way.
    let digits = |mut i: usize, hex: bool| {
        while i < n
            && (z[i] == b'_'
                || if hex {
                    z[i].is_ascii_hexdigit()
                } else {
                    z[i].is_ascii_digit()
                })
        {
            i += 1;
        }
        i
    };
    if z[0] == b'0' && matches!(at(1), b'x' | b'X') && at(2).is_ascii_hexdigit() {
        return (TokenKind::Number, digits(3, true));
    }
    let mut i = digits(0, false);
    if at(i) == b'.' {
        i = digits(i + 1, false);
    }
    if matches!(at(i), b'e' | b'E')
        && (at(i + 1).is_ascii_digit()
            || (matches!(at(i + 1), b'+' | b'-') && at(i + 2).is_ascii_digit()))
    {
        i = digits(i + 2, false);
    }
    let tail = z[i..].iter().take_while(|&&b| is_id(b)).count();
    let kind = if tail > 0 {
        TokenKind::Illegal
    } else {
        TokenKind::Number
    };
    (kind, i + tail)
}

/// `$name`, `@name`, `#name`, `:name`, with the Tcl forms `$a(...)` and `$a::b`.
fn variable(z: &[u8]) -> (TokenKind, usize) {
    let n = z.len();
    let mut kind = TokenKind::Variable;
    let mut named = false;
    let mut i = 1;
    while i < n {
        let c = z[i];
        if is_id(c) {
            named = true;
            i += 1;
        } else if c == b'(' && named {
            i += 1;
            while i < n && !is_space(z[i]) && z[i] != b')' {
                i += 1;
            }
            if i < n && z[i] == b')' {
                i += 1;
            } else {
                kind = TokenKind::Illegal;
            }
            break;
        } else if c == b':' && z.get(i + 1) == Some(&b':') {
            i += 2;
        } else {
            break;
        }
    }
    (if named { kind } else { TokenKind::Illegal }, i)
}

#[cfg(test)]
mod tests {
    use super::TokenKind::*;
    use super::*;

    fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
        tokenize(sql)
            .into_iter()
            .map(|t| (t.kind, &sql[t.span]))
            .collect()
    }

    fn solid(sql: &str) -> Vec<(TokenKind, &str)> {
        kinds(sql)
            .into_iter()
            .filter(|(k, _)| *k != Whitespace)
            .collect()
    }

    #[test]
    fn literals_and_quotes() {
        assert_eq!(
            solid(r#"'a''b' "c""d" `e` [f;g] x'0A' x'0' X'zz'"#),
            vec![
                (String, "'a''b'"),
                (QuotedIdent, r#""c""d""#),
                (QuotedIdent, "`e`"),
                (QuotedIdent, "[f;g]"),
                (Blob, "x'0A'"),
                (Illegal, "x'0'"),
                (Illegal, "X'zz'"),
            ]
        );
        for u in ["'abc;", "\"a", "`a", "[a;", "/* x;", "x'ab"] {
            assert_eq!(kinds(u), vec![(Unterminated, u)], "{u}");
        }
    }

    #[test]
    fn comments() {
        assert_eq!(
            kinds("a--x;\n/**/b/*;*/"),
            vec![
                (Word, "a"),
                (LineComment, "--x;"),
                (Whitespace, "\n"),
                (BlockComment, "/**/"),
                (Word, "b"),
                (BlockComment, "/*;*/"),
            ]
        );
        // `/*/` does not close itself.
        assert_eq!(kinds("/*/"), vec![(Unterminated, "/*/")]);
    }

    #[test]
    fn numbers_variables_operators() {
        assert_eq!(
            solid(
                "1 .5 1.5e-3 0x1F 1_000 1e 12ab ? ?12 :a @b #c $d $a(x;y) $a::b $ @ ->> -> || != <> <= == ! ^ ::"
            ),
            vec![
                (Number, "1"),
                (Number, ".5"),
                (Number, "1.5e-3"),
                (Number, "0x1F"),
                (Number, "1_000"),
                (Illegal, "1e"),
                (Illegal, "12ab"),
                (Variable, "?"),
                (Variable, "?12"),
                (Variable, ":a"),
                (Variable, "@b"),
                (Variable, "#c"),
                (Variable, "$d"),
                (Variable, "$a(x;y)"),
                (Variable, "$a::b"),
                (Illegal, "$"),
                (Illegal, "@"),
                (Operator, "->>"),
                (Operator, "->"),
                (Operator, "||"),
                (Operator, "!="),
                (Operator, "<>"),
                (Operator, "<="),
                (Operator, "=="),
                (Illegal, "!"),
                (Illegal, "^"),
                (Illegal, ":"),
                (Illegal, ":"),
            ]
        );
    }

    #[test]
    fn words_bom_and_unicode() {
        assert_eq!(
            kinds("\u{feff}sélect\u{feff} \u{feff}a_$1"),
            vec![
                (Whitespace, "\u{feff}"),
                (Word, "sélect\u{feff}"),
                (Whitespace, " \u{feff}"),
                (Word, "a_$1"),
            ]
        );
        assert_eq!(
            kinds("\u{b}\0"),
            vec![(Whitespace, "\u{b}"), (Illegal, "\0")]
        );
        assert_eq!(kinds("'a\0b'"), vec![(String, "'a\0b'")]);
    }
}
