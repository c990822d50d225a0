"""schemagate's Python runner (embedded in the binary; see BOOTSTRAP in runner.rs).

One process serves every Python request of a schemagate run, one at a time: importing
(validating) migrations, running them, and the lint AST scan. Each migration still gets
its own module namespace, its own connection, its own `BEGIN IMMEDIATE` ... history row
... `COMMIT`, and its own environment variables and output.

Protocol with the Rust side (src/pyrunner/runner.rs):
* stdin: requests, one JSON line each, with an "id" and an "op" ("run", "validate",
  "scan"). A thread reads them. schemagate keeps the pipe open for as long as it lives, so
  EOF on stdin means schemagate is gone: the process exits at once, whatever it is doing,
  before anything can be committed. On Linux it also has `PR_SET_PDEATHSIG`, and it checks
  its parent right before each COMMIT.
* result channel: the original fd 1, moved to a private descriptor before any migration
  is imported, so nothing a migration or its subprocesses print can be taken for it. JSON
  lines: a hello first (interpreter, SQLite, `sys.executable`), then per request
  `{"id", "phase": "start"}` when it begins, `{"id", "phase": "commit"}` right before
  COMMIT (a timeout then waits for the COMMIT rather than leave its outcome unknown) and
  the result, written last.
* stderr: fd 1, fd 2, `sys.stdout` and `sys.stderr` of whatever a request runs. After each
  request the runner writes SEPARATOR there, so the Rust side can cut the stream into the
  output of each migration.

Only the standard library is used: this runs on whatever interpreter the project uses.
"""

import importlib.util
import io
import json
import os
import queue
import re
import signal
import sys
import threading
import time
import traceback

try:
    import sqlite3
except ImportError as _exc:  # a Python built without _sqlite3 can still lint
    sqlite3 = None
    SQLITE_MISSING = "%s: %s" % (type(_exc).__name__, _exc)
else:
    SQLITE_MISSING = None

RUNNER_FILE = sys._getframe().f_code.co_filename

# Must match SEPARATOR in runner.rs. Its first byte occurs nowhere else in it, which the
# Rust side's streaming match relies on.
SEPARATOR = b"\x1eschemagate:end-of-request\x1f\n"

SQLITE_OK = 0
SQLITE_DENY = getattr(sqlite3, "SQLITE_DENY", 1)
SQLITE_TRANSACTION = getattr(sqlite3, "SQLITE_TRANSACTION", 22)

# Actions that write to a table, with the position of the table name among the
# authorizer's two arguments.
_WRITES = {
    getattr(sqlite3, "SQLITE_INSERT", 18): ("INSERT INTO", 0),
    getattr(sqlite3, "SQLITE_UPDATE", 23): ("UPDATE", 0),
    getattr(sqlite3, "SQLITE_DELETE", 9): ("DELETE FROM", 0),
    getattr(sqlite3, "SQLITE_DROP_TABLE", 11): ("DROP TABLE", 0),
    getattr(sqlite3, "SQLITE_ALTER_TABLE", 26): ("ALTER TABLE", 1),
    getattr(sqlite3, "SQLITE_CREATE_TRIGGER", 7): ("CREATE TRIGGER ON", 1),
    getattr(sqlite3, "SQLITE_CREATE_TEMP_TRIGGER", 5): ("CREATE TRIGGER ON", 1),
    getattr(sqlite3, "SQLITE_DROP_TRIGGER", 16): ("DROP TRIGGER ON", 1),
    # A temporary table or view of that name would hide the real one from the history row.
    getattr(sqlite3, "SQLITE_CREATE_TEMP_TABLE", 4): ("CREATE TEMP TABLE", 0),
    getattr(sqlite3, "SQLITE_CREATE_TEMP_VIEW", 6): ("CREATE TEMP VIEW", 0),
}


