#!/usr/bin/env bash
# `make bench`: seed N requests (default 100 000) into a throwaway database, serve the project
# and the floor (FLOOR_DIR) with gunicorn (2 workers each), load each hot path with wrk
# (1 thread x 8 connections) and print the table: floor req/s, project req/s, ratio, queries.
#   BENCH_DATABASE_URL=postgresql+psycopg://user@host:port/db   PostgreSQL (two databases are
#   created next to it, then dropped); SQLite files in a temporary directory otherwise.
#   BENCH_PATHS="queue request"   measure only these paths (keys of bench/paths.py; default all)
#   BENCH_ROUNDS=3 BENCH_DURATION=5s   rounds of (floor's path, project's path) pairs; the table
#   gives the median ratio (docs/performance.md: why interleaved)
set -euo pipefail
root=$(pwd)
py=$root/.venv/bin
n=${BENCH_REQUESTS:-100000}
floor_dir=$(cd "${FLOOR_DIR:-../shared/bench/floor}" && pwd)
duration=${BENCH_DURATION:-5s}
port=${BENCH_PORT:-8766}
floor_port=${FLOOR_PORT:-8765}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
work=$(mktemp -d /tmp/datapass-bench.XXXXXX)
mkdir -p "$work/wrk" "$work/instance" "$work/floor"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then "$py/python" bench/databases.py drop "$BENCH_DATABASE_URL" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  read -r project_url floor_url < <("$py/python" bench/databases.py create "$BENCH_DATABASE_URL")
  engine=PostgreSQL
else
  project_url="sqlite:///$work/bench.sqlite3"
  floor_url="sqlite:///$work/floor/floor.sqlite3"
  engine=SQLite
fi
export PYTHONPATH=$root DATAPASS_ENV=development INSTANCE_DIR="$work/instance" DATABASE_URL="$project_url"
export SECRET_KEY=${SECRET_KEY:-bench-secret-key-not-for-production} BENCH_ENGINE=$engine
# Throughput, not abuse, is measured: the rate limits (docs/security.md) would answer 429.
export RATELIMIT_ENABLED=0
unset FLASK_APP

echo "==> seeding $n requests ($engine)"
"$py/python" bench/seed.py "$n" "$work"
"$py/python" bench/paths.py prepare "$work"
"$py/python" bench/paths.py queries "$work"
cp "$floor_dir/app.py" "$work/floor/"
(cd "$work/floor" && DATABASE_URL=$floor_url "$py/python" app.py seed "$n" >/dev/null)

echo "==> serving the project on :$port and the floor on :$floor_port"
# Both servers with gunicorn's defaults: from the project root gunicorn would read the
# production gunicorn.conf.py (an access log line per request, workers recycled every
# max_requests), which the floor does not pay (docs/performance.md).
"$py/gunicorn" -c /dev/null --no-control-socket -w 2 -b "127.0.0.1:$port" --log-level warning wsgi:app &
pids+=($!)
(cd "$work/floor" && DATABASE_URL=$floor_url exec "$py/gunicorn" --no-control-socket -w 2 -b "127.0.0.1:$floor_port" --log-level warning app:app) &
pids+=($!)
sleep 3

load() {  # name url [lua]
  local script=()
  [ -n "${3:-}" ] && script=(-s "$3")
  wrk -t1 -c8 -d"$duration" --timeout 30s "${script[@]}" "$2" > "$work/wrk/$1.txt"
  # Requests still queued when wrk stops would slow the next path down: let them finish.
  for _ in 1 2 3; do curl -s -m 120 -o /dev/null "${2%%/[a-z]*}/" || true; done
}
printf 'wrk.method = "POST"\nwrk.body = "token=tok_4242"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' > "$work/floor/post.lua"
floor_url() {  # the floor's path a project path compares with (bench/paths.py PATHS)
  case "$1" in
    queue1) echo "http://127.0.0.1:$floor_port/queue?page=1" ;;
    queue400) echo "http://127.0.0.1:$floor_port/queue?page=400" ;;
    introspect) echo "http://127.0.0.1:$floor_port/introspect $work/floor/post.lua" ;;
  esac
}
echo "==> floor"
load floor-hello "http://127.0.0.1:$floor_port/hello"
# Each project path right after the floor's path it compares with, in BENCH_ROUNDS rounds:
# the machine's speed drifts (a shared host), a ratio of two measures seconds apart does not.
rounds=${BENCH_ROUNDS:-3}
for round in $(seq 1 "$rounds"); do
  echo "==> round $round of $rounds: floor, then project, path by path"
  for key in ${BENCH_PATHS:-queue deep request siret fulltext introspect legacy}; do
    floor_key=$("$py/python" bench/paths.py floor-key "$key")
    # shellcheck disable=SC2046  # the URL and, for a POST, its script
    load "floor-$key.r$round" $(floor_url "$floor_key")
    path=$("$py/python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/paths.json" "$key")
    load "$key.r$round" "http://127.0.0.1:$port$path" "$work/$key.lua"
  done
done
"$py/python" bench/paths.py report "$work"
