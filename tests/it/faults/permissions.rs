//! Permissions: root ignores permission bits, so as root the binary runs as `nobody`.

use std::fs;
use std::path::Path;
use std::process::Stdio;

use super::no_panic;
use crate::common::{Project, bin, stdout_and_stderr};

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// `schemagate <args> --db data/app.db` as a user the permission bits apply to: `nobody`
/// (through `setpriv`) when the tests run as root, else the current user. Panics when root
/// cannot drop privileges: a permission test must never pass without checking.
fn unprivileged(p: &Project, args: &[&str]) -> (Option<i32>, String) {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let wrapper = if root {
        // Every folder above the project must be searchable by nobody.
        set_mode(p.path(), 0o755);
        for dir in p.path().ancestors().skip(1) {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir).unwrap().permissions().mode();
            assert!(
                mode & 0o001 != 0,
                "{} is not searchable by nobody; point TMPDIR at a folder that is",
                dir.display()
            );
        }
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(bin());
        c
    } else {
        std::process::Command::new(bin())
    };
    let out = p
        .std_cmd_of(wrapper, args)
        .output()
        .expect("cannot run the binary (setpriv missing?)");
    let text = stdout_and_stderr(&out);
    if root {
        assert!(
            !text.contains("setpriv:"),
            "setpriv could not drop to nobody: {text}"
        );
        // Proves the permission bits bind this user: nobody cannot write a 0444 file.
        let probe = p.path().join("probe");
        fs::write(&probe, b"").unwrap();
        set_mode(&probe, 0o444);
        let st = std::process::Command::new("setpriv")
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--",
                "sh",
                "-c",
                "echo x > \"$0\"",
            ])
            .arg(&probe)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!st.success(), "nobody could write a read-only file");
        fs::remove_file(&probe).unwrap();
    }
    (out.status.code(), text)
}

/// A project at `001` with `002` pending, the database and its lock file usable by anyone.
fn project_for_permissions() -> (Project, Vec<u8>) {
    let p = Project::new();
    p.file(
        "001_a.sql",
        "CREATE TABLE a(x);\nINSERT INTO a VALUES (1);\n",
    );
    p.run(&["migrate"]).success();
    p.file("002_b.sql", "CREATE TABLE b(x);\n");
    set_mode(&p.path().join("data/app.db.migrate.lock"), 0o666);
    set_mode(&p.db(), 0o666);
    set_mode(&p.path().join("data"), 0o777);
    let bytes = fs::read(p.db()).unwrap();
    (p, bytes)
}

#[test]
fn a_read_only_database_is_exit_2_with_no_backup_and_nothing_changed() {
    let (p, bytes) = project_for_permissions();
    set_mode(&p.db(), 0o444);
    let (code, out) = unprivileged(&p, &["migrate"]);
    no_panic(&out);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("read-only"), "{out}");
    assert!(out.contains("data/app.db"), "{out}");
    assert_eq!(fs::read(p.db()).unwrap(), bytes);
    assert_eq!(p.data_dir_names(), ["app.db", "app.db.migrate.lock"]);
    set_mode(&p.db(), 0o644);
    assert_eq!(p.versions(), ["001"]);
}

#[test]
fn a_read_only_database_folder_is_exit_2_naming_the_journal_and_nothing_changed() {
    let (p, bytes) = project_for_permissions();
    set_mode(&p.path().join("data"), 0o555);
    let runs = [
        unprivileged(&p, &["migrate"]),
        unprivileged(&p, &["migrate", "--no-backup"]),
    ];
    set_mode(&p.path().join("data"), 0o755);
    for (code, out) in runs {
        no_panic(&out);
        assert_eq!(code, Some(2), "{out}");
        assert!(
            out.contains("cannot create the journal file in its folder"),
            "{out}"
        );
        assert!(!out.contains("backup folder"), "{out}");
    }
    assert_eq!(fs::read(p.db()).unwrap(), bytes);
    assert_eq!(p.data_dir_names(), ["app.db", "app.db.migrate.lock"]);
    assert_eq!(p.versions(), ["001"]);
}
