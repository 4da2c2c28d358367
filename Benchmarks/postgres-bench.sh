#!/usr/bin/env bash
# The hub on PostgreSQL beside the hub on SQLite (CONTRACT 8.5): writes/s, reads/s and
# changes-feed reads/s with p50/p99, for one hub on SQLite, one hub on PostgreSQL and
# two hubs on one PostgreSQL database (two wrk runs at once, half the connections
# each, requests split between the hubs as a load balancer would). Prints figures;
# never fails for being slow. Run as root (it starts a throw-away cluster as postgres).
#
#   Benchmarks/postgres-bench.sh [path/to/accordhub]     (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
hub=${1:-}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
seeded=${SEEDED:-1000}
for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "postgres-bench: needs $tool (apt-get install -y wrk curl python3)" >&2; exit 2; }
done
if [ -z "$hub" ]; then
    swift build -c release --product accordhub >&2
    hub=.build/release/accordhub
fi
work=$(mktemp -d /tmp/accord-pg-bench.XXXXXX)
# PostgreSQL runs as postgres, which must reach its folder inside this one.
chmod 755 "$work"
# Each hub's pid goes to a file: start_hub runs in a command substitution, whose
# variables die with it.
cleanup() {
    for pidfile in "$work"/*.pid; do [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true; done
    scripts/postgres-cluster.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
pg_url=$(scripts/postgres-cluster.sh start "$work/pg")

start_hub() { # name, db: prints the hub's URL
    "$hub" --listen 127.0.0.1:0 --open --db "$2" --schemas config/schemas --log-level warning >"$work/$1.out" 2>"$work/$1.err" &
    echo $! >"$work/$1.pid"
    for _ in $(seq 1 300); do grep -q "listening on" "$work/$1.out" 2>/dev/null && break; sleep 0.1; done
    grep -o 'http://[0-9.:]*' "$work/$1.out"
}
sqlite=$(start_hub sqlite "$work/hub.db")
pg1=$(start_hub pg1 "$pg_url")
pg2=$(start_hub pg2 "$pg_url")

for target in "$sqlite" "$pg1"; do
    Benchmarks/seed.py "$target" "$seeded"
done

# wrk_figures OUT: req/s, p50, p99 in ms, errors
wrk_figures() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    match = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match: return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rate:.0f} {ms('50%'):.2f} {ms('99%'):.2f}")
PY
}

rows=0
row() { # name, script, url...
    local name=$1 script=$2
    shift 2
    local count=$# each=$((connections / $#)) index=0 target
    rows=$((rows + 1))
    for target in "$@"; do
        # A prefix per row and per wrk run: creates never collide with earlier ones.
        wrk -t1 -c"$each" -d"$duration" --latency -s "$script" "$target" -- "r$rows-h$index-" >"$work/wrk-$index.out" 2>"$work/wrk-$index.err" &
        index=$((index + 1))
    done
    wait
    local total=0 p50=0 p99=0 bad=0 i line
    for ((i = 0; i < count; i++)); do
        read -r rate p50i p99i <<<"$(wrk_figures "$work/wrk-$i.out")"
        total=$((total + rate))
        p50=$(python3 -c "print(max($p50, $p50i))")
        p99=$(python3 -c "print(max($p99, $p99i))")
        bad=$((bad + $(grep -c "unexpected status" "$work/wrk-$i.err" || true)))
    done
    printf '  %-44s %9s %9s ms %9s ms %6s\n' "$name" "$total" "$p50" "$p99" "$bad"
}

echo
echo "accordhub, wrk -c$connections -d$duration on this machine ($(nproc) cores), $seeded records seeded"
printf '  %-44s %9s %12s %12s %6s\n' "" "req/s" "p50" "p99" "bad"
for kind in "writes: conditional PUT (create)|Benchmarks/hub-put.lua" "reads: GET record|Benchmarks/hub-get.lua" \
    "changes feed: GET changes (limit 10)|Benchmarks/hub-changes.lua"; do
    label=${kind%%|*} script=${kind##*|}
    echo "$label"
    row "one hub, SQLite" "$script" "$sqlite"
    row "one hub, PostgreSQL" "$script" "$pg1"
    row "two hubs, one PostgreSQL database" "$script" "$pg1" "$pg2"
done
