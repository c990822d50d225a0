//! The one plan: files against history rows (pure).
//!
//! `status`, `pending`, `migrate`, `dry-run` and `lint --db` all read this plan, so they can
//! never disagree about what is applied or pending (sqlx-cli grew a second loop for its dry
//! run and the two drifted apart; we keep one).
//!
//! History rows come from schemagate's `schema_versions` or, for a folder of another tool,
//! from that tool's own table (`crate::history`); [`RowOrigin`] says which, and with it how
//! a row meets the files, the way that tool decides what it would apply:
//! - versions compare as numbers ("4" is "004") for `schema_versions`, sqlx, goose,
//!   golang-migrate, Flyway and refinery, which all parse them as integers; as text for
//!   dbmate and diesel, which keep them as strings ("1" is not "001" there);
//! - golang-migrate keeps one row, the current version, and runs only what is above it, so
//!   its row also stands for every file below it; a Flyway baseline does the same for the
//!   versions up to it. Such files are recorded (unverified), never pending;
//! - a tool without checksums (dbmate, goose, golang-migrate, diesel) leaves its applied
//!   files `unverified`: nothing recorded can tell whether they changed.
//!
//! Rows whose version is not a clean run of digits (dotted digits in Flyway's table, where
//! `'1.1'` records `V1.1__x.sql` and `'1.0'` is `'1'`, as Flyway compares them) are
//! [`Plan::odd_rows`]; a second row for
//! a version that already has one is in [`Plan::duplicate_rows`], not a missing file. A
//! padded number (`' 2'`) still matches its version where versions compare as numbers: the
//! row most likely records that migration, and running it a second time is the worse
//! mistake; every other odd row matches nothing (`invalid-history-row` reports them all).

use std::collections::HashMap;

use serde::Serialize;

use crate::checksum::{Stored, Verdict};
use crate::migration::{Discovery, Migration, Version};

/// Where a history row was read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowOrigin {
    /// `schema_versions`: the legacy manager's and schemagate's.
    #[default]
    SchemaVersions,
    /// `_sqlx_migrations`.
    Sqlx,
    /// dbmate's `schema_migrations`.
    Dbmate,
    /// `goose_db_version` (the newest row of a version decides).
    Goose,
    /// golang-migrate's `schema_migrations`: one row, the current version.
    GolangMigrate,
    /// `flyway_schema_history`, a versioned migration.
    Flyway,
    /// `flyway_schema_history`, a `BASELINE` row.
    FlywayBaseline,
    /// `refinery_schema_history`.
    Refinery,
    /// `__diesel_schema_migrations`.
    Diesel,
}

impl RowOrigin {
    /// The table the row is in.
    pub fn table(self) -> &'static str {
        match self {
            RowOrigin::SchemaVersions => "schema_versions",
            RowOrigin::Sqlx => "_sqlx_migrations",
            RowOrigin::Dbmate | RowOrigin::GolangMigrate => "schema_migrations",
            RowOrigin::Goose => "goose_db_version",
            RowOrigin::Flyway | RowOrigin::FlywayBaseline => "flyway_schema_history",
            RowOrigin::Refinery => "refinery_schema_history",
            RowOrigin::Diesel => "__diesel_schema_migrations",
        }
    }

    /// The tool that writes the table.
    pub fn tool(self) -> &'static str {
        match self {
            RowOrigin::SchemaVersions => "schemagate",
            RowOrigin::Sqlx => "sqlx",
            RowOrigin::Dbmate => "dbmate",
            RowOrigin::Goose => "goose",
            RowOrigin::GolangMigrate => "golang-migrate",
            RowOrigin::Flyway | RowOrigin::FlywayBaseline => "Flyway",
            RowOrigin::Refinery => "refinery",
            RowOrigin::Diesel => "diesel",
        }
    }

    /// Whether the tool stores a digest of each file it applied.
    pub fn records_checksums(self) -> bool {
        matches!(
            self,
            RowOrigin::SchemaVersions | RowOrigin::Sqlx | RowOrigin::Flyway | RowOrigin::Refinery
        )
    }

    /// Whether the tool compares versions as strings.
    pub fn compares_text(self) -> bool {
        matches!(self, RowOrigin::Dbmate | RowOrigin::Diesel)
    }

    /// Whether the row also records every version below its own.
    pub fn covers_lower_versions(self) -> bool {
        matches!(self, RowOrigin::GolangMigrate | RowOrigin::FlywayBaseline)
    }

    /// Whether the tool's versions have dotted parts (`1.1`): Flyway's do, as its file
    /// names (`V1.1__x.sql`, `V1_1__x.sql`) and its history rows (`'1.1'`) write them.
    pub fn dotted_versions(self) -> bool {
        matches!(self, RowOrigin::Flyway | RowOrigin::FlywayBaseline)
    }

    /// A version as this table's tool reads it: digits, or dotted digits for Flyway.
    pub fn parse_version(self, text: &str) -> Option<Version> {
        if self.dotted_versions() {
            Version::parse_dotted(text)
        } else {
            Version::parse(text)
        }
    }
}

