//! The sticky pull-request comment, against a loopback server that answers like GitHub's
//! REST API (wiremock), reached through the real octocrab client: from the library and from
//! `check --comment`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use schemagate::github::{self, GithubEnv, PublishOptions};
use schemagate::report::{FailOn, comment};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers};

use super::{TOKEN, env_in, project, report};
use crate::common::{schemagate, stdout_and_stderr};

// ---------------------------------------------------------------------------------------
// A loopback GitHub: issue comments kept in memory, listed with GitHub's pagination (Link
// header), created and updated as the REST API does, with the same JSON shapes.

#[derive(Default)]
struct State {
    comments: Vec<(u64, String)>,
    next_id: u64,
    /// Answer writes with this status and GitHub's error JSON.
    fail_writes: Option<(u16, String)>,
    authorizations: Vec<String>,
    creates: usize,
    updates: Vec<u64>,
    list_pages: Vec<u64>,
}

#[derive(Clone)]
struct FakeGitHub {
    state: Arc<Mutex<State>>,
    base: String,
}

fn user_json() -> Value {
    let u = "https://api.github.com/users/github-actions%5Bbot%5D";
    json!({
        "login": "github-actions[bot]",
        "id": 41898282,
        "node_id": "MDM6Qm90NDE4OTgyODI=",
        "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
        "gravatar_id": "",
        "url": u,
        "html_url": "https://github.com/apps/github-actions",
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": "Bot",
        "user_view_type": "public",
        "site_admin": false
    })
}

impl FakeGitHub {
    fn comment_json(&self, id: u64, body: &str) -> Value {
        json!({
            "url": format!("{}/repos/o/r/issues/comments/{id}", self.base),
            "html_url": format!("https://github.com/o/r/pull/7#issuecomment-{id}"),
            "issue_url": format!("{}/repos/o/r/issues/7", self.base),
            "id": id,
            "node_id": format!("IC_kwDO{id}"),
            "user": user_json(),
            "created_at": "2026-11-25T09:00:00Z",
            "updated_at": "2026-11-25T09:00:00Z",
            "author_association": "NONE",
            "body": body,
            "reactions": {
                "url": format!("{}/repos/o/r/issues/comments/{id}/reactions", self.base),
                "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
            },
            "performed_via_github_app": null
        })
    }

    fn error(status: u16, message: &str) -> ResponseTemplate {
        ResponseTemplate::new(status).set_body_json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest/issues/comments",
            "status": status.to_string()
        }))
    }
}

impl Respond for FakeGitHub {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut st = self.state.lock().unwrap();
        if let Some(auth) = req.headers.get("authorization") {
            st.authorizations
                .push(auth.to_str().unwrap_or_default().to_string());
        }
        let path = req.url.path().to_string();
        let query = |k: &str| {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let body = || -> String {
            req.body_json::<Value>().unwrap()["body"]
                .as_str()
                .unwrap()
                .to_string()
        };
        match (req.method.as_str(), path.as_str()) {
            ("GET", "/repos/o/r/issues/7/comments") => {
                let per_page = query("per_page").unwrap_or(30).max(1);
                let page = query("page").unwrap_or(1).max(1);
                st.list_pages.push(page);
                let total = st.comments.len() as u64;
                let last = total.div_ceil(per_page).max(1);
                let items: Vec<Value> = st
                    .comments
                    .iter()
                    .skip(((page - 1) * per_page) as usize)
                    .take(per_page as usize)
                    .map(|(id, b)| self.comment_json(*id, b))
                    .collect();
                let link = |p: u64, rel: &str| {
                    format!(
                        "<{}/repos/o/r/issues/7/comments?per_page={per_page}&page={p}>; rel=\"{rel}\"",
                        self.base
                    )
                };
                let mut links = Vec::new();
                if page < last {
                    links.push(link(page + 1, "next"));
                    links.push(link(last, "last"));
                }
                if page > 1 {
                    links.push(link(1, "first"));
                    links.push(link(page - 1, "prev"));
                }
                let mut t = ResponseTemplate::new(200).set_body_json(Value::Array(items));
                if !links.is_empty() {
                    t = t.append_header("link", links.join(", "));
                }
                t
            }
            ("POST", "/repos/o/r/issues/7/comments") => {
                if let Some((status, msg)) = &st.fail_writes {
                    return Self::error(*status, msg);
                }
                st.next_id += 1;
                let id = 1000 + st.next_id;
                let b = body();
                st.comments.push((id, b.clone()));
                st.creates += 1;
                ResponseTemplate::new(201).set_body_json(self.comment_json(id, &b))
            }
            // GitHub documents PATCH and also accepts POST here; octocrab sends POST.
            ("PATCH" | "POST", p) if p.starts_with("/repos/o/r/issues/comments/") => {
                if let Some((status, msg)) = &st.fail_writes {
                    return Self::error(*status, msg);
                }
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let b = body();
                match st.comments.iter_mut().find(|(i, _)| *i == id) {
                    Some(c) => c.1 = b.clone(),
                    None => return Self::error(404, "Not Found"),
                }
                st.updates.push(id);
                ResponseTemplate::new(200).set_body_json(self.comment_json(id, &b))
            }
            _ => Self::error(404, "Not Found"),
        }
    }
}

