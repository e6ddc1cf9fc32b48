"""The developers' webhook pages: create, test, enable, replay, edit; who may see them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from werkzeug import Response

from datapass import outbox
from datapass.models.webhook_endpoint import Webhook
from tests.support.http import post_form, reload
from tests.support.webhooks import attempts, make_webhook


def test_developer_creates_tests_enables_a_webhook_and_reads_attempts(
    app, client, db, httpserver, login_as
):
    received = []

    def handler(request):
        received.append(json.loads(request.get_data()))
        return Response("{}", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    login_as(roles=["api_particulier:developer"])
    page = client.get("/developpeurs/webhooks/nouveau")
    assert page.status_code == 200
    created = post_form(
        client,
        "/developpeurs/webhooks/nouveau",
        {
            "url": httpserver.url_for("/hook"),
            "definition": "api_particulier",
            "events": ["submit", "approve"],
        },
        page=page,
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = created.text.split('id="webhook-secret" readonly value="')[1].split('"')[0]
    assert len(secret) == 64
    # The test ping is the worker's, not the web request's.
    assert received == []
    with app.test_request_context():
        outbox.drain()
    assert received and received[0]["test"] is True
    webhook = db.session.scalar(select(Webhook))
    assert webhook.validated and not webhook.enabled and secret not in webhook.sealed_secret
    post_form(client, f"/developpeurs/webhooks/{webhook.id}/activer", page=page)
    assert reload(webhook).enabled
    log = client.get(f"/developpeurs/webhooks/{webhook.id}/tentatives")
    assert log.status_code == 200 and "test" in log.text
    [attempt] = attempts(webhook)
    post_form(
        client, f"/developpeurs/webhooks/{webhook.id}/tentatives/{attempt.id}/rejouer", page=page
    )
    with app.test_request_context():
        outbox.drain()
    assert len(received) == 2
    # Editing disables until a new test.
    post_form(
        client,
        f"/developpeurs/webhooks/{webhook.id}/modifier",
        {"url": httpserver.url_for("/hook"), "definition": "api_particulier", "events": ["submit"]},
        page=page,
    )
    webhook = reload(webhook)
    assert not webhook.enabled and webhook.events == ["submit"]


def test_webhook_form_errors_keep_input(client, db, login_as):
    login_as(roles=["api_particulier:developer"])
    response = post_form(
        client,
        "/developpeurs/webhooks/nouveau",
        {"url": "pas une url", "definition": "api_particulier"},
    )
    assert response.status_code == 422
    assert (
        "Cochez au moins un événement." in response.text and 'value="pas une url"' in response.text
    )


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        ((), 403),
        (("api_particulier:reporter",), 403),
        (("autre:developer",), 403),
        (("api_particulier:developer",), 200),
        (("admin",), 200),
    ],
)
def test_webhook_pages_need_the_developer_role(client, db, login_as, roles, status):
    login_as(roles=list(roles))
    assert client.get("/developpeurs/webhooks").status_code == status


def test_another_definitions_developer_cannot_touch_a_webhook(client, db, httpserver, login_as):
    webhook = make_webhook(httpserver)
    login_as(roles=["api_particulier:developer"])
    assert client.get(f"/developpeurs/webhooks/{webhook.id}/tentatives").status_code == 200
    login_as(roles=["autre:developer", "api_particulier:reporter"])
    assert client.get(f"/developpeurs/webhooks/{webhook.id}/tentatives").status_code == 403
