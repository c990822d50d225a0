"""schemagate's Python migration runner (embedded in the binary; see BOOTSTRAP in runner.rs).

Protocol with the Rust side (src/pyrunner/runner.rs):
* stdin: the job, one JSON line. The Rust side then keeps the pipe open until this process
  exits, so EOF on stdin means the parent died: the watchdog thread exits at once, before
  anything can be committed.
* stdout: JSON lines: `{"phase": "commit"}` right before COMMIT, and the result, written
  last. Before the migration is imported, fd 1 is moved to a private descriptor and fd 1
  (and `sys.stdout`) point to stderr, so whatever the migration or its subprocesses print
  cannot be mistaken for the result.
* stderr: the migration's output, returned to the caller as `RunOutput.output`.

Only the standard library is used: this runs on whatever interpreter the project uses.
"""

import importlib.util
import io
import json
import os
import re
import signal
import sqlite3
import sys
import threading
import time
import traceback

RUNNER_FILE = sys._getframe().f_code.co_filename

SQLITE_OK = 0
SQLITE_DENY = getattr(sqlite3, "SQLITE_DENY", 1)
SQLITE_TRANSACTION = getattr(sqlite3, "SQLITE_TRANSACTION", 22)


class MigrationAborted(Exception):
    """The migration asked for something that would break its atomicity."""


class Guard:
    """Shared state between the connection, its cursors and the authorizer."""

    def __init__(self, migration_file):
        self.migration_file = migration_file
        self.enabled = False
        self.denied = []
        self.abort_reason = None
        self.warnings = []
        self._seen = set()

    def authorize(self, action, arg1, arg2, dbname, source):
        if not self.enabled:
            return SQLITE_OK
        if action == SQLITE_TRANSACTION:
            self.denied.append(arg1 or "transaction control")
            if (arg1 or "").upper() == "ROLLBACK":
                self.abort(
                    "the migration ran ROLLBACK: schemagate cannot roll back part of a "
                    "migration, so the whole migration was rolled back"
                )
            return SQLITE_DENY
        return SQLITE_OK

    def abort(self, reason):
        if self.abort_reason is None:
            self.abort_reason = reason

    def call_site(self):
        """`file:line` of the innermost frame in the migration file, for warnings."""
        for frame in reversed(traceback.extract_stack()):
            if frame.filename == self.migration_file:
                return "%s:%d" % (os.path.basename(frame.filename), frame.lineno)
        return os.path.basename(self.migration_file)

    def warn(self, text):
        message = "%s: %s" % (self.call_site(), text)
        if message not in self._seen:
            self._seen.add(message)
            self.warnings.append(message)


_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))*", re.S)


def _first_word(statement):
    rest = statement[_LEADING_NOISE.match(statement).end():]
    match = re.match(r"[A-Za-z]+", rest)
    if not match:
        return "", ""
    after = rest[match.end():]
    second = re.match(r"\s*([A-Za-z]*)", after).group(1)
    return match.group(0).upper(), second.upper()


def split_script(script):
    """Statements of a script, split where SQLite itself sees a complete statement."""
    statements = []
    parts = script.split(";")
    buffer = ""
    for index, part in enumerate(parts):
        buffer += part
        if index == len(parts) - 1:
            break
        buffer += ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer)
            buffer = ""
    if buffer.strip():
        statements.append(buffer)
    return statements


def run_script(guard, cursor, script):
    """executescript() inside the migration's transaction.

    sqlite3's own executescript() COMMITs first and runs the script in autocommit mode, so
    a failure half-way would leave half a migration behind. Here every statement runs with
    execute() in the current transaction. BEGIN/COMMIT/END in the script (legacy scripts
    wrapped themselves in a transaction) are skipped: the migration is already one
    transaction that commits with its history row. ROLLBACK aborts the migration.
    """
    if not isinstance(script, str):
        raise TypeError("executescript() argument must be str, not %s" % type(script).__name__)
    for statement in split_script(script):
        first, second = _first_word(statement)
        if first in ("BEGIN", "COMMIT", "END"):
            guard.warn(
                "%s inside executescript() skipped: the migration runs in one transaction "
                "that schemagate commits with its history row" % first
            )
            continue
        if first == "ROLLBACK" and second != "TO":
            guard.abort(
                "ROLLBACK inside executescript(): schemagate cannot roll back part of a "
                "migration, so the whole migration was rolled back"
            )
            raise MigrationAborted(guard.abort_reason)
        sqlite3.Cursor.execute(cursor, statement)
    return cursor


