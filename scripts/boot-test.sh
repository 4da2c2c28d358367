#!/usr/bin/env bash
# Boots the .deb for real: installs it into a minimal Debian 12 root, boots that with
# systemd as PID 1 in a systemd-nspawn container, and checks the services as a team of
# local users would use them. Each check prints PASS or FAIL with the reason; the exit
# status is 1 when any fails, 2 when the test could not run. Run as root.
#
#   scripts/boot-test.sh [DEB]     (default: the newest accord_*_amd64.deb in $SCRATCH_PATH)
#
#   ACCORD_BOOT_CACHE   folder for the debootstrapped root, reused between runs
#                       (default /var/cache/accord-boot-test; built when absent, ~75 s)
#   BOOT_TEST_BUDGET    seconds the whole test may take (default 420)
#   BOOT_TEST_WATCHDOG  WatchdogSec= for accordd during the test, to keep the watchdog
#                       check short (default 5s; "unit" keeps the unit's own)
#   DEBIAN_MIRROR       for debootstrap (default http://deb.debian.org/debian)
#   SCRATCH_PATH        where build-deb.sh put the .deb (default .build)
#   KEEP_ROOT=1         keep the container's root folder afterwards, for a post-mortem
#   BOOT_TEST_SWIFT_RUNTIME  the Swift runtime folder a debug package's binaries load
#                       (build-deb.sh CONFIGURATION=debug; /opt/swift/usr/lib/swift/linux):
#                       its libraries are copied into the root at the same path
#
# Needs: debootstrap, systemd-container (systemd-nspawn), util-linux (nsenter).
set -euo pipefail
# Paths the caller gave are resolved before moving to the repository root.
self=$(readlink -f "$0")
if [[ -n ${1:-} && -z ${BOOT_TEST_WORK:-} ]]; then
    given=$1
    shift
    set -- "$(readlink -f "$given")" "$@"
fi
cd "$(dirname "$self")/.."

