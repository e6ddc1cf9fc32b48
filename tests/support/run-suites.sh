#!/usr/bin/env bash
# Run the whole pytest suite on SQLite, then on a throwaway PostgreSQL, and print a summary.
set -uo pipefail

py=.venv/bin/python
pgdir=$(mktemp -d /tmp/datapass-pg.XXXXXX)
pgport=${PGPORT_TEST:-54329}
logs=$(mktemp -d /tmp/datapass-tests.XXXXXX)
trap 'tests/support/postgres.sh stop "$pgdir"' EXIT

echo "==> pytest on SQLite"
TEST_DATABASE_URL= $py -m pytest "$@" 2>&1 | tee "$logs/sqlite.log"
sqlite_rc=${PIPESTATUS[0]}

echo "==> starting a throwaway PostgreSQL on 127.0.0.1:$pgport"
if pg_url=$(tests/support/postgres.sh start "$pgdir" "$pgport"); then
  echo "==> pytest on PostgreSQL"
  TEST_DATABASE_URL=$pg_url $py -m pytest "$@" 2>&1 | tee "$logs/postgres.log"
  pg_rc=${PIPESTATUS[0]}
else
  echo "PostgreSQL could not start" | tee "$logs/postgres.log"
  pg_rc=1
fi

summary() { grep -E '^=+ .*(passed|failed|error|skipped).* =+$' "$1" | tail -1; }
echo
echo "================ summary ================"
printf 'SQLite     : %s (exit %s)\n' "$(summary "$logs/sqlite.log")" "$sqlite_rc"
printf 'PostgreSQL : %s (exit %s)\n' "$(summary "$logs/postgres.log")" "$pg_rc"
rm -rf "$logs"
[ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
