#!/usr/bin/env bash
# Python migrations benchmark (issue 13): 100 Python migrations (each CREATE TABLE and one
# INSERT) applied to an empty database, `schemagate migrate --no-backup` side by side with
# the legacy-style manager (tests/fixtures/legacy_manager.py: imports every file into one
# Python process), through the real interpreter and through a pyenv-style shim, in one
# invocation. Prints the median of RUNS runs of each and the ratio schemagate/legacy
# (target: <= 1.5 with both interpreters).
#
# Usage: benches/python.sh [N] [RUNS]   (N migrations, default 100; RUNS, default 7)
# Interpreters: REAL_PYTHON (default: the sys.executable of `python3`) and SHIM_PYTHON
# (default: $(pyenv root)/shims/python3 when pyenv is installed; skipped otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
RUNS=${2:-7}
BIN=${SCHEMAGATE_BIN:-target/release/schemagate}
[ -n "${SCHEMAGATE_BIN:-}" ] || cargo build --release --quiet
BIN=$(realpath "$BIN")

real=${REAL_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}
shim=${SHIM_PYTHON:-}
if [ -z "$shim" ] && command -v pyenv >/dev/null; then
    shim="$(pyenv root)/shims/python3"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/m"
# Versions 001..100: three digits, so the legacy glob [0-9][0-9][0-9]_* sees them all.
for i in $(seq 1 "$N"); do
    v=$(printf '%03d' "$i")
    cat > "$work/m/${v}_table_$i.py" <<PY
DESCRIPTION = "Table $i"


def upgrade(conn):
    conn.execute("CREATE TABLE t_$i (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.execute("INSERT INTO t_$i (name) VALUES ('row $i')")
PY
done

"$real" - "$BIN" "$work" "$N" "$RUNS" "$real" "$shim" <<'PY'
import os, shutil, sqlite3, statistics, subprocess, sys, time

bin_, work, n, runs, real, shim = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
folder = os.path.join(work, "m")
legacy = os.path.join(os.getcwd(), "tests/fixtures/legacy_manager.py")


def fresh(name):
    db = os.path.join(work, name)
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    # The legacy manager writes __pycache__ beside the migrations (no -B); a deploy imports
    # each file once, so every run starts without it.
    shutil.rmtree(os.path.join(folder, "__pycache__"), ignore_errors=True)
    return db


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000


def count(db):
    return sqlite3.connect(db).execute("SELECT count(*) FROM schema_versions").fetchone()[0]


interpreters = [("real interpreter", real)] + ([("pyenv-style shim", shim)] if shim else [])
print("%d Python migrations (CREATE TABLE + INSERT each), median of %d runs, interleaved" % (n, runs))
for label, python in interpreters:
    sg_times, legacy_times = [], []
    for _ in range(runs):
        db = fresh("legacy.db")
        legacy_times.append(timed([python, legacy, db, folder]))
        assert count(db) == n, "the legacy manager did not apply all migrations"
        db = fresh("sg.db")
        sg_times.append(timed([bin_, "migrate", "--dir", folder, "--db", db, "--no-backup", "-q", "--python", python]))
        assert count(db) == n, "schemagate did not apply all migrations"
    sg, lg = statistics.median(sg_times), statistics.median(legacy_times)
    print("  %-18s legacy manager %8.1f ms   schemagate %8.1f ms   ratio schemagate/legacy %.2f   (%s)" % (label, lg, sg, sg / lg, python))
PY