/// One history row (of `schema_versions`, plus what schemagate's side table knows about it,
/// or of another tool's table, see [`RowOrigin`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// `schema_versions.id`; for other tables their own row id (`installed_rank` for
    /// Flyway, `id` for goose, the rowid elsewhere): how findings name the row.
    pub id: i64,
    /// The version column as text, exactly as stored.
    pub version: String,
    pub applied_at: Option<String>,
    pub description: Option<String>,
    /// As text: hex for sqlx's BLOB, the decimal integer for Flyway and refinery.
    pub checksum: Option<String>,
    /// File name recorded by schemagate when it applied the migration (None for legacy rows).
    pub file_name: Option<String>,
    /// Skeleton hash recorded by schemagate (see `checksum::skeleton_hash`).
    pub skeleton: Option<String>,
    #[serde(skip)]
    pub origin: RowOrigin,
}

impl HistoryRow {
    pub fn stored(&self) -> Stored {
        let text = self.checksum.as_deref();
        let unverified = || Stored::Unverified(text.map(str::to_string));
        match self.origin {
            RowOrigin::SchemaVersions => Stored::classify(text),
            RowOrigin::Sqlx => match text {
                Some(h) if h.len() == 96 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Stored::Sha384(h.to_ascii_lowercase())
                }
                _ => unverified(),
            },
            RowOrigin::Flyway => text
                .and_then(|t| t.trim().parse().ok())
                .map_or_else(unverified, Stored::Crc32),
            RowOrigin::Refinery => text
                .and_then(|t| t.trim().parse().ok())
                .map_or_else(unverified, Stored::SipHash13),
            _ => unverified(),
        }
    }

    /// The version, leniently: surrounding whitespace is ignored. For looking a row up by a
    /// version the user typed; the plan uses the strict [`HistoryRow::row_version`].
    pub fn parsed_version(&self) -> Option<Version> {
        self.origin.parse_version(self.version.trim())
    }

    /// What the version column holds, as the table's tool reads versions.
    pub fn row_version(&self) -> RowVersion {
        RowVersion::of(&self.version, self.origin)
    }

    /// The row as findings name it: table, row id and the version as stored.
    pub fn label(&self) -> String {
        format!(
            "{} row {} (version '{}')",
            self.origin.table(),
            self.id,
            self.version.escape_debug()
        )
    }
}

/// Whether `row` records the content of `m`: `m.verify(&row.stored()) == Verdict::Match`,
/// without building the stored digest when it is what schemagate and the legacy manager
/// write, the file's SHA-256 or MD5 in hex (a thousand applied rows are checked on every
/// `migrate`).
fn records(row: &HistoryRow, m: &Migration) -> bool {
    if row.origin == RowOrigin::SchemaVersions
        && let Some(text) = row.checksum.as_deref()
    {
        // Both digests are lower-case hex, so only hex text of their length can equal them.
        let digest = match text.len() {
            64 => m.checksum.as_str(),
            32 => m.legacy_checksum.as_str(),
            _ => "",
        };
        if !digest.is_empty() && text.eq_ignore_ascii_case(digest) {
            return true;
        }
    }
    m.verify(&row.stored()) == Verdict::Match
}

/// What a history row's version column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowVersion {
    /// A run of ASCII digits (in Flyway's table also dotted digits, `1.1`): a version.
    Clean(Version),
    /// Digits with whitespace around them (`' 2'`).
    Padded(Version),
    /// Empty or only whitespace (a NULL reads as empty).
    Empty,
    /// Numeric characters, but not a run of ASCII digits: `2.0`, `-1`, `+2`, `1e3`, `２`.
    NumberLike,
    /// No numeric character at all: `abc`, `manual`.
    NotANumber,
}

impl RowVersion {
    /// `text` read as `origin`'s tool reads a version.
    pub fn of(text: &str, origin: RowOrigin) -> RowVersion {
        if let Some(v) = origin.parse_version(text) {
            return RowVersion::Clean(v);
        }
        let trimmed = text.trim();
        if let Some(v) = origin.parse_version(trimmed) {
            RowVersion::Padded(v)
        } else if trimmed.is_empty() {
            RowVersion::Empty
        } else if trimmed.chars().any(char::is_numeric) {
            RowVersion::NumberLike
        } else {
            RowVersion::NotANumber
        }
    }
}

