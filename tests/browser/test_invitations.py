"""Issue 17.1 in a browser: an instructor prepares a request and invites; the applicant
claims it under the right SIRET and submits it; under another SIRET the claim is refused."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from datapass.demo import DEMO_USERS
from datapass.extensions import db
from datapass.models import OutboxJob
from tests.browser.a11y import check_page
from tests.browser.conftest import sign_in
from tests.browser.helpers import AGENT, AGENT_SIRET, INSTRUCTOR, MILLESIME, button, label
from tests.browser.test_measure import submit, walk_to_contacts

AGENT_EMAIL = next(user["email"] for user in DEMO_USERS if user["sub"] == AGENT)
OTHER_SIRET = "38251931200088"  # another demo organisation: not the agent's
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _invitation_link(live_server) -> str:
    """The link of the latest invitation email (the worker does not run here)."""
    with live_server.app.app_context():
        job = db.session.scalars(
            select(OutboxJob).where(OutboxJob.kind == "email").order_by(OutboxJob.id.desc())
        ).first()
        assert job.payload["key"] == "invitation" and job.payload["to"] == [AGENT_EMAIL]
        return re.search(r"/invitations/[\w-]+", job.payload["text"]).group(0)


def _prepare_and_invite(page, live_server, siret: str, name: str) -> str:
    page.goto(live_server("/instruction/brouillons"))
    check_page(page, f"drafts-{name}")
    page.get_by_role("link", name="Préparer une demande").click()
    page.get_by_label("Démarche").select_option(MILLESIME)
    button(page, "Continuer").click()
    page.get_by_label(label("SIRET de l’organisation")).fill(siret)
    page.get_by_label(label("Adresse électronique du futur demandeur")).fill(AGENT_EMAIL)
    page.get_by_label(label("Nom du projet")).fill("Aides facultatives préparées")
    page.get_by_label(label("Note pour le futur demandeur")).fill("Vérifiez les contacts.")
    check_page(page, f"drafts-new-{name}")
    button(page, "Préparer la demande").click()
    expect(
        page.get_by_role("heading", level=1, name=re.compile("^Demande préparée I"))
    ).to_be_visible()
    check_page(page, f"drafts-show-{name}")
    if name == "own":
        _prepare_blocks(page)
    button(page, "Inviter").click()
    expect(page.get_by_text(f"L’invitation a été envoyée à {AGENT_EMAIL}.")).to_be_visible()
    return _invitation_link(live_server)


def _prepare_blocks(page) -> None:
    """Any block of the démarche and the délibération, prepared by the instruction."""
    page.get_by_role("link", name="Modifier : Le cadre juridique").click()
    expect(page.get_by_role("heading", level=1, name="Le cadre juridique")).to_be_visible()
    check_page(page, "drafts-block-legal")
    upload = page.get_by_label(label("Délibération ou texte juridique (PDF)"))
    upload.set_input_files(
        {"name": "deliberation-preparee.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    button(page, "Enregistrer").click()
    expect(page.get_by_text("« Le cadre juridique » : réponses enregistrées.")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile(r"^deliberation-preparee\.pdf"))
    ).to_be_visible()
    page.get_by_role("link", name="Modifier : Le traitement des données personnelles").click()
    field = page.get_by_label(label("Destinataires des données"))
    field.fill("Les agents du service social")
    page.get_by_label(label("Durée de conservation des données (en mois)")).fill("quinze")
    button(page, "Enregistrer").click()
    expect(page.get_by_text("Saisissez un nombre entier de mois").first).to_be_visible()
    expect(field).to_have_value("Les agents du service social")  # nothing typed lost
    check_page(page, "drafts-block-errors")
    page.get_by_label(label("Durée de conservation des données (en mois)")).fill("24")
    button(page, "Enregistrer").click()
    expect(page.get_by_text("Les agents du service social")).to_be_visible()


def test_an_instructor_prepares_and_invites_the_applicant_claims_and_submits(
    open_page, live_server
):
    instructor = open_page()
    sign_in(instructor, live_server, INSTRUCTOR)
    elsewhere = _prepare_and_invite(instructor, live_server, OTHER_SIRET, "other")
    own = _prepare_and_invite(instructor, live_server, AGENT_SIRET, "own")

    agent = open_page()
    sign_in(agent, live_server, AGENT)
    # Prepared for another organisation than the one the agent acts for: refused.
    agent.goto(live_server(elsewhere))
    expect(
        agent.get_by_text(f"préparée pour l’organisation de SIRET {OTHER_SIRET}")
    ).to_be_visible()
    expect(button(agent, "Reprendre la demande")).to_have_count(0)
    check_page(agent, "invitation-refused")

    agent.goto(live_server(own))
    expect(agent.get_by_text("Vérifiez les contacts.")).to_be_visible()
    check_page(agent, "invitation-claim")
    button(agent, "Reprendre la demande").click()
    walk_to_contacts(agent, "invitation")
    button(agent, "Suivant").click()
    expect(agent.get_by_text("Les agents du service social")).to_be_visible()  # prepared
    expect(
        agent.get_by_role("link", name=re.compile(r"^deliberation-preparee\.pdf"))
    ).to_be_visible()
    number = submit(agent, "invitation")
    expect(agent.get_by_text("Aides facultatives préparées").first).to_be_visible()

    instructor.goto(live_server("/instruction/brouillons"))
    expect(instructor.get_by_role("link", name=f"D{number}")).to_be_visible()
