#!/usr/bin/env bash
# No-op deploy benchmark (issue 13): `migrate` with 1000 applied SQL migrations and nothing
# pending, side by side with `sqlx migrate run` on the same folder, in one invocation.
# sqlx reads and hashes every file on every run. schemagate does too on a cold run (the
# first after a checkout: new files, or no folder cache yet), and on a warm run (the folder
# cache written by the previous `migrate`, see README) stats each file instead. Prints the
# median of RUNS interleaved runs of each and the ratios schemagate/sqlx (target: warm <= 0.6).
#
# The folder is one both tools accept: `NNNN_name.sql` (sqlx parses the version as an
# integer); sqlx's database is created with `sqlx database create` and migrated with
# `sqlx migrate run`, schemagate's with `schemagate migrate`.
#
# Usage: benches/noop.sh [N] [RUNS]   (N applied migrations, default 1000; RUNS, default 30)
# SQLX=/path/to/sqlx (default: sqlx on PATH, else ~/.cargo/bin/sqlx; `cargo install sqlx-cli`).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
RUNS=${2:-30}
BIN=${SCHEMAGATE_BIN:-target/release/schemagate}
[ -n "${SCHEMAGATE_BIN:-}" ] || cargo build --release --quiet
BIN=$(realpath "$BIN")
SQLX=${SQLX:-$(command -v sqlx || echo "$HOME/.cargo/bin/sqlx")}
# Skipped, not failed, without it: scripts/bench runs the other benchmarks on.
[ -x "$SQLX" ] || { echo "benches/noop.sh: skipped, needs sqlx-cli (cargo install sqlx-cli)" >&2; exit 0; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/migrations"
for i in $(seq 1 "$N"); do
    v=$(printf '%04d' "$i")
    cat > "$work/migrations/${v}_table_$i.sql" <<SQL
-- Table $i
CREATE TABLE IF NOT EXISTS t_$i (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);
CREATE INDEX IF NOT EXISTS idx_t_${i}_name ON t_$i(name);
INSERT INTO t_$i (name) VALUES ('row $i');
SQL
done

sqlx_url="sqlite://$work/sqlx.db"
sqlx() { (cd "$work" && "$SQLX" "$@" --no-dotenv -D "$sqlx_url" >/dev/null); }
sqlx database create
sqlx migrate run --source migrations
"$BIN" migrate --dir "$work/migrations" --db "$work/sg.db" --no-backup -q
# The folder cache keeps only files unchanged for 3 s (see README); a deploy's files are older.
sleep 3.5

python3 - "$BIN" "$SQLX" "$work" "$sqlx_url" "$N" "$RUNS" <<'PY'
import sqlite3, statistics, subprocess, sys, time

bin_, sqlx, work, url, n, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
assert sqlite3.connect(work + "/sg.db").execute("SELECT count(*) FROM schema_versions").fetchone()[0] == n
assert sqlite3.connect(work + "/sqlx.db").execute("SELECT count(*) FROM _sqlx_migrations").fetchone()[0] == n
import os, shutil

sg_cmd = [bin_, "migrate", "--dir", work + "/migrations", "--db", work + "/sg.db", "-q"]
warm_env = dict(os.environ, XDG_CACHE_HOME=work + "/cache-warm")
cold_env = dict(os.environ, XDG_CACHE_HOME=work + "/cache-cold")
sqlx_cmd = [sqlx, "migrate", "run", "--source", "migrations", "--no-dotenv", "-D", url]


def timed(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return (time.perf_counter() - t) * 1000


def cold():
    # Outside the timing: no cache, as on the first run after a checkout.
    shutil.rmtree(work + "/cache-cold", ignore_errors=True)
    return timed(sg_cmd, cold_env)


for _ in range(2):  # warm the page cache; the first warm run writes the folder cache
    timed(sg_cmd, warm_env), timed(sqlx_cmd), cold()
assert os.listdir(work + "/cache-warm/schemagate/folders"), "no folder cache was written"


def side_by_side(ours):
    # Interleaved with sqlx; the cold runs apart, as their cache writes and deletions
    # would otherwise land in the warm runs' timings.
    a, b = [], []
    for _ in range(runs):
        a.append(ours())
        b.append(timed(sqlx_cmd))
    return a, b


warm, sq_warm = side_by_side(lambda: timed(sg_cmd, warm_env))
cold_, sq_cold = side_by_side(cold)
print("no-op with %d applied SQL migrations, median of %d interleaved runs" % (n, runs))
for name, xs, sq in (("warm (folder cache)", warm, sq_warm), ("cold (reads every file)", cold_, sq_cold)):
    a, b = statistics.median(xs), statistics.median(sq)
    print("  %-24s schemagate %6.2f ms (min %.2f)  sqlx %6.2f ms (min %.2f)  ratio %.2f"
          % (name, a, min(xs), b, min(sq), a / b))
PY
