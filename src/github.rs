//! GitHub shell: reads the Actions environment, writes the job summary, the step outputs and
//! the SARIF file, prints annotations, and keeps one sticky pull-request comment up to date
//! through octocrab. The renderings themselves are pure (`crate::report::{github, sarif,
//! comment}`).
//!
//! The token is secret: it is handed to octocrab and nowhere else, and every error message
//! that leaves this module goes through [`scrub`].

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use crate::report::Format;
use crate::report::github::{self as render_gh, RepoPaths};
use crate::report::{Report, comment, sarif};

/// The `GITHUB_*` variables this module reads, captured once (tests build one by hand).
#[derive(Clone, Debug, Default)]
pub struct GithubEnv {
    /// `GITHUB_ACTIONS=true`: running inside GitHub Actions.
    pub actions: bool,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub token: Option<String>,
    /// `owner/name`.
    pub repository: Option<String>,
    pub event_path: Option<PathBuf>,
    /// `GITHUB_API_URL` (GitHub Enterprise: `https://HOST/api/v3`).
    pub api_url: Option<String>,
    pub server_url: Option<String>,
    pub run_id: Option<String>,
    /// The checkout, to turn paths into repository-relative ones.
    pub workspace: Option<PathBuf>,
    /// Where a JSON report goes when the command wrote none.
    pub runner_temp: Option<PathBuf>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl GithubEnv {
    pub fn from_process() -> GithubEnv {
        GithubEnv {
            actions: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            // A token pasted from a file often ends with a newline; that is not part of it.
            token: var("GITHUB_TOKEN")
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            repository: var("GITHUB_REPOSITORY"),
            event_path: var("GITHUB_EVENT_PATH").map(PathBuf::from),
            api_url: var("GITHUB_API_URL"),
            server_url: var("GITHUB_SERVER_URL"),
            run_id: var("GITHUB_RUN_ID"),
            workspace: var("GITHUB_WORKSPACE").map(PathBuf::from),
            runner_temp: var("RUNNER_TEMP").map(PathBuf::from),
        }
    }

    /// The link to this workflow run, for the comment.
    pub fn run_url(&self) -> Option<String> {
        Some(format!(
            "{}/{}/actions/runs/{}",
            self.server_url.as_deref()?.trim_end_matches('/'),
            self.repository.as_deref()?,
            self.run_id.as_deref()?
        ))
    }

    /// How report paths map to repository-relative ones: the working directory relative
    /// to `GITHUB_WORKSPACE`, else to the git work tree, else unchanged.
    pub fn repo_paths(&self) -> RepoPaths {
        let Ok(cwd) = std::env::current_dir() else {
            return RepoPaths::default();
        };
        let root = self.workspace.clone().or_else(git_toplevel);
        let Some(root) = root else {
            return RepoPaths::default();
        };
        let root = root.canonicalize().unwrap_or(root);
        let cwd = cwd.canonicalize().unwrap_or(cwd);
        let prefix = cwd
            .strip_prefix(&root)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        RepoPaths::new(&prefix, Some(&root.to_string_lossy()))
    }
}

fn git_toplevel() -> Option<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| PathBuf::from(text.trim()))
}

/// `--format json|sarif|github` for any command, with repository-relative paths inside a
/// repository. `None` for `text`.
pub fn render(report: &Report, format: Format) -> Option<String> {
    crate::report::render_with(
        report,
        format,
        crate::lint::rules::ALL,
        &GithubEnv::from_process().repo_paths(),
    )
}

/// What [`publish`] does besides the command's own `--format` output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// Print workflow-command annotations (to the writer given to `publish`).
    pub annotations: bool,
    /// The command's machine output (json, sarif) goes to stdout: annotations go to
    /// stderr instead (the runner reads workflow commands from both), so they cannot
    /// corrupt it. Used by [`publish_console`].
    pub annotations_to_stderr: bool,
    /// Append the Markdown summary to `$GITHUB_STEP_SUMMARY` (when it is set).
    pub summary: bool,
    /// Write step outputs to `$GITHUB_OUTPUT` (when it is set).
    pub outputs: bool,
    /// Create or update the sticky pull-request comment.
    pub comment: bool,
    /// Also write a SARIF report here.
    pub sarif_file: Option<PathBuf>,
    /// The JSON report the command already wrote (`--output`), for the `report-path`
    /// output. Without it, and inside Actions, `publish` writes one to `$RUNNER_TEMP`.
    pub report_path: Option<PathBuf>,
}