/// A migration that started without a wrapping transaction and never finished; or, in
/// another tool's table, a row that tool marks as failed half-way (golang-migrate's `dirty`,
/// `success = false` of sqlx and Flyway): the database is in a state nobody recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtyMarker {
    pub version: String,
    pub file_name: Option<String>,
    /// `running` (the process died) or `failed`; `dirty` for golang-migrate.
    pub state: String,
    pub started_at: Option<String>,
    pub message: Option<String>,
    /// Whose marker it is: schemagate's (`schemagate_state`) or a tool's history row.
    pub origin: RowOrigin,
}

impl std::fmt::Display for DirtyMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.origin != RowOrigin::SchemaVersions {
            return write!(
                f,
                "{} marks migration {} {} in {}{}",
                self.origin.tool(),
                self.version,
                self.state,
                self.origin.table(),
                self.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default(),
            );
        }
        write!(
            f,
            "migration {} ({}) was {} without a transaction{}{}",
            self.version,
            self.file_name.as_deref().unwrap_or("file unknown"),
            if self.state == "failed" {
                "failed while running"
            } else {
                "interrupted while running"
            },
            self.started_at
                .as_deref()
                .map(|t| format!(" (started {t} UTC)"))
                .unwrap_or_default(),
            self.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default(),
        )
    }
}

impl DirtyMarker {
    /// What to do about it, with the tool's own command: the tool refuses to go on until it
    /// is done, and so does schemagate.
    pub fn remedy(&self) -> String {
        let v = &self.version;
        match self.origin {
            RowOrigin::SchemaVersions => format!(
                "the statements before the failure stayed applied: check the database by hand, finish or undo them, then `schemagate resolve {v} --applied` (finished) or `--rolled-back` (undone) with --reason"
            ),
            RowOrigin::GolangMigrate if v.trim() == "-1" => "check the database by hand, then `migrate force -1` if the down migration of the first version took effect, or `migrate force` that version if it did not".to_string(),
            RowOrigin::GolangMigrate => format!(
                "check the database by hand, then `migrate force {v}` if the migration took effect, or `migrate force` the version before it if it did not"
            ),
            RowOrigin::Sqlx => format!(
                "fix the database by hand, then remove the row as sqlx asks: `DELETE FROM _sqlx_migrations WHERE version = {v}` (sqlx then runs the migration again)"
            ),
            RowOrigin::Flyway | RowOrigin::FlywayBaseline => "fix the database by hand, then run `flyway repair` (it removes the failed row; Flyway then runs the migration again)".to_string(),
            other => format!("fix the database and the row with {}", other.tool()),
        }
    }
}

/// A row whose version is not a clean run of digits.
#[derive(Clone, Debug)]
pub struct OddRow<'a> {
    pub row: &'a HistoryRow,
    pub version: RowVersion,
}

/// A row that records a version another row already records.
#[derive(Clone, Debug)]
pub struct DuplicateRow<'a> {
    /// The row the plan uses: the one that records a file's content, else the first.
    pub kept: &'a HistoryRow,
    pub extra: &'a HistoryRow,
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
    /// Rows whose version is not a clean run of digits (read order).
    pub odd_rows: Vec<OddRow<'a>>,
    /// Second rows for a version (read order of the extra rows).
    pub duplicate_rows: Vec<DuplicateRow<'a>>,
}

