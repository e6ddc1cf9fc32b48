"""The register of habilitations (/habilitations), its public pages, the fingerprint, the
receipt (PDF) and the monthly export."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from pypdf import PdfReader

from datapass import periodic
from datapass.catalog import get_catalog
from datapass.extensions import db as _db
from datapass.models import Authorization
from datapass.models.authorization import AUTHORIZATION_OBSOLETE
from datapass.models.base import utcnow
from datapass.services import decisions, register
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.queries import count_queries

CONTACT_SUFFIXES = ("_family_name", "_given_name", "_email", "_phone_number", "_job_title")


def approved(app, applicant, instructor, **answers):
    with app.test_request_context():
        authorization_request = submitted_request(applicant, **answers)
        decisions.decide(
            authorization_request, "approve", instructor, version=authorization_request.version
        )
    return authorization_request.authorizations[-1]


@pytest.fixture
def scene(app, db):
    applicant = UserFactory(given_name="Camille", family_name="Bernardin")
    instructor = UserFactory(
        roles=["api_particulier:instructor"], given_name="Dominique", family_name="Instructa"
    )
    active = approved(app, applicant, instructor)
    revoked = approved(
        app, UserFactory(), instructor, form_uid="api-particulier-aides-sociales-ccas"
    )
    decisions.revoke_authorization(revoked, instructor, reason="Fin de la convention.")
    expired = approved(app, UserFactory(), instructor)
    for token in expired.tokens:
        token.expires_at = utcnow() - timedelta(days=1)
    _db.session.commit()
    return {
        "applicant": applicant,
        "instructor": instructor,
        "active": active,
        "revoked": revoked,
        "expired": expired,
    }


def personal_values(scene) -> set[str]:
    """Every contact's value of the fixtures, the applicants' and the instructor's."""
    values = set()
    for key in ("active", "revoked", "expired"):
        authorization = scene[key]
        for name, value in (authorization.data or {}).items():
            if name.endswith(CONTACT_SUFFIXES) and value:
                values.add(str(value))
        applicant = authorization.request.applicant
        values |= {applicant.email, applicant.given_name or "", applicant.family_name or ""}
    instructor = scene["instructor"]
    values |= {instructor.email, instructor.given_name, instructor.family_name}
    return {value for value in values if value}


def test_the_register_lists_validated_habilitations_with_their_state(client, scene):
    html = client.get("/habilitations").get_data(as_text=True)
    for key in ("active", "revoked", "expired"):
        assert f">{scene[key].public_reference}</a>" in html
    assert "Active" in html and "Révoquée" in html and "Expirée" in html
    assert scene["active"].organization.siret in html
    definition = get_catalog().definitions[scene["active"].definition_id]
    for value in scene["active"].data["scopes"]:
        assert f"<li>{escape(definition.scope(value).label)}</li>" in html


def test_the_register_and_its_csv_hold_no_personal_data(client, scene):
    values = personal_values(scene)
    assert len(values) > 10
    page = client.get("/habilitations").get_data(as_text=True)
    csv_text = client.get("/habilitations.csv").get_data(as_text=True)
    public = client.get(f"/habilitations/{scene['active'].public_reference}/public")
    for value in values:
        assert value not in page, value
        assert value not in csv_text, value
        assert value not in public.get_data(as_text=True), value
    assert csv_text.startswith("\ufeffhabilitation;demande;organisation;siret;")
    assert len(csv_text.strip().splitlines()) == 4


def test_the_register_is_searchable(client, scene):
    siret = scene["active"].organization.siret
    html = client.get(f"/habilitations?q={siret}").get_data(as_text=True)
    assert f">{scene['active'].public_reference}</a>" in html
    assert f">{scene['revoked'].public_reference}</a>" not in html
    html = client.get(f"/habilitations?q={scene['revoked'].public_reference}").get_data(
        as_text=True
    )
    assert re.findall(r">H\d+</a>", html) == [f">{scene['revoked'].public_reference}</a>"]
    html = client.get("/habilitations?q=" + "x" * 101).get_data(as_text=True)
    assert "100 caractères au plus." in html
    assert 'value="' + "x" * 101 + '"' in html  # what was typed is kept


def test_the_register_is_paginated_by_keyset(client, scene, monkeypatch):
    monkeypatch.setattr(register, "PAGE_SIZE", 2)
    first = client.get("/habilitations").get_data(as_text=True)
    references = re.findall(r">(H\d+)</a>", first)
    assert references == [scene["expired"].public_reference, scene["revoked"].public_reference]
    following = re.search(r'href="/habilitations\?apres=(\d+)', first).group(1)
    second = client.get(f"/habilitations?apres={following}").get_data(as_text=True)
    assert re.findall(r">(H\d+)</a>", second) == [scene["active"].public_reference]


