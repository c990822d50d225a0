"""schemagate from Python.

The ``schemagate`` command is the binary this package installed beside the interpreter;
:func:`auto_migrate` runs ``schemagate migrate --format json`` with it and returns the dict
the legacy migration manager's ``auto_migrate()`` returned, so an application replaces its
manager in one line::

    from schemagate import auto_migrate
    result = auto_migrate("data/architect.db")
    if result["status"] == "error":
        raise SystemExit(result["error"])
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig

__all__ = ["auto_migrate", "find_schemagate_bin"]


def find_schemagate_bin():
    """Path of the ``schemagate`` binary installed with this package.

    Looks in the scripts folder of this installation (a virtualenv's ``bin``, the user's
    or the system's), then in ``bin`` beside a ``pip install --target`` folder, then on
    ``PATH``. Raises ``FileNotFoundError`` when there is none.
    """
    exe = "schemagate" + (sysconfig.get_config_var("EXE") or "")
    folders = [sysconfig.get_path("scripts")]
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if user_scheme and user_scheme in sysconfig.get_scheme_names():
        folders.append(sysconfig.get_path("scripts", user_scheme))
    folders.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin"))
    for folder in folders:
        candidate = os.path.join(folder, exe)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(exe)
    if found:
        return found
    raise FileNotFoundError(
        "the schemagate binary was not found (looked in %s and on PATH); reinstall the "
        "package with `pip install --force-reinstall schemagate`" % ", ".join(folders)
    )


def _error(message):
    return {"status": "error", "applied": [], "count": 0, "backup": None, "error": message}


def _message(error):
    """The legacy ``error``: a string, with ``path:line:column`` when one is known."""
    if error is None or isinstance(error, str):
        return error
    where = ":".join(str(error[k]) for k in ("path", "line", "column") if error.get(k) is not None)
    return "%s: %s" % (where, error["message"]) if where else error["message"]


def auto_migrate(
    db_path,
    migrations_dir=None,
    *,
    backup=True,
    python=None,
    config=None,
    lock_timeout=None,
    allow=(),
    timeout=None,
):
    """Applies the pending migrations to the SQLite database at ``db_path``.

    Runs ``schemagate migrate --db DB_PATH --format json``: it takes the migrator lock,
    refuses on edited applied files, duplicate versions and renumbered applied files
    (``allow`` names the checks to skip: ``"drift"``, ``"duplicates"``,
    ``"renamed-applied"``), backs the database up when something is pending (unless
    ``backup`` is false), and applies each migration atomically with its history row. A
    database that does not exist is created.

    ``migrations_dir`` defaults to ``[migrations] dir`` of the ``schemagate.toml`` found
    from the working directory, else ``migrations``; ``config`` names that file
    explicitly. Python migrations run in ``python`` (default: this interpreter, so they
    import what the application imports). ``timeout`` (seconds) bounds the whole run.

    Returns the legacy manager's dict: ``status`` (``"current"``, ``"migrated"`` or
    ``"error"``), ``applied`` (versions, in order), ``count``, ``backup`` (path or
    ``None``) and ``error`` (message or ``None``). Never raises for a failed migration.
    """
    try:
        args = [find_schemagate_bin()]
    except FileNotFoundError as e:
        return _error(str(e))
    args += ["migrate", "--db", os.fspath(db_path), "--format", "json", "--quiet"]
    if migrations_dir is not None:
        args += ["--dir", os.fspath(migrations_dir)]
    if config is not None:
        args += ["--config", os.fspath(config)]
    if not backup:
        args.append("--no-backup")
    if lock_timeout is not None:
        args += ["--lock-timeout", str(int(lock_timeout))]
    for check in [allow] if isinstance(allow, str) else allow:
        args += ["--allow", check]
    args += ["--python", python or sys.executable or "python3"]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return _error("schemagate migrate did not finish within %s s" % timeout)
    except OSError as e:
        return _error("cannot run %s: %s" % (args[0], e))
    try:
        result = json.loads(done.stdout)
    except ValueError:
        message = done.stderr.strip() or "schemagate migrate exited with %s" % done.returncode
        return _error(message)
    return {
        "status": result.get("status", "error"),
        "applied": list(result.get("applied") or []),
        "count": result.get("count", 0),
        "backup": result.get("backup"),
        "error": _message(result.get("error")),
    }
