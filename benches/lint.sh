#!/usr/bin/env bash
# Lint speed benchmark: `schemagate lint` over 1000 realistic migrations.
#
# Builds the release binary, writes 1000 migration files (850 .sql, 150 .py) into a temp
# folder, then measures wall time (hyperfine if installed, else a loop timed with
# `date +%s%N`) and peak memory (`/usr/bin/time -v` if present). Also measures the same
# folder without the Python files, and a bare `python3` start, so the share of the one
# python3 process that reads the .py files is visible.
#
# Wall time on a shared machine mostly measures the load; the CPU time (user + sys) printed
# with the peak memory is the steadier figure.
#
# Usage: benches/lint.sh [RUNS]     (default 20 runs per measurement)
#        SKIP_BUILD=1 benches/lint.sh   (use the release binary already built)
set -euo pipefail

RUNS="${1:-20}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
BIN="$ROOT/target/release/schemagate"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
MIXED="$WORK/mixed/migrations"
SQLONLY="$WORK/sql-only/migrations"
mkdir -p "$MIXED" "$SQLONLY"

write_sql() { # $1 = file, $2 = n
    local n=$2
    case $((n % 4)) in
    0) cat >"$1" <<SQL
-- Create table t$n
CREATE TABLE IF NOT EXISTS t$n (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    note TEXT DEFAULT 'a; b',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_t${n}_owner ON t$n(owner_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_t${n}_name ON t$n(owner_id, name);
SQL
    ;;
    1) cat >"$1" <<SQL
-- Audit trigger for t$((n - 1))
CREATE TABLE IF NOT EXISTS audit_$n (
    id INTEGER PRIMARY KEY,
    row_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

/* The trigger body has statements of its own; their semicolons do not end it. */
CREATE TRIGGER IF NOT EXISTS trg_audit_$n
AFTER UPDATE OF name ON t$((n - 1))
BEGIN
    INSERT INTO audit_$n (row_id, action) VALUES (NEW.id, 'renamed; was ' || OLD.name);
END;
SQL
    ;;
    2) cat >"$1" <<SQL
-- Seed settings $n
INSERT OR IGNORE INTO settings (key, value) VALUES ('feature_$n', 'off');
INSERT OR IGNORE INTO settings (key, value) VALUES ('limit_$n', '100');
UPDATE settings SET value = 'on' WHERE key = 'feature_$((n - 2))';
DELETE FROM settings WHERE key = 'obsolete_$n';
SQL
    ;;
    3) cat >"$1" <<SQL
-- View over t$((n - 3))
DROP VIEW IF EXISTS v_$n;
CREATE VIEW IF NOT EXISTS v_$n AS
SELECT t.id, t.name, count(a.id) AS changes
FROM t$((n - 3)) t
LEFT JOIN audit_$((n - 2)) a ON a.row_id = t.id
WHERE t.name <> ''
GROUP BY t.id, t.name;
SQL
    ;;
    esac
}

write_py() { # $1 = file, $2 = n
    cat >"$1" <<PY
"""Add column c$2 to t$(($2 - 1))."""

DESCRIPTION = "Add c$2"


def _columns(conn, table):
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def upgrade(conn):
    if "c$2" not in _columns(conn, "t$(($2 - 1))"):
        conn.execute("ALTER TABLE t$(($2 - 1)) ADD COLUMN c$2 TEXT NOT NULL DEFAULT ''")
    conn.execute(
        """
        CREATE INDEX IF NOT EXISTS idx_c$2 ON t$(($2 - 1))(c$2)
        """
    )


def downgrade(conn):
    conn.execute("DROP INDEX IF EXISTS idx_c$2")
PY
}

PY_FILES=0
for n in $(seq 1 1000); do
    v=$(printf '%04d' "$n")
    if ((n % 6 == 0 && PY_FILES < 150)); then
        PY_FILES=$((PY_FILES + 1))
        write_py "$MIXED/${v}_add_c$n.py" "$n"
    else
        write_sql "$MIXED/${v}_step_$n.sql" "$n"
        cp "$MIXED/${v}_step_$n.sql" "$SQLONLY/"
    fi
done
echo "files: $(ls "$MIXED" | wc -l) ($(ls "$MIXED" | grep -c '\.py$') .py), $(du -sh "$MIXED" | cut -f1)"

# The folder must lint clean, or we would be timing the renderer of findings.
(cd "$WORK/mixed" && "$BIN" lint --fail-on warning >/dev/null) || {
    echo "the generated folder is not clean:" >&2
    (cd "$WORK/mixed" && "$BIN" lint | tail -20) >&2
    exit 1
}

time_it() { # $1 = label, $2 = dir, rest = command
    local label=$1 dir=$2
    shift 2
    if command -v hyperfine >/dev/null; then
        (cd "$dir" && hyperfine --warmup 3 --runs "$RUNS" --style basic -N "$*" | sed -n '2,4p' | sed "s/^/$label: /")
    else
        (cd "$dir" && "$@" >/dev/null 2>&1 || true) # warm the page cache
        local best=999999999 total=0
        for _ in $(seq 1 "$RUNS"); do
            local t0 t1
            t0=$(date +%s%N)
            (cd "$dir" && "$@" >/dev/null 2>&1 || true)
            t1=$(date +%s%N)
            local d=$(((t1 - t0) / 1000))
            total=$((total + d))
            ((d < best)) && best=$d
        done
        printf '%-28s mean %6.1f ms   min %6.1f ms   (%s runs)\n' "$label:" \
            "$(echo "$total / $RUNS / 1000" | bc -l)" "$(echo "$best / 1000" | bc -l)" "$RUNS"
    fi
}

rss() { # $1 = label, $2 = dir, rest = command
    local label=$1 dir=$2
    shift 2
    if [ -x /usr/bin/time ]; then
        local out kb cpu
        out=$(cd "$dir" && /usr/bin/time -v "$@" 2>&1 >/dev/null)
        kb=$(echo "$out" | awk -F': ' '/Maximum resident/ {print $2}')
        cpu=$(echo "$out" | awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print (u + s) * 1000}')
        printf '%-28s max RSS %6.1f MB   CPU (user+sys) %5.0f ms\n' "$label:" "$(echo "$kb / 1024" | bc -l)" "$cpu"
    fi
}

time_it "lint 1000 (150 .py)" "$WORK/mixed" "$BIN" lint
time_it "lint 850 .sql (no .py)" "$WORK/sql-only" "$BIN" lint
time_it "python3 -I -S -c pass" "$WORK" python3 -I -S -c pass
rss "lint 1000 (150 .py)" "$WORK/mixed" "$BIN" lint
rss "lint 850 .sql (no .py)" "$WORK/sql-only" "$BIN" lint
rss "python3 -I -S -c pass" "$WORK" python3 -I -S -c pass
rss "python3 (AST of 150 .py)" "$WORK/mixed" python3 -I -S -c "import ast, json, sys; [ast.parse(open(p).read()) for p in sys.argv[1:]]" $(ls "$WORK"/mixed/migrations/*.py)
