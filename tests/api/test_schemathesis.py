"""A bounded property-based run of the whole developer API: no server error anywhere.

schemathesis generates requests from ``/api/openapi.yaml`` (valid and invalid ones) for every
operation and calls the app; each response must not be a 5xx. The document must describe
every route under ``/api`` (the developer API, the OAuth token endpoint, both
introspections). Eight examples per operation keep it to a few seconds; rate limits are
raised for the run (a 429 is not a server error, but it would hide the operation).
"""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import bearer_for
from tests.conftest import RATE_LIMITS


def api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.yaml":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_no_server_error(app, client, db, monkeypatch):
    for name in RATE_LIMITS:
        monkeypatch.setitem(app.config, name, "1000 per minute")
    headers, _ = bearer_for(client)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.yaml", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} == api_routes(app)

    for operation in operations:

        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