die() { echo "boot-test.sh: $*" >&2; exit 2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------------
# The outer run: a time budget around the inner run, and a teardown that happens even
# when the budget kills the inner run before its own teardown.
if [[ -z ${BOOT_TEST_WORK:-} ]]; then
    [[ $EUID -eq 0 ]] || die "run as root (it debootstraps, chroots and boots a container)"
    for tool in debootstrap systemd-nspawn nsenter timeout tar; do
        command -v "$tool" >/dev/null || die "$tool not found; install it: apt-get install debootstrap systemd-container util-linux"
    done
    budget=${BOOT_TEST_BUDGET:-420}
    work=$(mktemp -d "${TMPDIR:-/var/tmp}/accord-boot-test.XXXXXX")
    teardown_outer() {
        local pid
        pid=$(cat "$work/nspawn.pid" 2>/dev/null || true)
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            echo "boot-test.sh: the container is still running; stopping it"
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        if [[ ${KEEP_ROOT:-} == 1 ]]; then echo "boot-test.sh: kept $work"; else rm -rf "$work"; fi
    }
    trap teardown_outer EXIT
    trap 'exit 130' INT TERM
    status=0
    BOOT_TEST_WORK=$work timeout -k 20 "$budget" "$self" "$@" || status=$?
    [[ $status -ne 124 && $status -ne 137 ]] || echo "boot-test.sh: FAIL: over the time budget of $budget s (BOOT_TEST_BUDGET)" >&2
    exit "$status"
fi

# ---------------------------------------------------------------------------------
# The inner run.
work=$BOOT_TEST_WORK
started=$(now)
root=$work/root
cache=${ACCORD_BOOT_CACHE:-/var/cache/accord-boot-test}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
# What the root needs beyond minbase: systemd as init, what the .deb depends on (so no
# network is needed to install it), curl to talk to the hub from inside.
include=systemd,systemd-sysv,dbus,libcurl4,libsqlite3-0,ca-certificates,curl

deb=${1:-}
if [[ -z $deb ]]; then
    deb=$(ls -t "${SCRATCH_PATH:-.build}"/accord_*_amd64.deb 2>/dev/null | head -1 || true)
    [[ -n $deb ]] || die "no accord_*_amd64.deb in ${SCRATCH_PATH:-.build}; build one with scripts/build-deb.sh or name it: boot-test.sh DEB"
fi
[[ -f $deb ]] || die "$deb: no such file; build it with scripts/build-deb.sh"

# --- The cached root ---------------------------------------------------------------
# One tarball per suite, mirror and package list, so changing the list rebuilds it.
key=$(printf '%s|%s|%s' "$suite" "$mirror" "$include" | sha256sum | cut -c1-12)
tarball=$cache/$suite-minbase-$key.tar
mkdir -p "$cache"
exec 9>"$cache/.lock"
# Two runs at once: the second waits for the first one's debootstrap.
flock -w 300 9 || die "could not lock $cache/.lock within 300 s (another boot test is building the root?)"
if [[ -f $tarball ]]; then
    echo "boot-test.sh: using the cached root $tarball"
else
    echo "boot-test.sh: no cached root; debootstrap $suite (minbase + $include) into $cache"
    t=$(now)
    staging=$(mktemp -d "$cache/debootstrap.XXXXXX")
    if ! debootstrap --variant=minbase --include="$include" "$suite" "$staging/root" "$mirror" >"$staging/log" 2>&1; then
        tail -20 "$staging/log" >&2
        rm -rf "$staging"
        die "debootstrap failed (log above); check the network and DEBIAN_MIRROR"
    fi
    # Clean apt's cache: the tarball is copied on every run.
    rm -rf "$staging/root/var/cache/apt/archives/"*.deb
    tar -C "$staging/root" --numeric-owner --xattrs -cf "$staging/root.tar" .
    mv "$staging/root.tar" "$tarball"
    rm -rf "$staging"
    echo "TIME debootstrap: $(elapsed "$t") s"
fi
flock -u 9

mkdir "$root"
tar -C "$root" --numeric-owner --xattrs -xf "$tarball"
if [[ -n ${BOOT_TEST_SWIFT_RUNTIME:-} ]]; then
    [[ -d $BOOT_TEST_SWIFT_RUNTIME ]] || die "BOOT_TEST_SWIFT_RUNTIME=$BOOT_TEST_SWIFT_RUNTIME is not a folder"
    mkdir -p "$root$BOOT_TEST_SWIFT_RUNTIME"
    cp -a "$BOOT_TEST_SWIFT_RUNTIME"/*.so* "$root$BOOT_TEST_SWIFT_RUNTIME/"
fi

# --- Install the package and configure, before boot ----------------------------------
# systemd-nspawn without -b is a chroot with /proc, /dev and /run set up, and no
# systemd running: the postinst takes the same path as in a chroot or an installer.
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
cp "$deb" "$root/var/cache/accord.deb"
cat >"$root/var/cache/accord-setup.sh" <<EOF
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get install -y /var/cache/accord.deb
rm /var/cache/accord.deb
hash=\$(printf %s '$token' | accordhub hash-token)
printf '\n[[tokens]]\nname = "boot-test"\nsha256 = "%s"\naccess = "rw"\n' "\$hash" >>/etc/accord/accordhub.toml
install -m 0640 -g accord /dev/null /etc/accord/hub-token
printf '%s\n' '$token' >/etc/accord/hub-token
sed -i 's|^token_file = ""|token_file = "/etc/accord/hub-token"|' /etc/accord/accordd.toml
grep -q '^token_file = "/etc/accord/hub-token"' /etc/accord/accordd.toml
# Two members of the group, and someone outside it.
useradd -m -s /bin/sh -G accord alice
useradd -m -s /bin/sh -G accord bob
useradd -m -s /bin/sh eve
systemctl enable accordhub.service accordd.service
EOF
watchdog=${BOOT_TEST_WATCHDOG:-5s}
if [[ $watchdog != unit ]]; then
    # Only the watchdog's period; the unit stays as shipped otherwise.
    mkdir -p "$root/etc/systemd/system/accordd.service.d"
    printf '[Service]\nWatchdogSec=%s\n' "$watchdog" >"$root/etc/systemd/system/accordd.service.d/50-boot-test.conf"
fi
t=$(now)
if ! timeout 120 systemd-nspawn -q -D "$root" -M "accord-setup-$$" --register=no --keep-unit --private-network \
    /bin/sh /var/cache/accord-setup.sh >"$work/install.log" 2>&1; then
    cat "$work/install.log" >&2
    die "installing $deb into the root failed (log above)"
fi
echo "TIME install and configure: $(elapsed "$t") s"

# --- Boot ---------------------------------------------------------------------------
in_ct() { nsenter -t "$ct_pid" -a "$@"; }
# as USER SCRIPT: run SCRIPT with sh as USER (with the groups of the user database),
# umask 002 as a member of a shared folder sets it.
as() { local who=$1; shift; in_ct setpriv --reuid="$who" --regid="$who" --init-groups --reset-env sh -c "umask 002; $1"; }
# wait_until SECONDS COMMAND...: poll COMMAND until it succeeds; false at the deadline.
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}
prop() { in_ct systemctl show -p "$2" --value "$1"; }

teardown() {
    local pid
    pid=$(cat "$work/nspawn.pid" 2>/dev/null || true)
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    # An orderly shutdown; nspawn exits when the container's systemd is done.
    if [[ -n ${ct_pid:-} ]]; then in_ct systemctl poweroff --no-block >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    else kill -TERM "$pid" 2>/dev/null || true; fi
    local t=$SECONDS
    while kill -0 "$pid" 2>/dev/null && ((SECONDS - t < 30)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "boot-test.sh: the container did not power off within 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    else
        echo "boot-test.sh: container powered off in $((SECONDS - t)) s"
    fi
}
trap teardown EXIT

t_boot=$(now)
systemd-nspawn -q -D "$root" -M "accord-boot-$$" -b --register=no --keep-unit --private-network --console=pipe \
    </dev/null >"$work/console.log" 2>&1 &
echo $! >"$work/nspawn.pid"
nspawn_pid=$!
# The container's PID 1 is the child of nspawn that runs systemd.
find_init() {
    local p
    for p in /proc/[0-9]*; do
        # The parent pid is the second field after the command name "(...)".
        [[ $(sed 's/.*) //' "$p/stat" 2>/dev/null | cut -d' ' -f2) == "$nspawn_pid" && $(cat "$p/comm" 2>/dev/null) == systemd ]] || continue
        ct_pid=${p#/proc/}
        return 0
    done
    return 1
}
wait_until 30 find_init || { tail -20 "$work/console.log" >&2; die "no systemd process under systemd-nspawn (pid $nspawn_pid) within 30 s (console log above)"; }
find_init
# systemctl answers once PID 1 has its private socket; --wait then waits for the boot.
ct_answers() { in_ct systemctl is-system-running 2>/dev/null | grep -qE '^(initializing|starting|running|degraded|maintenance|stopping)$'; }
wait_until 30 ct_answers || die "systemctl in the container did not answer within 30 s"
state=$(timeout 120 nsenter -t "$ct_pid" -a systemctl is-system-running --wait 2>&1 || true)
echo "TIME boot: $(elapsed "$t_boot") s (system $state)"
case $state in
    running) ;;
    degraded) echo "boot-test.sh: degraded; failed units:"; in_ct systemctl --failed --no-legend --plain | sed 's/^/  /' ;;
    *) tail -30 "$work/console.log" >&2; die "the container did not finish booting: '$state' (console above)" ;;
esac

# --- Checks -------------------------------------------------------------------------
failed=()
checks=0
# check NAME FUNCTION: the function prints its reason; success is PASS.
check() {
    local name=$1 out rc=0 t
    checks=$((checks + 1))
    t=$(now)
    out=$("$2" 2>&1) || rc=$?
    if ((rc == 0)); then
        echo "PASS  $name ($(elapsed "$t") s)${out:+: ${out//$'\n'/ | }}"
    else
        echo "FAIL  $name ($(elapsed "$t") s)"
        sed 's/^/      /' <<<"$out"
        failed+=("$name")
    fi
}
hub=http://127.0.0.1:8480
hub_get() { in_ct curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$hub/v1/records/$1"; }
hub_has() { [[ $(hub_get "$1") == 200 ]]; }
# hub_put_news ID HEADLINE: creates news/ID on the hub, as another team member would.
hub_put_news() {
    local code
    code=$(in_ct curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" \
        -H 'If-None-Match: *' -H 'Content-Type: application/json' \
        --data "{\"kind\":\"news\",\"id\":\"$1\",\"fields\":{\"headline\":\"$2\",\"published\":\"2026-12-01\",\"source\":\"Boot Test Wire\"}}" \
        "$hub/v1/records/news/$1")
    [[ $code == 201 ]] || { echo "PUT news/$1 on the hub: $code, not 201"; return 1; }
}
records=/var/lib/accord/records
run_id=$(date +%s)

services_ready() {
    local unit ok=0
    for unit in accordhub accordd; do
        local s
        s=$(in_ct systemctl show -p Type,ActiveState,SubState,StatusText "$unit" | tr '\n' ' ')
        # Type=notify is active only after READY=1 (activating before it).
        if [[ $s == *Type=notify* && $s == *ActiveState=active* && $s == *SubState=running* ]]; then
            echo "$unit: $s"
        else
            echo "$unit is not an active, READY Type=notify service: $s"
            in_ct journalctl -u "$unit" -b --no-pager -n 15
            ok=1
        fi
    done
    [[ $(in_ct curl -sS -o /dev/null -w '%{http_code}' "$hub/v1/health") == 200 ]] || { echo "GET /v1/health is not 200"; ok=1; }
    return $ok
}

# The records alice writes and a hub record pulled into a folder she made.
member_push() {
    local file=$records/agreements/boot-$run_id.json
    as alice "mkdir -p $records/agreements && cat >$file" <<EOF || { echo "alice could not write $file"; in_ct ls -la $records; return 1; }
{
  "kind": "agreement",
  "id": "boot-$run_id",
  "title": "Boot test agreement",
  "parties": ["Japan", "United States"],
  "status": "negotiating"
}
EOF
    in_ct stat -c '%A %U:%G %n' "$records/agreements" "$file"
    wait_until 20 hub_has "agreement/boot-$run_id" || {
        echo "agreement/boot-$run_id did not reach the hub within 20 s (GET: $(hub_get "agreement/boot-$run_id"))"
        in_ct accordctl status
        in_ct journalctl -u accordd -b --no-pager -n 20
        return 1
    }
}

# A pull into a folder the daemon may not write (alice made it with umask 022): the
# reason reaches the journal, and the pull happens once alice fixes the folder.
denied_pull_retried() {
    local folder=$records/news id=denied-$run_id since
    as alice "umask 022; mkdir -p $folder" || { echo "alice could not create $folder"; return 1; }
    in_ct stat -c '%A %U:%G %n' "$folder"
    since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
    hub_put_news "$id" "Held by a folder" || return 1
    warned() { in_ct journalctl -u accordd --since "$since" -p warning --no-pager -o cat | grep -qi 'permission denied'; }
    local ok=0
    if wait_until 20 warned; then
        in_ct journalctl -u accordd --since "$since" -p warning --no-pager -o cat | grep -i 'permission denied' | head -1
    else
        echo "no warning naming 'Permission denied' in the journal within 20 s; it has:"
        in_ct journalctl -u accordd --since "$since" --no-pager -o cat | tail -10
        ok=1
    fi
    # Fixed as a member would, whatever the journal said, so the checks after this run.
    as alice "chmod g+w $folder"
    wait_until 60 in_ct test -f "$folder/$id.json" || {
        echo "news/$id was not pulled within 60 s after alice made $folder group-writable"
        in_ct accordctl status
        in_ct journalctl -u accordd --since "$since" --no-pager -o cat | tail -10
        return 1
    }
    return $ok
}

pulled=$records/news/boot-$run_id.json
hub_pull() {
    as alice "mkdir -p $records/news" || { echo "alice could not create $records/news"; return 1; }
    in_ct stat -c '%A %U:%G %n' "$records/news"
    hub_put_news "boot-$run_id" "Pulled by the boot test" || return 1
    wait_until 20 in_ct test -f "$pulled" || {
        echo "the hub's news/boot-$run_id was not written to $pulled within 20 s"
        in_ct accordctl status
        in_ct accordctl log -n 10
        in_ct journalctl -u accordd -b --no-pager -n 20
        return 1
    }
    in_ct stat -c '%A %U:%G %n' "$pulled"
}

second_member_edit() {
    in_ct test -f "$pulled" || { echo "no pulled file $pulled (the pull failed above)"; return 1; }
    # In place, as an editor that keeps the file: this needs the group's write bit.
    as bob "sed 's/Pulled by the boot test/Edited by bob/' $pulled >/tmp/edit.json && cat /tmp/edit.json >$pulled" ||
        { echo "bob (a member of accord) cannot write the pulled file: $(in_ct stat -c '%A %U:%G' "$pulled")"; return 1; }
    edited() { in_ct curl -fsS -H "Authorization: Bearer $token" "$hub/v1/records/news/boot-$run_id" | grep -q 'Edited by bob'; }
    wait_until 20 edited || { echo "bob's edit did not reach the hub within 20 s"; in_ct accordctl status; return 1; }
}

status_text_current() {
    # Let the syncs above settle, then STATUS= must say what accordctl status says.
    local json state last text
    settled() { json=$(in_ct accordctl status --json) && grep -q '"state" *: *"idle"' <<<"$json" && grep -qE '"pending" *: *0\b' <<<"$json"; }
    wait_until 20 settled || { echo "accordctl status did not reach idle with nothing pending within 20 s: $json"; return 1; }
    state=$(sed -n 's/.*"state" *: *"\([^"]*\)".*/\1/p' <<<"$json" | head -1)
    last=$(sed -n 's/.*"last_sync" *: *"\([^"]*\)".*/\1/p' <<<"$json" | head -1)
    current() { text=$(prop accordd StatusText); [[ $text == "$state; last sync $last" ]]; }
    if wait_until 5 current; then
        echo "StatusText=$text"
    else
        echo "StatusText is '$text' 5 s after accordctl status said state $state, last sync $last"
        return 1
    fi
}

