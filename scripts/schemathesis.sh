#!/usr/bin/env bash
# Fuzzes a live accordhub against docs/openapi.yaml with schemathesis.
#
#   scripts/schemathesis.sh [ACCORDHUB_BINARY] [SCHEMAS_DIR]
#
# Defaults: .build/debug/accordhub and config/schemas, relative to the repo root.
# Starts the hub on 127.0.0.1 port 0 with a throw-away database, runs schemathesis
# (checks: no 5xx, documented status codes and content types, response bodies and
# headers matching the spec), stops the hub with SIGTERM and exits with
# schemathesis's status. Needs no network beyond loopback once schemathesis is
# installed. Tunables: SCHEMATHESIS_MAX_EXAMPLES (test cases per operation and phase,
# default 100; about 40 s on 2 cores), SCHEMATHESIS_SEED (to replay a run; the seed is
# printed), SCHEMATHESIS_WORKERS (default 1: schemathesis is CPU-bound under the GIL,
# and several worker threads can trip CPython's "AST constructor recursion depth
# mismatch", gh-106905, on Python 3.11), SCHEMATHESIS_MAX_TIME (optional: keep fuzzing
# until that many seconds are spent), SCHEMATHESIS_DB (the hub's --db instead of a
# throw-away SQLite file: a postgres:// URL runs the same checks on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

hub_bin=${1:-.build/debug/accordhub}
schemas_dir=${2:-config/schemas}
spec=docs/openapi.yaml
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
workers=${SCHEMATHESIS_WORKERS:-1}
max_time=${SCHEMATHESIS_MAX_TIME:-}

die() { echo "schemathesis.sh: $*" >&2; exit 2; }
[[ -x $hub_bin ]] || die "no accordhub binary at $hub_bin; build it (swift build) or pass its path as the first argument"
[[ -d $schemas_dir ]] || die "no schema folder at $schemas_dir; pass it as the second argument"
[[ -f $spec ]] || die "no $spec; run from an Accord checkout"

command -v schemathesis >/dev/null 2>&1 || pip install --quiet 'schemathesis>=4,<5'
if ! command -v schemathesis >/dev/null 2>&1; then
    user_bin="$(python3 -m site --user-base 2>/dev/null || echo "$HOME/.local")/bin"
    [[ -x $user_bin/schemathesis ]] && PATH="$user_bin:$PATH"
fi
command -v schemathesis >/dev/null 2>&1 || die "schemathesis is not on PATH after pip install 'schemathesis>=4,<5'"

