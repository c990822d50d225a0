//! Progress lines, as a person at a terminal sees them: `script` gives the binary a real
//! pseudo-terminal. Drawn there; never in a pipe, with `-q`, or in CI, where the log keeps
//! its one line per step.

use std::process::Command;

use crate::common::{Project, bin, clean_env, output};

/// Six Python migrations slow enough for the bar to be drawn a few times.
fn slow_project() -> Project {
    let p = Project::new();
    for n in 1..=6 {
        p.file(
            &format!("00{n}_t{n}.py"),
            format!(
                "import time\n\ndef upgrade(conn):\n    time.sleep(0.3)\n    conn.execute('CREATE TABLE t{n} (x)')\n"
            ),
        );
    }
    p
}

/// What the terminal showed while `schemagate <args>` ran on a pty, or
/// `None` where util-linux's `script` is missing.
fn on_a_terminal(p: &Project, args: &str, env: &[(&str, &str)]) -> Option<String> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|s| std::path::Path::new(s).exists())?;
    let mut cmd = Command::new(script);
    clean_env(&mut cmd)
        .current_dir(p.path())
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env("TERM", "xterm")
        .envs(env.iter().copied())
        .args(["-qfec", &format!("{} {args}", bin().display()), "/dev/null"]);
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    Some(text)
}

#[test]
fn migrate_draws_a_bar_on_a_terminal_only() {
    let p = slow_project();
    let Some(shown) = on_a_terminal(&p, "migrate --no-backup --db data/app.db", &[]) else {
        return;
    };
    assert!(shown.contains("migrating ["), "{shown}");
    assert!(shown.contains("/6"), "{shown}");
    // The per-step log is still there, above the bar.
    assert!(shown.contains("applied migrations/006_t6.py"), "{shown}");
    assert_eq!(p.versions().len(), 6);

    for (args, env) in [
        ("migrate --no-backup --db data/app.db", [("CI", "true")]),
        ("migrate --no-backup -q --db data/app.db", [("CI", "")]),
    ] {
        let p = slow_project();
        let text = on_a_terminal(&p, args, &env).unwrap();
        assert!(!text.contains("migrating ["), "{args} {env:?}: {text}");
        assert_eq!(p.versions().len(), 6);
    }
    // A pipe: one line per step, nothing redrawn.
    let p = slow_project();
    let text = output(&p.run(&["migrate", "--no-backup"]).success());
    assert!(!text.contains("migrating ["), "{text}");
    assert!(!text.contains('\r'), "{text:?}");
    assert_eq!(text.matches("applied migrations/").count(), 6, "{text}");
}

#[test]
fn the_replay_and_the_dry_run_of_check_draw_a_bar_on_a_terminal() {
    let p = slow_project();
    let Some(shown) = on_a_terminal(&p, "check", &[]) else {
        return;
    };
    assert!(shown.contains("replay ["), "{shown}");
}
