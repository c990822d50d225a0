//! Checksums of migration files, old and new (pure).
//!
//! The algorithm is pinned on purpose: a stored checksum is compared with files for years,
//! so changing how it is computed would report every applied migration as drifted.
//!
//! - Legacy rows (written by the Python manager) hold MD5 hex: for `.sql` over the text as
//!   Python's `read_text()` returns it (universal newlines, BOM kept), for `.py` over the
//!   raw bytes.
//! - Rows written by schemagate hold SHA-256 hex of the text with a UTF-8 BOM removed and
//!   CRLF/CR normalised to LF, so a checkout with other line endings is not drift.
//! - Anything else (`manual`, `manual-skip`, empty, NULL, ...) was never verified.

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::name::Kind;

/// CRLF and lone CR become LF, as Python's universal newlines do.
pub fn normalise_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\r') {
        return text.into();
    }
    text.replace("\r\n", "\n").replace('\r', "\n").into()
}

/// The text new rows are hashed over: no BOM, LF line endings.
pub fn normalise(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    normalise_newlines(text)
}

fn hex(bytes: &[u8]) -> String {
    // A table, not `write!("{b:02x}")`: two digests per file of a 1000-file folder made the
    // formatter a visible part of a no-op `migrate`.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// SHA-256 of the normalised text: the checksum schemagate writes.
pub fn sha256_normalised(text: &str) -> String {
    sha256_hex(normalise(text).as_bytes())
}

/// The checksum schemagate writes for a file with these bytes: SHA-256 of the normalised
/// text (the same for both kinds; bytes that are not UTF-8 are hashed as they are, and
/// discovery refuses such files anyway).
pub fn sha256(_kind: Kind, bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => sha256_normalised(text),
        Err(_) => sha256_hex(bytes),
    }
}

/// The MD5 the legacy manager stored for a file with these bytes.
pub fn legacy(kind: Kind, bytes: &[u8]) -> String {
    match (kind, std::str::from_utf8(bytes)) {
        (Kind::Sql, Ok(text)) => md5_hex(normalise_newlines(text).as_bytes()),
        _ => md5_hex(bytes),
    }
}

/// A stored checksum, by what it can tell us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    Md5(String),
    Sha256(String),
    /// `manual`, `manual-skip`, empty, NULL or anything else that is not a digest.
    Unverified(Option<String>),
}

impl Stored {
    pub fn classify(value: Option<&str>) -> Stored {
        let is_hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
        match value {
            Some(v) if v.len() == 32 && is_hex(v) => Stored::Md5(v.to_ascii_lowercase()),
            Some(v) if v.len() == 64 && is_hex(v) => Stored::Sha256(v.to_ascii_lowercase()),
            other => Stored::Unverified(other.map(str::to_string)),
        }
    }
}

/// How a stored checksum relates to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Match,
    Mismatch,
    Unverified,
}

/// Compares a file with the checksum stored when it was applied.
///
/// Legacy `.py` checksums cover raw bytes, so a checkout that only changed line endings
/// would look edited; we also accept the MD5 of the LF and CRLF forms, which makes
/// "line endings only" a match for both kinds, as it is for SHA-256 rows.
pub fn verify(kind: Kind, bytes: &[u8], stored: &Stored) -> Verdict {
    let matched = match stored {
        Stored::Sha256(h) => *h == sha256(kind, bytes),
        Stored::Md5(h) => {
            *h == legacy(kind, bytes)
                || std::str::from_utf8(bytes).is_ok_and(|text| md5_variants(text).contains(h))
        }
        Stored::Unverified(_) => return Verdict::Unverified,
    };
    if matched {
        Verdict::Match
    } else {
        Verdict::Mismatch
    }
}

