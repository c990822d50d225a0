//! Runs Python migrations in one persistent child interpreter per run (the shell side of
//! `.py` migrations), and the lint AST scan ([`super::scan`]) through the same process.
//!
//! **One interpreter per run.** The first request of a thread starts the runner script
//! (`runner.py`, embedded with `include_str!`); later requests reuse it (a small pool per
//! thread, one idle runner per interpreter name). The interpreter is resolved once: the
//! runner reports its `sys.executable`, and a runner started later in the same process
//! (after a timeout killed the first) starts that directly, without going through a
//! pyenv-style shim again.
//!
//! **Each migration on its own.** The runner owns each migration's transaction: it opens
//! the database, runs `BEGIN IMMEDIATE`, calls `upgrade(conn)` (or `downgrade`) with a
//! connection whose `commit()`/`executescript()` cannot end the transaction, runs the
//! caller's record statements (the history row) in the same transaction and commits.
//! Nothing is committed unless all of it succeeded. Each migration gets a fresh module
//! compiled from the text schemagate read and checksummed, a fresh connection, the
//! environment variables of its request, and its own output (cut from the runner's stderr
//! per request).
//!
//! **Protocol** (see `runner.py`): JSON request lines on stdin, which stays open for as long
//! as schemagate lives, so EOF tells the runner that schemagate died (it exits at once; on
//! Linux it also has `PR_SET_PDEATHSIG`, and it checks its parent right before COMMIT).
//! JSON lines on stdout: a hello, then per request `start`, `commit` (just before COMMIT:
//! a timeout then waits for the COMMIT rather than leave its outcome unknown) and the
//! result.
//!
//! **Failure containment.** A request that times out kills the runner's process group
//! (the migration and anything it spawned); SQLite rolls the killed transaction back (hot
//! journal or WAL) the next time the database is opened. A runner that dies in a request
//! fails that request only: before `commit` nothing can have been committed, which the
//! error says. The next request starts a new runner. A pooled runner found dead (or
//! wedged) before it took a request is replaced and the request sent again.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::supervisor::{self, Event, PIPE_WAIT, Process, Stopped};
use crate::migration::Migration;

const RUNNER: &str = include_str!("runner.py");

/// The runner's source travels in an environment variable that the bootstrap removes
/// before any migration runs: `ps` then shows a short command line instead of the whole
/// script, and tracebacks name the runner's frames `<schemagate-runner>`.
const RUNNER_VAR: &str = "SCHEMAGATE_RUNNER_SOURCE";
/// The pid the runner checks its parent against (it may have died before the runner set
/// up `PR_SET_PDEATHSIG`, and it checks again before each COMMIT).
const PARENT_VAR: &str = "SCHEMAGATE_PARENT_PID";
/// Also refuses interpreters the runner was not written for, in syntax even Python 2 runs.
const BOOTSTRAP: &str = "import os, sys; src = os.environ.pop('SCHEMAGATE_RUNNER_SOURCE'); \
    sys.version_info >= (3, 6) or sys.exit('schemagate-runner: unsupported interpreter: Python 3.6 or newer is needed, this is ' + sys.version.split()[0]); \
    exec(compile(src, '<schemagate-runner>', 'exec'))";
const UNSUPPORTED: &str = "schemagate-runner: unsupported interpreter: ";

/// Written by the runner to stderr after each request (must match `runner.py`).
const SEPARATOR: &[u8] = b"\x1eschemagate:end-of-request\x1f\n";

/// Most output kept from one migration; what follows is counted, not kept.
const OUTPUT_LIMIT: usize = 1 << 20;

/// How long a runner may take to start and to take up a request. Only a broken or wedged
/// interpreter gets near it; the migration's own time is bounded by its timeout.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// COMMIT attempts on BUSY in the runner (`COMMIT_ATTEMPTS` in `runner.py`, as the SQL
/// path): a committing runner gets this many busy timeouts more after its timeout.
const COMMIT_ATTEMPTS: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    fn function(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// A statement the runner executes after the migration function, inside its transaction
/// (typically the history row). `params` are named parameters (`:version`); `:description`
/// is bound to the module's `DESCRIPTION` (as the legacy manager read it) unless the
/// caller passes `"description"` itself.
#[derive(Clone, Debug, Default)]
pub struct RecordStatement {
    pub sql: String,
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// One migration to run.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    /// Interpreter to run (`python3`, a path, or a name looked up in `PATH`).
    pub python: &'a str,
    /// The database; it must exist (the runner opens it read-write, never creates it).
    pub db_path: &'a Path,
    pub migration: &'a Migration,
    /// The migration file on disk (`migration.path` is only for display). The runner runs
    /// `migration.text`, with this as the module's `__file__`.
    pub file: &'a Path,
    pub direction: Direction,
    pub record: &'a [RecordStatement],
    /// `false` runs everything and then rolls back (dry runs).
    pub commit: bool,
    /// Environment variables set for this migration only, e.g. [`env_for`]`("prod")`.
    pub env: &'a [(String, String)],
    /// SQLite busy timeout of the runner's connection (`BEGIN IMMEDIATE` and `COMMIT` wait
    /// this long for other connections).
    pub busy_timeout: Duration,
    /// Kill the runner (and its process group) when the migration runs longer.
    pub timeout: Option<Duration>,
}

/// What a successful run reports (the migration was committed when `job.commit`).
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The module's `DESCRIPTION`, or "Python Migration NNN".
    pub description: String,
    pub duration: Duration,
    /// Things the runner tolerated, with `file:line`: an ignored `conn.commit()`, a
    /// `BEGIN`/`COMMIT` skipped inside `executescript()`.
    pub warnings: Vec<String>,
    /// What the migration printed (stdout and stderr).
    pub output: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The interpreter could not be started (or is not a working Python 3). `reason` is
    /// the why alone ("not found", "exit status: 1: ..."), for callers that word their
    /// own message.
    #[error("{message}")]
    NotFound {
        python: String,
        message: String,
        reason: String,
    },
    /// The migration failed and was rolled back. `line` is the line in the migration file
    /// (last traceback frame in it; for a missing `upgrade`, the `def` of `migrate` when
    /// that exists); the caller prefixes the file's path.
    #[error("{message}")]
    Failed {
        message: String,
        line: Option<usize>,
        traceback: String,
    },
    /// The database or the machine stopped the migration, not its code (the write lock
    /// held past the busy timeout, COMMIT blocked by readers, a full disk); rolled back.
    /// The same classification as SQL migrations: exit 2.
    #[error("{message}")]
    Environment { message: String },
    /// The runner was killed after the timeout; its transaction was rolled back.
    #[error(
        "the migration did not finish within {} and was killed; its transaction was rolled back (if it needs longer, raise --migration-timeout or [apply] migration_timeout)",
        seconds(*.0)
    )]
    Timeout(Duration),
    /// The runner died (or was killed) without reporting a result. Before it announced
    /// COMMIT nothing can have been committed; after, whether the migration was
    /// committed is unknown until the history table is read again.
    #[error("{}", crashed_message(status, stderr, *committing))]
    Crashed {
        status: String,
        stderr: String,
        committing: bool,
    },
}

