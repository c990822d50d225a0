//! Migration file names (pure): the version, the kind and what a name says.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

/// A migration version: the leading digits of the file name, kept as written ("004") but
/// compared numerically, so "048" == "48" and "999" < "1000" without any size limit.
/// Flyway versions may have dotted parts ("1.2.10"): each part compares numerically, and
/// trailing zero parts do not count ("1.0" == "1"), as Flyway compares them.
#[derive(Clone, Debug, Eq, Serialize)]
#[serde(transparent)]
pub struct Version(String);

impl Version {
    /// Accepts a non-empty run of ASCII digits.
    pub fn parse(s: &str) -> Option<Version> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            Some(Version(s.to_string()))
        } else {
            None
        }
    }

    /// Accepts digit runs separated by single dots ("1", "1.2", "2.0.10").
    pub fn parse_dotted(s: &str) -> Option<Version> {
        let ok = s
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| Version(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The one part of a version without dots, as [`Version::parts`] gives it (`None`
    /// for zero): equality, order and hash of the common case without splitting.
    fn undotted(&self) -> Option<Option<&str>> {
        if self.0.contains('.') {
            return None;
        }
        let digits = self.0.trim_start_matches('0');
        Some((!digits.is_empty()).then_some(digits))
    }

    /// The numeric parts without leading zeros ("" for zero), trailing zero parts dropped:
    /// the numeric identity of the version.
    fn parts(&self) -> impl Iterator<Item = &str> + '_ {
        let mut s = self.0.as_str();
        while let Some((head, last)) = s.rsplit_once('.') {
            if !last.bytes().all(|b| b == b'0') {
                break;
            }
            s = head;
        }
        let whole_zero = s.bytes().all(|b| b == b'0');
        s.split('.')
            .filter(move |_| !whole_zero)
            .map(|p| p.trim_start_matches('0'))
    }

    /// The numeric identity as text: equal versions give the same text (`007` and `7` give
    /// `7`, `1.0` gives `1`, `0` gives `0`).
    pub fn canonical(&self) -> String {
        let parts: Vec<&str> = self.parts().collect();
        if parts.is_empty() {
            "0".to_string()
        } else {
            parts
                .iter()
                .map(|p| if p.is_empty() { "0" } else { p })
                .collect::<Vec<_>>()
                .join(".")
        }
    }

    /// Number of digits as written, for the zero-padding of generated names.
    pub fn width(&self) -> usize {
        self.0.len()
    }

    /// The numeric value, when it fits (it always does for real migration folders) and the
    /// version has no dotted parts.
    pub fn number(&self) -> Option<u128> {
        self.0.parse().ok()
    }

    /// `n` formatted with at least `width` digits.
    pub fn from_number(n: u128, width: usize) -> Version {
        Version(format!("{n:0width$}"))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        match (self.undotted(), other.undotted()) {
            (Some(a), Some(b)) => a == b,
            _ => self.parts().eq(other.parts()),
        }
    }
}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        if let Some(part) = self.undotted() {
            if let Some(p) = part {
                p.hash(state);
            }
            return;
        }
        for p in self.parts() {
            p.hash(state);
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Some(a), Some(b)) = (self.undotted(), other.undotted()) {
            return match (a, b) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => numeric(a, b),
            };
        }
        self.cmp_parts(other)
    }
}

/// Digit strings without leading zeros, compared as numbers.
fn numeric(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Version {
    /// The order of versions part by part, which [`Ord`] shortcuts for undotted ones.
    fn cmp_parts(&self, other: &Self) -> Ordering {
        let (mut a, mut b) = (self.parts(), other.parts());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => match numeric(x, y) {
                    Ordering::Equal => {}
                    other => return other,
                },
            }
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Sql,
    Python,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sql => "sql",
            Kind::Python => "python",
        }
    }
}

/// What a file name says: `<version>_<name>.<sql|py>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    pub version: Version,
    /// The part between the first `_` and the extension ("fix_schema", "fix_schema 2").
    pub name: String,
    pub kind: Kind,
}

/// Parses a migration file name the way the legacy glob matched it (see the module docs).
/// Returns `None` for anything the manager would not have run.
pub fn parse_file_name(file_name: &str) -> Option<FileName> {
    let (stem, kind) = if let Some(stem) = file_name.strip_suffix(".sql") {
        (stem, Kind::Sql)
    } else if let Some(stem) = file_name.strip_suffix(".py") {
        (stem, Kind::Python)
    } else {
        return None;
    };
    let (digits, name) = stem.split_once('_')?;
    let version = Version::parse(digits)?;
    Some(FileName {
        version,
        name: name.to_string(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("999") < v("1000"));
        assert_eq!(v("048"), v("48"));
        assert!(v("005") < v("010"));
        assert_eq!(v("000"), v("0"));
        assert!(Version::parse("").is_none());
        assert!(Version::parse("12a").is_none());
        assert_eq!(Version::from_number(7, 3).as_str(), "007");
    }

    /// `undotted` is a shortcut for the common case: it must answer as `parts` does, for
    /// every mix of dotted, padded and zero versions.
    #[test]
    fn the_undotted_shortcut_agrees_with_the_parts() {
        use std::hash::{Hash, Hasher};
        let all = [
            "0", "000", "0.0", "0.1", "1", "01", "1.0", "1.0.0", "1.1", "2", "10", "010", "9",
            "20250101", "2025.01", "1.10", "1.9",
        ];
        let hash = |x: &Version| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            x.hash(&mut h);
            h.finish()
        };
        for a in all.map(|s| Version::parse_dotted(s).unwrap()) {
            for b in all.map(|s| Version::parse_dotted(s).unwrap()) {
                let expected = a.cmp_parts(&b);
                assert_eq!(a.cmp(&b), expected, "{a:?} vs {b:?}");
                assert_eq!(a == b, expected == Ordering::Equal, "{a:?} vs {b:?}");
                if a == b {
                    assert_eq!(hash(&a), hash(&b), "{a:?} vs {b:?}");
                }
            }
        }
    }

    #[test]
    fn dotted_versions_compare_part_by_part() {
        let v = |s| Version::parse_dotted(s).unwrap();
        assert!(v("1.2") < v("1.10"));
        assert!(v("1.9") < v("2"));
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("01.2"), v("1.2"));
        assert!(v("1") < v("1.1"));
        assert!(v("0") < v("0.1"));
        assert!(Version::parse_dotted("1..2").is_none());
        assert!(Version::parse_dotted("1.").is_none());
        assert!(Version::parse("1.2").is_none());
        let hash = |x: &Version| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            x.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&v("2.0")), hash(&v("2")));
        assert_eq!(hash(&v("000")), hash(&v("0")));
        for (a, canonical) in [("007", "7"), ("1.0", "1"), ("000", "0"), ("1.0.2", "1.0.2")] {
            assert_eq!(v(a).canonical(), canonical, "{a}");
        }
    }
}
