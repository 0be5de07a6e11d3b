#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests and the bench: Debian's server binaries, a data
# directory of its own, a free loopback port, trust authentication, durability off (it holds
# nothing worth keeping). Prints the URL to put in RELAIS_TEST_DATABASE_URL.
#   scripts/pg-cluster.sh start DIR    initdb (once) and start; prints postgres://relais@127.0.0.1:PORT/relais
#   scripts/pg-cluster.sh stop DIR
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: pg-cluster.sh start|stop DIR}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "pg-cluster: no PostgreSQL server (apt-get install postgresql)" >&2; exit 69; }

# The server refuses to run as root: run it as Debian's postgres user then.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U relais --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" start >/dev/null
    "$bin/psql" -h 127.0.0.1 -p "$port" -U relais -d postgres -qAtc "select 1 from pg_database where datname = 'relais'" | grep -q 1 \
      || "$bin/createdb" -h 127.0.0.1 -p "$port" -U relais relais
    echo "postgres://relais@127.0.0.1:$port/relais"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null
    ;;
  *) echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 64 ;;
esac
