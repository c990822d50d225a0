//! 12.6: the read-only commands create and change no file beside a WAL database, idle or
//! held open by another connection (with commits still in its WAL).

use std::fs;
use std::path::Path;

use rusqlite::Connection;

use super::checked;
use crate::common::{LEGACY_HISTORY, Project};

/// Every file under `dir` with its bytes, sorted by path.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let t = fs::symlink_metadata(&p).unwrap().file_type();
            if t.is_dir() {
                stack.push(p.clone());
                out.push((p.display().to_string(), Vec::new()));
            } else if t.is_file() {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            } else {
                out.push((p.display().to_string(), b"(special)".to_vec()));
            }
        }
    }
    out.sort();
    out
}

/// The commands that promise not to write: each with its arguments after `--db`.
const READ_ONLY: &[&[&str]] = &[
    &["status"],
    &["pending"],
    &["lint"],
    &["verify"],
    &["dry-run"],
    &["check"],
    &["backups"],
];

fn wal_project() -> Project {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE IF NOT EXISTS a(x);\n");
    p.file("002_b.sql", "CREATE TABLE IF NOT EXISTS b(x);\n");
    fs::create_dir_all(p.path().join("data")).unwrap();
    let c = Connection::open(p.db()).unwrap();
    c.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; {LEGACY_HISTORY} CREATE TABLE a(x);"
    ))
    .unwrap();
    c.execute(
        "INSERT INTO schema_versions(version, checksum) VALUES ('001', 'manual')",
        [],
    )
    .unwrap();
    p
}

fn assert_untouched(p: &Project, held: bool) {
    let before = snapshot(&p.path().join("data"));
    for args in READ_ONLY {
        let out = checked(&p.run(args));
        assert!(!out.contains("error:"), "{args:?}: {out}");
        assert_eq!(
            snapshot(&p.path().join("data")),
            before,
            "{args:?} changed the database folder (held open: {held})"
        );
    }
    // `init` reads every database it finds; it writes schemagate.toml, nothing beside them.
    checked(&p.cmd().arg("init").assert());
    assert_eq!(
        snapshot(&p.path().join("data")),
        before,
        "init (held open: {held})"
    );
}

#[test]
fn an_idle_wal_database_gets_no_wal_or_shm_file() {
    let p = wal_project();
    let names = p.data_dir_names();
    assert_eq!(names, ["app.db"], "the writer closed cleanly");
    assert_untouched(&p, false);
}

#[test]
fn a_wal_database_held_open_elsewhere_is_read_without_touching_its_shm() {
    let p = wal_project();
    // Another process's connection (a separate process: SQLite shares the -shm mapping
    // inside one process), with a commit still in the WAL.
    let mut holder = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute(\"INSERT INTO schema_versions(version, checksum) VALUES ('002', 'manual')\")\n\
             print('ready', flush=True)\n\
             sys.stdin.read()\n",
        )
        .arg(p.db())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    let names = p.data_dir_names();
    assert_eq!(names, ["app.db", "app.db-shm", "app.db-wal"]);
    // The commit in the WAL is seen: 002 is applied.
    let out = checked(&p.run(&["pending"]).code(0));
    assert!(!out.contains("002"), "{out}");
    assert_untouched(&p, true);
    drop(holder.stdin.take());
    holder.wait().unwrap();
}
