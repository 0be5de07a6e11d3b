#!/usr/bin/env bash
# npm test: two passes.
#   1. the whole suite on SQLite, as always;
#   2. the store, dispatcher and API suites again on PostgreSQL (issue 15): on the database
#      RELAIS_TEST_DATABASE_URL names, else on a throw-away cluster started here in a temp directory
#      (scripts/pg-cluster.sh: needs Debian's postgresql server binaries) and stopped at the end.
#      The harness (test/support/harness.ts, testDatabase) gives each test daemon a fresh schema.
# With no PostgreSQL at all (no URL, no server binaries) pass 2 is skipped, saying so, and the exit
# status is pass 1's. Otherwise it is non-zero when either pass failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# A shell set up for a demo daemon must not move the tests' databases: the SQLite pass must not
# see a PostgreSQL URL (the harness would put every test on it), nor any spawned `relais`.
pg_url=${RELAIS_TEST_DATABASE_URL:-}
unset RELAIS_TEST_DATABASE_URL RELAIS_DATABASE_URL

run_tests() { node --import tsx --test --test-concurrency=2 "$@"; }

# CPU seconds (user + system) of this script's finished children, from /proc (empty elsewhere): a
# pass's CPU beside its wall time tells a slow machine from a test that waits.
cpu_seconds() {
  local stat
  stat=$(cat /proc/$$/stat 2>/dev/null) || return 0
  set -- ${stat##*) }
  echo $(( (${14} + ${15}) / $(getconf CLK_TCK) ))
}

# Pass 2's files: what goes through the store, the dispatcher or the API. Not the files about the
# SQLite file itself, nor those that open it directly (they would read a file the daemon under
# test never wrote):
#   backup, upgrade, crash   the SQLite file: backups, old files, kill -9 on it
#   ledger                   opens a SQLite store of its own (and a SQLite trigger)
#   reload                   spawns daemons whose YAML names the SQLite file; openStore on it
#   sub-accounts             "relais doctor …": the CLI checks the SQLite file
#   faults/shutdown          openStore on the SQLite file after the stop
# test/integration/cluster-*.test.ts (several nodes on one PostgreSQL) come with the glob.
SQLITE_ONLY=" backup upgrade crash ledger reload sub-accounts "
pg_files=()
for f in test/integration/*.test.ts; do
  name=$(basename "$f" .test.ts)
  [[ "$SQLITE_ONLY" == *" $name "* ]] || pg_files+=("$f")
done
pg_files+=(test/conformance/*.test.ts test/attack/{fuzz,isolation,jwt,logs}.test.ts test/faults/{link,receipts,throttle,malformed}.test.ts)

status1=0 status2=0
t0=$SECONDS c0=$(cpu_seconds)
echo "== npm test, pass 1/2: the whole suite on SQLite"
run_tests test/*/*.test.ts || status1=$?
time1=$((SECONDS - t0)) c1=$(cpu_seconds)

cluster_dir=''
stop_cluster() {
  if [ -n "$cluster_dir" ]; then
    scripts/pg-cluster.sh stop "$cluster_dir" || true
    rm -rf "$cluster_dir"
    cluster_dir=''
  fi
}
trap stop_cluster EXIT
trap 'stop_cluster; exit 130' INT
trap 'stop_cluster; exit 143' TERM

pg_note=''
if [ -z "$pg_url" ]; then
  if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/relais-test-pg.XXXXXX")
    if pg_url=$(scripts/pg-cluster.sh start "$cluster_dir"); then
      pg_note=" (a throw-away cluster in $cluster_dir)"
    else
      echo "npm test: PostgreSQL pass FAILED: its server binaries are installed but scripts/pg-cluster.sh could not start a cluster:" >&2
      tail -n 20 "$cluster_dir"/initdb.log "$cluster_dir"/server.log 2>/dev/null >&2
      pg_url='' status2=1
    fi
  else
    pg_note=skipped
  fi
fi

t2=$SECONDS
if [ "$pg_note" = skipped ]; then
  echo "npm test: PostgreSQL pass SKIPPED: RELAIS_TEST_DATABASE_URL is not set and no PostgreSQL server is installed (/usr/lib/postgresql/*/bin/postgres; apt-get install postgresql)"
elif [ -n "$pg_url" ]; then
  echo "== npm test, pass 2/2: ${#pg_files[@]} files on PostgreSQL ${pg_url/\/\/*@/\/\/…@}$pg_note"
  # While the port goes on, a test may wait forever on PostgreSQL (a claim nobody answers, a stop
  # that drains nothing): no file may take more than 10 min (Node 20 times each file as a whole
  # under --test), and a file whose tests left a daemon running still ends.
  RELAIS_TEST_DATABASE_URL=$pg_url run_tests --test-timeout=600000 --test-force-exit "${pg_files[@]}" || status2=$?
fi
time2=$((SECONDS - t2)) c2=$(cpu_seconds)
stop_cluster

verdict() { [ "$1" = 0 ] && echo ok || echo "FAILED ($1)"; }
# CPU of the test processes only (the PostgreSQL server is not a child of this script).
cpu() { [ -n "$1" ] && [ -n "$2" ] && echo " (tests' CPU $(($2 - $1)) s)"; }
echo "npm test: SQLite pass $(verdict $status1) in ${time1} s$(cpu "$c0" "$c1"); PostgreSQL pass $([ "$pg_note" = skipped ] && echo skipped || echo "$(verdict $status2) in ${time2} s$(cpu "$c1" "$c2")")"
[ "$status1" = 0 ] && [ "$status2" = 0 ]