def is_protected_table(name):
    """schemagate's own tables (see is_protected_table in src/apply/guard.rs)."""
    lowered = (name or "").lower()
    return lowered == "schema_versions" or lowered.startswith("schemagate_")


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
        write = _WRITES.get(action)
        # VACUUM copies every table into a database of its own ("vacuum_db"); an attached
        # database is not the one schemagate records in.
        if write is not None and dbname in (None, "main", "temp"):
            table = (arg1, arg2)[write[1]]
            if is_protected_table(table):
                # Aborted even if the migration catches the error: the history must stay
                # what schemagate wrote.
                self.abort(
                    "the migration tried to %s %s, which schemagate does not allow: "
                    "migrations may not write schemagate's own tables (schema_versions, "
                    "schemagate_*)" % (write[0], table)
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


_CursorBase = sqlite3.Cursor if sqlite3 else object
_ConnectionBase = sqlite3.Connection if sqlite3 else object


class MigrationCursor(_CursorBase):
    def execute(self, sql, parameters=()):
        _check_transaction(self.connection._guard, self.connection)
        return sqlite3.Cursor.execute(self, sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        _check_transaction(self.connection._guard, self.connection)
        return sqlite3.Cursor.executemany(self, sql, seq_of_parameters)

    def executescript(self, sql_script):
        _check_transaction(self.connection._guard, self.connection)
        return run_script(self.connection._guard, self, sql_script)


class MigrationConnection(_ConnectionBase):
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
    """A failure the runner describes itself (no exception of the migration behind it).

    `kind` "environment": the database or the machine stopped it (a lock held past the
    busy timeout, a full disk), not the migration's code; the Rust side exits 2 for those,
    as for SQL migrations."""

    def __init__(self, message, line=None, kind="failed"):
        Exception.__init__(self, message)
        self.message = message
        self.line = line
        self.kind = kind


# --- process plumbing -------------------------------------------------------------------


def isolate_stdio():
    """Keep fd 0 and fd 1 for the protocol; give the migrations /dev/null and stderr."""
    request_fd = os.dup(0)  # os.dup() is non-inheritable: subprocesses never hold the pipe
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
    return request_fd, result_fd


def die_with_parent(parent_pid):
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except Exception:
            pass  # the stdin watchdog and the ppid checks still apply
    # The parent may have died before prctl took effect.
    if parent_pid and os.getppid() != parent_pid:
        os._exit(3)


def read_requests(request_fd):
    """A queue of request lines, filled by a thread that exits the process on EOF."""
    requests = queue.Queue()

    def read():
        pending = bytearray()
        while True:
            try:
                chunk = os.read(request_fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                # schemagate closed the pipe or died: nothing may be committed from here on.
                os._exit(3)
            start = len(pending)
            pending += chunk
            end = pending.find(b"\n", start)
            while end >= 0:
                line = bytes(pending[:end])
                del pending[: end + 1]
                if line.strip():
                    requests.put(line)
                end = pending.find(b"\n")

    thread = threading.Thread(target=read, name="schemagate-requests")
    thread.daemon = True
    thread.start()
    return requests


def write_line(result_fd, result):
    data = (json.dumps(result) + "\n").encode("utf-8")
    while data:
        written = os.write(result_fd, data)
        data = data[written:]


def flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


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


def is_busy(exc):
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
    text = str(exc)
    return "locked" in text or "busy" in text


def is_environment(exc):
    """A full disk or a failing device: not the migration's fault (SQL: exit 2 too)."""
    if sqlite3 is None or not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (10, 13)  # SQLITE_IOERR, SQLITE_FULL
    text = str(exc)
    return "disk I/O error" in text or "database or disk is full" in text


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
    elif (
        isinstance(exc, sqlite3.DatabaseError)
        and "not authorized" in text
        and guard.abort_reason
        and guard.abort_reason.startswith("the migration tried to")
    ):
        message = "%s: %s" % (message, guard.abort_reason)
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


# --- migrations -------------------------------------------------------------------------

# Validation and the run import the same text: compile it once.
_compiled = {}


def compiled(path, source):
    key = (path, source)
    code = _compiled.get(key)
    if code is None:
        text = source[1:] if source.startswith("\ufeff") else source
        code = compile(text, path, "exec", dont_inherit=True)
        _compiled[key] = code
    return code


def load_module(path, display, source):
    """A fresh module for the migration, executed from `source`: the text schemagate read
    and checksummed, so the code that runs is the code that is recorded."""
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise Failure("%s: cannot be loaded as a Python module" % display)
    module = importlib.util.module_from_spec(spec)
    if source is None:
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    code = compiled(path, source)
    # In sys.modules while it runs, as the importer does (dataclasses, pickling and
    # `import <itself>` look it up there); removed after the request.
    sys.modules[name] = module
    exec(code, module.__dict__)
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
        if is_busy(exc):
            # The words of the SQL path (src/apply/step.rs), and exit 2 like it.
            raise Failure(
                "the database stayed write-locked by another connection for more than "
                "%g s; nothing of this migration was applied (retry, or raise "
                "--busy-timeout)" % busy_timeout,
                kind="environment",
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
                % (exception_name(exc), exc, statement["sql"].strip()),
                kind="environment" if is_environment(exc) else "failed",
            )


# COMMIT attempts on BUSY, as the SQL path (src/apply/step.rs): in rollback-journal mode an
# open reader blocks COMMIT, each attempt waits the busy timeout, and the transaction stays
# active in between.
COMMIT_ATTEMPTS = 3


def finish(conn, job, result_fd, parent_pid):
    if not job["commit"]:
        sqlite3.Connection.execute(conn, "ROLLBACK")
        return
    if parent_pid and os.getppid() != parent_pid:
        # The deploy that started us is gone and may have been reported as failed.
        os._exit(3)
    # Tells the Rust side not to kill us for the timeout now: the outcome would be unknown.
    write_line(result_fd, {"id": job.get("id"), "phase": "commit"})
    last = None
    for _ in range(COMMIT_ATTEMPTS):
        try:
            sqlite3.Connection.execute(conn, "COMMIT")
            return
        except sqlite3.Error as exc:
            if not (is_busy(exc) and conn.in_transaction):
                raise Failure(
                    "COMMIT failed: %s: %s; rolled back" % (exception_name(exc), exc),
                    kind="environment" if is_environment(exc) else "failed",
                )
            last = exc
    raise Failure(
        "COMMIT stayed blocked by another connection (%s), probably a long reader in "
        "rollback-journal mode; rolled back, nothing of this migration was applied" % last,
        kind="environment",
    )


def rollback_quietly(conn):
    if conn is None:
        return
    try:
        if conn.in_transaction:
            sqlite3.Connection.execute(conn, "ROLLBACK")
    except Exception:
        pass  # the connection is closed next; SQLite rolls back an unfinished transaction


def conn_close(conn):
    if conn is None:
        return
    try:
        sqlite3.Connection.close(conn)
    except Exception:
        pass


def run(job, result_fd, parent_pid):
    migration_file = os.path.abspath(job["file"])
    display = job.get("display") or job["file"]
    busy_timeout = float(job.get("busy_timeout") or 0)
    guard = Guard(migration_file)
    conn = None
    started = time.monotonic()
    if sqlite3 is None:
        return {"ok": False, "kind": "interpreter", "message": SQLITE_MISSING}
    try:
        module = load_module(migration_file, display, job.get("source"))
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
            flush_output()
        if guard.abort_reason:
            raise Failure(guard.abort_reason)
        if not conn.in_transaction:
            raise Failure(
                "the migration's transaction ended before the migration finished; "
                "schemagate cannot tell what was committed: check the database"
            )
        guard.enabled = False
        record(conn, job.get("record") or [], description)
        finish(conn, job, result_fd, parent_pid)
        return {
            "ok": True,
            "description": description,
            "warnings": guard.warnings,
            "seconds": time.monotonic() - started,
        }
    except Failure as exc:
        guard.enabled = False
        rollback_quietly(conn)
        return {
            "ok": False,
            "kind": exc.kind,
            "message": exc.message,
            "line": exc.line,
            "traceback": "",
        }
    except BaseException as exc:
        guard.enabled = False
        rollback_quietly(conn)
        message, line, formatted = describe(exc, guard, migration_file)
        if guard.abort_reason and not isinstance(exc, MigrationAborted):
            if guard.abort_reason not in message:
                message = "%s (%s)" % (message, guard.abort_reason)
        return {
            "ok": False,
            "kind": "environment" if is_environment(exc) else "failed",
            "message": message,
            "line": line,
            "traceback": formatted,
        }
    finally:
        conn_close(conn)


# --- the lint scan ----------------------------------------------------------------------


def scan(request):
    """Runs scan.py (sent as `source`) as its own __main__, with `input` as its stdin;
    returns what it printed."""
    stdin = io.TextIOWrapper(io.BytesIO(request["input"].encode("utf-8")), encoding="utf-8")
    captured = io.BytesIO()
    stdout = io.TextIOWrapper(captured, encoding="utf-8")
    saved = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = stdin, stdout
    try:
        code = compile(request["source"], "<schemagate-scan>", "exec", dont_inherit=True)
        exec(code, {"__name__": "__main__", "__file__": "<schemagate-scan>"})
        stdout.flush()
    except BaseException as exc:
        return {"ok": False, "message": "%s: %s" % (exception_name(exc), exc)}
    finally:
        sys.stdin, sys.stdout = saved
    return {"ok": True, "output": captured.getvalue().decode("utf-8")}


# --- one request ------------------------------------------------------------------------


class Isolated:
    """What one request may change and the next must not see: the environment variables
    (the request's are set for it), the working directory, sys.path, the standard streams
    (and, in handle(), the migration's module)."""

    def __init__(self, env):
        self.env = env or {}

    def __enter__(self):
        self.saved_env = dict(os.environ)
        for key, value in self.env.items():
            os.environ[key] = value
        self.cwd = os.getcwd()
        self.path = list(sys.path)
        self.streams = sys.stdin, sys.stdout, sys.stderr
        return self

    def __exit__(self, *exc):
        flush_output()
        sys.stdin, sys.stdout, sys.stderr = self.streams
        if os.environ != self.saved_env:
            for key in [k for k in os.environ if k not in self.saved_env]:
                del os.environ[key]
            for key, value in self.saved_env.items():
                if os.environ.get(key) != value:
                    os.environ[key] = value
        try:
            os.chdir(self.cwd)
        except OSError:
            pass
        sys.path[:] = self.path
        return False


def handle(request, result_fd, parent_pid):
    op = request.get("op")
    if op == "scan":
        return scan(request)
    if op not in ("run", "validate"):
        return {"ok": False, "message": "unknown request %r" % (op,)}
    migration = os.path.splitext(os.path.basename(request["file"]))[0]
    with Isolated(request.get("env")):
        try:
            return run(request, result_fd, parent_pid)
        finally:
            # The next request imports its own, fresh module.
            sys.modules.pop(migration, None)


def hello():
    return {
        "hello": True,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version if sqlite3 else None,
        "sqlite_missing": SQLITE_MISSING,
        "executable": sys.executable or None,
    }


def main():
    parent_pid = int(os.environ.pop("SCHEMAGATE_PARENT_PID", "0") or 0)
    request_fd, result_fd = isolate_stdio()
    die_with_parent(parent_pid)
    requests = read_requests(request_fd)
    write_line(result_fd, hello())
    while True:
        line = requests.get()
        try:
            request = json.loads(line.decode("utf-8"))
        except ValueError as exc:
            write_line(result_fd, {"id": None, "ok": False, "message": "bad request: %s" % exc})
            continue
        request_id = request.get("id")
        write_line(result_fd, {"id": request_id, "phase": "start"})
        try:
            result = handle(request, result_fd, parent_pid)
        except BaseException as exc:  # a bug here must not look like a dead migration
            result = {"ok": False, "message": "schemagate runner: %s: %s" % (exception_name(exc), exc)}
        flush_output()
        os.write(2, SEPARATOR)
        result["id"] = request_id
        write_line(result_fd, result)


main()
