#!/usr/bin/env bash
# The main job: build, then run a hub with two datasets and three daemons on loopback
# in ./demo: alice and bob sync their copies of examples/records with the dataset
# default; alice's press desk syncs the news with the dataset press, which bob's token
# may not see. Then show what to try. Ctrl-C (or `scripts/demo.sh stop` from another
# terminal) stops everything cleanly.
#
#   scripts/demo.sh              start, print what to try, wait for Ctrl-C
#   scripts/demo.sh stop         stop a demo started elsewhere
#   scripts/demo.sh --self-test  start, walk through the tour automatically, stop
set -euo pipefail
cd "$(dirname "$0")/.."
demo="$PWD/demo"
mode="${1:-run}"

stop_all() {
    [ -f "$demo/pids" ] || return 0
    # Daemons first (they finish their step and keep pending work), then the hub.
    while read -r name pid; do
        [ "$name" = hub ] && continue
        kill -TERM "$pid" 2>/dev/null || true
    done <"$demo/pids"
    while read -r name pid; do
        [ "$name" = hub ] || while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    done <"$demo/pids"
    while read -r name pid; do
        [ "$name" = hub ] && { kill -TERM "$pid" 2>/dev/null || true; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; }
    done <"$demo/pids"
    rm -f "$demo/pids"
    echo "demo stopped; its files stay in $demo (remove the folder to start afresh)"
}

if [ "$mode" = stop ]; then
    stop_all
    exit 0
fi
if [ -f "$demo/pids" ]; then
    echo "demo: a demo seems to be running already (demo/pids); run 'scripts/demo.sh stop' first" >&2
    exit 1
fi

echo "== building (debug; the first build takes a few minutes)"
swift build --product accordhub >/dev/null
swift build --product accordd >/dev/null
swift build --product accordctl >/dev/null
bin="$PWD/.build/debug"

mkdir -p "$demo"
: >"$demo/pids"
trap 'stop_all; exit 0' INT TERM

# Two datasets: default (the agreements and their news) and press. alice and bob each
# have a token of their own, so the hub's history says who changed what (accordctl
# history); alice may write to every dataset, bob to default only. The hub keeps only
# the tokens' SHA-256.
printf '[[datasets]]\nname = "press"\n\n' >"$demo/hub.toml"
for name in alice bob; do
    mkdir -p "$demo/$name"
    printf '%s\n' "$name-demo-token" >"$demo/$name/token"
    chmod 600 "$demo/$name/token"
    grant='access = "rw"'
    [ "$name" = bob ] && grant='datasets = { default = "rw" }'
    printf '[[tokens]]\nname = "%s"\nsha256 = "%s"\n%s\n\n' "$name" \
        "$(printf %s "$name-demo-token" | "$bin/accordhub" hash-token)" "$grant" >>"$demo/hub.toml"
done
# The hub picks a free port and prints it.
"$bin/accordhub" --config "$demo/hub.toml" --listen 127.0.0.1:0 --db "$demo/hub.db" --schemas "$PWD/config/schemas" \
    >"$demo/hub.out" 2>"$demo/hub.log" &
echo "hub $!" >>"$demo/pids"
for _ in $(seq 100); do grep -q "listening on" "$demo/hub.out" 2>/dev/null && break; sleep 0.1; done
hub_url=$(grep -o 'http://[0-9.:]*' "$demo/hub.out" | head -1)
[ -n "$hub_url" ] || { echo "demo: the hub did not start; see $demo/hub.log" >&2; stop_all; exit 1; }

# start_daemon NAME FOLDER DATASET TOKEN_OWNER: a daemon syncing FOLDER/records with
# DATASET; its config, state, socket and log live in FOLDER.
start_daemon() {
    local name=$1 folder=$2 dataset=$3 owner=$4
    cat >"$folder/accordd.toml" <<EOF
root = "$folder/records"
remote = "$hub_url"
dataset = "$dataset"
schemas = "$PWD/config/schemas"
state = "$folder/state.db"
token_file = "$demo/$owner/token"

[control]
socket = "$folder/control.sock"
EOF
    "$bin/accordd" --config "$folder/accordd.toml" 2>"$folder/accordd.log" &
    echo "$name $!" >>"$demo/pids"
}
for name in alice bob; do
    mkdir -p "$demo/$name/records"
    [ -n "$(ls -A "$demo/$name/records")" ] || cp -r examples/records/. "$demo/$name/records/"
    start_daemon "$name" "$demo/$name" default "$name"
done
mkdir -p "$demo/alice/press/records"
[ -n "$(ls -A "$demo/alice/press/records")" ] || cp -r examples/records/news/. "$demo/alice/press/records/"
start_daemon press "$demo/alice/press" press alice
for folder in alice bob alice/press; do
    for _ in $(seq 100); do [ -S "$demo/$folder/control.sock" ] && break; sleep 0.1; done
    "$bin/accordctl" --socket "$demo/$folder/control.sock" sync --wait --timeout 30 >/dev/null
done

ctl_a="accordctl --socket demo/alice/control.sock"
ctl_b="accordctl --socket demo/bob/control.sock"
ctl_p="accordctl --socket demo/alice/press/control.sock"
record=agreements/us-japan-hns-fy2021.json
cat <<EOF

Accord demo: a hub at $hub_url with two datasets, default and press. Two daemons,
alice and bob, each sync their own copy of examples/records with default; a third,
alice's press desk, syncs demo/alice/press/records (the news) with press. Logs:
demo/hub.log and accordd.log in demo/alice, demo/bob and demo/alice/press. accordctl
is .build/debug/accordctl (export PATH="$bin:\$PATH").

