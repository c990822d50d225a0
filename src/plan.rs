//! The one plan: files against history rows (pure).
//!
//! `status`, `pending`, `migrate`, `dry-run` and `lint --db` all read this plan, so they can
//! never disagree about what is applied or pending (sqlx-cli grew a second loop for its dry
//! run and the two drifted apart; we keep one).

use std::collections::HashMap;

use serde::Serialize;

use crate::checksum::{Stored, Verdict};
use crate::migration::{Discovery, Migration, Version};

/// One row of `schema_versions`, plus what schemagate's side table knows about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub version: String,
    pub applied_at: Option<String>,
    pub description: Option<String>,
    pub checksum: Option<String>,
    /// File name recorded by schemagate when it applied the migration (None for legacy rows).
    pub file_name: Option<String>,
    /// Skeleton hash recorded by schemagate (see `checksum::skeleton_hash`).
    pub skeleton: Option<String>,
}

impl HistoryRow {
    pub fn stored(&self) -> Stored {
        Stored::classify(self.checksum.as_deref())
    }

    /// A row whose version column is not a number cannot match any file.
    pub fn parsed_version(&self) -> Option<Version> {
        Version::parse(self.version.trim())
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Applied,
    Pending,
    /// Applied, but the file changed since.
    Drifted,
    /// Applied, with a checksum that was never a digest (`manual`, NULL, ...).
    Unverified,
    /// Applied, but no file has that version any more.
    MissingFile,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Drifted => "drifted",
            State::Unverified => "unverified",
            State::MissingFile => "missing-file",
        }
    }

    /// Counted as applied in the database (everything but pending).
    pub fn is_recorded(self) -> bool {
        self != State::Pending
    }
}

#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub version: Version,
    pub migration: Option<&'a Migration>,
    pub row: Option<&'a HistoryRow>,
    pub state: State,
}

/// A pending file whose content is already recorded under another version: applying it
/// would run the same migration twice.
#[derive(Clone, Debug)]
pub struct RenamedApplied<'a> {
    pub migration: &'a Migration,
    pub row: &'a HistoryRow,
}

#[derive(Clone, Debug, Default)]
pub struct Plan<'a> {
    /// Files and rows in version order (files before rows of the same version).
    pub entries: Vec<Entry<'a>>,
    pub renamed_applied: Vec<RenamedApplied<'a>>,
    /// Pending files numbered below the newest recorded version.
    pub out_of_order: Vec<&'a Migration>,
    /// Rows whose version is not a number at all.
    pub unparseable_rows: Vec<&'a HistoryRow>,
}

impl<'a> Plan<'a> {
    pub fn new(discovery: &'a Discovery, rows: &'a [HistoryRow]) -> Plan<'a> {
        let mut plan = Plan::default();
        let mut used_rows = vec![false; rows.len()];
        let row_version: Vec<Option<Version>> =
            rows.iter().map(HistoryRow::parsed_version).collect();
        // The first row of each version: one lookup per file, not a scan of every row
        // (with 1000 applied, the scans were most of a no-op `migrate`'s CPU time).
        let mut first_row: HashMap<&Version, usize> = HashMap::with_capacity(rows.len());
        for (r, v) in row_version.iter().enumerate() {
            if let Some(v) = v {
                first_row.entry(v).or_insert(r);
            }
        }

        let mut i = 0;
        let files = &discovery.migrations;
        while i < files.len() {
            let version = files[i].version.clone();
            let group_end = files[i..]
                .iter()
                .position(|m| m.version != version)
                .map_or(files.len(), |n| i + n);
            let group = &files[i..group_end];
            let row_idx = first_row.get(&version).copied();
            match row_idx {
                None => {
                    for m in group {
                        plan.entries.push(Entry {
                            version: m.version.clone(),
                            migration: Some(m),
                            row: None,
                            state: State::Pending,
                        });
                    }
                }
                Some(r) => {
                    used_rows[r] = true;
                    let row = &rows[r];
                    let stored = row.stored();
                    // With duplicate files, the row belongs to the file whose content it
                    // records; failing that, to the one the legacy manager ran first.
                    let owner = group
                        .iter()
                        .position(|m| m.verify(&stored) == Verdict::Match)
                        .or_else(|| {
                            row.file_name
                                .as_ref()
                                .and_then(|f| group.iter().position(|m| &m.file_name == f))
                        })
                        .unwrap_or(0);
                    for (k, m) in group.iter().enumerate() {
                        let (state, row) = if k == owner {
                            let state = match m.verify(&stored) {
                                Verdict::Match => State::Applied,
                                Verdict::Mismatch => State::Drifted,
                                Verdict::Unverified => State::Unverified,
                            };
                            (state, Some(row))
                        } else {
                            (State::Pending, None)
                        };
                        plan.entries.push(Entry {
                            version: m.version.clone(),
                            migration: Some(m),
                            row,
                            state,
                        });
                    }
                }
            }
            i = group_end;
        }

        for (r, row) in rows.iter().enumerate() {
            if used_rows[r] {
                continue;
            }
            match &row_version[r] {
                Some(v) => {
                    // A second row for a numerically equal version ("4" beside "004") also
                    // has no file of its own.
                    plan.entries.push(Entry {
                        version: v.clone(),
                        migration: None,
                        row: Some(row),
                        state: State::MissingFile,
                    })
                }
                None => plan.unparseable_rows.push(row),
            }
        }
        plan.entries.sort_by(|a, b| {
            a.version
                .cmp(&b.version)
                .then_with(|| a.migration.is_none().cmp(&b.migration.is_none()))
                .then_with(|| {
                    a.migration
                        .map(|m| &m.file_name)
                        .cmp(&b.migration.map(|m| &m.file_name))
                })
        });