impl PublishOptions {
    /// The defaults for a command run with `--format FORMAT` (`--no-github`, `--comment`,
    /// `--sarif-file`, `--output`): inside GitHub Actions the annotations, summary and
    /// outputs come along with whatever the format prints, unless `no_github`; with
    /// `--format github` the summary and outputs are written anywhere their variables are
    /// set, and the annotations are the format's own output (not printed twice).
    pub fn resolve(
        format: Format,
        env: &GithubEnv,
        no_github: bool,
        comment: bool,
        sarif_file: Option<PathBuf>,
        output: Option<&Path>,
    ) -> PublishOptions {
        let explicit = format == Format::Github;
        let github = explicit || (env.actions && !no_github);
        PublishOptions {
            annotations: github && !explicit,
            annotations_to_stderr: matches!(format, Format::Json | Format::Sarif)
                && output.is_none(),
            summary: github,
            outputs: github,
            comment,
            sarif_file,
            report_path: match format {
                Format::Json => output.map(Path::to_path_buf),
                _ => None,
            },
        }
    }
}

/// Publishes a finished report: annotations to `out`, the job summary, the SARIF file, the
/// step outputs and the sticky comment, as `opts` asks. Returns warnings for the caller to
/// print (a comment that could not be posted is a warning, not a failure: the report's own
/// verdict decides the exit code). Errors are environment errors (an unwritable file).
pub fn publish(
    report: &Report,
    opts: &PublishOptions,
    env: &GithubEnv,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Vec<String>> {
    let mut warnings = Vec::new();
    let paths = env.repo_paths();

    if opts.annotations {
        out.write_all(render_gh::annotations(report, &paths).as_bytes())
            .context("cannot write the annotations")?;
        out.flush().ok();
    }

    if opts.summary
        && let Some(file) = &env.step_summary
    {
        append(file, render_gh::summary_markdown(report).as_bytes())
            .context("cannot append the job summary to $GITHUB_STEP_SUMMARY")?;
    }

    if let Some(file) = &opts.sarif_file {
        let text = sarif::render(report, crate::lint::rules::ALL, &paths);
        crate::fsio::write_atomic(file, text.as_bytes())
            .with_context(|| format!("cannot write the SARIF report to {}", file.display()))?;
    }

    if opts.outputs
        && let Some(file) = &env.output
    {
        let report_path = match (&opts.report_path, &env.runner_temp) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(tmp)) if env.actions => {
                let p = tmp.join("schemagate-report.json");
                crate::fsio::write_atomic(&p, crate::report::json::render(report).as_bytes())
                    .with_context(|| format!("cannot write the JSON report to {}", p.display()))?;
                Some(p)
            }
            _ => None,
        };
        // Absolute, so later steps find the files whatever their working directory.
        let shown = |p: &Path| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .to_string_lossy()
                .into_owned()
        };
        let mut outputs = render_gh::outputs(report, report_path.as_deref().map(shown).as_deref());
        outputs.push((
            "sarif-file",
            opts.sarif_file.as_deref().map(shown).unwrap_or_default(),
        ));
        let delimiter = delimiter_for(&outputs);
        append(
            file,
            render_gh::outputs_text(&outputs, &delimiter).as_bytes(),
        )
        .context("cannot append the step outputs to $GITHUB_OUTPUT")?;
    }

    if opts.comment {
        warnings.extend(post_comment(report, env));
    }
    Ok(warnings)
}

/// [`publish`] with the annotations on the console: stdout, or stderr when the command's
/// machine output is on stdout.
pub fn publish_console(
    report: &Report,
    opts: &PublishOptions,
    env: &GithubEnv,
) -> anyhow::Result<Vec<String>> {
    if opts.annotations_to_stderr {
        publish(report, opts, env, &mut std::io::stderr().lock())
    } else {
        publish(report, opts, env, &mut std::io::stdout().lock())
    }
}

/// A delimiter no output contains, as GitHub's toolkit does (`ghadelimiter_<random>`).
fn delimiter_for(outputs: &[(&str, String)]) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut salt = 0u64;
    loop {
        // RandomState is seeded from the OS per process: unguessable enough that a value
        // cannot be crafted to contain it.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        let d = format!("ghadelimiter_{:016x}", h.finish());
        if render_gh::delimiter_is_safe(outputs, &d) {
            return d;
        }
        salt += 1;
    }
}

fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Replaces every occurrence of the token with `***`.
pub fn scrub(text: &str, token: Option<&str>) -> String {
    match token {
        Some(t) if !t.is_empty() => text.replace(t, "***"),
        _ => text.to_string(),
    }
}

