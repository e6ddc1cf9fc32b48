"""The developer API: OAuth 2 client credentials, scoping, endpoints, OpenAPI conformance."""

from __future__ import annotations

import base64

import pytest

from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest, OAuthAccessToken
from datapass.services import decisions
from tests.api.conftest import bearer_for, validate
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form

CCAS_SIRET = "26920023400012"


def test_token_endpoint_issues_hashed_bearer_tokens(client, db):
    headers, _ = bearer_for(client)
    value = headers["Authorization"].split()[1]
    rows = db.session.query(OAuthAccessToken).all()
    assert len(rows) == 1 and value not in rows[0].token_hash
    me = validate(client.get("/api/v1/me", headers=headers)).get_json()
    assert me["definitions"] == ["api_particulier"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}],
)
def test_missing_or_bad_tokens_get_401(client, db, headers):
    response = validate(client.get("/api/v1/demandes", headers=headers))
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["status"] == "401"


def test_wrong_client_secret_gets_no_token(client, db):
    from datapass.services import tokens

    owner = UserFactory(roles=["api_particulier:developer"])
    application, _ = tokens.create_client("App", kind="developer", owner=owner)
    application.scopes = ["read_authorizations"]
    db.session.commit()
    basic = base64.b64encode(f"{application.client_id}:wrong".encode()).decode()
    response = client.post(
        "/api/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 401


def test_scope_is_enforced(client, db):
    headers, _ = bearer_for(client, scopes=["read_authorizations"])
    response = validate(client.post("/api/v1/demandes", json={"demande": {}}, headers=headers))
    assert response.status_code == 403


def test_list_and_read_requests_and_habilitations(app, client, db, auth):
    with app.test_request_context():
        request = submitted_request()
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(request, "approve", instructor, version=request.version)
    listing = validate(client.get("/api/v1/demandes?limit=5", headers=auth)).get_json()
    assert [d["id"] for d in listing] == [request.id]
    assert listing[0]["public_id"] == f"D{request.id}"
    for raw in (str(request.id), f"D{request.id}"):
        one = validate(client.get(f"/api/v1/demandes/{raw}", headers=auth)).get_json()
        assert one["organization"]["siret"] == request.organization.siret
    by_siret = validate(
        client.get(
            f"/api/v1/demandes?siret={request.organization.siret}&state=validated", headers=auth
        )
    ).get_json()
    assert len(by_siret) == 1
    events = validate(client.get(f"/api/v1/demandes/D{request.id}/events", headers=auth))
    assert [e["name"] for e in events.get_json()][-1] == "approve"
    habilitations = validate(client.get("/api/v1/habilitations", headers=auth)).get_json()
    [habilitation] = habilitations
    assert habilitation["slug"].startswith("H")
    assert (
        validate(
            client.get(f"/api/v1/habilitations/{habilitation['slug']}", headers=auth)
        ).get_json()["id"]
        == habilitation["id"]
    )
    assert validate(client.get("/api/v1/demandes?limit=5000", headers=auth)).status_code == 400


def test_a_developer_of_another_definition_sees_nothing(app, client, db):
    with app.test_request_context():
        request = submitted_request()
    headers, _ = bearer_for(client, roles=["autre_definition:developer"])
    assert validate(client.get("/api/v1/demandes", headers=headers)).get_json() == []
    assert (
        validate(client.get(f"/api/v1/demandes/{request.id}", headers=headers)).status_code == 404
    )
    assert validate(client.get("/api/v1/definitions", headers=headers)).get_json() == []
    assert (
        validate(
            client.get("/api/v1/definitions/api_particulier/formulaires", headers=headers)
        ).status_code
        == 404
    )


def test_definitions_and_forms(client, db, auth):
    definitions = validate(client.get("/api/v1/definitions", headers=auth)).get_json()
    assert definitions[0]["id"] == "api_particulier" and len(definitions[0]["scopes"]) == 87
    forms = validate(
        client.get("/api/v1/definitions/api_particulier/formulaires", headers=auth)
    ).get_json()
    assert "api-particulier-ccas-arche-mc2" in [f["uid"] for f in forms]


def test_create_and_patch_a_draft(client, db, auth):
    body = {
        "demande": {
            "form_uid": "api-particulier-aides-sociales-ccas",
            "applicant": {"email": "Nouvel.Agent@ccas-exemple.fr", "given_name": "Nour"},
            "organization": {"siret": CCAS_SIRET},
            "data": {"intitule": "Pré-rempli par l’éditeur", "scopes": ["cnaf_enfants"]},
        }
    }
    created = validate(client.post("/api/v1/demandes", json=body, headers=auth))
    assert created.status_code == 201
    demande = created.get_json()
    assert (
        demande["state"] == "draft"
        and demande["applicant"]["email"] == "nouvel.agent@ccas-exemple.fr"
    )
    assert demande["data"]["intitule"] == "Pré-rempli par l’éditeur"
    item = db.session.get(AuthorizationRequest, demande["id"])
    assert item.events[-1].name == "create_by_api"
    patched = validate(
        client.patch(
            f"/api/v1/demandes/{demande['id']}",
            json={"demande": {"data": {"description": "Via l’API"}}},
            headers=auth,
        )
    )
    assert patched.get_json()["data"]["description"] == "Via l’API"
    unknown = validate(
        client.patch(
            f"/api/v1/demandes/{demande['id']}",
            json={"demande": {"data": {"state": "validated"}}},
            headers=auth,
        )
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["source"]["pointer"] == "/demande/data/state"
    # A block the démarche locks (Millésime's modalities are static) cannot be patched.
    millesime = {**body["demande"], "form_uid": "api-particulier-ccas-arche-mc2", "data": {}}
    other = validate(client.post("/api/v1/demandes", json={"demande": millesime}, headers=auth))
    locked = validate(
        client.patch(
            f"/api/v1/demandes/{other.get_json()['id']}",
            json={"demande": {"data": {"modalities": ["formulaire_qf"]}}},
            headers=auth,
        )
    )
    assert locked.status_code == 422


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"form_uid": "inconnu"}, "/demande/form_uid"),
        ({"organization": {"siret": "123"}}, "/demande/organization/siret"),
        ({"applicant": {"email": "pas-un-courriel"}}, "/demande/applicant/email"),
    ],
)
def test_create_validates_its_input(client, db, auth, change, pointer):
    body = {
        "demande": {
            "form_uid": "api-particulier",
            "applicant": {"email": "a@ccas.fr"},
            "organization": {"siret": CCAS_SIRET},
            **change,
        }
    }
    response = validate(client.post("/api/v1/demandes", json=body, headers=auth))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["source"]["pointer"] == pointer


