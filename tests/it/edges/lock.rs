//! 12.3 and 12.17: the lock file never follows a symlink or overwrites a file not ours, and
//! its errors say the OS error once.

use std::fs;

use super::checked;
use crate::common::Project;

#[test]
fn a_symlinked_lock_file_is_exit_2_naming_it_and_the_target_is_untouched() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    crate::common::legacy_db(&p.db());
    let before = fs::read(p.db()).unwrap();
    fs::copy(p.db(), p.path().join("data/app.db.bak")).unwrap();
    let target = p.path().join("precious.conf");
    fs::write(&target, "setting = 1\n").unwrap();
    std::os::unix::fs::symlink(&target, p.path().join("data/app.db.migrate.lock")).unwrap();
    for args in [
        &["migrate"][..],
        &["mark-applied", "001", "--reason", "r"],
        &["restore", "--backup", "data/app.db.bak"],
    ] {
        let out = checked(&p.run(args).code(2));
        assert!(
            out.contains("data/app.db.migrate.lock is a symbolic link"),
            "{args:?}: {out}"
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "setting = 1\n");
    }
    assert_eq!(fs::read(p.db()).unwrap(), before);
}

#[test]
fn a_folder_at_the_lock_path_says_the_os_error_once() {
    let p = Project::new();
    p.file("001_a.sql", "CREATE TABLE a(x);\n");
    crate::common::legacy_db(&p.db());
    fs::create_dir(p.path().join("data/app.db.migrate.lock")).unwrap();
    let out = checked(&p.run(&["migrate"]).code(2));
    assert!(out.contains("data/app.db.migrate.lock"), "{out}");
    assert_eq!(out.matches("os error").count(), 1, "{out}");
}
