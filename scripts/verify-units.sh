#!/usr/bin/env bash
# Checks the systemd units and the sysusers file as installed, not as written: stages
# them with scripts/install.sh into a temporary root, then runs
# `systemd-analyze verify --root=STAGE` (which also checks that every Exec command is
# there and executable) and `systemd-sysusers --root=STAGE --dry-run`.
# Both report most mistakes (an unknown key, a bad value) as warnings and still exit 0,
# so any line that names our files fails the check. Works without systemd as PID 1.
#
#   BUILD_DIR  the binaries to stage (default .build/release); placeholders if missing
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "verify-units.sh: $*" >&2; exit 1; }
for tool in systemd-analyze systemd-sysusers; do
    command -v "$tool" >/dev/null || fail "$tool not found; install systemd (apt-get install systemd)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# Real binaries when built; else empty executables, which is all verify looks at.
bins=${BUILD_DIR:-.build/release}
if ! [[ -x $bins/accordd && -x $bins/accordctl && -x $bins/accordhub ]]; then
    echo "verify-units.sh: no built binaries in $bins; staging placeholders"
    bins=$tmp/bin
    mkdir -p "$bins"
    for b in accordd accordctl accordhub; do install -m 0755 /dev/null "$bins/$b"; done
fi

# --root resolves everything inside the stage, so it needs the system's units
# (network-online.target, multi-user.target ...), minus any accord units installed there.
for dir in /lib/systemd/system /usr/lib/systemd/system; do
    [[ -d $dir ]] || continue
    mkdir -p "$root$dir"
    cp -a "$dir/." "$root$dir/"
    rm -f "$root$dir"/accord*
done

DESTDIR=$root PREFIX=/usr/local BUILD_DIR=$bins scripts/install.sh >/dev/null
units=$(find "$root" -name 'accord*.service')
[[ -n $units ]] || fail "install.sh staged no units"

# Commands the units take from the system (ExecReload=/bin/sh) must exist on every
# Debian system, so they must come from an Essential package: /bin/kill, from procps,
# does not (status=203/EXEC on a minimal system). Only those are staged; anything else
# stays missing and verify reports it.
command -v dpkg-query >/dev/null || fail "dpkg-query not found; run on Debian or Ubuntu"
for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!|]*\([^ ]*\).*/\1/p' $units | sort -u); do
    [[ -e $root$cmd ]] && continue
    pkg=$(dpkg -S "$cmd" 2>/dev/null | sed -n 's/^\([^ :]*\)\(:[^ ]*\)\{0,1\}: .*/\1/p' | head -1)
    [[ -n $pkg ]] || fail "$cmd (in an Exec line) belongs to no installed package; use a command from an Essential package, e.g. /bin/sh"
    [[ $(dpkg-query -W -f='${Essential}' "$pkg") == yes ]] ||
        fail "$cmd (in an Exec line) comes from $pkg, which is not Essential and may be missing (status=203/EXEC); use /bin/sh -c '...' or another Essential command"
    install -D "$cmd" "$root$cmd"
done

status=0
out=$(systemd-analyze verify --root="$root" accordd.service accordhub.service 2>&1) || status=$?
ours=$(grep -E 'accord(d|hub)\.service' <<<"$out" || true)
if [[ $status -ne 0 || -n $ours ]]; then
    echo "$out" >&2
    fail "systemd-analyze verify found problems in the units (exit $status)"
fi

# verify skips [Install]: check that each WantedBy= target exists.
for target in $(sed -n 's/^WantedBy=//p' $units); do
    [[ -e $root/lib/systemd/system/$target || -e $root/usr/lib/systemd/system/$target ]] || fail "WantedBy=$target: no such unit"
done

out=$(systemd-sysusers --root="$root" --dry-run 2>&1)
if grep -q 'accord\.conf:' <<<"$out" || ! grep -q "Creating user 'accord'" <<<"$out"; then
    echo "$out" >&2
    fail "systemd-sysusers rejects sysusers.d/accord.conf or does not create the user accord"
fi

echo "ok: accordd.service and accordhub.service pass systemd-analyze verify ($(systemd-analyze --version | head -1)), staged with PREFIX=/usr/local"
echo "ok: sysusers.d/accord.conf creates the user and group accord"