impl<'a> Plan<'a> {
    pub fn new(discovery: &'a Discovery, rows: &'a [HistoryRow]) -> Plan<'a> {
        let mut plan = Plan::default();
        let mut used_rows = vec![false; rows.len()];
        let parsed: Vec<RowVersion> = rows.iter().map(HistoryRow::row_version).collect();
        // The version a row can match: a padded number only where versions are numbers.
        let key: Vec<Option<&Version>> = rows
            .iter()
            .zip(&parsed)
            .map(|(row, p)| match p {
                RowVersion::Clean(v) => Some(v),
                RowVersion::Padded(v) if !row.origin.compares_text() => Some(v),
                _ => None,
            })
            .collect();
        let matches = |r: usize, v: &Version| {
            key[r] == Some(v) && (!rows[r].origin.compares_text() || rows[r].version == v.as_str())
        };
        let same_version = |a: usize, b: usize| {
            key[a].is_some()
                && key[a] == key[b]
                && (!rows[a].origin.compares_text() || rows[a].version == rows[b].version)
        };
        // The rows of each version: one lookup per file, not a scan of every row (with 1000
        // applied, the scans were most of a no-op `migrate`'s CPU time). The first row of
        // a version, then the others (an empty Vec allocates nothing).
        let mut by_version: HashMap<&Version, (usize, Vec<usize>)> =
            HashMap::with_capacity(rows.len());
        for (r, k) in key.iter().enumerate() {
            if let Some(v) = k {
                by_version
                    .entry(v)
                    .and_modify(|(_, more)| more.push(r))
                    .or_insert((r, Vec::new()));
            }
        }
        let watermark: Option<(&'a HistoryRow, &Version)> = rows
            .iter()
            .zip(&key)
            .filter(|(row, _)| row.origin.covers_lower_versions())
            .filter_map(|(row, k)| k.map(|v| (row, v)))
            .max_by(|a, b| a.1.cmp(b.1));

        let mut i = 0;
        let files = &discovery.migrations;
        while i < files.len() {
            let version = &files[i].version;
            let group_end = files[i..]
                .iter()
                .position(|m| m.version != *version)
                .map_or(files.len(), |n| i + n);
            let group = &files[i..group_end];
            let matching: Vec<usize> = by_version
                .get(version)
                .map(|(first, more)| {
                    std::iter::once(first)
                        .chain(more)
                        .copied()
                        .filter(|&r| matches(r, version))
                        .collect()
                })
                .unwrap_or_default();
            if matching.is_empty() {
                // Below golang-migrate's current version or a Flyway baseline: recorded by
                // that row, never run by the tool.
                let covered = watermark.filter(|(_, w)| version < *w).map(|(row, _)| row);
                for m in group {
                    plan.entries.push(Entry {
                        version: m.version.clone(),
                        migration: Some(m),
                        row: covered,
                        state: if covered.is_some() {
                            State::Unverified
                        } else {
                            State::Pending
                        },
                    });
                }
                i = group_end;
                continue;
            }
            // The first row that records the content of a file of the group, and the first
            // such file.
            let recorded = matching.iter().find_map(|&r| {
                let file = group.iter().position(|m| records(&rows[r], m))?;
                Some((r, file))
            });
            let r = recorded.map_or(matching[0], |(r, _)| r);
            for &other in &matching {
                used_rows[other] = true;
                if other != r {
                    plan.duplicate_rows.push(DuplicateRow {
                        kept: &rows[r],
                        extra: &rows[other],
                    });
                }
            }
            let row = &rows[r];
            // With duplicate files, the row belongs to the file whose content it records;
            // failing that, to the one the legacy manager ran first.
            let (owner, owner_state) = match recorded {
                Some((_, file)) => (file, State::Applied),
                None => {
                    let owner = row
                        .file_name
                        .as_ref()
                        .and_then(|f| group.iter().position(|m| &m.file_name == f))
                        .unwrap_or(0);
                    let state = match group[owner].verify(&row.stored()) {
                        Verdict::Match => State::Applied,
                        Verdict::Mismatch => State::Drifted,
                        Verdict::Unverified => State::Unverified,
                    };
                    (owner, state)
                }
            };
            for (k, m) in group.iter().enumerate() {
                let (state, row) = if k == owner {
                    (owner_state, Some(row))
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
            i = group_end;
        }

        // Rows no file matched: one missing-file entry per version, later rows of the same
        // version are duplicates of the first.
        let mut missing: Vec<usize> = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            if used_rows[r] {
                continue;
            }
            let Some(v) = key[r] else {
                continue;
            };
            if let Some(&first) = missing.iter().find(|&&q| same_version(q, r)) {
                plan.duplicate_rows.push(DuplicateRow {
                    kept: &rows[first],
                    extra: row,
                });
                continue;
            }
            missing.push(r);
            plan.entries.push(Entry {
                version: v.clone(),
                migration: None,
                row: Some(row),
                state: State::MissingFile,
            });
        }
        plan.duplicate_rows.sort_by_key(|d| d.extra.id);
        for (row, version) in rows.iter().zip(&parsed) {
            if !matches!(version, RowVersion::Clean(_)) {
                plan.odd_rows.push(OddRow {
                    row,
                    version: version.clone(),
                });
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
            .map(|e| &e.version)
            .max();
        for e in &plan.entries {
            if e.state != State::Pending {
                continue;
            }
            let m = e.migration.expect("pending entries have a file");
            if let Some(max) = max_recorded
                && m.version < *max
            {
                plan.out_of_order.push(m);
            }
            for (r, row) in rows.iter().enumerate() {
                if matches(r, &m.version) {
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
            ..Default::default()
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
