//! Seeded property tests (issue 12): the SQL splitter, the version and file-name parser
//! (and discovery over arbitrary bytes), and the config loader never panic, whatever they
//! are fed, and keep their basic promises. 100 000 cases in all, with a fixed seed so a
//! failure reproduces; the seed changes only by editing [`SEED`].
//!
//! Inputs are half arbitrary text and half pieces of the real thing (SQL keywords, quotes,
//! comments, trigger bodies; migration-like names; TOML sections, keys and values), which
//! reach much deeper than random bytes.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

use schemagate::config::{ApplyConfig, Config, TimeoutFlags, Timeouts, defaults};
use schemagate::migration::{Version, discover, parse_file_name};
use schemagate::sql;

const SEED: u64 = 0x5c4e_6a7e_0012;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(SEED),
        failure_persistence: None,
        // Shrinking a no-panic property is quick; keep it bounded anyway.
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

/// SQL made of the pieces the splitter has to get right.
fn sql_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("CREATE TABLE t(x);".to_string()),
        Just("CREATE TRIGGER tr AFTER INSERT ON t BEGIN".to_string()),
        Just("END".to_string()),
        Just("BEGIN".to_string()),
        Just("CASE WHEN".to_string()),
        Just(";".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("`".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("$$".to_string()),
        Just(".mode csv".to_string()),
        Just("x'00ff'".to_string()),
        Just("\u{feff}".to_string()),
        Just("\0".to_string()),
        "[a-zA-Z_]{1,8}",
        "[0-9.eE+-]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.join(" "))
}

fn sql_input() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), sql_soup()]
}

/// File names that look like migrations, and some that almost do.
fn file_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,45}(_[a-zA-Z0-9 ._-]{0,12})?(\\.sql|\\.py|\\.SQL|\\.txt|)",
        " ?[0-9]{1,4}[_ -][a-z]{0,6}( 2)?\\.(sql|py)",
        any::<String>(),
    ]
}

fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        sql_soup().prop_map(String::into_bytes),
        Just(b"\xef\xbb\xbfCREATE TABLE a(x);\r\n".to_vec()),
        Just(b"def upgrade(conn):\n    pass\n".to_vec()),
    ]
}

/// TOML assembled from the config's own sections, keys and values, plus noise.
fn toml_soup() -> impl Strategy<Value = String> {
    let section = prop_oneof![
        Just("[migrations]"),
        Just("[apply]"),
        Just("[lint]"),
        Just("[rules]"),
        Just("[environments.prod]"),
        Just("[environments.\"a b\"]"),
        Just("[[accept-checksum]]"),
        Just("[nope]"),
        Just(""),
    ];
    let key = prop_oneof![
        Just("dir"),
        Just("version_step"),
        Just("layout"),
        Just("busy_timeout"),
        Just("lock_timeout"),
        Just("migration_timeout"),
        Just("python"),
        Just("database"),
        Just("backup_dir"),
        Just("keep_backups"),
        Just("target_sqlite"),
        Just("slow_migration_ms"),
        Just("destructive-change"),
        Just("version"),
        Just("old"),
        Just("new"),
        Just("reason"),
        Just("keep_bakups"),
    ];
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("2147483".to_string()),
        Just("2147484".to_string()),
        Just("0".to_string()),
        Just("1e309".to_string()),
        Just("nan".to_string()),
        Just("true".to_string()),
        Just("\"auto\"".to_string()),
        Just("\"dbmate\"".to_string()),
        Just("\"error\"".to_string()),
        Just("\"\"".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a = 1 }".to_string()),
        "\"[a-z0-9/._ -]{0,12}\"",
        "[a-z0-9\"'\\[\\]{}=.,]{0,8}",
    ];
    let line = (section, key, value).prop_map(|(s, k, v)| format!("{s}\n{k} = {v}"));
    prop::collection::vec(line, 0..8).prop_map(|v| v.join("\n"))
}

fn toml_input() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), toml_soup()]
}

proptest! {
    #![proptest_config(config(40_000))]

    #[test]
    fn the_sql_splitter_never_panics_and_keeps_its_spans_in_order(text in sql_input()) {
        let (statements, trailing) = sql::split_with_trailing(&text);
        let mut end = 0;
        for s in &statements {
            prop_assert!(s.span.start >= end && s.span.end <= text.len(), "{:?}", s.span);
            prop_assert!(text.is_char_boundary(s.span.start) && text.is_char_boundary(s.span.end));
            end = s.span.end;
            let _ = sql::classify(s, &text);
            let _ = s.keyword(&text, 0);
        }
        for t in &trailing {
            prop_assert!(t.text(&text).len() <= text.len());
        }
        let _ = sql::skeleton(&text);
        let idx = sql::LineIndex::new(&text);
        let (line, col) = idx.line_col(text.len());
        prop_assert!(line >= 1 && col >= 1);
    }
}

proptest! {
    #![proptest_config(config(30_000))]

    #[test]
    fn names_and_versions_parse_without_panicking_and_discovery_takes_any_bytes(
        files in prop::collection::vec((file_name(), file_bytes()), 0..6),
        step in any::<u32>(),
    ) {
        for (name, _) in &files {
            if let Some(f) = parse_file_name(name) {
                prop_assert!(f.version.as_str().bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(name.ends_with(".sql") || name.ends_with(".py"));
            }
            let digits = name.split('_').next().unwrap_or("");
            prop_assert_eq!(
                Version::parse(digits).is_some(),
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            );
        }
        let d = discover(
            "migrations",
            files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
        );
        let versions: Vec<&Version> = d.migrations.iter().map(|m| &m.version).collect();
        // A next version, or an error saying why not: never a wrap-around below the newest.
        if let Ok(next) = schemagate::generate::next_version(versions.iter().copied(), step.max(1)) {
            for v in &versions {
                if let (Some(a), Some(b)) = (next.number(), v.number()) {
                    prop_assert!(a > b, "{} after {}", next.as_str(), v.as_str());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(30_000))]

    #[test]
    fn the_config_loader_never_panics_and_what_it_accepts_is_usable(text in toml_input()) {
        if let Ok(c) = Config::parse(&text, "schemagate.toml") {
            prop_assert!(c.migrations.version_step >= 1);
            let t = Timeouts::resolve(TimeoutFlags::default(), &c.apply);
            let max = Duration::from_secs(defaults::MAX_TIMEOUT_SECS);
            prop_assert!(t.lock <= max && t.busy <= max);
            prop_assert!(t.migration.is_none_or(|m| m <= max));
            // What SQLite's busy timeout takes: milliseconds in an i32.
            prop_assert!(i32::try_from(t.busy.as_millis()).is_ok());
        }
        // The flags go through the same cap whatever a library caller passes.
        let t = Timeouts::resolve(
            TimeoutFlags { lock: Some(u64::MAX), busy: Some(u64::MAX), migration: Some(u64::MAX) },
            &ApplyConfig::default(),
        );
        prop_assert!(i32::try_from(t.busy.as_millis()).is_ok());
    }
}
