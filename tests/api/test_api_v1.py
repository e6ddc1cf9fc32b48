"""The developer API: OAuth 2 client credentials, scoping, endpoints, OpenAPI conformance."""

from __future__ import annotations

import base64

import pytest

from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest, OAuthAccessToken, Organization, User
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


def _claim(db, invitation_id, email=None, siret=CCAS_SIRET):
    """The invited agent, acting for the invited SIRET, « Reprend la demande »."""
    from datapass.models import Invitation
    from datapass.services import invitations
    from tests.factories import OrganizationFactory

    invitation = db.session.get(Invitation, invitation_id)
    organization = db.session.scalar(
        _db.select(Organization).where(Organization.siret == siret)
    ) or OrganizationFactory(siret=siret)
    email = email or invitation.email
    agent = db.session.scalar(_db.select(User).where(User.email == email)) or UserFactory(
        email=email, current_organization=organization
    )
    return invitations.claim(invitation, agent)


def test_create_invites_the_applicant_who_claims_then_patch(client, db, auth):
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
    invitation = created.get_json()
    assert invitation["state"] == "sent" and invitation["demande_id"] is None
    assert invitation["applicant"]["email"] == "nouvel.agent@ccas-exemple.fr"
    assert invitation["data"]["intitule"] == "Pré-rempli par l’éditeur"
    # Nothing is attached to an account or an organisation before the claim.
    assert db.session.query(AuthorizationRequest).count() == 0
    assert db.session.query(User).filter_by(email="nouvel.agent@ccas-exemple.fr").count() == 0
    assert created.headers["Location"].endswith(f"/api/v1/invitations/{invitation['id']}")
    draft = _claim(db, invitation["id"])
    followed = validate(client.get(f"/api/v1/invitations/I{invitation['id']}", headers=auth))
    assert followed.get_json()["state"] == "claimed"
    assert followed.get_json()["demande_id"] == draft.id
    demande = validate(client.get(f"/api/v1/demandes/{draft.id}", headers=auth)).get_json()
    assert demande["state"] == "draft"
    assert demande["data"]["intitule"] == "Pré-rempli par l’éditeur"
    assert db.session.get(AuthorizationRequest, draft.id).events[0].name == "create_by_api"
    patched = validate(
        client.patch(
            f"/api/v1/demandes/{draft.id}",
            json={"demande": {"data": {"description": "Via l’API"}}},
            headers=auth,
        )
    )
    assert patched.get_json()["data"]["description"] == "Via l’API"
    unknown = validate(
        client.patch(
            f"/api/v1/demandes/{draft.id}",
            json={"demande": {"data": {"state": "validated"}}},
            headers=auth,
        )
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["source"]["pointer"] == "/demande/data/state"
    # A block the démarche locks (Millésime's modalities are static) cannot be patched.
    millesime = {**body["demande"], "form_uid": "api-particulier-ccas-arche-mc2", "data": {}}
    other = validate(client.post("/api/v1/demandes", json={"demande": millesime}, headers=auth))
    other_draft = _claim(db, other.get_json()["id"])
    locked = validate(
        client.patch(
            f"/api/v1/demandes/{other_draft.id}",
            json={"demande": {"data": {"modalities": ["formulaire_qf"]}}},
            headers=auth,
        )
    )
    assert locked.status_code == 422


def test_an_invitation_is_visible_to_its_client_only(client, db, auth):
    body = {
        "demande": {
            "form_uid": "api-particulier-aides-sociales-ccas",
            "applicant": {"email": "agent@ccas-exemple.fr"},
            "organization": {"siret": CCAS_SIRET},
        }
    }
    created = validate(client.post("/api/v1/demandes", json=body, headers=auth)).get_json()
    other, _ = bearer_for(client)
    response = validate(client.get(f"/api/v1/invitations/{created['id']}", headers=other))
    assert response.status_code == 404


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