member_ctl() {
    local out
    out=$(as alice "accordctl status" 2>&1) || { echo "accordctl status as alice (a member) failed: $out"; return 1; }
    echo "alice: $(head -1 <<<"$out")"
}

non_member_refused() {
    local out rc=0
    out=$(as eve "accordctl status" 2>&1) || rc=$?
    echo "eve (not in accord): exit $rc: $out"
    ((rc == 3)) || { echo "want exit 3 (daemon not reachable), got $rc"; return 1; }
    grep -q '/run/accord' <<<"$out" || { echo "the message does not name the socket or /run/accord"; return 1; }
    grep -qi 'permission' <<<"$out" || { echo "the message does not say permission is the cause"; return 1; }
}

reload_applies() {
    local pid since policy
    pid=$(prop accordd MainPID)
    since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
    policy=prefer-local
    in_ct sed -i "s/^conflict_policy = .*/conflict_policy = \"$policy\"/" /etc/accord/accordd.toml
    in_ct systemctl reload accordd || { echo "systemctl reload accordd failed"; in_ct systemctl status accordd --no-pager -n 10; return 1; }
    reloaded() { in_ct journalctl -u accordd --since "$since" --no-pager -o cat | grep -q "reloaded .*policy $policy"; }
    local ok=0
    if ! wait_until 10 reloaded; then
        echo "no 'reloaded ... policy $policy' in the journal within 10 s; it has:"
        in_ct journalctl -u accordd --since "$since" --no-pager
        ok=1
    fi
    [[ $(prop accordd MainPID) == "$pid" ]] || { echo "MainPID changed on reload: $pid -> $(prop accordd MainPID)"; ok=1; }
    ((ok)) || in_ct journalctl -u accordd --since "$since" --no-pager -o cat | grep reloaded | tail -1
    in_ct sed -i 's/^conflict_policy = .*/conflict_policy = "merge"/' /etc/accord/accordd.toml
    in_ct systemctl reload accordd || true
    return $ok
}