        let max_recorded = plan
            .entries
            .iter()
            .filter(|e| e.state.is_recorded())
            .map(|e| e.version.clone())
            .max();
        for e in &plan.entries {
            if e.state != State::Pending {
                continue;
            }
            let m = e.migration.expect("pending entries have a file");
            if let Some(max) = &max_recorded
                && m.version < *max
            {
                plan.out_of_order.push(m);
            }
            for (r, row) in rows.iter().enumerate() {
                if row_version[r].as_ref() == Some(&m.version) {
                    continue;
                }
                if m.verify(&row.stored()) == Verdict::Match {
                    plan.renamed_applied
                        .push(RenamedApplied { migration: m, row });
                    break;
                }
            }
        }
        plan
    }

    /// Files still to apply, in apply order.
    pub fn pending(&self) -> impl Iterator<Item = &'a Migration> + '_ {
        self.entries
            .iter()
            .filter(|e| e.state == State::Pending)
            .filter_map(|e| e.migration)
    }

    pub fn count(&self, state: State) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }

    /// Rows present in the database (whatever their state).
    pub fn recorded(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.state.is_recorded())
            .count()
    }

    pub fn drifted(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(|e| e.state == State::Drifted)
    }

    /// The newest recorded row (by version).
    pub fn last_recorded(&self) -> Option<&'a HistoryRow> {
        self.entries
            .iter()
            .filter(|e| e.state.is_recorded())
            .filter_map(|e| e.row)
            .next_back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::discover;

    fn row(id: i64, version: &str, checksum: Option<&str>) -> HistoryRow {
        HistoryRow {
            id,
            version: version.into(),
            applied_at: None,
            description: None,
            checksum: checksum.map(str::to_string),
            file_name: None,
            skeleton: None,
        }
    }

    fn folder(files: &[(&str, &str)]) -> Discovery {
        discover("m", files.iter().map(|(n, t)| (*n, t.as_bytes())))
    }

    #[test]
    fn states_from_files_and_rows() {
        let d = folder(&[
            ("001_a.sql", "CREATE TABLE a(x);"),
            ("002_b.sql", "CREATE TABLE b(x);"),
            ("003_c.sql", "CREATE TABLE c(x);"),
            ("004_d.sql", "CREATE TABLE d(x);"),
            ("005_e.sql", "CREATE TABLE e(x);"),
        ]);
        let m = &d.migrations;
        let rows = vec![
            row(1, "001", Some(&m[0].checksum)),
            row(2, "002", Some(&m[1].legacy_checksum)),
            row(3, "003", Some("0123456789abcdef0123456789abcdef")),
            row(4, "004", Some("manual")),
            row(5, "009", Some("manual")),
        ];
        let plan = Plan::new(&d, &rows);
        let states: Vec<_> = plan
            .entries
            .iter()
            .map(|e| (e.version.as_str().to_string(), e.state))
            .collect();
        assert_eq!(
            states,
            [
                ("001".into(), State::Applied),
                ("002".into(), State::Applied),
                ("003".into(), State::Drifted),
                ("004".into(), State::Unverified),
                ("005".into(), State::Pending),
                ("009".into(), State::MissingFile),
            ]
        );
        assert_eq!(
            plan.pending()
                .map(|m| m.file_name.as_str())
                .collect::<Vec<_>>(),
            ["005_e.sql"]
        );
        assert_eq!(plan.out_of_order.len(), 1, "005 is below the recorded 009");
        assert_eq!(plan.recorded(), 5);
    }

    #[test]
    fn renamed_applied_is_detected() {
        let d = folder(&[
            ("001_a.sql", "CREATE TABLE a(x);"),
            ("007_a.sql", "CREATE TABLE z(x);"),
        ]);
        let z = discover("m", [("002_z.sql", b"CREATE TABLE z(x);".as_slice())]);
        let rows = vec![
            row(1, "001", Some(&d.migrations[0].checksum)),
            row(2, "002", Some(&z.migrations[0].checksum)),
        ];
        let plan = Plan::new(&d, &rows);
        assert_eq!(plan.renamed_applied.len(), 1);
        assert_eq!(plan.renamed_applied[0].migration.file_name, "007_a.sql");
        assert_eq!(plan.renamed_applied[0].row.version, "002");
    }

    #[test]
    fn duplicate_files_share_one_row() {
        let d = folder(&[
            ("004_a.sql", "CREATE TABLE a(x);"),
            ("004_b.sql", "CREATE TABLE b(x);"),
        ]);
        let rows = vec![row(1, "4", Some(&d.migrations[1].checksum))];
        let plan = Plan::new(&d, &rows);
        let states: Vec<_> = plan
            .entries
            .iter()
            .map(|e| (e.migration.unwrap().file_name.as_str(), e.state))
            .collect();
        assert_eq!(
            states,
            [("004_a.sql", State::Pending), ("004_b.sql", State::Applied)]
        );
    }

    #[test]
    fn empty_history_means_everything_pending() {
        let d = folder(&[("999_x.sql", "SELECT 1;"), ("1000_y.sql", "SELECT 2;")]);
        let plan = Plan::new(&d, &[]);
        assert_eq!(
            plan.pending()
                .map(|m| m.file_name.as_str())
                .collect::<Vec<_>>(),
            ["999_x.sql", "1000_y.sql"]
        );
        assert!(plan.out_of_order.is_empty());
    }
}
