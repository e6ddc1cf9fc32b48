"""CSV cells never formulas; integers of query strings that overflow answer 400, never 500."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest

from tests.api.conftest import bearer_for
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request

HUGE = "9" * 30
SQL_OVERFLOW = str(2**31)


def test_every_csv_cell_is_neutralised(client, db, login_as):
    applicant = UserFactory(email="=2+5@formule.fr")
    request = submitted_request(applicant, intitule="-1+2")
    request.organization.name = "@SOMME(A1:A9)"
    db.session.commit()
    login_as(roles=["api_particulier:instructor"])
    response = client.get("/instruction/tableau-de-bord/demandes/export.csv")
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    row = next(r for r in rows if r[0] == f"D{request.id}")
    assert row[3] == "'=2+5@formule.fr"
    assert row[6] == "'-1+2"
    assert all(cell[:1] not in ("=", "+", "-", "@", "\t") for cell in row)


@pytest.mark.parametrize("value", [HUGE, SQL_OVERFLOW, "-1", "abc"])
@pytest.mark.parametrize(
    ("path", "roles"),
    [
        ("/instruction/tableau-de-bord/habilitations?apres={}", ["api_particulier:instructor"]),
        ("/admin/rattachements?apres={}", ["admin"]),
        ("/editeurs/arche_mc2?apres={}", ["editor:arche_mc2"]),
        ("/editeurs/arche_mc2?avant={}", ["editor:arche_mc2"]),
    ],
)
def test_overflowing_cursors_answer_400(client, db, login_as, path, roles, value):
    login_as(roles=roles)
    assert client.get(path.format(value)).status_code == 400


def test_an_overflowing_queue_cursor_is_ignored(client, db, login_as):
    login_as(roles=["api_particulier:instructor"])
    cursor = base64.urlsafe_b64encode(json.dumps([HUGE]).encode()).decode().rstrip("=")
    response = client.get(f"/instruction/tableau-de-bord/demandes?tri=numero&apres={cursor}")
    assert response.status_code == 200


@pytest.mark.parametrize("value", [HUGE, SQL_OVERFLOW])
def test_an_overflowing_api_offset_answers_400(client, db, value):
    headers, _ = bearer_for(client)
    response = client.get(f"/api/v1/demandes?offset={value}", headers=headers)
    assert response.status_code == 400
    assert HUGE not in response.get_data(as_text=True)


# ---------------------------------------------------------------- request bodies


def test_a_large_form_answers_the_french_413(client, db, login_as):
    login_as()
    response = client.post(
        "/compte/organisation",
        data={"siret": "1" * (2 * 1024 * 1024)},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "Ce que vous avez envoyé (fichiers ou texte) est trop volumineux." in response.text
    assert "1\u00a0Mo" in response.text or "1 Mo" in response.text


def test_a_large_api_body_answers_413_in_json(client, db):
    headers, _ = bearer_for(client)
    response = client.post(
        "/api/v1/demandes",
        data=json.dumps({"description": "x" * (2 * 1024 * 1024)}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["status"] == "413"


def test_the_limits_are_settings(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_UPLOAD_REQUEST_BYTES"] == 61 * 1024 * 1024
