//! Supervises one long-lived child process, the Python runner ([`super::runner`]) that
//! serves every Python request of a run (migrations, their validation, the lint AST scan):
//! the child gets its own process group; requests go to its stdin, which stays open for
//! as long as the [`Process`] lives (EOF tells the child its parent is done or died); its
//! stdout is read on a thread as lines (the protocol), waited for with a deadline and no
//! polling delay; its stderr is read on another thread into a [`Drain`] that cuts it into
//! one segment per request at a separator and caps each segment. The whole group is
//! killed by [`Process::kill`], or when the [`Process`] is dropped while the child runs.
//!
//! Nothing here knows about Python or about the protocol's messages.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long to wait for the output pipes to deliver what the child wrote before it
/// exited (or before it answered): the reader threads lag a little behind the child.
pub const PIPE_WAIT: Duration = Duration::from_secs(2);

/// The longest stretch [`Process::next`] waits on the stdout lines without looking at the
/// child itself: a child that forked may die while a grandchild keeps stdout open.
const STATUS_POLL: Duration = Duration::from_millis(50);

/// Requests larger than this are written from a thread: a child that reads its input only
/// once it has started up would otherwise block the caller on a full pipe.
const INLINE_WRITE: usize = 32 * 1024;

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

/// What [`Process::next`] saw first.
#[derive(Debug)]
pub enum Event {
    /// A line the child wrote to stdout, without its newline.
    Line(String),
    /// The child is gone; every line it wrote before was returned already.
    Exited(ExitStatus),
}

/// Why [`Process::next`] returned without an [`Event`]. The child still runs in both cases;
/// the caller decides whether to [`Process::kill`] it.
#[derive(Debug)]
pub enum Stopped {
    /// The deadline passed.
    TimedOut,
    /// The child's status could not be read.
    Failed(io::Error),
}

enum Stdin {
    Open(ChildStdin),
    /// A large request is being written from a thread, which hands the pipe back.
    Writing(JoinHandle<(ChildStdin, io::Result<()>)>),
    Closed,
}

/// A running child in its own process group.
pub struct Process {
    /// `None` once the child was reaped or killed.
    child: Option<Child>,
    status: Option<ExitStatus>,
    stdin: Stdin,
    lines: mpsc::Receiver<String>,
    stdout_closed: bool,
    stderr: Drain,
}

/// Starts `command` with all three streams piped, in a new process group. Its stderr is
/// cut at every `separator` (see [`Drain`]), keeping at most `output_limit` bytes of each
/// segment.
pub fn spawn(
    mut command: Command,
    output_limit: usize,
    separator: &'static [u8],
) -> Result<Process, SpawnError> {
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
    let (tx, lines) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        let text = String::from_utf8_lossy(&line).into_owned();
                        if tx.send(text).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
    Ok(Process {
        stdin: child.stdin.take().map_or(Stdin::Closed, Stdin::Open),
        stderr: Drain::start(child.stderr.take(), output_limit, separator),
        lines,
        stdout_closed: false,
        status: None,
        child: Some(child),
    })
}

