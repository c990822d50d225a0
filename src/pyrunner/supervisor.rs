//! Supervises one child process for the migration runner ([`super::runner`]) and the lint
//! AST scan ([`super::scan`]): the child gets its own process group, its stdout and stderr
//! are drained on threads into capped buffers, the wait has a timeout (with an optional
//! grace for a step that must not be cut short), and the whole group is killed on a timeout
//! or when the [`Process`] is dropped before the child was waited for.
//!
//! Nothing here knows about Python. Today every child answers one request and exits; a
//! persistent runner (one process for many migrations) keeps one [`Process`], [`Process::send`]s
//! a line per job with stdin held open, and needs two additions that fit this shape: a wait
//! that also ends when a predicate over [`Process::stdout`] holds (the job's result line),
//! and a way to take a [`Drain`]'s contents per job so the cap applies to each job.

use std::fmt;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long [`Process::finish`] waits for the pipes to close after the child is gone: a
/// process it started (or forked) may hold them open, and what the child itself wrote has
/// been read by then.
const PIPE_CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A program that could not be started.
#[derive(Debug)]
pub struct SpawnError(pub io::Error);

impl SpawnError {
    pub fn is_not_found(&self) -> bool {
        self.0.kind() == io::ErrorKind::NotFound
    }
}

/// Why, in words that follow the program's name: "python3: not found".
impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.kind() {
            io::ErrorKind::NotFound => f.write_str("not found"),
            io::ErrorKind::PermissionDenied => f.write_str("not executable"),
            _ => self.0.fmt(f),
        }
    }
}

/// Why [`Process::wait`] returned without an exit status. The child's process group has been
/// killed in every case but `Failed`, where dropping the [`Process`] kills it.
#[derive(Debug)]
pub enum Stopped {
    /// The timeout passed.
    TimedOut,
    /// The timeout passed while the [`Grace`] applied, and then the grace did too.
    KilledInGrace,
    /// The child's status could not be read.
    Failed(io::Error),
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stopped::TimedOut => f.write_str("killed after the timeout"),
            Stopped::KilledInGrace => f.write_str("killed after the timeout and its grace"),
            Stopped::Failed(err) => write!(f, "cannot wait for it: {err}"),
        }
    }
}

/// More time after the timeout for a child in a step that must not be interrupted (the
/// runner's COMMIT: killing it there would leave the outcome unknown).
pub struct Grace<'a> {
    pub extra: Duration,
    /// Whether the child is in that step; asked on every poll once the timeout passed.
    pub applies: &'a dyn Fn(&Process) -> bool,
}

/// What the child wrote, read once it is gone.
#[derive(Debug)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// Whether everything given to [`Process::send_and_close`] was written (`Ok` when
    /// nothing was).
    pub input: io::Result<()>,
}

/// A running child in its own process group.
pub struct Process {
    /// `None` once the child was waited for or killed.
    child: Option<Child>,
    /// Held open until [`Process::finish`] unless closed: EOF tells the child its parent is
    /// done (or died).
    stdin: Option<ChildStdin>,
    writer: Option<JoinHandle<io::Result<()>>>,
    stdout: Drain,
    stderr: Drain,
}

/// Starts `command` with all three streams piped, in a new process group, keeping at most
/// `output_limit` bytes of each of stdout and stderr (the rest is counted, not kept).
pub fn spawn(mut command: Command, output_limit: usize) -> Result<Process, SpawnError> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(SpawnError)?;
    Ok(Process {
        stdin: child.stdin.take(),
        writer: None,
        stdout: Drain::start(child.stdout.take(), output_limit),
        stderr: Drain::start(child.stderr.take(), output_limit),
        child: Some(child),
    })
}

impl Process {
    /// Writes `bytes` to the child's stdin and flushes; stdin stays open. An error means
    /// the child is already gone (its exit status tells why) or stdin was closed.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let pipe = self.stdin.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        pipe.write_all(bytes)?;
        pipe.flush()
    }

    /// Writes `bytes` from a thread and then closes stdin, for a child that reads its input
    /// to the end before it answers: the caller goes on meanwhile, and a large input cannot
    /// deadlock on full pipes. The result is [`Output::input`].
    pub fn send_and_close(&mut self, bytes: Vec<u8>) {
        if let Some(mut pipe) = self.stdin.take() {
            self.writer = Some(thread::spawn(move || pipe.write_all(&bytes)));
        }
    }

    pub fn stdout(&self) -> &Drain {
        &self.stdout
    }

    /// Waits for the child to exit, killing its process group once `timeout` has passed
    /// (plus `grace.extra` while `grace` applies).
    pub fn wait(
        &mut self,
        timeout: Option<Duration>,
        grace: Option<Grace<'_>>,
    ) -> Result<ExitStatus, Stopped> {
        let started = Instant::now();
        // Short polls first so that quick children return quickly; std has no wait with a
        // timeout.
        let mut pause = Duration::from_millis(1);
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err(Stopped::Failed(io::ErrorKind::NotFound.into()));
            };
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return Ok(status);
                }
                Ok(None) => {}
                Err(err) => return Err(Stopped::Failed(err)),
            }
            if let Some(mut limit) = timeout {
                let late = started.elapsed() >= limit;
                let in_grace = late && grace.as_ref().is_some_and(|g| (g.applies)(self));
                if in_grace && let Some(g) = &grace {
                    limit += g.extra;
                }
                let elapsed = started.elapsed();
                if elapsed >= limit {
                    self.kill();
                    return Err(if in_grace {
                        Stopped::KilledInGrace
                    } else {
                        Stopped::TimedOut
                    });
                }
                pause = pause.min(limit - elapsed);
            }
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Closes stdin and returns what the child wrote; call it after [`Process::wait`].
    pub fn finish(mut self) -> Output {
        self.stdin = None;
        let input = match self.writer.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(written)) => written,
            Some(Err(_)) => Err(io::Error::other("the thread writing stdin panicked")),
        };
        let deadline = Instant::now() + PIPE_CLOSE_WAIT;
        Output {
            stdout: std::mem::take(&mut self.stdout).finish(deadline),
            stderr: std::mem::take(&mut self.stderr).finish(deadline),
            input,
        }
    }

    /// Kills the child's process group (so also whatever the child started) and reaps it.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            #[cfg(unix)]
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: kill(2) with a negative pid signals the process group created for
                // this child (process_group(0) made its pid the group id).
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// No return path (an error, a panic in the caller's thread) leaves a child running, e.g.
/// a runner holding the database's write lock.
impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// "exit status: 1", or "killed by signal 9" where `ExitStatus`'s own text would say less.
pub fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