1. Edit a record in alice's root, and watch it arrive in bob's:
     sed -i 's/"status": "[a-z_]*"/"status": "in_force"/' demo/alice/records/$record
     grep '"status"' demo/bob/records/$record
2. Make a conflict: pause bob, change the same field on both sides, resume bob:
     $ctl_b pause
     sed -i 's/"status": "[a-z_]*"/"status": "signed"/' demo/alice/records/$record
     sed -i 's/"status": "[a-z_]*"/"status": "expired"/' demo/bob/records/$record
     $ctl_b resume
     $ctl_b conflicts
     $ctl_b resolve agreement/us-japan-hns-fy2021 --keep local
3. See what happened:
     $ctl_a status
     $ctl_b log
     $ctl_a history agreement/us-japan-hns-fy2021
     curl -s --unix-socket demo/alice/control.sock http://accordd/metrics
4. The second dataset: a record in press stays there; bob's token does not see press:
     sed 's/"id": "[^"]*"/"id": "press-copy"/' demo/alice/press/records/stripes-hns-talks-2021.json >/tmp/copy.json
     mv /tmp/copy.json demo/alice/press/records/copy.json
     $ctl_p status
     ls demo/alice/records/news demo/bob/records/news
     curl -s -H "Authorization: Bearer bob-demo-token" $hub_url/v1/datasets
     curl -s -H "Authorization: Bearer bob-demo-token" "$hub_url/v1/datasets/press/changes?since=0"

Ctrl-C stops everything (or: scripts/demo.sh stop).
EOF

if [ "$mode" != --self-test ]; then
    while true; do sleep 3600 & wait $!; done
fi

# --self-test: the tour above, checked step by step.
ctl="$bin/accordctl"
fail() { echo "demo self-test: $1" >&2; stop_all; exit 1; }
wait_for() { for _ in $(seq 200); do eval "$1" && return 0; sleep 0.05; done; return 1; }
sed -i 's/"status": "[a-z_]*"/"status": "in_force"/' "$demo/alice/records/$record"
wait_for "grep -q '\"status\": \"in_force\"' '$demo/bob/records/$record'" || fail "alice's edit did not reach bob"
"$ctl" --socket "$demo/bob/control.sock" pause >/dev/null
sed -i 's/"status": "[a-z_]*"/"status": "signed"/' "$demo/alice/records/$record"
"$ctl" --socket "$demo/alice/control.sock" sync --wait >/dev/null
sed -i 's/"status": "[a-z_]*"/"status": "expired"/' "$demo/bob/records/$record"
"$ctl" --socket "$demo/bob/control.sock" resume >/dev/null
"$ctl" --socket "$demo/bob/control.sock" sync --wait >/dev/null
"$ctl" --socket "$demo/bob/control.sock" conflicts | grep -q "local:  expired" || fail "no conflict listed on bob"
"$ctl" --socket "$demo/bob/control.sock" resolve agreement/us-japan-hns-fy2021 --keep local >/dev/null || fail "resolve failed"
"$ctl" --socket "$demo/bob/control.sock" sync --wait >/dev/null
wait_for "grep -q '\"status\": \"expired\"' '$demo/alice/records/$record'" || fail "bob's resolution did not reach alice"
"$ctl" --socket "$demo/alice/control.sock" log -n 3
# The hub's history names who changed the status, newest first: bob's resolution.
history=$("$ctl" --socket "$demo/alice/control.sock" history agreement/us-japan-hns-fy2021 -n 3) || fail "history failed"
echo "$history"
echo "$history" | sed -n 2p | grep -q ' bob$' || fail "the newest revision is not credited to bob"
echo "$history" | grep -q 'status: signed -> expired' || fail "history does not show bob's change of status"
# The second dataset: the press desk's new record reaches press and no other dataset.
press="$demo/alice/press/records"
sed 's/"id": "[^"]*"/"id": "press-copy"/' "$press/stripes-hns-talks-2021.json" >"$demo/copy.json"
mv "$demo/copy.json" "$press/copy.json"
"$ctl" --socket "$demo/alice/press/control.sock" sync --wait >/dev/null || fail "the press desk did not sync"
"$ctl" --socket "$demo/alice/press/control.sock" status | grep -q "dataset: *press" || fail "status does not name the dataset press"
curl -sf -H "Authorization: Bearer alice-demo-token" "$hub_url/v1/datasets/press/records/news/press-copy" >/dev/null ||
    fail "the press desk's record is not in the dataset press"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer alice-demo-token" "$hub_url/v1/records/news/press-copy")" = 404 ] ||
    fail "the press desk's record leaked into the dataset default"
"$ctl" --socket "$demo/bob/control.sock" sync --wait >/dev/null
grep -rq '"press-copy"' "$demo/bob/records" && fail "the press desk's record reached bob's root"
datasets=$(curl -s -H "Authorization: Bearer bob-demo-token" "$hub_url/v1/datasets")
echo "bob's token sees: $datasets"
echo "$datasets" | grep -q '"press"' && fail "bob's token sees the dataset press"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer bob-demo-token" "$hub_url/v1/datasets/press/changes?since=0")" = 404 ] ||
    fail "bob's token reads the dataset press"
echo "the dataset press holds the press desk's record; bob's token sees only default"
stop_all
echo "demo self-test: passed"