/// The pull request number of the triggering event (`pull_request`,
/// `pull_request_target`, or a comment on a pull request); `None` for other events.
pub fn pull_request_number(event: &serde_json::Value) -> Option<u64> {
    if let Some(n) = event
        .pointer("/pull_request/number")
        .and_then(|v| v.as_u64())
    {
        return Some(n);
    }
    if event.pointer("/issue/pull_request").is_some() {
        return event.pointer("/issue/number").and_then(|v| v.as_u64());
    }
    None
}

/// Posts or updates the comment; every problem becomes a warning.
fn post_comment(report: &Report, env: &GithubEnv) -> Vec<String> {
    let token = env.token.as_deref();
    let skip = |why: &str| vec![format!("no pull-request comment: {why}")];
    let Some(token) = token else {
        return skip(
            "GITHUB_TOKEN is not set (pass `github-token`, or `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`)",
        );
    };
    let Some(repository) = env.repository.as_deref() else {
        return skip("GITHUB_REPOSITORY is not set (it names the repository, owner/name)");
    };
    let Some(event_path) = &env.event_path else {
        return skip("GITHUB_EVENT_PATH is not set (it holds the pull request number)");
    };
    let event: serde_json::Value = match std::fs::read(event_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            return skip(&format!(
                "cannot read the event payload {}: {e}",
                event_path.display()
            ));
        }
    };
    let Some(number) = pull_request_number(&event) else {
        return skip("this workflow run was not triggered by a pull request");
    };
    let api_url = env.api_url.as_deref().unwrap_or("https://api.github.com");
    let bounds = match Bounds::from_env() {
        Ok(b) => b,
        Err(e) => return skip(&e),
    };
    let body = comment::body(report, env.run_url().as_deref());
    let result = Octocrab::new(api_url, token, repository, bounds)
        .and_then(|api| upsert_comment(&api, number, &body));
    match result {
        Ok(_) => Vec::new(),
        Err(e) if e.status == Some(403) => vec![format!(
            "cannot comment on pull request #{number}: the token may not write to it (403; a pull request from a fork gets a read-only token). The report is in the job summary. GitHub said: {}",
            e.message
        )],
        Err(e) => vec![format!(
            "cannot comment on pull request #{number}: {}",
            e.message
        )],
    }
}

/// How long the comment exchange may take: an API that accepts the connection and never
/// answers must not hold the CI job (and the exit code the report decided) hostage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// To open the connection.
    pub connect: Duration,
    /// For one request and its response.
    pub request: Duration,
    /// For the whole exchange (listing the comments, then creating or updating one).
    pub total: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds::with_total(Duration::from_secs(60))
    }
}

impl Bounds {
    /// The largest `SCHEMAGATE_GITHUB_TIMEOUT`, in seconds.
    pub const MAX_TOTAL_SECS: u64 = 3600;

    /// `total` for the exchange; a request gets at most 20 s of it, a connection 10 s.
    pub fn with_total(total: Duration) -> Bounds {
        Bounds {
            connect: total.min(Duration::from_secs(10)),
            request: total.min(Duration::from_secs(20)),
            total,
        }
    }

    /// The defaults, or the whole exchange's bound from `SCHEMAGATE_GITHUB_TIMEOUT`
    /// (seconds, 1 to 3600). An invalid value is an error message for a warning.
    pub fn from_env() -> Result<Bounds, String> {
        match std::env::var("SCHEMAGATE_GITHUB_TIMEOUT") {
            Err(_) => Ok(Bounds::default()),
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(s) if (1..=Self::MAX_TOTAL_SECS).contains(&s) => {
                    Ok(Bounds::with_total(Duration::from_secs(s)))
                }
                _ => Err(format!(
                    "SCHEMAGATE_GITHUB_TIMEOUT must be a number of seconds from 1 to {}, not `{v}`",
                    Self::MAX_TOTAL_SECS
                )),
            },
        }
    }
}

/// An error from the GitHub API, already scrubbed of the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A comment already on the pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingComment {
    pub id: u64,
    pub body: String,
}