fn crashed_message(status: &str, stderr: &str, committing: bool) -> String {
    if committing {
        format!(
            "the Python runner exited unexpectedly ({status}) while it was committing the migration; check the history table to see whether the migration was recorded{}",
            stderr_tail(stderr)
        )
    } else {
        format!(
            "the Python runner exited unexpectedly ({status}) before the migration finished; nothing of it was committed (its transaction is rolled back){}",
            stderr_tail(stderr)
        )
    }
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn stderr_tail(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = trimmed.lines().collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    format!("\n{}", tail.join("\n"))
}

/// `SCHEMAGATE_ENV` and `ENV` set to the environment name: legacy migrations branch on
/// `os.environ["ENV"]`.
pub fn env_for(name: &str) -> Vec<(String, String)> {
    vec![
        ("SCHEMAGATE_ENV".to_string(), name.to_string()),
        ("ENV".to_string(), name.to_string()),
    ]
}

fn not_found(python: &str, why: impl std::fmt::Display) -> Error {
    not_found_because(python, why.to_string(), why)
}

fn not_found_because(python: &str, reason: String, why: impl std::fmt::Display) -> Error {
    Error::NotFound {
        python: python.to_string(),
        message: format!(
            "{python}: {why}; the Python migrations need Python 3: install python3 or pass --python PATH (or set SCHEMAGATE_PYTHON)"
        ),
        reason,
    }
}

/// Checks that `python` runs and has `sqlite3`; returns e.g. "Python 3.11.7, SQLite 3.40.1".
/// The runner started for the check stays in the pool for the migrations that follow.
pub fn check_available(python: &str) -> Result<String, Error> {
    let mut runner = lease(python)?;
    let hello = runner.hello()?;
    let sqlite = match (&hello.sqlite, &hello.sqlite_missing) {
        (Some(v), _) => v.clone(),
        (None, why) => {
            let why = why.as_deref().unwrap_or("no sqlite3 module");
            return Err(not_found(
                python,
                format!("not a working Python 3 with sqlite3 ({why})"),
            ));
        }
    };
    let text = format!("Python {}, SQLite {sqlite}", hello.python);
    release(runner);
    Ok(text)
}

#[derive(Deserialize)]
struct RunnerResult {
    ok: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    traceback: String,
}

impl RunnerResult {
    fn into_result(self, python: &str) -> Result<RunnerResult, Error> {
        if self.ok {
            return Ok(self);
        }
        Err(match self.kind.as_str() {
            "environment" => Error::Environment {
                message: self.message,
            },
            "interpreter" => not_found(
                python,
                format!("not a working Python 3 with sqlite3 ({})", self.message),
            ),
            _ => Error::Failed {
                message: self.message,
                line: self.line,
                traceback: self.traceback,
            },
        })
    }
}

/// Runs the migration's `upgrade(conn)` or `downgrade(conn)` and the record statements in
/// one transaction, committed only when all succeeded (and `job.commit`).
pub fn run(job: &Job) -> Result<RunOutput, Error> {
    let started = Instant::now();
    let mut request = migration_request("run", job.migration, job.file, job.direction, job.env)?;
    let record: Vec<Value> = job
        .record
        .iter()
        .map(|r| {
            let mut statement = Map::new();
            statement.insert("sql".into(), r.sql.clone().into());
            statement.insert("params".into(), r.params.clone().into());
            Value::Object(statement)
        })
        .collect();
    request.insert("db".into(), utf8_path(job.db_path)?.into());
    request.insert("record".into(), record.into());
    request.insert("commit".into(), job.commit.into());
    request.insert("busy_timeout".into(), job.busy_timeout.as_secs_f64().into());
    let grace = job.busy_timeout * COMMIT_ATTEMPTS + Duration::from_secs(10);
    let reply = submit(job.python, request)?.wait(job.timeout, Some(grace))?;
    let result = parse(reply.message)?.into_result(job.python)?;
    Ok(RunOutput {
        description: result.description,
        duration: started.elapsed(),
        warnings: result.warnings,
        output: reply.output,
    })
}

/// Imports the migration the way [`run`] does, without a database, and checks that it
/// defines `upgrade(conn)` (or `downgrade(conn)`): syntax and import errors and a missing
/// function are found before anything is locked or backed up. Returns the `DESCRIPTION`
/// the history row will get. Importing runs the module's top-level code, as the legacy
/// manager's import did.
pub fn validate(
    python: &str,
    migration: &Migration,
    file: &Path,
    direction: Direction,
    env: &[(String, String)],
    timeout: Option<Duration>,
) -> Result<String, Error> {
    let mut request = migration_request("validate", migration, file, direction, env)?;
    request.insert("db".into(), Value::Null);
    let reply = submit(python, request)?.wait(timeout, None)?;
    Ok(parse(reply.message)?.into_result(python)?.description)
}

fn migration_request(
    op: &str,
    migration: &Migration,
    file: &Path,
    direction: Direction,
    env: &[(String, String)],
) -> Result<Map<String, Value>, Error> {
    let mut request = Map::new();
    request.insert("op".into(), op.into());
    request.insert("file".into(), utf8_path(file)?.into());
    request.insert("display".into(), migration.path.clone().into());
    request.insert("version".into(), migration.version.as_str().into());
    request.insert("direction".into(), direction.function().into());
    request.insert("source".into(), migration.text.clone().into());
    let env: Map<String, Value> = env
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    request.insert("env".into(), env.into());
    Ok(request)
}

fn parse(message: Map<String, Value>) -> Result<RunnerResult, Error> {
    serde_json::from_value(Value::Object(message)).map_err(|e| Error::Crashed {
        status: format!("it answered something unexpected ({e})"),
        stderr: String::new(),
        committing: false,
    })
}

fn utf8_path(p: &Path) -> Result<&str, Error> {
    p.to_str().ok_or_else(|| Error::Failed {
        message: format!(
            "{}: the path is not valid UTF-8, which the Python runner cannot be given; rename it",
            p.display()
        ),
        line: None,
        traceback: String::new(),
    })
}

// --- the persistent runner ---------------------------------------------------------------

/// What the runner says first.
#[derive(Clone, Debug, Deserialize)]
struct Hello {
    #[allow(dead_code)] // tells a hello from the other messages
    hello: bool,
    python: String,
    sqlite: Option<String>,
    #[serde(default)]
    sqlite_missing: Option<String>,
    #[serde(default)]
    executable: Option<String>,
}

/// A request's answer: the result message and what the request printed.
pub(super) struct Reply {
    pub message: Map<String, Value>,
    pub output: String,
}

/// Interpreter names resolved to the `sys.executable` their runner reported (a pyenv shim
/// is a shell script that starts another program or two before Python itself).
static RESOLVED: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

thread_local! {
    static IDLE: RefCell<Idle> = const { RefCell::new(Idle(Vec::new())) };
}

/// The idle runners of a thread. Runners are not shared between threads: on Linux
/// `PR_SET_PDEATHSIG` fires when the *thread* that started the runner ends.
struct Idle(Vec<Runner>);

impl Drop for Idle {
    fn drop(&mut self) {
        for runner in self.0.drain(..) {
            runner.process.close(Duration::from_millis(200));
        }
    }
}

/// A runner of this thread's pool for `python`, or a new one.
fn lease(python: &str) -> Result<Runner, Error> {
    let idle = IDLE.with(|idle| {
        let runners = &mut idle.borrow_mut().0;
        let at = runners.iter().position(|r| r.python == python)?;
        Some(runners.swap_remove(at))
    });
    match idle {
        Some(mut runner) => {
            if runner.process.is_running() {
                Ok(runner)
            } else {
                Runner::start(python)
            }
        }
        None => Runner::start(python),
    }
}

/// Puts a runner that answered its request back in the pool (one per interpreter).
fn release(runner: Runner) {
    let spare = IDLE.with(|idle| {
        let runners = &mut idle.borrow_mut().0;
        if runners.iter().any(|r| r.python == runner.python) {
            Some(runner)
        } else {
            runners.push(runner);
            None
        }
    });
    if let Some(spare) = spare {
        spare.process.close(Duration::from_millis(200));
    }
}

/// Sends `request` to a runner for `python`; [`Submitted::wait`] reads the answer.
pub(super) fn submit(python: &str, request: Map<String, Value>) -> Result<Submitted, Error> {
    let mut runner = lease(python)?;
    let ticket = runner.send(request.clone());
    Ok(Submitted {
        python: python.to_string(),
        runner,
        ticket,
        request,
        resent: false,
    })
}

/// A request on its way.
pub(super) struct Submitted {
    python: String,
    runner: Runner,
    ticket: Ticket,
    request: Map<String, Value>,
    resent: bool,
}

impl Submitted {
    /// The answer. `timeout` bounds the request once the runner took it up; a runner
    /// that is committing gets `commit_grace` more.
    pub fn wait(
        mut self,
        timeout: Option<Duration>,
        commit_grace: Option<Duration>,
    ) -> Result<Reply, Error> {
        loop {
            match self.runner.wait(&self.ticket, timeout, commit_grace) {
                Ok(reply) => {
                    release(self.runner);
                    return Ok(reply);
                }
                // Found dead or wedged before it took the request: nothing of the
                // request ran, so a new runner gets it.
                Err(Trouble::NotStarted(_)) if self.runner.served > 0 && !self.resent => {
                    self.resent = true;
                    self.runner = Runner::start(&self.python)?;
                    self.ticket = self.runner.send(self.request.clone());
                }
                Err(trouble) => return Err(trouble.into_error(&self.python, timeout)),
            }
        }
    }
}

struct Ticket {
    id: u64,
    sent: Instant,
}

/// Why a request got no answer.
enum Trouble {
    /// The interpreter cannot run the runner.
    Start(Error),
    /// The runner died or hung before it took up the request.
    NotStarted(String),
    TimedOut,
    Died {
        status: String,
        stderr: String,
        committing: bool,
    },
}

impl Trouble {
    fn into_error(self, python: &str, timeout: Option<Duration>) -> Error {
        match self {
            Trouble::Start(e) => e,
            Trouble::NotStarted(why) => Error::Crashed {
                status: format!("{python}: {why}"),
                stderr: String::new(),
                committing: false,
            },
            Trouble::TimedOut => Error::Timeout(timeout.unwrap_or_default()),
            Trouble::Died {
                status,
                stderr,
                committing,
            } => Error::Crashed {
                status,
                stderr,
                committing,
            },
        }
    }
}

struct Runner {
    /// The interpreter as asked for (the pool's key).
    python: String,
    process: Process,
    hello: Option<Hello>,
    next_id: u64,
    /// Requests answered.
    served: u64,
}

impl Runner {
    fn start(python: &str) -> Result<Runner, Error> {
        let resolved = RESOLVED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(python)
            .cloned();
        let process = match resolved.map(|exe| spawn(&exe)) {
            Some(Ok(process)) => process,
            // The resolved program went away: start the name again.
            Some(Err(_)) | None => {
                RESOLVED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(python);
                spawn(python).map_err(|e| not_found(python, e))?
            }
        };
        Ok(Runner {
            python: python.to_string(),
            process,
            hello: None,
            next_id: 1,
            served: 0,
        })
    }

    fn send(&mut self, mut request: Map<String, Value>) -> Ticket {
        let id = self.next_id;
        self.next_id += 1;
        request.insert("id".into(), id.into());
        let line = format!("{}\n", Value::Object(request));
        // A write error means the runner is gone; waiting for the answer sees its exit.
        let _ = self.process.send(line.as_bytes());
        Ticket {
            id,
            sent: Instant::now(),
        }
    }

    /// The runner's hello, waiting for it if it has not arrived yet.
    fn hello(&mut self) -> Result<Hello, Error> {
        let deadline = Instant::now() + START_TIMEOUT;
        while self.hello.is_none() {
            match self.process.next(Some(deadline)) {
                Ok(Event::Line(line)) => {
                    self.take_hello(&line);
                }
                Ok(Event::Exited(status)) => {
                    let stderr = self.process.stderr().rest(Instant::now() + PIPE_WAIT);
                    return Err(start_failure(
                        &self.python,
                        &supervisor::describe(status),
                        &stderr,
                    ));
                }
                Err(Stopped::TimedOut) => {
                    self.process.kill();
                    return Err(not_found(
                        &self.python,
                        format!("did not start within {} s", START_TIMEOUT.as_secs()),
                    ));
                }
                Err(Stopped::Failed(e)) => return Err(not_found(&self.python, e)),
            }
        }
        Ok(self.hello.clone().expect("set above"))
    }

    /// Records the hello if `line` is one (and the interpreter's real program).
    fn take_hello(&mut self, line: &str) -> bool {
        let Ok(hello) = serde_json::from_str::<Hello>(line) else {
            return false;
        };
        if let Some(exe) = hello.executable.as_deref()
            && Path::new(exe).is_absolute()
            && exe != self.python
        {
            RESOLVED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.python.clone(), exe.to_string());
        }
        self.hello = Some(hello);
        true
    }

    fn wait(
        &mut self,
        ticket: &Ticket,
        timeout: Option<Duration>,
        commit_grace: Option<Duration>,
    ) -> Result<Reply, Trouble> {
        let mut started: Option<Instant> = None;
        let mut committing = false;
        loop {
            let deadline = match started {
                None => Some(ticket.sent + START_TIMEOUT),
                Some(at) => timeout.map(|t| {
                    at + t
                        + if committing {
                            commit_grace.unwrap_or_default()
                        } else {
                            Duration::ZERO
                        }
                }),
            };
            match self.process.next(deadline) {
                Ok(Event::Line(line)) => {
                    if self.hello.is_none() && self.take_hello(&line) {
                        continue;
                    }
                    // Anything else (what a sitecustomize printed before the runner took
                    // over stdout) is not the protocol.
                    let Ok(Value::Object(message)) = serde_json::from_str::<Value>(&line) else {
                        continue;
                    };
                    if message.get("id").and_then(Value::as_u64) != Some(ticket.id) {
                        continue;
                    }
                    match message.get("phase").and_then(Value::as_str) {
                        Some("start") => started = Some(Instant::now()),
                        Some("commit") => committing = true,
                        _ => {
                            let output = self.process.stderr().segment(Instant::now() + PIPE_WAIT);
                            self.served += 1;
                            return Ok(Reply { message, output });
                        }
                    }
                }
                Ok(Event::Exited(status)) => {
                    let stderr = self.process.stderr().rest(Instant::now() + PIPE_WAIT);
                    let status = supervisor::describe(status);
                    if self.hello.is_none() {
                        return Err(Trouble::Start(start_failure(
                            &self.python,
                            &status,
                            &stderr,
                        )));
                    }
                    if started.is_none() {
                        return Err(Trouble::NotStarted(format!(
                            "the runner exited ({status}) before it took the request"
                        )));
                    }
                    return Err(Trouble::Died {
                        status,
                        stderr,
                        committing,
                    });
                }
                Err(Stopped::TimedOut) => {
                    self.process.kill();
                    if started.is_some() {
                        return Err(Trouble::TimedOut);
                    }
                    let why = format!(
                        "the runner did not take the request within {} s",
                        START_TIMEOUT.as_secs()
                    );
                    if self.hello.is_none() {
                        return Err(Trouble::Start(not_found(&self.python, why)));
                    }
                    return Err(Trouble::NotStarted(why));
                }
                Err(Stopped::Failed(e)) => {
                    self.process.kill();
                    return Err(Trouble::Died {
                        status: format!("cannot wait for the runner: {e}"),
                        stderr: String::new(),
                        committing,
                    });
                }
            }
        }
    }
}