def test_a_submitted_request_cannot_be_patched(app, client, db, auth):
    with app.test_request_context():
        request = submitted_request()
    response = validate(
        client.patch(f"/api/v1/demandes/{request.id}", json={"demande": {"data": {}}}, headers=auth)
    )
    assert response.status_code == 422


def test_developers_manage_their_applications(client, db, login_as):
    login_as(roles=["api_particulier:developer"])
    page = client.get("/developpeurs/applications")
    assert page.status_code == 200
    created = post_form(
        client,
        "/developpeurs/applications",
        {"name": "Connecteur", "scopes": ["read_authorizations"]},
        page=page,
    )
    assert created.status_code == 200 and "Secret" in created.text
    assert created.headers["Cache-Control"] == "no-store"
    missing = post_form(client, "/developpeurs/applications", {"name": "X"}, page=page)
    assert missing.status_code == 422 and "Cochez au moins une portée." in missing.text


def test_non_developers_cannot_create_applications(client, db, login_as):
    login_as()
    assert client.get("/developpeurs/applications").status_code == 403


def test_openapi_document_and_documentation_page(client, db):
    spec = client.get("/api/openapi.yaml")
    assert spec.status_code == 200 and spec.data.startswith(b"openapi: 3.1.0")
    page = client.get("/developpeurs/documentation")
    assert page.status_code == 200 and "GET /api/v1/demandes" in page.text
    _ = _db


def test_webhook_attempts_through_the_api(client, db, auth):
    from datapass.models.webhook_endpoint import Webhook, WebhookAttempt
    from datapass.services import webhooks

    webhook = Webhook(
        definition_id="api_particulier",
        url="https://api.exemple.fr/hook",
        events=["submit"],
        sealed_secret=webhooks.seal("s" * 64),
    )
    db.session.add(webhook)
    db.session.flush()
    db.session.add(
        WebhookAttempt(
            webhook_id=webhook.id,
            event="submit",
            delivery_id="d",
            body="{}",
            status_code=500,
            response_excerpt="oops",
        )
    )
    db.session.commit()
    listing = validate(client.get(f"/api/v1/webhooks/{webhook.id}/attempts", headers=auth))
    assert listing.get_json()[0]["status_code"] == 500
    assert validate(client.get("/api/v1/webhooks/999999/attempts", headers=auth)).status_code == 404
