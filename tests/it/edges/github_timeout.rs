//! 12.8 and 12.9: `check --comment` against an API that accepts the connection and never
//! answers gives up within its bound, warns and keeps the report's exit code; a token with
//! whitespace never panics and is never printed.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::checked;
use crate::common::{copy_examples, schemagate};

const TOKEN: &str = "ghs_s1lentServerTokenNeverPrinted";

/// A loopback "API" that accepts every connection and says nothing, until the test ends.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            if held.len() > 20 {
                break;
            }
        }
        std::thread::sleep(Duration::from_secs(120));
    });
    format!("http://{addr}")
}

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_examples(&tmp.path().join("migrations"));
    std::fs::write(
        tmp.path().join("event.json"),
        r#"{"pull_request": {"number": 7}}"#,
    )
    .unwrap();
    tmp
}

fn check_comment(dir: &std::path::Path, api: &str, token: &str) -> assert_cmd::assert::Assert {
    schemagate(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_EVENT_PATH", dir.join("event.json"))
        .env("GITHUB_API_URL", api)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("GITHUB_OUTPUT", dir.join("output.txt"))
        .env("RUNNER_TEMP", dir)
        .env("SCHEMAGATE_GITHUB_TIMEOUT", "2")
        .args(["check", "--comment"])
        .timeout(Duration::from_secs(60))
        .assert()
}

#[test]
fn check_comment_against_a_silent_api_gives_up_in_time_and_keeps_the_exit_code() {
    let tmp = project();
    let own = schemagate(tmp.path())
        .args(["check", "--no-github"])
        .output()
        .unwrap()
        .status
        .code()
        .unwrap();
    let api = silent_server();
    let start = Instant::now();
    let a = check_comment(tmp.path(), &api, TOKEN).code(own);
    let took = start.elapsed();
    let out = checked(&a);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(out.contains("did not answer in time"), "{out}");
    assert!(out.contains(&api), "{out}");
    assert!(!out.contains(TOKEN), "{out}");
}

#[test]
fn a_token_with_a_trailing_newline_or_whitespace_inside_never_panics_or_prints() {
    let tmp = project();
    let api = silent_server();
    let own = schemagate(tmp.path())
        .args(["check", "--no-github"])
        .output()
        .unwrap()
        .status
        .code()
        .unwrap();
    // Trailing newline: trimmed, used (and the silent API times out).
    let out = checked(&check_comment(tmp.path(), &api, &format!("{TOKEN}\n")).code(own));
    assert!(out.contains("did not answer in time"), "{out}");
    // Whitespace inside: refused with a warning that does not show it.
    let out = checked(&check_comment(tmp.path(), &api, "ghs_half one\ntwo").code(own));
    assert!(out.contains("GITHUB_TOKEN contains spaces"), "{out}");
    assert!(!out.contains("ghs_half"), "{out}");
    // A bad bound is a warning too, not a hang or a panic.
    let out = checked(
        &schemagate(tmp.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_EVENT_PATH", tmp.path().join("event.json"))
            .env("GITHUB_API_URL", &api)
            .env("SCHEMAGATE_GITHUB_TIMEOUT", "18446744073709551616")
            .args(["check", "--comment", "--no-github"])
            .assert()
            .code(own),
    );
    assert!(out.contains("SCHEMAGATE_GITHUB_TIMEOUT must be"), "{out}");
}
