#!/usr/bin/env bash
# Builds accord_<version>_amd64.deb: accordd, accordctl and accordhub from a release
# build with the Swift runtime linked in (--static-swift-stdlib), the systemd units,
# sysusers.d and tmpfiles.d entries, the configs and schemas in /etc/accord as
# conffiles, man pages made from the --help texts, and shell completions.
# The package installs and enables nothing to run: configure /etc/accord first.
#
#   SCRATCH_PATH  swift build's scratch folder (default .build)
#   CONFIGURATION release (default) or debug: CI packages the debug build it tested,
#                 as built (the Swift runtime linked dynamically, from the toolchain's
#                 /opt/swift/usr/lib/swift/linux, which the boot test copies in), to
#                 boot-test the package without a second full build. Such a package
#                 runs only where that runtime is; a package to ship is a release one
#   JOBS          parallel build jobs (default: swift's own choice)
#   OUT_DIR       where the .deb goes (default: $SCRATCH_PATH)
#   SKIP_BUILD=1  package the binaries already in $SCRATCH_PATH/$CONFIGURATION
#
# Prints the path of the .deb as its last line. Needs dpkg-deb; dpkg-shlibdeps (from
# dpkg-dev) computes Depends when present, else a fixed list is used.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

die() { echo "build-deb.sh: $*" >&2; exit 1; }

SCRATCH_PATH=${SCRATCH_PATH:-.build}
OUT_DIR=${OUT_DIR:-$SCRATCH_PATH}
binaries=(accordd accordctl accordhub)
command -v dpkg-deb >/dev/null || die "dpkg-deb not found; install dpkg (apt-get install dpkg)"
[[ $(dpkg --print-architecture) == amd64 ]] || die "this builds amd64 packages only; run it on amd64"

CONFIGURATION=${CONFIGURATION:-release}
[[ $CONFIGURATION == release || $CONFIGURATION == debug ]] || die "CONFIGURATION must be release or debug, not '$CONFIGURATION'"
build=(swift build -c "$CONFIGURATION" --static-swift-stdlib --scratch-path "$SCRATCH_PATH")
compression=(-Zxz)
if [[ $CONFIGURATION == debug ]]; then
    # The plain debug build, as `swift build` makes it for the tests: relinking it
    # statically would leave that build unable to link plainly again.
    build=(swift build --scratch-path "$SCRATCH_PATH")
    # Its binaries are large: a quick compression, for a test package.
    compression=(-Zgzip -z1)
fi
[[ -n ${JOBS:-} ]] && build+=(-j "$JOBS")
if [[ ${SKIP_BUILD:-} != 1 ]]; then
    command -v swift >/dev/null || die "swift not found; put a Swift 6 toolchain on PATH, or set SKIP_BUILD=1"
    started=$SECONDS
    for b in "${binaries[@]}"; do
        echo "build-deb.sh: ${build[*]} --product $b"
        "${build[@]}" --product "$b" || die "swift build of $b failed (see above)"
    done
    echo "build-deb.sh: built in $((SECONDS - started)) s"
fi
bin=$SCRATCH_PATH/$CONFIGURATION
for b in "${binaries[@]}"; do
    [[ -x $bin/$b ]] || die "$bin/$b is missing; build it (unset SKIP_BUILD) or set SCRATCH_PATH"
    # A release package depends on no Swift runtime: a dynamic one would be missing on
    # the target.
    if [[ $CONFIGURATION == release ]] && readelf -d "$bin/$b" | grep -qE 'NEEDED.*lib(swift|Foundation|dispatch|BlocksRuntime|_Foundation)'; then
        die "$bin/$b links the Swift runtime dynamically; build with --static-swift-stdlib"
    fi
done

version=$("$bin/accordd" --version) || die "$bin/accordd --version failed"
source_version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/AccordCore/AccordVersion.swift)
[[ $version == "$source_version" ]] ||
    die "$bin/accordd says $version but Sources/AccordCore/AccordVersion.swift says $source_version; rebuild"
