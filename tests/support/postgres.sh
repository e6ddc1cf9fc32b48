#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the test suite.
#   tests/support/postgres.sh start DIR PORT   -> prints the database URL
#   tests/support/postgres.sh stop DIR
# As root, the cluster is owned by the "postgres" system user (initdb refuses root).
set -euo pipefail

action=${1:?start or stop}
dir=${2:?data directory}
port=${3:-54329}

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pgbin" ]; then
  echo "PostgreSQL server binaries not found (apt-get install postgresql)." >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

case "$action" in
  start)
    rm -rf "$dir" && mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$pgbin/initdb -D '$dir' -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync" >/dev/null
    as_owner "$pgbin/pg_ctl -D '$dir' -w -l '$dir/log' -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" >/dev/null
    as_owner "$pgbin/createdb -h 127.0.0.1 -p $port -U postgres datapass_test"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/datapass_test"
    ;;
  stop)
    as_owner "$pgbin/pg_ctl -D '$dir' -m fast -w stop" >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
