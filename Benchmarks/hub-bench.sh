#!/usr/bin/env bash
# Hub throughput and latency at 64 connections on loopback, measured with wrk, beside
# nginx serving a static file of the same size as a record (the HTTP ceiling of this
# machine). Prints figures; never fails for being slow.
#
#   Benchmarks/hub-bench.sh [path/to/accordhub]     (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
hub=${1:-}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
export SEEDED=${SEEDED:-1000}
for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || { echo "hub-bench: needs $tool (apt-get install -y wrk nginx-light curl)" >&2; exit 2; }
done
if [ -z "$hub" ]; then
    swift build -c release --product accordhub >&2
    hub=.build/release/accordhub
fi
work=$(mktemp -d /tmp/accord-hub-bench.XXXXXX)
cleanup() {
    [ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
    [ -n "${tls_pid:-}" ] && kill "$tls_pid" 2>/dev/null
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$hub" --listen 127.0.0.1:0 --open --db "$work/hub.db" --schemas config/schemas --log-level warning >"$work/hub.out" 2>"$work/hub.err" &
hub_pid=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/hub.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/hub.out")
echo "hub at $url, database $work/hub.db" >&2

# A second hub serving TLS (HTTP/2 by ALPN; wrk speaks HTTP/1.1 over TLS) on a
# database of its own, seeded the same way; nginx serves TLS with the same certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/tls.key" -out "$work/tls.crt" \
    -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
printf 'open = true\n[tls]\ncert_file = "%s"\nkey_file = "%s"\n' "$work/tls.crt" "$work/tls.key" >"$work/tls.toml"
"$hub" --config "$work/tls.toml" --listen 127.0.0.1:0 --db "$work/tls.db" --schemas config/schemas --log-level warning \
    >"$work/tls.out" 2>"$work/tls.err" &
tls_pid=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/tls.out" 2>/dev/null && break; sleep 0.1; done
tls_url=$(grep -o 'https://[0-9.:]*' "$work/tls.out")

for target in "$url" "$tls_url"; do
    Benchmarks/seed.py "$target" "$SEEDED"
done
curl -s "$url/v1/records/agreement/seed-1" >"$work/record.json"

size=$(wc -c <"$work/record.json")

# nginx on a free port serving a file of the record's size.
mkdir -p "$work/www"
cp "$work/record.json" "$work/www/record.json"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nginx_tls_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    server { listen 127.0.0.1:$nginx_port; root $work/www; }
    server {
        listen 127.0.0.1:$nginx_tls_port ssl;
        ssl_certificate $work/tls.crt;
        ssl_certificate_key $work/tls.key;
        root $work/www;
    }
}
CONF
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf"

run() { # name, url, [script]
    local name=$1 target=$2 script=${3:-}
    local out
    if [ -n "$script" ]; then
        out=$(wrk -t2 -c"$connections" -d"$duration" --latency -s "$script" "$target" 2>"$work/wrk.err")
    else
        out=$(wrk -t2 -c"$connections" -d"$duration" --latency "$target" 2>"$work/wrk.err")
    fi
    local rate p50 p99 errors
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$( (grep -c "unexpected status" "$work/wrk.err" || true) | tr -d ' ')
    printf '  %-34s %10s %10s %10s %8s\n' "$name" "$rate" "$p50" "$p99" "$errors"
}

echo
echo "accordhub on 2 cores, wrk -t2 -c$connections -d$duration, records of $size bytes ($SEEDED seeded)"
printf '  %-34s %10s %10s %10s %8s\n' "" "req/s" "p50" "p99" "bad"
run "conditional PUT (create)" "$url" Benchmarks/hub-put.lua
run "GET record" "$url" Benchmarks/hub-get.lua
run "GET changes (limit 10)" "$url" Benchmarks/hub-changes.lua
run "nginx static file, same size" "http://127.0.0.1:$nginx_port/record.json"
echo "over TLS (HTTP/1.1 keep-alive, ECDSA P-256)"
run "GET record, TLS" "$tls_url" Benchmarks/hub-get.lua
run "GET changes (limit 10), TLS" "$tls_url" Benchmarks/hub-changes.lua
run "nginx static file, TLS" "https://127.0.0.1:$nginx_tls_port/record.json"
echo "targets: >= 5,000 conditional writes/s, >= 20,000 reads/s, p99 < 20 ms"
