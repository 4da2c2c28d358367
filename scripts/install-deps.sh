#!/usr/bin/env bash
# Installs the system libraries Accord builds against (Debian/Ubuntu). The Swift 6
# toolchain itself is expected on PATH (swift.org's Linux toolchain).
set -euo pipefail
# iproute2 and nftables: the network-fault tests make their own namespaces and links.
# nginx-light: a test runs the README's reverse-proxy example with real nginx.
# acl: the default-ACL tests. dpkg-dev, debootstrap and systemd-container: the Debian
# package is built and booted in a minimal Debian under systemd (scripts/boot-test.sh).
# postgresql: the hub's tests run a second time on a throw-away PostgreSQL cluster.
packages=(libcurl4-openssl-dev libsqlite3-dev python3 systemd curl openssl iproute2 nftables nginx-light acl
    binutils dpkg-dev debootstrap systemd-container postgresql)
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y "${packages[@]}"
if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: no 'swift' on PATH; install the Swift 6 toolchain for Linux and run this again" >&2
    exit 1
fi