watchdog_restarts() {
    local pid restarted
    pid=$(prop accordd MainPID)
    [[ $pid -gt 0 ]] || { echo "accordd has no main pid"; return 1; }
    # The shell's kill: a minimal root has no /bin/kill (procps).
    in_ct sh -c "kill -STOP $pid"
    # Watchdog period, SIGABRT ignored while stopped until TimeoutAbortSec (= the stop
    # timeout, 15 s), RestartSec 5 s, then a start to READY.
    restarted() { local p; p=$(prop accordd MainPID); [[ $p -gt 0 && $p != "$pid" && $(prop accordd ActiveState) == active ]]; }
    wait_until 90 restarted || {
        echo "accordd (pid $pid, SIGSTOPped) was not restarted within 90 s: $(in_ct systemctl show -p MainPID,ActiveState,SubState,NRestarts accordd | tr '\n' ' ')"
        in_ct sh -c "kill -CONT $pid" 2>/dev/null
        return 1
    }
    echo "pid $pid -> $(prop accordd MainPID), $(in_ct systemctl show -p NRestarts,WatchdogUSec accordd | tr '\n' ' ')"
    in_ct journalctl -u accordd -b --no-pager -o cat | grep -i watchdog | tail -2
}

# Every start so far (boot, reloads, the watchdog's restart) and every accordctl run
# by the members: no thread refused its priority (our work runs at nice 0; the units
# and accordctl keep libdispatch's own log off).
no_priority_refusals() {
    local lines
    lines=$(in_ct journalctl -b --no-pager -o cat | grep -c 'Failed to set thread priority' || true)
    [[ $lines -eq 0 ]] || { echo "$lines 'Failed to set thread priority' lines in this boot's journal"; return 1; }
    echo "no 'Failed to set thread priority' in this boot's journal ($(in_ct systemctl show -p NRestarts accordd))"
}

