#!/bin/bash
# The load test of issue 16: `make load` (from the project root). Serves DataPass with gunicorn
# (gunicorn.conf.py, LOAD_WORKERS=2 workers) and the local identity provider on a throwaway
# database (a SQLite file, or the PostgreSQL database LOAD_DATABASE_URL, which it migrates and
# seeds), then runs locust headless for LOAD_DURATION (5m) with 50 applicants and 5
# instructors (LOAD_APPLICANTS, LOAD_INSTRUCTORS; LOAD_WAIT_MAX=0 removes the think time).
# Prints locust's table, the errors, the step saves' median, p95 and p99, and a verdict line
# (PASS, or FAIL and exit code 1): errors, and on PostgreSQL the step saves' p95 over
# LOAD_P95_TARGET_MS (80; empty for none).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=$root/.venv/bin
locust=$root/.venv-load/bin/locust
duration=${LOAD_DURATION:-5m}
port=${LOAD_PORT:-5100}
idp_port=${LOAD_IDP_PORT:-5101}
applicants=${LOAD_APPLICANTS:-50}
instructors=${LOAD_INSTRUCTORS:-5}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export DATAPASS_ENV=development INSTANCE_DIR="$work/instance" FLASK_APP=wsgi
export DATABASE_URL=${LOAD_DATABASE_URL:-}
export OIDC_DISCOVERY_URL="http://127.0.0.1:$idp_port/.well-known/openid-configuration"
export AUTHLIB_INSECURE_TRANSPORT=1
# 55 simulated people from one address: the per-IP sign-in limit would refuse them.
export RATELIMIT_ENABLED=0
# No registry on the network: look-ups fail at once (they never block a sign-in).
export SIRENE_API_URL=http://127.0.0.1:9 SIRENE_TIMEOUT_SECONDS=0.5
export LOAD_IDP_URL="http://127.0.0.1:$idp_port" LOAD_APPLICANTS="$applicants" LOAD_INSTRUCTORS="$instructors"
# The issue's goal for the step saves' p95 holds on PostgreSQL (SQLite: 0 errors only).
if [ -n "$DATABASE_URL" ]; then export LOAD_P95_TARGET_MS=${LOAD_P95_TARGET_MS-80}; fi
cd "$root"
echo "database: ${DATABASE_URL:-sqlite ($INSTANCE_DIR)}"
"$py/flask" db upgrade >/dev/null
"$py/flask" dev seed >/dev/null
"$py/python" -m datapass.local_idp --host 127.0.0.1 --port "$idp_port" >"$work/idp.log" 2>&1 &
pids+=($!)
"$py/gunicorn" -c gunicorn.conf.py --workers "${LOAD_WORKERS:-2}" --bind "127.0.0.1:$port" \
  --access-logfile /dev/null wsgi:app >"$work/gunicorn.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/sante" >/dev/null && curl -fs "$LOAD_IDP_URL/.well-known/openid-configuration" >/dev/null && break
  sleep 0.2
done
"$locust" -f bench/load/locustfile.py ${LOAD_LOCUST_ARGS:-} --headless --only-summary -H "http://127.0.0.1:$port" \
  -u $((applicants + instructors)) -r 10 -t "$duration" --stop-timeout 5 || status=$?
if grep -q "Traceback" "$work/gunicorn.log"; then
  echo "server errors (gunicorn.log):"; grep -B2 -A12 "Traceback" "$work/gunicorn.log" | tail -60
  echo "verdict: FAIL (server errors in gunicorn.log)"
  status=1
fi
exit "${status:-0}"
