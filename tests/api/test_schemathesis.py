"""A bounded property-based run of the whole developer API: no server error anywhere.

schemathesis generates requests from ``/api/openapi.yaml`` (valid and invalid ones) for every
operation and calls the app; each response must not be a 5xx. Eight examples per operation
keep it to a few seconds.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import bearer_for


def test_no_server_error(app, client, db):
    headers, _ = bearer_for(client)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.yaml", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12

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