struct LoopbackGitHub {
    _runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl LoopbackGitHub {
    fn start() -> LoopbackGitHub {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(MockServer::start());
        let state = Arc::new(Mutex::new(State::default()));
        let fake = FakeGitHub {
            state: state.clone(),
            base: server.uri(),
        };
        runtime.block_on(
            Mock::given(matchers::any())
                .respond_with(fake)
                .mount(&server),
        );
        LoopbackGitHub {
            _runtime: runtime,
            server,
            state,
        }
    }

    fn env(&self, dir: &Path) -> GithubEnv {
        let event = dir.join("event.json");
        std::fs::write(
            &event,
            json!({"action": "synchronize", "number": 7, "pull_request": {"number": 7}})
                .to_string(),
        )
        .unwrap();
        GithubEnv {
            token: Some(TOKEN.into()),
            repository: Some("o/r".into()),
            event_path: Some(event),
            api_url: Some(self.server.uri()),
            ..env_in(dir)
        }
    }
}

fn comment_only() -> PublishOptions {
    PublishOptions {
        comment: true,
        ..PublishOptions::default()
    }
}

#[test]
fn first_comment_is_created_and_the_second_run_updates_it() {
    let gh = LoopbackGitHub::start();
    let dir = tempfile::tempdir().unwrap();
    let env = gh.env(dir.path());
    gh.state
        .lock()
        .unwrap()
        .comments
        .push((1, "LGTM from a human".into()));

    let w = github::publish(&report(), &comment_only(), &env, &mut Vec::new()).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let mut fixed = report();
    fixed.findings.clear();
    fixed.finish(FailOn::Error);
    let w = github::publish(&fixed, &comment_only(), &env, &mut Vec::new()).unwrap();
    assert!(w.is_empty(), "{w:?}");

    let st = gh.state.lock().unwrap();
    assert_eq!(st.creates, 1, "one comment created");
    assert_eq!(st.updates, vec![1001], "the same comment updated");
    assert_eq!(st.comments.len(), 2);
    assert_eq!(
        st.comments[0].1, "LGTM from a human",
        "others' comments untouched"
    );
    assert_eq!(st.comments[1].1, comment::body(&fixed, None));
    assert!(
        st.authorizations
            .iter()
            .all(|a| a == &format!("Bearer {TOKEN}"))
    );
}

#[test]
fn our_comment_on_page_two_is_found_and_updated() {
    let gh = LoopbackGitHub::start();
    let dir = tempfile::tempdir().unwrap();
    let env = gh.env(dir.path());
    {
        let mut st = gh.state.lock().unwrap();
        for i in 0..130 {
            st.comments.push((i + 1, format!("discussion {i}")));
        }
        // A reply quoting an old report carries the marker but is not ours.
        st.comments[3].1 = format!("> {}\n> old report\n\nwhy?", comment::MARKER);
        st.comments
            .push((500, format!("{}\nold report", comment::MARKER)));
        for i in 0..40 {
            st.comments.push((600 + i, format!("more discussion {i}")));
        }
    }
    let w = github::publish(&report(), &comment_only(), &env, &mut Vec::new()).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let st = gh.state.lock().unwrap();
    assert_eq!(
        st.list_pages,
        vec![1, 2],
        "followed the Link header to page 2"
    );
    assert_eq!(st.creates, 0, "no duplicate comment");
    assert_eq!(st.updates, vec![500]);
    let ours = st.comments.iter().find(|(id, _)| *id == 500).unwrap();
    assert_eq!(ours.1, comment::body(&report(), None));
}

#[test]
fn a_read_only_token_gives_a_warning_and_the_token_is_never_shown() {
    let gh = LoopbackGitHub::start();
    let dir = tempfile::tempdir().unwrap();
    let env = gh.env(dir.path());
    gh.state.lock().unwrap().fail_writes =
        Some((403, "Resource not accessible by integration".into()));
    let opts = PublishOptions {
        annotations: true,
        summary: true,
        outputs: true,
        comment: true,
        ..PublishOptions::default()
    };
    let mut stdout = Vec::new();
    let warnings = github::publish(&report(), &opts, &env, &mut stdout).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("403"), "{}", warnings[0]);
    assert!(warnings[0].contains("fork"), "{}", warnings[0]);
    assert!(warnings[0].contains("Resource not accessible by integration"));
    let mut everything = String::from_utf8(stdout).unwrap();
    everything.push_str(&warnings.join("\n"));
    for f in ["summary.md", "output.txt", "schemagate-report.json"] {
        everything.push_str(&std::fs::read_to_string(dir.path().join(f)).unwrap());
    }
    assert!(!everything.contains(TOKEN));
}