impl Process {
    /// Writes `bytes` to the child's stdin; stdin stays open. An error means the child is
    /// gone (its exit tells why) or stdin was closed. A large request is written from a
    /// thread, and its error, if any, shows as the child's exit.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut pipe = match std::mem::replace(&mut self.stdin, Stdin::Closed) {
            Stdin::Open(pipe) => pipe,
            Stdin::Writing(writer) => match writer.join() {
                Ok((pipe, Ok(()))) => pipe,
                Ok((_, Err(e))) => return Err(e),
                Err(_) => return Err(io::Error::other("the thread writing stdin panicked")),
            },
            Stdin::Closed => return Err(io::ErrorKind::BrokenPipe.into()),
        };
        if bytes.len() > INLINE_WRITE {
            let bytes = bytes.to_vec();
            self.stdin = Stdin::Writing(thread::spawn(move || {
                let written = pipe.write_all(&bytes).and_then(|()| pipe.flush());
                (pipe, written)
            }));
            return Ok(());
        }
        pipe.write_all(bytes)?;
        pipe.flush()?;
        self.stdin = Stdin::Open(pipe);
        Ok(())
    }

    /// The next line the child wrote to stdout, or its exit once every line was returned.
    /// Wakes as soon as a line arrives; `deadline` bounds the wait.
    pub fn next(&mut self, deadline: Option<Instant>) -> Result<Event, Stopped> {
        let mut pause = Duration::from_millis(1);
        loop {
            let now = Instant::now();
            let left = deadline.map(|d| d.saturating_duration_since(now));
            if !self.stdout_closed {
                let slice = left.map_or(STATUS_POLL, |l| l.min(STATUS_POLL));
                match self.lines.recv_timeout(slice) {
                    Ok(line) => return Ok(Event::Line(line)),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => self.stdout_closed = true,
                }
            }
            if let Some(status) = self.try_status().map_err(Stopped::Failed)? {
                // The reader may still hold lines the child wrote before it exited.
                if !self.stdout_closed {
                    match self.lines.recv_timeout(PIPE_WAIT) {
                        Ok(line) => return Ok(Event::Line(line)),
                        Err(_) => self.stdout_closed = true,
                    }
                }
                return Ok(Event::Exited(status));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Stopped::TimedOut);
            }
            if self.stdout_closed {
                // Stdout closed, the exit status not there yet: it is a moment away.
                let sleep = left.map_or(pause, |l| l.min(pause));
                thread::sleep(sleep);
                pause = (pause * 2).min(STATUS_POLL);
            }
        }
    }

    /// The child's exit status if it has exited (reaping it).
    fn try_status(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let Some(child) = self.child.as_mut() else {
            return Err(io::ErrorKind::NotFound.into());
        };
        let status = child.try_wait()?;
        if status.is_some() {
            self.status = status;
            self.child = None;
        }
        Ok(status)
    }

    /// Whether the child still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.try_status(), Ok(None))
    }

    /// What the child wrote to stderr up to the next separator (see [`Drain::segment`]).
    pub fn stderr(&self) -> &Drain {
        &self.stderr
    }

    /// Closes stdin (the child's cue to exit) and waits up to `wait` for it to go; kills
    /// its process group after that.
    pub fn close(mut self, wait: Duration) {
        if let Stdin::Writing(writer) = std::mem::replace(&mut self.stdin, Stdin::Closed) {
            let _ = writer.join();
        }
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match self.try_status() {
                Ok(None) => thread::sleep(Duration::from_millis(2)),
                _ => return,
            }
        }
        // Drop kills the group.
    }

    /// Kills the child's process group (so also whatever the child started) and reaps it.
    pub fn kill(&mut self) {
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
            if let Ok(status) = child.wait() {
                self.status = Some(status);
            }
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

/// The child's stderr, read on its own thread (stdout and stderr must drain concurrently
/// or a chatty child blocks on a full pipe) and cut into segments at a separator the
/// child writes after each request. Each segment keeps at most `limit` bytes; the rest is
/// counted, not kept.
pub struct Drain {
    shared: Arc<(Mutex<Segments>, Condvar)>,
}

#[derive(Default)]
struct Segments {
    done: VecDeque<String>,
    current: Vec<u8>,
    dropped: usize,
    /// The pipe closed (or there was none).
    closed: bool,
}

impl Segments {
    fn push(&mut self, bytes: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.current.len()).min(bytes.len());
        self.current.extend_from_slice(&bytes[..room]);
        self.dropped += bytes.len() - room;
    }

    fn cut(&mut self) -> String {
        let mut text = String::from_utf8_lossy(&self.current).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!(
                "\n[... {} more bytes not kept ...]\n",
                self.dropped
            ));
        }
        self.current.clear();
        self.dropped = 0;
        text
    }
}

