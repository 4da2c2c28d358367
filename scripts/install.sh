#!/usr/bin/env bash
# Installs accordd, accordctl and accordhub with their configs, schemas, systemd units
# and sysusers.d file. Safe to run again: unchanged files are left alone, and a config
# you edited is never overwritten (the new one goes beside it as *.new, as dpkg does).
#
#   PREFIX     where bin/ goes (default /usr/local)
#   DESTDIR    a staging root for packaging (default: none, install for real)
#   BUILD_DIR  where the built binaries are (default .build/release)
#   BUILD=1    build missing binaries with `swift build -c release` first
#
# Configs and schemas always go to /etc/accord, where the binaries look by default.
# Units and the sysusers.d and tmpfiles.d files go to $PREFIX/lib/{systemd/system,
# sysusers.d,tmpfiles.d} when PREFIX is /usr or /usr/local (systemd searches both),
# else to /etc/{systemd/system,sysusers.d,tmpfiles.d}.
# Run for real as root, it also creates the accord user (systemd-sysusers), the shared
# records folder, and reloads systemd when systemd is running.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

die() { echo "install.sh: $*" >&2; exit 1; }

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BUILD_DIR=${BUILD_DIR:-.build/release}
binaries=(accordd accordctl accordhub)
[[ $PREFIX == /* ]] || die "PREFIX must be an absolute path, not '$PREFIX'"
[[ $PREFIX != *[\|\&\\]* ]] || die "PREFIX must not contain | & or \\ (it is put into the units with sed)"
PREFIX=${PREFIX%/}

case $PREFIX in
    /usr | /usr/local) unitdir=$PREFIX/lib/systemd/system sysusersdir=$PREFIX/lib/sysusers.d tmpfilesdir=$PREFIX/lib/tmpfiles.d ;;
    *) unitdir=/etc/systemd/system sysusersdir=/etc/sysusers.d tmpfilesdir=/etc/tmpfiles.d ;;
esac

# Building takes minutes and needs the toolchain, so it happens only when asked.
missing=()
for b in "${binaries[@]}"; do [[ -x $BUILD_DIR/$b ]] || missing+=("$b"); done
if ((${#missing[@]})); then
    [[ ${BUILD:-} == 1 ]] || die "$BUILD_DIR has no ${missing[*]}; build with 'swift build -c release --static-swift-stdlib', or rerun with BUILD=1"
    echo "install.sh: BUILD=1: building ${binaries[*]} with swift build -c release --static-swift-stdlib (this takes a while)"
    for b in "${binaries[@]}"; do swift build -c release --static-swift-stdlib --product "$b"; done
    BUILD_DIR=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# put SRC DEST MODE: copy SRC to DEST unless DEST already holds the same bytes.
put() {
    if cmp -s "$1" "$2"; then
        echo "unchanged  $2"
    else
        install -D -m "$3" "$1" "$2"
        echo "installed  $2"
    fi
}

# config SRC DEST: like put, but an existing DEST that differs is the admin's: keep it.
config() {
    if [[ -e $2 ]] && ! cmp -s "$1" "$2"; then
        echo "kept       $2 (it differs from the shipped one, which goes to $2.new)"
        put "$1" "$2.new" 0644
    else
        put "$1" "$2" 0644
    fi
}

for b in "${binaries[@]}"; do put "$BUILD_DIR/$b" "$DESTDIR$PREFIX/bin/$b" 0755; done

config config/accordd.toml "$DESTDIR/etc/accord/accordd.toml"
config config/accordhub.toml "$DESTDIR/etc/accord/accordhub.toml"
for f in config/schemas/*.schema.json; do config "$f" "$DESTDIR/etc/accord/schemas/${f##*/}"; done

# The units name /usr/local/bin; point their Exec lines at $PREFIX/bin instead.
for unit in accordd.service accordhub.service; do
    sed "s|^\(Exec[A-Za-z]*=\)/usr/local/bin/|\1$PREFIX/bin/|" "systemd/$unit" >"$tmp/$unit"
    put "$tmp/$unit" "$DESTDIR$unitdir/$unit" 0644
done
put systemd/accord.sysusers.conf "$DESTDIR$sysusersdir/accord.conf" 0644
# The shared records folder (2770 accord:accord), as the .deb makes it.
put packaging/accord.tmpfiles "$DESTDIR$tmpfilesdir/accord.conf" 0644

# The rest changes the running system: only for a real install, as root.
[[ -z $DESTDIR && $EUID -eq 0 ]] || exit 0
if command -v systemd-sysusers >/dev/null; then
    systemd-sysusers "$sysusersdir/accord.conf"
    echo "ensured    user and group accord (systemd-sysusers)"
fi
# The default records root: setgid and group-writable, so the accord group shares it
# and new files keep the group. systemd creates /var/lib/accord itself (StateDirectory=).
if getent group accord >/dev/null && [[ ! -e /var/lib/accord/records ]]; then
    install -d -o accord -g accord -m 0750 /var/lib/accord
    install -d -o accord -g accord -m 2770 /var/lib/accord/records
    echo "created    /var/lib/accord/records (accord:accord, 2770)"
fi
# The hub serves only with a token (CONTRACT 8.4): on first install make one, store
# only its SHA-256 in the hub's config, and give the token to the local daemon.
if [[ ! -e /etc/accord/hub-token ]] && ! grep -q '^\[\[tokens\]\]' /etc/accord/accordhub.toml; then
    token=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')
    install -m 0640 -g "$(getent group accord >/dev/null && echo accord || echo root)" /dev/null /etc/accord/hub-token
    printf '%s\n' "$token" >/etc/accord/hub-token
    printf '\n[[tokens]]\nname = "%s"\nsha256 = "%s"\naccess = "rw"\n' "$(hostname)" "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" \
        >>/etc/accord/accordhub.toml
    echo "created    /etc/accord/hub-token and its [[tokens]] entry in accordhub.toml (set token_file in accordd.toml to use it)"
fi
# /run/systemd/system exists only when systemd is PID 1 (see sd_booted(3)).
if [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    echo "reloaded   systemd; start with: systemctl enable --now accordd (and accordhub)"
fi
echo "note       members of the group accord share /var/lib/accord/records: they need umask 002"
echo "           (or a default ACL on the folder) so the files and folders they create stay group-writable"