work=$(mktemp -d "${TMPDIR:-/tmp}/accord-schemathesis.XXXXXX")
hub_pid=""
cleanup() {
    if [[ -s $work/schemathesis.pid ]]; then
        kill -TERM "$(cat "$work/schemathesis.pid")" 2>/dev/null || true
    fi
    if [[ -n $hub_pid ]] && kill -0 "$hub_pid" 2>/dev/null; then
        kill -TERM "$hub_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$hub_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$hub_pid" 2>/dev/null || true
        wait "$hub_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# An open hub with the dataset press beside default, so that both the unprefixed routes
# and /v1/datasets/{dataset}/... reach real records. The hub prints "accordhub
# listening on http://127.0.0.1:PORT" once it is bound.
printf 'open = true\n\n[[datasets]]\nname = "press"\n' >"$work/hub.toml"
"$hub_bin" --config "$work/hub.toml" --listen 127.0.0.1:0 --db "${SCHEMATHESIS_DB:-$work/hub.db}" --schemas "$schemas_dir" \
    >"$work/hub.out" 2>"$work/hub.err" &
hub_pid=$!
base_url=""
for _ in $(seq 300); do
    base_url=$(sed -n 's/^accordhub listening on \(http:\/\/[^ ]*\).*$/\1/p' "$work/hub.out" | head -n 1)
    [[ -n $base_url ]] && break
    kill -0 "$hub_pid" 2>/dev/null || { cat "$work/hub.err" >&2; die "accordhub exited before listening"; }
    sleep 0.1
done
[[ -n $base_url ]] || { cat "$work/hub.err" >&2; die "accordhub did not print its listening line within 30 s"; }
echo "schemathesis.sh: accordhub $("$hub_bin" --version 2>/dev/null || echo '?') at $base_url"

# Test-data steering, not spec changes (the spec stays the truth):
# - `wait` long-polls for up to 60 s when nothing is newer than `since`; the spec says so
#   (integer >= 0), but fuzzed values would make the run take hours. Valid waits above
#   1 s are sent as 1; invalid ones go out as generated.
# - Random PUT bodies almost never pass a kind's schema, so half of the positive PUTs
#   (chosen by a hash of the id, so runs stay reproducible) are turned into a valid
#   `news` record that keeps the generated extra fields. Creates, updates, deletes,
#   tombstones and the stateful links then get exercised too.
# - A generated `{dataset}` almost never names one the hub has, so three in four of the
#   positive cases (by a hash of the generated name) go to `press`; the rest probe the
#   404 of a dataset that does not exist.
cat >"$work/hooks.py" <<'PY'
import zlib

import schemathesis

NEWS_NAMED = {"kind", "id", "fields", "headline", "published", "source", "byline", "dateline",
              "url", "summary", "body", "related", "tags", "image"}


def _clamp_wait(case):
    query = case.query
    if not isinstance(query, dict) or "wait" not in query:
        return
    try:
        value = int(str(query["wait"]))
    except ValueError:
        return
    if 1 < value <= 2**63 - 1:
        case.query = {**query, "wait": 1}


def _steer_put(case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    params = case.path_parameters or {}
    ident = str(params.get("id", ""))
    choice = zlib.crc32(ident.encode()) % 4
    if choice >= 2 or not isinstance(case.body, dict):
        return
    body = case.body
    fields = body["fields"] if isinstance(body.get("fields"), dict) else body
    extra = {k: v for k, v in fields.items() if k not in NEWS_NAMED}
    extra.update(headline="Treaty signed", published="2024-05-01", source="schemathesis")
    case.path_parameters = {**params, "kind": "news"}
    if choice == 0:
        case.body = {"kind": "news", "id": ident, "fields": extra}
    else:
        case.body = {"kind": "news", "id": ident, **extra}


def _steer_dataset(case):
    meta = case.meta
    params = case.path_parameters or {}
    if meta is None or not meta.generation.mode.is_positive or "dataset" not in params:
        return
    if zlib.crc32(str(params["dataset"]).encode()) % 4 != 0:
        case.path_parameters = {**params, "dataset": "press"}


@schemathesis.hook
def map_case(context, case):
    operation = case.operation
    path = operation.path.replace("/v1/datasets/{dataset}/", "/v1/")
    _steer_dataset(case)
    if path == "/v1/changes":
        _clamp_wait(case)
    elif path == "/v1/records/{kind}/{id}" and str(operation.method).upper() == "PUT":
        _steer_put(case)
    return case
PY

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
args=(
    run "$spec"
    --url "$base_url"
    --checks "$checks"
    --max-examples "$max_examples"
    --workers "$workers"
    ${max_time:+--max-time "$max_time"}
    --request-timeout 10
    --generation-database none
    --suppress-health-check all
    --no-color
)
[[ -n ${SCHEMATHESIS_SEED:-} ]] && args+=(--seed "$SCHEMATHESIS_SEED")

echo "schemathesis.sh: schemathesis ${args[*]}"
# In the background, so that SIGTERM/SIGINT reach the traps at once, not after the run.
{
    SCHEMATHESIS_HOOKS="$work/hooks.py" schemathesis "${args[@]}" &
    echo $! >"$work/schemathesis.pid"
    rc=0
    wait $! || rc=$?
    echo "$rc" >"$work/schemathesis.rc"
} 2>&1 | tee "$work/schemathesis.log" &
wait $! || true
status=$(cat "$work/schemathesis.rc" 2>/dev/null || echo 1)
rm -f "$work/schemathesis.pid"
# The closing rule of schemathesis's report, e.g. "1 failure, 1 warning in 18.27s".
result=$(sed -n 's/^=\{3,\} \(.*\) =\{3,\}$/\1/p' "$work/schemathesis.log" | tail -n 1)
seed=$(sed -n 's/^Seed: //p' "$work/schemathesis.log" | tail -n 1)

# SIGTERM drains the hub (long-polls return at once); it gets 15 s before SIGKILL.
kill -TERM "$hub_pid" 2>/dev/null || true
for _ in $(seq 150); do kill -0 "$hub_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$hub_pid" 2>/dev/null && { echo "schemathesis.sh: accordhub ignored SIGTERM for 15 s; killing it" >&2; kill -KILL "$hub_pid"; }
hub_status=0
wait "$hub_pid" || hub_status=$?
hub_pid=""
if [[ $hub_status -ne 0 ]] || grep -qi -e 'fatal' -e 'crash' "$work/hub.err"; then
    echo "schemathesis.sh: accordhub exited $hub_status; its stderr:" >&2
    tail -n 50 "$work/hub.err" >&2
fi

if [[ $status -eq 0 ]]; then
    echo "schemathesis.sh: PASS - accordhub conforms to $spec: ${result:-no summary} (seed ${seed:-?}, hub exit $hub_status)"
else
    echo "schemathesis.sh: FAIL - schemathesis exit $status against $spec: ${result:-no summary} (seed ${seed:-?}, hub exit $hub_status); failures above, replay with SCHEMATHESIS_SEED=${seed:-?}"
fi
exit "$status"