def _check_transaction(guard, connection):
    # A statement run after the transaction ended (an I/O error may end it) would be
    # autocommitted on its own: refuse it rather than commit part of the migration.
    if guard is not None and guard.enabled and not connection.in_transaction:
        guard.abort("the migration's transaction ended unexpectedly")
        raise MigrationAborted(
            "the migration's transaction ended unexpectedly (after an earlier error?); "
            "nothing more is run and the migration is rolled back"
        )


class MigrationCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        _check_transaction(self.connection._guard, self.connection)
        return sqlite3.Cursor.execute(self, sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        _check_transaction(self.connection._guard, self.connection)
        return sqlite3.Cursor.executemany(self, sql, seq_of_parameters)

    def executescript(self, sql_script):
        _check_transaction(self.connection._guard, self.connection)
        return run_script(self.connection._guard, self, sql_script)


class MigrationConnection(sqlite3.Connection):
    """The `conn` a migration gets: one transaction that only schemagate ends.

    sqlite3.Connection.execute() does not go through cursor(), so execute, executemany and
    executescript are overridden here as well as on the cursor.
    """

    _guard = None

    def cursor(self, factory=MigrationCursor):
        return sqlite3.Connection.cursor(self, factory)

    def execute(self, sql, parameters=()):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, sql_script):
        return self.cursor().executescript(sql_script)

    def commit(self):
        # The legacy template ends upgrade() with conn.commit(): keep it working, but the
        # real COMMIT comes later, together with the history row.
        if self._guard is not None and self._guard.enabled:
            self._guard.warn(
                "conn.commit() ignored: schemagate commits the migration together with "
                "its history row"
            )
            return None
        return sqlite3.Connection.commit(self)

    def rollback(self):
        # A real ROLLBACK would end the transaction and let the rest of the migration
        # autocommit statement by statement; a silent no-op would commit work the
        # migration meant to throw away. Neither is atomic, so the migration is aborted
        # (everything is rolled back), even if the migration catches this exception.
        if self._guard is not None and self._guard.enabled:
            self._guard.abort(
                "the migration called conn.rollback(): schemagate cannot roll back part "
                "of a migration, so the whole migration was rolled back"
            )
            raise MigrationAborted(self._guard.abort_reason)
        return sqlite3.Connection.rollback(self)

    def close(self):
        if self._guard is not None and self._guard.enabled:
            self._guard.warn("conn.close() ignored: schemagate closes the connection")
            return None
        return sqlite3.Connection.close(self)

    def __exit__(self, exc_type, exc_value, exc_tb):
        # `with conn:` commits on success (ignored, as commit()) and rolls back on an
        # exception, which we can only honour by rolling back the whole migration.
        if self._guard is not None and self._guard.enabled:
            if exc_type is not None:
                self._guard.abort(
                    "a `with conn:` block ended with %s, which rolls back in sqlite3: "
                    "schemagate cannot roll back part of a migration, so the whole "
                    "migration was rolled back" % exc_type.__name__
                )
            return False
        return sqlite3.Connection.__exit__(self, exc_type, exc_value, exc_tb)


class Failure(Exception):
    """A failure the runner describes itself (no exception of the migration behind it)."""

    def __init__(self, message, line=None):
        Exception.__init__(self, message)
        self.message = message
        self.line = line


# --- process plumbing -------------------------------------------------------------------


def read_job():
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(0, 65536)
        if not chunk:
            break
        data += chunk
    if not data.strip():
        # No job means the parent is gone already.
        os._exit(3)
    return json.loads(data.decode("utf-8"))


