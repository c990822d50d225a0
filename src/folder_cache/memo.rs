//! What `migrate` last concluded on a cached folder (shell): "current, nothing to report".
//!
//! That conclusion is a pure function of the folder's discovery, the history rows as read
//! under the lock, the database as shown and the settings that decide findings (rule
//! levels, accepted checksums). The discovery is pinned by the folder's stamps, exactly as
//! in the folder cache (see the module above). So when a later run finds the same stamps,
//! the same rows, byte for byte, and the same settings, the conclusion is the same, and
//! the folder need not even be decoded. Anything else (a row edited, added or removed, a
//! setting changed, the database shown by another path) is not the memo's business: the run
//! goes on as without it.
//!
//! The memo is `<cache file>.current`: the cache's key and stamps, then the inputs, then a
//! seal. It is written only by a run that concluded "current" on a folder from the cache,
//! never on a fresh read (whose stamps may not have settled).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Dec, Enc, Key, Seen, put_seen, unseal, write_sealed};
use crate::config::{AcceptedChecksum, RuleLevel};
use crate::plan::HistoryRow;

/// `SGMEMO` and the format's number.
const MAGIC: &[u8] = b"SGMEMO\x01";

/// Everything besides the folder that "current, nothing to report" was concluded on.
pub struct Inputs<'a> {
    /// The database as shown in findings.
    pub database: &'a str,
    pub rules: &'a BTreeMap<String, RuleLevel>,
    pub accepted: &'a [AcceptedChecksum],
    /// The history as read under the lock, without the side table.
    pub rows: &'a [HistoryRow],
}

/// The memo of one cached folder, and what it holds when it was written for the folder as
/// it is now.
pub struct Memo {
    cache_dir: PathBuf,
    file: PathBuf,
    /// The magic, the cache key and the stamps of the folder as it is now.
    head: Vec<u8>,
    /// The encoded inputs the memo was written with, when it was written for this head.
    concluded: Option<Vec<u8>>,
}

impl Memo {
    /// The memo beside the cache file `cache_file`, when it is whole, was written for
    /// `key`, and `entries` accepts the folder's entries it lists; with those entries.
    pub(super) fn find(
        cache_dir: &Path,
        cache_file: &Path,
        key: &Key,
        entries: impl FnOnce(&mut Dec<'_>) -> Option<Seen>,
    ) -> Option<(Memo, Seen)> {
        let file = cache_file.with_extension("current");
        let bytes = fs::read(&file).ok()?;
        let body = unseal(&bytes)?;
        let mut r = Dec(body.strip_prefix(MAGIC)?);
        if Key::get(&mut r)? != *key {
            return None;
        }
        let seen = entries(&mut r)?;
        let head = body[..body.len() - r.0.len()].to_vec();
        let memo = Memo {
            cache_dir: cache_dir.to_path_buf(),
            file,
            head,
            concluded: Some(r.0.to_vec()),
        };
        Some((memo, seen))
    }

    /// A memo to record a conclusion on the folder seen as `seen` in.
    pub(super) fn new(cache_dir: &Path, cache_file: &Path, key: &Key, seen: &Seen) -> Memo {
        let mut e = Enc(Vec::with_capacity(MAGIC.len() + 80 * seen.len()));
        e.0.extend_from_slice(MAGIC);
        key.put(&mut e);
        put_seen(&mut e, seen);
        Memo {
            cache_dir: cache_dir.to_path_buf(),
            file: cache_file.with_extension("current"),
            head: e.0,
            concluded: None,
        }
    }

    /// Whether `migrate` concluded "current, nothing to report" on this folder before.
    pub fn concluded(&self) -> bool {
        self.concluded.is_some()
    }

    /// Whether it concluded so on exactly `inputs` too: then it is the answer again.
    pub fn holds(&self, inputs: &Inputs<'_>) -> bool {
        self.concluded
            .as_deref()
            .is_some_and(|c| c == encode(inputs).as_slice())
    }

    /// Records that "current, nothing to report" was concluded on `inputs`, unless the memo
    /// says so already. Best effort: a memo that cannot be written is no memo.
    pub fn remember(&self, inputs: &Inputs<'_>) {
        let inputs = encode(inputs);
        if self.concluded.as_deref() == Some(inputs.as_slice()) {
            return;
        }
        let mut e = Enc(Vec::with_capacity(self.head.len() + inputs.len() + 8));
        e.0.extend_from_slice(&self.head);
        e.0.extend_from_slice(&inputs);
        let _ = write_sealed(&self.cache_dir, &self.file, e);
    }
}

fn encode(inputs: &Inputs<'_>) -> Vec<u8> {
    let mut e = Enc(Vec::with_capacity(64 + 160 * inputs.rows.len()));
    e.str(inputs.database);
    // Both are ordered (a BTreeMap, a list), so their Debug text is one-to-one.
    e.str(&format!("{:?}", (inputs.rules, inputs.accepted)));
    e.len(inputs.rows.len());
    for row in inputs.rows {
        // Every field, named: a field added to HistoryRow does not compile until it is
        // added here.
        let HistoryRow {
            id,
            version,
            applied_at,
            description,
            checksum,
            file_name,
            skeleton,
            origin,
        } = row;
        e.u64(*id as u64);
        e.str(version);
        for text in [applied_at, description, checksum, file_name, skeleton] {
            e.opt_str(text.as_deref());
        }
        e.u8(*origin as u8);
    }
    e.0
}

#[cfg(test)]
mod tests {
    use super::super::same;
    use super::*;
    use crate::plan::RowOrigin;