[[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "version '$version' is not a Debian version"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/accord
# The page date: the last commit's, so the same tree gives the same pages.
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%F)

# Binaries, stripped of debug info (a third of their size).
for b in "${binaries[@]}"; do
    install -D -m 0755 "$bin/$b" "$stage/usr/bin/$b"
    strip --strip-unneeded "$stage/usr/bin/$b"
done

# Units: /usr/local/bin in the sources becomes /usr/bin.
for unit in accordd.service accordhub.service; do
    install -d "$stage/usr/lib/systemd/system"
    sed 's|^\(Exec[A-Za-z]*=[-@:+!|]*\)/usr/local/bin/|\1/usr/bin/|' "systemd/$unit" >"$stage/usr/lib/systemd/system/$unit"
    chmod 0644 "$stage/usr/lib/systemd/system/$unit"
    ! grep -v "^#" "$stage/usr/lib/systemd/system/$unit" | grep -q /usr/local || die "systemd/$unit still names /usr/local after the rewrite"
done
install -D -m 0644 systemd/accord.sysusers.conf "$stage/usr/lib/sysusers.d/accord.conf"
install -D -m 0644 packaging/accord.tmpfiles "$stage/usr/lib/tmpfiles.d/accord.conf"

# Configs and schemas are conffiles: remove keeps them, purge removes them, and an
# upgrade asks before replacing one the admin changed.
install -D -m 0644 config/accordd.toml "$stage/etc/accord/accordd.toml"
install -D -m 0644 config/accordhub.toml "$stage/etc/accord/accordhub.toml"
for f in config/schemas/*.schema.json; do install -D -m 0644 "$f" "$stage/etc/accord/schemas/${f##*/}"; done

# Man pages and completions, from the binaries themselves.
install -d "$stage/usr/share/man/man1" "$stage/usr/share/bash-completion/completions" \
    "$stage/usr/share/zsh/vendor-completions" "$stage/usr/share/fish/vendor_completions.d"
for b in "${binaries[@]}"; do
    packaging/gen-man.sh "$bin/$b" "$version" "$date" >"$stage/usr/share/man/man1/$b.1"
    gzip -9n "$stage/usr/share/man/man1/$b.1"
    "$bin/$b" --generate-completion-script bash >"$stage/usr/share/bash-completion/completions/$b"
    "$bin/$b" --generate-completion-script zsh >"$stage/usr/share/zsh/vendor-completions/_$b"
    "$bin/$b" --generate-completion-script fish >"$stage/usr/share/fish/vendor_completions.d/$b.fish"
done

# Documentation.
install -d "$stage/usr/share/doc/accord"
gzip -9nc README.md >"$stage/usr/share/doc/accord/README.md.gz"
[[ -f CHANGELOG.md ]] && gzip -9nc CHANGELOG.md >"$stage/usr/share/doc/accord/changelog.gz"
install -m 0644 packaging/copyright "$stage/usr/share/doc/accord/copyright"

# Depends: the shared libraries the binaries load (libc6, libcurl4, libsqlite3-0,
# libstdc++6 ...), as dpkg-shlibdeps finds them, plus systemd for the units.
# (A debug package's Swift runtime comes from no Debian package: the fixed list.)
if [[ $CONFIGURATION == release ]] && command -v dpkg-shlibdeps >/dev/null; then
    mkdir -p "$tmp/src/debian"
    printf 'Source: accord\n\nPackage: accord\nArchitecture: amd64\n' >"$tmp/src/debian/control"
    shlibs=$(cd "$tmp/src" && dpkg-shlibdeps -O "${binaries[@]/#/-e$stage/usr/bin/}" 2>"$tmp/shlibdeps.err") ||
        { cat "$tmp/shlibdeps.err" >&2; die "dpkg-shlibdeps failed"; }
    depends=$(sed -n 's/^shlibs:Depends=//p' <<<"$shlibs")
else
    [[ $CONFIGURATION == debug ]] || echo "build-deb.sh: dpkg-shlibdeps not found (apt-get install dpkg-dev); using a fixed Depends list"
    depends="libc6 (>= 2.36), libcurl4 (>= 7.88), libsqlite3-0 (>= 3.40), libstdc++6, libgcc-s1"
fi
depends="$depends, systemd (>= 247)"
for lib in libc6 libcurl4 libsqlite3-0; do
    grep -q "\b$lib\b" <<<"$depends" || die "Depends lacks $lib ($depends); check the binaries with ldd"
done

install -d "$stage/DEBIAN"
sed -e "s|@VERSION@|$version|" -e "s|@DEPENDS@|$depends|" \
    -e "s|@INSTALLED_SIZE@|$(du -sk --exclude=DEBIAN "$stage" | cut -f1)|" packaging/control.in >"$stage/DEBIAN/control"
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/$script" "$stage/DEBIAN/$script"; done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's|  \./|  |') >"$stage/DEBIAN/md5sums"

mkdir -p "$OUT_DIR"
deb=$OUT_DIR/accord_${version}_amd64.deb
dpkg-deb --build --root-owner-group "${compression[@]}" "$stage" "$deb" >/dev/null || die "dpkg-deb --build failed"
echo "build-deb.sh: $(dpkg-deb -f "$deb" Package Version Depends | tr '\n' ' ')"
readlink -f "$deb"
