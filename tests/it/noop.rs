//! A no-op `migrate` (issue 13): the folder is read on threads while the database is
//! opened and its history read. Whatever the reading shortcuts, drift must still be found,
//! even an edit that keeps the file's size and modification time, and a folder that
//! cannot be read must still stop the run before anything changes.

use std::fs;
use std::time::{Duration, SystemTime};

use crate::common::{Project, output};

/// 300 applied migrations: more than one thread's share of the folder.
fn applied_project() -> Project {
    let p = Project::new();
    for n in 1..=300 {
        p.file(
            &format!("{n:04}_t{n}.sql"),
            format!("CREATE TABLE t{n} (x INTEGER);\n"),
        );
    }
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions().len(), 300);
    p
}

#[test]
fn an_edit_that_keeps_size_and_mtime_is_still_drift() {
    let p = applied_project();
    let path = p.migrations().join("0257_t257.sql");
    let before = fs::metadata(&path).unwrap();
    let mtime = before.modified().unwrap();
    // Same length, one letter changed, the modification time put back.
    fs::write(&path, "CREATE TABLE t257 (y INTEGER);\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), mtime);

    let out = output(&p.run(&["migrate", "--no-backup"]).code(1));
    assert!(out.contains("checksum-drift"), "{out}");
    assert!(out.contains("migrations/0257_t257.sql"), "{out}");
    assert!(out.contains("refusing to apply"), "{out}");
}

#[test]
fn an_unchanged_folder_is_current_and_a_new_file_is_applied() {
    let p = applied_project();
    let out = output(&p.run(&["migrate", "--no-backup"]).success());
    assert!(out.contains("current, nothing to apply"), "{out}");
    p.file("0301_t301.sql", "CREATE TABLE t301 (x);\n");
    p.run(&["migrate", "--no-backup"]).success();
    assert_eq!(p.versions().len(), 301);
}

#[test]
fn a_folder_that_cannot_be_read_stops_the_run_before_any_change() {
    // An existing database: byte for byte the same afterwards.
    let p = applied_project();
    p.file(
        "0301_bad.sql",
        b"CREATE TABLE t (x);\n-- \xff\xfe\n".as_slice(),
    );
    let db_before = fs::read(p.db()).unwrap();
    let out = output(&p.run(&["migrate", "--no-backup"]).code(2));
    assert!(out.contains("migrations/0301_bad.sql"), "{out}");
    assert!(out.contains("not valid UTF-8"), "{out}");
    assert_eq!(fs::read(p.db()).unwrap(), db_before);

    // No database yet: none is created.
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a (x);\n");
    p.file("002_bad.sql", b"\xff".as_slice());
    let out = output(&p.run(&["migrate", "--no-backup"]).code(2));
    assert!(out.contains("migrations/002_bad.sql"), "{out}");
    assert!(!p.db().exists());
    assert!(!p.db().parent().unwrap().exists() || p.data_dir_names().is_empty());
}

#[test]
fn a_file_touched_without_changes_is_not_drift() {
    let p = applied_project();
    let path = p.migrations().join("0100_t100.sql");
    let later = SystemTime::now() + Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let out = output(&p.run(&["migrate", "--no-backup"]).success());
    assert!(out.contains("current, nothing to apply"), "{out}");
}

// ---------------------------------------------------------------------------------------
// The folder cache (`folder_cache`): a no-op run stats the files instead of reading them.
// Each test has a cache folder of its own, and files count as settled after 200 ms instead
// of 3 s, so that a test need not wait for its files to age. `-v` says where the folder
// was read from.

const SETTLE_MS: &str = "200";

/// A project with applied migrations and a cache of its folder.
struct Cached {
    p: Project,
    cache: tempfile::TempDir,
}

impl Cached {
    fn new(n: usize) -> Cached {
        let p = Project::new();
        for i in 1..=n {
            p.file(
                &format!("{i:04}_t{i}.sql"),
                format!("CREATE TABLE t{i} (x INTEGER);\n"),
            );
        }
        let c = Cached {
            p,
            cache: tempfile::tempdir().unwrap(),
        };
        c.migrate().success();
        c.settle();
        let out = output(&c.migrate().success());
        assert!(out.contains("cached for the next run"), "{out}");
        c
    }

    /// Waits until what was written counts as settled.
    fn settle(&self) {
        std::thread::sleep(Duration::from_millis(400));
    }

    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.p.cmd();
        cmd.env("XDG_CACHE_HOME", self.cache.path())
            .env("SCHEMAGATE_TEST_CACHE_SETTLE_MS", SETTLE_MS)
            .args(args)
            .args(["--db", "data/app.db"]);
        cmd
    }

    fn migrate(&self) -> assert_cmd::assert::Assert {
        self.cmd(&["migrate", "--no-backup", "-v"]).assert()
    }

    /// `migrate --format json` through the cache, then without any cache: exit code and
    /// result of each, and what `-v` said of the first.
    fn migrate_both_ways(&self) -> ((i32, String), (i32, String), String) {
        let args = ["migrate", "--no-backup", "-v", "--format", "json"];
        let cached = self.cmd(&args).output().unwrap();
        let mut plain = self.p.cmd();
        plain
            .env_remove("XDG_CACHE_HOME")
            .env_remove("HOME")
            .args(args)
            .args(["--db", "data/app.db"]);
        let plain = plain.output().unwrap();
        let result = |o: &std::process::Output| {
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            )
        };
        (
            result(&cached),
            result(&plain),
            String::from_utf8_lossy(&cached.stderr).into_owned(),
        )
    }

    /// The cache files (`.bin`), one per way of running on the folder.
    fn cache_files(&self) -> Vec<std::path::PathBuf> {
        self.files_ending("bin")
    }

    /// The memos of the last "current" (`.current`), beside the cache files.
    fn memo_files(&self) -> Vec<std::path::PathBuf> {
        self.files_ending("current")
    }

    fn files_ending(&self, extension: &str) -> Vec<std::path::PathBuf> {
        match fs::read_dir(self.cache.path().join("schemagate/folders")) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == extension))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// What `-v` said about where the folder came from.
