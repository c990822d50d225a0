//! 12.4: scratch folders are private (0700, files 0600), removed on SIGTERM/SIGINT, and a
//! SIGKILLed run's folder is removed by the next run.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::checked;
use crate::common::{Project, legacy_db};

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// A project whose only pending migration is Python that says it started, then sleeps.
fn sleeping_project() -> Project {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    let started = p.path().join("started");
    p.file(
        "002_sleep.py",
        format!(
            "import time, pathlib\n\ndef upgrade(conn):\n    pathlib.Path({:?}).write_text('x')\n    time.sleep(30)\n",
            started.display().to_string()
        ),
    );
    fs::create_dir(p.path().join("tmp")).unwrap();
    legacy_db(&p.db());
    p
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `dry-run` in its own process group (as a terminal or a service manager would
/// signal it: the Python child gets the signal too), waits until the migration runs.
fn start_dry_run(p: &Project) -> std::process::Child {
    let mut cmd = p.std_cmd(&["dry-run"]);
    cmd.env("TMPDIR", p.path().join("tmp")).process_group(0);
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&p.path().join("started"));
    child
}

#[test]
fn the_dry_run_copy_of_a_0600_database_is_private() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    legacy_db(&p.db());
    fs::set_permissions(p.db(), fs::Permissions::from_mode(0o600)).unwrap();
    fs::create_dir(p.path().join("tmp")).unwrap();
    checked(
        &p.cmd()
            .env("TMPDIR", p.path().join("tmp"))
            .args(["dry-run", "--keep-scratch", "--db", "data/app.db"])
            .assert()
            .code(0),
    );
    let kept = entries(&p.path().join("tmp"));
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(mode(&kept[0]), 0o700);
    for f in entries(&kept[0]) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    // A kept folder is the user's now: the next run leaves it alone.
    checked(
        &p.cmd()
            .env("TMPDIR", p.path().join("tmp"))
            .args(["dry-run", "--db", "data/app.db"])
            .assert()
            .code(0),
    );
    assert_eq!(entries(&p.path().join("tmp")), kept);
}

#[test]
fn sigterm_and_sigint_remove_the_scratch_folder() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let p = sleeping_project();
        let mut child = start_dry_run(&p);
        assert_eq!(entries(&p.path().join("tmp")).len(), 1);
        unsafe { libc::kill(-(child.id() as i32), sig) };
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(sig), "{status:?}");
        assert_eq!(
            entries(&p.path().join("tmp")),
            Vec::<PathBuf>::new(),
            "signal {sig}"
        );
    }
}

#[test]
fn a_sigkilled_runs_scratch_folder_is_removed_by_the_next_run() {
    let p = sleeping_project();
    let mut child = start_dry_run(&p);
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    child.wait().unwrap();
    let left = entries(&p.path().join("tmp"));
    assert_eq!(left.len(), 1, "{left:?}");
    // Somebody else's folder with a name like ours, but without our lock file: not ours.
    let foreign = p.path().join("tmp/schemagate-dry-run-notours");
    fs::create_dir(&foreign).unwrap();
    p.remove("002_sleep.py");
    checked(
        &p.cmd()
            .env("TMPDIR", p.path().join("tmp"))
            .args(["dry-run", "--db", "data/app.db"])
            .assert()
            .code(0),
    );
    assert_eq!(entries(&p.path().join("tmp")), vec![foreign]);
}

#[test]
fn a_killed_restores_staging_folder_is_removed_by_the_next_restore() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    legacy_db(&p.db());
    fs::copy(p.db(), p.path().join("data/app.bak.db")).unwrap();
    // What a SIGKILLed restore leaves: its staging folder with the lock file nobody holds.
    let stale = p.path().join("data/.schemagate-restore-0123456789ab");
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join(".schemagate-scratch.lock"), b"").unwrap();
    fs::write(stale.join("restore.db"), b"user data").unwrap();
    checked(&p.run(&["restore", "--backup", "data/app.bak.db"]).code(0));
    assert!(!stale.exists());
    let names = p.data_dir_names();
    assert!(
        !names.iter().any(|n| n.starts_with(".schemagate-restore")),
        "{names:?}"
    );
}
