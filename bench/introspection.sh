#!/bin/bash
# Introspection throughput (issue 16 item 4), to compare with the floor of ../shared/bench/floor:
#   bench/introspection.sh            from the project root (DATABASE_URL for PostgreSQL)
# Seeds the demo data and one approved habilitation into a throwaway database, serves the app
# with gunicorn (gunicorn.conf.py, 2 workers) and loads both endpoints with wrk (1 thread x 8
# connections, 10 s), as the floor does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=$root/.venv/bin
port=${PORT:-8766}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
work=$(mktemp -d)
trap 'kill $(cat "$work/g.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
export DATAPASS_ENV=development INSTANCE_DIR="$work/instance" FLASK_APP=wsgi
cd "$root"
"$py/flask" db upgrade >/dev/null 2>&1
"$py/flask" dev seed >/dev/null 2>&1
token=$("$py/python" - 2>"$work/seed.log" <<'PY'
from datapass import create_app
from datapass.models import AuthorizationRequest, User
from datapass.extensions import db
from datapass.services import decisions, tokens

app = create_app()
with app.test_request_context():
    request = db.session.query(AuthorizationRequest).filter_by(state="submitted", definition_id="api_particulier").order_by(AuthorizationRequest.id).first()
    instructor = db.session.query(User).filter_by(email="instructeur@dinum.example.gouv.fr").one()
    authorization = decisions.decide(request, "approve", instructor, version=request.version)
    print("TOKEN=" + tokens.reveal(authorization.tokens[0], request.applicant))
PY
)
token=$(printf '%s\n' "$token" | sed -n 's/^TOKEN=//p')
"$py/gunicorn" -c gunicorn.conf.py -w 2 -b "127.0.0.1:$port" --access-logfile /dev/null --error-logfile "${BENCH_LOG:-/dev/null}" \
  --daemon --pid "$work/g.pid" wsgi:app
sleep 2
basic=$(printf '%s' "dpc_demo_api_particulier:demo-introspection-secret-not-for-production" | base64 -w0)
printf 'wrk.method = "POST"\nwrk.body = "token=%s"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic %s"\n' "$token" "$basic" > "$work/post.lua"
echo "token: ${token:0:8}… (${#token} chars)"; curl -fs -X POST -u "dpc_demo_api_particulier:demo-introspection-secret-not-for-production" -d "token=$token" "http://127.0.0.1:$port/api/oauth/introspect"; echo
echo "POST /api/oauth/introspect:"; wrk -t1 -c8 -d10s -s "$work/post.lua" "http://127.0.0.1:$port/api/oauth/introspect" | grep -E 'Requests/sec|Latency|Non-2xx'
echo "GET /api/introspect:"; wrk -t1 -c8 -d${GET_SECONDS:-10}s -H "X-Api-Key: $token" "http://127.0.0.1:$port/api/introspect" | grep -E 'Requests/sec|Latency|Non-2xx'
