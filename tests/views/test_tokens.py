"""Tokens: issued at approval, revealed once, introspected, rotated, prolonged, revoked."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from datapass import outbox
from datapass.extensions import db as _db
from datapass.models import ApiClient, ApiToken, AuthorizationRequest, OutboxJob
from datapass.models.base import utcnow
from datapass.services import decisions, tokens
from tests.factories import UserFactory
from tests.support.authorization_requests import approved_request
from tests.support.catalogs import add_definition
from tests.support.http import post_form, reload


@pytest.fixture
def provider(app, db):
    client, secret = tokens.create_client("API Particulier (tests)")
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


@pytest.fixture
def approved(app, db):
    """An approved request of a fresh CCAS agent (and that agent)."""
    request = approved_request(app)
    return request, request.applicant


def reveal(client, authorization_id):
    page = client.get(f"/habilitations/{authorization_id}")
    assert "Afficher le jeton" in page.text
    response = post_form(client, f"/habilitations/{authorization_id}/jeton/afficher", page=page)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.text.split('id="token-value" readonly value="')[1].split('"')[0]


def introspect(client, headers, value):
    return client.post("/api/oauth/introspect", data={"token": value}, headers=headers)


def test_approval_issues_a_token_with_the_granted_scopes(client, db, approved, provider, login_as):
    request, applicant = approved
    [authorization] = request.authorizations
    [token] = authorization.tokens
    assert token.scopes == request.data["scopes"]
    assert (token.expires_at - token.issued_at).days == 548
    login_as(applicant)
    value = reveal(client, authorization.id)
    assert value.startswith("dpt_") and len(value) >= 40
    answer = introspect(client, provider, value).get_json()
    assert answer == {
        "active": True,
        "scope": " ".join(request.data["scopes"]),
        "exp": int(token.expires_at.timestamp()),
        "iat": int(token.issued_at.timestamp()),
        "jti": token.jti,
        "sub": request.organization.siret,
        "client_id": f"H{authorization.id}",
        "habilitation": f"H{authorization.id}",
        "organization_name": request.organization.display_name,
    }
    legacy = client.get("/api/introspect", headers={"X-Api-Key": value}).get_json()
    assert legacy == {"_id": token.jti, "name": request.intitule, "scopes": token.scopes}


def test_the_token_is_shown_once_then_masked(client, db, approved, login_as):
    request, applicant = approved
    authorization = request.authorizations[0]
    login_as(applicant)
    value = reveal(client, authorization.id)
    page = client.get(f"/habilitations/{authorization.id}").text
    assert value not in page and f"dpt_…{value[-4:]}" in page
    assert "Afficher le jeton" not in page
    token = authorization.tokens[0]
    assert token.sealed_value is None and token.token_hash == tokens.digest(value)


def test_only_members_of_the_organisation_see_the_habilitation(client, db, approved, login_as):
    request, _ = approved
    login_as()
    assert client.get(f"/habilitations/{request.authorizations[0].id}").status_code == 404


def test_technical_contact_is_told_without_the_token(app, client, db, approved, login_as):
    request, applicant = approved
    job = next(
        j for j in db.session.scalars(select(OutboxJob)) if j.payload.get("key") == "token_ready"
    )
    # Issue 12: the applicant and the technical contact are both told (and where to get it).
    assert job.payload["to"] == sorted([applicant.email, request.data["contact_technique_email"]])
    assert applicant.email in job.payload["text"]
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    assert value not in job.payload["text"] and value not in job.payload["html"]


@pytest.mark.parametrize("credentials", [None, "dpc_nobody:secret", "bad-base64!"])
def test_introspection_needs_client_credentials(client, db, credentials):
    headers = {}
    if credentials == "bad-base64!":
        headers["Authorization"] = "Basic !!!"
    elif credentials:
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    response = client.post("/api/oauth/introspect", data={"token": "dpt_x"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "value",
    ["", "dpt_unknown", "not-a-token", "x" * 500, "dpc_" + "a" * 40],
)
def test_unknown_or_malformed_tokens_are_inactive(client, db, provider, value):
    assert introspect(client, provider, value).get_json() == {"active": False}
    assert client.get("/api/introspect", headers={"X-Api-Key": value}).status_code == 401


def test_revocation_is_seen_at_the_next_call(app, client, db, approved, provider, login_as):
    request, applicant = approved
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    assert introspect(client, provider, value).get_json()["active"] is True
    with app.test_request_context():
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(request, "revoke", instructor, version=request.version, reason="Fin")
    assert introspect(client, provider, value).get_json() == {"active": False}


def test_expired_tokens_are_inactive(client, db, approved, provider, login_as):
    request, applicant = approved
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    token = request.authorizations[0].tokens[0]
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert introspect(client, provider, value).get_json() == {"active": False}


def test_rotation_keeps_the_old_token_for_the_overlap(client, db, approved, provider, login_as):
    request, applicant = approved
    authorization = request.authorizations[0]
    login_as(applicant)
    old = reveal(client, authorization.id)
    post_form(
        client,
        f"/habilitations/{authorization.id}/jeton/renouveler",
        page=f"/habilitations/{authorization.id}",
    )
    new = reveal(client, authorization.id)
    assert new != old
    assert introspect(client, provider, old).get_json()["active"] is True
    assert introspect(client, provider, new).get_json()["active"] is True
    previous = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.digest(old)))
    assert previous.expires_at <= utcnow() + timedelta(days=7, minutes=1)
    previous.expires_at = utcnow() - timedelta(seconds=1)  # the overlap is over
    db.session.commit()
    assert introspect(client, provider, old).get_json() == {"active": False}
    assert introspect(client, provider, new).get_json()["active"] is True


def test_prolongation_needs_unchanged_purpose_data_and_contacts(client, db, approved, login_as):
    request, applicant = approved
    authorization = request.authorizations[0]
    token = authorization.tokens[0]
    login_as(applicant)
    assert "Prolonger de 18 mois" not in client.get(f"/habilitations/{authorization.id}").text
    token.expires_at = utcnow() + timedelta(days=20)
    db.session.commit()
    page = client.get(f"/habilitations/{authorization.id}")
    assert "Prolonger de 18 mois" in page.text
    url = f"/habilitations/{authorization.id}/prolongation"
    refused = post_form(client, url, {"same_purpose": "y"}, page=page)
    assert refused.status_code == 422 and "mettez à jour votre demande" in refused.text
    done = post_form(
        client, url, {"same_purpose": "y", "same_data": "y", "same_contacts": "y"}, page=page
    )
    assert done.status_code == 302
    assert (reload(token).expires_at - utcnow()).days >= 548 + 19


def test_reminders_are_sent_once_per_threshold(app, db, approved):
    request, _ = approved
    token = request.authorizations[0].tokens[0]
    with app.test_request_context():
        at = token.expires_at - timedelta(days=89)
        assert tokens.send_reminders(now=at) == 1
        assert tokens.send_reminders(now=at) == 0  # idempotent
        assert tokens.send_reminders(now=token.expires_at - timedelta(days=59)) == 1
        assert tokens.send_reminders(now=token.expires_at - timedelta(days=58)) == 0
    reminders = [
        j for j in db.session.scalars(select(OutboxJob)) if j.payload.get("key") == "token_expiry"
    ]
    assert len(reminders) == 2
    assert sorted(reminders[0].payload["to"]) == sorted(
        {request.applicant.email, request.data["contact_technique_email"]}
    )


def test_last_used_is_written_at_most_once_a_minute(client, db, approved, provider, login_as):
    request, applicant = approved
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    introspect(client, provider, value)
    token = request.authorizations[0].tokens[0]
    first = token.last_used_at
    introspect(client, provider, value)
    assert reload(token).last_used_at == first


def test_introspection_is_one_indexed_lookup(client, db, approved, provider, login_as):
    from sqlalchemy import event

    request, applicant = approved
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    introspect(client, provider, value)  # last_used_at written now
    statements = []

    def record(*args):
        statements.append(args[2])

    event.listen(_db.engine, "before_cursor_execute", record)
    try:
        introspect(client, provider, value)
    finally:
        event.remove(_db.engine, "before_cursor_execute", record)
    # The client's check and the token's lookup are one statement (api/introspection.py).
    lookups = [s for s in statements if "api_tokens" in s]
    assert len(lookups) == 1 and "api_tokens.token_hash = " in lookups[0]


def basic_auth(client_row, secret) -> dict:
    basic = base64.b64encode(f"{client_row.client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


def test_a_client_of_another_definition_gets_inactive(
    app, client, db, approved, provider, login_as, monkeypatch
):
    request, applicant = approved
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    other = add_definition(app, monkeypatch)
    stranger = basic_auth(*tokens.create_client("API Entreprise", definition_id=other))
    response = introspect(client, stranger, value)
    assert response.status_code == 200
    assert response.get_json() == {"active": False}
    assert introspect(client, provider, value).get_json()["active"] is True


def test_the_legacy_endpoint_answers_for_api_particulier_only(client, db, approved, login_as):
    request, applicant = approved
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    assert client.get("/api/introspect", headers={"X-Api-Key": value}).status_code == 200
    authorization = request.authorizations[0]
    authorization.definition_id = "api_entreprise"
    db.session.commit()
    assert client.get("/api/introspect", headers={"X-Api-Key": value}).status_code == 401


def test_the_token_value_is_nowhere_in_the_database_nor_the_logs(
    app, client, db, approved, login_as, caplog
):
    caplog.set_level(logging.DEBUG)
    request, applicant = approved
    login_as(applicant)
    value = reveal(client, request.authorizations[0].id)
    with app.test_request_context():
        outbox.drain()
    dump = []
    for table in _db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608
            dump.append(repr(tuple(row)))
    assert value not in "\n".join(dump)
    assert value not in caplog.text


def test_admins_create_introspection_clients(client, db, login_as):
    login_as(roles=["admin"])
    data = {"name": "Fournisseur", "definition_id": "api_particulier"}
    response = post_form(client, "/admin/clients", data)
    assert response.status_code == 200 and "Secret" in response.text
    assert client.get("/admin/clients").text.count("dpc_") >= 1


def test_the_admin_page_asks_and_shows_the_definition(app, client, db, login_as, monkeypatch):
    other = add_definition(app, monkeypatch)
    tokens.create_client("Connecteur", kind="developer")  # not an introspection client
    login_as(roles=["admin"])
    page = client.get("/admin/clients")
    assert '<label class="fr-label" for="definition_id">Type d’habilitation' in page.text
    assert f'<option value="{other}">API Entreprise</option>' in page.text
    assert "Connecteur" not in page.text
    missing = post_form(client, "/admin/clients", {"name": "Sans type"}, page=page)
    assert missing.status_code == 422 and "Choisissez le type d’habilitation" in missing.text
    unknown = {"name": "Inconnu", "definition_id": "api_inconnue"}
    assert post_form(client, "/admin/clients", unknown, page=page).status_code == 422
    created = post_form(client, "/admin/clients", {"name": "API E", "definition_id": other})
    assert created.status_code == 200
    [row] = db.session.scalars(select(ApiClient).where(ApiClient.name == "API E")).all()
    assert row.definition_id == other
    listing = client.get("/admin/clients").text
    assert listing.split("API E</td>")[1].split("</tr>")[0].count("API Entreprise") == 1


def test_admins_revoke_introspection_clients(client, db, login_as, provider):
    [row] = db.session.scalars(select(ApiClient)).all()
    login_as(roles=["admin"])
    page = client.get("/admin/clients")
    url = f"/admin/clients/{row.id}/revoquer"
    assert client.post(url).status_code == 400
    response = post_form(client, url, page=page)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/clients"
    db.session.expire_all()
    assert row.revoked_at is not None
    assert introspect(client, provider, "dpt_x").status_code == 401
    assert post_form(client, "/admin/clients/999999/revoquer", page=page).status_code == 404


def test_clients_cli_prints_the_secret_once(app, db):
    from datapass.cli import clients_cli

    result = app.test_cli_runner().invoke(clients_cli, ["create-introspection", "API Test"])
    assert result.exit_code == 0 and "client_secret: " in result.output
    secret = result.output.split("client_secret: ")[1].split()[0]
    client_id = result.output.split("client_id: ")[1].split()[0]
    assert tokens.authenticate_client(client_id, secret) is not None
    assert tokens.authenticate_client(client_id, secret + "x") is None
    assert "definition: api_particulier" in result.output
    assert (
        db.session.scalar(select(ApiClient.definition_id).where(ApiClient.client_id == client_id))
        == "api_particulier"
    )


def test_clients_cli_takes_the_definition(app, db, monkeypatch):
    from datapass.cli import clients_cli

    runner = app.test_cli_runner()
    unknown = runner.invoke(
        clients_cli, ["create-introspection", "API Test", "--definition", "api_inconnue"]
    )
    assert unknown.exit_code == 2
    assert "unknown definition 'api_inconnue' (known: api_particulier)" in unknown.output
    other = add_definition(app, monkeypatch)
    ambiguous = runner.invoke(clients_cli, ["create-introspection", "API Test"])
    assert ambiguous.exit_code == 2
    assert "choose one with --definition" in ambiguous.output
    chosen = runner.invoke(clients_cli, ["create-introspection", "API E", "--definition", other])
    assert chosen.exit_code == 0 and f"definition: {other}" in chosen.output
    client_id = chosen.output.split("client_id: ")[1].split()[0]
    row = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    assert row.definition_id == other and row.name == "API E"
    assert db.session.scalar(select(func.count()).select_from(ApiClient)) == 1


def test_request_page_links_the_habilitation(client, db, approved, login_as):
    request, applicant = approved
    login_as(applicant)
    page = client.get(f"/demandes/{request.id}").text
    assert f"/habilitations/{request.authorizations[0].id}" in page
    assert isinstance(db.session.get(AuthorizationRequest, request.id), AuthorizationRequest)


def test_rotation_is_confirmed_on_a_page_of_its_own(client, db, approved, login_as):
    """RGAA 11.12 (found by the audit): replacing the token is confirmed first."""
    request, applicant = approved
    authorization = request.authorizations[0]
    login_as(applicant)
    url = f"/habilitations/{authorization.id}/jeton/renouveler"
    page = client.get(f"/habilitations/{authorization.id}").text
    assert f'href="{url}"' in page
    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert "<title>Renouveler le jeton\u00a0? – Habilitation H" in confirmation.text
    assert len(reload(authorization).tokens) == 1  # nothing replaced by looking
    post_form(client, url, page=confirmation)
    assert len(reload(authorization).tokens) == 2
