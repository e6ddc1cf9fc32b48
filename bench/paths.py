"""The measured paths of `make bench`, their wrk scripts and their queries per page.

python bench/paths.py prepare OUT_DIR   the deep page's cursor, wrk's Lua scripts, paths.json
python bench/paths.py queries OUT_DIR   queries per path (in process, same database)
python bench/paths.py report OUT_DIR    the table, from OUT_DIR/wrk/*.txt (median of the rounds)
python bench/paths.py floor-key KEY     the floor's path KEY compares with
"""

from __future__ import annotations

import base64
import json
import os
import re
import statistics
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


def _kept_cookie(app, facts: dict, path: str) -> dict[str, str]:
    """The session cookie a browser holds once it has seen ``path``: wrk replays one cookie
    and never keeps the one a page sends back, but a browser does (the session's CSRF token,
    the queue's criteria, written by the first visit only)."""
    name, value = facts["cookie"].split("=", 1)
    client = app.test_client()
    client.set_cookie(name, value)
    assert client.get(path).status_code == 200, path
    return {"Cookie": f"{name}={client.get_cookie(name).value}"}


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
    basic = base64.b64encode(f"{facts['client_id']}:{facts['client_secret']}".encode()).decode()
    deep = f"{QUEUE}&apres={page.next_cursor}"
    request_page = f"/instruction/demandes/{facts['request_id']}"
    siret, fulltext = f"{QUEUE}&q={facts['siret']}", f"{QUEUE}&q={facts['rare_query']}"
    paths = {
        "queue": (QUEUE, _lua("GET", _kept_cookie(app, facts, QUEUE))),
        "deep": (deep, _lua("GET", _kept_cookie(app, facts, deep))),
        "request": (request_page, _lua("GET", _kept_cookie(app, facts, request_page))),
        "siret": (siret, _lua("GET", _kept_cookie(app, facts, siret))),
        "fulltext": (fulltext, _lua("GET", _kept_cookie(app, facts, fulltext))),
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


def floor_key(key: str) -> None:
    """The floor's path a project path compares with (for bench/run.sh)."""
    print(next(floor for k, _, floor in PATHS if k == key))


def _rounds(out: Path, key: str) -> list[tuple[float, float, str, str]]:
    """(floor req/s, project req/s, latency, note) of each round measured for ``key``."""
    found = []
    for project_file in sorted((out / "wrk").glob(f"{key}.r*.txt")):
        round_ = project_file.name[len(key) + 1 : -len(".txt")]
        floor, _, _ = _rate(out / "wrk" / f"floor-{key}.{round_}.txt")
        project, latency, note = _rate(project_file)
        found.append((floor, project, latency, note))
    return found


def report(out: Path) -> None:
    """The table: per path, the median of the rounds' ratios (each against the floor measured
    just before it), with the median req/s of both sides."""
    counts = json.loads((out / "queries.json").read_text())
    engine = os.environ.get("BENCH_ENGINE", "SQLite")
    requests = json.loads((out / "bench.json").read_text())["requests"]
    print(f"\n{engine}, {requests} requests, gunicorn 2 workers, wrk 1 thread x 8 connections\n")
    print(
        "| path | floor req/s | project req/s | ratio (median) | ratios by round "
        "| mean latency | queries | notes |"
    )
    print("|---|---|---|---|---|---|---|---|")
    hello, _, _ = _rate(out / "wrk" / "floor-hello.txt")
    for key, label, _ in PATHS:
        rounds = _rounds(out, key)
        if not rounds:
            continue  # not measured (BENCH_PATHS)
        ratios = [project / floor if floor else 0.0 for floor, project, _, _ in rounds]
        notes = " ".join(sorted({note for *_, note in rounds if note}))
        status = counts.get(key, {}).get("status")
        if status and status != 200:
            notes = f"{notes} HTTP {status}".strip()
        queries_count = counts.get(key, {}).get("queries", "?")
        print(
            f"| {label} | {_number(statistics.median(r[0] for r in rounds))} "
            f"| {_number(statistics.median(r[1] for r in rounds))} "
            f"| {statistics.median(ratios):.2f}× | {' / '.join(f'{r:.2f}' for r in ratios)} "
            f"| {rounds[-1][2]} | {queries_count} | {notes} |"
        )
    print(f"\nfloor hello (no database): {_number(hello)} req/s")


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


if __name__ == "__main__":
    if sys.argv[1] == "floor-key":
        floor_key(sys.argv[2])
    else:
        {"prepare": prepare, "queries": queries, "report": report}[sys.argv[1]](Path(sys.argv[2]))