def test_the_public_page_verifies_a_fingerprint(client, scene):
    authorization = scene["active"]
    url = f"/habilitations/{authorization.public_reference}/public"
    fingerprint = register.fingerprint(authorization)
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
    assert "Empreinte conforme" in client.get(f"{url}?empreinte={fingerprint}").get_data(
        as_text=True
    )
    other = register.fingerprint(scene["revoked"])
    assert "Empreinte inconnue" in client.get(f"{url}?empreinte={other}").get_data(as_text=True)
    html = client.get(f"{url}?empreinte=abc").get_data(as_text=True)
    assert "L’empreinte compte 64 caractères" in html and 'value="abc"' in html
    assert client.get("/habilitations/H999999/public").status_code == 404


def test_the_receipt_is_a_pdf_holding_the_references_and_data_labels(client, login_as, scene):
    authorization = scene["active"]
    login_as(scene["applicant"])
    page = client.get(f"/habilitations/{authorization.id}").get_data(as_text=True)
    assert "Télécharger le récépissé (PDF)" in page
    response = client.get(f"/habilitations/{authorization.id}/recepisse.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = text.replace("\n", " ").replace("\u00a0", " ")  # pypdf reads no-break spaces as spaces
    assert authorization.public_reference in text
    assert f"D{authorization.authorization_request_id}" in text
    assert authorization.organization.siret in text
    assert "Récépissé de l'habilitation" in text and "« SHA-256 »" in text
    definition = get_catalog().definitions[authorization.definition_id]
    for value in authorization.data["scopes"]:
        assert definition.scope(value).label in text
    assert register.fingerprint(authorization) in text.replace(" ", "")
    assert "Délibération du conseil d" in text  # the legal basis, accents kept


def test_the_receipt_is_for_those_who_may_see_the_habilitation(client, login_as, scene):
    login_as(UserFactory())
    assert client.get(f"/habilitations/{scene['active'].id}/recepisse.pdf").status_code == 404


def test_the_monthly_export_writes_the_months_habilitations(app, scene, tmp_path):
    app.config["REGISTER_EXPORT_DIR"] = str(tmp_path)
    month = f"{scene['active'].created_at:%Y-%m}"
    result = app.test_cli_runner().invoke(args=["export", "register", "--month", month])
    assert result.exit_code == 0, result.output
    assert "3 habilitation(s) written" in result.output
    text = (tmp_path / f"registre-habilitations-{month}.csv").read_text(encoding="utf-8")
    for value in personal_values(scene):
        assert value not in text
    bad = app.test_cli_runner().invoke(args=["export", "register", "--month", "2026-13"])
    assert bad.exit_code != 0 and "AAAA-MM" in bad.output


def test_the_worker_writes_last_months_register_once(app, db, tmp_path):
    app.config["REGISTER_EXPORT_DIR"] = str(tmp_path)
    assert "register_export" in periodic.tasks()
    now = datetime(2026, 12, 1, 5, tzinfo=UTC)
    assert register.export_last_month(now) == 1
    assert (tmp_path / "registre-habilitations-2026-11.csv").exists()
    assert register.export_last_month(now) == 0


def test_the_faq_answers_ccas_and_editors_and_is_linked(client, db):
    html = client.get("/faq").get_data(as_text=True)
    for question in (
        "Quelle démarche choisir pour mon CCAS",
        "Que doit contenir une bonne délibération",
        "Combien de temps prend l’instruction",
        "Qui reçoit le jeton d’accès",
        "Comment renouveler ou prolonger le jeton",
        "Que deviennent les données obtenues",
    ):
        assert question in html
    assert html.count('class="fr-accordion__btn"') >= 6
    home = client.get("/").get_data(as_text=True)
    for path in ("/faq", "/stats", "/habilitations"):
        assert f'class="fr-footer__bottom-link" href="{path}"' in home
    choice = client.get("/demandes/api_particulier/nouveau").get_data(as_text=True)
    assert 'href="/faq"' in choice.split('id="footer"')[0]


def test_the_register_runs_the_same_queries_whatever_its_length(client, scene):
    few = count_queries(client, "/habilitations")
    template = scene["active"]
    for index in range(60):
        _db.session.add(
            Authorization(
                authorization_request_id=template.authorization_request_id,
                definition_id=template.definition_id,
                form_uid=template.form_uid,
                organization_id=template.organization_id,
                applicant_id=template.applicant_id,
                state=AUTHORIZATION_OBSOLETE if index % 2 else template.state,
                data=template.data,
            )
        )
    assert count_queries(client, "/habilitations") == few
    assert count_queries(client, "/habilitations?q=ccas") == few
