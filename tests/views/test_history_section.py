"""The request page's organisation history rendered in Python (views/history_section.py): the
markup of the template it replaced, to the byte, for every shape of the history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template_string

from datapass import workflow
from datapass.models.authorization import AUTHORIZATION_ACTIVE, AUTHORIZATION_REVOKED
from datapass.services.organization_history import (
    OrganizationAuthorization,
    OrganizationHistory,
    OtherRequest,
)
from datapass.views.history_section import history_section

# templates/instruction/_organization_history.html as it was (its include cost a tenth of
# the page's own work): the reference markup.
TEMPLATE = (
    Path(__file__).parent.parent / "support/organization_history_reference.html"
).read_text()
SIRET = "21000000000042"
AT = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March in Paris


def _request(id_, intitule, state, *, reopened=False) -> OtherRequest:
    return OtherRequest(id_, intitule, state, AT if reopened else None, AT if reopened else None)


REQUESTS = [
    _request(12, "Aides <facultatives> & « secours »", workflow.SUBMITTED, reopened=True),
    _request(11, None, workflow.VALIDATED),
    _request(9, "", workflow.CHANGES_REQUESTED),
]
AUTHORIZATIONS = [
    OrganizationAuthorization(5, 11, AUTHORIZATION_ACTIVE, AT),
    OrganizationAuthorization(3, 9, AUTHORIZATION_REVOKED, AT),
]
HISTORIES = {
    "empty": OrganizationHistory([], False, [], False),
    "some": OrganizationHistory(REQUESTS, False, AUTHORIZATIONS, False),
    "more of both": OrganizationHistory(REQUESTS, True, AUTHORIZATIONS, True),
    "requests only": OrganizationHistory(REQUESTS, True, [], False),
    "habilitations only": OrganizationHistory([], False, AUTHORIZATIONS, True),
}


@pytest.mark.parametrize("script_root", ["", "/datapass"])
@pytest.mark.parametrize("shape", HISTORIES)
def test_the_history_is_the_templates_markup(app, shape, script_root):
    history = HISTORIES[shape]
    with app.test_request_context(environ_base={"SCRIPT_NAME": script_root}):
        expected = render_template_string(
            TEMPLATE, history=history, organization=SimpleNamespace(siret=SIRET)
        )
        assert str(history_section(history, SIRET)) == expected


def test_the_history_escapes_the_data(app):
    with app.test_request_context():
        html = history_section(HISTORIES["some"], "<b>")
    assert "Aides &lt;facultatives&gt; &amp; « secours »" in html
    assert "<b>" not in html