/// MD5 of the text with LF, with CRLF endings, and with or without a BOM.
fn md5_variants(text: &str) -> Vec<String> {
    let lf = normalise_newlines(text);
    let crlf = lf.replace('\n', "\r\n");
    let mut out = Vec::with_capacity(4);
    for t in [lf.as_ref(), crlf.as_str()] {
        out.push(md5_hex(t.as_bytes()));
        match t.strip_prefix('\u{feff}') {
            Some(bare) => out.push(md5_hex(bare.as_bytes())),
            None => out.push(md5_hex(format!("\u{feff}{t}").as_bytes())),
        }
    }
    out
}

/// Hash of the text with comments and insignificant whitespace removed: stored beside each
/// row schemagate writes, so a later drift can be classified as "whitespace or comments
/// only" instead of "content".
pub fn skeleton_hash(kind: Kind, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = normalise(&text);
    let skeleton = match kind {
        Kind::Sql => crate::sql::skeleton(&text),
        Kind::Python => python_skeleton(&text),
    };
    sha256_hex(skeleton.as_bytes())
}

/// Python without blank lines, full-line comments and trailing whitespace. Indentation is
/// kept because it is syntax.
fn python_skeleton(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.trim_start().is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        out.push_str(trimmed);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_ignores_bom_and_line_endings() {
        let a = sha256_normalised("CREATE TABLE a(x);\nSELECT 1;\n");
        assert_eq!(
            a,
            sha256_normalised("\u{feff}CREATE TABLE a(x);\r\nSELECT 1;\r\n")
        );
        assert_eq!(a, sha256_normalised("CREATE TABLE a(x);\rSELECT 1;\r"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn legacy_md5_matches_python() {
        // hashlib.md5(b"SELECT 1;\n").hexdigest()
        assert_eq!(
            legacy(Kind::Sql, b"SELECT 1;\n"),
            "2bdf1665f56c0ce5b966d9c60a7f7eac"
        );
        // read_text() turns CRLF into LF before hashing .sql files
        assert_eq!(
            legacy(Kind::Sql, b"SELECT 1;\r\n"),
            "2bdf1665f56c0ce5b966d9c60a7f7eac"
        );
        // .py files were hashed over raw bytes
        assert_ne!(
            legacy(Kind::Python, b"SELECT 1;\r\n"),
            "2bdf1665f56c0ce5b966d9c60a7f7eac"
        );
    }

    #[test]
    fn stored_values_are_classified() {
        assert!(matches!(
            Stored::classify(Some("2bdf1665f56c0ce5b966d9c60a7f7eac")),
            Stored::Md5(_)
        ));
        assert!(matches!(
            Stored::classify(Some(&"a".repeat(64))),
            Stored::Sha256(_)
        ));
        for v in [
            Some("manual"),
            Some("manual-skip"),
            Some(""),
            None,
            Some("xyz"),
        ] {
            assert!(matches!(Stored::classify(v), Stored::Unverified(_)));
        }
    }

    #[test]
    fn verify_accepts_line_ending_changes_only() {
        let py = Kind::Python;
        let lf: &[u8] = b"def upgrade(conn):\n    pass\n";
        let crlf: &[u8] = b"def upgrade(conn):\r\n    pass\r\n";
        let edited: &[u8] = b"def upgrade(conn):\n    return\n";
        let stored = Stored::classify(Some(&legacy(py, lf)));
        assert_eq!(verify(py, crlf, &stored), Verdict::Match);
        assert_eq!(verify(py, edited, &stored), Verdict::Mismatch);
        assert_eq!(
            verify(py, edited, &Stored::classify(Some("manual"))),
            Verdict::Unverified
        );
        let sha = Stored::classify(Some(&sha256(py, lf)));
        assert_eq!(verify(py, crlf, &sha), Verdict::Match);
        assert_eq!(verify(py, edited, &sha), Verdict::Mismatch);
    }

    #[test]
    fn skeleton_ignores_comments_and_spacing() {
        let a = skeleton_hash(Kind::Python, b"def upgrade(conn):\n    pass\n");
        let b = skeleton_hash(Kind::Python, b"# note\ndef upgrade(conn):   \n\n    pass\n");
        assert_eq!(a, b);
    }
}
