//! `init`'s file round-trips: written, its commented examples uncommented, and the
//! `[[accept-checksum]]` entry a real drift message prints pasted at the end, it is still
//! a valid config that every command reads, and the pasted entry does its job. Once
//! `init` wrote `accept-checksum = []` and an empty `[rules]`, and either edit gave a TOML
//! duplicate-key error.

use crate::common::{Project, findings, run_cmd, run_json};

/// Removes `# ` in front of commented table headers and `key = value` lines, as a person
/// taking up an example does.
fn uncomment(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let body = line.strip_prefix("# ").filter(|rest| {
            rest.starts_with('[')
                || rest.split_once(" = ").is_some_and(|(k, _)| {
                    k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                })
        });
        out.push_str(body.unwrap_or(line));
        out.push('\n');
    }
    out
}

#[test]
fn init_output_stays_valid_with_its_examples_uncommented_and_a_drift_entry_pasted() {
    let p = Project::new();
    p.file("001_init.sql", "CREATE TABLE IF NOT EXISTS t (x);\n");
    p.run(&["migrate", "-q"]).success();
    let (code, _, err) = run_cmd(p.cmd().args(["init"]));
    assert_eq!(code, 0, "{err}");
    let path = p.path().join("schemagate.toml");
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!written.contains("accept-checksum = []"), "{written}");

    let uncommented = uncomment(&written);
    for table in ["[lint]", "[apply]", "[rules]", "[[accept-checksum]]"] {
        assert!(
            uncommented.lines().any(|l| l == table),
            "{table} was not among the examples:\n{written}"
        );
    }
    std::fs::write(&path, &uncommented).unwrap();
    // Every command reads it: a config error would be exit 2.
    let (code, out, err) = run_cmd(p.cmd().args(["status", "--env", "dev"]));
    assert_eq!(
        code, 0,
        "uncommented examples:\n{uncommented}\n{out}\n{err}"
    );

    // An edit to the applied file: the drift message prints the entry to paste.
    p.file(
        "001_init.sql",
        "CREATE TABLE IF NOT EXISTS t (x);\nCREATE INDEX IF NOT EXISTS t_x ON t (x);\n",
    );
    let (code, report, _) = run_json(p.cmd().args(["lint", "--env", "dev", "--format", "json"]));
    assert_eq!(code, 1, "{report}");
    let help = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "checksum-drift")
        .and_then(|f| f["help"].as_str())
        .unwrap_or_else(|| panic!("no checksum-drift help: {report}"));
    let entry = &help[help.find("[[accept-checksum]]").expect(help)..];
    std::fs::write(&path, format!("{uncommented}\n{entry}\n")).unwrap();

    let (code, report, err) = run_json(p.cmd().args(["lint", "--env", "dev", "--format", "json"]));
    assert_eq!(code, 0, "pasted entry:\n{entry}\n{err}\n{report}");
    let drift = findings(&report, "checksum-drift").len();
    assert_eq!(drift, 0, "{report}");
    let (code, out, err) = run_cmd(p.cmd().args(["migrate", "--env", "dev"]));
    assert_eq!(code, 0, "{out}\n{err}");
}