fn spawn(program: &str) -> Result<Process, supervisor::SpawnError> {
    let mut command = Command::new(program);
    // -B: importing helper modules must not leave __pycache__ in the migrations folder.
    command
        .args(["-B", "-c", BOOTSTRAP])
        .env(RUNNER_VAR, RUNNER)
        .env(PARENT_VAR, std::process::id().to_string());
    supervisor::spawn(command, OUTPUT_LIMIT, SEPARATOR)
}

/// Why an interpreter exited before it said hello.
fn start_failure(python: &str, status: &str, stderr: &str) -> Error {
    if let Some(why) = stderr.lines().find_map(|l| l.strip_prefix(UNSUPPORTED)) {
        return not_found(python, why.trim());
    }
    let last = stderr.trim().lines().last().unwrap_or("no message").trim();
    let reason = format!("{status}: {last}");
    let why = format!("not a working Python 3 with sqlite3 ({reason})");
    not_found_because(python, reason, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::{Migration, parse_file_name};
    use rusqlite::Connection;
    use std::path::PathBuf;

    /// `SCHEMAGATE_TEST_PYTHON` runs the tests against another interpreter.
    fn python() -> String {
        std::env::var("SCHEMAGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
    }

    const HISTORY: &str = "CREATE TABLE schema_versions (
        id INTEGER PRIMARY KEY, version TEXT UNIQUE NOT NULL,
        applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, description TEXT, checksum TEXT);
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
        INSERT INTO users (name) VALUES ('ada');";

    struct Fixture {
        dir: tempfile::TempDir,
        db: PathBuf,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("app.db");
            Connection::open(&db)
                .unwrap()
                .execute_batch(HISTORY)
                .unwrap();
            std::fs::create_dir(dir.path().join("migrations")).unwrap();
            Fixture { dir, db }
        }

        fn write(&self, name: &str, text: &str) -> (Migration, PathBuf) {
            let path = self.dir.path().join("migrations").join(name);
            std::fs::write(&path, text).unwrap();
            let parsed = parse_file_name(name).unwrap();
            let m = Migration::new("migrations", parsed, name, text.as_bytes()).unwrap();
            (m, path)
        }

        fn run_with(
            &self,
            name: &str,
            text: &str,
            direction: Direction,
            commit: bool,
            env: &[(String, String)],
        ) -> Result<RunOutput, Error> {
            let (m, path) = self.write(name, text);
            let record = [record_row(&m)];
            run(&Job {
                python: &python(),
                db_path: &self.db,
                migration: &m,
                file: &path,
                direction,
                record: &record,
                commit,
                env,
                busy_timeout: Duration::from_secs(2),
                timeout: Some(Duration::from_secs(60)),
            })
        }

        fn run(&self, name: &str, text: &str) -> Result<RunOutput, Error> {
            self.run_with(name, text, Direction::Upgrade, true, &[])
        }

        /// Runs an empty migration with `python`, recording nothing.
        fn run_in(&self, python: &str, name: &str) -> Result<RunOutput, Error> {
            let (m, path) = self.write(name, "def upgrade(conn):\n    pass\n");
            run(&Job {
                python,
                db_path: &self.db,
                migration: &m,
                file: &path,
                direction: Direction::Upgrade,
                record: &[],
                commit: true,
                env: &[],
                busy_timeout: Duration::from_secs(1),
                timeout: None,
            })
        }

        fn query(&self, sql: &str) -> Vec<String> {
            let conn = Connection::open(&self.db).unwrap();
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        }

        fn versions(&self) -> Vec<String> {
            self.query("SELECT version FROM schema_versions ORDER BY id")
        }

        fn tables(&self) -> Vec<String> {
            self.query("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")
        }

        fn user_columns(&self) -> Vec<String> {
            self.query("SELECT name FROM pragma_table_info('users')")
        }
    }

    fn record_row(m: &Migration) -> RecordStatement {
        let mut params = serde_json::Map::new();
        params.insert("version".into(), m.version.as_str().into());
        params.insert("checksum".into(), m.checksum.clone().into());
        RecordStatement {
            sql: "INSERT INTO schema_versions(version, description, checksum) \
                  VALUES (:version, :description, :checksum)"
                .into(),
            params,
        }
    }

    fn failed(result: Result<RunOutput, Error>) -> (String, Option<usize>, String) {
        match result {
            Err(Error::Failed {
                message,
                line,
                traceback,
            }) => (message, line, traceback),
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn success_records_the_row_and_returns_the_description() {
        let f = Fixture::new();
        let out = f
            .run(
                "002_add_email.py",
                "DESCRIPTION = 'Add email'\n\ndef upgrade(conn):\n    print('adding email')\n    conn.execute('ALTER TABLE users ADD COLUMN email TEXT')\n    conn.commit()\n",
            )
            .unwrap();
        assert_eq!(out.description, "Add email");
        assert!(out.output.contains("adding email"), "{}", out.output);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].starts_with("002_add_email.py:6: conn.commit() ignored"));
        assert_eq!(f.versions(), ["002"]);
        assert!(f.user_columns().contains(&"email".to_string()));
        assert_eq!(
            f.query("SELECT description FROM schema_versions"),
            ["Add email"]
        );
    }

    #[test]
    fn description_defaults_like_the_legacy_manager() {
        let f = Fixture::new();
        let out = f.run("007_x.py", "def upgrade(conn):\n    pass\n").unwrap();
        assert_eq!(out.description, "Python Migration 007");
        assert_eq!(
            f.query("SELECT description FROM schema_versions"),
            ["Python Migration 007"]
        );
    }

    #[test]
    fn commit_and_executescript_then_raise_leaves_nothing() {
        let f = Fixture::new();
        let (message, line, traceback) = failed(f.run(
            "003_bad.py",
            "def upgrade(conn):\n    conn.execute('ALTER TABLE users ADD COLUMN email TEXT')\n    conn.execute(\"UPDATE users SET name = 'changed'\")\n    conn.commit()\n    conn.executescript('CREATE TABLE audit (id INTEGER); INSERT INTO audit VALUES (1);')\n    conn.cursor().executescript('CREATE TABLE audit2 (id INTEGER);')\n    raise RuntimeError('boom')\n",
        ));
        assert_eq!(message, "RuntimeError: boom");
        assert_eq!(line, Some(7));
        assert!(traceback.contains("003_bad.py\", line 7"), "{traceback}");
        assert!(f.versions().is_empty());
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(!f.user_columns().contains(&"email".to_string()));
        assert_eq!(f.query("SELECT name FROM users"), ["ada"]);
    }

    #[test]
    fn executescript_runs_inside_the_transaction_and_skips_begin_commit() {
        let f = Fixture::new();
        let out = f
            .run(
                "004_script.py",
                "def upgrade(conn):\n    conn.executescript('''\n        BEGIN;\n        CREATE TABLE t (x TEXT); -- a comment; with a semicolon\n        INSERT INTO t VALUES ('a;b');\n        CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n            INSERT INTO users(name) VALUES ('trig');\n        END;\n        COMMIT;\n    ''')\n",
            )
            .unwrap();
        assert_eq!(f.query("SELECT x FROM t"), ["a;b"]);
        assert_eq!(f.versions(), ["004"]);
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("BEGIN inside executescript() skipped"));
    }

    #[test]
    fn raw_commit_statement_fails_clearly_and_nothing_persists() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "005_commit.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    conn.execute('COMMIT')\n",
        ));
        assert!(
            message.contains("the migration ran COMMIT itself"),
            "{message}"
        );
        assert!(message.contains("not authorized"), "{message}");
        assert_eq!(line, Some(3));
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn rollback_aborts_the_migration_even_when_caught() {
        let f = Fixture::new();
        let (message, _, _) = failed(f.run(
            "006_rb.py",
            "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    try:\n        conn.rollback()\n    except Exception:\n        pass\n    conn.execute('CREATE TABLE u (x)')\n",
        ));
        assert!(message.contains("conn.rollback()"), "{message}");
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn with_conn_block_keeps_working() {
        let f = Fixture::new();
        f.run(
            "008_with.py",
            "def upgrade(conn):\n    with conn:\n        conn.execute('CREATE TABLE t (x)')\n",
        )
        .unwrap();
        assert_eq!(f.tables(), ["schema_versions", "t", "users"]);
    }

    #[test]
    fn syntax_error_reports_its_line() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "009_syntax.py",
            "DESCRIPTION = 'x'\n\ndef upgrade(conn)\n    pass\n",
        ));
        assert!(message.starts_with("SyntaxError:"), "{message}");
        assert_eq!(line, Some(3));
        assert!(f.versions().is_empty());
    }

    #[test]
    fn import_error_reports_the_import_line() {
        let f = Fixture::new();
        let (message, line, traceback) = failed(f.run(
            "010_import.py",
            "import os\nimport no_such_module_here\n\ndef upgrade(conn):\n    pass\n",
        ));
        assert!(message.contains("ModuleNotFoundError"), "{message}");
        assert!(message.contains("no_such_module_here"), "{message}");
        assert_eq!(line, Some(2));
        assert!(traceback.contains("010_import.py"), "{traceback}");
    }

    #[test]
    fn sibling_helper_modules_import() {
        let f = Fixture::new();
        std::fs::write(
            f.dir.path().join("migrations/helpers.py"),
            "def add(conn):\n    conn.execute('CREATE TABLE from_helper (x)')\n",
        )
        .unwrap();
        f.run(
            "011_helper.py",
            "import helpers\n\ndef upgrade(conn):\n    helpers.add(conn)\n",
        )
        .unwrap();
        assert!(f.tables().contains(&"from_helper".to_string()));
        // -B: no bytecode left in the user's folder.
        assert!(!f.dir.path().join("migrations/__pycache__").exists());
    }

    #[test]
    fn missing_upgrade_names_the_file_and_hints_at_migrate() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "012_old.py",
            "DESCRIPTION = 'old style'\n\n\ndef migrate(conn):\n    pass\n",
        ));
        assert_eq!(
            message,
            "migrations/012_old.py defines migrate() but no upgrade(conn): rename migrate to upgrade(conn)"
        );
        assert_eq!(line, Some(4));
        let (message, line, _) = failed(f.run("013_none.py", "X = 1\n"));
        assert_eq!(
            message,
            "migrations/013_none.py defines no upgrade(conn) function"
        );
        assert_eq!(line, None);
        let (message, _, _) = failed(f.run_with(
            "014_up.py",
            "def upgrade(conn):\n    pass\n\ndef rollback(conn):\n    pass\n",
            Direction::Downgrade,
            true,
            &[],
        ));
        assert!(
            message.contains("defines rollback() but no downgrade(conn)"),
            "{message}"
        );
    }

    #[test]
    fn traceback_line_points_into_the_migration_file_not_the_helper() {
        let f = Fixture::new();
        let (message, line, traceback) = failed(f.run(
            "015_deep.py",
            "def helper(conn):\n    conn.execute('SELECT * FROM no_such_table')\n\n\ndef upgrade(conn):\n    helper(conn)\n",
        ));
        assert_eq!(
            message,
            "sqlite3.OperationalError: no such table: no_such_table"
        );
        assert_eq!(line, Some(2));
        assert!(
            !traceback.contains("<string>"),
            "runner frames shown: {traceback}"
        );
    }

    #[test]
    fn commit_false_leaves_nothing_even_on_success() {
        let f = Fixture::new();
        let out = f
            .run_with(
                "016_dry.py",
                "DESCRIPTION = 'dry'\ndef upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n",
                Direction::Upgrade,
                false,
                &[],
            )
            .unwrap();
        assert_eq!(out.description, "dry");
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn environment_name_is_visible_as_env_and_schemagate_env() {
        let f = Fixture::new();
        f.run_with(
            "017_env.py",
            "import os\ndef upgrade(conn):\n    conn.execute('CREATE TABLE env (a, b)')\n    conn.execute('INSERT INTO env VALUES (?, ?)', (os.environ['ENV'], os.environ['SCHEMAGATE_ENV']))\n",
            Direction::Upgrade,
            true,
            &env_for("prod"),
        )
        .unwrap();
        assert_eq!(f.query("SELECT a || ',' || b FROM env"), ["prod,prod"]);
    }

    #[test]
    fn downgrade_runs_with_the_same_guarantees() {
        let f = Fixture::new();
        let text = "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n\ndef downgrade(conn):\n    conn.execute('DROP TABLE t')\n    conn.commit()\n    raise ValueError('no')\n";
        f.run("018_t.py", text).unwrap();
        let (m, path) = f.write("018_t.py", text);
        let mut params = serde_json::Map::new();
        params.insert("version".into(), "018".into());
        let delete = [RecordStatement {
            sql: "DELETE FROM schema_versions WHERE version = :version".into(),
            params,
        }];
        let job = Job {
            python: &python(),
            db_path: &f.db,
            migration: &m,
            file: &path,
            direction: Direction::Downgrade,
            record: &delete,
            commit: true,
            env: &[],
            busy_timeout: Duration::from_secs(2),
            timeout: None,
        };
        let (message, line, _) = failed(run(&job));
        assert_eq!(message, "ValueError: no");
        assert_eq!(line, Some(7));
        assert_eq!(f.tables(), ["schema_versions", "t", "users"]);
        assert_eq!(f.versions(), ["018"]);

        let fixed = text.replace("    raise ValueError('no')\n", "");
        let (m, path) = f.write("018_t.py", &fixed);
        run(&Job {
            migration: &m,
            file: &path,
            ..job
        })
        .unwrap();
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    #[test]
    fn a_second_connection_inside_upgrade_gets_an_explanation() {
        let f = Fixture::new();
        let (message, line, _) = failed(f.run_with(
            "019_own.py",
            "import os, sqlite3\ndef upgrade(conn):\n    own = sqlite3.connect(os.environ['DB'], timeout=0.2)\n    own.execute('CREATE TABLE t (x)')\n",
            Direction::Upgrade,
            true,
            &[("DB".to_string(), f.db.display().to_string())],
        ));
        assert!(message.contains("database is locked"), "{message}");
        assert!(message.contains("opened its own connection"), "{message}");
        assert_eq!(line, Some(4));
    }

    #[test]
    fn missing_interpreter_is_not_found_with_a_hint() {
        let err = Fixture::new()
            .run_in("/nonexistent/python3", "020_x.py")
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("/nonexistent/python3: not found"), "{text}");
        assert!(text.contains("install python3 or pass --python"), "{text}");
        assert!(matches!(
            check_available("/nonexistent/python3"),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn check_available_reports_versions_and_rejects_non_python() {
        let version = check_available(&python()).unwrap();
        assert!(version.starts_with("Python 3."), "{version}");
        assert!(version.contains("SQLite 3."), "{version}");
        let err = check_available("false").unwrap_err();
        assert!(err.to_string().contains("not a working Python 3"), "{err}");
    }

    /// Needs a Python 2 (`SCHEMAGATE_TEST_PYTHON2`, or pyenv's 2.7 where installed); does
    /// nothing without one.
    #[test]
    fn python2_is_refused_with_the_version_needed() {
        let python2 = std::env::var("SCHEMAGATE_TEST_PYTHON2")
            .unwrap_or_else(|_| "/root/.pyenv/versions/2.7.18/bin/python".to_string());
        if !Path::new(&python2).exists() {
            return;
        }
        let err = check_available(&python2).unwrap_err();
        assert!(err.to_string().contains("3.6 or newer is needed"), "{err}");
        let err = Fixture::new().run_in(&python2, "021_x.py").unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("Python 3.6 or newer is needed, this is 2.7"),
            "{text}"
        );
        assert!(text.contains("install python3 or pass --python"), "{text}");
    }

    #[test]
    fn validate_imports_without_a_database() {
        let f = Fixture::new();
        let (m, path) = f.write(
            "022_ok.py",
            "DESCRIPTION = 'Computed ' + 'at import'\ndef upgrade(conn):\n    pass\n",
        );
        let description = validate(&python(), &m, &path, Direction::Upgrade, &[], None).unwrap();
        assert_eq!(description, "Computed at import");

        let (m, path) = f.write("023_bad.py", "def upgrade(conn):\n    x = (\n");
        match validate(&python(), &m, &path, Direction::Upgrade, &[], None) {
            Err(Error::Failed { message, line, .. }) => {
                assert!(message.starts_with("SyntaxError: "), "{message}");
                assert!(line.is_some());
            }
            other => panic!("expected Failed, got {other:?}"),
        }

        let (m, path) = f.write("024_up_only.py", "def upgrade(conn):\n    pass\n");
        let err = validate(&python(), &m, &path, Direction::Downgrade, &[], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "migrations/024_up_only.py defines no downgrade(conn) function"
        );
        assert!(f.versions().is_empty());
    }

    #[test]
    fn close_is_ignored_with_a_warning() {
        let f = Fixture::new();
        let out = f
            .run(
                "025_close.py",
                "def upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    conn.close()\n",
            )
            .unwrap();
        assert_eq!(
            out.warnings,
            ["025_close.py:3: conn.close() ignored: schemagate closes the connection"]
        );
        assert_eq!(f.versions(), ["025"]);
    }

    #[test]
    fn executescript_error_half_way_leaves_nothing_even_when_caught() {
        // sqlite3's own executescript() would have committed the first statements.
        let f = Fixture::new();
        let (message, line, _) = failed(f.run(
            "026_half.py",
            "import sqlite3\ndef upgrade(conn):\n    try:\n        conn.executescript('CREATE TABLE a (x); INSERT INTO nope VALUES (1); CREATE TABLE b (x);')\n    except sqlite3.OperationalError:\n        pass\n    raise RuntimeError('after the script')\n",
        ));
        assert_eq!(message, "RuntimeError: after the script");
        assert_eq!(line, Some(7));
        assert_eq!(f.tables(), ["schema_versions", "users"]);
    }

    #[test]
    fn a_caught_with_conn_failure_or_script_rollback_still_aborts() {
        let f = Fixture::new();
        let (message, _, _) = failed(f.run(
            "027_with.py",
            "def upgrade(conn):\n    try:\n        with conn:\n            conn.execute('CREATE TABLE t (x)')\n            raise KeyError('k')\n    except KeyError:\n        pass\n",
        ));
        assert!(
            message.contains("a `with conn:` block ended with KeyError"),
            "{message}"
        );
        let (message, line, _) = failed(f.run(
            "028_script.py",
            "def upgrade(conn):\n    conn.executescript('CREATE TABLE t (x); ROLLBACK;')\n",
        ));
        assert!(
            message.starts_with("ROLLBACK inside executescript()"),
            "{message}"
        );
        assert_eq!(line, Some(2));
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        assert!(f.versions().is_empty());
    }

    /// `(pid, what it printed)` of a migration that records its runner's pid in `pids`.
    fn pid_of(f: &Fixture, name: &str, extra: &str) -> (i64, String) {
        let text = format!(
            "import os\ndef upgrade(conn):\n    print('output of {name}')\n{extra}    conn.execute('CREATE TABLE IF NOT EXISTS pids (name TEXT, pid INTEGER)')\n    conn.execute('INSERT INTO pids VALUES (?, ?)', ({name:?}, os.getpid()))\n"
        );
        let out = f.run(name, &text).unwrap();
        let conn = Connection::open(&f.db).unwrap();
        let pid = conn
            .query_row("SELECT pid FROM pids WHERE name = ?1", [name], |r| r.get(0))
            .unwrap();
        (pid, out.output)
    }

    #[test]
    fn one_runner_serves_the_requests_of_a_thread_each_with_its_own_output_and_env() {
        let f = Fixture::new();
        let (first, out1) = pid_of(&f, "030_a.py", "    os.environ['LEFT_BEHIND'] = '1'\n");
        let (second, out2) = pid_of(
            &f,
            "031_b.py",
            "    assert 'LEFT_BEHIND' not in os.environ, 'environment leaked'\n",
        );
        assert_eq!(first, second, "a second interpreter was started");
        assert_eq!(out1.trim(), "output of 030_a.py");
        assert_eq!(out2.trim(), "output of 031_b.py");
    }

    #[test]
    fn a_runner_that_died_while_idle_is_replaced_and_the_request_sent_again() {
        let f = Fixture::new();
        let (first, _) = pid_of(&f, "032_a.py", "");
        // SAFETY: kill(2) on the idle runner this test started.
        unsafe {
            libc::kill(first as i32, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(100));
        let (second, _) = pid_of(&f, "033_b.py", "");
        assert_ne!(first, second);
        assert_eq!(f.versions(), ["032", "033"]);
    }

    #[test]
    fn a_shim_is_started_once_and_later_runners_start_the_real_interpreter() {
        let f = Fixture::new();
        let log = f.dir.path().join("shim.log");
        let shim = f.dir.path().join("python3-shim");
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\necho started >> '{}'\nexec {} \"$@\"\n",
                log.display(),
                python()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        let shim = shim.to_str().unwrap();
        // The first runner dies with its migration; the second is started directly.
        let (m, path) = f.write(
            "034_dies.py",
            "import os\ndef upgrade(conn):\n    os._exit(4)\n",
        );
        let job = Job {
            python: shim,
            db_path: &f.db,
            migration: &m,
            file: &path,
            direction: Direction::Upgrade,
            record: &[],
            commit: true,
            env: &[],
            busy_timeout: Duration::from_secs(1),
            timeout: None,
        };
        assert!(matches!(
            run(&job),
            Err(Error::Crashed {
                committing: false,
                ..
            })
        ));
        let (m, path) = f.write("035_ok.py", "def upgrade(conn):\n    pass\n");
        run(&Job {
            migration: &m,
            file: &path,
            ..job
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    }

    #[test]
    fn writes_to_schemagates_tables_are_denied_even_when_caught() {
        let f = Fixture::new();
        let (message, _, _) = failed(f.run(
            "036_wipe.py",
            "import sqlite3\ndef upgrade(conn):\n    conn.execute('CREATE TABLE t (x)')\n    try:\n        conn.execute('DELETE FROM schema_versions')\n    except sqlite3.DatabaseError:\n        pass\n",
        ));
        assert!(
            message.contains("the migration tried to DELETE FROM schema_versions"),
            "{message}"
        );
        assert_eq!(f.tables(), ["schema_versions", "users"]);
        // Reading the history, and the runner's own record statements, stay allowed.
        f.run(
            "037_read.py",
            "def upgrade(conn):\n    conn.execute('SELECT count(*) FROM schema_versions').fetchone()\n",
        )
        .unwrap();
        assert_eq!(f.versions(), ["037"]);
    }
}