    fn key() -> Key {
        Key {
            folder: b"/srv/app/migrations".to_vec(),
            display: "migrations".into(),
            layout: "Auto".into(),
            version: "1.2.3".into(),
            executable: [1, 2, 3, 4],
        }
    }

    fn seen(ctime: i64) -> Seen {
        vec![(
            "001_init.sql".into(),
            Some(crate::fsio::Stamp {
                dev: 1,
                ino: 2,
                size: 3,
                mtime: (4, 5),
                ctime: (ctime, 7),
            }),
        )]
    }

    fn rows() -> Vec<HistoryRow> {
        vec![HistoryRow {
            id: 1,
            version: "001".into(),
            applied_at: Some("2026-01-01 00:00:00".into()),
            description: Some("init".into()),
            checksum: Some("ab".repeat(32)),
            file_name: None,
            skeleton: None,
            origin: RowOrigin::SchemaVersions,
        }]
    }

    /// The memo as a run on the folder seen as `seen` would find it.
    fn load(dir: &Path, cache_file: &Path, key: &Key, seen: &Seen) -> Memo {
        Memo::find(dir, cache_file, key, same(seen))
            .map(|(memo, _)| memo)
            .unwrap_or_else(|| Memo::new(dir, cache_file, key, seen))
    }

    fn inputs<'a>(
        rows: &'a [HistoryRow],
        rules: &'a BTreeMap<String, RuleLevel>,
        database: &'a str,
    ) -> Inputs<'a> {
        Inputs {
            database,
            rules,
            accepted: &[],
            rows,
        }
    }

    #[test]
    fn a_memo_holds_for_the_same_folder_rows_and_settings_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache_file = dir.path().join("folders/x.bin");
        let (rows, rules) = (rows(), BTreeMap::new());
        let memo = load(dir.path(), &cache_file, &key(), &seen(6));
        assert!(!memo.concluded());
        assert!(!memo.holds(&inputs(&rows, &rules, "data/app.db")));
        memo.remember(&inputs(&rows, &rules, "data/app.db"));

        let memo = load(dir.path(), &cache_file, &key(), &seen(6));
        assert!(memo.concluded());
        assert!(memo.holds(&inputs(&rows, &rules, "data/app.db")));
        // Another database path, another rule level, any field of any row: not the same.
        assert!(!memo.holds(&inputs(&rows, &rules, "./data/app.db")));
        let other_rules = BTreeMap::from([("checksum-drift".to_string(), RuleLevel::Warning)]);
        assert!(!memo.holds(&inputs(&rows, &other_rules, "data/app.db")));
        let edits: [fn(&mut HistoryRow); 7] = [
            |r| r.id = 2,
            |r| r.version = "1".into(),
            |r| r.applied_at = None,
            |r| r.description = Some("init ".into()),
            |r| r.checksum = Some("manual".into()),
            |r| r.file_name = Some("001_init.sql".into()),
            |r| r.origin = RowOrigin::Sqlx,
        ];
        for edit in edits {
            let mut changed = rows.clone();
            edit(&mut changed[0]);
            assert!(!memo.holds(&inputs(&changed, &rules, "data/app.db")));
        }
        let mut more = rows.clone();
        more.push(rows[0].clone());
        assert!(!memo.holds(&inputs(&more, &rules, "data/app.db")));
        assert!(!memo.holds(&inputs(&[], &rules, "data/app.db")));

        // Another stamp or another build: no memo at all.
        assert!(!load(dir.path(), &cache_file, &key(), &seen(8)).concluded());
        let other = Key {
            executable: [1, 2, 3, 5],
            ..key()
        };
        assert!(!load(dir.path(), &cache_file, &other, &seen(6)).concluded());
    }

    #[test]
    fn a_damaged_memo_is_no_memo() {
        let dir = tempfile::tempdir().unwrap();
        let cache_file = dir.path().join("folders/x.bin");
        let (rows, rules) = (rows(), BTreeMap::new());
        load(dir.path(), &cache_file, &key(), &seen(6)).remember(&inputs(&rows, &rules, "db"));
        let file = cache_file.with_extension("current");
        let bytes = fs::read(&file).unwrap();
        for cut in 0..bytes.len() {
            fs::write(&file, &bytes[..cut]).unwrap();
            assert!(!load(dir.path(), &cache_file, &key(), &seen(6)).concluded());
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            fs::write(&file, &bad).unwrap();
            let memo = load(dir.path(), &cache_file, &key(), &seen(6));
            assert!(!memo.holds(&inputs(&rows, &rules, "db")), "byte {i}");
        }
    }
}