bad_config_in_journal() {
    local since out
    in_ct cp /etc/accord/accordd.toml /etc/accord/accordd.toml.boot-test
    in_ct sh -c "sed -i '1i bogus_key_for_boot_test = 1' /etc/accord/accordd.toml"
    since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
    local ok=0
    if timeout 30 nsenter -t "$ct_pid" -a systemctl restart accordd; then
        echo "accordd started with an unknown key in its config"
        ok=1
    fi
    # Exit 2 is RestartPreventExitStatus: the unit must stay failed, not loop.
    stopped() { [[ $(prop accordd ActiveState) == failed ]]; }
    wait_until 20 stopped || { echo "accordd is $(prop accordd ActiveState), not failed, with a bad config"; ok=1; }
    echo "exit: $(in_ct systemctl show -p ExecMainStatus,NRestarts accordd | tr '\n' ' ')"
    out=$(in_ct journalctl -u accordd --since "$since" -p warning --no-pager -o cat)
    in_ct mv /etc/accord/accordd.toml.boot-test /etc/accord/accordd.toml
    in_ct systemctl reset-failed accordd
    timeout 60 nsenter -t "$ct_pid" -a systemctl start accordd || { echo "accordd did not start again with the good config"; ok=1; }
    if grep -q bogus_key_for_boot_test <<<"$out"; then
        grep bogus_key_for_boot_test <<<"$out" | head -1
        return $ok
    else
        echo "journalctl -u accordd -p warning does not name the bad key; it shows:"
        echo "${out:-(nothing)}"
        echo "at every priority:"
        in_ct journalctl -u accordd --since "$since" --no-pager -o verbose | grep -E '^ *(PRIORITY|MESSAGE)=' | grep -B1 -A0 bogus | head -6
        return 1
    fi
}

