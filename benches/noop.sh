#!/usr/bin/env bash
# No-op deploy benchmark (issue 13): `migrate` with 1000 applied SQL migrations and nothing
# pending, side by side with `sqlx migrate run` on the same folder, in one invocation.
# Both read every file to verify what was applied. Prints the median of RUNS interleaved
# runs of each and the ratio schemagate/sqlx (target: <= 0.6).
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

python3 - "$BIN" "$SQLX" "$work" "$sqlx_url" "$N" "$RUNS" <<'PY'
import sqlite3, statistics, subprocess, sys, time

bin_, sqlx, work, url, n, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
assert sqlite3.connect(work + "/sg.db").execute("SELECT count(*) FROM schema_versions").fetchone()[0] == n
assert sqlite3.connect(work + "/sqlx.db").execute("SELECT count(*) FROM _sqlx_migrations").fetchone()[0] == n
sg_cmd = [bin_, "migrate", "--dir", work + "/migrations", "--db", work + "/sg.db", "-q"]
sqlx_cmd = [sqlx, "migrate", "run", "--source", "migrations", "--no-dotenv", "-D", url]


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000


for cmd in (sg_cmd, sqlx_cmd):  # warm the page cache
    timed(cmd)
sg, sq = [], []
for _ in range(runs):
    sg.append(timed(sg_cmd))
    sq.append(timed(sqlx_cmd))
a, b = statistics.median(sg), statistics.median(sq)
print("no-op with %d applied SQL migrations, median of %d interleaved runs" % (n, runs))
print("  sqlx migrate run      %7.2f ms (min %.2f)" % (b, min(sq)))
print("  schemagate migrate    %7.2f ms (min %.2f)" % (a, min(sg)))
print("  ratio schemagate/sqlx %.2f" % (a / b))
PY
