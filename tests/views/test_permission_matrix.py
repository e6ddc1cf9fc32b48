"""The permission matrix of docs/permissions.md, walked against the real routes.

The table is the contract: this test reads it, builds the scene it describes, signs in as
each role and exercises each row. A ✓ must answer (2xx, or a redirect elsewhere than the
sign-in page) and, for a POST, change the database; a ✗ must be refused and change nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from datapass.catalog import get_catalog
from datapass.extensions import db as _db
from datapass.models import Membership
from datapass.models.token import CLIENT_DEVELOPER
from datapass.services import decisions, documents, invitations, tokens
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import csrf_token

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
API_SCOPES = ["read_authorizations", "write_authorizations", "read_webhooks"]
# Tables a refused request may still touch: the session row of the signed-in user.
VOLATILE_TABLES = {"user_sessions"}
TECHNICAL_EMAIL = "technique@ccas-matrice.fr"


def read_matrix():
    lines = [line for line in DOC.read_text().splitlines() if line.startswith("| ")]
    start = next(i for i, line in enumerate(lines) if line.startswith("| key |"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    roles = header[4:]
    rows = []
    for line in lines[start + 2 :]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(header):
            break
        key, _what, method, path = cells[:4]
        for role, mark in zip(roles, cells[4:], strict=True):
            assert mark in ("✓", "✗"), (key, role, mark)
            rows.append((key, method, path, role, mark == "✓"))
    return roles, rows


ROLES, CELLS = read_matrix()


def data_for(key: str, scene: dict) -> dict:
    """What each POST sends (the form a real page would post)."""
    return {
        "message": {"body": "Bonjour, une question sur la demande."},
        "answer": {"body": "Bonjour, merci de préciser la délibération."},
        "transfer": {"email": scene["colleague_email"]},
        "revoke": {"reason": "Fin de la convention."},
        "update-contacts2": {
            "version": scene["versions"]["request2"],
            "contact_technique_family_name": "Nouveau",
            "contact_technique_given_name": "Contact",
            "contact_technique_email": "nouveau.technique@ccas-matrice.fr",
            "contact_technique_phone_number": "01 23 45 67 89",
            "contact_technique_job_title": "Informaticien",
        },
        "grant-role": {"grant-role": "api_particulier:reporter", "grant-reason": "Renfort."},
        "ban": {"ban-reason": "Usurpation signalée."},
        "save-prepared-block": {"intitule": "Projet préparé par l’instruction"},
        "impersonate": {"impersonate-reason": "Ticket de support 42."},
    }.get(key, {})


def build_scene(app) -> dict:
    applicant = UserFactory()
    organization = applicant.current_organization
    with app.test_request_context():
        authorization_request = submitted_request(applicant)
        upload = FileStorage(io.BytesIO(PDF), "deliberation.pdf")
        [document], _ = documents.attach_documents(
            authorization_request, "cadre_juridique_document", [upload], user=applicant
        )
        _db.session.commit()
        other_request = submitted_request(
            applicant,
            form_uid="api-particulier-aides-sociales-ccas",
            contact_technique_email=TECHNICAL_EMAIL,
        )
        instructor = UserFactory(roles=["api_particulier:instructor"])
        for approved in (authorization_request, other_request):
            decisions.decide(approved, "approve", instructor, version=approved.version)
        # A request the instruction prepared for O, with its délibération (issue 17).
        invitation = invitations.prepare(
            get_catalog().form("api-particulier-aides-sociales-ccas"),
            siret=organization.siret,
            email="futur@ccas-matrice.fr",
            answers={"intitule": "Préparée"},
            note=None,
            user=instructor,
        )
        upload = FileStorage(io.BytesIO(PDF), "deliberation.pdf")
        [invitation_document], _ = documents.attach_documents(
            invitation, "cadre_juridique_document", [upload], user=instructor
        )
        _db.session.commit()
    [authorization] = authorization_request.authorizations
    [other_authorization] = other_request.authorizations
    colleague = UserFactory(current_organization=organization)
    unverified = UserFactory(current_organization=None)
    unverified.memberships.append(Membership(organization=organization, verified=False))
    unverified.current_organization = organization
    users = {
        "anonymous": None,
        "applicant": applicant,
        "verified colleague": colleague,
        "unverified colleague": unverified,
        "technical contact": UserFactory(email=TECHNICAL_EMAIL, current_organization=None),
        "editor staff": UserFactory(roles=["editor:arche_mc2"], current_organization=None),
        "other editor staff": UserFactory(roles=["editor:arpege"], current_organization=None),
        "reporter": UserFactory(roles=["api_particulier:reporter"]),
        "instructor": UserFactory(roles=["api_particulier:instructor"]),
        "manager": UserFactory(roles=["api_particulier:manager"]),
        "developer": UserFactory(roles=["api_particulier:developer"]),
        "admin": UserFactory(roles=["admin"]),
    }
    _db.session.commit()
    return {
        "users": users,
        "ids": {
            "request": authorization_request.id,
            "habilitation": authorization.id,
            "document": document.id,
            "request2": other_request.id,
            "habilitation2": other_authorization.id,
            "applicant": applicant.id,
            "organization": organization.id,
            "invitation": invitation.id,
            "invitation_document": invitation_document.id,
        },
        "colleague_email": colleague.email,
        "versions": {"request2": other_request.version},
    }


def fingerprint() -> str:
    """A digest of every row of every table but the volatile ones."""
    digest = hashlib.sha256()
    for table in _db.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        rows = _db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{[tuple(map(repr, row)) for row in rows]}".encode())
    return digest.hexdigest()


def bearer(client, user) -> dict:
    row, secret = tokens.create_client(
        "Matrice", kind=CLIENT_DEVELOPER, owner=user, scopes=API_SCOPES
    )
    basic = base64.b64encode(f"{row.client_id}:{secret}".encode()).decode()
    answer = client.post(
        "/api/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


@pytest.mark.parametrize(
    ("key", "method", "path", "role", "allowed"),
    CELLS,
    ids=[f"{key}-{role.replace(' ', '_')}" for key, _, _, role, _ in CELLS],
)
def test_the_matrix(app, client, db, login_as, key, method, path, role, allowed):
    scene = build_scene(app)
    user = scene["users"][role]
    url = re.sub(r"\{(\w+)\}", lambda m: str(scene["ids"][m.group(1)]), path)
    headers = {}
    if path.startswith("/api/v1/"):
        if user is not None:
            headers = bearer(client, user)
    elif user is not None:
        login_as(user)
    before = fingerprint()
    if method == "GET":
        response = client.get(url, headers=headers)
    elif method == "PATCH":
        response = client.patch(
            url, json={"demande": {"data": {"intitule": "Changé"}}}, headers=headers
        )
    else:
        page = client.get("/formulaires/api-particulier-ccas-arche-mc2/demande/nouveau")
        token = csrf_token(page.text) if 'name="csrf_token"' in page.text else ""
        response = client.post(url, data={"csrf_token": token, **data_for(key, scene)})
    response.close()  # a download streams its file: close it
    _db.session.expire_all()
    changed = fingerprint() != before
    status = response.status_code
    location = response.headers.get("Location", "")
    if allowed:
        assert status < 400, (status, response.text[:300])
        assert "/connexion" not in location, location
        if method != "GET":
            assert changed, "an allowed action changed nothing"
    else:
        refused = status in (400, 401, 403, 404, 422) or "/connexion" in location
        if method == "GET":
            assert refused, (status, location)
        else:
            assert refused or status in (302, 303), (status, location)
            assert not changed, "a refused action changed the database"
