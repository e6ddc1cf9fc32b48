"""The measured paths of `make bench`, their wrk scripts and their queries per page.

python bench/paths.py prepare OUT_DIR   the deep page's cursor, wrk's Lua scripts, paths.json
python bench/paths.py queries OUT_DIR   queries per path (in process, same database)
python bench/paths.py report OUT_DIR    the table, from OUT_DIR/wrk/*.txt
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from pathlib import Path

QUEUE = "/instruction/tableau-de-bord/demandes?etat=submitted&etat=changes_requested&tri=recent"
DEEP_PAGE = 400
# (key, label, the floor's path it compares with)
PATHS = [
    ("queue", "queue page 1", "queue1"),
    ("deep", f"queue page {DEEP_PAGE} (keyset; floor: OFFSET)", "queue400"),
    ("request", "request page", "queue1"),
    ("siret", "search by SIRET", "queue1"),
    ("fulltext", "free-text search, rare name", "queue1"),
    ("introspect", "POST /api/oauth/introspect", "introspect"),
    ("legacy", "GET /api/introspect", "introspect"),
]


def _lua(method: str, headers: dict[str, str], body: str | None = None) -> str:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        lines.append(f'wrk.body = "{body}"')
    return "\n".join(lines) + "\n"


def prepare(out: Path) -> None:
    from datapass import create_app
    from datapass.catalog import get_catalog
    from datapass.services import queue

    facts = json.loads((out / "bench.json").read_text())
    app = create_app(environ=os.environ)
    with app.app_context():
        criteria = queue.QueueCriteria(definitions=list(get_catalog().definitions))
        page = queue.queue_page(criteria)
        for _ in range(DEEP_PAGE - 2):
            page = queue.queue_page(criteria, after=page.next_cursor)
    cookie = {"Cookie": facts["cookie"]}
    basic = base64.b64encode(f"{facts['client_id']}:{facts['client_secret']}".encode()).decode()
    paths = {
        "queue": (QUEUE, _lua("GET", cookie)),
        "deep": (f"{QUEUE}&apres={page.next_cursor}", _lua("GET", cookie)),
        "request": (f"/instruction/demandes/{facts['request_id']}", _lua("GET", cookie)),
        "siret": (f"{QUEUE}&q={facts['siret']}", _lua("GET", cookie)),
        "fulltext": (f"{QUEUE}&q={facts['rare_query']}", _lua("GET", cookie)),
        "introspect": (
            "/api/oauth/introspect",
            _lua(
                "POST",
                {
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                f"token={facts['token']}",
            ),
        ),
        "legacy": ("/api/introspect", _lua("GET", {"X-Api-Key": facts["token"]})),
    }
    for key, (_, script) in paths.items():
        (out / f"{key}.lua").write_text(script)
    (out / "paths.json").write_text(json.dumps({k: v[0] for k, v in paths.items()}))


def queries(out: Path) -> None:
    """Statements per path, counted on the engine while the test client asks for it."""
    from sqlalchemy import event

    from datapass import create_app
    from datapass.extensions import db

    facts = json.loads((out / "bench.json").read_text())
    paths = json.loads((out / "paths.json").read_text())
    app = create_app(environ=os.environ)
    counts = {}
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    # Outside any application context: each request gets its own session, as in production.
    client = app.test_client()
    name, value = facts["cookie"].split("=", 1)
    client.set_cookie(name, value)
    for key, path in paths.items():
        lua = (out / f"{key}.lua").read_text()
        headers = dict(re.findall(r'wrk.headers\["([^"]+)"\] = "([^"]*)"', lua))
        headers.pop("Cookie", None)
        body = re.search(r'wrk.body = "([^"]*)"', lua)
        method = "POST" if body else "GET"
        data = body.group(1) if body else None
        client.open(path, method=method, headers=headers, data=data)
        statements.clear()
        response = client.open(path, method=method, headers=headers, data=data)
        counts[key] = {"queries": len(statements), "status": response.status_code}
        if os.environ.get("BENCH_SHOW_QUERIES"):
            print(f"--- {key} ({response.status_code})", *statements, sep="\n")
    (out / "queries.json").write_text(json.dumps(counts))


def _rate(path: Path) -> tuple[float, str, str]:
    text = path.read_text() if path.exists() else ""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    latency = re.search(r"Latency\s+(\S+)", text)
    note = f"{errors.group(1)} errors" if errors else ""
    return (float(rate.group(1)) if rate else 0.0), (latency.group(1) if latency else "?"), note


def report(out: Path) -> None:
    counts = json.loads((out / "queries.json").read_text())
    engine = os.environ.get("BENCH_ENGINE", "SQLite")
    requests = json.loads((out / "bench.json").read_text())["requests"]
    print(f"\n{engine}, {requests} requests, gunicorn 2 workers, wrk 1 thread x 8 connections\n")
    print("| path | floor req/s | project req/s | ratio | mean latency | queries | notes |")
    print("|---|---|---|---|---|---|---|")
    hello, _, _ = _rate(out / "wrk" / "floor-hello.txt")
    for key, label, floor_key in PATHS:
        if not (out / "wrk" / f"{key}.txt").exists():
            continue  # not measured (BENCH_PATHS)
        floor, _, _ = _rate(out / "wrk" / f"floor-{floor_key}.txt")
        project, latency, note = _rate(out / "wrk" / f"{key}.txt")
        status = counts.get(key, {}).get("status")
        if status and status != 200:
            note = f"{note} HTTP {status}".strip()
        ratio = f"{project / floor:.2f}×" if floor else "?"
        queries_count = counts.get(key, {}).get("queries", "?")
        print(
            f"| {label} | {_number(floor)} | {_number(project)} | {ratio} | {latency} "
            f"| {queries_count} | {note} |"
        )
    print(f"\nfloor hello (no database): {_number(hello)} req/s")


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


if __name__ == "__main__":
    {"prepare": prepare, "queries": queries, "report": report}[sys.argv[1]](Path(sys.argv[2]))