fn from_cache(out: &str) -> bool {
    assert!(out.contains("migrations folder: "), "{out}");
    out.contains("unchanged since the cache")
}

#[test]
fn an_unchanged_folder_comes_from_the_cache_with_the_full_reads_result() {
    let c = Cached::new(300);
    let (cached, plain, log) = c.migrate_both_ways();
    assert!(from_cache(&log), "{log}");
    assert!(log.contains("300 files unchanged"), "{log}");
    assert_eq!(cached, plain);
    assert_eq!(cached.0, 0);
    assert!(cached.1.contains("\"status\": \"current\""), "{}", cached.1);
    assert_eq!(c.cache_files().len(), 1);
}

#[test]
fn an_edit_that_keeps_size_and_mtime_is_drift_through_the_cache() {
    // With the cache only, and with the memo of the last "current" too.
    for c in [Cached::new(300), memoized(300)] {
        edit_keeping_size_and_mtime_is_drift(&c);
    }
}

fn edit_keeping_size_and_mtime_is_drift(c: &Cached) {
    let path = c.p.migrations().join("0257_t257.sql");
    let before = fs::metadata(&path).unwrap();
    fs::write(&path, "CREATE TABLE t257 (y INTEGER);\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());

    let (cached, plain, log) = c.migrate_both_ways();
    assert!(!from_cache(&log), "{log}");
    assert!(log.contains("changed since the cache was written"), "{log}");
    assert_eq!(cached, plain);
    assert_eq!(cached.0, 1);
    assert!(cached.1.contains("checksum-drift"), "{}", cached.1);
    assert!(
        cached.1.contains("migrations/0257_t257.sql"),
        "{}",
        cached.1
    );
}

#[test]
fn a_file_renamed_over_one_is_read_again() {
    let c = Cached::new(200);
    let path = c.p.migrations().join("0100_t100.sql");
    let before = fs::metadata(&path).unwrap();
    // Same size and times, another inode: what `git checkout` and editors' saves do.
    let other = c.p.path().join("0100_t100.sql.new");
    fs::write(&other, "CREATE TABLE t100 (y INTEGER);\n").unwrap();
    let f = fs::File::options().write(true).open(&other).unwrap();
    f.set_modified(before.modified().unwrap()).unwrap();
    drop(f);
    fs::rename(&other, &path).unwrap();
    let (cached, plain, log) = c.migrate_both_ways();
    assert!(!from_cache(&log), "{log}");
    assert_eq!(cached, plain);
    assert!(cached.1.contains("checksum-drift"), "{}", cached.1);
}

#[test]
fn a_deleted_file_and_a_new_file_are_read_again() {
    let c = Cached::new(200);
    c.p.remove("0150_t150.sql");
    let (cached, plain, log) = c.migrate_both_ways();
    assert!(!from_cache(&log), "{log}");
    assert_eq!(cached, plain);
    assert!(cached.1.contains("missing-file"), "{}", cached.1);

    c.p.file("0150_t150.sql", "CREATE TABLE t150 (x INTEGER);\n");
    c.p.file("0201_t201.sql", "CREATE TABLE t201 (x INTEGER);\n");
    let out = output(&c.migrate().success());
    assert!(out.contains("read in full"), "{out}");
    assert!(out.contains("applied 1 migration (0201)"), "{out}");
    assert_eq!(c.p.versions().len(), 201);
}

#[test]
fn a_changed_layout_setting_or_display_is_read_again() {
    let c = Cached::new(150);
    c.p.config("[migrations]\nlayout = \"legacy\"\n");
    let out = output(&c.migrate().success());
    assert!(out.contains("read in full (no cache yet)"), "{out}");
    assert!(out.contains("current, nothing to apply"), "{out}");
    // Each way of running keeps its own file, so alternating between them stays cached.
    let out = output(&c.migrate().success());
    assert!(from_cache(&out), "{out}");
    let out = output(
        &c.cmd(&["migrate", "--no-backup", "-v", "--dir", "./migrations"])
            .assert()
            .success(),
    );
    assert!(!from_cache(&out), "{out}");
    assert_eq!(c.cache_files().len(), 3);
}

#[test]
fn a_damaged_or_foreign_cache_file_is_ignored_and_replaced() {
    let c = Cached::new(150);
    let [file] = c.cache_files().try_into().unwrap();
    let good = fs::read(&file).unwrap();
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x20;
    let cases: [(&[u8], &str); 4] = [
        (&flipped, "damaged"),
        (&good[..good.len() / 3], "damaged"),
        (b"", "not one of schemagate's"),
        (
            b"garbage that is not a cache file at all, but long enough to have a digest",
            "not one of schemagate's",
        ),
    ];
    for (bytes, why) in cases {
        // The cache file is what is tested here, not the memo of the last "current".
        for memo in c.memo_files() {
            fs::remove_file(memo).unwrap();
        }
        fs::write(&file, bytes).unwrap();
        let (cached, plain, log) = c.migrate_both_ways();
        assert!(!from_cache(&log), "{log}");
        assert!(log.contains(why), "{why}: {log}");
        assert_eq!(cached, plain);
        assert!(cached.1.contains("\"status\": \"current\""), "{}", cached.1);
        // Replaced by the full read.
        let out = output(&c.migrate().success());
        assert!(from_cache(&out), "{out}");
    }

    // Another project's cache file in this one's place.
    let other = Cached::new(150);
    let [theirs] = other.cache_files().try_into().unwrap();
    fs::copy(theirs, &file).unwrap();
    for memo in c.memo_files() {
        fs::remove_file(memo).unwrap();
    }
    let out = output(&c.migrate().success());
    assert!(
        out.contains("read in full (the cache was written for another folder"),
        "{out}"
    );
}

#[test]
fn another_build_of_schemagate_does_not_use_the_cache() {
    let c = Cached::new(150);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("schemagate");
    fs::copy(crate::common::bin(), &copy).unwrap();
    let mut cmd = std::process::Command::new(&copy);
    crate::common::clean_env(&mut cmd)
        .current_dir(c.p.path())
        .env("XDG_CACHE_HOME", c.cache.path())
        .env("SCHEMAGATE_TEST_CACHE_SETTLE_MS", SETTLE_MS)
        .args(["migrate", "--no-backup", "-v", "--db", "data/app.db"]);
    let out = crate::common::stdout_and_stderr(&cmd.output().unwrap());
    assert!(
        out.contains(
            "read in full (the cache was written for another folder, layout setting or build)"
        ),
        "{out}"
    );
    assert!(out.contains("current, nothing to apply"), "{out}");
}

#[test]
fn a_cached_folder_with_history_to_report_is_decided_on_a_full_read() {
    let c = Cached::new(150);
    // A row no file has, recorded by hand: a finding, so the cached folder is not trusted.
    c.p.open()
        .execute(
            "INSERT INTO schema_versions (version, description, checksum) VALUES ('0999', 'gone', 'x')",
            [],
        )
        .unwrap();
    let (cached, plain, log) = c.migrate_both_ways();
    assert!(from_cache(&log), "{log}");
    assert!(
        log.contains("read in full (a cached folder only ever concludes"),
        "{log}"
    );
    assert_eq!(cached, plain);
    assert!(cached.1.contains("missing-file"), "{}", cached.1);
}

#[test]
fn files_written_just_before_a_run_are_not_cached() {
    let p = Project::new();
    for i in 1..=5 {
        p.file(
            &format!("{i:03}_t{i}.sql"),
            format!("CREATE TABLE t{i} (x);\n"),
        );
    }
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        // The real settling time: the files are younger than it.
        let a = p
            .cmd()
            .env("XDG_CACHE_HOME", cache.path())
            .args(["migrate", "--no-backup", "-v", "--db", "data/app.db"])
            .assert()
            .success();
        output(&a)
    };
    run();
    let out = run();
    assert!(out.contains("read in full (no cache yet)"), "{out}");
    assert!(!out.contains("cached for the next run"), "{out}");
    assert!(
        !cache.path().join("schemagate/folders").exists()
            || fs::read_dir(cache.path().join("schemagate/folders"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn entries_the_cache_does_not_cover_are_always_read() {
    let c = Cached::new(20);
    let target = c.p.path().join("shared.sql");
    fs::write(&target, "CREATE TABLE shared (x INTEGER);\n").unwrap();
    std::os::unix::fs::symlink(&target, c.p.migrations().join("0021_link.sql")).unwrap();
    c.migrate().success();
    c.settle();
    let out = output(&c.migrate().success());
    assert!(
        out.contains("read in full (the folder holds an entry the cache does not cover)"),
        "{out}"
    );
    assert!(!out.contains("cached for the next run"), "{out}");
}

#[test]
fn read_only_commands_never_write_the_cache() {
    let c = Cached::new(20);
    let other = tempfile::tempdir().unwrap();
    c.p.file("0021_t21.sql", "CREATE TABLE t21 (x INTEGER);\n");
    c.settle();
    for args in [
        vec!["status"],
        vec!["pending"],
        vec!["verify"],
        vec!["check"],
        vec!["lint"],
        vec!["dry-run"],
        vec!["backups"],
    ] {
        let mut cmd = c.p.cmd();
        cmd.env("XDG_CACHE_HOME", other.path())
            .env("SCHEMAGATE_TEST_CACHE_SETTLE_MS", SETTLE_MS)
            .args(&args);
        if args[0] != "lint" {
            cmd.args(["--db", "data/app.db"]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            crate::common::stdout_and_stderr(&out)
        );
        assert!(
            fs::read_dir(other.path()).unwrap().next().is_none(),
            "{args:?} wrote into the cache folder"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The memo of the last "current" (`folder_cache::memo`): with the folder, the history and
// the settings as they were when `migrate` last found the database current, that is the
// answer again without decoding the folder. Anything else is decided as without it.

/// What `-v` says when the memo was there (whether it held or not).
fn with_memo(out: &str) -> bool {
    out.contains("where `migrate` last found the database current")
}

/// A cached project whose last `migrate` concluded "current" on the cached folder.
fn memoized(n: usize) -> Cached {
    let c = Cached::new(n);
    assert!(c.memo_files().is_empty(), "a full read writes no memo");
    let out = output(&c.migrate().success());
    assert!(from_cache(&out) && !with_memo(&out), "{out}");
    assert_eq!(c.memo_files().len(), 1);
    c
}

fn execute(c: &Cached, sql: &str) {
    rusqlite::Connection::open(c.p.db())
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

#[test]
fn an_unchanged_database_is_answered_by_the_memo_as_by_a_full_read() {
    let c = memoized(300);
    let (memo, plain, log) = c.migrate_both_ways();
    assert!(with_memo(&log), "{log}");
    assert_eq!(memo, plain);
    assert_eq!(memo.0, 0);
    assert!(memo.1.contains("\"status\": \"current\""), "{}", memo.1);
}

#[test]
fn the_memo_never_hides_a_history_edited_by_hand() {
    // Each edit of the history table, then the same result as a run without any cache.
    for sql in [
        // A recorded checksum that no longer matches its file: drift, refused.
        "UPDATE schema_versions SET checksum = '0' || substr(checksum, 2) WHERE version = '0100'",
        // Marked applied by hand without a checksum: unverified.
        "UPDATE schema_versions SET checksum = 'manual' WHERE version = '0042'",
        // A row for a file that does not exist.
        "INSERT INTO schema_versions (version, description, checksum) VALUES ('0999', 'ghost', NULL)",
        // Only the description: whatever it means, it is decided on the rows.
        "UPDATE schema_versions SET description = 'renamed' WHERE version = '0007'",
    ] {
        let c = memoized(120);
        execute(&c, sql);
        let (memo, plain, log) = c.migrate_both_ways();
        assert!(with_memo(&log), "{sql}: {log}");
        assert_eq!(memo, plain, "{sql}");
    }
    let c = memoized(120);
    execute(
        &c,
        "UPDATE schema_versions SET checksum = '0' || substr(checksum, 2) WHERE version = '0100'",
    );
    let out = output(&c.migrate().code(1));
    assert!(out.contains("checksum-drift"), "{out}");
}

#[test]
fn the_memo_never_hides_a_pending_migration() {
    let c = memoized(120);
    execute(
        &c,
        "DELETE FROM schema_versions WHERE version = '0120'; DROP TABLE t120;",
    );
    let out = output(&c.migrate().success());
    assert!(with_memo(&out), "{out}");
    assert!(out.contains("applied 1 migration"), "{out}");
    assert_eq!(c.p.versions().len(), 120);
}

#[test]
fn a_changed_setting_is_decided_again() {
    // A rule turned off concluded "current" with it off; turned on again, it is decided anew.
    let c = memoized(60);
    execute(
        &c,
        "UPDATE schema_versions SET checksum = 'manual' WHERE version = '0042'",
    );
    c.p.config("[rules]\nunverified-record = \"off\"\n");
    let out = output(&c.migrate().success());
    assert!(out.contains("current, nothing to apply"), "{out}");
    let out = output(&c.migrate().success());
    assert!(with_memo(&out), "{out}");
    c.p.config("");
    let (memo, plain, _) = c.migrate_both_ways();
    assert_eq!(memo, plain);
    assert!(memo.1.contains("unverified-record"), "{}", memo.1);
}