impl Drain {
    fn start<R: Read + Send + 'static>(
        pipe: Option<R>,
        limit: usize,
        separator: &'static [u8],
    ) -> Drain {
        assert!(
            !separator.is_empty() && !separator[1..].contains(&separator[0]),
            "the separator's first byte must not occur again in it"
        );
        let shared = Arc::new((Mutex::new(Segments::default()), Condvar::new()));
        let Some(mut pipe) = pipe else {
            shared.0.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
            return Drain { shared };
        };
        let state = Arc::clone(&shared);
        thread::spawn(move || {
            let (lock, signal) = &*state;
            // How much of the separator the bytes read so far end with.
            let mut matched = 0usize;
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let n = match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
                let mut rest = &chunk[..n];
                while !rest.is_empty() {
                    if matched == 0 {
                        // Copy up to the next possible start of a separator in one go.
                        let start = rest
                            .iter()
                            .position(|&b| b == separator[0])
                            .unwrap_or(rest.len());
                        s.push(&rest[..start], limit);
                        rest = &rest[start..];
                        if rest.is_empty() {
                            break;
                        }
                    }
                    if rest[0] == separator[matched] {
                        matched += 1;
                        rest = &rest[1..];
                        if matched == separator.len() {
                            matched = 0;
                            let text = s.cut();
                            s.done.push_back(text);
                            signal.notify_all();
                        }
                    } else {
                        // Not a separator after all: what looked like its start is output.
                        s.push(&separator[..matched], limit);
                        matched = 0;
                    }
                }
            }
            let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
            s.push(&separator[..matched], limit);
            s.closed = true;
            signal.notify_all();
        });
        Drain { shared }
    }

    /// The next complete segment, waiting for it until `deadline` or until the pipe
    /// closed; then whatever was read of the current one.
    pub fn segment(&self, deadline: Instant) -> String {
        let (lock, signal) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(text) = s.done.pop_front() {
                return text;
            }
            let now = Instant::now();
            if s.closed || now >= deadline {
                return s.cut();
            }
            s = signal
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Everything read so far and until the pipe closes or `deadline` passes: the output
    /// of a child that died in the middle of a request.
    pub fn rest(&self, deadline: Instant) -> String {
        let (lock, signal) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !s.closed {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            s = signal
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let mut text: String = s.done.drain(..).collect();
        text.push_str(&s.cut());
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEP: &[u8] = b"\x1e--\x1f\n";

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[test]
    fn spawn_errors_say_not_found_or_not_executable() {
        let err = spawn(Command::new("/nonexistent/program"), 10, SEP)
            .err()
            .unwrap();
        assert!(err.is_not_found());
        assert_eq!(err.to_string(), "not found");
        let dir = tempfile::tempdir().unwrap();
        let err = spawn(Command::new(dir.path()), 10, SEP).err().unwrap();
        assert!(!err.is_not_found());
        assert_eq!(err.to_string(), "not executable");
    }

    #[test]
    fn requests_and_answers_are_lines_and_stderr_is_cut_per_request() {
        let script = r#"while read -r line; do
            printf 'out of %s' "$line" >&2; printf '\036--\037\n' >&2; echo "answer $line"
        done"#;
        let mut child = spawn(sh(script), 100, SEP).unwrap();
        for n in 1..=3 {
            child.send(format!("{n}\n").as_bytes()).unwrap();
            match child.next(Some(soon())).unwrap() {
                Event::Line(l) => assert_eq!(l, format!("answer {n}")),
                other => panic!("{other:?}"),
            }
            assert_eq!(child.stderr().segment(soon()), format!("out of {n}"));
        }
        // A large request goes through a writer thread and still arrives whole.
        let big = format!("{}\n", "x".repeat(INLINE_WRITE * 4));
        child.send(big.as_bytes()).unwrap();
        match child.next(Some(soon())).unwrap() {
            Event::Line(l) => assert_eq!(l.len(), "answer ".len() + INLINE_WRITE * 4),
            other => panic!("{other:?}"),
        }
        let segment = child.stderr().segment(soon());
        assert!(segment.contains("more bytes not kept"), "{segment}");
        child.close(Duration::from_secs(5));
    }

    #[test]
    fn a_separator_split_across_reads_or_started_twice_is_still_found() {
        let script =
            r#"printf 'a\036-' >&2; sleep 0.2; printf '%s\037\nb\036\036--\037\n' - >&2; sleep 5"#;
        let child = spawn(sh(script), 100, SEP).unwrap();
        assert_eq!(child.stderr().segment(soon()), "a");
        assert_eq!(child.stderr().segment(soon()), "b\u{1e}");
    }

    #[test]
    fn lines_written_before_the_exit_come_before_it() {
        let mut child = spawn(sh("echo one; echo two >&2; exit 7"), 100, SEP).unwrap();
        match child.next(Some(soon())).unwrap() {
            Event::Line(l) => assert_eq!(l, "one"),
            other => panic!("{other:?}"),
        }
        match child.next(Some(soon())).unwrap() {
            Event::Exited(status) => assert_eq!(status.code(), Some(7)),
            other => panic!("{other:?}"),
        }
        assert_eq!(child.stderr().rest(soon()), "two\n");
    }

    #[test]
    fn a_deadline_returns_and_kill_takes_the_group_down() {
        let mut child = spawn(sh("sleep 60 & wait"), 100, SEP).unwrap();
        let started = Instant::now();
        let waited = child.next(Some(Instant::now() + Duration::from_millis(100)));
        assert!(matches!(waited, Err(Stopped::TimedOut)), "{waited:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(child.is_running());
        child.kill();
        assert!(!child.is_running());
    }

    #[test]
    fn a_signal_is_described_as_such() {
        let mut child = spawn(sh("kill -9 $$"), 100, SEP).unwrap();
        match child.next(Some(soon())).unwrap() {
            Event::Exited(status) => assert_eq!(describe(status), "killed by signal 9"),
            other => panic!("{other:?}"),
        }
    }
}