/// The seam between the sticky-comment logic and GitHub's REST API.
pub trait CommentApi {
    /// Every comment on the issue or pull request, all pages.
    fn list_comments(&self, number: u64) -> Result<Vec<ExistingComment>, ApiError>;
    fn create_comment(&self, number: u64, body: &str) -> Result<u64, ApiError>;
    fn update_comment(&self, id: u64, body: &str) -> Result<(), ApiError>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentAction {
    Created(u64),
    Updated(u64),
}

/// Updates our earlier comment (the first one that starts with the marker: a reply that
/// quotes ours carries the marker too, after `> `) or creates one.
pub fn upsert_comment(
    api: &dyn CommentApi,
    number: u64,
    body: &str,
) -> Result<CommentAction, ApiError> {
    let existing = api
        .list_comments(number)?
        .into_iter()
        .find(|c| c.body.trim_start().starts_with(comment::MARKER));
    match existing {
        Some(c) => {
            api.update_comment(c.id, body)?;
            Ok(CommentAction::Updated(c.id))
        }
        None => api.create_comment(number, body).map(CommentAction::Created),
    }
}

/// The real client: octocrab on a current-thread runtime of its own (the rest of the
/// program is synchronous).
pub struct Octocrab {
    runtime: tokio::runtime::Runtime,
    crab: octocrab::Octocrab,
    owner: String,
    repo: String,
    token: String,
    api_url: String,
    bounds: Bounds,
    /// When the whole exchange must be over ([`Bounds::total`] from `new`).
    deadline: std::time::Instant,
}

impl Octocrab {
    pub fn new(
        api_url: &str,
        token: &str,
        repository: &str,
        bounds: Bounds,
    ) -> Result<Octocrab, ApiError> {
        let plain = |message: String| ApiError {
            status: None,
            message: scrub(&message, Some(token)),
        };
        // It goes into an HTTP header: a space, a newline or a control character inside
        // it would be refused there (it used to panic). Never shown.
        let token = token.trim();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(plain(
                "GITHUB_TOKEN contains spaces or control characters inside it, so it cannot be a token (it is not shown); check how the secret is passed".to_string(),
            ));
        }
        let (owner, repo) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| {
                plain(format!(
                    "GITHUB_REPOSITORY must be owner/name, not `{repository}`"
                ))
            })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| plain(format!("cannot start the HTTP runtime: {e}")))?;
        // hyper's client wants a runtime in scope when it is built.
        let crab = {
            let _guard = runtime.enter();
            octocrab::Octocrab::builder()
                .personal_token(token.to_string())
                .base_uri(api_url)
                .map_err(|_| plain(format!("GITHUB_API_URL is not a valid URL: `{api_url}`")))?
                .set_connect_timeout(Some(bounds.connect))
                .set_read_timeout(Some(bounds.request))
                .set_write_timeout(Some(bounds.request))
                .build()
                .map_err(|e| plain(format!("cannot set up the GitHub client: {e}")))?
        };
        Ok(Octocrab {
            runtime,
            crab,
            owner: owner.to_string(),
            repo: repo.to_string(),
            token: token.to_string(),
            api_url: api_url.to_string(),
            bounds,
            deadline: std::time::Instant::now() + bounds.total,
        })
    }

    /// Runs one step of the exchange, bounded by `limit` and by what is left of the total.
    fn bounded<T>(
        &self,
        limit: Duration,
        step: impl std::future::Future<Output = Result<T, octocrab::Error>>,
    ) -> Result<T, ApiError> {
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        let limit = limit.min(left);
        match self
            .runtime
            .block_on(async { tokio::time::timeout(limit, step).await })
        {
            Ok(r) => r.map_err(|e| self.error(e)),
            Err(_) => Err(ApiError {
                status: None,
                message: format!(
                    "the GitHub API at {} did not answer in time (gave up after {:.0?}; the whole exchange may take {:.0?}, set SCHEMAGATE_GITHUB_TIMEOUT to change it)",
                    self.api_url, limit, self.bounds.total
                ),
            }),
        }
    }

    /// Only the status and GitHub's own message: octocrab's error values may carry the
    /// response headers, and their `Debug` form is never shown.
    fn error(&self, e: octocrab::Error) -> ApiError {
        let (status, message) = match &e {
            octocrab::Error::GitHub { source, .. } => {
                (Some(source.status_code.as_u16()), source.message.clone())
            }
            other => (None, other.to_string()),
        };
        ApiError {
            status,
            message: scrub(&message, Some(&self.token)),
        }
    }
}