def isolate_stdio():
    """Keep fd 0 and fd 1 for the protocol; give the migration /dev/null and stderr."""
    watch_fd = os.dup(0)  # os.dup() is non-inheritable: subprocesses never hold the pipe
    result_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = io.TextIOWrapper(
        os.fdopen(1, "wb", 0, closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    sys.stderr = io.TextIOWrapper(
        os.fdopen(2, "wb", 0, closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    return watch_fd, result_fd


def die_with_parent(watch_fd, parent_pid):
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except Exception:
            pass  # the stdin watchdog and the ppid checks still apply

    def watch():
        try:
            while os.read(watch_fd, 4096):
                pass
        except OSError:
            pass
        os._exit(3)

    thread = threading.Thread(target=watch, name="schemagate-parent-watchdog")
    thread.daemon = True
    thread.start()
    # The parent may have died before prctl took effect.
    if parent_pid and os.getppid() != parent_pid:
        os._exit(3)


def write_line(result_fd, result):
    data = (json.dumps(result) + "\n").encode("utf-8")
    while data:
        written = os.write(result_fd, data)
        data = data[written:]


# --- failures ---------------------------------------------------------------------------


def exception_name(exc):
    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__ not in ("builtins", "__main__"):
        name = "%s.%s" % (cls.__module__, name)
    return name


def migration_frames(tb):
    frames = traceback.extract_tb(tb)
    return [
        f
        for f in frames
        if f.filename != RUNNER_FILE and not f.filename.startswith("<frozen importlib")
    ]


def describe(exc, guard, migration_file):
    """(message, line in the migration file, formatted traceback) for an exception."""
    frames = migration_frames(exc.__traceback__)
    line = None
    for frame in frames:
        if frame.filename == migration_file:
            line = frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename == migration_file:
        line = exc.lineno
        text = exc.msg
    else:
        text = str(exc)
    message = "%s: %s" % (exception_name(exc), text) if text else exception_name(exc)
    if isinstance(exc, MigrationAborted):
        message = text
    elif isinstance(exc, sqlite3.DatabaseError) and "not authorized" in text and guard.denied:
        op = guard.denied[-1].upper()
        message = (
            "%s: the migration ran %s itself, which schemagate does not allow: each "
            "migration runs in one transaction that schemagate commits together with its "
            "history row. Remove the %s (a plain conn.commit() is accepted and ignored)"
            % (message, op, op)
        )
    elif isinstance(exc, sqlite3.OperationalError) and "database is locked" in text:
        message = (
            "%s: the migration probably opened its own connection to the database "
            "(sqlite3.connect). schemagate holds the write lock for the migration's "
            "transaction, so a second connection waits its own timeout and fails: use the conn "
            "passed to the migration function instead" % message
        )
    lines = ["Traceback (most recent call last):\n"]
    lines.extend(traceback.format_list(frames))
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return message, line, "".join(lines)


def function_line(module, name):
    fn = getattr(module, name, None)
    code = getattr(fn, "__code__", None)
    return getattr(code, "co_firstlineno", None)


# --- the job ----------------------------------------------------------------------------


def load_module(path, display):
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise Failure("%s: cannot be loaded as a Python module" % display)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def find_function(module, direction, display):
    name = "upgrade" if direction == "upgrade" else "downgrade"
    fn = getattr(module, name, None)
    if callable(fn):
        return fn
    legacy = "migrate" if name == "upgrade" else "rollback"
    if callable(getattr(module, legacy, None)):
        raise Failure(
            "%s defines %s() but no %s(conn): rename %s to %s(conn)"
            % (display, legacy, name, legacy, name),
            function_line(module, legacy),
        )
    if fn is not None:
        raise Failure("%s: %s is not a function" % (display, name))
    raise Failure("%s defines no %s(conn) function" % (display, name))


def description_of(module, version):
    # As the legacy manager: getattr(module, "DESCRIPTION", "Python Migration NNN").
    value = getattr(module, "DESCRIPTION", "Python Migration %s" % version)
    if value is None:
        return "Python Migration %s" % version
    return value if isinstance(value, str) else str(value)


def connect(job, guard):
    path = os.path.abspath(job["db"])
    if not os.path.exists(path):
        raise Failure("database %s does not exist" % job["db"])
    uri = "file:%s?mode=rw" % _uri_path(path)
    conn = sqlite3.connect(
        uri,
        uri=True,
        timeout=float(job["busy_timeout"]),
        isolation_level=None,
        factory=MigrationConnection,
    )
    conn._guard = guard
    conn.set_authorizer(guard.authorize)
    return conn


def _uri_path(path):
    from urllib.parse import quote

    return quote(path, safe="/")


def begin(conn, busy_timeout):
    try:
        sqlite3.Connection.execute(conn, "BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise Failure(
                "could not start the migration's write transaction: another connection "
                "held the database's write lock for more than %g s (busy timeout); "
                "stop the writer or raise the busy timeout" % busy_timeout
            )
        raise


def record(conn, statements, description):
    for statement in statements:
        params = dict(statement.get("params") or {})
        params.setdefault("description", description)
        try:
            sqlite3.Connection.execute(conn, statement["sql"], params)
        except sqlite3.Error as exc:
            raise Failure(
                "recording the migration failed: %s: %s (statement: %s)"
                % (exception_name(exc), exc, statement["sql"].strip())
            )


def finish(conn, job, result_fd):
    if not job["commit"]:
        sqlite3.Connection.execute(conn, "ROLLBACK")
        return
    parent = job.get("parent_pid")
    if parent and os.getppid() != parent:
        # The deploy that started us is gone and may have been reported as failed.
        os._exit(3)
    # Tells the Rust side not to kill us for the timeout now: the outcome would be unknown.
    write_line(result_fd, {"phase": "commit"})
    try:
        sqlite3.Connection.execute(conn, "COMMIT")
    except sqlite3.Error as exc:
        hint = ""
        if "locked" in str(exc) or "busy" in str(exc):
            hint = (
                " (in rollback-journal mode a long-running reader can hold the database "
                "past the busy timeout of %g s)" % float(job["busy_timeout"])
            )
        raise Failure("COMMIT failed: %s: %s%s" % (exception_name(exc), exc, hint))


def rollback_quietly(conn):
    if conn is None:
        return
    try:
        if conn.in_transaction:
            sqlite3.Connection.execute(conn, "ROLLBACK")
    except Exception:
        pass  # the process exits next; SQLite rolls back an unfinished transaction


def run(job, result_fd):
    migration_file = os.path.abspath(job["file"])
    display = job.get("display") or job["file"]
    busy_timeout = float(job["busy_timeout"])
    guard = Guard(migration_file)
    conn = None
    started = time.monotonic()
    try:
        module = load_module(migration_file, display)
        fn = find_function(module, job["direction"], display)
        description = description_of(module, job["version"])
        if job.get("db") is None:
            # Validation only: the module imports and defines the function.
            return {"ok": True, "description": description, "warnings": []}
        conn = connect(job, guard)
        begin(conn, busy_timeout)
        guard.enabled = True
        try:
            fn(conn)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        if guard.abort_reason:
            raise Failure(guard.abort_reason)
        if not conn.in_transaction:
            raise Failure(
                "the migration's transaction ended before the migration finished; "
                "schemagate cannot tell what was committed: check the database"
            )
        record(conn, job.get("record") or [], description)
        guard.enabled = False
        finish(conn, job, result_fd)
        conn_close(conn)
        return {
            "ok": True,
            "description": description,
            "warnings": guard.warnings,
            "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version,
            "seconds": time.monotonic() - started,
        }
    except Failure as exc:
        guard.enabled = False
        rollback_quietly(conn)
        return {"ok": False, "message": exc.message, "line": exc.line, "traceback": ""}
    except BaseException as exc:
        guard.enabled = False
        rollback_quietly(conn)
        message, line, formatted = describe(exc, guard, migration_file)
        if guard.abort_reason and not isinstance(exc, MigrationAborted):
            message = "%s (%s)" % (message, guard.abort_reason)
        return {"ok": False, "message": message, "line": line, "traceback": formatted}


def conn_close(conn):
    try:
        sqlite3.Connection.close(conn)
    except Exception:
        pass


def main():
    job = read_job()
    watch_fd, result_fd = isolate_stdio()
    die_with_parent(watch_fd, job.get("parent_pid"))
    result = run(job, result_fd)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    write_line(result_fd, result)
    # os._exit: no interpreter shutdown work (atexit hooks, threads of the migration) can
    # change the outcome or hang after the result is written.
    os._exit(0 if result.get("ok") else 1)


main()