#[test]
fn an_error_that_echoes_the_token_is_scrubbed() {
    let gh = LoopbackGitHub::start();
    let dir = tempfile::tempdir().unwrap();
    let env = gh.env(dir.path());
    gh.state.lock().unwrap().fail_writes = Some((422, format!("Bad credentials: {TOKEN}")));
    let warnings = github::publish(&report(), &comment_only(), &env, &mut Vec::new()).unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(!warnings[0].contains(TOKEN), "{}", warnings[0]);
    assert!(
        warnings[0].contains("Bad credentials: ***"),
        "{}",
        warnings[0]
    );
}

#[test]
fn no_comment_without_a_token_or_a_pull_request() {
    let gh = LoopbackGitHub::start();
    let dir = tempfile::tempdir().unwrap();
    let mut env = gh.env(dir.path());
    env.token = None;
    let w = github::publish(&report(), &comment_only(), &env, &mut Vec::new()).unwrap();
    assert!(w[0].contains("GITHUB_TOKEN"), "{w:?}");

    let mut env = gh.env(dir.path());
    let event = dir.path().join("merge_group.json");
    std::fs::write(&event, r#"{"merge_group": {"head_sha": "abc"}}"#).unwrap();
    env.event_path = Some(event);
    let w = github::publish(&report(), &comment_only(), &env, &mut Vec::new()).unwrap();
    assert!(w[0].contains("not triggered by a pull request"), "{w:?}");
    assert!(
        gh.state.lock().unwrap().list_pages.is_empty(),
        "no request made"
    );
}

#[test]
fn an_unreachable_api_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let gh = LoopbackGitHub::start();
    let mut env = gh.env(dir.path());
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.api_url = Some(format!("http://127.0.0.1:{port}"));
    let w = github::publish(&report(), &comment_only(), &env, &mut Vec::new()).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("cannot comment on pull request #7"),
        "{w:?}"
    );
    assert!(!w[0].contains(TOKEN));
}

// ---------------------------------------------------------------------------------------
// The binary: `check --comment` against the loopback GitHub.

impl LoopbackGitHub {
    fn command(&self, dir: &Path) -> assert_cmd::Command {
        let env = self.env(dir);
        let mut cmd = schemagate(dir);
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_EVENT_PATH", env.event_path.unwrap())
            .env("GITHUB_API_URL", self.server.uri())
            .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
            .env("GITHUB_OUTPUT", dir.join("output.txt"))
            .env("RUNNER_TEMP", dir);
        cmd
    }
}

/// The exit code the report alone decides (no GitHub involved).
fn own_exit_code(dir: &Path) -> i32 {
    let out = schemagate(dir)
        .args(["check", "--format", "json", "--no-github"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = out.status.code().unwrap();
    assert_eq!(
        code,
        if report["summary"]["ok"] == true {
            0
        } else {
            1
        }
    );
    code
}

#[test]
fn check_comment_creates_then_updates_one_comment() {
    let gh = LoopbackGitHub::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    let code = own_exit_code(&dir);
    for _ in 0..2 {
        let out = gh
            .command(&dir)
            .args(["check", "--comment"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{out:?}");
        let all = stdout_and_stderr(&out);
        assert!(!all.contains(TOKEN));
    }
    let st = gh.state.lock().unwrap();
    assert_eq!(st.creates, 1);
    assert_eq!(st.updates, vec![1001]);
    assert!(st.comments[0].1.starts_with(comment::MARKER));
}

#[test]
fn check_comment_with_a_read_only_token_warns_and_keeps_the_reports_exit_code() {
    let gh = LoopbackGitHub::start();
    gh.state.lock().unwrap().fail_writes =
        Some((403, "Resource not accessible by integration".into()));
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    let code = own_exit_code(&dir);
    let out = gh
        .command(&dir)
        .args(["check", "--comment"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("403") && stderr.contains("fork"),
        "{stderr}"
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    // The summary and outputs are still written.
    assert!(
        std::fs::read_to_string(dir.join("summary.md"))
            .is_ok_and(|s| s.contains("## schemagate check"))
    );
    assert!(std::fs::read_to_string(dir.join("output.txt")).is_ok_and(|s| s.contains("errors<<")));
}
