"""The open-data pages in a browser: the charts render under our CSP, axe finds nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from datapass.extensions import db
from datapass.services import decisions, register
from tests.browser.a11y import check_page
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request


@pytest.fixture(scope="module")
def habilitation(live_server):
    """One validated request of a new CCAS agent in the live app's database: its
    habilitation's id and fingerprint."""
    app = live_server.app
    with app.app_context(), app.test_request_context():
        authorization_request = submitted_request(UserFactory())
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(
            authorization_request, "approve", instructor, version=authorization_request.version
        )
        authorization = authorization_request.authorizations[-1]
        found = authorization.id, register.fingerprint(authorization)
        db.session.commit()
        db.session.remove()
    return found


def test_stats_page_draws_its_charts_and_passes_axe(page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/stats?periode=tout")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques publiques")
    expect(page.locator("bar-chart canvas").first).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(4)
    assert errors == []
    check_page(page, "statistiques")


@pytest.mark.parametrize(("name", "path"), [("registre", "/habilitations"), ("faq", "/faq")])
def test_open_data_page_has_no_accessibility_violation(page, habilitation, name, path):
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    check_page(page, name)


def test_an_habilitations_public_page_checks_a_fingerprint(page, habilitation):
    authorization_id, fingerprint = habilitation
    page.goto("/habilitations")
    page.get_by_role("link", name=f"H{authorization_id}", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/habilitations/H{authorization_id}/public$"))
    field = page.get_by_label("Empreinte SHA-256 du récépissé")
    field.fill("0" * 64)
    page.get_by_role("button", name="Vérifier l’empreinte").click()
    expect(page.get_by_text("Empreinte inconnue")).to_be_visible()
    page.get_by_label("Empreinte SHA-256 du récépissé").fill(fingerprint)
    page.get_by_role("button", name="Vérifier l’empreinte").click()
    expect(page.get_by_text("Empreinte conforme")).to_be_visible()
    check_page(page, "habilitation-publique")


def test_the_faq_answers_open_like_accordions(page):
    page.goto("/faq")
    question = page.get_by_role("button", name="Qui reçoit le jeton d’accès ?")
    question.click()
    expect(question).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_text("Le jeton ne s’envoie jamais par courriel.")).to_be_visible()