/// One of the child's output pipes, read on its own thread (stdout and stderr must drain
/// concurrently or a chatty child blocks on a full pipe).
#[derive(Default)]
pub struct Drain {
    buffer: Arc<Mutex<Vec<u8>>>,
    /// Signalled when the pipe closed; `None` when there was no pipe.
    done: Option<mpsc::Receiver<()>>,
}

impl Drain {
    fn start<R: Read + Send + 'static>(pipe: Option<R>, limit: usize) -> Drain {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let Some(mut pipe) = pipe else {
            return Drain { buffer, done: None };
        };
        let (tx, rx) = mpsc::channel();
        let shared = Arc::clone(&buffer);
        thread::spawn(move || {
            let mut dropped = 0usize;
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut kept = shared.lock().unwrap_or_else(|e| e.into_inner());
                        if kept.len() < limit {
                            kept.extend_from_slice(&chunk[..n]);
                        } else {
                            dropped += n;
                        }
                    }
                }
            }
            if dropped > 0 {
                let note = format!("\n[... {dropped} more bytes not kept ...]\n");
                shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(note.as_bytes());
            }
            let _ = tx.send(());
        });
        Drain {
            buffer,
            done: Some(rx),
        }
    }

    /// Whether what was read so far contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        let bytes = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// The text read once the pipe closed, or at `deadline`, whichever comes first.
    fn finish(self, deadline: Instant) -> String {
        if let Some(done) = self.done {
            let _ = done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        }
        let bytes = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn spawn_errors_say_not_found_or_not_executable() {
        let err = spawn(Command::new("/nonexistent/program"), 10)
            .err()
            .unwrap();
        assert!(err.is_not_found());
        assert_eq!(err.to_string(), "not found");
        let dir = tempfile::tempdir().unwrap();
        let err = spawn(Command::new(dir.path()), 10).err().unwrap();
        assert!(!err.is_not_found());
        assert_eq!(err.to_string(), "not executable");
    }

    #[test]
    fn input_is_written_and_output_read_up_to_the_limit() {
        let mut child = spawn(sh("cat; head -c 100000 /dev/zero >&2"), 100).unwrap();
        child.send_and_close(b"hello".to_vec());
        assert!(child.wait(None, None).unwrap().success());
        let out = child.finish();
        assert_eq!(out.stdout, "hello");
        assert!(out.input.is_ok());
        // The limit is checked before each read, so one read's worth may go over it.
        assert!(
            out.stderr.len() < 100 + 8192 + 100,
            "{} bytes kept",
            out.stderr.len()
        );
        assert!(out.stderr.contains("more bytes not kept"), "{}", out.stderr);
    }

    #[test]
    fn timeout_kills_the_child_and_a_grace_lets_it_finish() {
        let mut child = spawn(sh("sleep 60"), 100).unwrap();
        let waited = child.wait(Some(Duration::from_millis(100)), None);
        assert!(matches!(waited, Err(Stopped::TimedOut)), "{waited:?}");

        let script = "echo committing; sleep 2; echo done";
        let committing = |p: &Process| p.stdout().contains("committing");
        let mut child = spawn(sh(script), 100).unwrap();
        let grace = Grace {
            extra: Duration::from_secs(60),
            applies: &committing,
        };
        assert!(
            child
                .wait(Some(Duration::from_millis(500)), Some(grace))
                .unwrap()
                .success()
        );
        assert!(child.finish().stdout.contains("done"));

        let mut child = spawn(sh(script), 100).unwrap();
        let grace = Grace {
            extra: Duration::from_millis(100),
            applies: &committing,
        };
        let waited = child.wait(Some(Duration::from_millis(500)), Some(grace));
        assert!(matches!(waited, Err(Stopped::KilledInGrace)), "{waited:?}");
    }

    #[test]
    fn a_signal_is_described_as_such() {
        let mut child = spawn(sh("kill -9 $$"), 100).unwrap();
        let status = child.wait(None, None).unwrap();
        assert_eq!(describe(status), "killed by signal 9");
    }
}
