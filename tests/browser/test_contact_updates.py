"""« Mettre à jour les contacts » in Chromium: a new DPO named on a validated habilitation,
bad input refused next to its field, the token still the same (axe-core on each state)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from datapass.extensions import db
from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import (
    AGENT,
    INSTRUCTOR,
    button,
    expect_errors,
    introspect,
    label,
    submitted_request,
)

DPO = "Délégué à la protection des données"


def approve(live_server, number: str) -> int:
    """The instructor's approval, through the service; the habilitation's id."""
    from datapass.models import AuthorizationRequest, User
    from datapass.services import decisions

    with live_server.app.test_request_context():
        instructor = db.session.scalar(select(User).where(User.sub == INSTRUCTOR))
        authorization_request = db.session.get(AuthorizationRequest, int(number))
        decisions.decide(
            authorization_request, "approve", instructor, version=authorization_request.version
        )
        return authorization_request.authorizations[-1].id


def test_a_new_dpo_without_a_new_review(page, live_server):
    habilitation = approve(live_server, submitted_request(live_server))
    sign_in(page, live_server, AGENT)
    page.goto(live_server(f"/habilitations/{habilitation}"))
    button(page, "Afficher le jeton").click()
    token = page.get_by_label("Votre jeton", exact=True).input_value()

    page.goto(live_server(f"/habilitations/{habilitation}"))
    page.get_by_role("link", name="Mettre à jour les contacts").click()
    expect(page.get_by_role("heading", level=1, name="Mettre à jour les contacts")).to_be_visible()
    expect(page.get_by_text(re.compile("mettez à jour la demande depuis sa page"))).to_be_visible()
    # The editor's support is fixed by the démarche: shown, not editable.
    expect(page.get_by_text("Contact fixé par votre éditeur")).to_be_visible()
    check_page(page, "contacts-update")

    group = page.get_by_role("group", name=DPO)
    group.get_by_label(label("Nom")).fill("Nouvelle")
    group.get_by_label(label("Prénom")).fill("Déléguée")
    group.get_by_label(label("Email")).fill("pas-une-adresse")
    button(page, "Enregistrer les contacts").click()
    expect_errors(page)
    email = page.get_by_role("group", name=DPO).get_by_label(label("Email"))
    expect(email).to_have_value("pas-une-adresse")  # nothing typed is lost
    expect(email).to_have_attribute("aria-invalid", "true")
    check_page(page, "contacts-update-errors")

    email.fill("nouvelle.dpo@ccas-villedemo.fr")
    button(page, "Enregistrer les contacts").click()
    expect(page.get_by_text(re.compile("Les contacts sont mis à jour"))).to_be_visible()
    expect(
        page.get_by_role("heading", level=1, name=re.compile(r"^Habilitation H"))
    ).to_be_visible()
    expect(page.get_by_text("Active", exact=True)).to_be_visible()
    check_page(page, "contacts-updated-habilitation")

    # The token the software holds still works.
    assert introspect(live_server, token)["active"] is True

    # Renewing it is confirmed on a page of its own (RGAA 11.12).
    page.get_by_role("link", name="Renouveler le jeton").click()
    expect(
        page.get_by_role("heading", level=1, name=re.compile(r"^Renouveler le jeton"))
    ).to_be_visible()
    check_page(page, "token-rotate-confirmation")
