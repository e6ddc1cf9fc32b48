"""Developer API fixtures: an application, its bearer token, OpenAPI response validation."""

from __future__ import annotations

import base64

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from datapass.api.v1 import OPENAPI_PATH
from datapass.services import tokens
from tests.factories import UserFactory

SPEC = OpenAPI.from_file_path(str(OPENAPI_PATH))


def validate(response):
    """Check a response of the test client against the OpenAPI document."""
    sent = response.request
    # The request's body was consumed by the app: match the operation on a bodiless copy.
    environ = EnvironBuilder(
        path=sent.path,
        method=sent.method,
        query_string=sent.query_string.decode(),
        headers={"Content-Type": sent.content_type or "application/json"},
    ).get_environ()
    SPEC.validate_response(
        WerkzeugOpenAPIRequest(Request(environ)), WerkzeugOpenAPIResponse(response)
    )
    return response


def bearer_for(client, *, roles=("api_particulier:developer",), scopes=None):
    """A developer, an application of theirs, and a bearer token for it."""
    owner = UserFactory(roles=list(roles))
    application, secret = tokens.create_client("Connecteur", kind="developer", owner=owner)
    application.scopes = list(
        scopes or ("read_authorizations", "write_authorizations", "read_webhooks")
    )
    from datapass.extensions import db

    db.session.commit()
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = client.post(
        "/api/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}, owner


@pytest.fixture
def auth(client, db):
    headers, _ = bearer_for(client)
    return headers
