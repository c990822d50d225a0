#!/usr/bin/env bash
# Apply benchmark (issue 2): 1000 small migrations on an empty database, three ways, on the
# same machine in one run:
#   floor   - the sqlite3 CLI running the same scripts, one BEGIN IMMEDIATE ... COMMIT per
#             migration with its history row inside (what a correct applier cannot beat);
#   legacy  - what the legacy Python manager does (executescript per file, which commits
#             every statement, then the history row);
#   schemagate migrate --no-backup.
# Then the start-up cost of `migrate` when nothing is pending (100 applied).
# Usage: benches/apply.sh [N]   (N migrations, default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
BIN=${SCHEMAGATE_BIN:-target/release/schemagate}
[ -n "${SCHEMAGATE_BIN:-}" ] || cargo build --release --quiet
command -v sqlite3 >/dev/null || { echo "benches/apply.sh needs the sqlite3 CLI (apt-get install sqlite3)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/m"
# Versions 000..999: three digits, so the legacy glob [0-9][0-9][0-9]_* sees them all.
for i in $(seq 1 "$N"); do
    v=$(printf '%03d' "$((i - 1))")
    cat > "$work/m/${v}_table_$i.sql" <<SQL
-- Table $i
CREATE TABLE IF NOT EXISTS t_$i (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);
CREATE INDEX IF NOT EXISTS idx_t_${i}_name ON t_$i(name);
INSERT INTO t_$i (name) VALUES ('row $i');
SQL
done

now() { date +%s%N; }
ms() { echo "scale=1; ($2 - $1) / 1000000" | bc; }

history='CREATE TABLE IF NOT EXISTS schema_versions (id INTEGER PRIMARY KEY, version TEXT UNIQUE NOT NULL, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, description TEXT, checksum TEXT);'

# floor: one sqlite3 process, one transaction per migration including its history row.
{
    echo "$history"
    for f in "$work"/m/*.sql; do
        v=$(basename "$f" | cut -d_ -f1)
        echo "BEGIN IMMEDIATE;"
        cat "$f"
        echo "INSERT INTO schema_versions (version, description, checksum) VALUES ('$v', 'x', '$(sha256sum "$f" | cut -c1-64)');"
        echo "COMMIT;"
    done
} > "$work/floor.sql"
t0=$(now); sqlite3 -bail "$work/floor.db" < "$work/floor.sql"; t1=$(now)
floor=$(ms "$t0" "$t1")

t0=$(now); python3 tests/fixtures/legacy_manager.py "$work/legacy.db" "$work/m" >/dev/null; t1=$(now)
legacy=$(ms "$t0" "$t1")

t0=$(now); "$BIN" migrate --dir "$work/m" --db "$work/sg.db" --no-backup -q >/dev/null; t1=$(now)
sg=$(ms "$t0" "$t1")

count() { sqlite3 "$1" "SELECT count(*) FROM schema_versions"; }
[ "$(count "$work/floor.db")" = "$N" ] && [ "$(count "$work/sg.db")" = "$N" ] && [ "$(count "$work/legacy.db")" = "$N" ] \
    || { echo "a run did not apply all $N migrations" >&2; exit 1; }

fsyncs() { strace -f -c -e trace=fsync,fdatasync -o "$work/strace.txt" "$@" >/dev/null 2>&1; awk '/fsync|fdatasync/ {s += $4} END {print s + 0}' "$work/strace.txt"; }
if command -v strace >/dev/null; then
    rm -f "$work/f2.db" "$work/s2.db"
    fs_floor=$(fsyncs sh -c "sqlite3 -bail '$work/f2.db' < '$work/floor.sql'")
    fs_sg=$(fsyncs "$BIN" migrate --dir "$work/m" --db "$work/s2.db" --no-backup -q)
else
    fs_floor=n/a; fs_sg=n/a
fi

# Start-up with nothing pending: 100 applied migrations.
mkdir -p "$work/m100"
for f in $(ls "$work/m" | sort | head -100); do cp "$work/m/$f" "$work/m100/"; done
"$BIN" migrate --dir "$work/m100" --db "$work/s100.db" --no-backup -q >/dev/null
# Median and minimum of 50 runs: a mean is dragged up by whatever else the machine does.
startup=$(python3 - "$BIN" "$work" <<'PY'
import statistics, subprocess, sys, time
b, w = sys.argv[1], sys.argv[2]
ts = []
for _ in range(50):
    t = time.perf_counter()
    subprocess.run([b, "migrate", "--dir", w + "/m100", "--db", w + "/s100.db", "-q"], stdout=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1000)
print("median %.2f ms, min %.2f ms" % (statistics.median(ts), min(ts)))
PY
)
printf '%-44s %10s\n' "apply $N migrations" "ms"
printf '%-44s %10s\n' "sqlite3 CLI, one txn per migration (floor)" "$floor"
printf '%-44s %10s\n' "legacy manager (executescript)" "$legacy"
printf '%-44s %10s\n' "schemagate migrate" "$sg"
printf 'ratio schemagate/floor: %s   legacy/schemagate: %s\n' "$(echo "scale=3; $sg / $floor" | bc)" "$(echo "scale=2; $legacy / $sg" | bc)"
printf 'fsync+fdatasync calls: floor %s, schemagate %s (per migration: %s vs %s)\n' "$fs_floor" "$fs_sg" \
    "$(echo "scale=2; $fs_floor / $N" | bc 2>/dev/null || echo n/a)" "$(echo "scale=2; $fs_sg / $N" | bc 2>/dev/null || echo n/a)"
printf 'migrate with nothing pending (%s applied): %s (50 runs)\n' "$(count "$work/s100.db")" "$startup"
