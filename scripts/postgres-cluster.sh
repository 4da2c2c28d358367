#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests (Debian's postgresql; run as root).
#
#   scripts/postgres-cluster.sh start DIR   initdb into DIR, start it on a free port on
#                                           127.0.0.1 (socket in DIR), create the
#                                           database accord; prints its URL. On a DIR
#                                           started before: starts it again, same port
#   scripts/postgres-cluster.sh stop DIR    stop it (the folder stays; remove it after)
#   scripts/postgres-cluster.sh createdb DIR NAME
#                                           a new empty database in it; prints its URL
#
# PostgreSQL refuses to run as root: the cluster belongs to the postgres user. Trust
# authentication on loopback only; fsync stays on, as a hub relies on it.
set -euo pipefail
action=${1:-}
dir=${2:-}
# Absolute: the socket folder is given to the server, which resolves it from its data folder.
[[ -n $dir ]] && dir=$(realpath -m "$dir")
die() { echo "postgres-cluster.sh: $*" >&2; exit 2; }
[[ $action == start || $action == stop || $action == createdb ]] && [[ -n $dir ]] || die "usage: postgres-cluster.sh start|stop DIR, or createdb DIR NAME"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $bin/initdb ]] || die "no PostgreSQL server found under /usr/lib/postgresql; install it: apt-get install postgresql"
as_postgres() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [[ $action == createdb ]]; then
    name=${3:-}
    [[ $name =~ ^[a-z][a-z0-9_]*$ ]] || die "createdb needs a database name of lower-case letters, digits and _"
    port=$(cat "$dir/port")
    as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -q -c "CREATE DATABASE $name" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/$name?sslmode=disable"
    exit 0
fi
if [[ $action == stop ]]; then
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    exit 0
fi

fresh=0
if [[ ! -f $dir/port ]]; then
    fresh=1
    mkdir -p "$dir"
    [[ $EUID -eq 0 ]] && chown postgres: "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$dir/port"
fi
port=$(cat "$dir/port")
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
    { cat "$dir/server.log" >&2; die "the server did not start"; }
((fresh)) && as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -q -c "CREATE DATABASE accord" >/dev/null
echo "postgres://postgres@127.0.0.1:$port/accord?sslmode=disable"