security_exposure() {
    local line level
    line=$(in_ct systemd-analyze security accordd.service 2>&1 | grep 'Overall exposure level')
    level=$(sed -n 's/.*: \([0-9.]*\).*/\1/p' <<<"$line")
    echo "$line"
    [[ -n $level ]] || return 1
    awk -v l="$level" 'BEGIN { exit !(l <= 1.4) }' || { echo "exposure $level is worse than 1.4"; return 1; }
}

clean_stop() {
    local ok=0 unit
    timeout 40 nsenter -t "$ct_pid" -a systemctl stop accordd accordhub || { echo "systemctl stop failed or took over 40 s"; ok=1; }
    for unit in accordd accordhub; do
        local s
        s=$(in_ct systemctl show -p ActiveState,Result,ExecMainCode,ExecMainStatus "$unit" | tr '\n' ' ')
        # ExecMainCode=1 is CLD_EXITED: exited by itself (0), not killed.
        [[ $s == *ActiveState=inactive* && $s == *Result=success* && $s == *ExecMainCode=1* && $s == *ExecMainStatus=0* ]] ||
            { echo "$unit did not stop cleanly: $s"; ok=1; }
        echo "$unit: $s"
    done
    return $ok
}

# After the services stopped: what the package leaves behind.
remove_and_purge() {
    local ok=0
    in_ct sh -c 'DEBIAN_FRONTEND=noninteractive apt-get remove -y accord' >/dev/null || { echo "apt-get remove accord failed"; return 1; }
    in_ct test ! -e /usr/bin/accordd || { echo "remove left /usr/bin/accordd"; ok=1; }
    in_ct test -f /etc/accord/accordd.toml || { echo "remove deleted /etc/accord/accordd.toml (configs are kept until purge)"; ok=1; }
    in_ct test -f "$records/agreements/boot-$run_id.json" || { echo "remove deleted the records"; ok=1; }
    in_ct sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y accord' >/dev/null || { echo "apt-get purge accord failed"; return 1; }
    in_ct test ! -e /etc/accord || { echo "purge left /etc/accord"; ok=1; }
    in_ct test -f "$records/agreements/boot-$run_id.json" || { echo "purge deleted the records in /var/lib/accord"; ok=1; }
    in_ct test ! -e /etc/systemd/system/multi-user.target.wants/accordd.service || { echo "purge left the enablement link"; ok=1; }
    echo "remove kept /etc/accord and /var/lib/accord; purge removed /etc/accord and kept the records"
    return $ok
}

check "services active and READY (Type=notify)" services_ready
check "a member's record reaches the hub" member_push
check "a pull refused by a folder's mode is logged, and retried once it is fixed" denied_pull_retried
check "a hub record is pulled into a folder a member created" hub_pull
check "a second member edits a pulled file" second_member_edit
check "STATUS= matches accordctl status" status_text_current
check "accordctl status works for a member" member_ctl
check "accordctl status refused for a non-member, naming the socket and permission" non_member_refused
check "systemctl reload applies a config change" reload_applies
check "the watchdog restarts a SIGSTOPped daemon" watchdog_restarts
check "no thread priority refused in the journal (libdispatch)" no_priority_refusals
check "journalctl -p warning shows a bad config's reason" bad_config_in_journal
check "systemd-analyze security accordd <= 1.4" security_exposure
check "systemctl stop of both is clean" clean_stop
check "apt-get remove keeps configs and data, purge removes configs" remove_and_purge

teardown
trap - EXIT
echo "TIME whole boot test: $(elapsed "$started") s"
if ((${#failed[@]})); then
    echo "boot-test.sh: ${#failed[@]} of $checks checks failed: ${failed[*]}"
    exit 1
fi
echo "boot-test.sh: all $checks checks passed"