impl CommentApi for Octocrab {
    fn list_comments(&self, number: u64) -> Result<Vec<ExistingComment>, ApiError> {
        let issues = self.crab.issues(&self.owner, &self.repo);
        // Every page is a request: the listing as a whole gets what is left of the total.
        self.bounded(self.bounds.total, async {
            let first = issues.list_comments(number).per_page(100).send().await?;
            self.crab.all_pages(first).await
        })
        .map(|all| {
            all.into_iter()
                .map(|c| ExistingComment {
                    id: c.id.into_inner(),
                    body: c.body.unwrap_or_default(),
                })
                .collect()
        })
    }

    fn create_comment(&self, number: u64, body: &str) -> Result<u64, ApiError> {
        let issues = self.crab.issues(&self.owner, &self.repo);
        self.bounded(self.bounds.request, issues.create_comment(number, body))
            .map(|c| c.id.into_inner())
    }

    fn update_comment(&self, id: u64, body: &str) -> Result<(), ApiError> {
        let issues = self.crab.issues(&self.owner, &self.repo);
        self.bounded(self.bounds.request, issues.update_comment(id.into(), body))
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_every_copy_of_the_token() {
        assert_eq!(scrub("a ghs_x b ghs_x", Some("ghs_x")), "a *** b ***");
        assert_eq!(scrub("a", Some("")), "a");
    }

    #[test]
    fn pull_request_number_from_the_events_that_have_one() {
        let pr: serde_json::Value = serde_json::json!({"number": 7, "pull_request": {"number": 7}});
        assert_eq!(pull_request_number(&pr), Some(7));
        let comment = serde_json::json!({"issue": {"number": 9, "pull_request": {}}});
        assert_eq!(pull_request_number(&comment), Some(9));
        let issue = serde_json::json!({"issue": {"number": 9}});
        assert_eq!(pull_request_number(&issue), None);
        let merge_group = serde_json::json!({"merge_group": {"head_sha": "x"}});
        assert_eq!(pull_request_number(&merge_group), None);
    }

    #[test]
    fn resolve_turns_github_output_on_inside_actions_only() {
        let actions = GithubEnv {
            actions: true,
            ..GithubEnv::default()
        };
        let local = GithubEnv::default();
        let o = PublishOptions::resolve(Format::Text, &actions, false, false, None, None);
        assert!(o.annotations && o.summary && o.outputs);
        let o = PublishOptions::resolve(Format::Text, &actions, true, false, None, None);
        assert!(!o.annotations && !o.summary && !o.outputs);
        let o = PublishOptions::resolve(Format::Text, &local, false, false, None, None);
        assert!(!o.annotations && !o.summary && !o.outputs);
        // --format github prints the annotations itself.
        let o = PublishOptions::resolve(Format::Github, &actions, false, false, None, None);
        assert!(!o.annotations && o.summary && o.outputs);
        let o = PublishOptions::resolve(
            Format::Json,
            &local,
            false,
            false,
            None,
            Some(Path::new("r.json")),
        );
        assert_eq!(o.report_path.as_deref(), Some(Path::new("r.json")));
        // JSON on stdout: the annotations must not end up in it.
        let o = PublishOptions::resolve(Format::Json, &actions, false, false, None, None);
        assert!(o.annotations && o.annotations_to_stderr);
        let o = PublishOptions::resolve(Format::Text, &actions, false, false, None, None);
        assert!(!o.annotations_to_stderr);
    }

    #[test]
    fn bad_repository_is_an_error_that_says_what_is_expected() {
        let e = Octocrab::new("http://127.0.0.1:1", "t0k", "noslash", Bounds::default())
            .err()
            .expect("rejected");
        assert!(e.message.contains("owner/name"), "{e}");
    }

    /// Issue 12.9: a token with a newline inside panicked in the HTTP header code.
    #[test]
    fn a_token_with_whitespace_inside_is_refused_without_showing_it() {
        let e = Octocrab::new("http://127.0.0.1:1", "ghs_ab\ncd", "o/r", Bounds::default())
            .err()
            .expect("rejected");
        assert!(e.message.contains("GITHUB_TOKEN"), "{e}");
        assert!(!e.message.contains("ghs_ab"), "{e}");
        // Around it is fine: trimmed.
        assert!(
            Octocrab::new("http://127.0.0.1:1", "ghs_abcd\n", "o/r", Bounds::default()).is_ok()
        );
    }

    #[test]
    fn bounds_scale_down_with_a_short_total() {
        let b = Bounds::with_total(Duration::from_secs(2));
        assert_eq!(
            (b.connect, b.request),
            (Duration::from_secs(2), Duration::from_secs(2))
        );
        assert_eq!(Bounds::default().request, Duration::from_secs(20));
    }
}
